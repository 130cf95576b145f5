"""The correlation map h and its derivatives, derived with sympy (default model).

``h`` is the degree-1 arc-cosine kernel normalized to h(1) = 1 (MATH.md):
``h(cos t) = (sin t + (pi - t) cos t) / pi``, i.e. in z = cos t

    h(z) = (sqrt(1 - z^2) + z (pi - arccos z)) / pi = z arcsin(z)/pi + sqrt(1 - z^2)/pi + z/2.

Facts derived here (each returned as a sympy object, checked numerically in the catalogue):
``h' = kappa0 = (pi - arccos z)/pi in [0, 1]``, ``h'' = 1/(pi sqrt(1 - z^2)) > 0``; h is
increasing and strictly convex on [-1, 1]; ``(h(z) - z)' = -arccos(z)/pi <= 0`` with
``h(1) = 1``, so z* = 1 is the only fixed point in [-1, 1] and ``h(z) > z`` below it;
``h'(1) = 1``: the fixed point is parabolic (neutral), so iterates converge
algebraically (like L^-2), not geometrically.

>>> derivative_expr()
(pi - acos(z))/pi
>>> second_derivative_expr()
1/(pi*sqrt(1 - z**2))
>>> special_values()
{-1: 0, 0: 1/pi, 1: 1}
"""

from __future__ import annotations

import sympy as sp

Z = sp.Symbol("z", real=True)
THETA = sp.Symbol("theta", real=True)


def h_expr() -> sp.Expr:
    """MATH.md's form of h (exact sympy expression in z)."""
    return (sp.sqrt(1 - Z**2) + Z * (sp.pi - sp.acos(Z))) / sp.pi


def h_summary_form() -> sp.Expr:
    """The summary's form ``z asin(z)/pi + sqrt(1 - z^2)/pi + z/2``."""
    return Z * sp.asin(Z) / sp.pi + sp.sqrt(1 - Z**2) / sp.pi + Z / 2


def arc_cosine_form() -> sp.Expr:
    """The degree-1 arc-cosine kernel in the angle: ``(sin t + (pi - t) cos t)/pi``."""
    return (sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)) / sp.pi


def forms_agree() -> bool:
    """Sympy proof that the three forms of h coincide on [-1, 1] (z = cos t, t in [0, pi])."""
    diff_summary = sp.simplify((h_expr() - h_summary_form()).rewrite(sp.asin))
    on_angle = (h_expr().subs(Z, sp.cos(THETA)).subs(sp.acos(sp.cos(THETA)), THETA)
                .subs(sp.sqrt(1 - sp.cos(THETA) ** 2), sp.sin(THETA)))   # valid for t in [0, pi]
    angle = sp.simplify(on_angle - arc_cosine_form())
    return diff_summary == 0 and angle == 0


def kappa0_expr() -> sp.Expr:
    """``kappa0(z) = (pi - arccos z)/pi`` (the derivative kernel of MATH.md)."""
    return (sp.pi - sp.acos(Z)) / sp.pi


def derivative_expr() -> sp.Expr:
    """``h'(z)`` computed by sympy and simplified (equals kappa0)."""
    return sp.simplify(sp.diff(h_expr(), Z))


def second_derivative_expr() -> sp.Expr:
    """``h''(z) = 1/(pi sqrt(1 - z^2))``."""
    return sp.simplify(sp.diff(h_expr(), Z, 2))


def special_values() -> dict[int, sp.Expr]:
    """h(-1), h(0), h(1)."""
    return {z: sp.simplify(h_expr().subs(Z, z)) for z in (-1, 0, 1)}


def derivative_values() -> dict[int, sp.Expr]:
    """h'(-1), h'(0), h'(1)."""
    return {z: sp.simplify(derivative_expr().subs(Z, z)) for z in (-1, 0, 1)}


def fixed_point_defect_derivative() -> sp.Expr:
    """``d/dz (h(z) - z) = -acos(z)/pi`` (<= 0, zero only at z = 1)."""
    return sp.simplify(sp.diff(h_expr() - Z, Z))


def fixed_points() -> list[sp.Expr]:
    """The fixed points of h on [-1, 1]: [1] (by the monotone defect, see module docstring)."""
    defect_prime = fixed_point_defect_derivative()
    if sp.simplify(defect_prime + sp.acos(Z) / sp.pi) != 0:
        raise AssertionError("unexpected derivative of h(z) - z")
    if sp.simplify(h_expr().subs(Z, 1) - 1) != 0:
        raise AssertionError("h(1) != 1")
    return [sp.Integer(1)]


def fixed_point_type() -> tuple[sp.Expr, str]:
    """(h'(z*), verdict) at z* = 1."""
    slope = sp.simplify(derivative_expr().subs(Z, 1))
    verdict = ("parabolic (neutral) fixed point: h'(1) = 1, so convergence is algebraic "
               "(1 - rho^(L) ~ 9 pi^2/(2 L^2)), not geometric"
               if slope == 1 else "hyperbolic fixed point: geometric convergence")
    return slope, verdict
