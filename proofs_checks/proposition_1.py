"""proposition-1: the recursive formula for Sigma (the NNGP kernel)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mpmath

from verify.kernel.gaussian_expectations import relu_relu_expectation

from .base import CheckContext, CheckSpec, Evidence, Finding
from .formula_checks import nt_finding, quadrature_finding


def h_as_stated(z: mpmath.mpf) -> mpmath.mpf:
    """The summary's h(z) = z arcsin(z)/pi + sqrt(1 - z^2)/pi + z/2."""
    return z * mpmath.asin(z) / mpmath.pi + mpmath.sqrt(1 - z * z) / mpmath.pi + z / 2


def kappa0_as_stated(z: mpmath.mpf) -> mpmath.mpf:
    """SigmaDot^(l+1) = (pi - arccos rho)/(2 pi) (used only to build Theta for the cross-check)."""
    return (mpmath.pi - mpmath.acos(z)) / (2 * mpmath.pi)


@dataclass(frozen=True)
class SigmaClaim:
    """The claimed map: Sigma^(l+1) = 1/2 sqrt(Sigma(x,x) Sigma(x',x')) h(rho)."""

    h: Callable[[mpmath.mpf], mpmath.mpf] = h_as_stated
    label: str = "h(z) = z asin(z)/pi + sqrt(1-z^2)/pi + z/2"

    def __str__(self) -> str:
        return self.label


def run(ctx_: CheckContext, kernel: str | None, claim: SigmaClaim):
    digits = 25
    findings: list[Finding] = []
    f1, t1 = quadrature_finding("E[relu(u) relu(v)] = h(rho)/2", lambda r: claim.h(r) / 2,
                                lambda rho: relu_relu_expectation(rho, digits=digits), digits)
    f2, t2 = nt_finding("Sigma recursion", "nngp", claim.h, kappa0_as_stated)
    findings += [f1, f2]
    return findings, Evidence(tables=[t1, t2]), {"quadrature_digits": digits, "nt_depths": "1..50"}


CHECK = CheckSpec(
    id="proposition-1",
    title="Proposition 1: the recursive formula for Sigma",
    claim_text="Sigma^(1) = x.x'/n0 and Sigma^(l+1)(x,x') = 1/2 sqrt(Sigma^(l)(x,x) Sigma^(l)(x',x')) h(rho^(l)) "
               "with h(z) = z arcsin(z)/pi + sqrt(1-z^2)/pi + z/2.",
    claim_latex=r"\Sigma^{(l+1)} = \tfrac12\sqrt{\Sigma^{(l)}(x,x)\Sigma^{(l)}(x',x')}\,h(\rho^{(l)}),\ "
                r"h(z)=\tfrac{z\arcsin z}{\pi}+\tfrac{\sqrt{1-z^2}}{\pi}+\tfrac z2",
    hypotheses="default model (ReLU, NTK parameterization, sigma_w^2 = 1, no bias); infinite width",
    method="the claimed closed form against an independent high-precision quadrature of E[relu(u) relu(v)] "
           "(conditioning on u), and the claimed recursion against neural-tangents 0.6.5 (float64) at depths 1..50",
    kernels=(None,),
    run=run,
    stated_claim=SigmaClaim(),
    false_claim=SigmaClaim(lambda z: z * mpmath.asin(z) / mpmath.pi + mpmath.sqrt(1 - z * z) / mpmath.pi + z / 4,
                           "h(z) with z/4 in place of z/2"),
)
