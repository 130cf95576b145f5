"""``ntk-verify kernel``: the normalized kernel matrix of a dataset at depth L.

The network is given by ``--activation``, ``--architecture``, ``--parameterization``, ``--width``,
``--sigma-w2`` and ``--sigma-b2`` (default: ReLU MLP, NTK parameterization, sigma_w^2 = 1, no bias);
the JSON states it in full (``model``) and each depth's ``method`` says how it was computed
(direct iteration, the asymptotic series, or an invariant box: see the README's Models section).
``--out FILE.npz`` on a certified route computes by blocks of rows and keeps float64 enclosures
only (:mod:`verify.kernel.pair_blocks`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from verify.cli.common import (
    add_kernel_and_digits,
    add_scheduler_argument,
    finish_parser,
    model_text,
    network_from_args,
    plan_announcer,
    progress_from_args,
)
from verify.cli.output import check_output_path, write_new_file
from verify.core.depths import check_depth, parse_depth_list
from verify.core.errors import InputError
from verify.core.params import quoted
from verify.core.precision import check_digits
from verify.data.sources import load_dataset
from verify.kernel.routes import BOTH, CERTIFIED_ROUTES, ROUTES, KernelResult, kernel_sweep, kernels_sweep

MAX_TABLE_COLUMNS = 6
# Sweep caps, for output size: a sweep prints one full n x n matrix per depth, twice in JSON
# (the entries and 1 - entries, about 200 bytes an entry at 30 digits). At most 1000 depths
# (1000 depths of the built-in 10-point set are already about 40 MB) and at most 4 million
# entries in all (depths x n^2: about 800 MB of JSON). Longer sweeps are refused before
# anything is computed; list the depths you need with --depths instead.
MAX_SWEEP_DEPTHS = 1000
MAX_SWEEP_ENTRIES = 4_000_000

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kernel", help="normalized NTK/NNGP kernel matrix at depth L",
                       description="Normalized kernel matrix (ones on the diagonal). "
                       "certified: every entry is an enclosure of the exact value; "
                       "mpmath and float64: best effort, no error bound.")
    p.add_argument("--data", default="builtin:sphere-10", help="CSV/.npy path or builtin:NAME")
    depth = p.add_mutually_exclusive_group(required=True)
    depth.add_argument("--depth", help="depth L >= 1 (number of dense layers)")
    depth.add_argument("--depths", help=f"comma-separated depths for a one-pass sweep (at most {MAX_SWEEP_DEPTHS})")
    p.add_argument("--every-depth", action="store_true",
                   help=f"with --depth L: sweep every depth 1..L in one pass (L <= {MAX_SWEEP_DEPTHS}: "
                   "the output holds one n x n matrix per depth)")
    add_kernel_and_digits(p, both=True)
    p.add_argument("--route", default="certified", choices=ROUTES)
    add_scheduler_argument(p, "the pairs")
    p.add_argument("--out", help="write the result to a new FILE.npz (float64 arrays for large n: KERNEL_mid, "
                   "KERNEL_rad, KERNEL_gap_mid, KERNEL_gap_rad of shape (depths, n, m), depths, meta) or "
                   "FILE.json (the JSON below); an existing file is refused; stdout then gets a summary")
    finish_parser(p, run, render_table, models=True)


def requested_depths(args: argparse.Namespace) -> list[int]:
    """The depths of --depth L, --depth L --every-depth or --depths LIST (sweeps capped, see MAX_SWEEP_DEPTHS)."""
    if args.depth is None:
        if args.every_depth:
            raise InputError("--every-depth goes with --depth L (it sweeps 1..L), not with --depths")
        depths = sorted(set(parse_depth_list(args.depths, "--depths")))
        if len(depths) > MAX_SWEEP_DEPTHS:
            raise InputError(f"--depths lists {len(depths)} depths; at most {MAX_SWEEP_DEPTHS} "
                             "(the output holds one n x n matrix per depth)")
        return depths
    top = check_depth(args.depth, "--depth")
    if not args.every_depth:
        return [top]
    if top > MAX_SWEEP_DEPTHS:
        raise InputError(f"--every-depth sweeps at most {MAX_SWEEP_DEPTHS} depths (the output holds one "
                         f"n x n matrix per depth), got --depth {quoted(args.depth)}; list depths with --depths")
    return list(range(1, top + 1))


def run(args: argparse.Namespace) -> dict[str, Any]:
    out = None
    if args.out is not None:
        if not str(args.out).endswith((".npz", ".json")):
            raise InputError(f"--out {args.out}: name a .npz or .json file")
        out = check_output_path(args.out, "new-file")            # before any computing
    depths = requested_depths(args)
    digits = check_digits(args.digits)
    network = network_from_args(args)
    data = load_dataset(args.data, args.project)
    if len(depths) > 1 and len(depths) * data.n**2 > MAX_SWEEP_ENTRIES:
        raise InputError(f"a sweep of {len(depths)} depths over {data.n} points prints {len(depths) * data.n**2} "
                         f"matrix entries; at most {MAX_SWEEP_ENTRIES} (output size): ask for fewer depths")
    names = ("nngp", "ntk") if args.kernel == BOTH else (args.kernel,)
    npz = out is not None and out.suffix == ".npz"
    options: dict[str, Any] = {"digits": digits, "route": args.route, "model": network,
                               "progress": progress_from_args(args), "on_plan": plan_announcer(args),
                               "scheduler": args.scheduler,
                               # certified arrays straight from the workers: no ball kept per entry
                               "arrays": npz and args.route in CERTIFIED_ROUTES}
    if args.kernel == BOTH:                       # one pass: the NTK recursion carries rho
        by_kernel = kernels_sweep(data, depths, **options)
    else:
        by_kernel = {args.kernel: kernel_sweep(data, depths, kernel=args.kernel, **options)}
    if out is not None and npz:
        return _write_npz(out, by_kernel, depths)
    payloads = {name: _payload([r.to_json() for r in by_kernel[name]]) for name in names}
    payload = {"kernel": BOTH, **payloads} if args.kernel == BOTH else payloads[args.kernel]
    if out is not None:
        write_new_file(out, (json.dumps(payload, indent=1) + "\n").encode())
        return {"out": str(out), "format": "json", "kernels": list(names), "depths": depths}
    return payload


def _write_npz(out: Path, by_kernel: dict[str, list[KernelResult]], depths: list[int]) -> dict[str, Any]:
    """float64 arrays per kernel (stacked over depths) and the metadata as a JSON string; no pickles.

    Memory: one depth's arrays are written as views (no stacked copy), best-effort radii
    are a broadcast NaN (no array), and the archive is written straight to the file.
    """
    arrays: dict[str, np.ndarray] = {"depths": np.array([str(d) for d in depths])}
    meta = {name: [r.metadata() for r in results] for name, results in by_kernel.items()}
    for name, results in by_kernel.items():
        per_depth = [r.arrays() for r in results]
        for key in per_depth[0]:
            stacked = [a[key] for a in per_depth]
            arrays[f"{name}_{key}"] = stacked[0][np.newaxis] if len(stacked) == 1 else np.stack(stacked)
    arrays["meta"] = np.array(json.dumps(meta))
    write_new_file(out, lambda fh: np.savez(fh, **arrays))      # type: ignore[arg-type]
    return {"out": str(out), "format": "npz", "kernels": list(by_kernel), "depths": depths,
            "arrays": sorted(arrays)}


def _payload(payloads: list[dict[str, Any]]) -> dict[str, Any]:
    if len(payloads) == 1:
        return payloads[0]
    return {"sweep": payloads, "depths": [p["depth"] for p in payloads]}


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    if "out" in payload:
        return f"wrote {payload['out']} ({payload['format']}: {', '.join(payload['kernels'])} at " \
               f"{len(payload['depths'])} depth(s))"
    if payload.get("kernel") == BOTH:
        return "\n\n".join(render_table(payload[name], args) for name in ("nngp", "ntk"))
    blocks = payload.get("sweep", [payload])
    return "\n\n".join(_render_one(b) for b in blocks)


def _render_one(p: dict[str, Any]) -> str:
    lines = [
        f"{p['kernel'].upper()} normalized kernel ({p['normalized']}), depth L = {p['depth']}, "
        f"data {p['data']} (n = {p['n']}, n0 = {p['n0']}, projection {p['projection']})",
        f"model: {model_text(p['model'])}",
        f"route: {p['route']}  guarantee: {p['guarantee'].upper()}"
        + (f"  working precision: {p['working_precision_bits']} bits"
           if p["working_precision_bits"] else ""),
        f"raw kernel = {p['raw_factor']['value']} x normalized",
    ]
    # every entry is shown: wide matrices are printed in blocks of MAX_TABLE_COLUMNS columns (as numpy wraps)
    for start in range(0, p["m"], MAX_TABLE_COLUMNS):
        stop = min(p["m"], start + MAX_TABLE_COLUMNS)
        if p["m"] > MAX_TABLE_COLUMNS:
            lines.append(f"columns {start}..{stop - 1}:")
        for i, row in enumerate(p["matrix"]):
            cells = []
            for j in range(start, stop):
                entry = row[j]
                text = entry["mid"] if i != j else "1"
                if entry["rad"] not in (None, "0") and i != j:
                    text += f" ±{entry['rad']}"
                cells.append(text)
            lines.append(f"[{i}] " + "  ".join(cells))
    if p["route"] == "float64":
        lines.append("NOTE: float64 values are best effort; they carry no error bound.")
    if "no depth-independent route" in p["method"]:
        lines.append(f"NOTE: {p['method']}.")
    return "\n".join(lines)
