"""``ntk-verify bench``: benchmarks written as JSON into ``--out`` (default reports/latest-bench/, untracked).

The committed measurements live in reports/bench-reference/; a run never writes there
unless asked to with ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from verify.bench.kernel import bench_kernel
from verify.bench.scale import CASES, SIZES, bench_scale
from verify.cli.common import add_progress_argument, progress_from_args
from verify.cli.output import check_output_path, check_own_files, record_own_files, write_json

DEFAULT_OUT = "reports/latest-bench"

# Other benchmark suites register here as (file name, module, function).
EXTRA_SUITES = [("solve.json", "verify.bench.solve", "bench_solve")]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks: certified route vs plain mpmath, and at scale (JSON)")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help=f"folder for the JSON files (default {DEFAULT_OUT}; kernel.json and solve.json in it "
                   "are overwritten)")
    p.add_argument("--only", choices=("kernel", "solve", "scale"),
                   help="run one suite (the default runs kernel and solve; scale runs only when named)")
    p.add_argument("--size", default="small", choices=tuple(SIZES),
                   help="scale suite: 'small' (a few dozen points, one to three minutes) or 'large' (the sizes of "
                   "issue #11: 1000 points at depth 1e4, 300 at 1e5, ...; minutes to an hour on two cores)")
    p.add_argument("--case", action="append", choices=CASES, metavar="CASE",
                   help=f"scale suite: run only this case (repeatable): {', '.join(CASES)}")
    p.add_argument("--format", default="table", choices=("table", "json"),
                   help="what to print: a summary table, or the results as JSON (the files are JSON either way)")
    add_progress_argument(p)
    p.set_defaults(handler=run, render=render_table)


def run(args: argparse.Namespace) -> dict[str, Any]:
    out_dir = check_output_path(args.out, "folder")      # before minutes of work
    check_own_files(out_dir, ["kernel.json", "scale.json", *(fname for fname, _, _ in EXTRA_SUITES)])
    progress = progress_from_args(args)
    written = {}
    if args.only in (None, "kernel"):
        result = bench_kernel(progress=progress)
        written["kernel.json"] = result
        write_json(out_dir / "kernel.json", result)
        record_own_files(out_dir, ["kernel.json"])
    if args.only in (None, "solve"):
        for fname, module, func in EXTRA_SUITES:
            try:
                mod = importlib.import_module(module)
            except ModuleNotFoundError:
                continue
            result = getattr(mod, func)(progress=progress)
            written[fname] = result
            write_json(out_dir / fname, result)
            record_own_files(out_dir, [fname])
    if args.only == "scale":                  # at scale: asked for by name, never part of the default run
        result = bench_scale(args.size, args.case, progress=progress)
        written["scale.json"] = result
        write_json(out_dir / "scale.json", result)
        record_own_files(out_dir, ["scale.json"])
    return {"written": {name: str(out_dir / name) for name in written}, "results": written}


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    lines = []
    for name, res in payload["results"].items():
        lines.append(f"{name}:")
        for case, c in res.get("cases", {}).items():
            lines.append("  " + case + ": " + ", ".join(f"{k}={v}" for k, v in c.items()))
        if "cases" not in res:
            lines.append("  " + ", ".join(f"{k}={v}" for k, v in res.items()
                                          if not isinstance(v, dict)))
    lines += [f"wrote {p}" for p in payload["written"].values()]
    return "\n".join(lines)
