"""Benchmarks: the certified route against the plain mpmath route, measured in the same run.

Not timed tests: ``ntk-verify bench`` writes the figures as JSON (ratios against the
baseline, so the numbers mean something on any machine).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import flint
import mpmath

from verify.data.dataset import Dataset
from verify.data.sources import load_dataset
from verify.kernel.routes import kernel_matrix


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "python_flint": flint.__version__,
        "mpmath": mpmath.__version__,
        "mpmath_backend": mpmath.libmp.BACKEND,
    }


def bench_kernel(depth: int = 100_000, digits: int = 30, points: int = 10,
                 progress: bool | None = None) -> dict[str, Any]:
    """Time the certified route (as shipped: it picks its method), its direct iteration, and mpmath.

    One run each, in the same process; the mpmath route iterates layer by layer as a
    user would by hand, the certified direct iteration does the same work with balls.

    Cases: one pair (cosine 0.5) at ``depth``, and ``builtin:sphere-{points}`` at ``depth``
    (all pairs, on all cores), both for the NTK with ``digits`` digits.
    """
    pair = [["1", "0", "0"], ["0.5", "0.75", "0.4330127018922193233818615853764680917357"]]
    cases: dict[str, Dataset | list[list[str]]] = {"one_pair": pair,
                                                   f"sphere_{points}": load_dataset(f"builtin:sphere-{points}")}
    out: dict[str, Any] = {"depth": depth, "digits": digits, "kernel": "ntk",
                           "machine": machine_info(), "cases": {}}
    for name, data in cases.items():
        timed = {}
        for route in ("certified", "certified-direct", "mpmath"):
            timed[route] = _timed(partial(kernel_matrix, data, depth, "ntk", digits, route, progress=progress))
        cert, t_cert = timed["certified"]
        direct, t_direct = timed["certified-direct"]
        plain, t_plain = timed["mpmath"]
        worst = min(b.correct_digits() for res in (cert, direct) for row in res.entries for b in row)
        agree = min(_agreement(b, v) for r1, r2 in zip(direct.entries, plain.entries, strict=True)
                    for b, v in zip(r1, r2, strict=True))
        out["cases"][name] = {
            "pairs": len(cert.entries) * (len(cert.entries) - 1) // 2,
            "certified_seconds": round(t_cert, 3),
            "certified_method": cert.method,
            "certified_direct_seconds": round(t_direct, 3),
            "mpmath_seconds": round(t_plain, 3),
            "speedup_certified_vs_mpmath": round(t_plain / t_cert, 2),
            "speedup_certified_direct_vs_mpmath": round(t_plain / t_direct, 2),
            "certified_working_precision_bits": cert.working_precision_bits,
            "certified_direct_working_precision_bits": direct.working_precision_bits,
            "mpmath_working_precision_bits": plain.working_precision_bits,
            "certified_min_correct_digits": round(worst, 2),
            "mpmath_digits_agreeing_with_certified": round(agree, 2),
        }
    return out


def _agreement(ball, value) -> float:
    """Digits to which a best-effort value agrees with the certified midpoint."""
    from fractions import Fraction

    diff = abs(ball.mid_fraction - Fraction(mpmath.nstr(value, 60, strip_zeros=False)))
    if diff == 0:
        return 60.0
    return float(-mpmath.log10(mpmath.mpf(diff.numerator) / diff.denominator))
