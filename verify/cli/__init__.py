"""The ``ntk-verify`` command line: the top layer. It holds no mathematics.

Each command lives in its own module in this package and exposes
``register(subparsers)``; the parser it adds sets ``handler=run`` where
``run(args) -> dict`` returns the JSON payload, and optionally ``render=`` a
function turning the payload into a human table. Bad input raises
:class:`verify.core.errors.InputError`, which becomes one line on stderr and exit 2.
Output files are written atomically (:func:`verify.cli.output.write_atomic`).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from typing import NoReturn

from verify.cli.output import ExitAfterOutput, render_payload
from verify.core.errors import InputError, PrecisionNotReached

COMMAND_ORDER = ["kernel", "solve", "condition", "derive", "finite_width", "check", "report",
                 "bench"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2 (argparse prints usage otherwise)
        raise InputError(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone when it names one (its module is then
    the only one imported: ``ntk-verify kernel`` does not load the solver, the Monte Carlo code
    or the benchmarks)."""
    parser = _Parser(prog="ntk-verify",
                     description="Certified verification of deep infinite-width ReLU kernel claims.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_")]
    names.sort(key=lambda n: (COMMAND_ORDER.index(n[4:]) if n[4:] in COMMAND_ORDER else 99, n))
    wanted = f"cmd_{command.replace('-', '_')}" if command else None
    for name in [wanted] if wanted in names else names:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ntk-verify`` and ``python -m verify``: the exit code (see the README)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        try:
            payload = args.handler(args)
        except ExitAfterOutput as failed:
            _emit(failed.payload, args)
            print(f"ntk-verify: error: {failed.message}", file=sys.stderr)
            return failed.code
        _emit(payload, args)
        return 0
    except InputError as exc:
        print(f"ntk-verify: error: {exc}", file=sys.stderr)
        return 2
    except PrecisionNotReached as exc:
        print(f"ntk-verify: error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("ntk-verify: interrupted", file=sys.stderr)
        return 130


def _emit(payload: object, args: argparse.Namespace) -> None:
    if payload is not None:
        sys.stdout.write(render_payload(payload, args) + "\n")
        sys.stdout.flush()
