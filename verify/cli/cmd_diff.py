"""``ntk-verify diff A/results.json B/results.json``: what changed between two reports (exit 0)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from verify.core.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="what changed between two reports' results.json",
                       description="Checks added or removed, verdicts, certificates, and numbers that moved beyond "
                       "their radii (two balls that do not overlap). Exit 0 whatever changed.")
    p.add_argument("old", help="results.json of the earlier report (or its folder)")
    p.add_argument("new", help="results.json of the later report (or its folder)")
    p.add_argument("--format", default="table", choices=("table", "json"))
    p.set_defaults(handler=run, render=render_table)


def load_results(text: str) -> dict[str, Any]:
    """A parsed results.json (a report folder stands for its results.json); InputError when it is not one."""
    path = Path(text)
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InputError(f"{text}: cannot read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, ValueError):
        raise InputError(f"{text}: not a JSON file") from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise InputError(f"{text}: not a report's results.json (no list of checks)")
    for i, check in enumerate(data["checks"]):
        if not isinstance(check, dict) or not {"id", "verdict", "certificate"} <= set(check):
            raise InputError(f"{text}: check {i + 1} lacks an id, a verdict or a certificate")
    return data


def run(args: argparse.Namespace) -> dict[str, Any]:
    from reporting.diff import diff_results

    return diff_results(load_results(args.old), load_results(args.new))


def render_table(payload: dict[str, Any], args: argparse.Namespace) -> str:
    from reporting.diff import render_diff

    return render_diff(payload)
