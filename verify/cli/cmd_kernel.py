"""``ntk-verify kernel``: the normalized kernel matrix of a dataset at depth L."""

from __future__ import annotations

import argparse
from typing import Any

from ..kernels import ROUTES, check_depth, kernel_sweep
from ..precision import check_digits
from ..sources import load_dataset
from .common import (
    add_kernel_and_digits,
    finish_parser,
    model_from_args,
    parse_int_list,
    progress_from_args,
)

MAX_TABLE_COLUMNS = 6


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kernel", help="normalized NTK/NNGP kernel matrix at depth L",
                       description="Normalized kernel matrix (ones on the diagonal). "
                       "certified: every entry is an enclosure of the exact value; "
                       "mpmath and float64: best effort, no error bound.")
    p.add_argument("--data", default="builtin:sphere-10", help="CSV/.npy path or builtin:NAME")
    depth = p.add_mutually_exclusive_group(required=True)
    depth.add_argument("--depth", help="depth L >= 1 (number of dense layers)")
    depth.add_argument("--depths", help="comma-separated depths for a one-pass sweep")
    p.add_argument("--every-depth", action="store_true",
                   help="with --depth L: sweep every depth 1..L in one pass")
    add_kernel_and_digits(p)
    p.add_argument("--route", default="certified", choices=ROUTES)
    finish_parser(p, run, render_table)


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.depth is not None:
        top = check_depth(args.depth)
        depths = list(range(1, top + 1)) if args.every_depth else [top]
    else:
        depths = parse_int_list(args.depths, "--depths")
    digits = check_digits(args.digits)
    data = load_dataset(args.data, args.project)
    results = kernel_sweep(data, depths, kernel=args.kernel, digits=digits, route=args.route,
                           param=model_from_args(args), progress=progress_from_args(args))
    payloads = [r.to_json() for r in results]
    if len(payloads) == 1:
        return payloads[0]
    return {"sweep": payloads, "depths": [p["depth"] for p in payloads]}


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    blocks = payload.get("sweep", [payload])
    return "\n\n".join(_render_one(b) for b in blocks)


def _render_one(p: dict[str, Any]) -> str:
    lines = [
        f"{p['kernel'].upper()} normalized kernel ({p['normalized']}), depth L = {p['depth']}, "
        f"data {p['data']} (n = {p['n']}, n0 = {p['n0']}, projection {p['projection']})",
        f"model: {p['parameterization']['name']}",
        f"route: {p['route']}  guarantee: {p['guarantee'].upper()}"
        + (f"  working precision: {p['working_precision_bits']} bits"
           if p["working_precision_bits"] else ""),
        f"raw kernel = {p['raw_factor']['value']} x normalized",
    ]
    cols = min(p["m"], MAX_TABLE_COLUMNS)
    for i, row in enumerate(p["matrix"]):
        cells = []
        for j, entry in enumerate(row[:cols]):
            text = entry["mid"] if i != j else "1"
            if entry["rad"] not in (None, "0") and i != j:
                text += f" ±{entry['rad']}"
            cells.append(text)
        lines.append(f"[{i}] " + "  ".join(cells) + ("  …" if p["m"] > cols else ""))
    if p["route"] == "float64":
        lines.append("NOTE: float64 values are best effort; they carry no error bound.")
    return "\n".join(lines)
