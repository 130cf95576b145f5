"""Argument helpers shared by the commands (parsing only; no mathematics)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from verify.core.depths import parse_depth_list
from verify.core.errors import InputError
from verify.core.params import Parameterization, exact_integer
from verify.data.dataset import Dataset
from verify.data.pairs import pair_index

if TYPE_CHECKING:
    from verify.kernel.routes import SweepPlan


def add_model_arguments(p: argparse.ArgumentParser) -> None:
    """--sigma-w2 / --sigma-b2 (decimal strings, parsed exactly)."""
    p.add_argument("--sigma-w2", default="1", help="weight variance sigma_w^2 (default 1)")
    p.add_argument("--sigma-b2", default="0", help="bias variance sigma_b^2 (default 0: no bias)")


def model_from_args(args: argparse.Namespace) -> Parameterization:
    return Parameterization(sigma_w2=args.sigma_w2, sigma_b2=args.sigma_b2)


def add_progress_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def progress_from_args(args: argparse.Namespace) -> bool | None:
    return False if getattr(args, "quiet", False) else None


def parse_int_list(text: str, what: str) -> list[int]:
    """'1,10,1e3' -> [1, 10, 1000]: a list of depths (integers >= 1), by the engine's one depth parser."""
    return parse_depth_list(text, what)


def ascii_integer(text: str) -> int:
    """argparse ``type=`` of integer options (--digits): ASCII decimal integers only, sized before computing."""
    try:
        return exact_integer(text, "value", max_magnitude=9)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("value: ")) from None


def announce_plan(plan: SweepPlan, args: argparse.Namespace, command: str = "kernel") -> None:
    """The up-front line on stderr (unless --quiet): points, pairs, depth and a rough time estimate."""
    if not getattr(args, "quiet", False):
        print(f"ntk-verify: {command}: {plan.describe()}", file=sys.stderr, flush=True)


def plan_announcer(args: argparse.Namespace, command: str = "kernel") -> Callable[[SweepPlan], None]:
    """``on_plan=`` callback for :func:`verify.kernel.routes.kernel_sweep` that prints :func:`announce_plan`'s line."""
    return lambda plan: announce_plan(plan, args, command)


def announce_dataset(args: argparse.Namespace, data: Dataset, depths: Sequence[int], command: str,
                     columns: Dataset | None = None, route: str = "certified") -> None:
    """The up-front line for commands that do not call kernel_sweep themselves (solve, condition).

    Counts the distinct pairs exactly (about 2 us a pair) before the real work starts.
    """
    if getattr(args, "quiet", False):
        return
    from verify.kernel.routes import sweep_plan

    symmetric = columns is None
    cols = data if columns is None else columns
    _, unique = pair_index(data, cols, symmetric)
    digits = args.digits if isinstance(getattr(args, "digits", None), int) else 30
    plan = sweep_plan(data, cols, symmetric, sorted(set(depths)), route, digits,
                      model_from_args(args).is_default, len(unique))
    announce_plan(plan, args, command)


def shorten(text: str, digits: int) -> str:
    """Display helper: at most ``digits`` + 8 characters of a decimal string."""
    return text if len(text) <= digits + 8 else text[: digits + 8] + "…"


def add_kernel_and_digits(p: argparse.ArgumentParser, both: bool = False) -> None:
    """--kernel ntk|nngp (|both with ``both``) and --digits D (digits of the result)."""
    from verify.kernel.routes import BOTH, KERNELS

    p.add_argument("--kernel", default="ntk", choices=(*KERNELS, BOTH) if both else KERNELS,
                   help="ntk (default), nngp" + (", or both from one pass" if both else ""))
    p.add_argument("--digits", default="30", type=ascii_integer,
                   help="correct decimal digits requested (default 30)")


def finish_parser(p: argparse.ArgumentParser, run, render, project: bool = True) -> None:
    """The options every data command ends with: projection, output format, model, progress."""
    from verify.data.dataset import PROJECTIONS

    if project:
        p.add_argument("--project", default="normalize", choices=PROJECTIONS)
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_model_arguments(p)
    add_progress_argument(p)
    p.set_defaults(handler=run, render=render)


def value_text(entry: dict[str, str] | None, digits: int) -> str:
    """'mid ±rad' of a JSON enclosure, shortened for a table."""
    if entry is None:
        return "n/a"
    mant, e, exp = entry["mid"].partition("e")
    text = shorten(mant, digits) + e + exp
    return text if entry.get("rad") in (None, "0") else f"{text} ±{entry['rad']}"
