"""Benchmark of the closed form end to end: certified solve against an mpmath solve at the same digits.

One run, same work: 100 training and 20 test points (``builtin:sphere-120`` split
100 / 20), labels y = first coordinate, the NNGP at depth 10^4, 30 digits.

* certified: :func:`verify.linalg.closed_form.solve` (certified kernels with relative gaps,
  Arb solve with the precision raised until every entry of W and f_inf has 30
  correct digits);
* baseline: the engine's plain mpmath kernels at 30 digits, then ``mpmath.lu_solve``
  at 30 digits (best effort, no error bound).

The JSON gives both times, their ratio, and how many digits of the baseline agree
with the certified enclosures (the baseline loses about log10 cond(kappa) digits).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import mpmath

from verify.bench.kernel import machine_info
from verify.core.balls import Ball
from verify.data.dataset import Dataset
from verify.data.sources import load_dataset
from verify.kernel.routes import kernel_matrix
from verify.linalg.closed_form import solve


def split_points(n: int, m: int) -> tuple[Dataset, Dataset]:
    """``builtin:sphere-(n + m)``: the first n points to train on, the other m to test."""
    return load_dataset(f"builtin:sphere-{n + m}").split(n)


def mpmath_solve(train: Dataset, labels: list[list[Fraction]], test: Dataset, depth: int,
                 kernel: str, digits: int, progress: bool | None = None) -> tuple[list, list, float]:
    """Best effort: (W, f_inf, kernel seconds) by plain mpmath kernels and ``mpmath.lu_solve``."""
    start = time.perf_counter()
    gram = kernel_matrix(train, depth, kernel, digits, route="mpmath", progress=progress)
    cross = kernel_matrix(test, depth, kernel, digits, route="mpmath", progress=progress,
                          columns=train)
    kernel_seconds = time.perf_counter() - start
    with mpmath.workdps(digits):
        lu, perm = mpmath.mp.LU_decomp(mpmath.matrix([[+v for v in row] for row in gram.entries]))

        def lu_solve(rhs: list) -> list:
            x = mpmath.mp.U_solve(lu, mpmath.mp.L_solve(lu, mpmath.matrix(rhs), perm))
            return [x[j] for j in range(train.n)]

        weights = [lu_solve([+v for v in row]) for row in cross.entries]
        preds = []
        for col in range(len(labels[0])):
            alpha = lu_solve([mpmath.mpf(r[col].numerator) / r[col].denominator for r in labels])
            preds.append([mpmath.fsum(c * a for c, a in zip(row, alpha, strict=True))
                          for row in cross.entries])
    return weights, [list(r) for r in zip(*preds, strict=True)], kernel_seconds


def _agreement(balls: Sequence[Sequence[Ball]], values: list[list[Any]]) -> tuple[float, int]:
    """(min digits of agreement relative to max(1, |x|), number of values inside the enclosures)."""
    worst, inside = math.inf, 0
    for brow, vrow in zip(balls, values, strict=True):
        for b, v in zip(brow, vrow, strict=True):
            man, exp = v.man_exp          # exact (no rounding to the global mp.prec), unsigned
            exact = Fraction(int(man)) * Fraction(2) ** int(exp) if man else Fraction(0)
            exact = -exact if v < 0 else exact
            inside += b.contains(exact)
            diff = abs(exact - b.mid_fraction) / max(Fraction(1), abs(b.mid_fraction))
            if diff:
                worst = min(worst, -math.log10(diff.numerator) + math.log10(diff.denominator))
    return round(worst, 2), inside


def bench_solve(n: int = 100, m: int = 20, depth: int = 10**4, digits: int = 30, kernel: str = "nngp",
                progress: bool | None = None) -> dict[str, Any]:
    """Time the certified closed form and the mpmath baseline in one run (the caller writes the JSON)."""
    train, test = split_points(n, m)
    labels = [[p[0]] for p in train.points]
    start = time.perf_counter()
    sol = solve(train, labels, test, depth, kernel, digits, progress=progress)
    t_cert = time.perf_counter() - start
    start = time.perf_counter()
    weights, preds, t_mp_kernel = mpmath_solve(train, labels, test, depth, kernel, digits, progress)
    t_mp = time.perf_counter() - start
    w_digits, w_inside = _agreement(sol.weights, weights)
    p_digits, p_inside = _agreement(sol.predictions, preds)
    out = {
        "case": f"{train.name} / {test.name}, labels = first coordinate",
        "n": n, "m": m, "depth": depth, "digits": digits, "kernel": kernel,
        "machine": machine_info(),
        "certified_seconds": round(t_cert, 3),
        "certified_kernel_seconds": sol.seconds_kernels,
        "certified_algebra_seconds": sol.seconds_algebra,
        "mpmath_seconds": round(t_mp, 3),
        "mpmath_kernel_seconds": round(t_mp_kernel, 3),
        "mpmath_solve_seconds": round(t_mp - t_mp_kernel, 3),
        "speedup_certified_vs_mpmath": round(t_mp / t_cert, 2),
        "certified_working_precision_bits": sol.working_precision_bits,
        "certified_kernel_digits": sol.kernel_digits,
        "certified_min_correct_digits": round(min(b.correct_digits() for row in [*sol.weights, *sol.predictions]
                                                  for b in row), 2),
        "digits_lost": sol.digits_lost,
        "log10_abs_det": sol.log10_abs_det.to_json(12)["mid"],
        "mpmath_weights_digits_agreeing": w_digits,
        "mpmath_predictions_digits_agreeing": p_digits,
        "mpmath_values_inside_enclosures": f"{w_inside + p_inside} of {m * n + m}",
    }
    return out
