"""The closed-form solution of Proposition 3 as certified enclosures: W, f_inf(Z) and f_t(Z).

For training inputs X (n points), labels Y (n x k), test inputs Z (m points),
kappa = K(X, X), kappa_Z = K(Z, X) (normalized NTK or NNGP) and f_0 (0 by default):

    W        = kappa_Z kappa^-1                                      (m x n)
    f_inf(Z) = f_0(Z) + W (Y - f_0(X))
    f_t(Z)   = f_0(Z) + kappa_Z kappa^-1 (I - exp(-eta tau kappa)) (Y - f_0(X))
    f_t(X)   = f_0(X) + (I - exp(-eta tau kappa)) (Y - f_0(X))

with tau = t for the normalized kernel, tau = t * raw_factor for the raw kernel
(W does not depend on the scale). Everything is computed in Arb: one
preconditioned solve for [kappa_Z^T | Y - f_0(X)], Arb's matrix exponential for
f_t. kappa is assembled as J - G from the relative-accuracy gaps, the working
precision and the kernel digits are raised by :func:`verify.linalg.conditioning.certify`
until every entry has ``digits`` correct digits (relative to max(1, |value|)).
The digits the conditioning costs are reported: ``digits_lost`` = log10 of a
certified upper bound on cond_1(kappa) = |kappa|_1 |kappa^-1|_1.

>>> from verify.data.dataset import Dataset
>>> X = Dataset.from_rows([["1", "0"], ["0", "1"]])
>>> Z = Dataset.from_rows([["1", "1"]])
>>> s = solve(X, [["1"], ["-1"]], Z, depth=2, kernel="nngp", digits=20)
>>> [w.to_json(20)["mid"] for w in s.weights[0]]   # h(1/sqrt 2) / (1 + 1/pi) twice
['0.57301335053772983099210', '0.57301335053772983099210']
>>> p = s.predictions[0][0]                          # W (1, -1)^T = 0 exactly
>>> p.contains(0), p.correct_digits() >= 20
(True, True)
"""

from __future__ import annotations

import math
import time as time_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flint import arb, arb_mat, ctx

from verify.core.balls import Ball, arb_of_fraction
from verify.core.depths import check_depth, depth_text
from verify.core.errors import InputError, SingularKernelError
from verify.core.model import Model
from verify.core.params import DEFAULT, Parameterization, parse_exact
from verify.core.precision import check_digits
from verify.data.dataset import Dataset
from verify.data.sources import load_rows
from verify.linalg.ball_matrix import BallMatrix
from verify.linalg.conditioning import (
    GUARANTEE,
    KERNEL_GUARD_DIGITS,
    KernelSource,
    arb_from_gaps,
    certified_invertible,
    certify,
    correct_digits,
    log10_abs,
    log10_raw_scale,
    lost_digits,
    min_gap,
    network_json,
    raw_available,
    regime_meaning,
    relative_digits,
)
from verify.linalg.singularity import Diagnosis

Matrix = list[list[Fraction]]
Gaps = list[list[Ball]]
TIME_SCALES = ("normalized", "raw")
RAW_TIME_MAX_DEPTH = 10**5
DIGITS_LOST_PREC = 53      # digits_lost is printed to 0.01: Arb's default precision is plenty


# ---------------------------------------------------------------- exact inputs

def parse_matrix(rows: Sequence[Sequence[object]], n: int, what: str) -> Matrix:
    """n rows of k exact numbers (decimal strings, ints or Fractions; never floats)."""
    out = [[parse_exact(v if isinstance(v, (int, Fraction)) else str(v), f"{what} row {i + 1}")
            for v in row] for i, row in enumerate(rows)]
    if len(out) != n:
        raise InputError(f"{what}: {len(out)} rows, expected {n} (one per point)")
    widths = {len(r) for r in out}
    if len(widths) != 1 or 0 in widths:
        raise InputError(f"{what}: every row needs the same number (>= 1) of values")
    return out


def load_labels(path: str, n: int, what: str = "labels") -> Matrix:
    """Labels from a CSV (decimal strings, parsed exactly) or .npy file: n rows of k values."""
    return parse_matrix(load_rows(path, what), n, what)


@dataclass(frozen=True)
class FlowTime:
    """Gradient-flow time t, learning rate eta, and which kernel scale the flow uses."""

    t: Fraction
    lr: Fraction
    scale: str = "normalized"

    def tau(self, kernel: str, depth: int, n0: int, param: Parameterization, model: Model | None = None) -> Fraction:
        """eta * t * (1 for the normalized kernel, or the exact raw factor); ``model``: the full network if not
        the seed family of ``param``."""
        if self.scale == "normalized":
            return self.lr * self.t
        if not param.is_default or (model is not None and not model.is_seed_family):
            raise InputError("the raw time scale needs the default model (sigma_w^2 = 1, no bias)")
        if depth > RAW_TIME_MAX_DEPTH:     # the exact factor 2^-(L-1) has ~0.3 L digits
            raise InputError(f"the raw time scale goes up to depth {RAW_TIME_MAX_DEPTH} (its factor "
                             f"L/(n0 2^(L-1)) is below 10^-30000 beyond); use --time-scale normalized")
        factor = Fraction(depth if kernel == "ntk" else 1, n0 * 2 ** (depth - 1))
        return self.lr * self.t * factor


def flow_time(t: object, lr: object, scale: str = "normalized") -> FlowTime:
    """Validate t >= 0 and eta > 0 (exact decimals)."""
    t, lr = parse_exact(str(t), "time"), parse_exact(str(lr), "learning rate")
    if t < 0 or lr <= 0:
        raise InputError(f"need time >= 0 and learning rate > 0, got t = {t}, eta = {lr}")
    if scale not in TIME_SCALES:
        raise InputError(f"unknown time scale {scale!r}; choose from {', '.join(TIME_SCALES)}")
    return FlowTime(t, lr, scale)


@dataclass(frozen=True)
class Problem:
    """The exact right-hand sides: labels Y, f_0 on X and Z (zero by default), optional time."""

    labels: Matrix
    f0_train: Matrix | None = None
    f0_test: Matrix | None = None
    time: FlowTime | None = None

    @property
    def k(self) -> int:
        return len(self.labels[0])

    def residual(self) -> Matrix:
        """Y - f_0(X), exactly."""
        if self.f0_train is None:
            return self.labels
        return [[y - f for y, f in zip(r, q, strict=True)] for r, q in zip(self.labels, self.f0_train,
                                                                              strict=True)]


# ---------------------------------------------------------------- Arb arithmetic

def _arb_matrix(values: Matrix) -> arb_mat:
    out = arb_mat(len(values), len(values[0]))
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            out[i, j] = arb_of_fraction(v)
    return out


def _columns(a: arb_mat, start: int, stop: int) -> arb_mat:
    out = arb_mat(a.nrows(), stop - start)
    for i in range(a.nrows()):
        for j in range(start, stop):
            out[i, j - start] = a[i, j]
    return out


def _hstack(a: arb_mat, b: arb_mat) -> arb_mat:
    out = arb_mat(a.nrows(), a.ncols() + b.ncols())
    for i in range(a.nrows()):
        for j in range(a.ncols()):
            out[i, j] = a[i, j]
        for j in range(b.ncols()):
            out[i, a.ncols() + j] = b[i, j]
    return out


def _identity(n: int) -> arb_mat:
    out = arb_mat(n, n)
    for i in range(n):
        out[i, i] = 1
    return out


def _plus_f0(a: arb_mat, f0: Matrix | None) -> arb_mat:
    return a if f0 is None else a + _arb_matrix(f0)


def _entries(a: arb_mat) -> list[arb]:
    return [a[i, j] for i in range(a.nrows()) for j in range(a.ncols())]


def _one_norm_upper(a: arb_mat) -> arb:
    """An exact upper bound of the 1-norm max_j sum_i |a_ij|."""
    cols = [sum((abs(a[i, j]) for i in range(a.nrows())), arb(0)).upper() for j in range(a.ncols())]
    return max(cols, key=lambda x: x.mid())


def _intersect(a: arb_mat, b: arb_mat) -> arb_mat:
    """Entrywise intersection of two enclosures of the same matrix (a non-finite entry yields to the other)."""
    out = arb_mat(a.nrows(), a.ncols())
    for i in range(a.nrows()):
        for j in range(a.ncols()):
            x, y = a[i, j], b[i, j]
            out[i, j] = x.intersection(y) if x.is_finite() and y.is_finite() else (x if x.is_finite() else y)
    return out


def evaluate_solution(blocks: tuple[Gaps, Gaps], problem: Problem, tau: Fraction | None,
                      bits: int, midpoints: bool) -> dict[str, Any] | None:
    """One evaluation at ``bits``; certified for the matrices given (midpoints or full balls).

    ``blocks`` = (gaps of kappa, gaps of kappa_Z). Returns None if Arb cannot invert kappa
    at this precision. The predictions are enclosed two ways, kappa_Z (kappa^-1 r) and
    W r (r = Y - f_0(X), and r = (I - exp(-eta tau kappa)) (Y - f_0(X)) for f_t), and
    the intersection is kept: both contain the exact value, and W r avoids the
    cancellation of kappa_Z (kappa^-1 r) when kappa^-1 r is huge (near-duplicate points).
    """
    gram, cross = blocks
    m = len(cross)
    with ctx.workprec(bits):
        a = arb_from_gaps(gram, midpoints, prec=bits)
        c = arb_from_gaps(cross, midpoints, prec=bits)
        resid = _arb_matrix(problem.residual())
        sol = a.solve(_hstack(c.transpose(), resid), nonstop=True)
        if not all(x.is_finite() for x in _entries(sol)):
            return None
        det = a.det()
        weights = _columns(sol, 0, m).transpose()
        out = {"weights": weights,
               "predictions": _plus_f0(_intersect(c * _columns(sol, m, sol.ncols()), weights * resid),
                                       problem.f0_test),
               "det": det, "log10": log10_abs(det, prec=bits)}
        if tau is not None:
            decay = _identity(a.nrows()) - (a * (-arb_of_fraction(tau))).exp()
            moved = decay * resid
            beta = a.solve(moved, nonstop=True)
            out["ft_test"] = _plus_f0(_intersect(c * beta, weights * moved), problem.f0_test)
            out["ft_train"] = _plus_f0(moved, problem.f0_train)
        if not midpoints:
            out["cond1"] = _one_norm_upper(a) * _inverse_one_norm_upper(a, bits)
        return out


COND_PREC = 64      # cond_1 is reported to 0.01 in log10: kappa^-1 at 64 bits (half the cost) unless that fails


def _inverse_one_norm_upper(a: arb_mat, bits: int) -> arb:
    """An exact upper bound of |A^-1|_1 for every matrix in the ball matrix ``a``.

    Arb's inverse computed at COND_PREC bits encloses A^-1 for every A in ``a`` (ball arithmetic:
    each rounding to 64 bits goes into the radii); where it is not finite (kappa too
    ill-conditioned for 64 bits) the inverse at ``bits``. An enclosure of A^-1 gives an upper
    bound of its norm (:func:`_one_norm_upper`) either way.
    """
    with ctx.workprec(COND_PREC):
        inv = a.inv(nonstop=True)
    if not all(x.is_finite() for x in _entries(inv)):
        inv = a.inv(nonstop=True)
    return _one_norm_upper(inv)


MATRIX_KEYS = ("weights", "predictions", "ft_test", "ft_train")


def solution_digits(v: dict[str, Any] | None) -> float:
    """Certified digits of an evaluation: correct digits of every matrix entry, relative for det."""
    if v is None:
        return 0.0
    parts = [relative_digits(v["det"]), correct_digits(v["log10"])]
    for key in MATRIX_KEYS:
        if key in v:
            parts += [correct_digits(x) for x in _entries(v[key])]
    return min(parts)


# ---------------------------------------------------------------- results

@dataclass(frozen=True)
class SolveResult:
    """Certified enclosures of W, f_inf(Z), optionally f_t(Z) and f_t(X), det and log10|det| at one depth.

    The matrices are :class:`~verify.linalg.ball_matrix.BallMatrix` (``m[i][j]`` a Ball; ``.mid``
    and ``.rad`` as numpy arrays, ``.mid_mpmath()``, ``.decimals(digits)``). ``digits_lost`` is
    log10 of a certified upper bound on cond_1(kappa) = |kappa|_1 |kappa^-1|_1 (rounded up to
    0.01; ``condition`` reports cond_2 instead). ``finite_time_*`` are set exactly when ``time`` is.
    """

    kernel: str
    depth: int
    digits: int
    weights: BallMatrix
    predictions: BallMatrix
    det: Ball
    log10_abs_det: Ball
    log10_abs_det_raw: Ball | None
    digits_lost: float | None
    working_precision_bits: int
    kernel_digits: int
    diagnosis: Diagnosis
    time: FlowTime | None = None
    finite_time_predictions: BallMatrix | None = None
    finite_time_train: BallMatrix | None = None
    kernel_working_precision_bits: int | None = None
    seconds_kernels: float | None = None
    seconds_algebra: float | None = None
    parameterization: Parameterization = DEFAULT
    model: Model | None = None         # None: the seed-family model of ``parameterization``

    @property
    def guarantee(self) -> str:
        return GUARANTEE

    @property
    def full_model(self) -> Model:
        """The network of this result (also for ``param=`` results)."""
        return self.model or Model(sigma_w2=self.parameterization.sigma_w2, sigma_b2=self.parameterization.sigma_b2)

    def metadata(self) -> dict[str, Any]:
        """What the result is and how it was made: :meth:`to_json` without the enclosures, plus the model."""
        return {
            "kernel": self.kernel, "depth": self.depth, "digits": self.digits, "guarantee": GUARANTEE,
            **network_json(self.parameterization, self.model),
            "n": len(self.weights[0]), "m": len(self.weights), "k": len(self.predictions[0]),
            "finite_time": self._time_json(),
            **self._run_json(),
        }

    def _run_json(self) -> dict[str, Any]:
        """How the run went (precision, digits lost, diagnosis, seconds): the same in metadata and JSON."""
        return {
            "digits_lost": self.digits_lost,
            "working_precision_bits": self.working_precision_bits,
            "kernel_digits": self.kernel_digits,
            "kernel_working_precision_bits": self.kernel_working_precision_bits,
            "diagnosis": {**self.diagnosis.to_json(),
                          "regime_meaning": regime_meaning(self.diagnosis.regime, self.full_model)},
            "seconds_kernels": self.seconds_kernels,
            "seconds_algebra": self.seconds_algebra,
        }

    def _time_json(self) -> dict[str, str] | None:
        if self.time is None:
            return None
        return {"t": exact_text(self.time.t), "lr": exact_text(self.time.lr), "time_scale": self.time.scale}

    def to_json(self) -> dict[str, Any]:
        d = self.digits
        out: dict[str, Any] = {
            "kernel": self.kernel,
            "depth": self.depth,
            "digits": d,
            "guarantee": GUARANTEE,
            "n": len(self.weights[0]),
            "m": len(self.weights),
            "k": len(self.predictions[0]),
            "weights": self.weights.decimals(d),
            "predictions": self.predictions.decimals(d),
            "finite_time": None,
            "det": self.det.to_json(d),
            "log10_abs_det": self.log10_abs_det.to_json(d),
            "log10_abs_det_raw": self.log10_abs_det_raw.to_json(d) if self.log10_abs_det_raw else None,
            **self._run_json(),
        }
        if self.time is not None:
            # solve_sweep fills both with the time
            assert self.finite_time_predictions is not None and self.finite_time_train is not None
            time_json = self._time_json()
            assert time_json is not None
            out["finite_time"] = {
                **time_json,
                "predictions": self.finite_time_predictions.decimals(d),
                "train_predictions": self.finite_time_train.decimals(d),
            }
        return out


def exact_text(q: Fraction) -> str:
    """A terminating decimal if ``q`` has one, else 'p/q' (exact either way).

    >>> exact_text(Fraction(1, 8)), exact_text(Fraction(1, 3))
    ('0.125', '1/3')
    """
    den, twos, fives = q.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return str(q)
    places = max(twos, fives)
    scaled = q.numerator * 10**places // q.denominator
    sign, text = ("-" if scaled < 0 else ""), str(abs(scaled)).rjust(places + 1, "0")
    return sign + (text[:-places] + "." + text[-places:] if places else text)


def _digits_lost(cond1: arb | None) -> float | None:
    """log10 of the upper end of ``cond1`` (a certified bound on cond_1), rounded up to 0.01."""
    if cond1 is None or not cond1.is_finite():
        return None
    return round(math.ceil(100 * float(log10_abs(cond1, prec=DIGITS_LOST_PREC).upper().mid())) / 100, 2)


def solve_blocks(kernels_at: Callable[[int], tuple[Gaps, Gaps]], problem: Problem, digits: int,
                 tau: Fraction | None, what: str) -> tuple[dict[str, Any], int, int]:
    """Certified evaluation of the closed form from kernels given at any number of digits."""
    res = certify(kernels_at,
                  lambda blocks, bits, mid: evaluate_solution(blocks, problem, tau, bits, mid),
                  solution_digits, digits,
                  lambda blocks: lost_digits(min_gap(blocks[0]), len(blocks[0])), what)
    # certify returns a value with solution_digits >= digits (>= 1); None has 0
    assert res.value is not None
    return res.value, res.working_precision_bits, res.kernel_digits


def solve_sweep(train: Dataset, labels: Sequence[Sequence[object]], test: Dataset,
                depths: Sequence[int], kernel: str = "ntk", digits: int = 30,
                time: FlowTime | None = None, f0_train: Sequence[Sequence[object]] | None = None,
                f0_test: Sequence[Sequence[object]] | None = None,
                param: Parameterization | None = None, progress: bool | None = None, *,
                model: Model | None = None, scheduler: Any = None) -> list[SolveResult]:
    """Certified enclosures of the closed-form solution at every depth (kernels in one sweep).

    The network is ``param`` or ``model`` (any :class:`~verify.core.model.Model`; not both).
    ``scheduler`` computes the kernel blocks K(X, X) and K(Z, X) on a Dask cluster (the same
    balls as the local run; :class:`~verify.linalg.conditioning.KernelSource`).
    Raises :class:`~verify.core.errors.SingularKernelError` (with the reason) if kappa is
    singular at one of the depths.
    """
    digits = check_digits(digits)
    depths = sorted({check_depth(d) for d in depths})
    problem = exact_problem(train, labels, test, time, f0_train, f0_test)
    source = KernelSource(train, kernel, param, columns=test, progress=progress, model=model, scheduler=scheduler)
    if time is not None:
        for d in depths:                     # a raw time scale the model cannot give: refused before computing
            time.tau(source.kernel, d, train.n0, source.param, source.model)
    diagnoses = {d: source.diagnose(d) for d in depths}
    for diagnosis in diagnoses.values():
        if diagnosis.singular:
            raise SingularKernelError(diagnosis.message)
    clock = time_module.perf_counter()
    source.prefetch(depths, digits + KERNEL_GUARD_DIGITS)
    kernel_seconds = round(time_module.perf_counter() - clock, 3)
    return [_solve_at(source, problem, depth, digits, diagnoses[depth], kernel_seconds) for depth in depths]


def exact_problem(train: Dataset, labels: Sequence[Sequence[object]], test: Dataset, time: FlowTime | None,
                  f0_train: Sequence[Sequence[object]] | None,
                  f0_test: Sequence[Sequence[object]] | None) -> Problem:
    """The right-hand sides parsed exactly and checked against the datasets' sizes."""
    if test.n0 != train.n0:
        raise InputError(f"dimension mismatch: training points have {train.n0} coordinates, "
                         f"test points {test.n0}")
    labels_m = parse_matrix(labels, train.n, "labels")
    k = len(labels_m[0])
    return Problem(labels_m, _f0(f0_train, train.n, k, "f0 on the training points"),
                   _f0(f0_test, test.n, k, "f0 on the test points"), time)


def _solve_at(source: KernelSource, problem: Problem, depth: int, digits: int, diagnosis: Diagnosis,
              kernel_seconds: float) -> SolveResult:
    """The certified closed form at one depth, from the kernels of ``source`` (training rows, test columns)."""
    clock = time_module.perf_counter()
    train, param, time = source.data, source.param, problem.time

    def kernels_at(kd: int) -> tuple[Gaps, Gaps]:
        gram, cross = source.get(depth, kd)
        assert cross is not None  # the source has columns=test: it gives K(test, train)
        return gram.gaps, cross.gaps

    tau = time.tau(source.kernel, depth, train.n0, param, source.model) if time else None
    v, bits, kd = solve_blocks(kernels_at, problem, digits, tau, f"closed-form solution at depth {depth_text(depth)}")
    raw = None
    gram = source.get(depth, kd)[0]
    if raw_available(gram):
        with ctx.workprec(bits):
            raw = Ball.from_arb(v["log10"] + train.n * log10_raw_scale(gram, prec=bits))
    diagnosis = certified_invertible(diagnosis, "certified: the enclosure of det(kappa) excludes 0")
    return SolveResult(
        source.kernel, depth, digits, BallMatrix.from_arb(v["weights"]), BallMatrix.from_arb(v["predictions"]),
        Ball.from_arb(v["det"]), Ball.from_arb(v["log10"]), raw, _digits_lost(v.get("cond1")),
        bits, kd, diagnosis, time,
        BallMatrix.from_arb(v["ft_test"]) if time else None, BallMatrix.from_arb(v["ft_train"]) if time else None,
        source.kernel_bits, kernel_seconds, round(time_module.perf_counter() - clock, 3), param, source.model)


def _f0(values: Sequence[Sequence[object]] | None, n: int, k: int, what: str) -> Matrix | None:
    if values is None:
        return None
    out = parse_matrix(values, n, what)
    if len(out[0]) != k:
        raise InputError(f"{what}: {len(out[0])} values a row, the labels have {k}")
    return out


def solve(train: Dataset, labels: Sequence[Sequence[object]], test: Dataset, depth: int,
          kernel: str = "ntk", digits: int = 30, time: FlowTime | None = None,
          f0_train: Sequence[Sequence[object]] | None = None,
          f0_test: Sequence[Sequence[object]] | None = None,
          param: Parameterization | None = None, progress: bool | None = None, *,
          model: Model | None = None, scheduler: Any = None) -> SolveResult:
    """Certified enclosures of W, f_inf(Z) (and f_t with ``time``) at one depth (network: ``param`` or ``model``)."""
    return solve_sweep(train, labels, test, [depth], kernel, digits, time, f0_train, f0_test,
                       param, progress, model=model, scheduler=scheduler)[0]
