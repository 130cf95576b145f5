"""``ntk-verify condition``: certified conditioning of kappa over depths, float64 beside it, breakdown depth.

JSON (``--format json``): ``depths`` holds one object per depth with certified
enclosures ``det``, ``log10_abs_det``, ``log10_abs_det_raw`` (default model),
``lambda_min``, ``lambda_max``, ``eigenvalues`` (ascending), ``condition_number``
(cond_2 = lambda_max / lambda_min) and ``condition_number_bounds`` ([lower, upper]
decimals rounded outward), ``log10_cond2`` (log10 of the midpoint of the certified cond_2
enclosure; ``solve``'s ``digits_lost`` is log10 of an upper bound on cond_1), ``working_precision_bits``,
``kernel_digits``; at a depth where kappa is singular by the data's structure,
``singular: true`` with the exact ``diagnosis`` and ``det`` = 0. Coinciding points
make kappa singular at every depth: exit 2 with one line, as ``solve``. ``regime``
states the data's invertibility regime for the model used (with a bias, distinct
points are invertible for every L >= 2). ``float64`` gives
numpy's values (best effort) and their ``relative_error`` against the enclosures,
including the weights of the split (last ceil(n/5) points as test points).
``breakdown`` gives the first depth whose float64 weights have relative error
> 1e-3 (or numpy fails): over the listed depths, or with ``--breakdown-search`` over
a 1-2-5 grid refined between its last good and first broken depth.

The network options are those of ``kernel`` (``--activation``, ``--architecture``,
``--parameterization``, ``--width``, ``--sigma-w2``, ``--sigma-b2``); ``model`` states it in full.
Outside the seed family (ReLU MLPs in NTK parameterization) the float64 comparison and the
breakdown search are not computed yet (``float64.status`` says so).
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
    parse_int_list,
    progress_from_args,
    value_text,
)
from verify.core.depths import check_depth
from verify.core.errors import InputError
from verify.core.precision import check_digits
from verify.data.sources import load_dataset
from verify.linalg.conditioning import KernelSource, conditioning_sweep, network_json, regime_meaning
from verify.linalg.float64_linalg import (
    BREAKDOWN_THRESHOLD,
    GUARANTEE,
    breakdown_depth,
    float64_condition,
    float64_grams,
    listed_breakdown,
)
from verify.linalg.singularity import regime_of, require_distinct


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("condition", help="certified det, spectrum and condition number of kappa",
                       description="Certified det(kappa), log10|det|, eigenvalues and cond_2 at "
                       "each depth, float64 beside them, and the depth where float64 breaks down.")
    p.add_argument("--data", required=True, help="CSV/.npy path or builtin:NAME")
    p.add_argument("--depths", required=True, help="comma-separated depths, e.g. 1,10,100,1e4")
    add_kernel_and_digits(p)
    add_scheduler_argument(p, "the kernels K(X, X)")
    p.add_argument("--breakdown-search", action="store_true",
                   help="search the float64 breakdown depth on a grid (not only the listed depths)")
    p.add_argument("--breakdown-max", help="largest depth of that search (default: the largest "
                   "listed depth)")
    finish_parser(p, run, render_table, models=True)


FLOAT64_SEED_ONLY = "not computed for this model: the float64 comparison covers ReLU MLPs in NTK parameterization"



def run(args: argparse.Namespace) -> dict[str, Any]:
    depths = sorted({check_depth(d) for d in parse_int_list(args.depths, "--depths")})
    digits = check_digits(args.digits)
    network = network_from_args(args)
    seed = network.is_seed_family
    if args.breakdown_search and not seed:
        raise InputError(f"--breakdown-search: {FLOAT64_SEED_ONLY}")
    data = load_dataset(args.data, args.project)
    progress = progress_from_args(args)
    start = time.perf_counter()
    source = KernelSource(data, args.kernel, progress=progress, model=network, scheduler=args.scheduler)
    param = source.param
    regime = regime_of(data, param)
    require_distinct(data, regime)
    conds = conditioning_sweep(data, depths, args.kernel, digits, progress=progress, source=source)
    if seed:
        grams = float64_grams(data, depths, args.kernel, param)
        rows = [{**c.to_json(), "float64": float64_condition(c, grams[c.depth], data, source)} for c in conds]
    else:
        rows = [{**c.to_json(), "float64": {"guarantee": GUARANTEE, "status": FLOAT64_SEED_ONLY}} for c in conds]
    if args.breakdown_search:
        top = check_depth(args.breakdown_max) if args.breakdown_max else max(depths)
        breakdown = breakdown_depth(data, args.kernel, top, param=param, progress=progress)
    elif seed:
        breakdown = {**listed_breakdown(rows),
                     "searched": "the listed depths (use --breakdown-search for a grid search)"}
    else:
        breakdown = {"breakdown_depth": None, "threshold": BREAKDOWN_THRESHOLD, "searched": FLOAT64_SEED_ONLY}
    return {"command": "condition", "data": data.name, "n": data.n, "n0": data.n0,
            "kernel": args.kernel, "digits": digits, "projection": data.project,
            **network_json(param, network), **kernel_method_json(network),
            "regime": {"name": regime.name, "meaning": regime_meaning(regime, network)},
            "depths": rows, "breakdown": breakdown,
            "seconds": round(time.perf_counter() - start, 3)}


def render_table(p: dict[str, Any], args: argparse.Namespace) -> str:
    d = min(p["digits"], 10)
    lines = [f"{p['kernel'].upper()} kappa on {p['data']} (n = {p['n']}, n0 = {p['n0']}): "
             f"{p['regime']['meaning']}",
             f"model: {model_text(p['model'])}   certified enclosures to {p['digits']} digits; "
             "float64 columns are best effort",
             "depth | det | log10|det| | lambda_min | lambda_max | cond_2 | float64 rel. err. (det, W)"]
    for r in p["depths"]:
        if r["singular"]:
            lines.append(f"{r['depth']} | SINGULAR: {r['diagnosis']}")
            continue
        f = r["float64"]
        rel = f.get("relative_error", {})
        lines.append(" | ".join([
            str(r["depth"]), value_text(r["det"], d), value_text(r["log10_abs_det"], d),
            value_text(r["lambda_min"], d), value_text(r["lambda_max"], d),
            "[" + ", ".join(r["condition_number_bounds"]) + "]",
            f"{_fmt(rel.get('det'))}, {_fmt(f.get('weights_relative_error'))}"]))
    b = p["breakdown"]
    found = b["breakdown_depth"] if b["breakdown_depth"] else "none found"
    lines.append(f"float64 breakdown depth (W error > {b['threshold']}): "
                 f"{found if b.get('searched') != FLOAT64_SEED_ONLY else FLOAT64_SEED_ONLY}")
    lines += kernel_method_lines(p)
    lines.append(f"time: {p['seconds']} s")
    return "\n".join(lines)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1e}"
