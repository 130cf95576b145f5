"""Numeric checks of :mod:`.phases`: iterate the maps in mpmath and compare with what was derived.

Every check returns a :class:`NumericCheck` with its method, the numeric value, the agreement
in digits and its pass rule (the threshold is part of the rule text):

* :func:`check_variance`: q* against the orbit of the variance map from q_1 (> 40 digits), or the
  stated growth of q (ratio / increment of consecutive q_l);
* :func:`check_chi`: chi_1 against sigma_w^2 E[phi'(u)^2] by 1-D mpmath quadrature of phi' (the
  activation's derivative itself, not the closed form Vdot), > 40 digits, and the phase against it;
* :func:`check_fixed_points`: |f(c*) - c*| (> 40 digits) and the slope against mpmath's numerical
  derivative of f (> 25 digits) at every interior fixed point;
* :func:`check_convergence`: geometric: the ratio of consecutive gaps along an orbit of f, where the
  gap is below 1e-45, against chi_c (> 20 digits); algebraic: the constant from the slope of
  (1 - c_L)^(-1/2) along the true recursion at L = 2000..16000, extrapolated (Richardson), against the
  derived constant (relative error below a stated bound); none: two orbits reach different limits.

>>> from verify.derive.phases import analyse
>>> from verify.core.model import Model
>>> check_chi(analyse(Model.parse("relu", sigma_w2="2"))).passed
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from verify.derive.dual_kernels_symbolic import C, Q, X
from verify.derive.phases import DPS, PhaseAnalysis, large_q_limits

MpFn = Callable[..., Any]
NEED = 40.0
SLOPE_NEED = 25.0
MAX_STEPS = 200_000
GAP_DIGITS = 45
RATIO_NEED = 20.0


@dataclass(frozen=True)
class NumericCheck:
    """One numeric check: ``numeric`` is the value found, ``digits`` its agreement with the derivation."""

    method: str
    numeric: str
    digits: float | None
    passed: bool
    rule: str


def _digits(x: Any, ref: Any, scale: Any = None) -> float:
    s = max(abs(ref), abs(scale) if scale is not None else 0, mpmath.mpf(10) ** -(DPS - 5))
    err = abs(x - ref)
    return float(DPS) if err == 0 else float(min(DPS, -mpmath.log10(err / s)))


def _r(x: Fraction) -> Any:
    return mpmath.mpf(x.numerator) / x.denominator


def _nstr(x: Any, n: int = 20) -> str:
    return mpmath.nstr(x, n)


# ---- variance map ------------------------------------------------------------------------

def check_variance(a: PhaseAnalysis) -> NumericCheck:
    """q* (or the growth of q) against the orbit of the variance map."""
    with mpmath.workdps(DPS):
        fq = sp.lambdify(Q, a.variance_map, "mpmath")
        if a.q_star is not None and a.q_star.value > 0:
            q, steps = mpmath.mpf(a.q_start), 0
            while steps < MAX_STEPS:
                nxt = fq(q)
                steps += 1
                if abs(nxt - q) <= abs(q) * mpmath.mpf(10) ** -(DPS - 3):
                    q = nxt
                    break
                q = nxt
            d = _digits(q, a.q_star.value)
            return NumericCheck(f"orbit of q -> F(q) from q_1 = {_nstr(a.q_start, 12)} ({steps} steps, "
                                f"{DPS} digits)", _nstr(q, 25), d, d > NEED, rule=f"> {NEED:.0f} digits")
        if a.q_star is not None:                        # q* = 0, attracting at rate F'(0) = chi_1
            q, prev, steps = mpmath.mpf(a.q_start), None, 0
            while q > mpmath.mpf(10) ** -40 and steps < MAX_STEPS:
                prev, q = q, fq(q)
                steps += 1
            ratio = q / prev if prev else mpmath.mpf(0)
            d = _digits(ratio, a.chi_1.value)
            return NumericCheck(f"q_(l+1)/q_l from q_1 = sigma_w^2 + sigma_b^2 until q_l < 1e-40 ({steps} steps)",
                                _nstr(ratio, 25), d, d > 30 and q <= mpmath.mpf(10) ** -40,
                                rule="ratio equals F'(0) = chi_1 to > 30 digits (its error is O(q_l))")
        return _growth_check(a, fq)


def _growth_check(a: PhaseAnalysis, fq: MpFn) -> NumericCheck:
    """No finite attracting q*: the stated growth (ratio, increment) or the repelling roots."""
    b = _r(a.model.sigma_b2)
    text = a.q_behaviour
    q = mpmath.mpf(a.q_start)
    if "geometrically" in text or "q_1 chi_1^(l-1)" in text or "linearly" in text:
        linear = "linearly" in text and "geometrically" not in text
        exact_growth = a.kernel.degree in (0, 1) and (a.model.sigma_b2 == 0 or linear)
        budget = 20 if exact_growth else 20_000 if linear else MAX_STEPS
        steps, prev = 0, q
        while steps < budget and mpmath.mpf(10) ** -45 < q < mpmath.mpf(10) ** 45 * max(b, 1):
            prev, q = q, fq(q)
            steps += 1
        if linear:
            claimed = _claimed_increment(a)
            got = q - prev
            d = _digits(got, claimed)
            need = NEED if a.kernel.degree in (0, 1) else 1.0
            rule = (f"increment equals {_nstr(claimed, 12)} to > {need:.0f} digits"
                    + ("" if a.kernel.degree in (0, 1) else " (erf: V(q, 1) -> 1 like 1 - O(q^-1/2))"))
            return NumericCheck(f"q_(l+1) - q_l at l = {steps}", _nstr(got, 25), d, d > need, rule=rule)
        claimed = _claimed_ratio(a)
        ratio = q / prev
        d = _digits(ratio, claimed)
        need = NEED if a.kernel.degree == 1 else 3.0
        return NumericCheck(f"q_(l+1)/q_l at l = {steps} (q_l = {_nstr(q, 5)})", _nstr(ratio, 25), d, d > need,
                            rule=f"ratio equals {_nstr(claimed, 15)} to > {need:.0f} digits")
    if "doubly" in text:
        fixed = [p for p in a.q_fixed_points if p.at.value > 0]
        if fixed:        # repelling roots of the quadratic map
            worst = min(_digits(fq(p.at.value), p.at.value) for p in fixed)
            return NumericCheck("|F(q*) - q*| at the repelling root(s)", _nstr(worst, 5), worst, worst > NEED,
                                rule=f"> {NEED:.0f} digits")
        grid = [mpmath.mpf(10) ** (mpmath.mpf(e) / 8) for e in range(-80, 81)]
        low = min(fq(x) - x for x in grid)
        return NumericCheck("min of F(q) - q on q in [1e-10, 1e10] (no fixed point)", _nstr(low, 15), None,
                            low > 0, rule="F(q) - q > 0 at every grid point")
    return NumericCheck("nothing derived", "-", None, True, rule="no claim")


def _claimed_ratio(a: PhaseAnalysis) -> Any:
    s2 = _r(a.model.sigma_w2)
    if a.model.architecture.kind == "resnet":
        alpha2 = _r(a.model.architecture.alpha or Fraction(0)) ** 2
        lim = large_q_limits(a.model.activation)[0]
        return 1 + alpha2 * s2 * mpmath.mpf(sp.N(lim, DPS))
    return a.chi_1.value


def _claimed_increment(a: PhaseAnalysis) -> Any:
    s2, b = _r(a.model.sigma_w2), _r(a.model.sigma_b2)
    if a.model.architecture.kind == "resnet":
        alpha2 = _r(a.model.architecture.alpha or Fraction(0)) ** 2
        top = mpmath.mpf(sp.N(large_q_limits(a.model.activation)[1], DPS))
        return alpha2 * (s2 * top + b)
    return b


# ---- chi_1 -------------------------------------------------------------------------------

def _gauss(f: MpFn, q: Any) -> Any:
    """E[f(sqrt(q) Z)] by mpmath quadrature (split at 0, where the activations have their kinks)."""
    sq = mpmath.sqrt(q)
    return mpmath.quad(lambda z: f(sq * z) * mpmath.exp(-z * z / 2), [-mpmath.inf, 0, mpmath.inf]) / \
        mpmath.sqrt(2 * mpmath.pi)


def _branch_fn(pair: tuple[sp.Expr, sp.Expr]) -> MpFn:
    neg, pos = (sp.lambdify(X, e, "mpmath") for e in pair)
    return lambda x: pos(x) if x > 0 else neg(x)


def check_chi(a: PhaseAnalysis) -> NumericCheck:
    """chi_1 against the 1-D quadrature of phi'^2 (or, for a delta, the slope of f near c = 1)."""
    with mpmath.workdps(DPS):
        if a.chi_rule is None:
            if a.chi_1.value == mpmath.inf and a.cmap is not None:
                eps = mpmath.mpf(10) ** -30
                slope = (1 - a.cmap.f(1 - eps)) / eps
                return NumericCheck("(1 - f(1 - eps))/eps at eps = 1e-30 (grows like eps^(-1/2))",
                                    _nstr(slope, 8), None, slope > 10**10, rule="> 1e10 (infinite slope)")
            return NumericCheck("nothing derived", "-", None, True, rule="no claim")
        offset, factor, q, ratio = a.chi_rule
        dphi = _branch_fn(a.kernel.dphi)
        value = _gauss(lambda x: dphi(x) ** 2, q.value)
        if ratio:
            phi = _branch_fn(a.kernel.phi)
            value /= _gauss(lambda x: phi(x) ** 2, q.value)
        num = mpmath.mpf(sp.N(offset, DPS)) + mpmath.mpf(sp.N(factor, DPS)) * value
        d = _digits(num, a.chi_1.value)
        side = "<" if num < 1 else ">" if num > 1 else "="
        consistent = {"<": "ordered", ">": "chaotic", "=": "edge of chaos"}[side]
        phase_ok = a.phase.startswith(consistent) or a.phase.startswith("edge of chaos (every") \
            or (a.phase.startswith("edge of chaos") and abs(num - 1) < mpmath.mpf(10) ** -NEED)
        what = "E[phi'^2]/E[phi^2]" if ratio else "E[phi'(u)^2]"
        return NumericCheck(f"{what} by 1-D mpmath quadrature of phi' at Var u = {q.approx(15)}",
                            _nstr(num, 25), d, d > NEED and phase_ok,
                            rule=f"> {NEED:.0f} digits, and the phase agrees with chi_1 {side} 1")


# ---- correlation fixed points ------------------------------------------------------------

def check_fixed_points(a: PhaseAnalysis) -> NumericCheck:
    """|f(c*) - c*| at every fixed point; f'(c*) by numerical differentiation at interior ones."""
    if a.cmap is None or not a.c_fixed_points:
        return NumericCheck("nothing derived", "-", None, True, rule="no claim")
    with mpmath.workdps(DPS):
        worst_res, worst_slope = float(DPS), float(DPS)
        for p in a.c_fixed_points:
            worst_res = min(worst_res, _digits(a.cmap.f(p.at.value), p.at.value, 1))
            if abs(p.at.value) < 1:
                num = mpmath.diff(a.cmap.f, p.at.value)
                worst_slope = min(worst_slope, _digits(num, p.slope.value))
        ok = worst_res > NEED and worst_slope > SLOPE_NEED
        return NumericCheck("f(c*) at each fixed point; mpmath.diff(f) at interior ones",
                            f"residual {worst_res:.1f} digits, slope {worst_slope:.1f} digits",
                            min(worst_res, worst_slope), ok,
                            rule=f"residual > {NEED:.0f} digits, slope > {SLOPE_NEED:.0f} digits")


# ---- convergence -------------------------------------------------------------------------

def check_convergence(a: PhaseAnalysis) -> NumericCheck:
    kind = a.convergence.kind
    with mpmath.workdps(DPS):
        if kind == "geometric":
            return _check_geometric(a)
        if kind == "algebraic":
            return _check_algebraic(a)
        if kind == "none":
            return _check_input_dependent(a)
    return NumericCheck("nothing derived", "-", None, True, rule="no claim")


def _start_for(a: PhaseAnalysis, i: int) -> Any:
    pts = a.c_fixed_points
    c = pts[i].at.value
    if i > 0:
        return (c + pts[i - 1].at.value) / 2
    if i + 1 < len(pts):
        return (c + pts[i + 1].at.value) / 2
    return (c - 1) / 2 if c > -1 else mpmath.mpf(0)


def _polish(f: MpFn, df: MpFn, c: Any) -> Any:
    """A validated interior fixed point refined by Newton's method at DPS + 40 digits (the orbit's precision)."""
    with mpmath.workdps(DPS + 40):
        for _ in range(6):
            c = c - (f(c) - c) / (df(c) - 1)
        return c


def _check_geometric(a: PhaseAnalysis) -> NumericCheck:
    assert a.cmap is not None
    worst, texts, ok = float(DPS), [], True
    tiny = mpmath.mpf(10) ** -GAP_DIGITS
    for i, p in enumerate(a.c_fixed_points):
        if p.stability != "attracting":
            continue
        target = p.at.value if p.at.expr is not None else _polish(a.cmap.f, a.cmap.df, p.at.value)
        c, prev_gap, gap, steps = _start_for(a, i), None, None, 0
        while steps < MAX_STEPS:
            with mpmath.workdps(DPS + 40):      # the gap keeps ~55 digits at 1e-45
                c = a.cmap.f(c)
                steps += 1
                prev_gap, gap = gap, c - target
            if gap == 0 or abs(gap) < tiny:
                break
        if prev_gap is None or gap is None or gap == 0 or abs(gap) >= tiny:
            ok = False
            texts.append(f"c* = {p.at.approx(8)}: gap {_nstr(abs(gap or 0), 3)} after {steps} steps")
            continue
        d = _digits(gap / prev_gap, p.slope.value)
        worst = min(worst, d)
        texts.append(f"c* = {p.at.approx(8)}: ratio {_nstr(gap / prev_gap, 15)} after {steps} steps")
        ok &= d > RATIO_NEED
    return NumericCheck(f"orbit of f ({a.cmap.what}) at {DPS + 40} digits until |c - c*| < 1e-{GAP_DIGITS}; "
                        "ratio of the last two gaps", "; ".join(texts), worst, ok,
                        rule=f"ratio of consecutive gaps equals chi_c to > {RATIO_NEED:.0f} digits (the ratio's "
                        "error is O(gap^(1/2)) at c* = 1 of a kinked phi, O(gap) elsewhere)")


def _recursion(a: PhaseAnalysis) -> Callable[[Any, Any], tuple[Any, Any]]:
    """One layer (block) of the true NNGP recursion (q, c) -> (q', c') of the model."""
    s2, b = _r(a.model.sigma_w2), _r(a.model.sigma_b2)
    v = sp.lambdify((Q, C), a.kernel.v, "mpmath")
    vd = sp.lambdify(Q, a.kernel.v_diag, "mpmath")
    if a.model.architecture.kind == "resnet":
        alpha2 = _r(a.model.architecture.alpha or Fraction(0)) ** 2

        def block(q: Any, c: Any) -> tuple[Any, Any]:
            q2 = q + alpha2 * (s2 * vd(q) + b)
            return q2, (q * c + alpha2 * (s2 * v(q, c) + b)) / q2
        return block

    def layer(q: Any, c: Any) -> tuple[Any, Any]:
        q2 = s2 * vd(q) + b
        return q2, (s2 * v(q, c) + b) / q2
    return layer


def _check_algebraic(a: PhaseAnalysis) -> NumericCheck:
    """Constant of 1 - c_L ~ K/L^2 from (1 - c_L)^(-1/2) at L = 2000..16000 (Richardson)."""
    step = _recursion(a)
    sqrt_type = (a.model.architecture.kind == "mlp" and a.model.sigma_b2 != 0 and a.chi_1.value == 1)
    assert a.convergence.constant is not None
    # the slope's 1/L correction scales like sqrt(K) (K the constant): deeper for slower maps (ResNet)
    scale = int(min(8, max(1, mpmath.ceil(mpmath.sqrt(a.convergence.constant.value / (9 * mpmath.pi**2 / 2))))))
    depths = [scale * d for d in ([4000, 8000, 16000] if sqrt_type else [2000, 4000, 8000])]
    q, c = mpmath.mpf(a.q_start), mpmath.mpf(0)
    w = {}
    for layer in range(2, depths[-1] + 1):
        q, c = step(q, c)
        if layer in depths:
            w[layer] = (1 - c) ** mpmath.mpf(-0.5)
    s1 = (w[depths[1]] - w[depths[0]]) / depths[0]
    s2 = (w[depths[2]] - w[depths[1]]) / depths[1]
    if sqrt_type:
        r2 = mpmath.sqrt(2)
        slope = (r2 * s2 - s1) / (r2 - 1)
        tol, why = mpmath.mpf("5e-3"), "slope error O(L^-1/2): one Richardson step in sqrt(L)"
    else:
        slope = 2 * s2 - s1
        tol, why = mpmath.mpf("1e-4"), "slope error O(1/L): one Richardson step in L"
    const = 1 / slope**2
    rel = abs(const / a.convergence.constant.value - 1)
    d = float(-mpmath.log10(rel)) if rel else float(DPS)
    return NumericCheck(f"true recursion from q_1 = {_nstr(a.q_start, 8)}, c_1 = 0; slope of (1 - c_L)^(-1/2) "
                        f"between L = {depths[0]}, {depths[1]}, {depths[2]}; {why}",
                        f"K = {_nstr(const, 15)} (plain L^2 (1 - c_L) at L = {depths[-1]}: "
                        f"{_nstr(depths[-1] ** 2 / w[depths[-1]] ** 2, 10)})", d, rel < tol,
                        rule=f"|K_numeric / K - 1| < {_nstr(tol, 2)}")


def _check_input_dependent(a: PhaseAnalysis) -> NumericCheck:
    """'none' (q* = 0): two orbits of the true recursion settle at different limits as q_l -> 0."""
    step = _recursion(a)
    limits = []
    for c1 in (mpmath.mpf("0.2"), mpmath.mpf("0.6")):
        q, c, mid, steps = mpmath.mpf(a.q_start), c1, None, 0
        while q > mpmath.mpf(10) ** -60 and steps < MAX_STEPS:
            q, c = step(q, c)
            steps += 1
            if mid is None and q < mpmath.mpf(10) ** -30:
                mid = c
        limits.append((c, abs(c - mid) if mid is not None and q <= mpmath.mpf(10) ** -60 else mpmath.inf, steps))
    settled = all(move < mpmath.mpf(10) ** -25 for _, move, _ in limits)
    apart = abs(limits[0][0] - limits[1][0])
    return NumericCheck("true recursion from c_1 = 0.2 and 0.6 until q_l < 1e-60 "
                        f"({limits[0][2]}, {limits[1][2]} layers)",
                        f"limits {_nstr(limits[0][0], 12)}, {_nstr(limits[1][0], 12)}", None,
                        settled and apart > mpmath.mpf(10) ** -3,
                        rule="each orbit moves < 1e-25 after q_l < 1e-30 (the correction per layer is O(q_l)), "
                        "and the two limits differ by > 1e-3")


def all_checks(a: PhaseAnalysis) -> dict[str, NumericCheck]:
    return {"variance": check_variance(a), "chi_1": check_chi(a), "fixed_points": check_fixed_points(a),
            "convergence": check_convergence(a)}
