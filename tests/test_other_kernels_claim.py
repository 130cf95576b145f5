"""other-kernels: the claim goes both ways, and its derived limits meet independent routes.

* The false variant (every normalized kernel tends to the matrix of ones) is refuted for both kernels,
  and so is "the rate is always algebraic"; the stated claim is confirmed for the NNGP and refuted for
  the NTK (the ReLU NTK tends to 1/4; its gap decays at sqrt(chi_1), not chi_1, with a bias).
* c* and chi_c of erf (sigma_w^2 = 2, sigma_b^2 = 0.1) by mpmath.findroot on a correlation map defined by
  quadrature (E[erf(m + s Z)] = erf(m / sqrt(1 + 2 s^2)) inside, mpmath.quad outside), not by the arcsin
  closed form the module uses.
* The NTK limit 4/7 (ReLU at the edge of chaos with a bias, a leading-order balance in the module) by a
  plain float64 iteration of the raw layer formulas (arc-cosine kernel) to 2^18 layers, extrapolated in L^-1/2.
* The kriging limit of the weights (ReLU with a bias, ordered): the certified NTK weights of
  verify.linalg.closed_form.solve against the kriging formula on the certified NNGP gaps (entrywise sqrt).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from proofs_checks import CheckContext, Verdict
from proofs_checks.other_kernels import CHECK, LimitPredictionClaim
from proofs_checks.other_kernels_laws import kriging_weights, model_laws
from verify.core.model import Model
from verify.data.dataset import Dataset
from verify.data.pairs import pair_correlation
from verify.data.sources import load_dataset
from verify.kernel.model_recursion import certified_model_sweep
from verify.linalg.closed_form import solve


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    return CheckContext(profile="quick", data_spec="builtin:sphere-4", digits=20)


@pytest.mark.parametrize("kernel", CHECK.kernels)
def test_false_variant_is_refuted(ctx: CheckContext, kernel: str) -> None:
    result = CHECK.evaluate(ctx, kernel, CHECK.false_claim)
    assert result.verdict is Verdict.REFUTED, result.certificate
    against = [f.name for f in result.findings if f.supports is False]
    assert any(name.startswith("erf (2, 0)") for name in against)          # c* = 0: not the matrix of ones


def test_always_algebraic_is_refuted(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "nngp", LimitPredictionClaim("criteria", "algebraic"))
    assert result.verdict is Verdict.REFUTED
    assert [f.name for f in result.findings if f.supports is False] == ["relu (1, 0.1): rate of the normalized NNGP"]


def test_stated_claim_verdicts(ctx: CheckContext) -> None:
    nngp = CHECK.evaluate(ctx, "nngp")
    assert nngp.verdict is Verdict.CONFIRMED, nngp.certificate
    ntk = CHECK.evaluate(ctx, "ntk")
    assert ntk.verdict is Verdict.REFUTED
    against = {f.name for f in ntk.findings if f.supports is False}
    assert against == {"relu (2, 0): limit of the normalized NTK", "relu (1, 0.1): rate of the normalized NTK"}
    assert ntk.source["id"] == "arxiv-2511.07272"


def _erf_pair_expectation(q: mpmath.mpf, c: mpmath.mpf, deriv: bool = False) -> mpmath.mpf:
    """E[f(u) f(v)], Var u = Var v = q, Cov = q c, f = erf (or erf' when ``deriv``), by quadrature.

    v = sqrt(q) (c z + sqrt(1 - c^2) w): the expectation over w is closed (E[erf(m + s W)] =
    erf(m/sqrt(1 + 2 s^2)); E[erf'(m + s W)] = (2/sqrt(pi)) exp(-m^2/(1 + 2 s^2))/sqrt(1 + 2 s^2)),
    the one over z is mpmath.quad against the Gaussian density.
    """
    a, s = mpmath.sqrt(q), mpmath.sqrt(q * (1 - c * c))
    k = 1 + 2 * s * s

    def inner(z: mpmath.mpf) -> mpmath.mpf:
        m = a * c * z
        if deriv:
            return 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-m * m / k) / mpmath.sqrt(k)
        return mpmath.erf(m / mpmath.sqrt(k))

    outer = (lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)) if deriv else mpmath.erf
    dens = 1 / mpmath.sqrt(2 * mpmath.pi)
    return mpmath.quad(lambda z: dens * mpmath.exp(-z * z / 2) * outer(a * z) * inner(z), [-mpmath.inf, 0, mpmath.inf])


def test_erf_fixed_point_and_rate_by_quadrature() -> None:
    laws = model_laws(Model.parse("erf", "2", "0.1"), 3)
    with mpmath.workdps(25):
        s2, b = mpmath.mpf(2), mpmath.mpf(1) / 10
        q = mpmath.findroot(lambda q: s2 * _erf_pair_expectation(q, mpmath.mpf(1) - mpmath.mpf(10) ** -30) + b - q, 1)
        c = mpmath.findroot(lambda c: (s2 * _erf_pair_expectation(q, c) + b) / q - c, 0.6)
        chi_c = s2 * _erf_pair_expectation(q, c, deriv=True)
        assert laws.nngp.limit == "constant" and laws.ntk.value is not None and laws.ntk.value.value == 0
        assert laws.nngp.value is not None and laws.nngp.rate is not None
        assert abs(c - laws.nngp.value.value) < mpmath.mpf(10) ** -15
        assert abs(chi_c - laws.nngp.rate.value) < mpmath.mpf(10) ** -15


def test_relu_edge_of_chaos_with_bias_ntk_tends_to_four_sevenths() -> None:
    """Raw float64 recursion (n0 = 3, cosine 0.3): Sigma' = 2 k1(Sigma) + 1/10, Theta' = 2 k0(Sigma) Theta + Sigma'
    with the arc-cosine kernels k1, k0; float64 holds up to about 2^18 layers (the gap is then ~1e-10)."""
    law = model_laws(Model.parse("relu", "2", "0.1"), 3).ntk
    assert law.value is not None and str(law.value.expr) == "4/7"
    sxx, sxy = 2 / 3 + 0.1, (2 / 3) * 0.3 + 0.1
    txx, txy = sxx, sxy
    marks, values = {2**14, 2**16, 2**18}, {}
    for layer in range(2, 2**18 + 1):
        cos = min(1.0, sxy / sxx)
        theta = math.acos(cos)
        k1 = sxx * (math.sin(theta) + (math.pi - theta) * cos) / (2 * math.pi)
        k0 = (math.pi - theta) / (2 * math.pi)
        txx, txy = txx + sxx + 0.1, 2 * k0 * txy + 2 * k1 + 0.1
        sxx, sxy = sxx + 0.1, 2 * k1 + 0.1
        if layer in marks:
            values[layer] = txy / txx
    a, b, c = values[2**14], values[2**16], values[2**18]
    # Richardson in L^-1/2: four times the depth halves the distance to the limit
    assert abs((2 * b - a) - 4 / 7) < 1e-4 and abs((2 * c - b) - 4 / 7) < 1e-4
    assert abs(c - 4 / 7) > 3e-4                  # the extrapolation matters: the values are still away


def test_kriging_limit_of_the_ntk_weights() -> None:
    model = Model.parse("relu", "1", "0.1")
    data = load_dataset("builtin:sphere-5")
    rows = [list(p) for p in data.points]
    train, test = Dataset.from_rows(rows[:4]), Dataset.from_rows(rows[4:])
    depth = 35
    keys = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    pairs = [pair_correlation(train.points[i], train.points[j]) for i, j in keys]
    pairs += [pair_correlation(test.points[0], p) for p in train.points]
    gaps = [g.mid_mpf() for g in certified_model_sweep(model, pairs, [depth], 3, 30).at(depth).nngp_gap]
    with mpmath.workdps(30):
        psi = [[mpmath.mpf(0)] * 4 for _ in range(4)]
        for (i, j), g in zip(keys, gaps, strict=False):
            psi[i][j] = psi[j][i] = mpmath.sqrt(g)
        predicted = kriging_weights(psi, [mpmath.sqrt(g) for g in gaps[len(keys):]])
    result = solve(train, np.eye(4, dtype=int).tolist(), test, depth, "ntk", 15, model=model)
    got = [w.mid_mpf() for w in result.weights[0]]
    assert max(abs(p - w) for p, w in zip(predicted, got, strict=True)) < 1e-4
    assert abs(sum(got) - 1) < 1e-6                # kriging weights sum to 1
    assert max(abs(w - mpmath.mpf(1) / 4) for w in got) > 0.1    # far from the equicorrelated 1/n
