"""Benchmarks at scale (issue #11): many points, deep networks, start-up, and the Dask executor.

Not timed tests: ``ntk-verify bench --only scale`` writes the figures as JSON. Every
case times its baseline in the same run (ratios mean something on any machine) and
states the issue's target beside the measured figure. ``--size small`` (the default)
runs every case on a few dozen points (one to three minutes, most of it
starting neural-tangents and the Dask cluster); ``--size large`` runs the
issue's sizes (minutes to an hour on two cores).

Cases:

* ``startup``: ``ntk-verify --help`` and one pair at depth 1e5, end to end (separate
  processes, after one warm run), against ``python -c "import numpy, mpmath"``.
* ``certified_both``: both kernels certified at depth 1e4, 30 digits, as the float64
  enclosures of ``--out FILE.npz`` (blocks of rows, :mod:`verify.kernel.pair_blocks`).
* ``memory``: the peak memory of ``kernel --kernel both --out FILE.npz`` at depth 1e4 in a
  fresh process (n = 5000 at ``--size large``: about an hour on two cores).
* ``solve``: the certified closed form (NTK) with 1000 training and 100 test points at depth
  1e4 at ``--size large`` (about 7 minutes on two cores).
* ``certified_vs_float64_loop``: the certified NTK at depth 1e5 against a hand-written
  vectorized numpy loop over the same cosines at the same depth (and how wrong the loop is).
* ``float64_vs_neural_tangents``: the float64 route (both kernels) at depth 50 against
  neural-tangents in a Python that has the ``crosscheck`` extra (``NTK_VERIFY_NT_PYTHON``,
  or this one); skipped with the reason when there is none.
* ``cluster_vs_local``: a Dask ``LocalCluster`` with two worker processes against the local
  pool (extra ``cluster``; skipped without it), results compared entry by entry.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from verify.bench.kernel import machine_info
from verify.bench.solve import split_points
from verify.core.parallel import pool_size
from verify.data.dataset import Dataset
from verify.data.sources import load_dataset
from verify.kernel.routes import KernelResult, kernel_sweep, kernels_sweep
from verify.linalg.closed_form import solve

SIZES: dict[str, dict[str, int]] = {
    "small": {"both_n": 60, "memory_n": 100, "solve_n": 40, "solve_m": 8, "loop_n": 40, "nt_n": 200,
              "cluster_n": 40},
    "large": {"both_n": 1000, "memory_n": 5000, "solve_n": 1000, "solve_m": 100, "loop_n": 300, "nt_n": 1000,
              "cluster_n": 300},
}
CASES = ("startup", "certified_both", "memory", "solve", "certified_vs_float64_loop", "float64_vs_neural_tangents",
         "cluster_vs_local")
DIGITS = 30
BOTH_DEPTH = 10**4
LOOP_DEPTH = 10**5
NT_DEPTH = 50
CLUSTER_DEPTH = 10**4
REPEATS = 3


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _points(n: int) -> Dataset:
    return load_dataset(f"builtin:sphere-{n}")


# ---- start-up ---------------------------------------------------------------------------

def _process_seconds(args: Sequence[str], env: dict[str, str]) -> float:
    """Best of REPEATS wall times of a fresh process (after one warm run)."""
    subprocess.run(args, env=env, check=True, capture_output=True)
    best = math.inf
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def bench_startup(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """Targets: ``--help`` within 3x of importing numpy and mpmath; one pair at 1e5 within 0.5 s."""
    with tempfile.TemporaryDirectory() as tmp:
        pair = Path(tmp) / "pair.csv"
        pair.write_text("1,0,0\n0.5,0.75,0.4330127018922193233818615853764680917357\n")
        # as an installed package runs: with compiled bytecode (kept in a temporary folder)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        base = _process_seconds([sys.executable, "-c", "import numpy, mpmath"], env)
        helps = _process_seconds([sys.executable, "-m", "verify", "--help"], env)
        one = _process_seconds([sys.executable, "-m", "verify", "kernel", "--data", str(pair), "--depth", "1e5",
                                "--quiet"], env)
    return {
        "import_numpy_mpmath_seconds": round(base, 3),
        "help_seconds": round(helps, 3),
        "help_over_import": round(helps / base, 2),
        "help_target": "at most 3x the import of numpy and mpmath",
        "one_pair_depth_1e5_seconds": round(one, 3),
        "one_pair_over_import": round(one / base, 2),
        "one_pair_target_seconds": 0.5,
        "how": f"fresh processes, best of {REPEATS} after a warm run (bytecode and the bounds cache written)",
    }


# ---- certified, both kernels -------------------------------------------------------------

def bench_certified_both(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """n points at depth 1e4, both kernels, 30 certified digits, as the float64 enclosures of
    ``kernel --out FILE.npz`` (``arrays=True``; target: 120 s at n = 1000)."""
    n = SIZES[size]["both_n"]
    data = _points(n)
    pairs = n * (n - 1) // 2
    both, t_kernels = _timed(lambda: kernels_sweep(data, [BOTH_DEPTH], DIGITS, progress=progress, arrays=True))
    workers = pool_size(pairs, 1000)
    worst = min(_min_digits(r) for rs in both.values() for r in rs)
    return {
        "n": n, "pairs": pairs, "depth": BOTH_DEPTH, "digits": DIGITS, "kernels": "nngp and ntk, one pass",
        "workers": workers,
        "seconds": round(t_kernels, 2),
        "core_ms_per_pair": round(1e3 * t_kernels * workers / pairs, 3),
        "min_correct_digits_float64": worst,
        "target_seconds_at_n_1000": 120,
        "arrays": sorted(both["ntk"][0].arrays()),
    }


def _min_digits(res: KernelResult) -> float:
    """The fewest correct digits of any off-diagonal entry's float64 enclosure (-log10 rad/|mid|):
    about 16 (the float64 rounding of the 30-digit balls)."""
    z = res.arrays()
    off = np.eye(*z["mid"].shape) == 0
    return round(float(np.min(-np.log10(z["rad"][off] / np.abs(z["mid"][off])))), 2)


# ---- memory ----------------------------------------------------------------------------

MEMORY_SCRIPT = """
import json, resource, sys, tempfile, time
from pathlib import Path
from verify.cli import main
n, depth = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "k.npz"
    start = time.perf_counter()
    code = main(["kernel", "--data", "builtin:sphere-" + n, "--depth", depth, "--kernel", "both",
                 "--out", str(out), "--quiet"])
    seconds = time.perf_counter() - start
    size = out.stat().st_size
print(json.dumps({"exit": code, "seconds": seconds, "npz_bytes": size,
                  "parent_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "worker_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def bench_memory(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """Peak memory of ``kernel --kernel both --out FILE.npz`` (certified, 30 digits) in a fresh process
    (target: n = 5000 at depth 1e4 in at most 4 GB). Linux/macOS (``resource``); ru_maxrss in kB as on Linux."""
    n, depth = SIZES[size]["memory_n"], BOTH_DEPTH
    run = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n), str(depth)], check=True,
                         capture_output=True, text=True)
    got = json.loads(run.stdout.strip().splitlines()[-1])
    workers = pool_size(n * (n - 1) // 2, 1000)
    parent, worker = got["parent_kb"] / 1024, got["worker_kb"] / 1024
    return {
        "n": n, "depth": depth, "digits": DIGITS, "kernels": "nngp and ntk", "exit": got["exit"],
        "seconds": round(got["seconds"], 1),
        "npz_mb": round(got["npz_bytes"] / 2**20, 1),
        "peak_parent_mb": round(parent, 1),
        "peak_largest_worker_mb": round(worker, 1),
        "peak_total_mb_at_most": round(parent + workers * worker, 1),
        "result_arrays_mb": round(2 * 4 * n * n * 8 / 2**20, 1),
        "target_mb_at_n_5000": 4096,
    }


# ---- solve at scale ------------------------------------------------------------------------

def bench_solve_at_scale(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """The certified closed form with n training and m test points at depth 1e4, 30 digits, NTK
    (target: n = 1000, m = 100 in at most 10 minutes). No baseline reaches this size (plain mpmath
    took 756 s for n = 100 in ``bench --only solve``); the figure is absolute."""
    n, m = SIZES[size]["solve_n"], SIZES[size]["solve_m"]
    train, test = split_points(n, m)
    labels = [[p[0]] for p in train.points]
    sol, seconds = _timed(lambda: solve(train, labels, test, BOTH_DEPTH, "ntk", DIGITS, progress=progress))
    worst = min(b.correct_digits() for row in [*sol.weights, *sol.predictions] for b in row)
    return {
        "n": n, "m": m, "depth": BOTH_DEPTH, "digits": DIGITS, "kernel": "ntk", "data": f"{train.name} / {test.name}",
        "seconds": round(seconds, 1),
        "kernel_seconds": sol.seconds_kernels,
        "algebra_seconds": sol.seconds_algebra,
        "working_precision_bits": sol.working_precision_bits,
        "kernel_digits": sol.kernel_digits,
        "digits_lost": sol.digits_lost,
        "min_correct_digits": round(worst, 2),
        "target_seconds_at_n_1000_m_100": 600,
    }


# ---- certified vs a numpy loop -------------------------------------------------------------

def numpy_ntk_loop(cosines: np.ndarray, depth: int) -> np.ndarray:
    """The baseline a user writes by hand: the normalized NTK of a depth-L ReLU net, vectorized float64.

    rho^(l+1) = h(rho^(l)), ThetaBar^(l+1) = (rho^(l+1) + l ThetaBar^(l) kappa0(rho^(l))) / (l + 1),
    h(z) = (sqrt(1 - z^2) + z (pi - arccos z)) / pi, kappa0(z) = (pi - arccos z) / pi (MATH.md).
    """
    rho = np.clip(cosines.astype(np.float64), -1.0, 1.0)
    theta = rho.copy()
    for layer in range(1, depth):
        angle = np.pi - np.arccos(rho)
        kappa0 = angle / np.pi
        rho = np.minimum((np.sqrt(1.0 - rho * rho) + rho * angle) / np.pi, 1.0)
        theta = (rho + layer * theta * kappa0) / (layer + 1)
    return theta


def bench_certified_vs_float64_loop(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """Target (n = 300, depth 1e5, NTK): certified at least 5x faster than the numpy loop."""
    n = SIZES[size]["loop_n"]
    data = _points(n)
    iu = np.triu_indices(n, 1)
    cosines = np.clip(data.float_points() @ data.float_points().T, -1.0, 1.0)[iu]
    cert, t_cert = _timed(lambda: kernel_sweep(data, [LOOP_DEPTH], "ntk", DIGITS, progress=progress)[0])
    loop, t_loop = _timed(lambda: numpy_ntk_loop(cosines, LOOP_DEPTH))
    mids = cert.mid_array()[iu]
    rel = np.abs(loop - mids) / np.abs(mids)
    return {
        "n": n, "pairs": len(cosines), "depth": LOOP_DEPTH, "kernel": "ntk", "digits": DIGITS,
        "certified_seconds": round(t_cert, 2),
        "numpy_loop_seconds": round(t_loop, 2),
        "speedup_certified_vs_loop": round(t_loop / t_cert, 2),
        "target_speedup": 5,
        "numpy_loop_max_relative_error": float(f"{rel.max():.3g}"),
        "numpy_loop_median_relative_error": float(f"{np.median(rel):.3g}"),
        "certified_min_correct_digits": _min_digits(cert),
    }


# ---- float64 route vs neural-tangents ------------------------------------------------------

NT_SCRIPT = """
import sys, time, numpy as np
import jax
jax.config.update("jax_enable_x64", True)
from neural_tangents import stax
x = np.load(sys.argv[1]); depth = int(sys.argv[2])
start = time.perf_counter()
layers = [stax.Dense(1, W_std=1.0, b_std=None, parameterization="ntk"), stax.Relu()] * (depth - 1)
_, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=None, parameterization="ntk"))
kernel_fn = jax.jit(kernel_fn, static_argnames="get")
k = kernel_fn(x, None, get=("nngp", "ntk"))
nngp, ntk = (np.asarray(v) for v in k)
first = time.perf_counter() - start
start = time.perf_counter()
k = kernel_fn(x, None, get=("nngp", "ntk"))
np.asarray(k[1])
second = time.perf_counter() - start
np.savez(sys.argv[3], nngp=nngp, ntk=ntk, first=first, second=second)
"""


def _nt_python() -> tuple[str | None, str]:
    """A Python that can import neural_tangents: NTK_VERIFY_NT_PYTHON, else this one; or (None, why not)."""
    candidates = [c for c in (os.environ.get("NTK_VERIFY_NT_PYTHON"), sys.executable) if c]
    for python in candidates:
        try:
            ok = subprocess.run([python, "-c", "import neural_tangents"], capture_output=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if ok.returncode == 0:
            return python, ""
    return None, ("neural-tangents is not installed here (the 'crosscheck' extra); set NTK_VERIFY_NT_PYTHON "
                  "to a Python that has it")


def bench_float64_vs_neural_tangents(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """Target (n = 1000, depth 50): the float64 route no slower than neural-tangents, values equal to 1e-12."""
    n = SIZES[size]["nt_n"]
    python, why = _nt_python()
    if python is None:
        return {"skipped": why}
    data = _points(n)
    x = data.float_points()
    ours, t_ours = _timed(lambda: kernels_sweep(data, [NT_DEPTH], route="float64", progress=progress))
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "x.npy", x)
        out = Path(tmp) / "nt.npz"
        start = time.perf_counter()
        subprocess.run([python, "-c", NT_SCRIPT, str(Path(tmp) / "x.npy"), str(NT_DEPTH), str(out)],
                       check=True, capture_output=True)
        t_process = time.perf_counter() - start
        with np.load(out) as z:
            nt = {name: np.array(z[name]) for name in ("nngp", "ntk")}
            t_first, t_second = float(z["first"]), float(z["second"])
    deviation, above, diag_dev = 0.0, 0, 0.0
    off = ~np.eye(n, dtype=bool)
    normalized: dict[str, np.ndarray] = {}
    for name, raw in nt.items():
        exact_diag = float(ours[name][0].raw_factor)           # Sigma^(L)(x,x) or Theta^(L)(x,x), exact
        normalized[name] = raw / exact_diag
        diff = np.abs(normalized[name] - ours[name][0].entries)[off]
        deviation = max(deviation, float(diff.max()))
        above += int(np.count_nonzero(diff > 1e-12))
        diag_dev = max(diag_dev, float(np.max(np.abs(np.diag(raw) / exact_diag - 1))))
    judged = _judge_disagreements(data, {name: r[0].entries for name, r in ours.items()}, normalized)
    return {
        "n": n, "pairs": n * (n - 1) // 2, "depth": NT_DEPTH, "kernels": "nngp and ntk",
        "float64_route_seconds": round(t_ours, 3),
        "neural_tangents_seconds_with_compilation": round(t_first, 3),
        "neural_tangents_seconds_compiled": round(t_second, 3),
        "neural_tangents_process_seconds": round(t_process, 3),
        "ratio_ours_over_nt_with_compilation": round(t_ours / t_first, 2),
        "ratio_ours_over_nt_compiled": round(t_ours / t_second, 2),
        "target": "no slower than neural-tangents (ratio <= 1)",
        "max_abs_difference_normalized_off_diagonal": float(f"{deviation:.3g}"),
        "off_diagonal_entries_differing_by_more_than_1e-12": f"{above} of {2 * n * (n - 1)} (both kernels)",
        "neural_tangents_max_relative_error_of_its_diagonal": float(f"{diag_dev:.3g}"),
        "target_difference": 1e-12,
        "note": "both float64 NTKs drift near cosine 1 (arccos' infinite slope): neural-tangents' diagonal, "
                "exactly L/(n0 2^(L-1)), is off by the relative error above; off the diagonal the entries that "
                "differ by more than 1e-12 are judged against certified values below, which say whose float64 "
                "drifted there",
        "entries_differing_by_more_than_1e-12_against_certified": judged,
        "neural_tangents_python": python,
    }


def _judge_disagreements(data: Dataset, ours: dict[str, np.ndarray], theirs: dict[str, np.ndarray],
                         tol: float = 1e-12) -> dict[str, Any]:
    """Where the two float64 answers differ by more than ``tol`` off the diagonal: the largest error of
    each against certified values of those entries (20 digits, direct iteration at NT_DEPTH), so a
    disagreement says whose float64 drifted."""
    cells = {name: np.argwhere((np.abs(ours[name] - theirs[name]) > tol) & ~np.eye(data.n, dtype=bool))
             for name in ours}
    involved = sorted({int(k) for c in cells.values() for k in c.ravel()})
    if not involved:
        return {"entries": 0}
    where = {k: u for u, k in enumerate(involved)}
    sub = Dataset(tuple(data.points[k] for k in involved), data.project, f"{data.name} (entries that differ)")
    certified = kernels_sweep(sub, [NT_DEPTH], 20, progress=False)
    out: dict[str, Any] = {"entries": int(sum(len(c) for c in cells.values())), "certified_digits": 20}
    for name, c in cells.items():
        if not len(c):
            continue
        exact = certified[name][0].arrays()["mid"]
        truth = np.array([exact[where[int(i)], where[int(j)]] for i, j in c])
        out[f"{name}_ours_max_error"] = float(f"{np.max(np.abs(ours[name][c[:, 0], c[:, 1]] - truth)):.3g}")
        out[f"{name}_neural_tangents_max_error"] = float(
            f"{np.max(np.abs(theirs[name][c[:, 0], c[:, 1]] - truth)):.3g}")
    return out


# ---- Dask cluster vs local processes ------------------------------------------------------

def bench_cluster_vs_local(size: str = "small", progress: bool | None = None) -> dict[str, Any]:
    """Target (n = 300, depth 1e4): two local Dask workers within 1.5x of the local pool; identical entries."""
    try:
        distributed = importlib.import_module("distributed")          # optional: typed as Any here
    except ImportError:
        return {"skipped": "dask[distributed] is not installed (the optional extra 'cluster')"}
    n = SIZES[size]["cluster_n"]
    data = _points(n)
    local, t_local = _timed(lambda: kernels_sweep(data, [CLUSTER_DEPTH], DIGITS, progress=progress))
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster:
        t_start = time.perf_counter() - start
        remote, t_remote = _timed(lambda: kernels_sweep(data, [CLUSTER_DEPTH], DIGITS, progress=progress,
                                                        scheduler=cluster.scheduler_address))
    same = all(a.entries == b.entries and a.gaps == b.gaps
               for name in local for a, b in zip(local[name], remote[name], strict=True))
    return {
        "n": n, "pairs": n * (n - 1) // 2, "depth": CLUSTER_DEPTH, "digits": DIGITS, "kernels": "nngp and ntk",
        "local_seconds": round(t_local, 2),
        "cluster_seconds": round(t_remote, 2),
        "cluster_start_seconds": round(t_start, 2),
        "cluster_over_local": round(t_remote / t_local, 2),
        "target_ratio": 1.5,
        "identical_entries": same,
        "cluster": "distributed.LocalCluster, 2 worker processes, 1 thread each",
    }


RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "startup": bench_startup,
    "certified_both": bench_certified_both,
    "memory": bench_memory,
    "solve": bench_solve_at_scale,
    "certified_vs_float64_loop": bench_certified_vs_float64_loop,
    "float64_vs_neural_tangents": bench_float64_vs_neural_tangents,
    "cluster_vs_local": bench_cluster_vs_local,
}


def bench_scale(size: str = "small", cases: Sequence[str] | None = None,
                progress: bool | None = None) -> dict[str, Any]:
    """Run the cases (all by default) at ``size`` ("small" or "large"); the figures as a JSON-ready dict."""
    chosen = list(cases or CASES)
    out: dict[str, Any] = {"size": size, "machine": machine_info(), "cases": {}}
    for name in chosen:
        out["cases"][name] = RUNNERS[name](size, progress)
    return out


if __name__ == "__main__":            # python -m verify.bench.scale [small|large] [case ...]
    print(json.dumps(bench_scale(sys.argv[1] if len(sys.argv) > 1 else "small", sys.argv[2:] or None), indent=1))
