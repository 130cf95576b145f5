"""A complete user claim file: ``ntk-verify check --claims examples/my_claims.py``.

A claim file is ordinary Python that builds checks with the same API as the built-in
claims (``proofs_checks.base``: ``CheckSpec``, ``Finding``, ``Evidence``, ``Table``) and
lists them in a module-level ``CHECKS``. Each check's ``run(ctx, kernel, claim)`` returns
(findings, evidence, parameters); the verdict is never written here: ``decide`` forms it
(any finding that contradicts refutes, all supporting confirm, else inconclusive).

Loading this file runs it (it is imported): ntk-verify does that only for files named
with ``--claims``, so load only files you trust.

The claims: for the default ReLU model, the correlation rho^(L) = SigmaBar^(L)(x, x') of two
orthogonal unit inputs at depth 10 is below 0.9 (true: it is 0.8548...), and, deliberately
false, below 0.5 (the check must refute it).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from proofs_checks.base import CheckContext, CheckSpec, Evidence, Finding, Table
from verify import kernel_matrix

ORTHOGONAL = [["1", "0"], ["0", "1"]]          # decimals as strings: parsed exactly


@dataclass(frozen=True)
class RhoBelow:
    """The claim rho^(depth)(x, x') < bound for orthogonal x, x' (printed in the report for a variant)."""

    depth: int
    bound: Fraction

    def __str__(self) -> str:
        return f"rho^({self.depth}) < {self.bound}"


def run(ctx: CheckContext, kernel: str | None, claim: RhoBelow):
    """Certified: an Arb enclosure of rho^(L) decides, whichever side of the bound it lies on."""
    result = kernel_matrix(ORTHOGONAL, depth=claim.depth, kernel="nngp", digits=ctx.digits, param=ctx.param)
    ball = result.entries[0][1]
    low, high = ball.mid_fraction - ball.rad_fraction, ball.mid_fraction + ball.rad_fraction
    supports = True if high < claim.bound else (False if low >= claim.bound else None)
    shown = ball.to_json(ctx.digits)
    finding = Finding(f"rho^({claim.depth}) against {claim.bound}", supports,
                      f"rho^({claim.depth}) in {shown['mid']} ± {shown['rad']} (certified enclosure), "
                      f"{'below' if supports else 'not below'} {claim.bound}", "certified")
    table = Table(f"rho^(L) of two orthogonal inputs, {ctx.param.describe()['name']}", ["L", "rho^(L)", "bound"],
                  [[str(claim.depth), f"{shown['mid']} ± {shown['rad']}", str(claim.bound)]])
    return [finding], Evidence(tables=[table]), {"depth": claim.depth, "bound": str(claim.bound),
                                                 "digits": ctx.digits, "data": "two orthogonal unit vectors"}


def rho_check(check_id: str, claim: RhoBelow, false_claim: RhoBelow) -> CheckSpec:
    return CheckSpec(
        id=check_id,
        title=f"My claim: rho^({claim.depth}) of orthogonal inputs is below {claim.bound}",
        claim_text=f"For the default ReLU model, the correlation rho^({claim.depth}) of two orthogonal unit inputs "
                   f"is below {claim.bound}.",
        claim_latex=rf"\rho^{{({claim.depth})}}(x, x') < {claim.bound},\ x \perp x'",
        hypotheses="default model (NTK parameterization, sigma_w^2 = 1, no bias); x, x' orthogonal unit vectors",
        method="certified enclosure of rho^(L) (the NNGP kernel normalized) by ntk-verify's kernel_matrix",
        kernels=(None,),                 # about rho alone: evaluated once, not per kernel
        run=run,
        stated_claim=claim,
        false_claim=false_claim,
    )


CHECKS = [
    rho_check("my-rho-below-0.9", RhoBelow(10, Fraction(9, 10)), RhoBelow(10, Fraction(1, 2))),
    rho_check("my-rho-below-0.5", RhoBelow(10, Fraction(1, 2)), RhoBelow(10, Fraction(9, 10))),   # false
]
