"""ReLU networks without a bias: the normalized kernels do not depend on sigma_w^2 (proof in
:mod:`verify.kernel.layer_schedule`), so every sigma_w^2 runs the default model's certified engine,
asymptotic series included, at any depth; only the raw diagonals scale.

References from another route: the model recursion of :mod:`verify.kernel.model_recursion`
(generic dual kernels, q and t tracked with sigma_w^2 itself, certified direct iteration) and the
closed form q_L = (sigma_w^2 / n0) (sigma_w^2 / 2)^(L-1), t_L = L q_L checked there in exact
rationals.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from verify import kernels_sweep
from verify.core.model import Model
from verify.core.params import Parameterization
from verify.data.pairs import PairCorrelation
from verify.kernel.layer_schedule import raw_diagonals
from verify.kernel.model_recursion import certified_model_sweep

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["-0.6", "0", "0.8"]]
PAIRS = {(0, 1): PairCorrelation(1, Fraction(9, 25)), (0, 2): PairCorrelation(-1, Fraction(9, 25))}


@pytest.mark.parametrize("sigma_w2", ["2", "0.5", "3"])
def test_any_sigma_w2_without_bias_matches_the_model_recursion(sigma_w2: str) -> None:
    param = Parameterization(sigma_w2, "0")
    depths = [1, 7, 1500]
    res = kernels_sweep(POINTS, depths, digits=25, param=param, route="certified", progress=False)
    ref = certified_model_sweep(Model.parse(activation="relu", sigma_w2=sigma_w2, sigma_b2="0"),
                                list(PAIRS.values()), depths, 3, 25, box=False)
    for name in ("nngp", "ntk"):
        for res_d, d in zip(res[name], depths, strict=True):
            got = ref.at(d)
            for u, (i, j) in enumerate(PAIRS):
                assert res_d.entries[i][j].to_arb().overlaps(getattr(got, name)[u].to_arb()), (name, d, i, j)
            diag = getattr(got, f"{name}_diag").mid_mpf()          # certified, relative digits
            assert abs(diag / res_d.raw_factor - 1) < 1e-20, (name, d)


def test_deep_bias_free_networks_use_the_series_at_any_depth() -> None:
    """sigma_w^2 = 2 (He initialisation): the same balls as sigma_w^2 = 1 at depth 10^15, raw diagonal t_L = L q_L."""
    deep = kernels_sweep(POINTS, [10**15], digits=30, param=Parameterization("2", "0"), progress=False)
    unit = kernels_sweep(POINTS, [10**15], digits=30, progress=False)
    for name in ("nngp", "ntk"):
        assert deep[name][0].method == "asymptotic series"
        assert deep[name][0].entries == unit[name][0].entries and deep[name][0].gaps == unit[name][0].gaps
    q, t = raw_diagonals(Fraction(2), Fraction(0), 3, 10**15)
    assert (float(q), float(t)) == (2 / 3, 2 / 3 * 10**15)


def test_closed_form_diagonals_equal_the_recursion() -> None:
    for w in (Fraction(2), Fraction(1, 2), Fraction(3)):
        q, t = w / 3, w / 3                       # layer 1 of a point on the sphere, n0 = 3
        for depth in range(2, 30):
            q, t = w * q / 2, w * q / 2 + w * t / 2
            got_q, got_t = raw_diagonals(w, Fraction(0), 3, depth)
            assert abs(got_q / float(q) - 1) < 1e-13 and abs(got_t / float(t) - 1) < 1e-13
