"""Normalized NTK / NNGP kernel matrices at any precision: the engine's public entry point.

Three routes behind one interface:

* ``certified``: Arb balls (python-flint). Every entry is an enclosure of the exact
  normalized kernel value; the working precision is raised until every radius is at
  most ``10**-digits * max(1, |mid|)``. Depths up to ``DIRECT_THRESHOLD`` (1000) are reached
  by direct iteration of the recursion; deeper ones, for the default model, through
  the Abel-coordinate series of :mod:`verify.kernel.asymptotic.route` (also certified, time
  independent of L). ``certified-direct`` and ``certified-asymptotic`` force one method.
* ``mpmath``: plain arbitrary precision, best effort (no error bound).
* ``float64``: numpy double precision, best effort, to show where it breaks.

Every entry point takes the network either as ``param`` (a seed-family
:class:`~verify.core.params.Parameterization`) or as ``model`` (any
:class:`~verify.core.model.Model`: activation, architecture, parameterization, width).
Seed-family models (ReLU MLPs in NTK parameterization) run the seed engine above; every
other model runs direct iteration of :mod:`verify.kernel.model_recursion`
(:mod:`verify.kernel.model_route`) on the same routes but ``certified-asymptotic``.

Every off-diagonal entry depends on its pair only through the first-layer cosine,
so equal correlations are computed once and distinct pairs run on all cores.

>>> r = kernel_matrix([["1", "0"], ["0", "1"]], depth=2, kernel="nngp", digits=20)
>>> r.entry_json(0, 1)["mid"]    # h(0) = 1/pi
'0.31830988618379067153777'
>>> r.guarantee
'certified enclosure'
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any

import mpmath
import numpy as np

from verify.core.balls import Ball, decimal_upper
from verify.core.depths import DIRECT_MAX_DEPTH, check_depth, depth_text
from verify.core.errors import InputError
from verify.core.model import Model
from verify.core.parallel import pool_size, run_tasks
from verify.core.params import DEFAULT, Parameterization
from verify.core.params import KERNELS as KERNELS  # re-exported: part of this entry point's interface
from verify.core.precision import bits_for_digits, check_digits, meets_digits, run_to_digits
from verify.data.dataset import Dataset
from verify.data.pairs import PairCorrelation, pair_index
from verify.kernel.asymptotic.route import asymptotic_pair_sweep, prepare_series
from verify.kernel.layer_schedule import LayerSchedule, raw_diagonals
from verify.kernel.pair_blocks import MatrixEnclosures, PairGaps, float_enclosures, matrix_enclosures
from verify.kernel.recursion_certified import certified_pair_sweep
from verify.kernel.recursion_plain import float64_sweep, mpmath_pair_sweep

ROUTES = ("certified", "certified-direct", "certified-asymptotic", "mpmath", "float64")
CERTIFIED_ROUTES = ("certified", "certified-direct", "certified-asymptotic")
GUARANTEES = {
    "certified": "certified enclosure",
    "certified-direct": "certified enclosure",
    "certified-asymptotic": "certified enclosure",
    "mpmath": "best effort (plain mpmath, no error bound)",
    "float64": "best effort (float64, no error bound)",
}
BOTH = "both"                      # NNGP and NTK from one pass (the NTK recursion carries rho)
PLAIN_MAX_DEPTH = 10**8
# measured crossover (one pair, 30 digits): direct iteration 5-7 ms vs series 3-4 ms at L = 1000,
# 43-59 ms vs 3-4 ms at 1e4; below ~500 layers direct iteration is cheaper
DIRECT_THRESHOLD = 1000

# Rough cost model behind the up-front estimate (SweepPlan.rough_seconds), measured on one core
# of the development machine (python-flint 0.9, one pair, 30 digits unless said): a certified
# layer 4-7 us (14-31 us at 300 digits; 15-20 us for the NTK with rho), the asymptotic series
# about 0.4 ms a pair with its ~20 direct layers to the switch point (both kernels; 0.53 ms a
# pair in all at n = 1000, depth 1e4), an mpmath layer 30-50 us, a fixed 0.1-0.15 ms a pair,
# and 60-70 us a matrix entry a depth to assemble the result and write it as JSON (well under
# 1 us as float64 arrays). Rough: within a factor of about 3.
SECONDS_PER_PAIR = 1.5e-4
SECONDS_PER_PAIR_LAYER = 4e-6           # certified direct iteration at 30 digits; x (1 + digits/100)
SECONDS_PER_SERIES_PAIR = 4e-4          # asymptotic series at 30 digits; x max(1/2, digits/30)
SECONDS_PER_MPMATH_LAYER = 4e-5
SECONDS_PER_FLOAT64_LAYER = 5e-8
SERIES_SETUP_SECONDS = 0.3              # coefficients once per process, bounds once per machine (disk cache)
SECONDS_PER_ENTRY = 7e-5                # one entry of one depth's matrix: assembly and JSON
SECONDS_PER_ARRAY_ENTRY = 5e-8          # the same as float64 arrays (``arrays=True``: placed and written)
# models outside the seed family (verify.kernel.model_route), one pair, both kernels, 30 digits, certified:
# 0.2-0.6 ms a layer (sign 0.2, abs 0.3, erf 0.4, gelu 0.6; diagonal and precision loop included)
SECONDS_PER_MODEL_LAYER = 4e-4


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise InputError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
    return value


@dataclass
class KernelResult:
    """One normalized kernel matrix (ones on the diagonal for a symmetric Gram matrix).

    ``entries[i][j]`` is a :class:`~verify.core.balls.Ball` (certified route), an
    ``mpmath.mpf`` (mpmath route) or a ``float`` (float64 route). ``gaps[i][j]`` is
    1 minus the entry, computed without cancellation on the certified route.
    The raw kernel is ``raw_factor * entries``.
    """

    kernel: str
    depth: int
    digits: int
    route: str
    parameterization: Parameterization
    working_precision_bits: int | None
    entries: Any         # rows of Balls / mpfs (lists), or a float64 ndarray on the float64 route
    gaps: Any
    raw_factor: mpmath.mpf
    n0: int
    projection: str
    data_name: str = "data"
    method: str = "direct iteration"
    extra: dict[str, Any] = field(default_factory=dict)
    # certified routes: (index, values, gaps) with entries[i][j] = values[index[i, j]] (index -1 on the
    # diagonal of a Gram matrix: exactly 1 and 0), so :meth:`arrays` works once per distinct pair
    distinct: tuple[np.ndarray, list[Any], list[Any]] | None = field(default=None, repr=False)
    # the network (None: the seed-family model of ``parameterization``); outside the seed family
    # ``parameterization`` holds only its variances
    model: Model | None = None
    # the certified enclosure of ``raw_factor`` where one was computed (models outside the seed family)
    raw_factor_ball: Ball | None = field(default=None, repr=False)
    # ``arrays=True`` sweeps: the certified float64 enclosures of :meth:`arrays` are the result
    # (``entries`` and ``gaps`` are then their ``mid`` and ``gap_mid``; no ball is kept)
    enclosures: dict[str, np.ndarray] | None = field(default=None, repr=False)

    @property
    def guarantee(self) -> str:
        return GUARANTEES[self.route]

    @property
    def full_model(self) -> Model:
        """The network of this result as a :class:`~verify.core.model.Model` (also for ``param=`` results)."""
        return self.model or seed_model(self.parameterization)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.entries), len(self.entries[0]) if len(self.entries) else 0

    def mid_array(self) -> np.ndarray:
        """Best effort: the midpoints as a float64 array."""
        if self.enclosures is not None:
            return self.enclosures["mid"].copy()
        if isinstance(self.entries, np.ndarray):
            return self.entries.astype(np.float64, copy=True)
        return np.array([[float(v) for v in row] for row in self.entries], dtype=np.float64)

    def entry_json(self, i: int, j: int) -> Mapping[str, str | None]:
        if self.enclosures is not None:
            return _float_enclosure_json(self.enclosures["mid"][i, j], self.enclosures["rad"][i, j])
        return _value_json(self.entries[i][j], self.digits)

    def arrays(self) -> dict[str, np.ndarray]:
        """float64 arrays ``mid``, ``rad``, ``gap_mid``, ``gap_rad`` (n x m).

        Certified routes: ``rad`` bounds |exact - mid| including the rounding of ``mid``
        to float64 (:meth:`~verify.core.balls.Ball.float_enclosure`); likewise for the
        gaps 1 - entry. Best-effort routes: ``rad`` and ``gap_rad`` are NaN (no bound).
        The arrays may be views of the result (the float64 route's matrices, a broadcast
        NaN): treat them as read-only. Certified results made by a sweep are converted
        once per distinct pair, not once per entry; those of an
        ``arrays=True`` sweep are the result itself.
        """
        if self.enclosures is not None:
            return self.enclosures
        if isinstance(self.entries, np.ndarray):                  # float64 route: best effort
            nan = np.broadcast_to(np.nan, self.shape)             # no memory: a view of one NaN
            return {"mid": self.entries, "rad": nan, "gap_mid": np.asarray(self.gaps, dtype=np.float64),
                    "gap_rad": nan}
        if self.distinct is not None:
            index, values, gaps = self.distinct
            return {**_scattered(index, *float_enclosures(values), "", 1),
                    **_scattered(index, *float_enclosures(gaps), "gap_", 0)}
        out: dict[str, np.ndarray] = {}
        for key, rows in (("", self.entries), ("gap_", self.gaps)):
            mid = np.empty(self.shape)
            rad = np.full(self.shape, np.nan)
            for i, row in enumerate(rows):
                for j, value in enumerate(row):
                    if isinstance(value, Ball):
                        mid[i, j], rad[i, j] = value.float_enclosure()
                    else:
                        mid[i, j] = float(value)
            out[f"{key}mid"], out[f"{key}rad"] = mid, rad
        return out

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (see README): decimals as strings, never through float64."""
        rows, cols = self.shape
        return {
            **self.metadata(),
            "matrix": [[self.entry_json(i, j) for j in range(cols)] for i in range(rows)],
            "one_minus_matrix": [[self._gap_json(i, j) for j in range(cols)]
                                 for i in range(rows)] if self.route in CERTIFIED_ROUTES else None,
            **self.extra,
        }

    def _gap_json(self, i: int, j: int) -> Mapping[str, str | None]:
        if self.enclosures is not None:
            return _float_enclosure_json(self.enclosures["gap_mid"][i, j], self.enclosures["gap_rad"][i, j])
        return _value_json(self.gaps[i][j], self.digits)

    def metadata(self) -> dict[str, Any]:
        """Everything of :meth:`to_json` but the matrices (what the result is, and how it was made)."""
        rows, cols = self.shape
        model = self.full_model
        return {
            "kernel": self.kernel,
            "normalized": "ThetaBar" if self.kernel == "ntk" else "SigmaBar (= rho)",
            "depth": self.depth,
            "digits": self.digits,
            "route": self.route,
            "method": self.method,
            "guarantee": self.guarantee,
            "parameterization": self.parameterization.describe() if model.is_seed_family else model.describe(),
            "model": model.describe(),
            "working_precision_bits": self.working_precision_bits,
            "n": rows,
            "m": cols,
            "n0": self.n0,
            "projection": self.projection,
            "data": self.data_name,
            "raw_factor": self._raw_factor_json(model),
        }

    def _raw_factor_json(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {
            "value": mpmath.nstr(self.raw_factor, max(self.digits, 17)),
            "meaning": "raw kernel = raw_factor * normalized kernel"
            + (" (Theta^(L)(x,x))" if self.kernel == "ntk" else " (Sigma^(L)(x,x))"),
        }
        if self.raw_factor_ball is not None:
            out["guarantee"] = "certified enclosure (value: its midpoint, rounded)"
            out["enclosure"] = self.raw_factor_ball.to_json(self.digits)
        elif model.is_seed_family and self.parameterization.is_default:
            out["guarantee"] = "exact up to the final rounding"
        else:
            out["guarantee"] = "best effort (mpmath)" if self.route != "float64" or model.is_seed_family \
                else "best effort (float64)"
        return out


def seed_model(param: Parameterization) -> Model:
    """The :class:`~verify.core.model.Model` of a seed-family :class:`Parameterization` (ReLU MLP, NTK)."""
    return Model(sigma_w2=param.sigma_w2, sigma_b2=param.sigma_b2)


def resolve_model(param: Parameterization | None, model: Model | None) -> Model:
    """The network of a call given as ``param=`` or ``model=`` (InputError if both, with a non-default param).

    >>> resolve_model(None, None).name
    'ntk-mlp-relu(sigma_w^2=1, sigma_b^2=0)'
    >>> resolve_model(Parameterization("2", "0"), Model())
    Traceback (most recent call last):
    verify.core.errors.InputError: give the network either as param= or as model=, not both
    """
    if model is None:
        return seed_model(param or DEFAULT)
    if not isinstance(model, Model):
        raise InputError(f"model= takes a verify.core.model.Model (Model.parse(...)), got {type(model).__name__}")
    if param is not None and param != DEFAULT:
        raise InputError("give the network either as param= or as model=, not both")
    return model


def _scattered(index: np.ndarray, mid: np.ndarray, rad: np.ndarray, key: str,
               diagonal: int) -> dict[str, np.ndarray]:
    """``{key + "mid", key + "rad"}``: the distinct pairs' float enclosures placed by ``index``.

    Cells with index -1 are the diagonal of a Gram matrix (exactly ``diagonal``, radius 0)
    or, for a Gram matrix, the lower triangle (the transpose's cell).
    """
    mids = np.append(mid, float(diagonal))
    rads = np.append(rad, 0.0)
    full = np.where(index >= 0, index, index.T) if index.shape[0] == index.shape[1] else index
    return {f"{key}mid": mids[full], f"{key}rad": rads[full]}


def _float_enclosure_json(mid: float, rad: float) -> Mapping[str, str]:
    """A float64 enclosure (|x - mid| <= rad) as decimals that still enclose x: ``mid`` as its
    shortest repr and ``rad`` rounded up to 3 digits after adding the gap between that repr and
    the double ``mid`` (exact rational arithmetic).

    >>> _float_enclosure_json(0.1, 1e-30)       # the double 0.1 is 5.6e-18 above the decimal 0.1
    {'mid': '0.1', 'rad': '5.56e-18'}
    """
    text = repr(float(mid))
    return {"mid": text, "rad": decimal_upper(Fraction(rad) + abs(Fraction(text) - Fraction(mid)))}


def _value_json(value: Any, digits: int) -> Mapping[str, str | None]:
    if isinstance(value, Ball):
        return value.to_json(digits)
    if isinstance(value, mpmath.mpf):
        return {"mid": mpmath.nstr(value, digits + 3, min_fixed=-5, max_fixed=digits + 5, strip_zeros=False),
                "rad": None}
    return {"mid": repr(float(value)), "rad": None}


def _certified_task(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                    schedule: LayerSchedule, relative_gap: bool, route: str
                    ) -> tuple[list[Ball | tuple[Ball, Ball]], int, list[str]]:
    """Certified gap balls of one pair at every depth, precision raised until accurate.

    Returns (gaps, working precision, method per depth).
    """
    use_series = route == "certified-asymptotic" or (
        route == "certified" and schedule.is_default)
    threshold = 0 if route == "certified-asymptotic" else DIRECT_THRESHOLD
    direct = [d for d in depths if not use_series or d <= threshold]
    deep = [d for d in depths if use_series and d > threshold]
    out: dict[int, Ball | tuple[Ball, Ball]] = {}
    methods: dict[int, str] = {}
    bits_used = 0
    if direct:
        gaps, bits = _direct_gaps(pair, direct, kernel, digits, schedule, relative_gap)
        out.update(zip(direct, gaps, strict=True))
        methods.update(dict.fromkeys(direct, "direct iteration"))
        bits_used = bits
    if deep:
        # with the NTK recursion both gaps are certified to ``digits`` relative digits
        balls, bits, _ = asymptotic_pair_sweep(pair, deep, _recursion(kernel), digits, schedule)
        out.update((d, _kernel_gap(kernel, e, f)) for d, (e, f) in zip(deep, balls, strict=True))
        methods.update(dict.fromkeys(deep, "asymptotic series"))
        bits_used = max(bits_used, bits)
    return [out[d] for d in depths], bits_used, [methods[d] for d in depths]


def _kernel_gap(kernel: str, e: Ball, f: Ball | None) -> Ball | tuple[Ball, Ball]:
    """The gap ball(s) asked for: 1 - ThetaBar for ``ntk``, 1 - rho for ``nngp``, both (a tuple) for ``both``."""
    if kernel == "nngp":
        return e
    assert f is not None  # the sweeps return 1 - ThetaBar's ball whenever they run the NTK recursion
    return (e, f) if kernel == BOTH else f


def _recursion(kernel: str) -> str:
    """The recursion a sweep runs: the NTK one also carries rho, so ``both`` runs it."""
    return "ntk" if kernel == BOTH else kernel


def _balls(gaps: Sequence[Ball | tuple[Ball, Ball]]) -> list[Ball]:
    return [b for g in gaps for b in (g if isinstance(g, tuple) else (g,))]


def _direct_gaps(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                 schedule: LayerSchedule, relative_gap: bool) -> tuple[list[Ball | tuple[Ball, Ball]], int]:
    """Direct certified iteration, precision raised until every gap asked for meets the request."""
    top = max(depths)
    start = bits_for_digits(digits) + 2 * math.ceil(math.log2(top + 1)) + 24
    if relative_gap:
        start += 2 * math.ceil(math.log2(top + 1))
    # g(e) = e + ((1 - e) A(e) - sqrt(e(2 - e)))/pi cancels terms of size sqrt(e): a tiny
    # first-layer gap costs about log2(1/e)/2 bits more
    first_gap = pair.gap_float()
    if 0 < first_gap < 1:
        start += math.ceil(-math.log2(first_gap) / 2)

    def compute(bits: int) -> list[Ball | tuple[Ball, Ball]]:
        # a ball that lost all accuracy raises PrecisionTooLow (run_to_digits raises the
        # precision); any other exception is a bug and propagates at once
        out = certified_pair_sweep(pair, depths, _recursion(kernel), bits, schedule)
        return [_kernel_gap(kernel, e, f) for e, f in out]

    def accurate(gaps: list[Ball | tuple[Ball, Ball]]) -> bool:
        return all(meets_digits(g, digits, relative=relative_gap) for g in _balls(gaps))

    return run_to_digits(compute, accurate, start, digits=digits, what=f"{kernel} entry at depth {depth_text(top)}")


def _mpmath_task(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                 schedule: LayerSchedule) -> tuple[list[Any], int]:
    bits = mpmath_bits(digits, max(depths))
    with mpmath.workprec(bits):
        rho1 = pair.sign * mpmath.sqrt(mpmath.mpf(pair.t.numerator) / pair.t.denominator)
    out = mpmath_pair_sweep(rho1, depths, _recursion(kernel), bits, schedule)
    if kernel == BOTH:
        return [(rho, th) for rho, th in out], bits
    return [(th if kernel == "ntk" else rho) for rho, th in out], bits


def mpmath_bits(digits: int, depth: int) -> int:
    """Working precision of the mpmath route: the digits asked for plus 10 + 2 log10(L) guard digits."""
    return bits_for_digits(digits + 10 + 2 * math.ceil(math.log10(depth + 1)))


@dataclass(frozen=True)
class SweepPlan:
    """What a kernel sweep is about to compute, known before it starts (for an up-front word).

    ``rough_seconds`` comes from the measured cost constants above (``SECONDS_PER_*``):
    a rough estimate, within a factor of about 3 on the development machine.
    """

    rows: int
    cols: int
    symmetric: bool
    pairs: int
    distinct: int | None          # None: not counted up front (blocks of rows deduplicate as they go)
    depths: tuple[int, ...]
    route: str
    digits: int
    workers: int
    rough_seconds: float

    def describe(self) -> str:
        """One line: points, pairs, distinct cosines, depth, route and the rough time."""
        points = f"{self.rows} points" if self.symmetric else f"{self.rows} x {self.cols} points"
        if len(self.depths) == 1:
            depth = f"depth {depth_text(self.depths[0])}"
        else:
            depth = f"{len(self.depths)} depths {depth_text(self.depths[0])}..{depth_text(self.depths[-1])}"
        cores = f" on {self.workers} cores" if self.workers > 1 else ""
        distinct = "" if self.distinct is None else f" ({self.distinct} distinct cosines)"
        return (f"{points}, {self.pairs} pairs{distinct}, {depth}, "
                f"route {self.route}, {self.digits} digits: rough estimate {duration_text(self.rough_seconds)}"
                f"{cores}")


def duration_text(seconds: float) -> str:
    """'under a second', '40 s', '12 min', '3.5 h', '9 days'."""
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def _task_cost(route: str, depths: Sequence[int]) -> int:
    """Layers one pair task iterates (the size :func:`verify.core.parallel.run_tasks` weighs)."""
    if route == "mpmath":
        return 4 * max(depths)
    if route == "certified-direct":
        return max(depths)
    return min(max(depths), DIRECT_THRESHOLD)


def _rough_seconds_per_pair(route: str, depths: Sequence[int], digits: int, default_model: bool,
                            model_route: bool = False) -> float:
    """Rough seconds one distinct pair costs on one core (the measured constants above).

    ``model_route``: a model outside the seed family (direct iteration of its recursion).
    """
    top = max(depths)
    if model_route and route != "float64":
        return SECONDS_PER_PAIR + top * SECONDS_PER_MODEL_LAYER * max(1.0, digits / 30)
    if route == "float64":
        return top * SECONDS_PER_FLOAT64_LAYER
    if route == "mpmath":
        return SECONDS_PER_PAIR + top * SECONDS_PER_MPMATH_LAYER
    series = route == "certified-asymptotic" or (route == "certified" and default_model)
    if route == "certified-asymptotic":
        direct_layers = 0
    elif series:
        direct_layers = max((d for d in depths if d <= DIRECT_THRESHOLD), default=0)
    else:
        direct_layers = top
    cost = SECONDS_PER_PAIR + direct_layers * SECONDS_PER_PAIR_LAYER * (1 + digits / 100)
    if series and top > (0 if route == "certified-asymptotic" else DIRECT_THRESHOLD):
        cost += SECONDS_PER_SERIES_PAIR * max(0.5, digits / 30)
    return cost


def sweep_plan(rows: Dataset, cols: Dataset, symmetric: bool, depths: Sequence[int], route: str,
               digits: int, default_model: bool, distinct: int | None = None, model_route: bool = False,
               arrays: bool = False) -> SweepPlan:
    """The plan of a sweep: pair counts and a rough time (``distinct`` defaults to every pair;
    ``model_route``: a model outside the seed family; ``arrays``: float64 arrays, not balls and JSON)."""
    pairs = rows.n * (rows.n - 1) // 2 if symmetric else rows.n * cols.n
    distinct = None if arrays else pairs if distinct is None else distinct
    tasks = pairs if distinct is None else distinct
    workers = pool_size(tasks, _task_cost(route, depths))
    compute = tasks * _rough_seconds_per_pair(route, depths, digits, default_model, model_route) / workers
    output = rows.n * cols.n * len(depths) * (SECONDS_PER_ARRAY_ENTRY if arrays else SECONDS_PER_ENTRY)
    return SweepPlan(rows.n, cols.n, symmetric, pairs, distinct, tuple(depths), route, digits, workers,
                     _series_setup_seconds(route, depths, digits, default_model) + compute + output)


def _series_setup_seconds(route: str, depths: Sequence[int], digits: int, default_model: bool) -> float:
    """Once per process when the series route is used: its switch point and remainder bounds.

    Measured on one core without the disk cache of the bounds: about 0.6 s at 30 digits,
    2.6 s at 400, 7 s at 600, 80 s at 1000 (the bounds' cost grows like digits^4); with it,
    the coefficients (about 0.1 s at 30 digits) and the switch point's search.
    """
    series = _uses_series(route, depths, default_model)
    return SERIES_SETUP_SECONDS * (1 + 3.3 * (digits / 400) ** 4) if series else 0.0


def kernel_sweep(
    data: Dataset | Sequence[Sequence[object]] | np.ndarray,
    depths: Sequence[int],
    kernel: str = "ntk",
    digits: int = 30,
    route: str = "certified",
    project: str = "normalize",
    param: Parameterization | None = None,
    progress: bool | None = None,
    columns: Dataset | Sequence[Sequence[object]] | np.ndarray | None = None,
    relative_gap: bool = False,
    on_plan: Callable[[SweepPlan], None] | None = None,
    scheduler: Any = None,
    *,
    model: Model | None = None,
    arrays: bool = False,
) -> list[KernelResult]:
    """Normalized kernel matrices at every depth in ``depths``, in one pass per pair.

    Returns certified enclosures (``route="certified"``) or best-effort values (the
    other routes); see :class:`KernelResult`. With ``columns`` the result is the
    cross-kernel K(data, columns); otherwise the symmetric Gram matrix. With
    ``relative_gap`` the certified route also makes every ``1 - entry`` accurate to
    ``digits`` relative digits (needed near the flat limit). ``on_plan`` is called
    with the :class:`SweepPlan` once the input is validated, before any computing.
    ``scheduler`` (a ``dask.distributed`` address such as ``"tcp://host:8786"``, or a
    ``Client``) runs the batches of pairs on that cluster instead of local processes
    (extra ``cluster``); the result is identical, entry by entry.
    ``model`` (a :class:`~verify.core.model.Model`) states the network instead of ``param``
    (not both): seed-family models run exactly as their ``param``; the others run direct
    iteration of :mod:`verify.kernel.model_recursion` (``certified-asymptotic`` is refused).
    ``arrays=True`` (certified routes, for thousands of points) keeps no ball: each result holds
    the certified float64 enclosures of :meth:`KernelResult.arrays` (``mid``, ``rad`` and the
    gaps', 32 bytes an entry) and nothing per entry, computed by blocks of rows
    (:mod:`verify.kernel.pair_blocks`).
    For both kernels from one pass see :func:`kernels_sweep`.
    """
    kernel = check_choice(kernel, KERNELS, "kernel")
    return _sweep(data, depths, kernel, digits, route, project, param, progress, columns, relative_gap,
                  on_plan, scheduler, model, arrays)[kernel]


def kernels_sweep(
    data: Dataset | Sequence[Sequence[object]] | np.ndarray,
    depths: Sequence[int],
    digits: int = 30,
    route: str = "certified",
    project: str = "normalize",
    param: Parameterization | None = None,
    progress: bool | None = None,
    columns: Dataset | Sequence[Sequence[object]] | np.ndarray | None = None,
    relative_gap: bool = False,
    on_plan: Callable[[SweepPlan], None] | None = None,
    scheduler: Any = None,
    *,
    model: Model | None = None,
    arrays: bool = False,
) -> dict[str, list[KernelResult]]:
    """NNGP and NTK matrices at every depth from one pass: ``{"nngp": [...], "ntk": [...]}``.

    The NTK recursion carries rho^(l), so one sweep per distinct pair gives both kernels
    (as neural-tangents' ``kernel_fn(x1, x2, ('nngp', 'ntk'))`` does); on the certified
    routes every entry of both meets ``digits``. Arguments as :func:`kernel_sweep`.

    >>> both = kernels_sweep([["1", "0"], ["0.6", "0.8"]], [2], digits=20)
    >>> both["nngp"][0].entries[0][1].to_json(20)["mid"]    # rho^(2) = h(0.6) = (0.8 + 0.6 (pi - acos 0.6))/pi
    '0.67754756776651260821973'
    >>> both["ntk"][0].entries[0][1].to_json(20)["mid"]     # (rho^(2) + 0.6 kappa0(0.6)) / 2
    '0.55022361329299633960463'

    Any :class:`~verify.core.model.Model`. For erf (sigma_w^2 = 1, no bias), V(q, q, s) =
    (2/pi) asin(2 s / (1 + 2 q)); points of cosine c in dimension n0 = 2 have q_1 = 1/2,
    Sigma^(2) = ((2/pi) asin(c/2), q_2 = 1/3) and Sigma^(3)(x,x') = (2/pi) asin(6 Sigma^(2) / 5), so
    rho^(3) = asin((12 / (5 pi)) asin(c/2)) / asin(2/5); at c = 0.6 that is 0.57087076991919166622688
    (mpmath, 40 digits). Every entry is a certified enclosure:

    >>> from verify.core.model import Model
    >>> erf = kernels_sweep([["1", "0"], ["0.6", "0.8"]], [3], model=Model.parse(activation="erf"), digits=20)
    >>> erf["nngp"][0].entries[0][1].to_json(20)["mid"]
    '0.57087076991919166622688'
    >>> erf["nngp"][0].metadata()["model"]["activation"], erf["nngp"][0].method
    ('erf', 'direct iteration')
    """
    return _sweep(data, depths, BOTH, digits, route, project, param, progress, columns, relative_gap, on_plan,
                  scheduler, model, arrays)


def _sweep(
    data: Dataset | Sequence[Sequence[object]] | np.ndarray,
    depths: Sequence[int],
    kernel: str = "ntk",
    digits: int = 30,
    route: str = "certified",
    project: str = "normalize",
    param: Parameterization | None = None,
    progress: bool | None = None,
    columns: Dataset | Sequence[Sequence[object]] | np.ndarray | None = None,
    relative_gap: bool = False,
    on_plan: Callable[[SweepPlan], None] | None = None,
    scheduler: Any = None,
    model: Model | None = None,
    arrays: bool = False,
) -> dict[str, list[KernelResult]]:
    """The sweep behind :func:`kernel_sweep` and :func:`kernels_sweep`: results by kernel name."""
    kernel = check_choice(kernel, (*KERNELS, BOTH), "kernel")
    names = ("nngp", "ntk") if kernel == BOTH else (kernel,)    # the order of the (1 - rho, 1 - ThetaBar) pairs
    route = check_choice(route, ROUTES, "route")
    digits = check_digits(digits)
    depths = sorted({check_depth(d) for d in depths})
    if not depths:
        raise InputError("no depths given")
    network = resolve_model(param, model)
    rows = data if isinstance(data, Dataset) else Dataset.from_rows(data, project)
    cols = rows if columns is None else (
        columns if isinstance(columns, Dataset) else Dataset.from_rows(columns, project, "columns"))
    if cols.n0 != rows.n0:
        raise InputError(f"dimension mismatch: {rows.n0} vs {cols.n0} coordinates")
    symmetric = columns is None
    if not network.is_seed_family or _box_reaches_deeper(route, depths, network, relative_gap):
        return _model_sweep(rows, cols, symmetric, depths, names, digits, route, network, relative_gap,
                            progress, on_plan, scheduler, arrays)
    param = network.seed_parameterization()
    schedule = LayerSchedule(param.sigma_w2, param.sigma_b2, rows.n0)
    _check_route_limits(route, max(depths), schedule.is_default)
    if route == "float64":
        if on_plan is not None:
            on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, schedule.is_default))

        def seed_float64(flat: np.ndarray) -> dict[str, list[np.ndarray]]:
            return float64_sweep(flat, depths, kernel, schedule)

        return _with_model(_float64_results(rows, cols, symmetric, depths, names, digits, param, seed_float64),
                           network)

    certified = route in CERTIFIED_ROUTES
    if certified and arrays:
        if on_plan is not None:
            on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, schedule.is_default, arrays=True))
        if _uses_series(route, depths, schedule.is_default):
            prepare_series(digits)          # once, here: forked workers inherit it
        found = matrix_enclosures(rows, cols, symmetric, (len(depths), len(names)),
                                  partial(_seed_pair_gaps, depths=depths, kernel=kernel, digits=digits,
                                          schedule=schedule, relative_gap=relative_gap, route=route),
                                  progress=progress, scheduler=scheduler, cost=_task_cost(route, depths))
        return _with_model(_enclosure_results(found, depths, names, digits, lambda name, d, bits: _result(
            name, d, digits, route, param, bits, None, None, rows)), network)
    index, unique = pair_index(rows, cols, symmetric)
    if on_plan is not None:
        on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, schedule.is_default, len(unique)))
    methods: list[str] = ["mpmath iteration" if route == "mpmath" else "exact (no off-diagonal pair)"] * len(depths)
    cost = _task_cost(route, depths)
    if certified:
        if _uses_series(route, depths, schedule.is_default) and unique:
            prepare_series(digits)          # once, here: forked workers inherit it
        tasks: list[tuple[Any, ...]] = [(p, depths, kernel, digits, schedule, relative_gap, route) for p in unique]
        outs = run_tasks(_certified_task, tasks, progress=progress, cost=cost, scheduler=scheduler)
        if outs:
            methods = outs[0][2]
    else:
        tasks = [(p, depths, kernel, digits, schedule) for p in unique]
        outs = run_tasks(_mpmath_task, tasks, progress=progress, cost=cost, scheduler=scheduler)
    bits_used = max((o[1] for o in outs), default=bits_for_digits(digits))

    results: dict[str, list[KernelResult]] = {name: [] for name in names}
    for k, d in enumerate(depths):
        for pos, name in enumerate(names):      # with BOTH each task returned (nngp, ntk) per depth
            per_pair = [o[0][k][pos] if kernel == BOTH else o[0][k] for o in outs]
            values, gaps = _unique_values(per_pair, route, bits_used)
            entries, gap_rows = _assemble(index, values, gaps, symmetric, certified)
            res = _result(name, d, digits, route, param, bits_used, entries, gap_rows, rows)
            res.method = methods[k]
            if certified:
                res.distinct = (index, values, gaps)
            results[name].append(res)
    return _with_model(results, network)


def _with_model(results: dict[str, list[KernelResult]], model: Model) -> dict[str, list[KernelResult]]:
    """The results with their network stated (the seed engine computes from the variances alone)."""
    for res in (r for rs in results.values() for r in rs):
        res.model = model
    return results


def _box_reaches_deeper(route: str, depths: Sequence[int], network: Model, relative_gap: bool) -> bool:
    """Whether a seed-family ReLU network runs the model recursion instead (its invariant box).

    So it does, on the route ``certified`` past ``DIRECT_THRESHOLD``, with a bias and
    sigma_w^2 < 2: the diagonal q_(l+1) = sigma_w^2 q_l / 2 + sigma_b^2 then converges
    geometrically to q* = sigma_b^2 / (1 - sigma_w^2/2) > 0, and at q* the correlation map
    rho -> (sigma_w^2/2) kappa_1(rho) + 1 - sigma_w^2/2 (kappa_1 the arc-cosine kernel of degree 1,
    kappa_1'(1) = 1) has slope chi_c = sigma_w^2/2 < 1 at rho = 1: geometric fixed points, where
    :mod:`verify.kernel.invariant_box` reads deep layers at a cost independent of the depth,
    while the seed engine could only iterate (and refuses beyond 10^9). Without a bias the seed
    engine keeps the network (its normalized kernels are the default model's, with the
    asymptotic series); for sigma_w^2 >= 2 with a bias q grows without bound and no box exists.
    With ``relative_gap`` (solve, condition) the seed engine keeps it too: the box certifies the
    gaps 1 - entry to absolute digits only (they shrink like (sigma_w^2/2)^L), the seed engine's
    direct iteration to relative ones.
    """
    if route != "certified" or relative_gap or max(depths) <= DIRECT_THRESHOLD:
        return False
    param = network.seed_parameterization()
    return param.sigma_b2 > 0 and param.sigma_w2 < 2


def _seed_pair_gaps(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                    schedule: LayerSchedule, relative_gap: bool, route: str) -> PairGaps:
    """:func:`_certified_task` with one tuple of gap balls (one per kernel) per depth."""
    gaps, bits, methods = _certified_task(pair, depths, kernel, digits, schedule, relative_gap, route)
    return [g if isinstance(g, tuple) else (g,) for g in gaps], bits, methods


def _model_pair_gaps(pair: PairCorrelation, depths: Sequence[int], names: Sequence[str], digits: int,
                     model: Model, n0: int, relative_gap: bool, box: bool) -> PairGaps:
    """:func:`~verify.kernel.model_route.certified_model_pair` reduced to its gap balls."""
    from verify.kernel.model_route import certified_model_pair  # models only (see _model_sweep)

    rows, bits, methods = certified_model_pair(pair, depths, names, digits, model, n0, relative_gap, box)
    return [tuple(gap for _, gap in row) for row in rows], bits, methods


def _enclosure_results(found: MatrixEnclosures, depths: Sequence[int], names: Sequence[str], digits: int,
                       make: Callable[[str, int, int], KernelResult]) -> dict[str, list[KernelResult]]:
    """The results of an ``arrays=True`` sweep: ``make(name, depth, bits)`` with the enclosures filled in."""
    results: dict[str, list[KernelResult]] = {name: [] for name in names}
    for k, d in enumerate(depths):
        for pos, name in enumerate(names):
            res = make(name, d, found.bits or bits_for_digits(digits))
            res.enclosures = found.arrays(pos, k)
            res.entries, res.gaps = res.enclosures["mid"], res.enclosures["gap_mid"]
            res.method = _methods_text(found.methods[k])
            results[name].append(res)
    return results


def _uses_series(route: str, depths: Sequence[int], default_model: bool) -> bool:
    """Whether a certified sweep runs the asymptotic series for some depth."""
    return route == "certified-asymptotic" or (route == "certified" and default_model
                                               and max(depths) > DIRECT_THRESHOLD)


def _check_route_limits(route: str, top: int, default_model: bool, model_route: bool = False) -> None:
    """Refuse depths a route cannot reach (before any computing); ``default_model``: ReLU without a bias.

    ``model_route``: the model recursion, whose certified route reads deep layers off an invariant
    box where one exists (and refuses, while computing, a depth beyond direct iteration where none does).
    """
    if route in ("mpmath", "float64") and top > PLAIN_MAX_DEPTH:
        raise InputError(f"depth {depth_text(top)} is beyond the {route} route's limit of {PLAIN_MAX_DEPTH} "
                         "(it iterates layer by layer); use the certified route")
    direct_only = route == "certified-direct" or (route in CERTIFIED_ROUTES and not default_model and not model_route)
    if direct_only and top > DIRECT_MAX_DEPTH:
        raise InputError(f"depth {depth_text(top)} is beyond direct iteration ({depth_text(DIRECT_MAX_DEPTH, 6)}); the "
                         "asymptotic route covers any depth for ReLU networks without a bias (sigma_b^2 = 0)")
    if route == "certified-asymptotic" and not default_model:
        raise InputError("the asymptotic route is derived for ReLU-type networks without a bias (sigma_b^2 = 0) only "
                         "(relu, leaky_relu, abrelu, abs: MLP or resnet, NTK parameterization)")


def _model_sweep(rows: Dataset, cols: Dataset, symmetric: bool, depths: list[int], names: tuple[str, ...],
                 digits: int, route: str, model: Model, relative_gap: bool, progress: bool | None,
                 on_plan: Callable[[SweepPlan], None] | None, scheduler: Any,
                 arrays: bool = False) -> dict[str, list[KernelResult]]:
    """A model outside the seed family: direct iteration per distinct pair (:mod:`verify.kernel.model_route`)."""
    # imported here: only these networks need the model recursion (``ntk-verify kernel`` on the seed
    # family starts about 40 ms sooner without it)
    from verify.kernel.model_recursion import float64_model_sweep
    from verify.kernel.model_route import certified_model_pair, model_diagonals, mpmath_model_pair
    from verify.kernel.model_series import parabolic_family

    series = parabolic_family(model) is not None     # the Abel series beyond depth 1000 (verify.kernel.model_series)
    if route == "certified-asymptotic" and not series:
        raise InputError(f"{model.name}: no asymptotic-series route for this model; use the route certified "
                         "(direct iteration, or an invariant box where one exists) or certified-direct")
    _check_route_limits(route, max(depths), default_model=series, model_route=True)
    param = Parameterization(model.sigma_w2, model.sigma_b2)     # the variances only: ``model`` is the network
    if route == "float64":
        if on_plan is not None:
            on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, False, model_route=True))
        diagonal = float64_model_sweep(model, np.ones(1), depths, rows.n0)

        def model_float64(flat: np.ndarray) -> dict[str, list[np.ndarray]]:
            sweep = float64_model_sweep(model, flat, depths, rows.n0).results      # both kernels, one pass
            return {name: [getattr(r, name) for r in sweep] for name in names}

        out = _float64_results(rows, cols, symmetric, depths, names, digits, param, model_float64)
        for name in names:
            for res in out[name]:
                res.model = model
                res.raw_factor = mpmath.mpf(float(getattr(diagonal.at(res.depth), f"{name}_diag")))
        return out

    certified = route in CERTIFIED_ROUTES
    bits = mpmath_bits(digits, max(depths))
    box = route != "certified-direct"

    def make(name: str, d: int, bits_used: int, entries: Any = None, gaps: Any = None,
             method: str = "") -> KernelResult:
        diag = diagonals[(d, name)]
        factor = diag.mid_mpf() if isinstance(diag, Ball) else diag
        return KernelResult(name, d, digits, route, param, bits_used, entries, gaps, factor, rows.n0,
                            rows.project, rows.name, method, model=model,
                            raw_factor_ball=diag if isinstance(diag, Ball) else None)

    if certified and arrays:
        if on_plan is not None:
            on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, series and box,
                               model_route=not (series and box), arrays=True))
        found = matrix_enclosures(rows, cols, symmetric, (len(depths), len(names)),
                                  partial(_model_pair_gaps, depths=depths, names=names, digits=digits, model=model,
                                          n0=rows.n0, relative_gap=relative_gap, box=box),
                                  progress=progress, scheduler=scheduler, cost=max(depths))
        diagonals = model_diagonals(model, depths, rows.n0, "certified", digits, bits)
        return _enclosure_results(found, depths, names, digits, make)
    index, unique = pair_index(rows, cols, symmetric)
    if on_plan is not None:
        priced = series and certified and box
        on_plan(sweep_plan(rows, cols, symmetric, depths, route, digits, priced, len(unique), model_route=not priced))
    if certified:
        tasks: list[tuple[Any, ...]] = [(p, depths, names, digits, model, rows.n0, relative_gap, box) for p in unique]
        outs = run_tasks(certified_model_pair, tasks, progress=progress, cost=max(depths), scheduler=scheduler)
    else:
        tasks = [(p, depths, names, bits, model, rows.n0) for p in unique]
        outs = run_tasks(mpmath_model_pair, tasks, progress=progress, cost=4 * max(depths), scheduler=scheduler)
    diagonals = model_diagonals(model, depths, rows.n0, "certified" if certified else "mpmath", digits, bits)
    bits_used = max((o[1] for o in outs), default=bits_for_digits(digits))
    results: dict[str, list[KernelResult]] = {name: [] for name in names}
    for k, d in enumerate(depths):
        method = _methods_text(Counter(o[2][k] for o in outs)) if certified else "mpmath iteration"
        for pos, name in enumerate(names):
            values = [o[0][k][pos][0] for o in outs]
            gaps = [o[0][k][pos][1] for o in outs]
            entries, gap_rows = _assemble(index, values, gaps, symmetric, certified)
            res = make(name, d, bits_used, entries, gap_rows, method if unique else "exact (no off-diagonal pair)")
            if certified:
                res.distinct = (index, values, gaps)
            results[name].append(res)
    return results


def _methods_text(counts: Counter[str]) -> str:
    """One method for a depth's pairs: the common one, else each with its count of pairs."""
    if not counts:
        return "exact (no off-diagonal pair)"
    if len(counts) == 1:
        return next(iter(counts))
    total = sum(counts.values())
    return "; ".join(f"{m} ({c} of {total} pairs)" for m, c in counts.most_common())


def _unique_values(per_pair: list[Any], route: str, bits: int) -> tuple[list[Any], list[Any]]:
    """(entry, 1 - entry) of every distinct pair at one depth, from what its task returned."""
    if route in CERTIFIED_ROUTES:
        return [gap.one_minus() for gap in per_pair], per_pair
    with mpmath.workprec(bits):
        return per_pair, [1 - value for value in per_pair]


def _assemble(index: np.ndarray, values: list[Any], gaps: list[Any], symmetric: bool,
              certified: bool) -> tuple[list[list[Any]], list[list[Any]]]:
    """Matrices of entries and gaps: entry (i, j) is the value of distinct pair ``index[i, j]``."""
    n, m = index.shape
    entries: list[list[Any]] = [[None] * m for _ in range(n)]
    gap_rows: list[list[Any]] = [[None] * m for _ in range(n)]
    for i, row in enumerate(index.tolist()):
        for j in range(i + 1 if symmetric else 0, m):
            u = row[j]
            entries[i][j], gap_rows[i][j] = values[u], gaps[u]
            if symmetric:
                entries[j][i], gap_rows[j][i] = values[u], gaps[u]
    if symmetric:
        one, zero = (Ball.exact(1), Ball.exact(0)) if certified else (mpmath.mpf(1), mpmath.mpf(0))
        for i in range(n):
            entries[i][i], gap_rows[i][i] = one, zero
    return entries, gap_rows


FLOAT64_CHUNK = 1 << 16     # cosines one float64 sweep takes at once: its temporaries stay small (and in cache)


def _float64_results(rows: Dataset, cols: Dataset, symmetric: bool, depths: list[int], names: tuple[str, ...],
                     digits: int, param: Parameterization,
                     sweep: Callable[[np.ndarray], dict[str, list[np.ndarray]]]) -> dict[str, list[KernelResult]]:
    """Best effort: the whole sweep in numpy doubles, in chunks of about FLOAT64_CHUNK cosines.

    ``sweep(cosines)`` gives ``{name: [kernel at each depth]}`` for a flat array of first-layer
    cosines: every kernel in ``names`` from one pass.

    Memory: the cosines and one n x m matrix (and its gaps) a depth and kernel; the chunks'
    temporaries are a few MB whatever n is (no index arrays of the upper triangle).
    """
    cos = _float_cosines(rows, cols)
    n, m = cos.shape
    mats = {name: [np.ones((n, m)) if symmetric else np.empty((n, m)) for _ in depths] for name in names}
    group: list[int] = []
    size = 0
    for i in range(n):
        group.append(i)
        size += m - (i + 1 if symmetric else 0)
        if size >= FLOAT64_CHUNK or i == n - 1:
            _float64_chunk(cos, group, symmetric, mats, sweep)
            group, size = [], 0
    results: dict[str, list[KernelResult]] = {name: [] for name in names}
    for name in names:
        for d, mat in zip(depths, mats[name], strict=True):
            res = _result(name, d, digits, route="float64", param=param, bits=None, entries=mat,
                          gaps=1.0 - mat, data=rows)      # arrays: no Python object per entry
            res.method = "float64 iteration"
            results[name].append(res)
    return results


def _float64_chunk(cos: np.ndarray, rows: list[int], symmetric: bool, mats: dict[str, list[np.ndarray]],
                   sweep: Callable[[np.ndarray], dict[str, list[np.ndarray]]]) -> None:
    """The float64 sweep of the cells of ``rows`` (right of the diagonal when ``symmetric``), into ``mats``."""
    starts = [i + 1 if symmetric else 0 for i in rows]
    flat = np.concatenate([cos[i, start:] for i, start in zip(rows, starts, strict=True)])
    if not flat.size:
        return
    swept = sweep(flat)
    for name, name_mats in mats.items():
        for mat, values in zip(name_mats, swept[name], strict=True):
            pos = 0
            for i, start in zip(rows, starts, strict=True):
                row = values[pos:pos + mat.shape[1] - start]
                mat[i, start:] = row
                if symmetric:
                    mat[start:, i] = row
                pos += row.size


def kernel_matrix(
    data: Dataset | Sequence[Sequence[object]] | np.ndarray,
    depth: int,
    kernel: str = "ntk",
    digits: int = 30,
    route: str = "certified",
    *,
    project: str = "normalize",
    param: Parameterization | None = None,
    progress: bool | None = None,
    columns: Dataset | Sequence[Sequence[object]] | np.ndarray | None = None,
    relative_gap: bool = False,
    scheduler: Any = None,
    model: Model | None = None,
) -> KernelResult:
    """The normalized kernel matrix at one depth; certified enclosures on the certified routes.

    Arguments as :func:`kernel_sweep`.
    """
    return kernel_sweep(data, [depth], kernel, digits, route, project=project, param=param, progress=progress,
                        columns=columns, relative_gap=relative_gap, scheduler=scheduler, model=model)[0]


def _float_cosines(rows: Dataset, cols: Dataset) -> np.ndarray:
    a, b = rows.float_points(), cols.float_points()
    cosines: np.ndarray = np.clip(a @ b.T, -1.0, 1.0)
    return cosines


def _result(kernel: str, depth: int, digits: int, route: str, param: Parameterization,
            bits: int | None, entries: Any, gaps: Any, data: Dataset) -> KernelResult:
    prec = bits or 113
    with mpmath.workprec(max(prec, 64)):
        q, t = raw_diagonals(Fraction(param.sigma_w2), Fraction(param.sigma_b2), data.n0, depth)
    factor = t if kernel == "ntk" else q
    return KernelResult(kernel, depth, digits, route, param, bits, entries, gaps, factor,
                        data.n0, data.project, data.name)
