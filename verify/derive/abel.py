"""Abel (Fatou) coordinates at rho = 1, exactly: the coefficients in QQ(kappa), kappa = sqrt(2)/pi (sympy).

The functional equations and their order-by-order solution are those of
:mod:`verify.kernel.asymptotic.abel` (:func:`~verify.kernel.asymptotic.abel.abel_coefficients`
is generic in the ring); here the ring is sympy's field QQ(kappa), for the derivations.

>>> co = symbolic_abel(4)
>>> co.a1, co.b, co.c[0]
(3/kappa, -3/2, (20*kappa**2 + 9)/(60*kappa))
>>> print(sp.simplify(to_sympy(co.d[3])))   # d4 = a1^2 / 8
9*pi**2/16
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.polys.fields import field

from verify.derive.expansions import KAPPA_VALUE
from verify.kernel.asymptotic.abel import AbelCoefficients, abel_coefficients

KAPPA = sp.Symbol("kappa", positive=True)
W = sp.Symbol("w", positive=True)


@lru_cache(maxsize=8)
def symbolic_abel(order: int) -> AbelCoefficients:
    """The exact coefficients in QQ(kappa), kappa = sqrt(2)/pi (sympy field elements)."""
    fld, kap = field("kappa", sp.QQ)
    return abel_coefficients(kap, fld.one, order)


def to_sympy(x: Any, numeric_kappa: bool = True) -> sp.Expr:
    """A QQ(kappa) element as a sympy expression (in pi, sqrt(2) when ``numeric_kappa``)."""
    expr = x.as_expr().subs(sp.Symbol("kappa"), KAPPA)
    return expr.subs(KAPPA, KAPPA_VALUE) if numeric_kappa else expr


def abel_expr(order: int, numeric_kappa: bool = True) -> sp.Expr:
    """``A(w)`` truncated after ``c_order w^-order`` (exact sympy expression)."""
    co = symbolic_abel(max(order, 4))
    a1 = to_sympy(co.a1, numeric_kappa)
    terms = [a1 * W, to_sympy(co.b) * sp.log(a1 * W)]
    terms += [sp.factor(to_sympy(ck, numeric_kappa)) * W ** (-k)
              for k, ck in enumerate(co.c[:order], start=1)]
    return sp.Add(*terms)


def b_series_expr(order: int, numeric_kappa: bool = True) -> sp.Expr:
    """``B(w)`` (NTK summation series) truncated after ``w^-(order-2)`` (exact)."""
    co = symbolic_abel(max(order, 4))
    terms = [sp.factor(to_sympy(dj, numeric_kappa)) * W ** j for j, dj in enumerate(co.d, 1)]
    terms.append(sp.factor(to_sympy(co.dlog, numeric_kappa)) * sp.log(W))
    terms += [sp.factor(to_sympy(ek, numeric_kappa)) * W ** (-k)
              for k, ek in enumerate(co.e[: max(order - 2, 0)], start=1)]
    return sp.Add(*terms)
