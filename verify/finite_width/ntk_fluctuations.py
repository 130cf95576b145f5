"""Fluctuations of the diagonal NTK of a finite deep ReLU network: E[K^2]/E[K]^2 against depth/width.

The network is that of :mod:`verify.finite_width.network` (NTK parameterization, no bias):
L dense layers, hidden widths n_1 .. n_{L-1}, one input x != 0, and K = Theta_emp(x, x) =
|grad_theta f(x)|^2. Hanin and Nica (2019) state E[K^2]/E[K]^2 ~ exp(5 beta) with
beta = sum_l 1/n_l; here the sum runs over the **hidden layers** l = 1 .. L-1 (each hidden
layer of ReLU units brings one factor, see below), so beta = (L - 1)/n for equal widths.
The ratio R = E[K^2]/E[K]^2 depends on neither x, n_0 nor sigma_w^2 (K is homogeneous
in them).

**A representation with independent scalars.** With one input, the conditional sampler of
:mod:`~verify.finite_width.network` draws, for hidden layer l, z^l = s_{l-1} |h^{l-1}| g_l with
g_l ~ N(0, I_{n_l}) (s_l^2 = sigma_w^2 / n_l). Let a_l = #{i : g_{l,i} > 0} ~ Binomial(n_l, 1/2)
and X_l = sum_{g_{l,i} > 0} g_{l,i}^2 ~ chi^2(a_l); then |h^l|^2 = s_{l-1}^2 |h^{l-1}|^2 X_l, and
f = s_{L-1} |h^{L-1}| g_L with Y = g_L^2 ~ chi^2(1). Backwards through W^l (l >= 1) the sampler
gives delta^l = s_l [(delta^{l+1} . g_{l+1}) u_l + |delta^{l+1}| P_l g'_l] masked by the units of
layer l, with u_l = h^l / |h^l|, g'_l fresh and P_l the projection orthogonal to u_l. Since
z^{l+1} -> f is positively homogeneous of degree 1 (ReLU, no bias), Euler's identity gives
delta^{l+1} . z^{l+1} = f, so delta^{l+1} . g_{l+1} = f / (s_l |h^l|), and

    |delta^l|^2 = f^2 / |h^l|^2 + s_l^2 |delta^{l+1}|^2 C_l,   C_l = |g'_{l, A_l}|^2 - (g'_l . u_l)^2 ~ chi^2(a_l - 1),

with C_l independent of everything else (u_l is a unit vector supported on the active set
A_l). Layer l's term of K is T_l = s_l^2 |h^l|^2 |delta^{l+1}|^2 (K = T_0 + ... + T_{L-1}), so
T_{L-1} = s_{L-1}^2 |h^{L-1}|^2, f^2 = T_{L-1} Y and T_{l-1} = (f^2 + C_l T_l) / X_l. Hence

    K = Q_0 prod_{l=1}^{L-1} (s_l^2 X_l) * S,   S = tau_0 + ... + tau_{L-1},
    tau_{L-1} = 1,   tau_{l-1} = (Y + C_l tau_l) / X_l,   Q_0 = s_0^2 |x|^2,

where (a_l, X_l, C_l), l = 1 .. L-1, and Y are independent (a layer with a_l = 0 is dead and
K = 0). :func:`reduced_samples` draws K this way in O(L) per network instead of O(L n)
(:func:`network_samples` uses the network code itself; the tests compare the two).

**Exact moments.** tau_l = alpha_l + beta_l Y with coefficients from independent layers, so
E[K] and E[K^2] follow from a linear recursion on the first and second moments of the
state (1, alpha_l, beta_l, sum alpha, sum beta), whose per-layer expectations are moments
of a_l of order <= 2 (E[X | a] = a, E[X^2 | a] = a(a+2), E[C | a] = a - 1, ...): exact
rationals (:func:`exact_moments`). The forward factor alone has
E[X^2]/E[X]^2 = 1 + 5/n_l per hidden layer: prod (1 + 5/n_l) = exp(5 beta + O(sum 1/n_l^2)).

**Monte Carlo with importance sampling.** K^2 is heavy-tailed (log K has variance of
order beta), so the plain mean of K^2 over networks is unreliable once beta is of order 1.
E[K^p] = E[Q^p] E_p[S^p] with Q = prod s_l^2 X_l and E_p the law tilted by X^p layer by layer
(a_l then has weights C(n, a) E[X^p | a] and X_l ~ chi^2(a_l + 2p)); E[Q^2]/E[Q]^2 is known
exactly, and :func:`ratio_estimate` samples only S under the two tilts (with Y integrated
exactly). The estimate is
consistent like the plain one, with a far smaller variance. S is still heavy-tailed under
the tilts once beta nears 1 (products of C_l/X_l): at width 100 with 2^16 draws the 95%
intervals covered the exact ratio at every beta <= 1/2 in 3 seeds, but only 7 and 6 of 8 seeds
at beta = 0.7 and 1 (estimates there tend to fall low), so the exponent is fitted on
beta <= ``FluctuationProfile.fit_max_beta`` and the points beyond are shown beside their
exact values.

Every random number comes from a seeded ``np.random.Generator`` in a fixed order and shape;
nothing goes through BLAS or LAPACK (the reduced sampler uses elementwise operations only).

>>> float(exact_ratio([100]))          # one hidden layer: K = const * chi^2(2a), a ~ Bin(100, 1/2)
1.03
>>> hidden_beta([100] * 10)
0.1
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat

from verify.core.errors import InputError
from verify.core.params import DEFAULT, Parameterization
from verify.finite_width.montecarlo import LEVEL, coverage_p_value
from verify.finite_width.network import sample_kernels, seed_sequence

GUARANTEE = ("validated statistically (Monte Carlo over independent random networks with importance sampling, "
             "95% confidence intervals; not certified)")
STUDY_KEYS = {"grid": 11, "network": 12, "fit": 13}
Z95 = 1.959963984540054


def hidden_beta(hidden: Sequence[int]) -> float:
    """beta = sum over the hidden layers of 1/n_l (``hidden`` = n_1 .. n_{L-1})."""
    return float(sum(Fraction(1, int(n)) for n in hidden))


def _check_hidden(hidden: Sequence[int]) -> list[int]:
    widths = [int(n) for n in hidden]
    if any(n < 1 for n in widths):
        raise InputError(f"hidden widths must be >= 1, got {widths}")
    return widths


# --------------------------------------------------------------------------- exact moments

# State (1, alpha, beta, A, B): tau = alpha + beta Y, S = A + B Y. One hidden layer maps it by
# M = M0 + M_U / X + M_V C / X (alpha' = alpha C/X, beta' = (1 + beta C)/X, A' = A + alpha', B' = B + beta').
_M0 = fmpq_mat(5, 5, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])
_MU = fmpq_mat(5, 5, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])
_MV = fmpq_mat(5, 5, [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0])
_TOP = fmpq_mat(5, 1, [1, 1, 0, 1, 0])


@dataclass(frozen=True)
class LayerMoments:
    """Exact E[... ; a >= 1] of one hidden layer of width n: the moments the recursion needs."""

    one: Fraction      # P(a >= 1)
    x: Fraction        # E X = E a
    c: Fraction        # E C = E (a - 1)
    x2: Fraction       # E X^2 = E a (a + 2)
    xc: Fraction       # E X C = E a (a - 1)
    c2: Fraction       # E C^2 = E (a - 1)(a + 1)

    @classmethod
    def of(cls, n: int) -> LayerMoments:
        alive = 1 - Fraction(1, 2**n)
        ea, ea2 = Fraction(n, 2), Fraction(n * n + n, 4)
        return cls(alive, ea, ea - alive, ea2 + 2 * ea, ea2 - ea, ea2 - alive)


def _q(v: Fraction) -> fmpq:
    return fmpq(v.numerator, v.denominator)


def _frac(v: fmpq) -> Fraction:
    return Fraction(int(v.p), int(v.q))


def exact_moments(hidden: Sequence[int], n0: int = 1, param: Parameterization | None = None,
                  norm2: Fraction = Fraction(1)) -> tuple[Fraction, Fraction]:
    """Exact (rational arithmetic): E[K] and E[K^2] for K = Theta_emp(x, x), |x|^2 = ``norm2``.

    >>> m1, m2 = exact_moments([4], n0=2)      # L = 2: K = (|x|^2/n0)(1/4)(X + Y + C)
    >>> m1, m2                                 # X + Y + C ~ chi^2(2a): E = 2 E a, E^2 = E 2a(2a + 2)
    (Fraction(1, 2), Fraction(7, 16))
    """
    param = param or DEFAULT
    if param.sigma_b2 != 0:
        raise InputError("the NTK fluctuation study needs a model without bias (sigma_b^2 = 0)")
    hidden = _check_hidden(hidden)
    w2 = Fraction(param.sigma_w2)
    scale = w2 * norm2 / n0                                  # Q_0
    for n in hidden:
        scale *= w2 / n
    mean, second = _TOP, _TOP * _TOP.transpose()
    for n in reversed(hidden):
        m = LayerMoments.of(n)
        mean = (_q(m.x) * _M0 + _q(m.one) * _MU + _q(m.c) * _MV) * mean
        terms: list[tuple[Fraction, fmpq_mat, fmpq_mat]] = [
            (m.x2, _M0, _M0), (m.x, _M0, _MU), (m.x, _MU, _M0), (m.xc, _M0, _MV), (m.xc, _MV, _M0),
            (m.one, _MU, _MU), (m.c, _MU, _MV), (m.c, _MV, _MU), (m.c2, _MV, _MV)]
        second = sum((_q(k) * (a * second * b.transpose()) for k, a, b in terms[1:]),
                     _q(terms[0][0]) * (_M0 * second * _M0.transpose()))
    es = _frac(mean[3, 0]) + _frac(mean[4, 0])                               # E Y = 1
    es2 = _frac(second[3, 3]) + 2 * _frac(second[3, 4]) + 3 * _frac(second[4, 4])   # E Y^2 = 3
    return scale * es, scale * scale * es2


def exact_ratio(hidden: Sequence[int]) -> Fraction:
    """Exact (rational arithmetic): E[K^2]/E[K]^2, which depends only on the hidden widths.

    >>> exact_ratio([4])                      # (7/16) / (1/2)^2
    Fraction(7, 4)
    """
    m1, m2 = exact_moments(hidden)
    return m2 / (m1 * m1)


def forward_factor(hidden: Sequence[int]) -> Fraction:
    """Exact: E[Q^2]/E[Q]^2 = prod (1 + 5/n_l), the squared-norm factor of the forward pass.

    >>> forward_factor([5, 5])
    Fraction(4, 1)
    """
    out = Fraction(1)
    for n in _check_hidden(hidden):
        m = LayerMoments.of(n)
        out *= m.x2 / (m.x * m.x)
    return out


# --------------------------------------------------------------------------- samplers

def network_samples(hidden: int, depth: int, count: int, seed: int, param: Parameterization | None = None,
                    tick: Callable[[], None] | None = None) -> np.ndarray:
    """Best effort (float64): K(x, x) of ``count`` networks from the network code (exact per-layer gradients).

    One input x = (1, 0, 0); network i uses child stream (``STUDY_KEYS['network']``, i) of ``seed``
    and the conditional sampler of :func:`~verify.finite_width.network.sample_kernels`.
    """
    x = np.array([[1.0, 0.0, 0.0]])
    out = np.empty(count)
    for i in range(count):
        out[i] = sample_kernels(x, hidden, depth=depth, param=param or DEFAULT,
                                seed=seed_sequence(seed, STUDY_KEYS["network"], i), sampler="conditional").ntk[0, 0]
        if tick is not None:
            tick()
    return out


def _tilted_cdf(n: int, power: int) -> np.ndarray:
    """CDF over a = 0..n of the weights C(n, a) E[X^power | a] (power 0: the binomial law itself)."""
    moment = {0: lambda a: 1, 1: lambda a: a, 2: lambda a: a * (a + 2)}[power]
    weights = [math.comb(n, a) * moment(a) for a in range(n + 1)]
    total = sum(weights)
    return np.cumsum([w / total for w in weights])


def _layer_draws(n: int, count: int, rng: np.random.Generator, power: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, C) of one hidden layer of width n for ``count`` networks: a, then X, then C (fixed order)."""
    if power == 0:
        a = rng.binomial(n, 0.5, count)
    else:
        a = np.searchsorted(_tilted_cdf(n, power), rng.random(count), side="right").clip(0, n)
    x = 2 * rng.standard_gamma((a + 2 * power) / 2)
    c = 2 * rng.standard_gamma(np.maximum(a - 1, 0) / 2)
    return x, c


def reduced_samples(hidden: Sequence[int], count: int, rng: np.random.Generator) -> np.ndarray:
    """Best effort (float64): ``count`` draws of K / (Q_0 prod s_l^2) = prod X_l * S under the network's law.

    Draws: Y first, then per hidden layer from the top a (binomial), X, C, each a vector of
    ``count``. A dead network (some a_l = 0) gives 0.
    """
    hidden = _check_hidden(hidden)
    y = 2 * rng.standard_gamma(0.5, count)
    tau, s, log_q = np.ones(count), np.ones(count), np.zeros(count)
    for n in reversed(hidden):
        x, c = _layer_draws(n, count, rng, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tau = (y + c * tau) / x
            log_q += np.log(x * (2 / n))                   # 2/n keeps the product near 1 (scale only)
        s += tau
    with np.errstate(invalid="ignore", over="ignore"):
        k = np.exp(log_q) * s
    return np.where(np.isfinite(k), k, 0.0)


def tilted_coefficients(hidden: Sequence[int], count: int, rng: np.random.Generator,
                        power: int) -> tuple[np.ndarray, np.ndarray]:
    """Best effort (float64): (A, B) with S = A + B Y, under the law tilted by prod X_l^``power`` (1 or 2).

    Y is integrated exactly (E Y = 1, E Y^2 = 3) instead of drawn: E_1[S] = E[A + B],
    E_2[S^2] = E[A^2 + 2AB + 3B^2] (a Rao-Blackwellized estimate, lighter-tailed than drawing Y).
    """
    if power not in (1, 2):
        raise InputError(f"power must be 1 or 2, got {power}")
    hidden = _check_hidden(hidden)
    alpha, beta = np.ones(count), np.zeros(count)          # tau_l = alpha + beta Y, from tau_{L-1} = 1
    big_a, big_b = np.ones(count), np.zeros(count)
    for n in reversed(hidden):
        x, c = _layer_draws(n, count, rng, power)
        alpha, beta = alpha * c / x, (1 + beta * c) / x
        big_a += alpha
        big_b += beta
    return big_a, big_b


@dataclass(frozen=True)
class RatioEstimate:
    """E[K^2]/E[K]^2 with its 95% interval (from the standard error of log R) and the sample counts."""

    value: float
    ci: tuple[float, float]
    se_log: float
    networks: int

    @classmethod
    def from_logs(cls, log_r: float, se: float, networks: int) -> RatioEstimate:
        return cls(math.exp(log_r), (math.exp(log_r - Z95 * se), math.exp(log_r + Z95 * se)), se, networks)


def plain_ratio(k: np.ndarray) -> RatioEstimate:
    """Validated statistically: mean(K^2)/mean(K)^2 of plain samples, delta-method interval on log R.

    >>> plain_ratio(np.array([1.0, 1.0, 1.0])).value
    1.0
    """
    k = np.asarray(k, dtype=np.float64)
    m1, m2 = float(k.mean()), float((k * k).mean())
    cov = np.cov(np.vstack([k * k / m2, 2 * k / m1]))         # d log R = dm2/m2 - 2 dm1/m1
    var = float(cov[0, 0] - 2 * cov[0, 1] + cov[1, 1]) / k.size
    return RatioEstimate.from_logs(math.log(m2 / (m1 * m1)), math.sqrt(max(var, 0.0)), int(k.size))


def ratio_estimate(hidden: Sequence[int], count: int, seed: int | np.random.SeedSequence) -> RatioEstimate:
    """Validated statistically: E[K^2]/E[K]^2 by importance sampling (exact forward factor, S sampled).

    R = prod(1 + 5/n_l) E_2[S^2] / E_1[S]^2; ``count`` draws under each tilt, from child streams
    2 and 1 of ``seed``. The interval is the delta method on log R (the two samples are independent).
    """
    base = seed if isinstance(seed, np.random.SeedSequence) else seed_sequence(seed)
    a2, b2 = tilted_coefficients(hidden, count, np.random.default_rng(seed_sequence(base, 2)), 2)
    a1, b1 = tilted_coefficients(hidden, count, np.random.default_rng(seed_sequence(base, 1)), 1)
    q2, q1 = a2 * a2 + 2 * a2 * b2 + 3 * b2 * b2, a1 + b1
    m2, m1 = float(q2.mean()), float(q1.mean())
    var = float(q2.var(ddof=1)) / (count * m2 * m2) + 4 * float(q1.var(ddof=1)) / (count * m1 * m1)
    log_r = math.log(float(forward_factor(hidden))) + math.log(m2 / (m1 * m1))
    return RatioEstimate.from_logs(log_r, math.sqrt(var), 2 * count)


# --------------------------------------------------------------------------- the study

@dataclass(frozen=True)
class FluctuationProfile:
    """Sizes of the study: equal hidden widths ``width``, depths L = 1 + ``hidden_layers``, draws per tilt."""

    name: str
    width: int
    hidden_layers: tuple[int, ...]
    draws: int
    network_check: tuple[int, int, int]          # (width, depth, networks) for the network-code cross-check
    fit_max_beta: float = 0.5                    # beyond it the intervals under-cover (heavy tails): not fitted
    fit_draws: int = 4000


PROFILES = {
    "quick": FluctuationProfile("quick", 100, (1, 2, 5, 10, 20, 30, 50, 70, 100), 1 << 16, (100, 11, 800)),
    "full": FluctuationProfile("full", 100, (1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100), 1 << 18,
                               (100, 11, 4000)),
}


def fit_exponent(beta: Sequence[float], log_r: Sequence[float], se: Sequence[float] | None = None,
                 draws: int = 4000, seed: int = 0) -> dict[str, Any]:
    """Validated statistically: c in R ~ A exp(c beta), the OLS slope of log R on beta (equal weights).

    The intercept log A is free (a bounded factor, as in Hanin and Nica's statement). The
    interval is a parametric bootstrap: each log R redrawn from N(log R, se^2), ``draws`` times.
    Equal weights, because exp(c beta) is an approximation: weighting by the Monte Carlo
    precision would make c the local slope at the smallest beta.

    >>> fit_exponent([0.1, 0.5, 1.0], [0.5, 2.5, 5.0])["value"]
    5.0
    """
    x, y = np.asarray(beta, dtype=np.float64), np.asarray(log_r, dtype=np.float64)
    if x.size < 3:
        raise InputError("an exponent fit needs at least 3 depths")
    xc = x - x.mean()

    def slope(rows: np.ndarray) -> np.ndarray:
        return (rows - rows.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)

    value = round(float(slope(y[None, :])[0]), 12)
    out: dict[str, Any] = {"value": value, "intercept": float(y.mean() - value * x.mean()),
                           "max_residual": float(np.max(np.abs(y - y.mean() - value * xc)))}
    if se is not None:
        rng = np.random.default_rng(seed_sequence(seed, STUDY_KEYS["fit"]))
        boot = slope(y + rng.standard_normal((draws, x.size)) * np.asarray(se, dtype=np.float64))
        alpha = (1 - LEVEL) / 2
        out["ci"] = [float(v) for v in np.quantile(boot, [alpha, 1 - alpha])]
        out["draws"] = draws
    return out


def run_fluctuation_study(profile: FluctuationProfile, seed: int = 20261123,
                          param: Parameterization | None = None) -> dict[str, Any]:
    """The Monte Carlo study of E[K^2]/E[K]^2 over beta = (L-1)/n, its exponent fit and its validations.

    Measures only (what it means for a claim is in ``proofs_checks``). The grid: equal hidden
    widths ``profile.width``, hidden-layer counts ``profile.hidden_layers``; at each depth
    :func:`ratio_estimate` (``profile.draws`` per tilt) beside :func:`exact_ratio`. Then
    :func:`fit_exponent` on the estimates (and on the exact values, for comparison), and a
    cross-check of plain samples from the network code against the exact ratio.
    """
    param = param or DEFAULT
    if param.sigma_b2 != 0:
        raise InputError("the NTK fluctuation study needs a model without bias (sigma_b^2 = 0)")
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for i, layers in enumerate(profile.hidden_layers):
        hidden = [profile.width] * layers
        est = ratio_estimate(hidden, profile.draws, seed_sequence(seed, STUDY_KEYS["grid"], i))
        exact = exact_ratio(hidden)
        rows.append({"depth": layers + 1, "width": profile.width, "beta": hidden_beta(hidden),
                     "ratio": est.value, "ci": list(est.ci), "se_log": est.se_log, "networks": est.networks,
                     "exact": float(exact), "forward_factor": float(forward_factor(hidden)),
                     "covered": bool(est.ci[0] <= exact <= est.ci[1]),
                     "fitted": hidden_beta(hidden) <= profile.fit_max_beta})
    used = [r for r in rows if r["fitted"]]
    betas = [r["beta"] for r in used]
    fit = fit_exponent(betas, [math.log(r["ratio"]) for r in used], [r["se_log"] for r in used],
                       profile.fit_draws, seed)
    fit["max_beta"] = profile.fit_max_beta
    exact_fit = fit_exponent(betas, [math.log(r["exact"]) for r in used])
    exact_fit_all = fit_exponent([r["beta"] for r in rows], [math.log(r["exact"]) for r in rows])
    covered = sum(r["covered"] for r in used)
    width, depth, count = profile.network_check
    net_start = time.perf_counter()
    plain = plain_ratio(network_samples(width, depth, count, seed, param))
    exact_check = float(exact_ratio([width] * (depth - 1)))
    return {
        "profile": profile.name, "seed": seed, "guarantee": GUARANTEE, "parameterization": param.describe(),
        "beta_convention": "beta = sum over the hidden layers l = 1..L-1 of 1/n_l = (L-1)/n for equal widths",
        "grid": rows, "fit": fit, "exact_fit": exact_fit, "exact_fit_all": exact_fit_all,
        "coverage": {"inside": covered, "cells": len(used), "p": coverage_p_value(covered, len(used))},
        "network_check": {"width": width, "depth": depth, "networks": count, "ratio": plain.value,
                          "ci": list(plain.ci), "exact": exact_check,
                          "agree_at_99": bool(abs(math.log(plain.value / exact_check)) <= 2.576 * plain.se_log),
                          "seconds": round(time.perf_counter() - net_start, 1)},
        "seconds": round(time.perf_counter() - start, 1),
    }
