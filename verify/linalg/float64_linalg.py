"""float64 side by side: the closed form and the conditioning through numpy, and where float64 breaks.

Everything numpy returns here is best effort (float64 kernels from the engine's
float64 route, ``numpy.linalg``); it is compared with the certified enclosures:

    relative error = max_ij |float64_ij - exact_ij| / max_ij |exact_ij|

(the certified midpoint stands for the exact value; its radius is far below the
errors measured). The *breakdown depth* of a dataset is the first depth at which the
float64 weights W = kappa_Z kappa^-1 have relative error > 1e-3, or numpy fails
(LinAlgError or non-finite values). For a single dataset the weights are those of a
split: the last ceil(n/5) points are the test points, the others the training points.

>>> import numpy as np
>>> float64_conditioning(np.array([[1.0, 0.5], [0.5, 1.0]]))["det"]
0.75
>>> relative_error(np.array([[1.0, 2.0]]), [[Ball.exact(1), Ball.exact(2)]])
0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from verify.core.balls import Ball
from verify.core.depths import depth_text
from verify.core.errors import InputError
from verify.core.params import DEFAULT, Parameterization
from verify.data.dataset import Dataset
from verify.kernel.routes import PLAIN_MAX_DEPTH, kernel_sweep
from verify.linalg.closed_form import FlowTime, Gaps, Matrix, Problem, SolveResult, solve_blocks
from verify.linalg.conditioning import KERNEL_GUARD_DIGITS, ConditionResult, KernelSource
from verify.linalg.singularity import diagnose

GUARANTEE = "best effort (float64, numpy; no error bound)"
BREAKDOWN_THRESHOLD = 1e-3
SCALARS = ("det", "lambda_min", "lambda_max", "condition_number")


def float64_grams(data: Dataset, depths: Sequence[int], kernel: str,
                  param: Parameterization | None = None) -> dict[int, np.ndarray]:
    """Best effort: the float64 normalized Gram matrix at each depth (engine's float64 route)."""
    res = kernel_sweep(data, depths, kernel, route="float64", param=param)
    return {r.depth: r.mid_array() for r in res}


def float64_conditioning(gram: np.ndarray) -> dict[str, Any]:
    """Best effort: det, log10|det|, lambda_min, lambda_max and cond_2 of a symmetric matrix by numpy."""
    out: dict[str, Any] = {"guarantee": GUARANTEE}
    with np.errstate(all="ignore"):
        try:
            sign, logabs = np.linalg.slogdet(gram)
            eig = np.linalg.eigvalsh(gram)
            out.update(det=float(np.linalg.det(gram)),
                       log10_abs_det=float(logabs / math.log(10)) if sign != 0 else None,
                       lambda_min=float(eig[0]), lambda_max=float(eig[-1]),
                       condition_number=float(np.linalg.cond(gram)), status="ok")
        except np.linalg.LinAlgError as exc:
            out["status"] = f"numpy failed: {exc}"
    return out


def float64_weights(gram: np.ndarray, cross: np.ndarray) -> tuple[np.ndarray | None, str]:
    """Best effort: W = cross gram^-1 by ``numpy.linalg.solve``, and a status ('ok' or why not)."""
    with np.errstate(all="ignore"):
        try:
            w = np.linalg.solve(gram, cross.T).T
        except np.linalg.LinAlgError as exc:
            return None, f"numpy failed: {exc}"
    if not np.all(np.isfinite(w)):
        return None, "numpy failed: non-finite weights"
    return w, "ok"


def float64_flow(gram: np.ndarray, cross: np.ndarray, resid: np.ndarray, tau: float) -> np.ndarray:
    """Best effort: kappa_Z kappa^-1 (I - exp(-tau kappa)) resid via numpy's symmetric eigensolver."""
    lam, q = np.linalg.eigh(gram)
    decay = q @ np.diag(-np.expm1(-tau * lam)) @ q.T
    return cross @ np.linalg.solve(gram, decay @ resid)


def to_float(q: Fraction) -> float:
    """``q`` rounded to float64, +-inf beyond its range (``float(q)`` raises OverflowError there).

    >>> to_float(Fraction(10**400)), to_float(Fraction(-10**400)), to_float(Fraction(1, 10**400))
    (inf, -inf, 0.0)
    """
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def relative_error(approx: np.ndarray | None, exact: Sequence[Sequence[Ball]]) -> float | None:
    """Best effort: max |approx - exact| / max |exact| (absolute if exact is 0); None if no approx
    or if an exact value is beyond float64's range."""
    if approx is None:
        return None
    mids = np.array([[to_float(b.mid_fraction) for b in row] for row in exact])
    if not np.all(np.isfinite(mids)):
        return None
    scale = float(np.max(np.abs(mids))) or 1.0
    err = float(np.max(np.abs(np.asarray(approx, dtype=float) - mids))) / scale
    return err if math.isfinite(err) else math.inf


def scalar_relative_error(value: float | None, exact: Ball | None) -> float | None:
    """Best effort: |value - exact| / |exact| for one number (exact in rationals, then rounded)."""
    if value is None or exact is None or not math.isfinite(value) or exact.mid_fraction == 0:
        return None
    return to_float(abs(Fraction(value) - exact.mid_fraction) / abs(exact.mid_fraction))


def float64_rows(rows: Sequence[Sequence[Fraction]]) -> np.ndarray:
    """Exact rows as a float64 array (+-inf beyond float64's range, never OverflowError)."""
    return np.array([[to_float(v) for v in row] for row in rows], dtype=float)


# ---------------------------------------------------------------- beside the certified results

def float64_solution(train: Dataset, test: Dataset, labels: Matrix, f0_train: Matrix | None,
                     f0_test: Matrix | None, sol: SolveResult, flow: FlowTime | None,
                     param: Parameterization) -> dict[str, Any]:
    """Best effort: ``sol``'s quantities through numpy, and their relative errors against its enclosures.

    (the ``float64`` object of ``ntk-verify solve``: status, det, log10|det|, W, f_inf(Z) and f_t(Z))
    """
    depth, kernel = sol.depth, sol.kernel
    if depth > PLAIN_MAX_DEPTH:
        return {"guarantee": GUARANTEE, "status": f"not computed: float64 iterates layer by layer, up to depth "
                f"{PLAIN_MAX_DEPTH}"}
    gram = float64_grams(train, [depth], kernel, param)[depth]
    cross = kernel_sweep(test, [depth], kernel, route="float64", param=param,
                         columns=train)[0].mid_array()
    y = float64_rows(labels)
    resid = y - (float64_rows(f0_train) if f0_train else 0.0)
    base = float64_rows(f0_test) if f0_test else 0.0
    w, status = float64_weights(gram, cross)
    out: dict[str, Any] = {"guarantee": GUARANTEE, "status": status,
                           **{k: v for k, v in float64_conditioning(gram).items()
                              if k in ("det", "log10_abs_det")}}
    if w is None:
        return out
    pred = base + w @ resid
    out.update(weights=w.tolist(), predictions=pred.tolist(),
               weights_relative_error=relative_error(w, sol.weights),
               predictions_relative_error=relative_error(pred, sol.predictions))
    if flow is not None:
        tau = to_float(flow.tau(kernel, depth, train.n0, param))
        ft = base + float64_flow(gram, cross, resid, tau)
        assert sol.finite_time_predictions is not None    # solved with the same flow time
        out.update(finite_time_predictions=ft.tolist(),
                   finite_time_relative_error=relative_error(ft, sol.finite_time_predictions))
    return out


def float64_condition(c: ConditionResult, gram: np.ndarray, data: Dataset, source: KernelSource) -> dict[str, Any]:
    """Best effort: numpy's conditioning of ``gram`` beside the certified ``c``, with relative errors,
    and (n >= 2) the error of the float64 weights of the split (the ``float64`` object of ``condition``)."""
    f64 = float64_conditioning(gram)
    if not c.singular and f64["status"] == "ok":
        exact = {"det": c.det, "lambda_min": c.lambda_min, "lambda_max": c.lambda_max,
                 "condition_number": c.condition_number}
        f64["relative_error"] = {k: scalar_relative_error(f64[k], exact[k]) for k in SCALARS}
    if data.n >= 2:
        f64.update(split_weights_error(data, source, c.depth, gram))
    return f64


def listed_breakdown(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The first of the listed depths (rows with ``depth`` and their ``float64`` object) where the float64
    weights of the split are off by more than ``BREAKDOWN_THRESHOLD`` or numpy failed."""
    first = None
    for r in rows:
        f = r["float64"]
        status = f.get("weights_status", "")
        err = f.get("weights_relative_error")
        if status.startswith("numpy") or (err is not None and err > BREAKDOWN_THRESHOLD):
            first = r["depth"]
            break
    return {"breakdown_depth": first, "threshold": BREAKDOWN_THRESHOLD}


# ---------------------------------------------------------------- weights of a split

def split_indices(n: int) -> tuple[list[int], list[int]]:
    """(training, test) indices of a dataset's split: the last ceil(n/5) points are test points."""
    if n < 2:
        raise InputError("the float64 weights need at least 2 points (training and test)")
    m = max(1, math.ceil(n / 5))
    return list(range(n - m)), list(range(n - m, n))


def _sub(matrix: Sequence[Sequence[Any]], rows: Sequence[int], cols: Sequence[int]) -> list[list[Any]]:
    return [[matrix[i][j] for j in cols] for i in rows]


def split_weights_error(data: Dataset, source: KernelSource, depth: int,
                        gram64: np.ndarray, digits: int = 8) -> dict[str, Any]:
    """Relative error of the float64 split weights against certified ones at one depth."""
    tr, te = split_indices(data.n)
    train = Dataset(tuple(data.points[i] for i in tr), data.project, data.name)
    if diagnose(train, depth, source.param).singular:
        return {"weights_relative_error": None, "weights_status": "kappa of the split is singular"}

    def blocks(kd: int) -> tuple[Gaps, Gaps]:
        gaps = source.get(depth, kd)[0].gaps
        return _sub(gaps, tr, tr), _sub(gaps, te, tr)

    problem = Problem([[Fraction(0)] for _ in tr])
    value, _, _ = solve_blocks(blocks, problem, digits, None, f"split weights at depth {depth_text(depth)}")
    exact = [[Ball.from_arb(value["weights"][i, j]) for j in range(len(tr))] for i in range(len(te))]
    w64, status = float64_weights(gram64[np.ix_(tr, tr)], gram64[np.ix_(te, tr)])
    return {"weights_relative_error": relative_error(w64, exact), "weights_status": status}


def _broken(entry: dict[str, Any], threshold: float) -> bool:
    err = entry["weights_relative_error"]
    if entry["weights_status"].startswith("kappa"):
        return False
    return entry["weights_status"] != "ok" or err is None or err > threshold


def _errors_at(data: Dataset, kernel: str, depths: Sequence[int], digits: int,
               param: Parameterization, progress: bool | None) -> dict[int, dict[str, Any]]:
    source = KernelSource(data, kernel, param, progress=progress)
    source.prefetch(depths, digits + KERNEL_GUARD_DIGITS)
    grams = float64_grams(data, depths, kernel, param)
    return {d: split_weights_error(data, source, d, grams[d], digits) for d in depths}


def _grid(lo: int, hi: int) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... clipped to [lo, hi], with both ends."""
    out = {lo, hi}
    decade = 1
    while decade <= hi:
        out.update(v for v in (decade, 2 * decade, 5 * decade) if lo <= v <= hi)
        decade *= 10
    return sorted(out)


def breakdown_depth(data: Dataset, kernel: str = "nngp", max_depth: int = 10**5,
                    threshold: float = BREAKDOWN_THRESHOLD, digits: int = 8,
                    param: Parameterization | None = None, progress: bool | None = None,
                    refine_points: int = 40) -> dict[str, Any]:
    """Best effort (a float64 measurement against certified weights): the float64 breakdown depth.

    Searches a 1-2-5 grid decade by decade (each decade one kernel sweep, stopping at
    the first broken depth), then ``refine_points`` depths evenly spread between the
    last good and the first broken grid depth. Depths where the split's kappa is
    exactly singular are skipped.
    """
    param = param or DEFAULT
    tr, _ = split_indices(data.n)
    train = Dataset(tuple(data.points[i] for i in tr), data.project, data.name)
    start = next((d for d in (1, 2, 3) if not diagnose(train, d, param).singular), None)
    if start is None:
        raise InputError("the training part of the split has coinciding points: singular at "
                         "every depth")
    grid = _grid(start, max_depth)
    errors: dict[int, dict[str, Any]] = {}
    first = None
    decade = 10
    while first is None and grid:
        chunk = [d for d in grid if d <= decade]
        grid = grid[len(chunk):]
        decade *= 10
        if not chunk:
            continue
        errors.update(_errors_at(data, kernel, chunk, digits, param, progress))
        first = next((d for d in chunk if _broken(errors[d], threshold)), None)
    if first is not None:
        good = [d for d in errors if d < first]
        lo = max(good) if good else 0
        fine = sorted({lo + (first - lo) * k // (refine_points + 1) for k in range(1, refine_points + 1)}
                      - {lo, first} - set(errors))
        if fine:
            errors.update(_errors_at(data, kernel, fine, digits, param, progress))
        first = min(d for d in errors if _broken(errors[d], threshold))
    return {
        "kernel": kernel, "threshold": threshold, "breakdown_depth": first,
        "searched_up_to": max_depth, "split": {"train": len(tr), "test": data.n - len(tr)},
        "errors": {str(d): errors[d] for d in sorted(errors)},
        "guarantee": "float64 errors are measured against certified weights; the breakdown depth "
                     "is the first depth on the searched grid",
    }

