"""Every derived result with its numerical check: ``derivation_catalogue(order)``.

Each item is a dict with ``id``, ``statement`` (text), ``latex``, ``text`` (the
formula in plain text), ``value`` (string) and ``numeric_check`` =
``{method, numeric, agreement_digits, passed}``. The checks compare each symbolic
result with an independent numeric route: certified direct iteration of the
depth recursion (Arb balls, :mod:`verify.kernel.recursion_certified`) or certified
evaluation of h, never the derivation itself. Default model (sigma_w^2 = 1,
sigma_b^2 = 0) throughout.

>>> items = derivation_catalogue(2, max_direct_depth=10**3, quick=True)
>>> [it["id"] for it in items][:3]
['h.forms', 'h.values', 'h.derivative']
>>> all(it["numeric_check"]["passed"] for it in items)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp
from flint import arb, ctx

from verify.core.balls import Ball
from verify.data.pairs import PairCorrelation, pair_correlation
from verify.derive import correlation_map_symbolic as cms
from verify.derive.abel import abel_expr, b_series_expr
from verify.derive.asymptotics import DELTA, L_SYM, N_SYM, TAU, DepthLaw, depth_for_gap_expr, gap_law, theta_law
from verify.derive.expansions import (
    EPS,
    gap_map_series,
    h_one_minus_series,
    kappa0_one_minus_series,
    q_coeffs,
    r_coeffs,
    w_step_series,
)
from verify.derive.weights import first_order_weights, limit_expr, weights_from_gaps
from verify.kernel.asymptotic.abel import arb_abel, eval_a, eval_a_prime, eval_b
from verify.kernel.asymptotic.route import abel_constants, asymptotic_pair_sweep
from verify.kernel.correlation_map import gap_map_arb, h_mpmath
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

DPS = 60
BITS = 256
DEFAULT_MODEL = "default model (sigma_w^2 = 1, sigma_b^2 = 0)"
PAIRS = {"rho1 = 1/2": PairCorrelation(1, Fraction(1, 4)),
         "rho1 = -3/5": PairCorrelation(-1, Fraction(9, 25))}
# n = 3 training points and a test point on S^2 (exact rationals, all correlations distinct)
TRAIN = ((Fraction(1), Fraction(0), Fraction(0)),
         (Fraction(3, 5), Fraction(4, 5), Fraction(0)),
         (Fraction(0), Fraction(3, 5), Fraction(4, 5)))
TEST = (Fraction(2, 3), Fraction(1, 3), Fraction(2, 3))
WEIGHT_DEPTH = 10**15


def _digits(x: Any, ref: Any) -> float:
    """Agreement digits -log10(|x - ref| / |ref|) (60 when equal to working precision)."""
    with mpmath.workdps(DPS):
        x, ref = mpmath.mpf(x), mpmath.mpf(ref)
        err = abs(x - ref)
        if err == 0:
            return float(DPS)
        return float(min(DPS, -mpmath.log10(err / max(abs(ref), mpmath.mpf(10) ** -DPS))))


def _ntk_ball(ball: Ball | None) -> Ball:
    """A ball from a sweep run with kernel "ntk": both of its balls are present then."""
    assert ball is not None  # the sweeps return 1 - ThetaBar's ball whenever kernel == "ntk"
    return ball


def _mp(x: arb) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        return mpmath.mpf(x.mid().str(DPS + 5, radius=False))


@dataclass
class _Numerics:
    """Shared certified numerics of one catalogue run."""

    depths: list[int]
    direct: dict[str, list[tuple[arb, arb]]]        # pair -> [(e_L, f_L)] at ``depths``
    consts: dict[str, tuple[arb, arb]]              # pair -> (tau, K)


@lru_cache(maxsize=4)
def _numerics(max_direct_depth: int) -> _Numerics:
    depths = [10**k for k in range(3, int(round(math.log10(max_direct_depth))) + 1)]
    depths = depths or [max_direct_depth]
    sched = LayerSchedule(Fraction(1), Fraction(0), 2)
    direct, consts = {}, {}
    for name, pair in PAIRS.items():
        out = certified_pair_sweep(pair, depths, "ntk", BITS, sched)
        with ctx.workprec(BITS):
            direct[name] = [(e.to_arb(), _ntk_ball(f).to_arb()) for e, f in out]
        tau, k_const, _ = abel_constants(pair, 45)
        consts[name] = (tau, k_const)
    return _Numerics(depths, direct, consts)


def _item(id_: str, statement: str, lhs: tuple[str, str], rhs: sp.Basic, value: str,
          method: str, numeric: str, digits: float | None, passed: bool, *, rule: str) -> dict[str, Any]:
    """One derived result; ``rule`` states the pass threshold of its numeric check (shown with it)."""
    lhs_text, lhs_latex = lhs
    return {
        "id": id_,
        "statement": statement,
        "latex": f"{lhs_latex} = {sp.latex(rhs)}",
        "text": f"{lhs_text} = {sp.sstr(rhs)}",
        "value": value,
        "model": DEFAULT_MODEL,
        "numeric_check": {"method": method, "numeric": numeric,
                          "agreement_digits": None if digits is None else round(digits, 2),
                          "rule": rule, "passed": bool(passed)},
    }


def _nstr(x: Any, n: int = 30) -> str:
    with mpmath.workdps(DPS):
        return mpmath.nstr(mpmath.mpf(x), n)


def _h_cert(z: Fraction) -> arb:
    """Certified h(z) = 1 - g(1 - z) (engine's gap-form evaluation)."""
    e = 1 - z
    return 1 - gap_map_arb(arb(e.numerator) / e.denominator)


# ---- the correlation map -----------------------------------------------------------------

def _h_items() -> list[dict[str, Any]]:
    items = []
    z = cms.Z
    with mpmath.workdps(DPS), ctx.workprec(BITS):
        f_sym = sp.lambdify(z, cms.h_expr(), "mpmath")
        pts = [Fraction(-9, 10), Fraction(3, 10), Fraction(99, 100)]
        agree = min(_digits(f_sym(mpmath.mpf(p.numerator) / p.denominator), _mp(_h_cert(p)))
                    for p in pts)
        items.append(_item(
            "h.forms",
            "h is the degree-1 arc-cosine kernel normalized to h(1) = 1; MATH.md's form, the "
            "summary's form z asin(z)/pi + sqrt(1-z^2)/pi + z/2 and (sin t + (pi-t) cos t)/pi "
            "with z = cos t coincide (sympy)",
            ("h(z)", "h(z)"), cms.h_expr(), f"forms agree: {cms.forms_agree()}",
            "sympy form vs certified gap-form evaluation (Arb) at z = -0.9, 0.3, 0.99",
            _nstr(f_sym(mpmath.mpf("0.3"))), agree, cms.forms_agree() and agree > 50,
            rule="the three forms agree symbolically, and > 50 digits"))

        vals = cms.special_values()
        refs = [_mp(_h_cert(Fraction(v))) for v in (-1, 0, 1)]
        agree = min(_digits(sp.N(vals[v], DPS), r) if vals[v] != 0 else
                    (DPS if abs(r) < mpmath.mpf(10) ** -DPS else 0.0)
                    for v, r in zip((-1, 0, 1), refs, strict=True))
        items.append(_item(
            "h.values", "values of h at -1, 0, 1", ("(h(-1), h(0), h(1))", "(h(-1), h(0), h(1))"),
            sp.Tuple(*[vals[v] for v in (-1, 0, 1)]), "(0, 1/pi, 1)",
            "certified 1 - g(1 - z) (Arb)", ", ".join(_nstr(r, 20) for r in refs), agree,
            agree > 50, rule="> 50 digits"))

        items.append(_derivative_item(1, cms.derivative_expr(), "h.derivative",
                                      "h' = kappa0 = (pi - arccos z)/pi, in [0, 1]; "
                                      "h'(-1) = 0, h'(0) = 1/2, h'(1) = 1"))
        items.append(_derivative_item(2, cms.second_derivative_expr(), "h.second_derivative",
                                      "h'' = 1/(pi sqrt(1 - z^2)) > 0 on (-1, 1), >= 1/pi"))

        grid = [Fraction(k - 100, 100) for k in range(201)]
        hv = [_h_cert(p) for p in grid]
        step = Fraction(1, 100)
        first = [hv[k + 1] - hv[k] for k in range(200)]
        second = [(hv[k + 1] - 2 * hv[k] + hv[k - 1]) / (arb(step.numerator) / step.denominator) ** 2
                  for k in range(1, 200)]
        monotone = all(d > 0 for d in first) and all(d > 0 for d in second)
        min_second = min(_mp(d) for d in second)
        agree = _digits(min_second, 1 / mpmath.pi)
        items.append(_item(
            "h.monotone_convex",
            "h is strictly increasing (h' = kappa0 > 0 on (-1, 1]) and strictly convex "
            "(h'' > 0) on [-1, 1], mapping [-1, 1] onto [0, 1]; min h'' = h''(0) = 1/pi",
            ("min_{[-1,1]} h''", r"\min_{[-1,1]} h''"), 1 / sp.pi, "1/pi",
            "certified first and second differences of h on a grid of step 1/100 (all > 0); "
            "numeric = smallest second difference quotient",
            _nstr(min_second, 15), agree, monotone and agree > 3,
            rule="all differences > 0, and min h'' within 3 digits of 1/pi (step 1/100)"))

        below = [Fraction(k - 1000, 1000) for k in range(0, 2000, 7)]
        above_diag = all(_h_cert(p) - arb(p.numerator) / p.denominator > 0 for p in below)
        tiny = arb(10) ** -30
        slope = gap_map_arb(tiny) / tiny            # (h(1) - h(1 - eps))/eps -> h'(1)
        agree = _digits(_mp(slope), 1)
        items.append(_item(
            "h.fixed_points",
            "d/dz (h(z) - z) = -arccos(z)/pi <= 0 and h(1) = 1, so z* = 1 is the only fixed "
            "point on [-1, 1] and h(z) > z below it; h'(1) = 1: parabolic (neutral) fixed "
            "point, so rho^(L) -> 1 algebraically, not geometrically",
            ("h'(z^*)", "h'(z^*)"), cms.fixed_point_type()[0],
            f"fixed points {cms.fixed_points()}; " + cms.fixed_point_type()[1],
            "certified h(z) - z > 0 on a grid of [-1, 0.999]; numeric = (1 - h(1 - eps))/eps "
            "at eps = 1e-30", _nstr(_mp(slope), 20), agree, above_diag and agree > 13,
            rule="h(z) > z on the grid, and slope within 13 digits of 1"))
    return items


def _derivative_item(k: int, expr: sp.Expr, id_: str, statement: str) -> dict[str, Any]:
    f_sym = sp.lambdify(cms.Z, expr, "mpmath")
    pts = [mpmath.mpf("-0.5"), mpmath.mpf("0.3"), mpmath.mpf("0.9")]
    with mpmath.workdps(DPS):
        refs = [mpmath.diff(h_mpmath, p, k) for p in pts]
        agree = min(_digits(f_sym(p), r) for p, r in zip(pts, refs, strict=True))
    name = "h'" if k == 1 else "h''"
    return _item(id_, statement, (f"{name}(z)", f"{name}(z)"), expr,
                 sp.sstr(expr), f"mpmath numerical differentiation of h (order {k}) at "
                 "z = -0.5, 0.3, 0.9", _nstr(refs[1], 20), agree, agree > 30, rule="> 30 digits")


# ---- expansions near rho = 1 -------------------------------------------------------------

def _expansion_items(order: int) -> list[dict[str, Any]]:
    items = []
    eps = Fraction(1, 10**4)
    top = 2 * order + 1
    with mpmath.workdps(DPS), ctx.workprec(BITS):
        e_arb = arb(eps.numerator) / eps.denominator
        cert_g = _mp(gap_map_arb(e_arb))                                # 1 - h(1 - eps)
        cert_a = _mp((2 * (e_arb / 2).sqrt().asin()) / arb.pi())      # 1 - kappa0(1 - eps)
        kap = mpmath.sqrt(2) / mpmath.pi
        e_mp = mpmath.mpf(eps.numerator) / eps.denominator
        power = e_mp ** (order + mpmath.mpf(3) / 2)
        # (id, lhs, series, gap of the series value, certified gap, first omitted term)
        cases = [
            ("expansion.h", "h(1 - eps)", h_one_minus_series(top), lambda v: 1 - v, cert_g,
             kap * q_coeffs(order + 1)[order] * power),
            ("expansion.kappa0", "kappa0(1 - eps)", kappa0_one_minus_series(top),
             lambda v: 1 - v, cert_a, kap * r_coeffs(order + 2)[order + 1] * power),
            ("expansion.gap_map", "g(eps) = 1 - h(1 - eps)", gap_map_series(top),
             lambda v: v, cert_g, kap * q_coeffs(order + 1)[order] * power),
        ]
        for id_, lhs, series, gap_of, ref, omitted in cases:
            gap = gap_of(sp.lambdify(EPS, series, "mpmath")(e_mp))
            items.append(_item(
                id_, f"{lhs} in powers of sqrt(eps) through eps^({top}/2) (exact rational "
                "coefficients times sqrt(2)/pi)", (lhs, lhs), series, sp.sstr(series),
                "certified value at eps = 1e-4 (Arb); agreement of the gap 1 - value; passes "
                "if the error is below twice the first omitted term",
                _nstr(ref, 25), _digits(gap, ref), abs(gap - ref) <= 2 * abs(omitted),
                rule=f"|error| <= 2 x first omitted term ({_nstr(2 * abs(omitted), 3)})"))
        w = 1000
        ref = _mp(1 / (gap_map_arb(arb(1) / (w * w))).sqrt()) - w
        step = w_step_series(order)
        wsym = sp.Symbol("w", positive=True)
        val = sp.lambdify(wsym, step - wsym, "mpmath")(mpmath.mpf(w))
        agree = _digits(val, ref)
        items.append(_item(
            "expansion.w_step",
            "in w = (1 - rho)^(-1/2) one layer is w -> G(w) = w + sqrt(2)/(3 pi) + 1/(3 pi^2 w) "
            "+ ...: a translation by sqrt(2)/(3 pi) per layer (hence 1 - rho^(L) ~ 9 pi^2/(2 L^2))",
            ("G(w)", "G(w)"), step, sp.sstr(step), "certified G(w) - w at w = 1000 (Arb)",
            _nstr(ref, 25), agree, agree > 3 * (order + 1) - 2, rule=f"> {3 * (order + 1) - 2} digits"))
    return items


# ---- Abel coordinates --------------------------------------------------------------------

def _abel_items(order: int, num: _Numerics) -> list[dict[str, Any]]:
    items = []
    pair = next(iter(PAIRS))
    with ctx.workprec(BITS), mpmath.workdps(DPS):
        co = arb_abel(32, BITS)
        taus, ks = [], []
        for depth, (e, f) in zip(num.depths, num.direct[pair], strict=True):
            w = 1 / e.sqrt()
            taus.append(_mp(eval_a(co, w) - depth))
            t_l = depth * (1 - f)
            ks.append(_mp(t_l * w**3 / 2 * eval_a_prime(co, w) - eval_b(co, w)))
    depth_txt = ", ".join(f"1e{round(math.log10(d))}" for d in num.depths)
    cases = [
        ("abel.coordinate",
         "Abel (Fatou) coordinate at the parabolic point: A(G(w)) = A(w) + 1 with "
         "A(w) = a1 w - (3/2) log(a1 w) + sum_k c_k w^-k, a1 = 3 pi/sqrt 2 (asymptotic, Gevrey-1 "
         "series; exact coefficients in QQ(sqrt 2/pi)); A(rho^(L)) = L + tau(rho^(1))",
         "A(w)", abel_expr(order), "tau", taus, "A_32(w_L) - L", 25),
        ("abel.ntk_sum",
         "NTK summation series: B(G(w)) - B(w) = rho A'(rho) at rho = h(z); with T_L = L "
         "ThetaBar^(L): T_L A'(rho_L) - B(w_L) = K is constant along the orbit (A'(h(z)) "
         "kappa0(z) = A'(z) telescopes the products of kappa0)",
         "B(w)", b_series_expr(order), "K", ks, "T_L A'(rho_L) - B_32(w_L)", 20),
    ]
    for id_, statement, lhs, expr, const, values, what, need in cases:
        spread = min((_digits(v, values[-1]) for v in values[:-1]), default=float(DPS))
        items.append(_item(
            id_, statement, (lhs, lhs), expr, f"{const}(rho1 = 1/2) = {_nstr(values[-1], 30)}",
            f"{what} along a certified orbit (rho1 = 1/2) at L = {depth_txt}: constant",
            _nstr(values[0], 30), spread, spread > need, rule=f"constant to > {need} digits"))
    return items


# ---- depth laws --------------------------------------------------------------------------

def _law_tolerance(order: int, depth: int) -> mpmath.mpf:
    return 10**4 * mpmath.log(depth) ** (order + 1) / mpmath.mpf(depth) ** (order + 1)


def _law_items(order: int, num: _Numerics) -> list[dict[str, Any]]:
    items = []
    law = gap_law(order)
    tlaw = theta_law(order)
    top = num.depths[-1]
    with mpmath.workdps(DPS):
        f_gap, f_theta = law.callable(), tlaw.callable()
        f_body = sp.lambdify((L_SYM, TAU), law.expr() / law.prefactor * L_SYM**2, "mpmath")
        errs, terrs, lead_est, lim_est = [], [], [], []
        for name, rows in num.direct.items():
            tau, k_const = (_mp(x) for x in num.consts[name])
            e, f = rows[-1]
            e_mp, th_mp = _mp(e), 1 - _mp(f)
            errs.append(abs(f_gap(top, tau, k_const) / e_mp - 1))
            terrs.append(abs(f_theta(top, tau, k_const) - th_mp))
            lead_est.append(e_mp * top**2 / f_body(top, tau))
            lim_est.append(th_mp - (f_theta(top, tau, k_const) - mpmath.mpf(1) / 4))
        tol = _law_tolerance(order, top)
        e_first = _mp(num.direct[next(iter(PAIRS))][-1][0])
        plain = e_first * top**2
        c_exact = 9 * mpmath.pi**2 / 2
        names = list(PAIRS)
        tau_a, tau_b = (_mp(num.consts[n][0]) for n in names)
        ratio_direct = _mp(num.direct[names[0]][-1][0]) / _mp(num.direct[names[1]][-1][0])
        ratio_law = f_gap(top, tau_a, 0) / f_gap(top, tau_b, 0)
        th_first = 1 - _mp(num.direct[names[0]][-1][1])
    depth_txt = f"L = 1e{round(math.log10(top))}"
    reference = f"certified direct iteration at {depth_txt}, rho1 = 1/2 and -3/5"
    items.append(_law_item(
        "nngp.gap_law",
        f"1 - rho^(L) = (9 pi^2/2) L^-2 [1 + sum_j P_j(log L, tau) L^-j + O((log L)^{order + 1}"
        f"/L^{order + 1})]; P_1 = -3 log L - 2 tau",
        ("1 - rho^(L)", r"1 - \rho^{(L)}"), law, f"{reference} (tau from the pair)",
        (errs, "relative"), tol))
    items.append(_agreement_item(
        "nngp.leading_constant",
        "lim_{L->oo} L^2 (1 - rho^(L)) = 9 pi^2/2 for every rho^(1) in [-1, 1) (the log L "
        "correction -3 log L/L is universal too)",
        ("lim L^2 (1 - rho^(L))", r"\lim_{L\to\infty} L^2 (1 - \rho^{(L)})"),
        9 * sp.pi**2 / 2, _nstr(c_exact, 30),
        f"certified L^2 (1 - rho^(L)) at {depth_txt} divided by the correction factor "
        f"(plain L^2 (1 - rho^(L)) = {_nstr(plain, 12)})",
        (lead_est[0], c_exact), float(-mpmath.log10(tol)) - 1))
    items.append(_agreement_item(
        "nngp.rho1_dependence",
        "rho^(1) enters 1 - rho^(L) only through the Abel constant tau = A(rho^(1)) - 1, first "
        "at relative order 1/L: (1 - rho_a^(L))/(1 - rho_b^(L)) = 1 - 2 (tau_a - tau_b)/L + ...",
        ("tau(rho^(1))", r"\tau(\rho^{(1)})"), sp.Symbol("A(rho1)") - 1,
        f"tau(1/2) = {_nstr(tau_a, 20)}, tau(-3/5) = {_nstr(tau_b, 20)}",
        f"ratio of certified gaps at {depth_txt} (rho1 = 1/2 vs -3/5) vs the law's ratio",
        (ratio_direct, ratio_law), float(-mpmath.log10(tol)) - 1))
    first_order = abs(3 * mpmath.log(top) + 2 * tau_a) / top           # |P_1| / L
    items.append(_item(
        "nngp.limit",
        "the NNGP correlation rho^(L) -> 1 for every rho^(1) in [-1, 1]: the normalized NNGP "
        "kernel tends to the all-ones matrix J, at rate 9 pi^2/(2 L^2)",
        ("lim rho^(L)", r"\lim_{L\to\infty}\rho^{(L)}"), sp.Integer(1), "1",
        f"certified L^2 (1 - rho^(L)) / (9 pi^2/2) at {depth_txt}; passes within twice the "
        "first correction |3 log L + 2 tau| / L",
        _nstr(plain / c_exact, 15), _digits(plain / c_exact, 1),
        abs(plain / c_exact - 1) < 2 * first_order,
        rule=f"|ratio - 1| < 2 |3 log L + 2 tau|/L = {_nstr(2 * first_order, 3)} (the digits column is "
             "not the test: the law's own correction limits it)"))
    items.append(_agreement_item(
        "ntk.limit",
        "the normalized NTK off-diagonal entry ThetaBar^(L) tends to 1/4 for every rho^(1) in "
        "[-1, 1), NOT to 1: the normalized NTK tends to (3/4) I + (1/4) J, not to the matrix "
        "of ones (the summary's Theorem 2 fails for this model)",
        ("lim ThetaBar^(L)", r"\lim_{L\to\infty}\bar\Theta^{(L)}"), tlaw.lead, "1/4",
        f"certified ThetaBar^(L) at {depth_txt} minus the law's corrections (plain value "
        f"{_nstr(th_first, 12)})", (lim_est[0], mpmath.mpf(1) / 4),
        float(-mpmath.log10(tol)) - 2))
    items.append(_law_item(
        "ntk.rate",
        f"ThetaBar^(L) = 1/4 + ((3/8) log L + tau/4 - 1/8)/L + sum_(j>=2) Q_j L^-j "
        f"+ O((log L)^{order + 1}/L^{order + 1}); K enters at L^-4 (9 pi^2 K / L^4)",
        ("ThetaBar^(L)", r"\bar\Theta^{(L)}"), tlaw, f"{reference} (tau, K from the pair)",
        (terrs, "absolute"), tol))
    return items


def _agreement_item(id_: str, statement: str, lhs: tuple[str, str], rhs: sp.Basic, value: str,
                    method: str, pair: tuple[mpmath.mpf, mpmath.mpf], need: float
                    ) -> dict[str, Any]:
    """An item whose check is the agreement of ``pair = (numeric, reference)``."""
    digits = _digits(*pair)
    return _item(id_, statement, lhs, rhs, value, method, _nstr(pair[0], 30), digits,
                 digits > need, rule=f"> {need:.1f} digits")


def _law_item(id_: str, statement: str, lhs: tuple[str, str], law: DepthLaw, method: str,
              errors: tuple[list[mpmath.mpf], str], tol: mpmath.mpf) -> dict[str, Any]:
    """A depth law checked by its largest error against the certified reference."""
    worst = max(errors[0])
    digits = float(-mpmath.log10(worst)) if worst else float(DPS)
    return _item(id_, statement, lhs, law.expr(), f"first correction: {sp.sstr(law.correction(1))}", method,
                 f"{_nstr(worst, 5)} (max {errors[1]} error)", digits, worst <= tol,
                 rule=f"max {errors[1]} error <= {_nstr(tol, 3)} (10^4 (log L)^(N+1)/L^(N+1))")


# ---- weights and depth-for-delta ---------------------------------------------------------

def _weights_items() -> list[dict[str, Any]]:
    items = []
    sched = LayerSchedule(Fraction(1), Fraction(0), 3)
    n = len(TRAIN)
    train_pairs = [[pair_correlation(TRAIN[i], TRAIN[j]) if i != j else None for j in range(n)]
                   for i in range(n)]
    test_pairs = [pair_correlation(TEST, TRAIN[i]) for i in range(n)]
    unique = {p for row in train_pairs for p in row if p is not None} | set(test_pairs)
    gaps, taus = {}, {}
    for p in unique:
        out, _, _ = asymptotic_pair_sweep(p, [WEIGHT_DEPTH], "ntk", 40, sched)
        gaps[p] = out[0]
        taus[p] = abel_constants(p, 40)[0]
    with ctx.workprec(BITS * 2), mpmath.workdps(DPS):
        tau_train = [[_mp(taus[p]) if p is not None else 0 for p in row] for row in train_pairs]
        tau_test = [_mp(taus[p]) for p in test_pairs]
        for kernel, idx in (("ntk", 1), ("nngp", 0)):
            zero = arb(0)
            g_train = [[_ntk_ball(gaps[p][idx]).to_arb() if p is not None else zero for p in row]
                       for row in train_pairs]
            g_test = [_ntk_ball(gaps[p][idx]).to_arb() for p in test_pairs]
            w = [_mp(x) for x in weights_from_gaps(g_train, g_test, prec=BITS * 2)]
            law = first_order_weights(kernel, tau_train, tau_test, WEIGHT_DEPTH)
            limit = sp.N(limit_expr(kernel).subs(N_SYM, n), DPS)
            agree = min(_digits(a, b) for a, b in zip(w, law, strict=True))
            lim_dev = max(abs(a - mpmath.mpf(str(limit))) for a in w)
            kname = "NTK" if kernel == "ntk" else "NNGP"
            rate = ("(6 log L - 2)/((n+3)^2 L) + data terms/L: order log L / L" if kernel == "ntk"
                    else "2 (c - v/n - (S/n - V/n^2) u)/L: order 1/L")
            items.append(_item(
                f"weights.{kernel}",
                f"{kname}: kappa_x kappa^-1 -> {sp.sstr(limit_expr(kernel))} per training point "
                f"(test point distinct from the n training points); first-order law {rate}; "
                "the weights stay bounded although det(kappa) -> 0"
                + (" (NNGP: kappa -> J, singular; the limit needs the next order of the gaps)"
                   if kernel == "nngp" else " (limit kernel (3/4) I + (1/4) J)"),
                (f"lim kappa_x kappa^-1 ({kname})", r"\lim_{L\to\infty}\kappa_x\kappa^{-1}"),
                limit_expr(kernel), f"n = {n}: {sp.sstr(limit_expr(kernel).subs(N_SYM, n))}; "
                f"deviation at L = 1e15: {_nstr(lim_dev, 5)}",
                "certified weights at L = 1e15 (asymptotic route, Arb linear algebra on the "
                "gaps) vs limit + first-order law", ", ".join(_nstr(x, 20) for x in w),
                agree, agree > 24, rule="> 24 digits"))
    return items


def _depth_items(order: int, quick: bool) -> list[dict[str, Any]]:
    items = []
    pair = next(iter(PAIRS.values()))
    delta_exp = 6 if quick else 8
    delta = Fraction(1, 10**delta_exp)
    sched = LayerSchedule(Fraction(1), Fraction(0), 2)
    with ctx.workprec(BITS), mpmath.workdps(DPS):
        tau = abel_constants(pair, 40)[0]
        co = arb_abel(32, BITS)
        d_arb = arb(delta.numerator) / delta.denominator
        threshold = eval_a(co, 1 / d_arb.sqrt()) - tau      # L_min = least integer above
        l_min = int(math.floor(float(_mp(threshold)))) + 1
        out = certified_pair_sweep(pair, [l_min - 1, l_min], "nngp", BITS, sched)
        ok = out[0][0].to_arb() > d_arb and out[1][0].to_arb() < d_arb
        approx = sp.N(depth_for_gap_expr().subs(DELTA, sp.Rational(delta.numerator,
                                                                     delta.denominator)), 30)
    items.append(_item(
        "depth.delta",
        "the least depth with 1 - rho^(L) < delta is the least integer above A(delta^(-1/2)) - "
        "tau = (3 pi/sqrt 2) delta^(-1/2) + (3/4) log delta - (3/2) log(3 pi/sqrt 2) - tau + "
        "O(delta^(1/2)): order delta^(-1/2), far below the summary's 'K >> 1/delta'. (For the "
        "NTK entry, |ThetaBar - 1/4| < delta needs L ~ (3/8) delta^-1 log(1/delta).)",
        ("L(delta) + tau", r"L(\delta) + \tau"), depth_for_gap_expr(),
        f"delta = 1e-{delta_exp}, rho1 = 1/2: L_min = {l_min} (formula: {sp.sstr(approx - 0)} "
        f"- tau = {_nstr(mpmath.mpf(str(approx)) - _mp(tau), 12)})",
        "certified direct iteration: 1 - rho^(L) >= delta at L_min - 1 and < delta at L_min",
        str(l_min), float(len(str(l_min))) if ok else 0.0, ok,
        rule="certified bracket: 1 - rho >= delta at L_min - 1 and < delta at L_min"))
    return items


def _ntk_depth_item(order: int) -> dict[str, Any]:
    """The depth where ThetaBar^(L) - 1/4 crosses delta: law vs certified route."""
    pair = next(iter(PAIRS.values()))
    delta = mpmath.mpf(10) ** -4
    sched = LayerSchedule(Fraction(1), Fraction(0), 2)

    def excess(depth: int) -> arb:        # certified ThetaBar^(L) - 1/4
        out, _, _ = asymptotic_pair_sweep(pair, [depth], "ntk", 30, sched)
        with ctx.workprec(BITS):
            return 3 / arb(4) - _ntk_ball(out[0][1]).to_arb()

    lo, hi = 10, 10**8                     # excess(lo) > delta > excess(hi)
    d_arb = arb(1) / 10**4
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if excess(mid) > d_arb:
            lo = mid
        else:
            hi = mid
    certified = excess(lo) > d_arb and excess(hi) < d_arb
    with mpmath.workdps(DPS):
        tau, k_const = (_mp(x) for x in abel_constants(pair, 40)[:2])
        law = theta_law(order).callable()
        root = mpmath.findroot(lambda x: law(x, tau, k_const) - mpmath.mpf(1) / 4 - delta,
                               mpmath.mpf(hi))
        lead = 3 * mpmath.log(1 / delta) / (8 * delta)
    law_depth = int(mpmath.floor(root)) + 1
    leading = sp.Rational(3, 8) * sp.log(1 / DELTA) / DELTA
    return _item(
        "depth.ntk_delta",
        "ThetaBar^(L) - 1/4 < delta first holds at L ~ (3/8) delta^-1 log(1/delta) (1 + o(1)) "
        "(from ThetaBar - 1/4 ~ ((3/8) log L + tau/4 - 1/8)/L): order delta^-1 log(1/delta)",
        ("L_NTK(delta)", r"L_{\mathrm{NTK}}(\delta)"), leading,
        f"delta = 1e-4, rho1 = 1/2: law (order {order}) gives L = {law_depth}; leading term "
        f"{_nstr(lead, 8)}",
        "bisection on the certified asymptotic route: ThetaBar - 1/4 >= delta at L - 1 and "
        "< delta at L; compared with the root of the depth law",
        str(hi), float(len(str(hi))) if law_depth == hi else 0.0,
        certified and law_depth == hi,
        rule="certified bracket at L - 1 and L, and the law's root gives the same L")


def derivation_catalogue(order: int = 6, max_direct_depth: int = 10**5,
                         quick: bool = False) -> list[dict[str, Any]]:
    """Every derived result with its certified numerical check (validated agreement).

    ``order``: expansions through eps^(order + 1/2) and depth laws through L^-order.
    ``max_direct_depth``: the deepest certified direct iteration used as reference
    (10^3 .. max_direct_depth; about 5 microseconds per layer). ``quick`` skips the
    slower checks (weights at depth 1e15, a smaller delta).
    """
    if order < 1:
        raise ValueError("order must be >= 1")
    num = _numerics(max_direct_depth)
    builders: list[Callable[[], list[dict[str, Any]]]] = [
        _h_items,
        lambda: _expansion_items(order),
        lambda: _abel_items(order, num),
        lambda: _law_items(order, num),
        lambda: _depth_items(order, quick),
    ]
    if not quick:
        builders.insert(4, _weights_items)
        builders.append(lambda: [_ntk_depth_item(order)])
    items: list[dict[str, Any]] = []
    for build in builders:
        items.extend(build())
    return items
