"""Symbolic derivations (verify.derive) checked against independent certified numerics.

Reference values come from certified direct iteration of the depth recursion
(verify.kernel.recursion_certified) or from sympy's own series/limits, never from the
derivation being tested.
"""

from __future__ import annotations

import json
from fractions import Fraction
from functools import cache

import mpmath
import pytest
import sympy as sp
from flint import arb, ctx

from verify.cli import main
from verify.data.pairs import PairCorrelation
from verify.derive import correlation_map_symbolic as cms
from verify.derive.abel import symbolic_abel, to_sympy
from verify.derive.asymptotics import gap_law, theta_law
from verify.derive.catalogue import derivation_catalogue
from verify.derive.expansions import EPS, h_one_minus_series, kappa0_one_minus_series, q_coeffs, w_step_series
from verify.derive.weights import limit_expr, symbolic_first_order_check
from verify.kernel.asymptotic.abel import arb_abel, eval_a, eval_a_prime, eval_b
from verify.kernel.asymptotic.route import abel_constants
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

BITS = 256
DEPTHS = [10**4, 10**5]
PAIRS = [PairCorrelation(1, Fraction(1, 4)), PairCorrelation(-1, Fraction(9, 25)),
         PairCorrelation(1, Fraction(0))]
SCHED = LayerSchedule(Fraction(1), Fraction(0), 3)


@cache
def direct(pair: PairCorrelation) -> list[tuple[mpmath.mpf, mpmath.mpf]]:
    """Certified direct iteration (midpoints as mpf; radii checked tiny): (1 - rho, ThetaBar)."""
    out = certified_pair_sweep(pair, DEPTHS, "ntk", BITS, SCHED)
    for e, f in out:
        assert e.relative_digits() > 55 and f.relative_digits() > 55
    return [(e.mid_mpf(), 1 - f.mid_mpf()) for e, f in out]


@cache
def constants(pair: PairCorrelation) -> tuple[mpmath.mpf, mpmath.mpf]:
    tau, k_const, _ = abel_constants(pair, 45)
    with mpmath.workdps(60):
        return (mpmath.mpf(tau.mid().str(60, radius=False)),
                mpmath.mpf(k_const.mid().str(60, radius=False)))


def rel_digits(x, ref) -> float:
    with mpmath.workdps(60):
        err = abs(mpmath.mpf(x) / mpmath.mpf(ref) - 1)
        return 60.0 if err == 0 else float(-mpmath.log10(err))


# ---- the correlation map and its expansions ------------------------------------------------

def test_h_facts_symbolic() -> None:
    assert cms.forms_agree()
    assert sp.simplify(cms.derivative_expr() - cms.kappa0_expr()) == 0
    assert cms.special_values() == {-1: 0, 0: 1 / sp.pi, 1: 1}
    assert cms.derivative_values() == {-1: 0, 0: sp.Rational(1, 2), 1: 1}
    assert cms.fixed_points() == [1]
    assert cms.fixed_point_type()[0] == 1


@pytest.mark.parametrize("order", [3, 7])
def test_expansions_match_sympy_series(order: int) -> None:
    """Our exact coefficient formulas vs sympy.series of the closed forms (independent)."""
    s = sp.Symbol("s", positive=True)
    h = (sp.sqrt(1 - (1 - s**2) ** 2) + (1 - s**2) * (sp.pi - sp.acos(1 - s**2))) / sp.pi
    ref_h = sp.series(h, s, 0, order + 1).removeO()
    assert sp.simplify(ref_h - h_one_minus_series(order).subs(EPS, s**2)) == 0
    k0 = (sp.pi - sp.acos(1 - s**2)) / sp.pi
    ref_k = sp.series(k0, s, 0, order + 1).removeO()
    assert sp.simplify(ref_k - kappa0_one_minus_series(order).subs(EPS, s**2)) == 0


def test_leading_gap_map_terms() -> None:
    series = sp.expand(1 - h_one_minus_series(3))
    assert series.coeff(EPS) == 1
    assert sp.simplify(series.coeff(EPS ** sp.Rational(3, 2)) + 2 * sp.sqrt(2) / (3 * sp.pi)) == 0
    w = sp.Symbol("w", positive=True)
    step = w_step_series(2)
    assert sp.simplify(step.coeff(w, 0) - sp.sqrt(2) / (3 * sp.pi)) == 0
    assert sp.simplify(step.coeff(w, -1) - 1 / (3 * sp.pi**2)) == 0


def test_q_coefficient_bound_used_for_rigorous_tails() -> None:
    q = q_coeffs(300)
    assert q[:3] == [Fraction(2, 3), Fraction(1, 30), Fraction(3, 560)]
    assert all(abs(qk) <= Fraction(2) ** (1 - k) for k, qk in enumerate(q))


# ---- Abel coordinates ----------------------------------------------------------------------

def test_abel_coefficients_exact_and_balls_agree() -> None:
    co = symbolic_abel(10)
    assert sp.simplify(to_sympy(co.a1) - 3 * sp.pi / sp.sqrt(2)) == 0
    assert to_sympy(co.b) == sp.Rational(-3, 2)
    assert sp.simplify(to_sympy(co.d[3]) - 9 * sp.pi**2 / 16) == 0          # d4 = a1^2/8
    balls = arb_abel(10, 200)
    with ctx.workprec(200):
        for exact, ball in zip(co.c + co.e + (co.dlog,) + co.d, balls.c + balls.e
                               + (balls.dlog,) + balls.d, strict=True):
            value = sp.N(to_sympy(exact), 70)
            assert ball.overlaps(arb(str(value)))
            assert ball.rad() < arb(10) ** -55 * max(1, abs(float(value)))


@pytest.mark.parametrize("pair", PAIRS[:2])
def test_abel_invariants_constant_along_certified_orbit(pair: PairCorrelation) -> None:
    """A(rho_L) - L and T_L A'(rho_L) - B(w_L) are the same at L = 1e3, 1e4, 1e5."""
    out = certified_pair_sweep(pair, [10**3] + DEPTHS, "ntk", BITS, SCHED)
    with ctx.workprec(BITS):
        co = arb_abel(30, BITS)
        taus, ks = [], []
        for depth, (e, f) in zip([10**3] + DEPTHS, out, strict=True):
            w = 1 / e.to_arb().sqrt()
            taus.append(eval_a(co, w) - depth)
            ks.append(depth * (1 - f.to_arb()) * w**3 / 2 * eval_a_prime(co, w) - eval_b(co, w))
        for t in taus[1:]:
            assert abs(t - taus[0]) < arb(10) ** -40
        for k in ks[1:]:
            assert abs(k - ks[0]) < arb(10) ** -30


# ---- depth laws vs certified direct iteration ------------------------------------------------

@pytest.mark.parametrize("pair", PAIRS)
def test_gap_law_and_leading_constant(pair: PairCorrelation) -> None:
    """1 - rho^(L) against the law with corrections; 9 pi^2/2 to >= 24 digits at L = 1e5."""
    tau, _ = constants(pair)
    law = gap_law(6)
    f = law.callable()
    with mpmath.workdps(60):
        for depth, (e, _) in zip(DEPTHS, direct(pair), strict=True):
            tol = 1e4 * float(mpmath.log(depth)) ** 7 / depth**7
            assert abs(f(depth, tau, 0) / e - 1) < tol
        e5 = direct(pair)[-1][0]
        corrected = e5 * 10**10 / (f(10**5, tau, 0) * 10**10 / (9 * mpmath.pi**2 / 2))
        assert rel_digits(corrected, 9 * mpmath.pi**2 / 2) > 24
        # the leading constant alone is only good to O(log L / L): plain L^2 (1 - rho)
        assert 3 < rel_digits(e5 * 10**10, 9 * mpmath.pi**2 / 2) < 5


def test_gap_law_first_corrections() -> None:
    law = gap_law(2)
    lam, tau = sp.log(sp.Symbol("L", positive=True)), sp.Symbol("tau", real=True)
    assert sp.simplify(law.correction(1) - (-3 * lam - 2 * tau)) == 0
    assert sp.simplify(law.prefactor - 9 * sp.pi**2 / 2) == 0


def test_gap_law_detects_a_wrong_constant() -> None:
    """The check fails when the law is wrong (b = -1 instead of -3/2 changes P_1)."""
    pair = PAIRS[0]
    tau, _ = constants(pair)
    e5 = direct(pair)[-1][0]
    with mpmath.workdps(60):
        right = gap_law(1).callable()(10**5, tau, 0)
        wrong = right + 9 * mpmath.pi**2 / 2 * mpmath.log(10**5) / mpmath.mpf(10) ** 15
    assert rel_digits(right, e5) > rel_digits(wrong, e5) + 2


@pytest.mark.parametrize("pair", PAIRS)
def test_theta_law_limit_one_quarter(pair: PairCorrelation) -> None:
    tau, k_const = constants(pair)
    law = theta_law(6)
    assert law.lead == sp.Rational(1, 4)
    lam, t = sp.log(sp.Symbol("L", positive=True)), sp.Symbol("tau", real=True)
    assert sp.simplify(law.correction(1) - (sp.Rational(3, 8) * lam + t / 4 - sp.Rational(1, 8))) == 0
    f = law.callable()
    with mpmath.workdps(60):
        for depth, (_, theta) in zip(DEPTHS, direct(pair), strict=True):
            tol = 1e4 * float(mpmath.log(depth)) ** 7 / depth**7
            assert abs(f(depth, tau, k_const) - theta) < tol
        theta5 = direct(pair)[-1][1]
        limit_estimate = theta5 - (f(10**5, tau, k_const) - mpmath.mpf(1) / 4)
        assert abs(limit_estimate - mpmath.mpf(1) / 4) < mpmath.mpf(10) ** -25
        assert abs(theta5 - 1) > mpmath.mpf("0.7")            # not the matrix of ones


def test_rho1_enters_only_through_tau() -> None:
    """Two pairs: the ratio of their gaps is predicted by the law from the two tau's alone."""
    (ta, _), (tb, _) = constants(PAIRS[0]), constants(PAIRS[1])
    f = gap_law(6).callable()
    ea, eb = direct(PAIRS[0])[-1][0], direct(PAIRS[1])[-1][0]
    with mpmath.workdps(60):
        assert rel_digits(f(10**5, ta, 0) / f(10**5, tb, 0), ea / eb) > 24
        # first order: L (e_a/e_b - 1) ~ -2 (tau_a - tau_b)
        assert abs(10**5 * (ea / eb - 1) + 2 * (ta - tb)) < 1e-2


# ---- weights ---------------------------------------------------------------------------------

def test_weight_limits_closed_forms() -> None:
    n = sp.Symbol("n", positive=True, integer=True)
    assert sp.simplify(limit_expr("ntk") - 1 / (n + 3)) == 0
    assert sp.simplify(limit_expr("nngp") - 1 / n) == 0


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_first_order_weight_laws_symbolic(kernel: str) -> None:
    """Sympy expands the exact kappa_x kappa^-1 of the first-order kernel; the law matches."""
    for n in (2, 3):
        assert symbolic_first_order_check(kernel, n) == sp.zeros(n, 1)


# ---- catalogue and CLI -----------------------------------------------------------------------

def test_catalogue_all_checks_pass() -> None:
    items = derivation_catalogue(4, max_direct_depth=10**4)
    ids = {it["id"] for it in items}
    assert {"nngp.leading_constant", "ntk.limit", "weights.ntk", "weights.nngp",
            "depth.delta", "depth.ntk_delta", "abel.coordinate"} <= ids
    for it in items:
        assert set(it) >= {"id", "statement", "latex", "value", "numeric_check"}
        assert set(it["numeric_check"]) == {"method", "numeric", "agreement_digits", "rule", "passed"}
        assert it["numeric_check"]["passed"], it["id"]
    json.dumps(items)


def test_cli_derive_formats(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["derive", "--order", "2", "--max-direct-depth", "1e3", "--quick"]
    assert main(args + ["--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["all_passed"] and payload["model"].startswith("default model")
    assert main(args + ["--format", "text"]) == 0
    assert "nngp.leading_constant" in capsys.readouterr().out
    assert main(args + ["--format", "latex"]) == 0
    assert r"\begin{enumerate}" in capsys.readouterr().out
    assert main(["derive", "--order", "0"]) == 2
