"""Conditioning of kappa = K(X, X): certified det, log10|det|, spectrum, lambda_min/max, cond_2.

At large depth every NNGP entry is 1 - O(1/L^2), so kappa is assembled as J - G from
the gap matrix G, which the engine computes to relative accuracy (``relative_gap``).
Two precisions are then raised independently (:func:`certify`): the working
precision of the linear algebra (Ziv's loop on the *midpoint* matrix, where only
rounding counts), and the digits of the kernel itself (only when the radii of the
kernel entries, pushed through the ill-conditioned algebra, still exceed the request).

Eigenvalues come from Arb's certified eigenvalue enclosures (``acb_mat.eig``; the
cluster algorithm when eigenvalues are multiple). kappa is symmetric, so each
eigenvalue is real and lies in the real part of its complex enclosure.

>>> from verify.dataset import Dataset
>>> c = conditioning(Dataset.from_rows([["1", "0"], ["0", "1"]]), depth=2, kernel="nngp", digits=20)
>>> c.det.to_json(20)["mid"]          # 1 - 1/pi^2
'0.89867881635766222855612'
>>> [e.to_json(8)["mid"] for e in c.eigenvalues]   # 1 -+ 1/pi
['0.68169011382', '1.3183098862']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Generic, TypeVar

from flint import acb_mat, arb, arb_mat, ctx, fmpq

from .balls import Ball, decimal_upper
from .dataset import Dataset
from .errors import PrecisionNotReached
from .kernels import KERNELS, KernelResult, check_choice, check_depth, kernel_sweep
from .params import DEFAULT, Parameterization
from .precision import bits_for_digits, check_digits, run_to_digits
from .singularity import Diagnosis, diagnose

K = TypeVar("K")
T = TypeVar("T")

KERNEL_GUARD_DIGITS = 6
GUARANTEE = "certified enclosure"


# ---------------------------------------------------------------- assembling kappa in Arb

def arb_of_fraction(q: Fraction) -> arb:
    """``q`` as an Arb ball at the current precision (exact if representable)."""
    return arb(fmpq(q.numerator, q.denominator))


def ball_arb(b: Ball, midpoint: bool = False) -> arb:
    """A rigorous Arb enclosure of ``b`` (or of its midpoint) at the current precision.

    The rounding of the midpoint to the working precision stays in the radius, also
    when the precision is below the midpoint's bit length.
    """
    x = arb(b.man) * arb(2) ** b.exp          # Arb keeps the rounding error as a radius
    if b.rad_man and not midpoint:
        x += arb(0, (arb(b.rad_man) * arb(2) ** b.rad_exp).upper())
    return x


def arb_from_gaps(gaps: Sequence[Sequence[Ball]], midpoints: bool = False) -> arb_mat:
    """kappa = 1 - G as an Arb matrix at the current precision (``midpoints``: radii dropped).

    Built from the gap matrix G (``KernelResult.gaps``), which carries the relative
    accuracy, never from 1 - (1 - G).
    """
    one = arb(1)
    out = arb_mat(len(gaps), len(gaps[0]))
    for i, row in enumerate(gaps):
        for j, g in enumerate(row):
            out[i, j] = one - ball_arb(g, midpoints)
    return out


def min_gap(gaps: Sequence[Sequence[Ball]]) -> Fraction:
    """The smallest nonzero gap midpoint (a cheap hint of how ill-conditioned kappa is)."""
    vals = [abs(g.mid_fraction) for row in gaps for g in row if g.mid_fraction != 0]
    return min(vals, default=Fraction(1))


def start_bits(digits: int, hint: Fraction, n: int) -> int:
    """First working precision to try: the digits, the digits kappa will cost (estimated), guards."""
    lost = max(0.0, -math.log10(float(hint))) if hint > 0 else 0.0
    return bits_for_digits(digits) + bits_for_digits(math.ceil(lost + math.log10(n + 1))) + 32


# ---------------------------------------------------------------- two-level precision loop

def correct_digits(x: arb) -> float:
    """Digits of ``x`` certified relative to max(1, |x|) (0 for NaN, inf for exact)."""
    if not x.is_finite():
        return 0.0
    return Ball.from_arb(x).correct_digits()


def relative_digits(x: arb) -> float:
    """Relative digits of ``x`` (0 if the ball contains 0 or is not finite)."""
    if not x.is_finite():
        return 0.0
    return Ball.from_arb(x).relative_digits()


@dataclass
class Certified(Generic[T]):
    """A certified result with the precisions that produced it."""

    value: T
    working_precision_bits: int
    kernel_digits: int


def certify(
    kernels_at: Callable[[int], K],
    evaluate: Callable[[K, int, bool], T],
    achieved: Callable[[T], float],
    digits: int,
    first_bits: Callable[[K], int],
    what: str,
) -> Certified[T]:
    """Raise the working precision and, if needed, the kernel digits until ``achieved >= digits``.

    ``kernels_at(kd)`` gives certified kernels with ``kd`` relative gap digits;
    ``evaluate(kernels, bits, midpoints)`` does the arithmetic (``midpoints=True``:
    on the midpoint matrices, so only rounding counts); ``achieved`` returns the
    certified digits of a result. The returned value always comes from the full
    balls (``midpoints=False``), so it encloses the exact quantity.
    """
    kd = digits + KERNEL_GUARD_DIGITS
    limit = 4 * digits + 100
    while True:
        kernels = kernels_at(kd)
        _, bits = run_to_digits(lambda b, k=kernels: evaluate(k, b, True),
                                lambda r: achieved(r) >= digits + 1,
                                first_bits(kernels), digits=digits, what=what)
        value = evaluate(kernels, bits, False)
        got = achieved(value)
        if got >= digits:
            return Certified(value, bits, kd)
        if kd >= limit:
            raise PrecisionNotReached(digits, bits, f"{what} (kernel digits up to {kd})")
        kd = min(limit, kd + math.ceil(digits - got) + KERNEL_GUARD_DIGITS)


class KernelSource:
    """Certified kernels K(X, X) (and K(Z, X) with ``columns``) at several depths, cached by digits."""

    def __init__(self, data: Dataset, kernel: str, param: Parameterization | None = None,
                 columns: Dataset | None = None, progress: bool | None = None) -> None:
        self.data, self.kernel, self.columns = data, check_choice(kernel, KERNELS, "kernel"), columns
        self.param, self.progress = param or DEFAULT, progress
        self._cache: dict[tuple[int, int], tuple[KernelResult, KernelResult | None]] = {}
        self.kernel_bits = 0

    def prefetch(self, depths: Sequence[int], kd: int) -> None:
        """Compute every depth in one pass per pair (one sweep)."""
        todo = sorted({d for d in depths if (d, kd) not in self._cache})
        if not todo:
            return
        gram = kernel_sweep(self.data, todo, self.kernel, kd, param=self.param,
                            progress=self.progress, relative_gap=True)
        cross: list[KernelResult | None] = [None] * len(todo)
        if self.columns is not None:
            cross = kernel_sweep(self.columns, todo, self.kernel, kd, param=self.param,
                                 progress=self.progress, columns=self.data, relative_gap=True)
        for d, g, c in zip(todo, gram, cross, strict=True):
            self._cache[(d, kd)] = (g, c)
            self.kernel_bits = max(self.kernel_bits, g.working_precision_bits or 0,
                                   (c.working_precision_bits or 0) if c else 0)

    def get(self, depth: int, kd: int) -> tuple[KernelResult, KernelResult | None]:
        """The kernels at ``depth`` with at least ``kd`` digits (cached ones if accurate enough)."""
        have = [k for d, k in self._cache if d == depth and k >= kd]
        if have:
            return self._cache[(depth, min(have))]
        self.prefetch([depth], kd)
        return self._cache[(depth, kd)]


# ---------------------------------------------------------------- the conditioning quantities

@dataclass
class Conditioning:
    """Certified enclosures of det, log10|det|, the spectrum and cond_2 of kappa at one depth."""

    kernel: str
    depth: int
    digits: int
    n: int
    diagnosis: Diagnosis
    det: Ball
    log10_abs_det: Ball | None = None
    log10_abs_det_raw: Ball | None = None
    eigenvalues: list[Ball] | None = None
    condition_number: Ball | None = None
    working_precision_bits: int | None = None
    kernel_digits: int | None = None

    @property
    def singular(self) -> bool:
        return self.diagnosis.singular

    @property
    def lambda_min(self) -> Ball:
        return self.eigenvalues[0] if self.eigenvalues else Ball.exact(0)

    @property
    def lambda_max(self) -> Ball | None:
        return self.eigenvalues[-1] if self.eigenvalues else None

    def to_json(self) -> dict[str, Any]:
        d = self.digits
        if self.singular:
            return {"depth": self.depth, "singular": True, "diagnosis": self.diagnosis.message,
                    "guarantee": "exact (singular by the data's structure)",
                    "det": {"mid": "0", "rad": "0"}, "lambda_min": {"mid": "0", "rad": "0"},
                    "log10_abs_det": None, "condition_number": None}
        cond = self.condition_number
        return {
            "depth": self.depth,
            "singular": False,
            "guarantee": GUARANTEE,
            "det": self.det.to_json(d),
            "log10_abs_det": self.log10_abs_det.to_json(d),
            "log10_abs_det_raw": self.log10_abs_det_raw.to_json(d) if self.log10_abs_det_raw else None,
            "lambda_min": self.lambda_min.to_json(d),
            "lambda_max": self.lambda_max.to_json(d),
            "eigenvalues": [e.to_json(d) for e in self.eigenvalues],
            "condition_number": cond.to_json(d),
            "condition_number_bounds": _bounds(cond),
            "digits_lost": round(math.log10(float(cond.mid_fraction)), 2),
            "working_precision_bits": self.working_precision_bits,
            "kernel_digits": self.kernel_digits,
        }


def _bounds(b: Ball, sig: int = 6) -> list[str]:
    """[lower, upper] of a positive ball as decimals with ``sig`` digits, rounded outward."""
    lo, hi = b.mid_fraction - b.rad_fraction, b.mid_fraction + b.rad_fraction
    return [_decimal_down(lo, sig), decimal_upper(hi, sig)]


def _decimal_down(value: Fraction, sig: int) -> str:
    """A decimal string <= ``value`` (> 0) with ``sig`` significant digits ('0' otherwise)."""
    if value <= 0:
        return "0"
    exp10 = math.floor(math.log10(value.numerator) - math.log10(value.denominator)) + 1
    while Fraction(10) ** exp10 <= value:
        exp10 += 1
    text = str(math.floor(value / Fraction(10) ** (exp10 - sig)))
    return f"{text[0]}.{text[1:]}e{exp10 - 1}"


def eigenvalues_symmetric(a: arb_mat) -> list[arb] | None:
    """Certified enclosures of the eigenvalues of a symmetric ``a``, ascending (None if not isolated)."""
    m = acb_mat(a)
    for kwargs in ({}, {"multiple": True}):
        ev = m.eig(nonstop=True, **kwargs)
        if all(e.is_finite() for e in ev):
            break
    else:
        return None
    if not all(e.imag.contains(0) for e in ev):
        return None
    return sorted((e.real for e in ev), key=lambda x: x.mid())


def log10_abs(x: arb) -> arb:
    return abs(x).log() / arb(10).log()


def log10_raw_factor(kernel: str, depth: int, n0: int) -> arb:
    """log10 of Theta^(L)(x,x) (ntk) or Sigma^(L)(x,x) (nngp) in the default model (exact formula)."""
    value = arb(2).log() * (1 - depth) - arb(n0).log()
    if kernel == "ntk":
        value += arb(depth).log()
    return value / arb(10).log()


def _conditioning_values(gram: KernelResult, bits: int, midpoints: bool, raw: bool) -> dict | None:
    with ctx.workprec(bits):
        a = arb_from_gaps(gram.gaps, midpoints)
        det = a.det()
        ev = eigenvalues_symmetric(a)
        if ev is None or not det.is_finite() or det.contains(0):
            return None
        lam_abs = sorted(ev, key=lambda x: abs(x.mid()))
        out = {"det": det, "log10": log10_abs(det), "eig": ev,
               "cond": abs(lam_abs[-1]) / abs(lam_abs[0])}
        if raw:
            out["log10_raw"] = out["log10"] + gram.shape[0] * log10_raw_factor(
                gram.kernel, gram.depth, gram.n0)
        return out


def _conditioning_digits(v: dict | None) -> float:
    if v is None:
        return 0.0
    parts = [relative_digits(v["det"]), correct_digits(v["log10"]), relative_digits(v["cond"])]
    parts += [relative_digits(e) for e in v["eig"]]
    return min(parts)


def conditioning_sweep(data: Dataset, depths: Sequence[int], kernel: str = "ntk", digits: int = 30,
                       param: Parameterization | None = None, progress: bool | None = None,
                       source: KernelSource | None = None) -> list[Conditioning]:
    """Certified enclosures of det, log10|det|, spectrum and cond_2 of kappa at each depth.

    The kernels of all depths come from one sweep; ``digits`` is the number of
    relative digits of every reported quantity (``correct_digits`` for log10|det|).
    """
    digits = check_digits(digits)
    depths = sorted({check_depth(d) for d in depths})
    source = source or KernelSource(data, kernel, param, progress=progress)
    source.prefetch([d for d in depths if not diagnose(data, d, source.param).singular],
                    digits + KERNEL_GUARD_DIGITS)
    raw = source.param.is_default
    out = []
    for depth in depths:
        diag = diagnose(data, depth, source.param)
        if diag.singular:
            out.append(Conditioning(source.kernel, depth, digits, data.n, diag, Ball.exact(0)))
            continue
        res = certify(lambda kd, d=depth: source.get(d, kd)[0],
                      lambda g, b, mid: _conditioning_values(g, b, mid, raw),
                      _conditioning_digits, digits,
                      lambda g: start_bits(digits, min_gap(g.gaps), g.shape[0]),
                      f"conditioning of kappa at depth {depth}")
        v = res.value
        out.append(Conditioning(
            source.kernel, depth, digits, data.n, diag, Ball.from_arb(v["det"]),
            Ball.from_arb(v["log10"]), Ball.from_arb(v["log10_raw"]) if raw else None,
            [Ball.from_arb(e) for e in v["eig"]], Ball.from_arb(v["cond"]),
            res.working_precision_bits, res.kernel_digits))
    return out


def conditioning(data: Dataset, depth: int, kernel: str = "ntk", digits: int = 30,
                 param: Parameterization | None = None, progress: bool | None = None) -> Conditioning:
    """Certified enclosures of det, log10|det|, spectrum and cond_2 of kappa at one depth."""
    return conditioning_sweep(data, [depth], kernel, digits, param, progress)[0]
