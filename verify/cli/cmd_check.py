"""``ntk-verify check [--claims FILE.py] [ID ...]``: run claim checks and print the verdict table.

Exit 0 whatever the verdicts on the claims; exit :data:`CHECK_ERROR_EXIT` (after printing
the table) when a check itself raised (verdict ``error``): that is a bug, not a verdict.
``--claims`` loads a user's claim file (:mod:`proofs_checks.user_claims`): importing it runs
its code, so it is loaded only on request and checked before any computation.
"""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from verify.cli.common import add_progress_argument, progress_from_args
from verify.cli.output import ExitAfterOutput

CHECK_ERROR_EXIT = 4
CLAIMS_HELP = ("a Python file of your own claim checks (CHECKS = [CheckSpec(...), ...], see the README); "
               "repeatable. WARNING: the file is imported, which RUNS ITS CODE with your rights: use only files "
               "you trust")


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="quick", choices=("quick", "full"))
    p.add_argument("--data", default="builtin:sphere-10", help="dataset for the matrix claims")
    p.add_argument("--digits", default="30", help="certified digits of the kernel values (default 30)")
    p.add_argument("--claims", action="append", metavar="FILE.py", help=CLAIMS_HELP)
    add_progress_argument(p)


def user_checks_from_args(args: argparse.Namespace):
    """The checks of the ``--claims`` files (imported here: this runs the user's code), before any computation."""
    from proofs_checks import load_user_checks

    return load_user_checks(args.claims)


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

    lines = ["check ids (built in; a --claims file adds its own, and without ids `check --claims FILE` runs "
             "only the file's checks):"]
    for spec in all_checks():
        kernels = ", ".join(k or "kernel-independent" for k in spec.kernels)
        lines.append(f"  {spec.id:<18} {spec.title} [{kernels}]")
    lines += ["", "--claims FILE.py imports FILE.py, which runs its code: use only files you trust."]
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

    extra = user_checks_from_args(args)
    ids = args.ids or [s.id for s in extra] or None      # with --claims and no ids: the file's checks only
    results = run_checks(context_from_args(args), ids, extra)
    checks = [{"id": r.id, "kernel": r.kernel, "verdict": r.verdict.value, "claim": r.claim,
               "certificate": r.certificate, "seconds": r.seconds, "source": r.source["id"]} for r in results]
    return finish({"counts": count_verdicts(checks), "sources": sources_of([r.source for r in results]),
                   "checks": checks}, args)


def sources_of(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The distinct sources of the results, in their order (each once)."""
    seen: dict[str, dict[str, Any]] = {}
    for s in sources:
        seen.setdefault(s["id"], s)
    return list(seen.values())


def count_verdicts(checks: list[dict[str, Any]]) -> dict[str, int]:
    return dict(sorted(Counter(c["verdict"] for c in checks).items()))


def finish(payload: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """The payload for the CLI to print; when a check raised, the CLI prints it and exits 4."""
    from proofs_checks import Verdict
    from proofs_checks.sources import USER_PREFIX

    errored = [c for c in payload["checks"] if c["verdict"] == Verdict.ERROR]
    if errored:
        names = ", ".join(f"{c['id']} ({c['kernel'] or '-'})" for c in errored)
        users = all(str(c.get("source", "")).startswith(USER_PREFIX) for c in errored)
        whose = "a bug in your claim file" if users else "a bug in ntk-verify, not in your input"
        raise ExitAfterOutput(payload, f"{len(errored)} check(s) raised an exception (verdict 'error', {whose}): "
                              f"{names}", CHECK_ERROR_EXIT)
    return payload


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    """The verdict table, grouped by source: a heading line naming the source and its version before its claims."""
    rows = [("claim", "kernel", "verdict", "seconds")]
    rows += [(c["id"], c["kernel"] or "-", c["verdict"], str(c["seconds"])) for c in payload["checks"]]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    sources = {s["id"]: s for s in payload.get("sources", [])}
    lines, current = [text[0], "  ".join("-" * w for w in widths)], None
    for c, line in zip(payload["checks"], text[1:], strict=True):
        source = sources.get(c.get("source", ""))
        if source is not None and source["id"] != current:
            current = source["id"]
            lines.append(f"== {source['short']}: {source['version']}")
        lines.append(line)
    lines.append("counts: " + ", ".join(f"{n} {v}" for v, n in payload["counts"].items()))
    for c in payload["checks"]:
        if c["verdict"] != "confirmed":
            lines.append(f"\n{c['id']} ({c['kernel'] or '-'}) {c['verdict']}: {c['certificate']}")
    return "\n".join(lines)
