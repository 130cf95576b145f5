"""Argument helpers shared by the commands (parsing only; no mathematics)."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..params import Parameterization


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
    """'1,10,1e3' -> [1, 10, 1000] (integers only; 1eK allowed as a power of ten)."""
    out = []
    for cell in str(text).split(","):
        cell = cell.strip()
        if not cell:
            continue
        try:
            if "e" in cell.lower():
                mant, _, exp = cell.lower().partition("e")
                value = int(mant) * 10 ** int(exp)
            else:
                value = int(cell, 10)
        except ValueError:
            raise InputError(f"{what}: not an integer: {cell!r}") from None
        out.append(value)
    if not out:
        raise InputError(f"{what}: empty list")
    return out


def shorten(text: str, digits: int) -> str:
    """Display helper: at most ``digits`` + 8 characters of a decimal string."""
    return text if len(text) <= digits + 8 else text[: digits + 8] + "…"


def add_kernel_and_digits(p: argparse.ArgumentParser) -> None:
    """--kernel ntk|nngp and --digits D (digits of the result)."""
    from ..kernels import KERNELS

    p.add_argument("--kernel", default="ntk", choices=KERNELS)
    p.add_argument("--digits", default="30", help="correct decimal digits requested (default 30)")


def finish_parser(p: argparse.ArgumentParser, run, render, project: bool = True) -> None:
    """The options every data command ends with: projection, output format, model, progress."""
    from ..dataset import PROJECTIONS

    if project:
        p.add_argument("--project", default="normalize", choices=PROJECTIONS)
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_model_arguments(p)
    add_progress_argument(p)
    p.set_defaults(handler=run, render=render)
