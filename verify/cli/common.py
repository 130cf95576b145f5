"""Argument helpers shared by the commands (parsing only; no mathematics)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from verify.core.depths import parse_depth_list
from verify.core.errors import InputError
from verify.core.model import ACTIVATION_NAMES, PARAMETERIZATIONS, Model
from verify.core.params import Parameterization, exact_integer
from verify.data.dataset import Dataset
from verify.data.pairs import pair_index

if TYPE_CHECKING:
    from verify.kernel.routes import SweepPlan


# the options of a network (verify.core.model.Model) and their defaults; the one copy every command uses
MODEL_OPTIONS = {"activation": "relu", "sigma_w2": "1", "sigma_b2": "0", "architecture": "mlp",
                 "parameterization": "ntk", "width": "1"}


def add_model_arguments(p: argparse.ArgumentParser, full: bool = True, parameterization: bool = True,
                        defaults: bool = True) -> None:
    """The network's options, read exactly by :meth:`~verify.core.model.Model.parse` (bad values: one line, exit 2).

    Always --sigma-w2 / --sigma-b2; with ``full`` also --activation, --architecture and (with
    ``parameterization``) --parameterization, --width. Without ``defaults`` every option defaults
    to None, so a command can tell whether one was given (:func:`model_options_given`);
    :func:`network_from_args` fills in the defaults.
    """
    def default(name: str) -> str | None:
        return MODEL_OPTIONS[name] if defaults else None

    p.add_argument("--sigma-w2", default=default("sigma_w2"), help="weight variance sigma_w^2 (default 1)")
    p.add_argument("--sigma-b2", default=default("sigma_b2"), help="bias variance sigma_b^2 (default 0: no bias)")
    if not full:
        return
    p.add_argument("--activation", default=default("activation"), metavar="NAME[:PARAMS]",
                   help="phi: " + ", ".join(ACTIVATION_NAMES) + " (default relu)")
    p.add_argument("--architecture", default=default("architecture"), metavar="mlp|resnet:ALPHA",
                   help="mlp (default) or resnet:ALPHA (residual blocks with branch scale ALPHA)")
    if parameterization:
        p.add_argument("--parameterization", default=default("parameterization"), choices=PARAMETERIZATIONS,
                       help="ntk (default) or standard (neural-tangents' conventions)")
        p.add_argument("--width", default=default("width"),
                       help="hidden width N: weighs the NTK in the standard parameterization (default 1)")


def model_options_given(args: argparse.Namespace) -> bool:
    """Whether any network option was given (for parsers made with ``defaults=False``)."""
    return any(getattr(args, name, None) is not None for name in MODEL_OPTIONS)


def network_from_args(args: argparse.Namespace) -> Model:
    """The full network of the command line's options (defaults where an option is absent)."""
    def value(name: str) -> str:
        given = getattr(args, name, None)
        return MODEL_OPTIONS[name] if given is None else given

    return Model.parse(activation=value("activation"), sigma_w2=value("sigma_w2"), sigma_b2=value("sigma_b2"),
                       parameterization=value("parameterization"), width=value("width"),
                       architecture=value("architecture"))


def model_text(model: dict) -> str:
    """A table's model line: the name of a ``Model.describe()`` dict, with the width where it is used."""
    return model["name"] + (f", width {model['width']}" if model.get("width_used") else "")


def kernel_method_json(model: Model) -> dict[str, str]:
    """``{"kernel_method": ...}`` for payloads of models outside the seed family, else {}."""
    from verify.kernel.model_route import MODEL_METHODS

    return {} if model.is_seed_family else {"kernel_method": MODEL_METHODS}


def kernel_method_lines(payload: dict) -> list[str]:
    """The table's note on how the kernels were computed, where the payload has one."""
    return [f"NOTE: kernels by {payload['kernel_method']}."] if payload.get("kernel_method") else []


def model_from_args(args: argparse.Namespace) -> Parameterization:
    """The seed family's :class:`Parameterization` of the options (InputError for any other network)."""
    return network_from_args(args).seed_parameterization()


def add_scheduler_argument(p: argparse.ArgumentParser, what: str) -> None:
    """--scheduler ADDRESS: the certified kernels of ``what`` on a Dask cluster (extra ``cluster``)."""
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help=f"run {what} on a Dask cluster (tcp://HOST:8786; needs the extra 'cluster'); "
                   "the default is local processes on all cores; the result is the same, entry by entry")


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
    from verify.kernel.layer_schedule import LayerSchedule
    from verify.kernel.routes import sweep_plan

    symmetric = columns is None
    cols = data if columns is None else columns
    _, unique = pair_index(data, cols, symmetric)
    digits = args.digits if isinstance(getattr(args, "digits", None), int) else 30
    network = network_from_args(args)
    param = network.seed_parameterization() if network.is_seed_family else None
    default_model = param is not None and LayerSchedule(param.sigma_w2, param.sigma_b2, data.n0).is_default
    plan = sweep_plan(data, cols, symmetric, sorted(set(depths)), route, digits, default_model, len(unique),
                      model_route=not network.is_seed_family)
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


def finish_parser(p: argparse.ArgumentParser, run, render, project: bool = True, models: bool = False) -> None:
    """The options every data command ends with: projection, output format, network, progress.

    ``models``: every network option (:func:`add_model_arguments`); otherwise --sigma-w2 / --sigma-b2 only.
    """
    from verify.data.dataset import PROJECTIONS

    if project:
        p.add_argument("--project", default="normalize", choices=PROJECTIONS)
    p.add_argument("--format", default="table", choices=("table", "json"))
    add_model_arguments(p, full=models)
    add_progress_argument(p)
    p.set_defaults(handler=run, render=render)


def value_text(entry: dict[str, str] | None, digits: int) -> str:
    """'mid ±rad' of a JSON enclosure, shortened for a table."""
    if entry is None:
        return "n/a"
    mant, e, exp = entry["mid"].partition("e")
    text = shorten(mant, digits) + e + exp
    return text if entry.get("rad") in (None, "0") else f"{text} ±{entry['rad']}"
