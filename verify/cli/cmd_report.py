"""``ntk-verify report``: the main job — run every check and write the verification report."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from verify.cli.cmd_check import (
    add_check_arguments,
    context_from_args,
    count_verdicts,
    finish,
    sources_of,
    user_checks_from_args,
)
from verify.cli.cmd_check import render_table as render_verdicts
from verify.cli.output import check_output_path
from verify.core.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="run all checks and write report.md / report.html / results.json",
                       description="Run every built-in claim check (and those of --claims files: importing a "
                       "claim file RUNS ITS CODE) and write the report, grouped by the source of each claim.")
    p.add_argument("--out", default="reports/latest",
                   help="output folder: created, or replaced atomically if it is an earlier report "
                   "(a folder holding anything else is refused)")
    p.add_argument("--pdf", action="store_true",
                   help="also write report.pdf, printed from report.html by a headless Chromium (optional: "
                   "$CHROMIUM or chromium on the PATH; refused before any work if there is none)")
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_check_arguments(p)
    p.set_defaults(handler=run, render=render_table)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from proofs_checks import run_checks
    from reporting import write_report
    from reporting.folder import ReportFolderRefused
    from reporting.pdf import PdfUnavailable, find_chromium
    from reporting.provenance import provenance

    out_dir = check_output_path(args.out, "report-folder")     # before minutes of work
    chromium = find_chromium() if args.pdf else None
    if args.pdf and chromium is None:
        raise InputError("--pdf needs a Chromium to print report.html (install chromium, or set $CHROMIUM to one)")
    extra = user_checks_from_args(args)                        # imports the user's files, before any work
    ctx = context_from_args(args)
    start = time.perf_counter()
    results = [r.to_json() for r in run_checks(ctx, None, extra)]
    settings = {"profile": ctx.profile, "data": ctx.data_spec, "digits": ctx.digits, "seed": ctx.seed,
                "parameterization": ctx.param.describe()}
    if args.claims:
        settings["claims_files"] = list(args.claims)
    prov = provenance(settings, time.perf_counter() - start, ["ntk-verify", *sys.argv[1:]])
    try:
        out = write_report(results, prov, out_dir, pdf_with=chromium)
    except ReportFolderRefused as exc:    # the folder changed while the checks ran
        raise InputError(f"--out {args.out}: {exc}") from None
    except PdfUnavailable as exc:         # nothing was written: the report is swapped in only when complete
        raise InputError(f"--pdf: {exc}") from None
    checks = [{"id": r["id"], "kernel": r["kernel"], "verdict": r["verdict"], "certificate": r["certificate"],
               "seconds": r["seconds"], "source": r["source"]["id"]} for r in results]
    return finish({"out": str(out), "counts": count_verdicts(checks),
                   "sources": sources_of([r["source"] for r in results]), "checks": checks}, args)


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    return render_verdicts(payload, args) + f"\n\nreport written to {payload['out']}/ (report.md, report.html, " \
        "results.json, figures/" + (", report.pdf)" if args.pdf else ")")
