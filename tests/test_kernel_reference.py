"""The certified kernels against an independent plain-mpmath route (tests/reference.py).

SciPy-harness style: a grid of first-layer correlations (including -1, 0 and values
within 1e-30 of 1) and depths, asserting that every reference value lies inside the
returned ball and that the ball is as narrow as promised.
"""

from __future__ import annotations

import functools
import json
from fractions import Fraction

import mpmath
import pytest
from conftest import DATA
from reference import reference_normalized

from verify import kernel_matrix, kernel_sweep, kernels_sweep
from verify.core.balls import Ball

RHOS = ["-1", "-0.99", "-0.5", "0", "0.3", "0.9", "0.999999", "0.999999999999999999999999999999"]


def _pair_points(rho: str) -> list[list[str]]:
    """Two unit vectors in R^3 with cosine exactly rho (as decimal strings at 80 digits)."""
    with mpmath.workdps(90):
        r = mpmath.mpf(rho)
        return [["1", "0", "0"], [mpmath.nstr(r, 85), mpmath.nstr(mpmath.sqrt(1 - r * r), 85), "0"]]


def _assert_encloses(ball: Ball, ref: mpmath.mpf, ref_error: float, digits: int) -> None:
    diff = abs(Fraction(mpmath.nstr(ref, 80, strip_zeros=False)) - ball.mid_fraction)
    assert diff <= ball.rad_fraction + Fraction(ref_error), (ball.to_json(digits), ref)
    assert ball.correct_digits() >= digits


@pytest.mark.parametrize("kernel", ["nngp", "ntk"])
def test_grid_of_correlations_and_depths(kernel: str) -> None:
    digits = 30
    depths = [1, 2, 3, 7, 50, 400]
    for rho in RHOS:
        results = kernel_sweep(_pair_points(rho), depths, kernel=kernel, digits=digits)
        # the plain recursion loses ~25 digits near rho = 1
        ref = reference_normalized(rho, depths, dps=2 * digits + 40)
        for res in results:
            ref_value = ref[res.depth][0 if kernel == "nngp" else 1]
            _assert_encloses(res.entries[0][1], ref_value, 1e-50, digits)


ROUTES = ["certified-direct", "certified-asymptotic"]
KERNELS = ("nngp", "ntk")                    # the order of reference_normalized's pair


@functools.cache
def _reference_at_1e5(digits: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(SigmaBar, ThetaBar) at depth 10^5 from rho^(1) = 0.3 by the plain recursion (10^5 mpmath layers)."""
    return reference_normalized("0.3", [10**5], dps=2 * digits)[10**5]


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES)
def test_depth_1e5_against_mpmath_at_twice_the_digits(route: str) -> None:
    """Both kernels from one sweep (as ``--kernel both`` runs them), each against the reference."""
    digits = 30
    both = kernels_sweep(_pair_points("0.3"), [10**5], digits=digits, route=route)
    for index, kernel in enumerate(KERNELS):
        _assert_encloses(both[kernel][0].entries[0][1], _reference_at_1e5(digits)[index], 1e-45, digits)


@pytest.mark.slow
@pytest.mark.parametrize("route", ROUTES)
def test_depth_1e6_encloses_committed_reference(route: str) -> None:
    """Depth 10^6, 30 digits, rho^(1) in {-0.99, 0, 0.9}, both kernels: radius <= 1e-30, reference inside."""
    refs = json.loads((DATA / "deep_reference.json").read_text())
    for rho, by_depth in refs["values"].items():
        both = kernels_sweep(_pair_points(rho), [10**6], digits=30, route=route)
        for kernel in KERNELS:
            res = both[kernel][0]
            assert res.method == ("direct iteration" if route == "certified-direct" else "asymptotic series")
            ball = res.entries[0][1]
            assert ball.rad_fraction <= Fraction(1, 10**30)
            with mpmath.workdps(80):
                _assert_encloses(ball, mpmath.mpf(by_depth[str(10**6)][kernel]), 1e-50, 30)


def test_high_precision_cosine_is_not_rounded_through_float64() -> None:
    """0.999999999999999999999999999999 and 1 - 1e-16 differ only beyond float64."""
    a = kernel_matrix(_pair_points(RHOS[-1]), 100, kernel="nngp", digits=30)
    b = kernel_matrix(_pair_points("0.9999999999999999"), 100, kernel="nngp", digits=30)
    assert not a.entries[0][1].contains(b.entries[0][1].mid_fraction)


@pytest.mark.parametrize("kernel", ["nngp", "ntk"])
def test_gap_within_1e_200_of_one(kernel: str) -> None:
    """rho^(1) = 1 - 1e-200: the cancellation in g costs ~330 bits, which the precision loop must find."""
    with mpmath.workdps(460):
        r = 1 - mpmath.mpf("1e-200")
        pts = [["1", "0"], [mpmath.nstr(r, 440), mpmath.nstr(mpmath.sqrt(1 - r * r), 440)]]
        rho = mpmath.nstr(r, 440)
    res = kernel_matrix(pts, 300, kernel=kernel, digits=30, route="certified-direct", relative_gap=True)
    gap = res.gaps[0][1]
    assert gap.relative_digits() >= 30
    ref = reference_normalized(rho, [300], dps=700)[300][0 if kernel == "nngp" else 1]
    with mpmath.workdps(700):
        ref_gap = Fraction(mpmath.nstr(1 - ref, 300, strip_zeros=False))
    assert abs(ref_gap - gap.mid_fraction) <= gap.rad_fraction + abs(ref_gap) * Fraction(1, 10**200)


@pytest.mark.parametrize(("sigma_w2", "sigma_b2"), [("2", "0.1"), ("1.5", "0.5"), ("1", "0.05")])
@pytest.mark.parametrize("kernel", ["nngp", "ntk"])
def test_other_parameterizations_against_raw_recursion(kernel: str, sigma_w2: str, sigma_b2: str) -> None:
    """sigma_w^2 != 1 and sigma_b^2 > 0: certified normalized kernels contain the plain raw recursion's."""
    from reference import reference_general

    from verify import Parameterization

    x, y = ["0.3", "-0.4", "0.5"], ["-0.2", "0.9", "0.1"]
    depths = [1, 2, 3, 10, 40]
    param = Parameterization(sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    sweep = kernel_sweep([x, y], depths, kernel=kernel, digits=25, param=param)
    ref = reference_general(x, y, depths, sigma_w2, sigma_b2, dps=70)
    for res in sweep:
        assert res.parameterization == param
        _assert_encloses(res.entries[0][1], ref[res.depth][0 if kernel == "nngp" else 1], 1e-50, 25)
