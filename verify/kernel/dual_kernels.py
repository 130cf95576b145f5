"""Dual kernels of every activation of :mod:`verify.core.model`, written once for three arithmetics.

For a centred Gaussian (u, v) with Var u = q1, Var v = q2, Cov(u, v) = s and c = s / sqrt(q1 q2):

    V(q1, q2, s)    = E[phi(u) phi(v)]          (the NNGP map)
    Vdot(q1, q2, s) = E[phi'(u) phi'(v)]        (the derivative kernel of the NTK)

The closed forms are neural-tangents' (``stax.ABRelu``, ``LeakyRelu``, ``Abs``, ``Sign``,
``RectifiedMonomial``, ``Erf``, ``Gelu``); with ``theta = arccos c``, ``k = (a - b)^2 / (2 pi)``,
``m = (a^2 + b^2) / 2``:

* abrelu:a,b  V = k R + (m - k theta) s,  Vdot = m - k theta,  R = sqrt(q1 q2 - s^2)
* sign        V = 1 - 2 theta / pi,  Vdot = 0 (see below)
* relu^0      V = (pi - theta) / (2 pi),  Vdot = 0 (see below)
* relu^2      V = (3 s R + (pi - theta)(q1 q2 + 2 s^2)) / (2 pi),  Vdot = 2 (R + (pi - theta) s) / pi
* erf         V = (2/pi) asin(2 s / sqrt((1 + 2 q1)(1 + 2 q2))),  Vdot = (4/pi) / sqrt((1 + 2 q1)(1 + 2 q2) - 4 s^2)
* gelu        V = s/4 + (s atan(s/d) + (s^2 + q1 q2 d^2)/(P d)) / (2 pi),
              Vdot = 1/4 + atan(s/d)/(2 pi) + s (1/d^2 + (1 - q1 q2)/P + 1)/(2 pi d)

with ``P = (1 + q1)(1 + q2)`` and ``d = sqrt(P - s^2)`` for gelu; relu, leaky_relu:A, abs and
relu^1 are abrelu:0,1, abrelu:A,1, abrelu:-1,1 and abrelu:0,1.

**Sign and relu^0 (the NTK).** phi' is a multiple of Dirac's delta, so E[phi'(u) phi'(v)] is
2/(pi sqrt(q1 q2 - s^2)) for sign (1/(2 pi sqrt(q1 q2 - s^2)) for relu^0): finite off the diagonal,
infinite on it. neural-tangents sets the NTK to zero after ``Sign()`` and after
``RectifiedMonomial(0)`` (``ntk = zeros_like(ntk)``): it drops the delta, which is the gradient
automatic differentiation sees (phi' = 0 almost everywhere). We follow it: Vdot = 0 for both,
so the NTK of such a network is the one where the weights *below* a sign/step layer get no
gradient. This is stated here and in every kernel's ``ntk_note``.

**Gap coordinate.** For equal variances (q1 = q2 = q, the case of points on the sphere) the
recursions need ``V(q,q,q) - V(q,q,q(1-e))`` and ``Vdot(q,q,q(1-e))`` for small gaps
e = 1 - c. arccos and sqrt(1 - c^2) are evaluated as ``theta = 2 asin(sqrt(e/2))`` and
``sqrt(e (2 - e))`` (no rounding of 1 - e), and every difference that would cancel is written
in closed form without cancellation: the ReLU-type gap needs
``J1(x) = int_0^x t asin t dt = (x^3/3) 2F1(1/2, 1/2; 5/2; x^2)`` and relu^2 also
``J2(x) = int_0^x t J1(t) dt = (x^5/15) 2F1(1/2, 1/2; 7/2; x^2)``, x = sqrt(e/2), both summed
as power series (with a proven tail bound on Arb) for small x; erf and gelu use
``asin a - asin b = atan2((a^2 - b^2)/(a sqrt(1-b^2) + b sqrt(1-a^2)), ...)`` and the analogous
rewriting of every difference of square roots.

**Arithmetics.** The formulas take an :class:`Arith` (``MPMATH``: best effort at ``mp.prec``;
``FLOAT64``: best effort, numpy arrays, vectorized; ``ARB``: python-flint balls at
``ctx.prec``, a certified enclosure of the exact value at the given (point) arguments).

>>> from flint import ctx
>>> relu = dual_kernel(Activation.parse("relu"))
>>> with ctx.workprec(100):
...     print(relu.V(ARB, arb(1), arb(1), arb(0)).str(20, radius=False))       # 1/(2 pi)
0.15915494309189533577
>>> mpmath.mp.dps = 30
>>> erf = dual_kernel(Activation.parse("erf"))
>>> erf.Vdot(MPMATH, mpmath.mpf(1), mpmath.mpf(1), mpmath.mpf("0.5"))   # (4/pi)/sqrt(9 - 1)
mpf('0.450158158078553034777599595503349')
>>> mpmath.mp.dps = 15
>>> float(relu.gap_V(FLOAT64, 1.0, np.array([1e-20]))[0])    # e/2 - sqrt(2) e^(3/2) / (3 pi)
4.999999999849947e-21
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from typing import Any

import mpmath
import numpy as np
from flint import arb, ctx

from verify.core.balls import arb_of_fraction
from verify.core.model import Activation

Num = Any   # an mpf, a float64 ndarray (or float) or an arb, depending on the Arith in use

HALF, QUARTER, ONE, THREE_HALVES = Fraction(1, 2), Fraction(1, 4), Fraction(1), Fraction(3, 2)
# The J-series are summed for x^2 < 2^-16 on Arb and mpmath (about prec/16 terms); above, the closed
# forms cancel at most log2(1/x^2) + 3 <= 19 bits of J, which costs the gap DV at most about
# 2^-prec / sqrt(e) <= 2^(8 - prec) relative error (absorbed by the working precision's guard bits).
SERIES_CUT_LOG2 = 16


class Arith:
    """The numeric operations the dual kernels use; one subclass per arithmetic."""

    name = "abstract"
    series_cut_log2 = SERIES_CUT_LOG2

    def c(self, value: Fraction | int) -> Num:
        raise NotImplementedError

    def pi(self) -> Num:
        raise NotImplementedError

    def over_pi(self, value: Fraction) -> Num:
        """value / pi."""
        return self.c(value) / self.pi()

    def constants(self, values: tuple[Fraction, ...]) -> tuple[Num, ...]:
        """Several exact rationals at once (``values`` should be a long-lived tuple: Arb caches by it)."""
        return tuple(self.c(v) for v in values)

    def sqrt(self, x: Num) -> Num:
        """sqrt of max(x, 0) (arguments that are >= 0 mathematically but may round below 0)."""
        raise NotImplementedError

    def asin(self, x: Num) -> Num:
        raise NotImplementedError

    def atan(self, x: Num) -> Num:
        raise NotImplementedError

    def atan2(self, y: Num, x: Num) -> Num:
        raise NotImplementedError

    def below(self, x: Num, bound: Fraction) -> Any:
        """x < bound: a bool (an array of them for float64); for balls, the whole ball is below."""
        raise NotImplementedError

    def small_bits(self, z: Num) -> int:
        """An integer k >= ``series_cut_log2`` with z <= 2^-k, for a z known to be below 2^-series_cut_log2."""
        return self.series_cut_log2

    def choose(self, small: Any, if_small: Callable[[], Num], if_large: Callable[[], Num]) -> Num:
        """``if_small()`` where ``small`` holds, else ``if_large()`` (both formulas are exact identities)."""
        return if_small() if small else if_large()

    def tail(self, bound: Fraction) -> Num:
        """An enclosure [0 +- bound] of a truncated series tail (0 where no enclosure is kept)."""
        return self.c(0)

    def prec(self) -> int:
        raise NotImplementedError


class MpmathArith(Arith):
    """Best effort: plain mpmath at the ambient ``mp.prec``."""

    name = "mpmath"

    def c(self, value: Fraction | int) -> Num:
        if isinstance(value, int):
            return mpmath.mpf(value)
        return mpmath.mpf(value.numerator) / value.denominator

    def pi(self) -> Num:
        return +mpmath.pi

    def sqrt(self, x: Num) -> Num:
        return mpmath.sqrt(x) if x > 0 else mpmath.mpf(0)

    def asin(self, x: Num) -> Num:
        return mpmath.asin(x)

    def atan(self, x: Num) -> Num:
        return mpmath.atan(x)

    def atan2(self, y: Num, x: Num) -> Num:
        return mpmath.atan2(y, x)

    def below(self, x: Num, bound: Fraction) -> Any:
        return x * bound.denominator < bound.numerator

    def prec(self) -> int:
        return int(mpmath.mp.prec)


class Float64Arith(Arith):
    """Best effort: float64, vectorized over numpy arrays (both branches of ``choose`` are computed)."""

    name = "float64"
    series_cut_log2 = 4          # 53 bits: the series then needs 16 terms, the closed form loses <= 7 bits

    def c(self, value: Fraction | int) -> Num:
        return float(Fraction(value))

    def pi(self) -> Num:
        return math.pi

    def sqrt(self, x: Num) -> Num:
        return np.sqrt(np.maximum(x, 0.0))

    def asin(self, x: Num) -> Num:
        return np.arcsin(np.clip(x, -1.0, 1.0))

    def atan(self, x: Num) -> Num:
        return np.arctan(x)

    def atan2(self, y: Num, x: Num) -> Num:
        return np.arctan2(y, x)

    def below(self, x: Num, bound: Fraction) -> Any:
        return np.asarray(x) < float(bound)

    def choose(self, small: Any, if_small: Callable[[], Num], if_large: Callable[[], Num]) -> Num:
        mask = np.asarray(small)
        if mask.ndim == 0:
            return if_small() if bool(mask) else if_large()
        with np.errstate(all="ignore"):
            return np.where(mask, if_small(), if_large())

    def prec(self) -> int:
        return 53


class ArbArith(Arith):
    """Certified: Arb balls at the ambient ``ctx.prec``; every result encloses the exact value."""

    name = "arb"

    def __init__(self) -> None:
        # one table per kind of constant, keyed by id(value) and emptied when ctx.prec changes; an
        # entry keeps ``value`` alive, so its id cannot be reused while the entry exists
        self._prec = -1
        self._tables: dict[str, dict[int, tuple[object, Any]]] = {}

    def _cached(self, key: object, tag: str, make: Callable[[], Any]) -> Any:
        if ctx.prec != self._prec:
            self._prec, self._tables = ctx.prec, {}
        table = self._tables.setdefault(tag, {})
        found = table.get(id(key))
        if found is not None and found[0] is key:
            return found[1]
        value = make()
        table[id(key)] = (key, value)
        return value

    def c(self, value: Fraction | int) -> Num:
        """The exact rational as a ball at the current precision (cached: this runs in the hot loop)."""
        if isinstance(value, int):
            return arb(value)
        return self._cached(value, "", lambda: arb_of_fraction(value))

    def over_pi(self, value: Fraction) -> Num:
        return self._cached(value, "/pi", lambda: arb_of_fraction(value) / arb.pi())

    def constants(self, values: tuple[Fraction, ...]) -> tuple[Num, ...]:
        return self._cached(values, "many", lambda: tuple(arb_of_fraction(v) for v in values))  # type: ignore[no-any-return]

    def pi(self) -> Num:
        return arb.pi()

    def sqrt(self, x: Num) -> Num:
        return x.nonnegative_part().sqrt()

    def asin(self, x: Num) -> Num:
        return x.asin()

    def atan(self, x: Num) -> Num:
        return x.atan()

    def atan2(self, y: Num, x: Num) -> Num:
        return arb.atan2(y, x)

    def below(self, x: Num, bound: Fraction) -> Any:
        return bool(x < self.c(bound))

    def small_bits(self, z: Num) -> int:
        """k with z <= 2^-k, read off the exponent of an upper bound man 2^exp of z (z < man' 2^(exp + bits))."""
        man, exp = z.upper().man_exp()
        return max(self.series_cut_log2, -int(exp) - int(man).bit_length())

    def tail(self, bound: Fraction) -> Num:
        return arb(0, self.c(bound).upper())

    def prec(self) -> int:
        return int(ctx.prec)


MPMATH = MpmathArith()
FLOAT64 = Float64Arith()
ARB = ArbArith()


# ------------------------------------------------------------------ the gap-coordinate primitives


class GapPoint:
    """A gap e = 1 - c in [0, 2] with what the gap formulas share, each computed once when first asked.

    ``z`` = e/2, ``x`` = sqrt(e/2) = sin(theta/2), ``half`` = theta/2 = asin x (as pi/2 - asin sqrt(1 - e/2)
    for e > 1, so theta near pi keeps its digits), and ``small``: whether z < 2^-K (the J-series
    apply).
    """

    __slots__ = ("_half", "_x", "ar", "e", "small", "z")

    def __init__(self, ar: Arith, e: Num) -> None:
        self.ar, self.e = ar, e
        self.z = e / 2
        self.small = ar.below(self.z, _series_cut(ar))
        self._x: Num = None
        self._half: Num = None

    @property
    def x(self) -> Num:
        if self._x is None:
            self._x = self.ar.sqrt(self.z)
        return self._x

    @property
    def half(self) -> Num:
        if self._half is None:
            ar = self.ar
            self._half = ar.choose(ar.below(self.e, ONE), lambda: ar.asin(self.x),
                                   lambda: ar.pi() / 2 - ar.asin(ar.sqrt(1 - self.z)))
        return self._half


Gap = Any    # a gap e (a number of the arithmetic in use) or a GapPoint built from it


def gap_point(ar: Arith, e: Gap) -> GapPoint:
    return e if isinstance(e, GapPoint) else GapPoint(ar, e)


def gap_value(e: Gap) -> Num:
    """The number e of a gap given as a number or a :class:`GapPoint`."""
    return e.e if isinstance(e, GapPoint) else e


def half_angle(ar: Arith, e: Gap) -> Num:
    """theta/2 = arccos(1 - e)/2 = asin(sqrt(e/2)), e in [0, 2], accurate at both ends."""
    return gap_point(ar, e).half


def gap_angle(ar: Arith, e: Gap) -> Num:
    """theta = arccos(1 - e) for a gap e in [0, 2]."""
    return 2 * gap_point(ar, e).half


@cache
def _series_coefficients(twice_lower: int, count: int) -> tuple[Fraction, ...]:
    """a_n of 2F1(1/2, 1/2; lower; z) = sum a_n z^n: a_0 = 1, a_{n+1} = a_n (n + 1/2)^2 / ((n + lower)(n + 1))."""
    lower = Fraction(twice_lower, 2)
    out = [Fraction(1)]
    for n in range(count - 1):
        out.append(out[-1] * (n + HALF) ** 2 / ((n + lower) * (n + 1)))
    return tuple(out)


def _hyp_half(ar: Arith, twice_lower: int, z: Num) -> Num:
    """2F1(1/2, 1/2; lower; z) for 0 <= z <= 2^-K, K >= ``ar.series_cut_log2`` (``ar.small_bits``), lower 5/2 or 7/2.

    The coefficients decrease (a_{n+1}/a_n = (n+1/2)^2/((n+lower)(n+1)) < 1, a_0 = 1), so after
    N terms the tail is at most sum_{n>=N} z^n = z^N/(1-z) <= 2^(1-K N). N is chosen with
    K N >= prec + 8; on Arb the tail is added as a ball [0 +- 2^(1-K N)] (a certified enclosure).
    """
    cut = ar.small_bits(z)
    count = -(-(ar.prec() + 8) // cut)
    coefficients = ar.constants(_series_coefficients(twice_lower, count))
    total: Num = coefficients[-1]
    for a in reversed(coefficients[:-1]):
        total = total * z + a
    return total + ar.tail(_cut_fraction(cut * count - 1))


@cache
def _cut_fraction(log2: int) -> Fraction:
    return Fraction(1, 2**log2)


def _series_cut(ar: Arith) -> Fraction:
    return _cut_fraction(ar.series_cut_log2)


def asin_moment1(ar: Arith, e: Gap) -> Num:
    """J1(x) = int_0^x t asin(t) dt at x = sqrt(e/2), without cancellation.

    Closed form ((2x^2 - 1) asin x + x sqrt(1 - x^2))/4 (whose two terms cancel to O(x^3));
    for x^2 < 2^-K the series (x^3/3) 2F1(1/2, 1/2; 5/2; x^2) instead.

    >>> mpmath.mp.dps = 30
    >>> mpmath.nstr(asin_moment1(MPMATH, mpmath.mpf("0.02")), 25)   # 0.1^3/3 (1 + 0.01/10 + 9 0.01^2/280 + ...)
    '0.0003336677430833487637088166'
    >>> mpmath.nstr(asin_moment1(MPMATH, mpmath.mpf("2e-10")), 25)  # the series: 1e-15/3 (1 + 1e-10/10 + ...)
    '3.333333333366666666667738e-16'
    >>> mpmath.mp.dps = 15
    """
    g = gap_point(ar, e)
    z = g.z

    def series() -> Num:
        return g.x * z * _hyp_half(ar, 5, z) / 3

    def closed() -> Num:
        return ((2 * z - 1) * g.half + g.x * ar.sqrt(1 - z)) / 4

    return ar.choose(g.small, series, closed)


def asin_moment2(ar: Arith, e: Gap) -> Num:
    """J2(x) = int_0^x t J1(t) dt at x = sqrt(e/2), without cancellation.

    128 J2 = theta (1 + 2 cos^2 theta) - 3 sin theta cos theta (theta = 2 asin x; differentiate:
    d/dx of the right side is 128 x J1(x)); series (x^5/15) 2F1(1/2, 1/2; 7/2; x^2) for small x.
    """
    g = gap_point(ar, e)
    z = g.z

    def series() -> Num:
        return g.x * z * z * _hyp_half(ar, 7, z) / 15

    def closed() -> Num:
        cos = 1 - g.e
        sin = 2 * g.x * ar.sqrt(1 - z)
        return (2 * g.half * (1 + 2 * cos * cos) - 3 * sin * cos) / 128

    return ar.choose(g.small, series, closed)


def _angle(ar: Arith, q1: Num, q2: Num, s: Num) -> tuple[Num, Num]:
    """(R, theta) = (sqrt(q1 q2 - s^2), arccos(s / sqrt(q1 q2))) as neural-tangents forms them."""
    root = ar.sqrt(q1 * q2 - s * s)
    return root, ar.atan2(root, s)


# ------------------------------------------------------------------ the activations


class DualKernel:
    """V, Vdot of one activation, general and in the gap coordinate (equal variances q).

    ``kind`` says which bound the certified recursion uses for the derivative in e:
    ``"kink"`` (Vdot = m - k theta(e), monotone in e), ``"smooth"`` (phi' absolutely continuous:
    |d/de Vdot(q,q,q(1-e))| <= q E[phi''(u)^2], see :meth:`second_moment`), ``"step"`` (Vdot = 0,
    V monotone in e). ``degree`` is k for a positively homogeneous phi (phi(a x) = a^k phi(x)),
    else None.
    """

    kind = "smooth"
    degree: int | None = None
    ntk_note = "Vdot = E[phi'(u) phi'(v)] in closed form"

    def __init__(self, activation: Activation) -> None:
        self.activation = activation

    # general (q1, q2, s)
    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        raise NotImplementedError

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        raise NotImplementedError

    # the diagonal: V(q,q,q), Vdot(q,q,q), d/dq V(q,q,q)
    def V_diag(self, ar: Arith, q: Num) -> Num:
        raise NotImplementedError

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        raise NotImplementedError

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        raise NotImplementedError

    # the gap coordinate: s = q (1 - e)
    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        """V(q,q,q) - V(q,q,q(1-e)), without cancellation."""
        raise NotImplementedError

    def Vdot_at(self, ar: Arith, q: Num, e: Gap) -> Num:
        """Vdot(q,q,q(1-e))."""
        return self.Vdot_diag(ar, q) - self.gap_Vdot(ar, q, e)

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        """Vdot(q,q,q) - Vdot(q,q,q(1-e)), without cancellation."""
        raise NotImplementedError

    def second_moment(self, ar: Arith, q: Num) -> Num:
        """E[phi''(u)^2] for u ~ N(0, q) (``smooth`` kinds only): bounds |d/ds Vdot| by Cauchy-Schwarz."""
        raise NotImplementedError


class ABReluKernel(DualKernel):
    """phi(x) = a min(x, 0) + b max(x, 0): relu, leaky_relu, abrelu, abs, relu^1 (neural-tangents' ``ABRelu``)."""

    kind = "kink"
    degree = 1

    def __init__(self, activation: Activation, a: Fraction, b: Fraction) -> None:
        super().__init__(activation)
        self.a, self.b = a, b
        self.k_num = (a - b) ** 2 / 2          # k = k_num / pi
        self.m = (a * a + b * b) / 2

    def k(self, ar: Arith) -> Num:
        return ar.over_pi(self.k_num)

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        root, theta = _angle(ar, q1, q2, s)
        k = self.k(ar)
        return k * root + (ar.c(self.m) - k * theta) * s

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return ar.c(self.m) - self.k(ar) * _angle(ar, q1, q2, s)[1]

    def V_diag(self, ar: Arith, q: Num) -> Num:
        return ar.c(self.m) * q

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        return ar.c(self.m) + 0 * q

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        return self.Vdot_diag(ar, q)

    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        """q (m e - 8 k J1(x)): V(1) - V(c) = q (m e + k (theta (1 - e) - sin theta)) and
        theta (1 - e) - sin theta = -8 J1(x) (both vanish at x = 0; their x-derivatives agree)."""
        g = gap_point(ar, e)
        return q * (ar.c(self.m) * g.e - 8 * self.k(ar) * asin_moment1(ar, g))

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        return self.k(ar) * gap_angle(ar, e) + 0 * q


class SignKernel(DualKernel):
    """phi = sign (``stax.Sign``): V = (2/pi) asin c; Vdot = 0 as neural-tangents (the delta is dropped)."""

    kind = "step"
    degree = 0
    ntk_note = ("phi' = 2 delta: neural-tangents sets the NTK to 0 after Sign(); so do we (Vdot = 0, "
                "the layers below get no gradient)")
    scale = Fraction(2)          # V = 1 - scale theta / pi

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return 1 - self.scale_c(ar) * _angle(ar, q1, q2, s)[1]

    def scale_c(self, ar: Arith) -> Num:
        return ar.over_pi(self.scale)

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return 0 * s

    def V_diag(self, ar: Arith, q: Num) -> Num:
        return ar.c(1) + 0 * q

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        return 0 * q

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        return 0 * q

    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        return self.scale_c(ar) * gap_angle(ar, e) + 0 * q

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        return 0 * e


class StepKernel(SignKernel):
    """phi = Heaviside step, relu^0 (``stax.RectifiedMonomial(0)``): V = (pi - theta)/(2 pi); Vdot = 0."""

    ntk_note = ("phi' = delta: neural-tangents sets the NTK to 0 after RectifiedMonomial(0); so do we "
                "(Vdot = 0, the layers below get no gradient)")
    scale = Fraction(1, 2)

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return ar.c(HALF) - self.scale_c(ar) * _angle(ar, q1, q2, s)[1]

    def V_diag(self, ar: Arith, q: Num) -> Num:
        return ar.c(HALF) + 0 * q


class ReluSquaredKernel(DualKernel):
    """phi = max(x, 0)^2 (``stax.RectifiedMonomial(2)``), Cho and Saul's degree-2 arc-cosine kernel.

    V = q1 q2 J_2(theta)/(2 pi), J_2 = 3 sin cos + (pi - theta)(1 + 2 cos^2); phi' = 2 relu, so
    Vdot = 4 E[relu(u) relu(v)]; phi'' = 2 step, E[phi''^2] = 2.
    """

    degree = 2

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        root, theta = _angle(ar, q1, q2, s)
        return (3 * s * root + (ar.pi() - theta) * (q1 * q2 + 2 * s * s)) / (2 * ar.pi())

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        root, theta = _angle(ar, q1, q2, s)
        return 2 * (root + (ar.pi() - theta) * s) / ar.pi()

    def V_diag(self, ar: Arith, q: Num) -> Num:
        return ar.c(THREE_HALVES) * q * q

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        return 2 * q

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        return 3 * q

    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        """q^2 (e (2 - e) + 64 J2 / pi): 3 pi - J_2(theta) = 2 pi sin^2 theta + 128 J2."""
        g = gap_point(ar, e)
        return q * q * (g.e * (2 - g.e) + 64 * asin_moment2(ar, g) / ar.pi())

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        """4 times ReLU's V-gap: q (2 e - 16 J1 / pi)."""
        g = gap_point(ar, e)
        return q * (2 * g.e - 16 * asin_moment1(ar, g) / ar.pi())

    def second_moment(self, ar: Arith, q: Num) -> Num:
        return ar.c(2) + 0 * q


class ErfKernel(DualKernel):
    """phi = erf (``stax.Erf()``, a = b = 1, c = 0): the arcsine kernel of Williams (1997)."""

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return 2 * ar.asin(2 * s / ar.sqrt((1 + 2 * q1) * (1 + 2 * q2))) / ar.pi()

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        return 4 / (ar.pi() * ar.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * s * s))

    def V_diag(self, ar: Arith, q: Num) -> Num:
        """(2/pi) asin(2q/(1+2q)), q written once (1 - 1/(1 + 2q)) so a ball keeps its width."""
        return 2 * ar.asin(1 - 1 / (1 + 2 * q)) / ar.pi()

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        return 4 / (ar.pi() * ar.sqrt(1 + 4 * q))

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        return 4 / (ar.pi() * (1 + 2 * q) * ar.sqrt(1 + 4 * q))

    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        """(2/pi)(asin a - asin b), a = 2q/(1+2q), b = a (1 - e).

        For e <= 1 (b >= 0) as atan2((a^2 - b^2)/(a sqrt(1-b^2) + b sqrt(1-a^2)), sqrt(1-a^2) sqrt(1-b^2) + a b)
        with a^2 - b^2 = a^2 e (2 - e) and 1 - b^2 = (1 - a^2) + a^2 e (2 - e): no cancellation.
        """
        e = gap_value(e)
        a = 2 * q / (1 + 2 * q)
        b = a * (1 - e)

        def near() -> Num:
            w = a * a * (e * (2 - e))
            ca = ar.sqrt(1 + 4 * q) / (1 + 2 * q)          # sqrt(1 - a^2)
            cb = ar.sqrt(ca * ca + w)                      # sqrt(1 - b^2)
            return ar.atan2(w / (a * cb + b * ca), ca * cb + a * b)

        def far() -> Num:
            return ar.asin(a) - ar.asin(b)

        return 2 * ar.choose(ar.below(e, ONE), near, far) / ar.pi()

    def Vdot_at(self, ar: Arith, q: Num, e: Gap) -> Num:
        e = gap_value(e)
        return 4 / (ar.pi() * ar.sqrt(1 + 4 * q + 4 * q * q * (e * (2 - e))))

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        """(4/pi)(1/sqrt(B1) - 1/sqrt(Bc)) = (4/pi)(Bc - B1)/(sqrt B1 sqrt Bc (sqrt B1 + sqrt Bc)),
        Bc - B1 = 4 q^2 e (2 - e)."""
        e = gap_value(e)
        w = 4 * q * q * (e * (2 - e))
        r1 = ar.sqrt(1 + 4 * q)
        rc = ar.sqrt(1 + 4 * q + w)
        return 4 * w / (ar.pi() * r1 * rc * (r1 + rc))

    def second_moment(self, ar: Arith, q: Num) -> Num:
        """E[(erf'')^2] = (16/pi) E[u^2 exp(-2u^2)] = (16/pi) q / (1 + 4q)^(3/2)."""
        return 16 * q / (ar.pi() * (1 + 4 * q) * ar.sqrt(1 + 4 * q))


class GeluKernel(DualKernel):
    """phi(x) = x Phi(x) (``stax.Gelu(approximate=False)``), neural-tangents' closed form (Tsuchida et al.)."""

    def V(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        p = (1 + q1) * (1 + q2)
        d2 = p - s * s
        d = ar.sqrt(d2)
        return s / 4 + (s * ar.atan(s / d) + (s * s + q1 * q2 * d2) / (p * d)) / (2 * ar.pi())

    def Vdot(self, ar: Arith, q1: Num, q2: Num, s: Num) -> Num:
        p = (1 + q1) * (1 + q2)
        d2 = p - s * s
        d = ar.sqrt(d2)
        return (ar.c(QUARTER) + ar.atan(s / d) / (2 * ar.pi())
                + s * (1 / d2 + (1 - q1 * q2) / p + 1) / (2 * ar.pi() * d))

    def V_diag(self, ar: Arith, q: Num) -> Num:
        d = ar.sqrt(1 + 2 * q)
        return q * (ar.c(QUARTER) + (q / ((1 + q) * d) + ar.atan(q / d) / 2) / ar.pi())

    def Vdot_diag(self, ar: Arith, q: Num) -> Num:
        d = ar.sqrt(1 + 2 * q)
        return ar.c(QUARTER) + (ar.atan(q / d) + q * (1 / (d * d) + 2 / (1 + q)) / d) / (2 * ar.pi())

    def V_diag_prime(self, ar: Arith, q: Num) -> Num:
        """1/4 + (q (q^2 + 4q + 2)/((1+q)^2 d^3) + q/(2 (1+q) d) + atan(q/d)/2)/pi, d = sqrt(1 + 2q) (sympy)."""
        d = ar.sqrt(1 + 2 * q)
        return ar.c(QUARTER) + (q * (q * q + 4 * q + 2) / ((1 + q) * (1 + q) * d * d * d)
                                       + q / (2 * (1 + q) * d) + ar.atan(q / d) / 2) / ar.pi()

    def _pieces(self, ar: Arith, q: Num, e: Num) -> tuple[Num, ...]:
        """s, D2 = q^2 - s^2, d1 = sqrt(1 + 2q), ds = sqrt(P - s^2) = sqrt(d1^2 + D2), u + v = q ds + s d1,
        and atan(q/d1) - atan(s/ds) = atan2(A - B, 1 + A B) with A - B = P D2 / (d1 ds (u + v))."""
        s = q * (1 - e)
        p = (1 + q) * (1 + q)
        d2 = q * q * (e * (2 - e))
        d1 = ar.sqrt(1 + 2 * q)
        ds = ar.sqrt(1 + 2 * q + d2)
        uv = q * ds + s * d1
        atan_diff = ar.atan2(p * d2 / (d1 * ds * uv), 1 + q * s / (d1 * ds))
        return s, p, d2, d1, ds, uv, atan_diff

    def gap_V(self, ar: Arith, q: Num, e: Gap) -> Num:
        """For e <= 1: q e/4 + (q e atan(q/d1) + s (atan(q/d1) - atan(s/ds)) + T(q) - T(s))/(2 pi) with
        T(q) - T(s) = D2 (2 q^2 (1+q)/(ds + d1) + (1 - q^2) d1)/(P d1 ds); directly for e > 1 (s < 0)."""
        e = gap_value(e)

        def near() -> Num:
            s, p, d2, d1, ds, _, atan_diff = self._pieces(ar, q, e)
            t_diff = d2 * (2 * q * q * (1 + q) / (ds + d1) + (1 - q * q) * d1) / (p * d1 * ds)
            qe = q * e
            return qe / 4 + (qe * ar.atan(q / d1) + s * atan_diff + t_diff) / (2 * ar.pi())

        def far() -> Num:
            return self.V_diag(ar, q) - self.V(ar, q, q, q * (1 - e))

        return ar.choose(ar.below(e, ONE), near, far)

    def Vdot_at(self, ar: Arith, q: Num, e: Gap) -> Num:
        return self.Vdot(ar, q, q, q * (1 - gap_value(e)))

    def gap_Vdot(self, ar: Arith, q: Num, e: Gap) -> Num:
        """For e <= 1: (atan diff + (q/d1^3 - s/ds^3) + K (q/d1 - s/ds))/(2 pi), K = 2/(1+q), with
        q/d1 - s/ds = P D2/(d1 ds (u+v)) and q/d1^3 - s/ds^3 = D2 (P ds^2/(u+v) + s d1)/(d1^3 ds^3)."""
        e = gap_value(e)

        def near() -> Num:
            s, p, d2, d1, ds, uv, atan_diff = self._pieces(ar, q, e)
            first = p * d2 / (d1 * ds * uv)
            third = d2 * (p * ds * ds / uv + s * d1) / (d1 * d1 * d1 * ds * ds * ds)
            return (atan_diff + third + 2 * first / (1 + q)) / (2 * ar.pi())

        def far() -> Num:
            return self.Vdot_diag(ar, q) - self.Vdot_at(ar, q, e)

        return ar.choose(ar.below(e, ONE), near, far)

    def second_moment(self, ar: Arith, q: Num) -> Num:
        """E[(phi'')^2], phi'' = varphi(x)(2 - x^2): (11 q^2 + 12 q + 4) / (2 pi (1 + 2q)^(5/2)) (sympy)."""
        d = ar.sqrt(1 + 2 * q)
        return (11 * q * q + 12 * q + 4) / (2 * ar.pi() * (1 + 2 * q) * (1 + 2 * q) * d)


def dual_kernel(activation: Activation) -> DualKernel:
    """The dual kernel pair of ``activation`` (every name of :data:`verify.core.model.ACTIVATION_NAMES`)."""
    name, params = activation.name, activation.params
    one, zero = Fraction(1), Fraction(0)
    if name in ("relu", "relu^1"):
        return ABReluKernel(activation, zero, one)
    if name == "leaky_relu":
        return ABReluKernel(activation, params[0], one)
    if name == "abrelu":
        return ABReluKernel(activation, params[0], params[1])
    if name == "abs":
        return ABReluKernel(activation, -one, one)
    if name == "sign":
        return SignKernel(activation)
    if name == "relu^0":
        return StepKernel(activation)
    if name == "relu^2":
        return ReluSquaredKernel(activation)
    if name == "erf":
        return ErfKernel(activation)
    if name == "gelu":
        return GeluKernel(activation)
    raise ValueError(f"no dual kernel for {activation.spec}")
