"""The faster evaluations of issue 11 keep every enclosure (docs/rigour.md, section 7).

References: the full polynomials evaluated at a higher precision (for the truncated
ones), the per-pair truncation bounds (for the floor bounds), certified direct iteration (for the series route at
depths just above the threshold, where the truncation keeps the most terms), and the
pair computed alone (for the batched sweep).
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from flint import arb, ctx

from verify import kernels_sweep
from verify.core import parallel
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic import route
from verify.kernel.asymptotic.bounds import remainder_bounds
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

SCHED = LayerSchedule(Fraction(1), Fraction(0), n0=3)


@pytest.mark.parametrize("name", ["c_poly", "c_prime_poly", "e_poly"])
@pytest.mark.parametrize("s_text", ["0.24", "0.03", "7e-4", "1e-12", "1e-40"])
def test_truncated_polynomial_contains_the_full_one(name: str, s_text: str) -> None:
    order = route.series_order(30)
    co = route.series_coefficients(order, 128)
    with ctx.workprec(400):                              # the reference: every term, at 400 bits
        s_exact = arb(s_text)
        full = getattr(co, name)(s_exact)
    with ctx.workprec(128):
        s = arb(s_text)                                  # a ball around the decimal at 128 bits
        fast = co.evaluate(name, s)
        assert fast.contains(full), (name, s_text, fast, full)
        assert fast.rad() <= abs(full) * arb(2) ** -110 + arb(2) ** -120


def test_floor_bounds_cover_the_bounds_at_the_switch_layer() -> None:
    order, s0 = route.series_order(30), route.switch_point(30)
    rb = remainder_bounds(order, s0, route.CIRCLE_RADIUS, route.CIRCLE_BOXES)
    fb = route.floor_bounds(rb)
    with ctx.workprec(128):
        for w in (1 / arb(s0), 1 / arb(s0) + arb(1) / 3, arb(12)):
            assert rb.abel_error(w) <= fb.err_a
            assert fb.d_err.contains(arb(0, rb.abel_derivative_error(w).upper()))
            assert fb.sum_err.contains(arb(0, (rb.b_sum_error(w) + rb.phi_sum_error(w)).upper()))


@pytest.mark.parametrize(("sign", "t", "kernel"), [(1, Fraction(1, 7), "ntk"), (-1, Fraction(9, 16), "ntk"),
                                                   (1, Fraction(1, 2), "nngp")])
def test_series_just_above_the_threshold_contains_direct_iteration(sign: int, t: Fraction, kernel: str) -> None:
    """Depth 1100: w_L is small (s ~ 0.006), so the truncated evaluations keep the most terms."""
    pair = PairCorrelation(sign, t)
    series, _, _ = route.asymptotic_pair_sweep(pair, [1100], kernel, 30, SCHED)
    direct = certified_pair_sweep(pair, [1100], kernel, 200, SCHED)
    for fast, slow in zip(series[0], direct[0], strict=True):
        if fast is None:
            continue
        assert fast.relative_digits() >= 30
        assert fast.contains(slow.mid_fraction), (fast, slow)


def test_pool_sweep_equals_each_pair_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [["1", "0", "0"], ["0.6", "0.8", "0"], ["-0.8", "0", "0.6"], ["0.48", "0.6", "0.64"],
              ["0", "0", "-1"]]
    monkeypatch.setattr(parallel, "POOL_MIN_WORK", 0)
    monkeypatch.setattr(parallel, "BATCHES_PER_WORKER", 2)
    depths = [50, 10**4]
    batched = kernels_sweep(points, depths, digits=30)
    monkeypatch.setattr(parallel, "POOL_MIN_WORK", 10**12)
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            alone = kernels_sweep([points[i], points[j]], depths, digits=30)
            for name in ("nngp", "ntk"):
                for big, small in zip(batched[name], alone[name], strict=True):
                    assert big.entries[i][j] == small.entries[0][1]
                    assert big.gaps[i][j] == small.gaps[0][1]


@pytest.mark.parametrize("cosine", ["-0.3", "-0.9", "-0.999999", "-0.99999999999999999999", "-1", "0.2"])
def test_fast_loop_contains_the_reference_for_negative_cosines(cosine: str) -> None:
    """First-layer gaps in (1, 2] (negative cosines) take the fast loop from layer 1 (up to
    2 - 2^-20; closer to 2, and at exactly 2, the general step); every ball contains MATH.md's
    recursion run in plain mpmath at 60 digits (tests/reference.py)."""
    from reference import reference_normalized

    t = Fraction(cosine) ** 2
    pair = PairCorrelation(-1 if cosine.startswith("-") else 1, t)
    depths = [1, 2, 3, 10, 40]
    out = certified_pair_sweep(pair, depths, "ntk", 128, SCHED)
    ref = reference_normalized(cosine, depths, 60)
    for d, (e, f) in zip(depths, out, strict=True):
        assert f is not None
        with mpmath.workdps(60):
            gap_rho, gap_theta = (1 - x for x in ref[d])
        assert e.contains(gap_rho), (cosine, d, e, gap_rho)
        assert f.contains(gap_theta), (cosine, d, f, gap_theta)
        assert e.relative_digits() >= 25 and f.relative_digits() >= 25
