"""proposition-2: the recursive formula for Theta (the NTK)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath

from verify.kernel.gaussian_expectations import relu_derivative_expectation

from .base import CheckContext, CheckSpec, Evidence
from .formula_checks import nt_finding, quadrature_finding
from .proposition_1 import h_as_stated, kappa0_as_stated


@dataclass(frozen=True)
class ThetaClaim:
    """The claimed SigmaDot^(l+1)(rho); Theta^(l+1) = Theta^(l) SigmaDot^(l+1) + Sigma^(l+1)."""

    sigma_dot: Callable[[mpmath.mpf], mpmath.mpf] = kappa0_as_stated
    label: str = "SigmaDot = (pi - arccos rho)/(2 pi)"

    def __str__(self) -> str:
        return self.label


def run(ctx_: CheckContext, kernel: str | None, claim: ThetaClaim):
    digits = 25
    f1, t1 = quadrature_finding("E[relu'(u) relu'(v)] = SigmaDot", claim.sigma_dot,
                                lambda rho: relu_derivative_expectation(rho, digits=digits), digits)
    f2, t2 = nt_finding("Theta recursion", "ntk", h_as_stated, claim.sigma_dot)
    return [f1, f2], Evidence(tables=[t1, t2]), {"quadrature_digits": digits, "nt_depths": "1..50"}


CHECK = CheckSpec(
    id="proposition-2",
    title="Proposition 2: the recursive formula for Theta",
    claim_text="Theta^(1) = Sigma^(1), SigmaDot^(l+1) = (pi - arccos rho^(l))/(2 pi) and "
               "Theta^(l+1) = Theta^(l) SigmaDot^(l+1) + Sigma^(l+1).",
    claim_latex=r"\Theta^{(l+1)} = \Theta^{(l)}\dot\Sigma^{(l+1)} + \Sigma^{(l+1)},\ "
                r"\dot\Sigma^{(l+1)} = \frac{\pi-\arccos\rho^{(l)}}{2\pi}",
    hypotheses="default model; infinite width (the NTK is deterministic)",
    method="the claimed SigmaDot against a quadrature of P(u > 0, v > 0), and the claimed Theta recursion "
           "against neural-tangents 0.6.5 (float64) at depths 1..50",
    kernels=(None,),
    run=run,
    stated_claim=ThetaClaim(),
    false_claim=ThetaClaim(lambda z: (mpmath.pi - mpmath.acos(z)) / mpmath.pi, "SigmaDot without the factor 1/2"),
)
