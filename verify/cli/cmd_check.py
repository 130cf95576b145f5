"""``ntk-verify check [ID ...]``: run claim checks and print the verdict table (exit 0 whatever the verdicts)."""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_progress_argument, progress_from_args


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="quick", choices=("quick", "full"))
    p.add_argument("--data", default="builtin:sphere-10", help="dataset for the matrix claims")
    p.add_argument("--digits", default="30", help="certified digits of the kernel values (default 30)")
    add_progress_argument(p)


def context_from_args(args: argparse.Namespace):
    from proofs_checks import CheckContext
    from verify.precision import check_digits
    from verify.sources import load_dataset

    ctx = CheckContext(profile=args.profile, data_spec=args.data, digits=check_digits(args.digits),
                       progress=progress_from_args(args))
    ctx._data = load_dataset(args.data)     # fail early on bad data
    return ctx


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run claim checks, print verdicts")
    p.add_argument("ids", nargs="*", metavar="ID", help="check ids (default: all)")
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_check_arguments(p)
    p.set_defaults(handler=run, render=render_table)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from proofs_checks import run_checks

    results = run_checks(context_from_args(args), args.ids or None)
    return {"checks": [{"id": r.id, "kernel": r.kernel, "verdict": r.verdict.value, "claim": r.claim,
                        "certificate": r.certificate, "seconds": r.seconds} for r in results]}


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    rows = [("claim", "kernel", "verdict", "seconds")]
    rows += [(c["id"], c["kernel"] or "-", c["verdict"], str(c["seconds"])) for c in payload["checks"]]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for c in payload["checks"]:
        if c["verdict"] != "confirmed":
            lines.append(f"\n{c['id']} ({c['kernel'] or '-'}) {c['verdict']}: {c['certificate']}")
    return "\n".join(lines)
