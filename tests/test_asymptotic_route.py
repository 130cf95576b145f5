"""The asymptotic route (Abel series + proven bounds) against certified direct iteration."""

from __future__ import annotations

import os
import time
from fractions import Fraction

import pytest
from flint import acb, arb, ctx

from verify.core.balls import Ball
from verify.core.errors import InputError
from verify.data.pairs import PairCorrelation
from verify.data.sources import load_dataset
from verify.kernel.asymptotic.abel import arb_abel
from verify.kernel.asymptotic.bounds import _defects, bounds_precision, circle_bounds, remainder_bounds
from verify.kernel.asymptotic.route import (
    CIRCLE_BOXES,
    CIRCLE_RADIUS,
    GUARANTEE,
    asymptotic_gap_matrices,
    asymptotic_pair_sweep,
    series_order,
    switch_point,
)
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

SCHED = LayerSchedule(Fraction(1), Fraction(0), 3)
HALF = PairCorrelation(1, Fraction(1, 4))            # rho^(1) = 1/2
ANTIPODAL = PairCorrelation(-1, Fraction(1))         # rho^(1) = -1


def agreement(a: Ball, b: Ball) -> float:
    """Relative agreement digits of two balls' midpoints; asserts that they overlap."""
    with ctx.workprec(400):
        x, y = a.to_arb(), b.to_arb()
        assert x.overlaps(y)
        diff = abs(x.mid() / y.mid() - 1)
        return 120.0 if diff == 0 else -float(diff.log().mid()) / 2.302585092994046


def check_against_direct(pair: PairCorrelation, depths: list[int], digits: int = 30) -> None:
    fast, bits, how = asymptotic_pair_sweep(pair, depths, "ntk", digits, SCHED)
    assert how == GUARANTEE and bits < 400
    ref = certified_pair_sweep(pair, depths, "ntk", 256, SCHED)
    for (e, f), (e_ref, f_ref) in zip(fast, ref, strict=True):
        assert e.relative_digits() >= digits and f.relative_digits() >= digits
        assert agreement(e, e_ref) >= 25 and agreement(f, f_ref) >= 25


def test_agrees_with_direct_iteration_at_1e6() -> None:
    check_against_direct(HALF, [10**3, 10**6])


def test_agrees_with_direct_iteration_antipodal_pair() -> None:
    check_against_direct(ANTIPODAL, [10**2, 10**5])


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("VERIFY_RUN_1E7") != "1",
                    reason="45 s of direct iteration; set VERIFY_RUN_1E7=1")
def test_agrees_with_direct_iteration_at_1e7() -> None:
    check_against_direct(HALF, [10**7])


def test_small_depths_come_from_direct_iteration() -> None:
    fast, _, _ = asymptotic_pair_sweep(HALF, [1, 2, 50], "nngp", 20, SCHED)
    ref = certified_pair_sweep(HALF, [1, 2, 50], "nngp", 120, SCHED)
    for (e, f), (e_ref, _) in zip(fast, ref, strict=True):
        assert f is None and agreement(e, e_ref) >= 20


def test_builtin_ten_points_at_depth_1e15_both_kernels() -> None:
    """The built-in 10-point set at L = 1e15: certified, >= 25 digits, < 10 s for both kernels."""
    data = load_dataset("builtin:sphere-10")
    start = time.perf_counter()
    mats = {k: asymptotic_gap_matrices(data, [10**15], k, 30) for k in ("ntk", "nngp")}
    assert time.perf_counter() - start < 10
    for kernel, (per_depth, bits, how) in mats.items():
        gaps = per_depth[0]
        assert how == GUARANTEE and bits > 0
        off = [gaps[i][j] for i in range(data.n) for j in range(data.n) if i != j]
        assert all(g.relative_digits() >= 25 for g in off)
        assert all(gaps[i][i].rad_man == 0 and gaps[i][i].man == 0 for i in range(data.n))
        if kernel == "ntk":       # ThetaBar -> 1/4: gaps near 3/4
            assert all(abs(float(g) - 0.75) < 1e-13 for g in off)
        else:                     # 1 - rho ~ 9 pi^2/(2 L^2) = 4.44e-29
            assert all(abs(float(g) / 4.4413e-29 - 1) < 1e-4 for g in off)
    # validated as well: a second run at 40 digits (other order, switch point, precision)
    again, _, _ = asymptotic_gap_matrices(data, [10**15], "nngp", 40)
    assert agreement(again[0][0][1], mats["nngp"][0][0][0][1]) >= 29


def test_work_does_not_grow_with_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost of a pair is independent of L: the same direct layers and about the same series evaluations.

    Counted, not timed (timings depend on the machine): the switch layer n and the calls of
    the series' evaluations A_N, A_N' and B_N at depths 1e5, 1e15 and 1e40.
    """
    from verify.kernel.asymptotic import route

    calls: dict[str, int] = {}
    for name in ("eval_a", "eval_a_prime", "eval_b", "_switch_layer"):
        real = getattr(route, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            out = _real(*args, **kwargs)
            if _name == "_switch_layer":
                calls["n"] = out[0]
            return out

        monkeypatch.setattr(route, name, counted)
    work = {}
    for depth in (10**5, 10**15, 10**40):
        calls.clear()
        out, _, _ = asymptotic_pair_sweep(HALF, [depth], "ntk", 30, SCHED)
        assert out[0][0].relative_digits() >= 30
        work[depth] = dict(calls)
    assert work[10**5]["n"] == work[10**15]["n"] == work[10**40]["n"] < 100
    for depth in (10**15, 10**40):
        for name in ("eval_a", "eval_a_prime", "eval_b"):
            assert work[depth][name] <= work[10**5][name] + 4, (depth, name, work)


def test_non_default_model_refused() -> None:
    with pytest.raises(InputError):
        asymptotic_pair_sweep(HALF, [10**6], "ntk", 20, LayerSchedule(Fraction(2), Fraction(1, 10), 3))


def test_remainder_bounds_hold_on_the_real_axis() -> None:
    """The proven bound |delta_A(s)| <= M (s/r)^(N+2) dominates the actual defect."""
    order = series_order(30)
    s0 = switch_point(30)
    rb = remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
    assert rb.circle.analytic and rb.alpha_min > 0.14 and rb.d_max < 1.15      # s0 = 0.27: d_max = 1.108
    # at s0 / 10 the bounds are ~1e-100 (order 60): 640 bits resolve the defects below them
    with ctx.workprec(640):
        co = arb_abel(order, 640)
        for s in (s0, s0 / 3, s0 / 10):
            d_a, d_b, h_val, _, _ = _defects(co, acb(arb(s)))
            bound_a = arb(rb.circle.m_a) * (arb(s) / CIRCLE_RADIUS) ** (order + 2)
            bound_b = arb(rb.circle.m_b) * (arb(s) / CIRCLE_RADIUS) ** order
            assert abs(d_a).upper() <= bound_a and abs(d_b).upper() <= bound_b
            assert h_val.real > rb.alpha_min


def test_bounds_precision_keeps_the_circle_maxima_tight() -> None:
    """At order 104 (200 digits) 128 bits inflate max|delta_A| ~1e30-fold; bounds_precision does not."""
    order = series_order(200)
    bits = bounds_precision(order)
    tight = circle_bounds(order, CIRCLE_RADIUS, 64, bits)
    finer = circle_bounds(order, CIRCLE_RADIUS, 64, 2 * bits)
    coarse = circle_bounds(order, CIRCLE_RADIUS, 64, 128)
    assert tight.m_a <= finer.m_a * arb(1.01) and tight.m_b <= finer.m_b * arb(1.01)
    assert coarse.m_a > finer.m_a * arb(10) ** 6
