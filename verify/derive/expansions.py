"""Expansions of the correlation map near rho = 1 in powers of sqrt(eps), eps = 1 - rho, as sympy expressions.

The exact coefficients (and the series in w = 1/sqrt(eps)) are computed in
:mod:`verify.kernel.asymptotic.coefficients`; this module writes them as expressions.

>>> print(h_one_minus_series(5))
sqrt(2)*eps**(5/2)/(30*pi) + 2*sqrt(2)*eps**(3/2)/(3*pi) - eps + 1
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from verify.kernel.asymptotic.coefficients import q_coeffs, r_coeffs, sigma_series

__all__ = ["EPS", "KAPPA_VALUE", "gap_map_series", "h_one_minus_series", "kappa0_one_minus_series", "q_coeffs",
           "r_coeffs", "w_step_series"]

EPS = sp.Symbol("eps", positive=True)
KAPPA_VALUE = sp.sqrt(2) / sp.pi


def _half_power_sum(coeffs: list[tuple[sp.Expr, int]]) -> sp.Expr:
    """``sum c * eps^(j/2)`` as a sympy expression (j = twice the exponent)."""
    return sp.Add(*[c * EPS ** sp.Rational(j, 2) for c, j in coeffs if c != 0])


def h_one_minus_series(order: int) -> sp.Expr:
    """``h(1 - eps)`` through the term eps^(order/2) (exact sympy expression)."""
    terms: list[tuple[Any, int]] = [(sp.Integer(1), 0), (sp.Integer(-1), 2)]
    for k, qk in enumerate(q_coeffs(order)):
        if 2 * k + 3 <= order:
            terms.append((KAPPA_VALUE * sp.Rational(qk.numerator, qk.denominator), 2 * k + 3))
    return _half_power_sum(terms)


def kappa0_one_minus_series(order: int) -> sp.Expr:
    """``kappa0(1 - eps) = (pi - arccos(1 - eps)) / pi`` through eps^(order/2) (exact)."""
    terms: list[tuple[Any, int]] = [(sp.Integer(1), 0)]
    for k, rk in enumerate(r_coeffs(order)):
        if 2 * k + 1 <= order:
            terms.append((-KAPPA_VALUE * sp.Rational(rk.numerator, rk.denominator), 2 * k + 1))
    return _half_power_sum(terms)


def gap_map_series(order: int) -> sp.Expr:
    """``g(eps) = 1 - h(1 - eps)`` through eps^(order/2) (exact)."""
    return sp.expand(1 - h_one_minus_series(order))


def w_step_series(order: int) -> sp.Expr:
    """``G(w) = g(w^-2)^(-1/2)`` as ``w + sum_j sigma_{j+1} w^-j`` (order terms after w)."""
    from sympy.polys.fields import field

    fld, kap = field("kappa", sp.QQ)
    sig = sigma_series(kap, fld.one, order + 2)
    w = sp.Symbol("w", positive=True)
    kval = {sp.Symbol("kappa"): KAPPA_VALUE}
    return w + sp.Add(*[sp.simplify(sig[j + 1].as_expr().subs(kval)) * w ** (-j)
                        for j in range(order + 1)])
