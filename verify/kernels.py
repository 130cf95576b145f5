"""Normalized NTK / NNGP kernel matrices at any precision: the engine's public entry point.

Three routes behind one interface:

* ``certified``: Arb balls (python-flint). Every entry is an enclosure of the exact
  normalized kernel value; the working precision is raised until every radius is at
  most ``10**-digits * max(1, |mid|)``. Depths up to ``DIRECT_THRESHOLD`` (1000) are reached
  by direct iteration of the recursion; deeper ones, for the default model, through
  the Abel-coordinate series of :mod:`verify.asymptotic_route` (also certified, time
  independent of L). ``certified-direct`` and ``certified-asymptotic`` force one method.
* ``mpmath``: plain arbitrary precision, best effort (no error bound).
* ``float64``: numpy double precision, best effort, to show where it breaks.

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
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np

from .asymptotic_route import asymptotic_pair_sweep
from .balls import Ball
from .dataset import Dataset, pair_correlation
from .errors import InputError
from .layer_schedule import LayerSchedule, raw_diagonals
from .parallel import run_tasks
from .params import DEFAULT, Parameterization
from .precision import bits_for_digits, check_digits, run_to_digits
from .recursion_certified import PairCorrelation, certified_pair_sweep
from .recursion_plain import float64_sweep, mpmath_pair_sweep

KERNELS = ("ntk", "nngp")
ROUTES = ("certified", "certified-direct", "certified-asymptotic", "mpmath", "float64")
CERTIFIED_ROUTES = ("certified", "certified-direct", "certified-asymptotic")
GUARANTEES = {
    "certified": "certified enclosure",
    "certified-direct": "certified enclosure",
    "certified-asymptotic": "certified enclosure",
    "mpmath": "best effort (plain mpmath, no error bound)",
    "float64": "best effort (float64, no error bound)",
}
MAX_DEPTH = 10**1000
DIRECT_MAX_DEPTH = 10**9
PLAIN_MAX_DEPTH = 10**8
# measured crossover (one pair, 30 digits): direct iteration 5-7 ms vs series 3-4 ms at L = 1000,
# 43-59 ms vs 3-4 ms at 1e4; below ~500 layers direct iteration is cheaper
DIRECT_THRESHOLD = 1000


def check_depth(depth: object) -> int:
    """Validate a depth (an integer >= 1; strings may be written 1e15).

    >>> check_depth("1e15") == 10**15, check_depth(7)
    (True, 7)
    """
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)):
        text = str(depth).strip().lower()
        try:
            if re.fullmatch(r"\d+e\d+", text):             # 1e15: an exact power-of-ten multiple
                mant, _, exp = text.partition("e")
                depth = int(mant) * 10 ** int(exp) if int(exp) <= 1000 else MAX_DEPTH + 1
            else:
                depth = int(text, 10)
        except ValueError:
            raise InputError(f"depth must be an integer >= 1, got {depth!r}") from None
    depth = int(depth)
    if depth < 1:
        raise InputError(f"depth must be >= 1, got {depth}")
    if depth > MAX_DEPTH:
        raise InputError(f"depth {depth} is absurd (the limit is 10^1000)")
    return depth


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise InputError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
    return value


@dataclass
class KernelResult:
    """One normalized kernel matrix (ones on the diagonal for a symmetric Gram matrix).

    ``entries[i][j]`` is a :class:`~verify.balls.Ball` (certified route), an
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
    entries: list[list[Any]]
    gaps: list[list[Any]]
    raw_factor: mpmath.mpf
    n0: int
    projection: str
    data_name: str = "data"
    method: str = "direct iteration"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def guarantee(self) -> str:
        return GUARANTEES[self.route]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.entries), len(self.entries[0]) if self.entries else 0

    def mid_array(self) -> np.ndarray:
        """Best effort: the midpoints as a float64 array."""
        return np.array([[float(v) for v in row] for row in self.entries], dtype=np.float64)

    def entry_json(self, i: int, j: int) -> dict[str, str | None]:
        return _value_json(self.entries[i][j], self.digits)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (see README): decimals as strings, never through float64."""
        rows, cols = self.shape
        return {
            "kernel": self.kernel,
            "normalized": "ThetaBar" if self.kernel == "ntk" else "SigmaBar (= rho)",
            "depth": self.depth,
            "digits": self.digits,
            "route": self.route,
            "method": self.method,
            "guarantee": self.guarantee,
            "parameterization": self.parameterization.describe(),
            "working_precision_bits": self.working_precision_bits,
            "n": rows,
            "m": cols,
            "n0": self.n0,
            "projection": self.projection,
            "data": self.data_name,
            "raw_factor": {
                "value": mpmath.nstr(self.raw_factor, max(self.digits, 17)),
                "meaning": "raw kernel = raw_factor * normalized kernel"
                + (" (Theta^(L)(x,x))" if self.kernel == "ntk" else " (Sigma^(L)(x,x))"),
                "guarantee": "exact up to the final rounding"
                if self.parameterization.is_default else "best effort (mpmath)",
            },
            "matrix": [[self.entry_json(i, j) for j in range(cols)] for i in range(rows)],
            "one_minus_matrix": [[_value_json(self.gaps[i][j], self.digits) for j in range(cols)]
                                 for i in range(rows)] if self.route in CERTIFIED_ROUTES else None,
            **self.extra,
        }


def _value_json(value: Any, digits: int) -> dict[str, str | None]:
    if isinstance(value, Ball):
        return value.to_json(digits)
    if isinstance(value, mpmath.mpf):
        return {"mid": mpmath.nstr(value, digits + 3, min_fixed=-5, max_fixed=digits + 5, strip_zeros=False),
                "rad": None}
    return {"mid": repr(float(value)), "rad": None}


def _certified_task(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                    schedule: LayerSchedule, relative_gap: bool, route: str) -> tuple[list, int, list[str]]:
    """Certified gap balls of one pair at every depth, precision raised until accurate.

    Returns (gaps, working precision, method per depth).
    """
    use_series = route == "certified-asymptotic" or (
        route == "certified" and schedule.is_default)
    threshold = 0 if route == "certified-asymptotic" else DIRECT_THRESHOLD
    direct = [d for d in depths if not use_series or d <= threshold]
    deep = [d for d in depths if use_series and d > threshold]
    out: dict[int, Ball] = {}
    methods: dict[int, str] = {}
    bits_used = 0
    if direct:
        gaps, bits = _direct_gaps(pair, direct, kernel, digits, schedule, relative_gap)
        out.update(zip(direct, gaps, strict=True))
        methods.update(dict.fromkeys(direct, "direct iteration"))
        bits_used = bits
    if deep:
        balls, bits, _ = asymptotic_pair_sweep(pair, deep, kernel, digits, schedule)
        out.update((d, f if kernel == "ntk" else e) for d, (e, f) in zip(deep, balls, strict=True))
        methods.update(dict.fromkeys(deep, "asymptotic series"))
        bits_used = max(bits_used, bits)
    return [out[d] for d in depths], bits_used, [methods[d] for d in depths]


def _direct_gaps(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                 schedule: LayerSchedule, relative_gap: bool) -> tuple[list[Ball], int]:
    """Direct certified iteration, precision raised until every gap meets the request."""
    top = max(depths)
    start = bits_for_digits(digits) + 2 * math.ceil(math.log2(top + 1)) + 24
    if relative_gap:
        start += 2 * math.ceil(math.log2(top + 1))
    # g(e) = e + ((1 - e) A(e) - sqrt(e(2 - e)))/pi cancels terms of size sqrt(e): a tiny
    # first-layer gap costs about log2(1/e)/2 bits more
    first_gap = pair.gap_float()
    if 0 < first_gap < 1:
        start += math.ceil(-math.log2(first_gap) / 2)

    def compute(bits: int) -> list[Ball] | None:
        try:
            out = certified_pair_sweep(pair, depths, kernel, bits, schedule)
        except ArithmeticError:          # a ball lost all accuracy (NaN): more precision
            return None
        return [f if kernel == "ntk" else e for e, f in out]

    def accurate(gaps: list[Ball] | None) -> bool:
        if gaps is None:
            return False
        if relative_gap:
            return all(g.rad_man == 0 or g.relative_digits() >= digits for g in gaps)
        return all(g.correct_digits() >= digits for g in gaps)

    return run_to_digits(compute, accurate, start, digits=digits, what=f"{kernel} entry at depth {top}")


def _mpmath_task(pair: PairCorrelation, depths: Sequence[int], kernel: str, digits: int,
                 schedule: LayerSchedule) -> tuple[list, int]:
    bits = mpmath_bits(digits, max(depths))
    with mpmath.workprec(bits):
        rho1 = pair.sign * mpmath.sqrt(mpmath.mpf(pair.t.numerator) / pair.t.denominator)
    out = mpmath_pair_sweep(rho1, depths, kernel, bits, schedule)
    return [(th if kernel == "ntk" else rho) for rho, th in out], bits


def mpmath_bits(digits: int, depth: int) -> int:
    """Working precision of the mpmath route: the digits asked for plus 10 + 2 log10(L) guard digits."""
    return bits_for_digits(digits + 10 + 2 * math.ceil(math.log10(depth + 1)))


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
) -> list[KernelResult]:
    """Normalized kernel matrices at every depth in ``depths``, in one pass per pair.

    Returns certified enclosures (``route="certified"``) or best-effort values (the
    other routes); see :class:`KernelResult`. With ``columns`` the result is the
    cross-kernel K(data, columns); otherwise the symmetric Gram matrix. With
    ``relative_gap`` the certified route also makes every ``1 - entry`` accurate to
    ``digits`` relative digits (needed near the flat limit).
    """
    kernel = check_choice(kernel, KERNELS, "kernel")
    route = check_choice(route, ROUTES, "route")
    digits = check_digits(digits)
    depths = sorted({check_depth(d) for d in depths})
    if not depths:
        raise InputError("no depths given")
    param = param or DEFAULT
    rows = data if isinstance(data, Dataset) else Dataset.from_rows(data, project)
    cols = rows if columns is None else (
        columns if isinstance(columns, Dataset) else Dataset.from_rows(columns, project, "columns"))
    if cols.n0 != rows.n0:
        raise InputError(f"dimension mismatch: {rows.n0} vs {cols.n0} coordinates")
    symmetric = columns is None
    schedule = LayerSchedule(param.sigma_w2, param.sigma_b2, rows.n0)

    keys: dict[tuple[int, int], PairCorrelation] = {}
    for i in range(rows.n):
        for j in range(i + 1 if symmetric else 0, cols.n):
            keys[(i, j)] = pair_correlation(rows.points[i], cols.points[j])
    unique = sorted(set(keys.values()), key=lambda p: (p.sign, p.t))

    top = max(depths)
    if route in ("mpmath", "float64") and top > PLAIN_MAX_DEPTH:
        raise InputError(f"depth {top} is beyond the {route} route's limit of {PLAIN_MAX_DEPTH} (it iterates "
                         "layer by layer); use the certified route")
    direct_only = route == "certified-direct" or (route in CERTIFIED_ROUTES and not schedule.is_default)
    if direct_only and top > DIRECT_MAX_DEPTH:
        raise InputError(f"depth {top} is beyond direct iteration ({DIRECT_MAX_DEPTH}); the asymptotic "
                         "route covers any depth for the default model (sigma_w^2 = 1, sigma_b^2 = 0)")
    if route == "certified-asymptotic" and not schedule.is_default:
        raise InputError("the asymptotic route is derived for the default model (sigma_w^2 = 1, sigma_b^2 = 0) only")
    bits_used: int | None = None
    methods: list[str] = ["mpmath iteration" if route == "mpmath" else "exact (no off-diagonal pair)"] * len(depths)
    if route == "float64":
        cos = _float_cosines(rows, cols)
        if symmetric:
            iu = np.triu_indices(rows.n, 1)
            vals = float64_sweep(cos[iu], depths, kernel, schedule)
        else:
            vals = float64_sweep(cos.ravel(), depths, kernel, schedule)
        per_depth_values = []
        for v in vals:
            mat = np.ones((rows.n, cols.n)) if symmetric else v.reshape(rows.n, cols.n)
            if symmetric:
                mat[iu] = v
                mat[(iu[1], iu[0])] = v
            per_depth_values.append(mat)
        results = []
        for d, mat in zip(depths, per_depth_values, strict=True):
            entries = [[float(x) for x in row] for row in mat]
            gaps = [[1.0 - x for x in row] for row in entries]
            res = _result(kernel, d, digits, route, param, None, entries, gaps, rows)
            res.method = "float64 iteration"
            results.append(res)
        return results

    if route in CERTIFIED_ROUTES:
        tasks = [(p, depths, kernel, digits, schedule, relative_gap, route) for p in unique]
        cost = max(depths) if route == "certified-direct" else min(max(depths), DIRECT_THRESHOLD)
        outs = run_tasks(_certified_task, tasks, progress=progress, cost=cost)
        if outs:
            methods = outs[0][2]
    else:
        tasks = [(p, depths, kernel, digits, schedule) for p in unique]
        outs = run_tasks(_mpmath_task, tasks, progress=progress, cost=4 * max(depths))
    by_pair = {p: o[0] for p, o in zip(unique, outs, strict=True)}
    bits_used = max((o[1] for o in outs), default=bits_for_digits(digits))

    results = []
    for k, d in enumerate(depths):
        entries: list[list[Any]] = [[None] * cols.n for _ in range(rows.n)]
        gaps: list[list[Any]] = [[None] * cols.n for _ in range(rows.n)]
        for (i, j), p in keys.items():
            gap = by_pair[p][k]
            if route in CERTIFIED_ROUTES:
                value = gap.one_minus()
            else:
                with mpmath.workprec(bits_used):
                    value, gap = gap, 1 - gap
            entries[i][j], gaps[i][j] = value, gap
            if symmetric:
                entries[j][i], gaps[j][i] = value, gap
        if symmetric:
            one, zero = (Ball.exact(1), Ball.exact(0)) if route in CERTIFIED_ROUTES else (
                mpmath.mpf(1), mpmath.mpf(0))
            for i in range(rows.n):
                entries[i][i], gaps[i][i] = one, zero
        res = _result(kernel, d, digits, route, param, bits_used, entries, gaps, rows)
        res.method = methods[k]
        results.append(res)
    return results


def kernel_matrix(
    data: Dataset | Sequence[Sequence[object]] | np.ndarray,
    depth: int,
    kernel: str = "ntk",
    digits: int = 30,
    route: str = "certified",
    **options: Any,
) -> KernelResult:
    """The normalized kernel matrix at one depth; certified enclosures on the certified routes.

    ``options`` are those of :func:`kernel_sweep` (project, param, progress, columns,
    relative_gap).
    """
    return kernel_sweep(data, [depth], kernel, digits, route, **options)[0]


def _float_cosines(rows: Dataset, cols: Dataset) -> np.ndarray:
    a, b = rows.float_points(), cols.float_points()
    return np.clip(a @ b.T, -1.0, 1.0)


def _result(kernel: str, depth: int, digits: int, route: str, param: Parameterization,
            bits: int | None, entries: list, gaps: list, data: Dataset) -> KernelResult:
    prec = bits or 113
    with mpmath.workprec(max(prec, 64)):
        q, t = raw_diagonals(Fraction(param.sigma_w2), Fraction(param.sigma_b2), data.n0, depth)
    factor = t if kernel == "ntk" else q
    return KernelResult(kernel, depth, digits, route, param, bits, entries, gaps, factor,
                        data.n0, data.project, data.name)
