"""Monte Carlo studies: finite-width empirical kernels against the certified infinite-width kernels.

Every number here is *validated statistically*: a mean over independent random
networks with a 95% confidence interval (Student t for means, percentile bootstrap
over seeds for fitted exponents). Nothing is certified, and a study is reproducible
from its seed: sample s of cell (width, depth) uses the stream
``seed_sequence(seed, study, sampler, width, depth, s)``, independent of the other
cells, so a cell's numbers do not depend on which other cells a profile runs.

Normalization and the deviation statistic
-----------------------------------------
``normalize="theory"`` (the default) divides the raw empirical kernel by the exact
infinite-width diagonal factor (Theta^(L)(x,x) or Sigma^(L)(x,x), the same for every
point of the sphere), i.e. by the engine's ``raw_factor``. The normalized empirical
kernel is then a fixed multiple of the raw one, its expectation is ThetaBar to leading
order, and its diagonal fluctuates too. The deviation of one network is the root mean
square over all N^2 entries,

    dev = || K_emp / factor - KBar ||_F / N.

``normalize="empirical"`` divides by the empirical diagonal instead
(K_emp(x,x') / sqrt(K_emp(x,x) K_emp(x',x'))), which has ones on the diagonal; the
deviation is then the root mean square over the N(N-1) off-diagonal entries.

Exact finite-width facts checked along the way: without bias the normalized empirical
NNGP diagonal is a product of L-1 independent factors r_l of mean 1 and variance
5/n_l, so its relative variance is exactly prod_l (1 + 5/n_l) - 1 -> exp(5 L/n) - 1
when L and n grow together (it vanishes only if L/n -> 0), and its logarithm has
mean sum_l E log r_l ~ -5/2 sum_l 1/n_l: the typical network drifts away from the
mean one. The relative variance is heavy-tailed once L/n is not small, the log is not,
so the log is what the report compares with its exact value.

>>> round(t_quantile(0.975, 9), 4)
2.2622
>>> s = mean_ci([1.0, 2.0, 3.0])
>>> s["mean"], [round(v, 3) for v in s["ci"]]
(2.0, [-0.484, 4.484])
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import mpmath
import numpy as np

from verify.core.errors import InputError
from verify.core.parallel import progress_reporter
from verify.core.params import DEFAULT, KERNELS, Parameterization
from verify.data.dataset import Dataset
from verify.finite_width.network import SAMPLERS, sample_kernels, seed_sequence
from verify.kernel.routes import kernel_sweep

LEVEL = 0.95
NORMALIZATIONS = ("theory", "empirical")
REFERENCE_DIGITS = 20
MAX_POINTS = 64
GUARANTEE = ("validated statistically (Monte Carlo over independent random networks, "
             "95% confidence intervals; not certified)")
STUDY_KEYS = {"width": 1, "grid": 2, "crosscheck": 3, "bootstrap": 4}


# --------------------------------------------------------------------------- statistics

@functools.lru_cache(maxsize=256)
def t_quantile(p: float, dof: int) -> float:
    """Best effort (mpmath bisection, about 15 digits): the p-quantile of Student's t with ``dof`` dof.

    >>> round(t_quantile(0.975, 1), 4), t_quantile(0.5, 3)
    (12.7062, 0.0)
    """
    if not 0 < p < 1 or dof < 1:
        raise InputError(f"t quantile needs 0 < p < 1 and dof >= 1, got p={p}, dof={dof}")
    if p == 0.5:
        return 0.0
    tail = mpmath.mpf(min(p, 1 - p))

    def upper_tail(t: mpmath.mpf) -> mpmath.mpf:   # P(T > t) for t > 0
        return mpmath.betainc(dof / 2, 0.5, 0, dof / (dof + t * t), regularized=True) / 2

    lo, hi = mpmath.mpf(0), mpmath.mpf(1)
    while upper_tail(hi) > tail:
        lo, hi = hi, 2 * hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if upper_tail(mid) > tail else (lo, mid)
    root = float((lo + hi) / 2)
    return root if p > 0.5 else -root


def mean_ci(samples: Sequence[float] | np.ndarray, level: float = LEVEL) -> dict[str, Any]:
    """Validated statistically: the sample mean with its Student-t confidence interval.

    >>> mean_ci([2.0, 2.0])["ci"]
    [2.0, 2.0]
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2:
        raise InputError("a confidence interval needs at least 2 samples")
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size))
    half = t_quantile(0.5 + level / 2, x.size - 1) * se
    return {"mean": mean, "ci": [mean - half, mean + half], "se": se, "n": int(x.size)}


def _slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """OLS slopes of the rows of y (shape (B, K)) on x (shape (K,))."""
    xc = x - x.mean()
    return (y - y.mean(axis=-1, keepdims=True)) @ xc / (xc @ xc)


def fit_power_law(x: Sequence[float], groups: Sequence[np.ndarray], *, seed: int = 0,
                  n_boot: int = 2000, level: float = LEVEL) -> dict[str, Any]:
    """Validated statistically: the exponent b of mean(group_k) ~ C x_k^b, with a bootstrap interval.

    The value is the OLS slope of log(mean) on log(x); the interval is the percentile
    bootstrap over the samples of each group (resampled independently, ``n_boot``
    times, seeded). A weighted least-squares fit with delta-method variances
    (se_k / mean_k)^2 is reported alongside, with its chi^2 lack-of-fit.

    >>> rng = np.random.default_rng(0)
    >>> groups = [w ** -0.5 * (1 + 0.01 * rng.standard_normal(50)) for w in (64, 256, 1024)]
    >>> fit = fit_power_law([64, 256, 1024], groups)
    >>> round(fit["value"], 2), fit["ci"][0] < -0.5 < fit["ci"][1]
    (-0.5, True)
    """
    lx = np.log(np.asarray(x, dtype=np.float64))
    if lx.size < 3:
        raise InputError("a power-law fit with an interval needs at least 3 points")
    groups = [np.asarray(g, dtype=np.float64) for g in groups]
    if not all(np.all(np.isfinite(g)) for g in groups):
        raise InputError("non-finite samples (a network with an inactive layer?); "
                         "use larger widths")
    means = np.array([g.mean() for g in groups])
    if np.any(means <= 0):
        raise InputError("a power-law fit needs positive means")
    ses = np.array([g.std(ddof=1) / math.sqrt(g.size) for g in groups])
    value = float(_slopes(lx, np.log(means)[None, :])[0])
    rng = np.random.default_rng(seed_sequence(seed, STUDY_KEYS["bootstrap"]))
    boot = np.column_stack([g[rng.integers(0, g.size, (n_boot, g.size))].mean(axis=1)
                            for g in groups])
    slopes = _slopes(lx, np.log(boot))
    alpha = (1 - level) / 2
    ci = [float(v) for v in np.quantile(slopes, [alpha, 1 - alpha])]
    wls = _weighted_fit(lx, np.log(means), ses / means, level)
    return {"value": value, "ci": ci, "level": level,
            "method": f"OLS of log(mean) on log(x); percentile bootstrap over seeds, B={n_boot}",
            "intercept": float(np.log(means).mean() - value * lx.mean()), "wls": wls}


def _weighted_fit(lx: np.ndarray, ly: np.ndarray, sd: np.ndarray, level: float) -> dict[str, Any]:
    w = 1 / sd**2
    xm, ym = (w @ lx) / w.sum(), (w @ ly) / w.sum()
    sxx = w @ (lx - xm) ** 2
    slope = float((w @ ((lx - xm) * (ly - ym))) / sxx)
    se = float(1 / math.sqrt(sxx))
    resid = ly - ym - slope * (lx - xm)
    chi2, dof = float(w @ resid**2), lx.size - 2
    z = float(mpmath.sqrt(2) * mpmath.erfinv(level))
    p = float(mpmath.gammainc(dof / 2, chi2 / 2, mpmath.inf, regularized=True))
    return {"value": slope, "se": se, "ci": [slope - z * se, slope + z * se],
            "chi2": chi2, "dof": dof, "lack_of_fit_p": p}


# --------------------------------------------------------------------------- deviations

@dataclass(frozen=True)
class Reference:
    """The certified infinite-width normalized kernel (midpoints) and its exact diagonal factor."""

    bar: np.ndarray
    factor: float


def reference_kernels(data: Dataset, depths: Sequence[int], param: Parameterization,
                      digits: int = REFERENCE_DIGITS) -> dict[str, dict[int, Reference]]:
    """Certified enclosures (their midpoints, radius <= 10^-digits): ThetaBar and SigmaBar at each depth."""
    out: dict[str, dict[int, Reference]] = {}
    for kernel in KERNELS:
        results = kernel_sweep(data, list(depths), kernel=kernel, digits=digits,
                               route="certified", param=param, progress=False)
        out[kernel] = {r.depth: Reference(r.mid_array(), float(r.raw_factor)) for r in results}
    return out


def normalized(raw: np.ndarray, ref: Reference, normalize: str) -> np.ndarray:
    """Best effort: the empirical kernel normalized by the theoretical factor or its own diagonal.

    >>> normalized(np.array([[4.0, 2.0], [2.0, 1.0]]), Reference(np.eye(2), 2.0), "empirical")
    array([[1., 1.],
           [1., 1.]])
    """
    if normalize == "theory":
        return raw / ref.factor
    d = np.sqrt(np.diag(raw))
    return raw / np.outer(d, d)


def deviation(raw: np.ndarray, ref: Reference, normalize: str = "theory") -> tuple[float, float]:
    """Best effort: (rms deviation, mean signed offset) of the normalized empirical kernel from KBar.

    Over all N^2 entries for ``theory``, over the off-diagonal ones for ``empirical``.

    >>> deviation(np.array([[4.0, 2.0], [2.0, 4.0]]), Reference(np.eye(2), 2.0))
    (1.0, 1.0)
    """
    diff = normalized(raw, ref, normalize) - ref.bar
    if normalize == "empirical":
        diff = diff[~np.eye(len(diff), dtype=bool)]
    return float(np.sqrt(np.mean(diff**2))), float(np.mean(diff))


STATS = ("deviation", "offset", "diag_relvar", "log_diag")
"""Per-network statistics: rms deviation, mean signed offset, mean over points of
(diag/factor - 1)^2 and of log(diag/factor) (diag: the raw empirical kernel's diagonal)."""


@dataclass
class CellSamples:
    """Per-network statistics of one (width, depth) cell: ``values[kernel][stat]`` has one entry per seed."""

    width: int
    depth: int
    sampler: str
    values: dict[str, dict[str, np.ndarray]]
    seconds: float = 0.0


def nngp_diagonal_relvar(hidden: Sequence[int]) -> float:
    """Exact (float64 rounding only): Var/mean^2 of the empirical NNGP diagonal without bias, prod(1+5/n_l) - 1.

    Sigma_emp(x,x) / Sigma(x,x) is a product of independent factors
    r_l = (2/n_l) sum_i relu(g_i)^2 (g_i standard normal), E r = 1, E r^2 = 1 + 5/n_l.

    >>> nngp_diagonal_relvar([5])
    1.0
    """
    return float(math.prod(1 + 5 / n for n in hidden) - 1)


@functools.lru_cache(maxsize=64)
def _log_factor_mean(n: int) -> float:
    """E[log r] for r = (2/n) chi^2_K, K ~ Binomial(n, 1/2) given K >= 1: log(4/n) + E psi(K/2)."""
    k = np.arange(1, n + 1)
    logw = np.array([math.lgamma(n + 1) - math.lgamma(j + 1) - math.lgamma(n - j + 1) for j in k])
    w = np.exp(logw - logw.max())
    psi = np.array([float(mpmath.digamma(j / 2)) for j in k])
    return math.log(4 / n) + float(w @ psi / w.sum())


def nngp_log_diagonal_mean(hidden: Sequence[int]) -> float:
    """Exact (float64 rounding only): E log(Sigma_emp(x,x) / Sigma(x,x)) without bias, sum_l E log r_l.

    Conditional on no hidden layer being entirely inactive (probability >= 1 - sum 2^-n_l).
    About -5/2 sum 1/n_l: the typical diagonal drifts below its mean 1 as depth/width grows.

    >>> round(nngp_log_diagonal_mean([1024] * 63), 4)
    -0.1541
    """
    return float(sum(_log_factor_mean(int(n)) for n in hidden))


def sample_cell(X: np.ndarray, width: int, depth: int, refs: dict[str, dict[int, Reference]],
                param: Parameterization, seeds: int, seed: int, study: str, sampler: str,
                normalize: str, tick: Callable[[], None] | None = None) -> CellSamples:
    """Validated statistically (per-seed samples): the :data:`STATS` of ``seeds`` random networks of one cell."""
    arrays = {name: np.empty((len(STATS), seeds)) for name in KERNELS}
    start = time.perf_counter()
    key = (STUDY_KEYS[study], SAMPLERS.index(sampler), width, depth)
    for s in range(seeds):
        k = sample_kernels(X, width, depth, param, seed_sequence(seed, *key, s), sampler)
        for name, raw in (("ntk", k.ntk), ("nngp", k.nngp)):
            ref = refs[name][depth]
            diag = np.diag(raw) / ref.factor
            with np.errstate(divide="ignore"):
                arrays[name][:, s] = (*deviation(raw, ref, normalize),
                                      np.mean((diag - 1) ** 2), np.mean(np.log(diag)))
        if tick:
            tick()
    values = {name: dict(zip(STATS, a, strict=True)) for name, a in arrays.items()}
    return CellSamples(width, depth, sampler, values, time.perf_counter() - start)


def _summary(samples: np.ndarray) -> dict[str, Any]:
    """mean_ci, or nulls when a sample is not finite (a network with a dead layer)."""
    if not np.all(np.isfinite(samples)):
        return {"mean": None, "ci": None, "se": None, "n": int(samples.size)}
    return mean_ci(samples)


def cell_rows(cell: CellSamples, param: Parameterization) -> list[dict[str, Any]]:
    """Validated statistically: one JSON table row per kernel with means and 95% intervals.

    ``diag_relvar`` is heavy-tailed when depth/width is not small (the mean is carried
    by rare large networks), so its t-interval can under-cover there; ``log_diag`` is
    close to Gaussian and its interval is reliable.
    """
    hidden = [cell.width] * (cell.depth - 1)
    exact_ok = param.sigma_b2 == 0
    rows = []
    for name in KERNELS:
        row: dict[str, Any] = {
            "kernel": name, "width": cell.width, "depth": cell.depth,
            "depth_over_width": cell.depth / cell.width, "beta": (cell.depth - 1) / cell.width,
            "sampler": cell.sampler, "seeds": int(cell.values[name]["deviation"].size)}
        for stat in STATS:
            summ = _summary(cell.values[name][stat])
            row[f"{stat}_mean"], row[f"{stat}_ci"] = summ["mean"], summ["ci"]
            if stat == "deviation":
                row["deviation_se"] = summ["se"]
        nngp = name == "nngp" and exact_ok
        row["diag_relvar_exact"] = nngp_diagonal_relvar(hidden) if nngp else None
        row["log_diag_exact"] = nngp_log_diagonal_mean(hidden) if nngp else None
        row["seconds"] = round(cell.seconds, 3)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- profiles

@dataclass(frozen=True)
class Profile:
    """What a study computes: the width sweep at a fixed depth, the width x depth grid, a cross-check."""

    name: str
    width_depth: int
    widths: tuple[int, ...]
    width_seeds: int
    width_sampler: str
    grid_widths: tuple[int, ...]
    grid_depths: tuple[int, ...]
    grid_seeds: int
    grid_sampler: str
    crosscheck: tuple[int, int, int]
    """(width, depth, seeds per sampler) where the dense and conditional samplers are compared."""
    bootstrap: int = 2000
    data: str = "builtin:sphere-8"


WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)
DEPTHS = (2, 4, 8, 16, 32, 64)
RATIO_FIT_MAX = 1 / 8
"""The depth/width exponent is fitted on the grid cells with L/n at most this."""
PROFILES = {
    "quick": Profile("quick", 3, WIDTHS, 40, "dense", (64, 256, 1024, 4096), DEPTHS, 64,
                     "conditional", (256, 8, 128)),
    "full": Profile("full", 3, WIDTHS, 128, "dense", WIDTHS, DEPTHS, 256, "conditional",
                    (512, 16, 256)),
}


def check_points(data: Dataset) -> np.ndarray:
    """The float64 inputs of a dataset for the networks (2 .. MAX_POINTS points on the sphere)."""
    if not 2 <= data.n <= MAX_POINTS:
        raise InputError(f"the finite-width study needs 2..{MAX_POINTS} points, got {data.n}")
    return data.float_points()


def _plan(profile: Profile) -> list[tuple[str, int, int, int, str]]:
    """(study, width, depth, seeds, sampler) of every cell of a profile."""
    cw, cd, cs = profile.crosscheck
    return ([("width", w, profile.width_depth, profile.width_seeds, profile.width_sampler)
             for w in profile.widths]
            + [("grid", w, d, profile.grid_seeds, profile.grid_sampler)
               for w in profile.grid_widths for d in profile.grid_depths]
            + [("crosscheck", cw, cd, cs, smp) for smp in SAMPLERS])


def network_cost(width: int, depth: int, sampler: str, points: int) -> int:
    """Rough relative cost of one network: its flops (dense: width^2 per hidden layer; conditional:
    width x points per layer).

    >>> network_cost(4096, 3, "dense", 8) // network_cost(64, 3, "dense", 8)
    4096
    """
    per_layer = width * width if sampler == "dense" else width * (points + 1)
    return max(1, depth * per_layer)


def run_study(profile: Profile, data: Dataset, param: Parameterization | None = None,
              seed: int = 0, normalize: str = "theory",
              progress: bool | None = None) -> dict[str, Any]:
    """Validated statistically: the profile's Monte Carlo studies as a JSON-ready dict.

    Holds ``width_exponent`` ({"value", "ci"}: the fitted exponent of the mean NTK
    deviation in the width at the profile's fixed depth, 95% bootstrap interval), the
    same for the NNGP, the depth/width exponent, the tables ``deviation_vs_width`` and
    ``deviation_vs_ratio`` behind the two figures, the sampler cross-check and a
    Theorem-1 summary.
    """
    param = param or DEFAULT
    if normalize not in NORMALIZATIONS:
        raise InputError(f"unknown normalization {normalize!r}; choose from "
                         + ", ".join(NORMALIZATIONS))
    plan = _plan(profile)
    if any(smp not in SAMPLERS for *_, smp in plan):
        raise InputError(f"profile {profile.name}: samplers must be among {', '.join(SAMPLERS)}")
    X = check_points(data)
    t0 = time.perf_counter()
    by_study = _sample_plan(plan, X, data, param, seed, normalize, progress)
    width_cells = by_study["width"]
    fits = {name: width_fit(width_cells, name, profile, seed) for name in KERNELS}
    payload: dict[str, Any] = {
        "command": "finite-width",
        "profile": profile.name,
        "profile_settings": asdict(profile),
        "seed": seed,
        "guarantee": GUARANTEE,
        "parameterization": param.describe(),
        "data": {"name": data.name, "n": data.n, "n0": data.n0, "projection": data.project},
        "normalization": _normalization_text(normalize),
        "deviation_statistic": ("root mean square over " + (
            "all N^2 entries" if normalize == "theory" else "the N(N-1) off-diagonal entries")
            + " of (normalized K_emp - KBar); KBar the certified infinite-width kernel"),
        "nngp_empirical": "sigma_w^2/n_{L-1} h^{L-1}.h'^{L-1} + sigma_b^2 (features)",
        "infinite_width_reference": {"route": "certified", "digits": REFERENCE_DIGITS,
                                     "used_as": "midpoints (radius <= 1e-20, far below MC error)"},
        "width_exponent": fits["ntk"],
        "width_exponent_nngp": fits["nngp"],
        "ratio_exponent": ratio_fit(by_study.get("grid", []), seed, profile.bootstrap),
        "tables": {
            "deviation_vs_width": [r for c in width_cells for r in cell_rows(c, param)],
            "deviation_vs_ratio": [r for c in by_study.get("grid", []) for r in cell_rows(c, param)],
        },
        "sampler_crosscheck": crosscheck(by_study["crosscheck"]),
        "timing_seconds": {study: round(sum(c.seconds for c in cells), 2)
                           for study, cells in by_study.items()},
    }
    payload["runtime_seconds"] = round(time.perf_counter() - t0, 2)
    return payload


def _sample_plan(plan: list[tuple[str, int, int, int, str]], X: np.ndarray, data: Dataset,
                 param: Parameterization, seed: int, normalize: str,
                 progress: bool | None) -> dict[str, list[CellSamples]]:
    """Every cell of the plan sampled (one progress bar, in units of work), grouped by study."""
    refs = reference_kernels(data, sorted({d for _, _, d, _, _ in plan}), param)
    # progress in units of work, not networks: a network of width 4096 costs ~4000x one of width 64,
    # so counting networks made the time left about 10x wrong
    bar = progress_reporter(sum(n * network_cost(w, d, smp, len(X)) for _, w, d, n, smp in plan),
                            "work (Monte Carlo)", progress)
    by_study: dict[str, list[CellSamples]] = {}
    try:
        for study, w, d, n, smp in plan:
            cost = network_cost(w, d, smp, len(X))
            by_study.setdefault(study, []).append(
                sample_cell(X, w, d, refs, param, n, seed, study, smp, normalize,
                            functools.partial(bar.update, cost)))
    finally:
        bar.close()
    return by_study


def width_fit(cells: Sequence[CellSamples], kernel: str, profile: Profile, seed: int) -> dict[str, Any]:
    """Validated statistically: the exponent of the mean deviation of ``kernel`` in the width (expected -1/2)."""
    fit = fit_power_law([c.width for c in cells], [c.values[kernel]["deviation"] for c in cells],
                        seed=seed, n_boot=profile.bootstrap)
    fit.update({"kernel": kernel, "depth": profile.width_depth, "widths": list(profile.widths),
                "seeds": profile.width_seeds, "sampler": profile.width_sampler,
                "expected": -0.5,
                "contains_expected": bool(fit["ci"][0] <= -0.5 <= fit["ci"][1])})
    return fit


def _normalization_text(normalize: str) -> dict[str, str]:
    return {"mode": normalize,
            "meaning": ("K_emp / exact infinite-width diagonal factor (raw_factor)" if normalize == "theory"
                        else "K_emp(x,x') / sqrt(K_emp(x,x) K_emp(x',x'))")}


def ratio_fit(cells: Sequence[CellSamples], seed: int, n_boot: int) -> dict[str, Any] | None:
    """Validated statistically: exponent of the mean NTK deviation in depth/width (cells with L/n <= 1/8).

    Hanin and Nica's finite-width corrections give fluctuations of variance ~ L/n when
    L/n is small, i.e. an exponent near 1/2; the cells mix widths, so the fit also
    shows whether the deviation depends on (L, n) only through L/n.
    """
    use = [c for c in cells if c.depth / c.width <= RATIO_FIT_MAX]
    if len({c.depth / c.width for c in use}) < 3:
        return None
    fit = fit_power_law([c.depth / c.width for c in use],
                        [c.values["ntk"]["deviation"] for c in use], seed=seed, n_boot=n_boot)
    fit.update({"kernel": "ntk", "x": "depth/width", "max_ratio": RATIO_FIT_MAX,
                "cells": [[c.width, c.depth] for c in use],
                "note": "an effective exponent: a small wls lack_of_fit_p says the mean "
                        "deviation is not exactly a power of L/n alone over these cells"})
    return fit


def crosscheck(cells: Sequence[CellSamples]) -> dict[str, Any]:
    """Validated statistically: Welch comparison of the two samplers' mean deviations in one cell."""
    dense, cond = cells
    out: dict[str, Any] = {"width": dense.width, "depth": dense.depth,
                           "seeds": int(dense.values["ntk"]["deviation"].size)}
    for name in KERNELS:
        a, b = dense.values[name]["deviation"], cond.values[name]["deviation"]
        diff = float(a.mean() - b.mean())
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        out[name] = {"dense_mean": float(a.mean()), "conditional_mean": float(b.mean()),
                     "difference": diff, "z": diff / se if se else 0.0,
                     "agree_at_99": bool(abs(diff) <= 2.576 * se)}
    out["dense_seconds"], out["conditional_seconds"] = round(dense.seconds, 3), round(cond.seconds, 3)
    return out


def coverage_p_value(inside: int, cells: int, level: float = LEVEL) -> float:
    """Exact binomial tail P(X <= inside), X ~ Binomial(cells, level): small if intervals under-cover.

    >>> round(coverage_p_value(23, 24), 3)
    0.708
    """
    return float(sum(math.comb(cells, k) * level**k * (1 - level) ** (cells - k)
                     for k in range(inside + 1)))
