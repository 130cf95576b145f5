"""The derived (sympy) limits as evidence: a limit claim against the derivation and a certified far-depth value.

The derivations of :mod:`verify.derive` give each limit in closed form together
with its first correction. A claimed limit is supported when it equals the derived
one and the certified values at a far depth (10^15, reached by the certified
asymptotic route) lie within a few times the first correction of it; it is
contradicted when the certified far values lie much closer to the derived limit
than to the claimed one.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from verify import Ball
from verify.derive.asymptotics import theta_law, weights_limit_nngp, weights_limit_ntk

from .base import Finding
from .common import ball_text

FAR_DEPTH = 10**15


def derived_entry_limit(kernel: str) -> Fraction:
    """Off-diagonal limit of the normalized kernel: ThetaBar -> 1/4 (NTK), rho -> 1 (NNGP), from the laws."""
    if kernel == "ntk":
        return Fraction(str(sp.nsimplify(theta_law(1).lead)))
    return Fraction(1)


def derived_weight_limit(kernel: str, n: int) -> Fraction:
    expr = (weights_limit_ntk() if kernel == "ntk" else weights_limit_nngp()).subs(sp.Symbol("n", positive=True,
                                                                                             integer=True), n)
    return Fraction(str(sp.nsimplify(expr)))


def derived_det_limit(kernel: str, n: int) -> Fraction:
    """det of the limit matrix c J + (1 - c) I with c the entry limit: (1 - c)^(n-1) (1 - c + n c)."""
    c = derived_entry_limit(kernel)
    return (1 - c) ** (n - 1) * (1 - c + n * c)


def limit_finding(name: str, far: list[Ball], derived: Fraction, claimed: Fraction,
                  near: Fraction = Fraction(1, 10**6)) -> Finding:
    """Compare a claimed limit with the derived one, using certified values at FAR_DEPTH.

    Support needs the far values within ``near`` of the derived limit.
    """
    to_derived = max(abs(b.mid_fraction - derived) + b.rad_fraction for b in far)
    to_claimed = min(abs(b.mid_fraction - claimed) - b.rad_fraction for b in far)
    where = f"certified at L = 1e15: {ball_text(far[0], 10)}" + (f" .. ({len(far)} values)" if len(far) > 1 else "")
    guarantee = "symbolic derivation (sympy), validated by certified values at L = 1e15"
    if claimed == derived and to_derived <= near:
        return Finding(f"derived limit of {name}", True,
                       f"derived limit {derived} equals the claim; {where}, within {float(to_derived):.2e} of it",
                       guarantee)
    if to_claimed > 100 * to_derived:
        return Finding(f"derived limit of {name}", False,
                       f"derived limit is {derived}, not the claimed {claimed}; {where}: within "
                       f"{float(to_derived):.2e} of {derived} but at least {float(to_claimed):.3e} from {claimed}",
                       guarantee)
    return Finding(f"derived limit of {name}", None, f"derived {derived}; {where}", guarantee)
