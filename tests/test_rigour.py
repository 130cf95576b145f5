"""Fault-injection tests for the facts the certified code relies on (docs/rigour.md).

Each test breaks one fact on purpose (a coefficient ball straddling 0, a wrong q_k,
a decreasing truncation, a mantissa wider than the precision, a bug inside a
compute function, a high-digit request) and checks that the code still encloses
the truth, refuses, or fails at once with the right error.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from conftest import DATA
from flint import acb, arb, ctx

from verify.cli import main
from verify.core.balls import Ball
from verify.core.errors import PrecisionNotReached, PrecisionTooLow
from verify.core.precision import run_to_digits
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic import bounds
from verify.kernel.asymptotic import route as asymptotic_route
from verify.kernel.asymptotic.abel import arb_abel, eval_a
from verify.kernel.asymptotic.bounds import (
    BoundNotProven,
    _q_acb,
    check_map_increasing,
    check_truncation_increasing,
    checked_q_coeffs,
    q_coefficient,
    remainder_bounds,
)
from verify.kernel.asymptotic.coefficients import q_coeffs
from verify.kernel.asymptotic.route import (
    CIRCLE_BOXES,
    CIRCLE_RADIUS,
    MAX_SERIES_DIGITS,
    _bracket_w,
    _newton_mid,
    asymptotic_pair_sweep,
    series_order,
    switch_point,
)
from verify.kernel.asymptotic.series import ser_log, ser_mul, ser_pow
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

SCHED = LayerSchedule(Fraction(1), Fraction(0), 3)
X = sp.Symbol("x")


# ---- 1. a coefficient ball straddling 0 keeps its radius ------------------------------------

def _sympy_coefficients(expr: sp.Expr, n: int) -> list[sp.Rational]:
    poly = sp.series(expr, X, 0, n).removeO()
    return [sp.nsimplify(poly.coeff(X, k)) for k in range(n)]


def _contains(ball: arb, value: sp.Rational) -> bool:
    value = sp.Rational(value)
    exact = arb(int(value.p)) / int(value.q)
    return bool(ball.contains(exact))


@pytest.mark.parametrize("truth", [Fraction(-1, 2**12), Fraction(0), Fraction(1, 2**12)])
def test_straddling_coefficient_keeps_its_radius(truth: Fraction) -> None:
    """f = 1 + t x + x^2 with t known only as [0 +/- 2^-10]: every output encloses the series of the true f."""
    t = sp.Rational(truth.numerator, truth.denominator)
    n = 6
    with ctx.workprec(200):
        straddle = arb(0, 2.0**-10)
        assert not bool(straddle != 0) and not bool(straddle == 0)    # the case the old `!= 0` test dropped
        f = [arb(1), straddle, arb(1)]
        product = ser_mul([arb(1), arb(1)], f, n)                 # (1 + x) f
        log = ser_log(f, n)
        power = ser_pow(f, -1, 2, n)                              # f^(-1/2)
    f_true = 1 + t * X + X**2
    for balls, expr in ((product, (1 + X) * f_true), (log, sp.log(f_true)), (power, f_true ** sp.Rational(-1, 2))):
        for ball, exact in zip(balls, _sympy_coefficients(expr, n), strict=True):
            assert _contains(ball, exact), (expr, ball, exact)


def test_exact_zero_coefficients_are_still_skipped() -> None:
    """Skipping an exact zero changes nothing: exact arithmetic agrees with sympy."""
    f = [Fraction(1), Fraction(0), Fraction(1)]
    assert ser_log(f, 5) == [Fraction(c) for c in _sympy_coefficients(sp.log(1 + X**2), 5)]


# ---- 2. |q_k| <= 2^(1-k) for every k -------------------------------------------------------

def test_q_closed_form_matches_the_series() -> None:
    """The hand-derived closed form (docs/rigour.md section 2) against the series code, k < 400."""
    assert list(q_coeffs(400)) == [q_coefficient(k) for k in range(400)]


def test_q_tail_bound_holds_with_room() -> None:
    for k in range(3000):
        qk = q_coefficient(k)
        assert 0 < qk * (2 * k + 1) * (2 * k + 3) <= Fraction(2) ** (1 - k)


def test_wrong_q_coefficient_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    good = q_coeffs(bounds.Q_TERMS)
    bad = list(good)
    bad[30] = bad[30] * 2
    checked_q_coeffs.cache_clear()
    monkeypatch.setattr(bounds, "q_coeffs", lambda n: bad[:n])
    try:
        with pytest.raises(AssertionError, match="q_30"):
            checked_q_coeffs(bounds.Q_TERMS)
    finally:
        checked_q_coeffs.cache_clear()


@pytest.mark.parametrize("x", [0.49, complex(0.35, 0.35), complex(-0.3, 0.4), 1.9, complex(1.2, 1.2),
                               complex(-1.3, 1.3)])
def test_q_enclosure_contains_closed_form_value(x: complex) -> None:
    """_q_acb (48 terms + tail) against mpmath's evaluation of the definition of q, up to |x| = 1.9.

    The bounds use |x| = |s|^2 <= 0.49, where the tail is below 1e-28.
    """
    z = complex(x)
    with mpmath.workdps(60):
        zz = mpmath.mpc(z.real, z.imag)
        ref = (mpmath.sqrt(1 - zz / 2) - (1 - zz) * mpmath.acos(1 - zz) / mpmath.sqrt(2 * zz)) / zz
    slack = arb(0, 1e-50)                                          # the reference's own accuracy
    with ctx.workprec(200):
        val = _q_acb(acb(z.real, z.imag))
        assert (val.real + slack).contains(arb(mpmath.nstr(ref.real, 55)))
        assert (val.imag + slack).contains(arb(mpmath.nstr(ref.imag, 55)))
        if abs(z) <= 0.5:
            assert val.real.rad() < 1e-28 and val.imag.rad() < 1e-28


# ---- 3. the exact Abel function is nondecreasing --------------------------------------------

def test_truncation_that_decreases_is_refused() -> None:
    co = arb_abel(24, 256)
    with ctx.workprec(256):
        check_truncation_increasing(co, 0.1)                       # the true coefficients pass
        broken = dataclasses.replace(co, c=(arb(10) ** 6,) + co.c[1:])   # A_N' < 0 near s = 0.1
        with pytest.raises(BoundNotProven):
            check_truncation_increasing(broken, 0.1)


def test_map_that_is_not_increasing_is_refused() -> None:
    with ctx.workprec(64):
        check_map_increasing(arb(0.1), arb(50), 0.1)               # s0^2 lip = 0.5
        with pytest.raises(BoundNotProven):
            check_map_increasing(arb(0.1), arb(100), 0.1)          # G' may vanish
        with pytest.raises(BoundNotProven):
            check_map_increasing(arb(-0.01), arb(1), 0.1)          # G(w) - w may vanish


def test_remainder_bounds_check_the_lemma(monkeypatch: pytest.MonkeyPatch) -> None:
    """remainder_bounds itself refuses coefficients whose truncation decreases."""
    order, s0 = series_order(30), switch_point(30)
    true = arb_abel(order, bounds.bounds_precision(order))
    broken = dataclasses.replace(true, c=(arb(10) ** 9,) + true.c[1:])
    remainder_bounds.cache_clear()
    monkeypatch.setattr(bounds, "arb_abel", lambda order, prec, family=None: broken)
    try:
        with pytest.raises(BoundNotProven, match="monotonicity"):
            remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
    finally:
        remainder_bounds.cache_clear()


def test_abel_inverse_at_the_floor_contains_the_switch_point() -> None:
    """Target A(w_n) itself: the bracket's lower end is the floor, and the enclosure contains w_n."""
    order, s0 = series_order(30), switch_point(30)
    rb = remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
    e_n = certified_pair_sweep(PairCorrelation(1, Fraction(1, 4)), [400], "nngp", 300, SCHED)[0][0]
    with ctx.workprec(300):
        co = arb_abel(order, 300)
        w_n = 1 / e_n.to_arb().sqrt()
        assert w_n > 1 / arb(s0)
        err = rb.abel_error(w_n)
        target = eval_a(co, w_n) + arb(0, err.upper())
        w = _bracket_w(co, _newton_mid(co, target, 300)[0], target, err, w_n, 300)
        assert w.contains(w_n) and w.lower() <= w_n.lower()


# ---- 4. Ball.mid_mpf is exact ----------------------------------------------------------------

def _mpf_fraction(x: mpmath.mpf) -> Fraction:
    sign, man, exp, _ = x._mpf_
    return (-1 if sign else 1) * Fraction(int(man)) * Fraction(2) ** int(exp)


def test_mid_mpf_keeps_a_mantissa_wider_than_the_precision() -> None:
    ball = Ball(-(2**200 + 1), -200, 2**70 + 1, -300)
    with mpmath.workprec(53):
        mid = ball.mid_mpf()
        assert _mpf_fraction(mid) == ball.mid_fraction == -1 - Fraction(1, 2**200)
        assert ball.rad_fraction == Fraction(2**70 + 1, 2**300)
        assert mid + 1 == -mpmath.mpf(2) ** -200                  # the low bit survives arithmetic
    assert Ball.exact(0).mid_mpf() == 0


# ---- 5. only PrecisionTooLow is retried -----------------------------------------------------

def test_genuine_bug_propagates_at_once() -> None:
    for bug in (ZeroDivisionError("bug"), ArithmeticError("bug")):
        calls: list[int] = []

        def compute(bits: int, bug: Exception = bug, calls: list[int] = calls) -> int:
            calls.append(bits)
            raise bug

        with pytest.raises(type(bug)):
            run_to_digits(compute, lambda r: True, start_bits=64)
        assert calls == [64]


def test_precision_too_low_is_retried() -> None:
    calls = []

    def compute(bits: int) -> int:
        calls.append(bits)
        if bits < 512:
            raise PrecisionTooLow("not enough")
        return bits

    assert run_to_digits(compute, lambda r: True, start_bits=64) == (512, 512)
    assert calls == [64, 128, 256, 512]
    with pytest.raises(PrecisionNotReached):
        run_to_digits(lambda b: (_ for _ in ()).throw(PrecisionTooLow("never")), lambda r: True,
                      start_bits=64, max_bits=1024, digits=5)


def test_bug_in_the_asymptotic_route_propagates_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def broken_eval_b(co: object, w: arb) -> arb:
        calls.append(1)
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(asymptotic_route, "eval_b", broken_eval_b)
    with pytest.raises(ZeroDivisionError, match="injected"):
        asymptotic_pair_sweep(PairCorrelation(1, Fraction(1, 4)), [10**6], "ntk", 20, SCHED)
    assert len(calls) == 1


def test_bug_in_the_direct_route_propagates_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from verify import kernel_matrix
    from verify.kernel import routes as kernels

    calls = []

    def broken_sweep(*args: object) -> list:
        calls.append(1)
        raise ZeroDivisionError("injected")

    monkeypatch.setattr(kernels, "certified_pair_sweep", broken_sweep)
    with pytest.raises(ZeroDivisionError, match="injected"):
        kernel_matrix([["1", "0"], ["0", "1"]], 10, kernel="nngp", digits=20, route="certified-direct")
    assert len(calls) == 1


def test_non_finite_ball_asks_for_precision() -> None:
    with pytest.raises(PrecisionTooLow):
        Ball.from_arb(arb(1) / arb(0, 1))


def test_precision_not_reached_pickles() -> None:
    err = pickle.loads(pickle.dumps(PrecisionNotReached(40, 1024, "ntk entry", "a reason")))
    assert isinstance(err, PrecisionNotReached) and str(err) == "could not certify 40 digits of the ntk entry: a reason"


# ---- 6. 400 digits at depth 10^6 ------------------------------------------------------------

def _pair(rho: str) -> PairCorrelation:
    r = Fraction(rho)
    return PairCorrelation(1 if r >= 0 else -1, r * r)


@pytest.mark.parametrize("rho", ["-0.99", "0.9"])
def test_400_digits_at_depth_1e6_contain_the_committed_reference(rho: str) -> None:
    """Plain mpmath at 60 digits (tests/data/deep_reference.json) inside the 400-digit balls.

    The reference carries its own rounding error: the NNGP values are good to ~1e-55,
    the NTK values (a sum over 10^6 layers) only to ~1e-46, so those are the slacks.
    """
    ref = json.loads((DATA / "deep_reference.json").read_text())["values"][rho][str(10**6)]
    (e, f), = asymptotic_pair_sweep(_pair(rho), [10**6], "ntk", 400, SCHED)[0]
    assert f is not None and e.relative_digits() >= 400 and f.relative_digits() >= 400
    for gap, kernel, slack in ((e, "nngp", Fraction(1, 10**54)), (f, "ntk", Fraction(1, 10**45))):
        value = 1 - Fraction(ref[kernel])
        assert abs(value - gap.mid_fraction) <= gap.rad_fraction + slack, kernel


def test_400_digits_asymptotic_agrees_with_direct_iteration() -> None:
    """Two independent certified methods at depth 10^5 (series from layer ~1850 vs 10^5 direct layers)."""
    pair = _pair("0.3")
    (e, f), = asymptotic_pair_sweep(pair, [10**5], "ntk", 400, SCHED)[0]
    (e_d, f_d), = certified_pair_sweep(pair, [10**5], "ntk", 1450, SCHED)
    assert f is not None and f_d is not None
    with ctx.workprec(1600):
        for fast, direct in ((e, e_d), (f, f_d)):
            assert fast.relative_digits() >= 400 and direct.relative_digits() >= 395
            assert fast.to_arb().overlaps(direct.to_arb())


def test_cli_largest_digits_at_depth_1e6_exits_3_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["kernel", "--data", "builtin:sphere-10", "--depth", "1e6", "--digits", "2000", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 3 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("ntk-verify: error:") and f"at most {MAX_SERIES_DIGITS} digits" in last
