"""``ntk-verify check [ID ...]``: run claim checks and print the verdict table.

Exit 0 whatever the verdicts on the claims; exit :data:`CHECK_ERROR_EXIT` (after printing
the table) when a check itself raised (verdict ``error``): that is a bug, not a verdict.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from verify.cli.common import add_progress_argument, progress_from_args
from verify.cli.output import ExitAfterOutput

CHECK_ERROR_EXIT = 4


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="quick", choices=("quick", "full"))
    p.add_argument("--data", default="builtin:sphere-10", help="dataset for the matrix claims")
    p.add_argument("--digits", default="30", help="certified digits of the kernel values (default 30)")
    add_progress_argument(p)


def context_from_args(args: argparse.Namespace):
    from proofs_checks import CheckContext
    from verify.core.precision import check_digits

    ctx = CheckContext(profile=args.profile, data_spec=args.data, digits=check_digits(args.digits),
                       progress=progress_from_args(args))
    ctx.load_data()                         # fail early on bad data
    return ctx


def list_ids_in_help(p: argparse.ArgumentParser) -> None:
    """Put the check ids under ``--help``, loading the checks only when help is asked for."""
    plain = p.format_help

    def format_help() -> str:
        p.epilog = check_ids_text()
        return plain()

    p.format_help = format_help  # type: ignore[method-assign]


def check_ids_text() -> str:
    """The registered check ids with their kernels and titles, for ``check --help``."""
    from proofs_checks import all_checks

    lines = ["check ids:"]
    for spec in all_checks():
        kernels = ", ".join(k or "kernel-independent" for k in spec.kernels)
        lines.append(f"  {spec.id:<18} {spec.title} [{kernels}]")
    return "\n".join(lines)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run claim checks, print verdicts",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    list_ids_in_help(p)
    p.add_argument("ids", nargs="*", metavar="ID", help="check ids (default: all; listed below)")
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_check_arguments(p)
    p.set_defaults(handler=run, render=render_table)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from proofs_checks import run_checks

    results = run_checks(context_from_args(args), args.ids or None)
    checks = [{"id": r.id, "kernel": r.kernel, "verdict": r.verdict.value, "claim": r.claim,
               "certificate": r.certificate, "seconds": r.seconds} for r in results]
    return finish({"counts": count_verdicts(checks), "checks": checks}, args)


def count_verdicts(checks: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(c["verdict"] for c in checks).items()))


def finish(payload: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The payload for the CLI to print; when a check raised, the CLI prints it and exits 4."""
    from proofs_checks import Verdict

    errored = [c for c in payload["checks"] if c["verdict"] == Verdict.ERROR]
    if errored:
        names = ", ".join(f"{c['id']} ({c['kernel'] or '-'})" for c in errored)
        raise ExitAfterOutput(payload, f"{len(errored)} check(s) raised an exception (verdict 'error', a bug in "
                              f"ntk-verify, not in your input): {names}", CHECK_ERROR_EXIT)
    return payload


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    rows = [("claim", "kernel", "verdict", "seconds")]
    rows += [(c["id"], c["kernel"] or "-", c["verdict"], str(c["seconds"])) for c in payload["checks"]]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("counts: " + ", ".join(f"{n} {v}" for v, n in payload["counts"].items()))
    for c in payload["checks"]:
        if c["verdict"] != "confirmed":
            lines.append(f"\n{c['id']} ({c['kernel'] or '-'}) {c['verdict']}: {c['certificate']}")
    return "\n".join(lines)
