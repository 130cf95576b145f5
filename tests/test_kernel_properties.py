"""Property tests (hypothesis): structure every normalized kernel matrix must have."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from verify import kernel_matrix, kernel_sweep

coords = st.integers(min_value=-1000, max_value=1000)
point = st.lists(coords, min_size=3, max_size=3).filter(lambda p: any(p))
points = st.lists(point, min_size=2, max_size=4)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(points, st.integers(min_value=1, max_value=60), st.sampled_from(["ntk", "nngp"]))
def test_diagonal_one_symmetric_and_bounded(pts, depth, kernel) -> None:
    res = kernel_matrix([[str(c) for c in p] for p in pts], depth, kernel=kernel, digits=15)
    n = len(pts)
    for i in range(n):
        diag = res.entries[i][i]
        assert diag.mid_fraction == 1 and diag.rad_fraction == 0
        for j in range(n):
            a, b = res.entries[i][j], res.entries[j][i]
            assert a == b
            assert a.mid_fraction - a.rad_fraction <= 1 and a.mid_fraction + a.rad_fraction >= -1
            assert a.correct_digits() >= 15


@SETTINGS
@given(point, point, st.integers(min_value=2, max_value=80))
def test_rho_increases_with_depth(x, y, top) -> None:
    sweep = kernel_sweep([[str(c) for c in x], [str(c) for c in y]], range(1, top + 1),
                         kernel="nngp", digits=20)
    balls = [r.entries[0][1] for r in sweep]
    for lo, hi in zip(balls, balls[1:], strict=False):
        # the next rho is certainly not below the previous one
        assert hi.mid_fraction + hi.rad_fraction >= lo.mid_fraction - lo.rad_fraction
        # and, unless the pair is already at the fixed point 1, strictly above it
        if lo.mid_fraction + lo.rad_fraction < 1:
            assert hi.mid_fraction > lo.mid_fraction


@SETTINGS
@given(points, st.integers(min_value=1, max_value=30))
def test_float64_route_agrees_at_moderate_depth(pts, depth) -> None:
    """Away from rho = +-1 (where arccos amplifies float64 rounding) float64 is fine."""
    x = np.array(pts, dtype=float)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cos = x @ x.T
    assume(np.all(np.abs(cos[np.triu_indices(len(pts), 1)]) < 0.99))
    rows = [[str(c) for c in p] for p in pts]
    cert = kernel_matrix(rows, depth, kernel="ntk", digits=20).mid_array()
    f64 = kernel_matrix(rows, depth, kernel="ntk", route="float64").mid_array()
    assert np.max(np.abs(cert - f64)) < 1e-12


def test_exact_duplicates_and_antipodes() -> None:
    res = kernel_matrix([["1", "2", "2"], ["2", "4", "4"], ["-1", "-2", "-2"]], 5, kernel="nngp",
                        digits=20)
    assert res.entries[0][1].mid_fraction == 1 and res.entries[0][1].rad_fraction == 0
    # rho^(1) = -1 -> rho^(2) = h(-1) = 0 exactly, then h(0) = 1/pi, ...
    two = kernel_matrix([["1", "0"], ["-1", "0"]], 2, kernel="nngp", digits=20)
    assert two.entries[0][1].contains(Fraction(0))
