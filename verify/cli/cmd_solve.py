"""``ntk-verify solve``: the closed-form solution W, f_inf(Z) and f_t(Z), certified, with float64 beside it.

JSON (``--format json``): every enclosure is ``{"mid", "rad"}`` as in ``kernel``.

| key | meaning |
| --- | --- |
| ``weights`` | m rows of n enclosures: W = kappa_Z kappa^-1 |
| ``predictions`` | m rows of k enclosures: f_inf(Z) = f_0(Z) + W (Y - f_0(X)) |
| ``finite_time`` | null, or ``{t, lr, time_scale, predictions, train_predictions}``: f_t(Z), f_t(X) |
| ``det``, ``log10_abs_det`` | det(kappa) and log10 det(kappa) of the normalized kernel |
| ``log10_abs_det_raw`` | log10 det of the raw kernel (default model; null otherwise) |
| ``digits_lost`` | log10 of a certified upper bound on cond_1(kappa) |
| ``working_precision_bits`` | precision of the linear algebra that met the request |
| ``kernel_digits``, ``kernel_working_precision_bits`` | relative digits of the kernel gaps used, and their precision |
| ``diagnosis`` | the exact invertibility regime of the training set |
| ``float64`` | best effort: the same through numpy, with relative errors against the enclosures |
| ``model`` | the network in full (options as ``kernel``: ``--activation``, ``--architecture``, ...) |

Outside the seed family (ReLU MLPs in NTK parameterization) the kernels come from direct iteration and
the float64 comparison is not computed yet (``float64.status`` says so).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from verify.cli.common import (
    add_kernel_and_digits,
    add_scheduler_argument,
    finish_parser,
    kernel_method_json,
    kernel_method_lines,
    model_text,
    network_from_args,
    progress_from_args,
    value_text,
)
from verify.core.depths import check_depth, depth_text
from verify.core.errors import InputError
from verify.core.precision import check_digits
from verify.data.sources import load_dataset
from verify.linalg.closed_form import TIME_SCALES, flow_time, load_labels, solve
from verify.linalg.conditioning import network_json
from verify.linalg.float64_linalg import GUARANTEE, float64_solution

MAX_TABLE_COLUMNS = 6


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("solve", help="certified closed-form solution W, f_inf(Z), f_t(Z)",
                       description="W = kappa_Z kappa^-1 and the predictions of Proposition 3 as "
                       "certified enclosures, with det(kappa), the digits the conditioning costs, "
                       "and the same quantities in float64 beside them.")
    p.add_argument("--train", required=True, help="training points: CSV/.npy path or builtin:NAME")
    p.add_argument("--labels", required=True, help="labels: CSV/.npy, n rows of k values")
    p.add_argument("--test", required=True, help="test points: CSV/.npy path or builtin:NAME")
    p.add_argument("--depth", required=True, help="depth L >= 1")
    add_kernel_and_digits(p)
    p.add_argument("--time", help="gradient-flow time t for f_t (decimal)")
    p.add_argument("--lr", help="learning rate eta for f_t (decimal, default 1)")
    p.add_argument("--time-scale", default="normalized", choices=TIME_SCALES,
                   help="flow with the normalized kernel (default) or the raw one")
    p.add_argument("--f0-train", help="f_0 on the training points (CSV/.npy, n rows of k)")
    p.add_argument("--f0-test", help="f_0 on the test points (CSV/.npy, m rows of k)")
    add_scheduler_argument(p, "the kernel blocks (K(X, X) and K(Z, X))")
    finish_parser(p, run, render_table, models=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    depth, digits = check_depth(args.depth), check_digits(args.digits)
    if args.lr is not None and args.time is None:
        raise InputError("--lr needs --time")
    flow = flow_time(args.time, args.lr or "1", args.time_scale) if args.time is not None else None
    network = network_from_args(args)
    train = load_dataset(args.train, args.project)
    test = load_dataset(args.test, args.project)
    labels = load_labels(args.labels, train.n)
    f0_train = load_labels(args.f0_train, train.n, "f0 on the training points") if args.f0_train else None
    f0_test = load_labels(args.f0_test, test.n, "f0 on the test points") if args.f0_test else None
    start = time.perf_counter()
    sol = solve(train, labels, test, depth, args.kernel, digits, flow, f0_train, f0_test,
                progress=progress_from_args(args), model=network, scheduler=args.scheduler)
    seconds = time.perf_counter() - start
    out = {"command": "solve", "train": train.name, "test": test.name, "labels": args.labels,
           "n0": train.n0, "projection": train.project, **network_json(sol.parameterization, network),
           **kernel_method_json(network),
           **sol.to_json(), "seconds": round(seconds, 3)}
    if network.is_seed_family:
        out["float64"] = float64_solution(train, test, labels, f0_train, f0_test, sol, flow, sol.parameterization)
    else:
        out["float64"] = {"guarantee": GUARANTEE, "status": "not computed for this model: the float64 comparison "
                          "covers ReLU MLPs in NTK parameterization"}
    return out


def render_table(p: dict[str, Any], args: argparse.Namespace) -> str:
    d = p["digits"]
    lines = [
        f"{p['kernel'].upper()} closed-form solution, depth L = {depth_text(int(p['depth']))}: train {p['train']} "
        f"(n = {p['n']}), test {p['test']} (m = {p['m']}), labels k = {p['k']}",
        f"model: {model_text(p['model'])}   guarantee: {p['guarantee'].upper()} "
        f"({d} digits)",
        f"training set: {p['diagnosis']['regime_meaning']}",
        f"det(kappa) = {value_text(p['det'], d)}   log10|det| = {value_text(p['log10_abs_det'], d)}",
        f"digits lost (log10 cond_1 upper bound) = {p['digits_lost']}   working precision "
        f"{p['working_precision_bits']} bits, kernel gaps to {p['kernel_digits']} digits",
        "weights W = kappa_Z kappa^-1:",
        *matrix_lines(p["weights"], d, MAX_TABLE_COLUMNS),
        "predictions f_inf(Z):",
        *matrix_lines(p["predictions"], d, MAX_TABLE_COLUMNS),
    ]
    if p["finite_time"]:
        ft = p["finite_time"]
        lines += [f"predictions f_t(Z) at t = {ft['t']}, eta = {ft['lr']} ({ft['time_scale']} kernel):",
                  *matrix_lines(ft["predictions"], d, MAX_TABLE_COLUMNS)]
    f64 = p["float64"]
    lines.append(f"float64 (best effort): {f64['status']}; relative error of W "
                 f"{_err(f64.get('weights_relative_error'))}, of f_inf "
                 f"{_err(f64.get('predictions_relative_error'))}")
    lines += kernel_method_lines(p)
    lines.append(f"time: {p['seconds']} s")
    return "\n".join(lines)


def _err(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2e}"


def matrix_lines(rows: list[list[dict[str, str]]], digits: int, max_cols: int) -> list[str]:
    """Table rows '[i] e_i0  e_i1 ...' of a matrix of JSON enclosures (at most ``max_cols``)."""
    return [f"[{i}] " + "  ".join(value_text(e, min(digits, 12)) for e in row[:max_cols])
            + ("  …" if len(row) > max_cols else "") for i, row in enumerate(rows)]
