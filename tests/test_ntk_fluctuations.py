"""The Hanin-Nica study: E[K(x,x)^2]/E[K(x,x)]^2 of finite ReLU networks, by three routes that must agree.

* the network code itself (exact per-layer gradients of concrete random networks, plain Monte Carlo);
* the reduced representation of K by independent scalars (plain and importance-sampled Monte Carlo);
* the exact moments in rational arithmetic, and for one hidden layer a closed form written here
  (K is a constant times chi^2(2a), a ~ Binomial(n, 1/2)).

Statistical comparisons use 99% intervals, so they fail by chance about once in a hundred runs
per comparison at most; the draws are seeded, so a run is reproducible.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from proofs_checks import CheckContext, Verdict
from proofs_checks.hanin_nica import CHECK, FluctuationClaim
from verify.finite_width import ntk_fluctuations as nf
from verify.finite_width.montecarlo import nngp_diagonal_relvar

Z99 = 2.576
TINY = nf.FluctuationProfile("tiny", 50, (1, 2, 5, 10, 25), 1 << 14, (20, 3, 300))


def _binomial(n: int) -> list[Fraction]:
    return [Fraction(math.comb(n, a), 2**n) for a in range(n + 1)]


@pytest.mark.parametrize("n", [3, 7, 100])
def test_one_hidden_layer_matches_the_chi_square_closed_form(n: int) -> None:
    p = _binomial(n)                    # K ~ chi^2(2a): E = 2a, E^2 = 2a (2a + 2); a = 0 gives K = 0
    m1 = sum(p[a] * 2 * a for a in range(n + 1))
    m2 = sum(p[a] * 2 * a * (2 * a + 2) for a in range(n + 1))
    assert nf.exact_ratio([n]) == m2 / (m1 * m1)


def test_forward_factor_is_the_nngp_diagonal_moment() -> None:
    hidden = [16, 32, 64]
    assert float(nf.forward_factor(hidden)) == pytest.approx(1 + nngp_diagonal_relvar(hidden), rel=1e-12)


@pytest.mark.parametrize(("width", "depth", "count"), [(10, 3, 4000), (8, 5, 4000)])
def test_network_code_agrees_with_the_exact_moments(width: int, depth: int, count: int) -> None:
    k = nf.network_samples(width, depth, count, seed=3)
    m1, m2 = nf.exact_moments([width] * (depth - 1), n0=3)       # x = (1, 0, 0): |x|^2 = 1, n0 = 3
    se_mean = k.std(ddof=1) / math.sqrt(count)
    assert abs(k.mean() - float(m1)) <= Z99 * se_mean
    est = nf.plain_ratio(k)
    assert abs(math.log(est.value / float(m2 / m1**2))) <= Z99 * est.se_log


@pytest.mark.parametrize(("width", "layers"), [(10, 2), (40, 8)])
def test_reduced_representation_agrees_with_the_exact_moments(width: int, layers: int) -> None:
    k = nf.reduced_samples([width] * layers, 200_000, np.random.default_rng(5))
    assert k.min() >= 0
    est = nf.plain_ratio(k)
    assert abs(math.log(est.value / float(nf.exact_ratio([width] * layers)))) <= Z99 * est.se_log


def test_importance_sampling_covers_the_exact_ratio_up_to_beta_one_half() -> None:
    hidden = [20] * 10                                            # beta = 1/2
    exact = float(nf.exact_ratio(hidden))
    inside = 0
    for seed in range(8):
        est = nf.ratio_estimate(hidden, 1 << 14, seed)
        inside += abs(math.log(est.value / exact)) <= Z99 * est.se_log
    assert inside >= 7


def test_fit_recovers_a_known_exponent() -> None:
    beta = [0.01, 0.1, 0.3, 0.5]
    fit = nf.fit_exponent(beta, [4.5 * b + 0.2 for b in beta], [0.01] * 4, draws=2000, seed=1)
    assert fit["value"] == pytest.approx(4.5) and fit["ci"][0] < 4.5 < fit["ci"][1]


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    c = CheckContext(profile="quick", data_spec="builtin:sphere-4")
    c.extras["ntk_fluctuations"] = nf.run_fluctuation_study(TINY, seed=11)   # same code path, smaller sizes
    return c


def test_false_variant_is_refuted(ctx: CheckContext) -> None:
    result = CHECK.evaluate(ctx, "ntk", FluctuationClaim(1.0))
    assert result.verdict is Verdict.REFUTED, result.certificate
    assert result.findings[0].supports is False


def test_the_exponent_of_the_exact_ratios_is_confirmed(ctx: CheckContext) -> None:
    payload = ctx.extras["ntk_fluctuations"]
    assert payload["coverage"]["inside"] >= payload["coverage"]["cells"] - 1
    exact_c = payload["exact_fit"]["value"]                     # the exact ratios' exponent: an independent route
    result = CHECK.evaluate(ctx, "ntk", FluctuationClaim(exact_c))
    assert result.findings[0].supports is True, result.certificate


def test_stated_claim_reads_the_fit(ctx: CheckContext) -> None:
    payload = ctx.extras["ntk_fluctuations"]
    lo, hi = payload["fit"]["ci"]
    result = CHECK.evaluate(ctx, "ntk")
    assert result.source["id"] == "hanin-nica-2019"
    assert result.findings[0].supports is (lo <= 5 <= hi)
    assert "c = " in result.certificate and result.evidence.figures[0].name == "hanin_nica_ratio"
