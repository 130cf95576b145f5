"""Exact, picklable balls and their decimal serialization.

A :class:`Ball` is a dyadic midpoint and an upper bound on the radius, both
exact (integer mantissa and exponent), so it can cross process boundaries and be
turned into decimal strings without ever passing through float64.

Serialization (``to_json``) keeps the enclosure rigorous: the decimal midpoint
is rounded to the requested number of significant digits, and the rounding
error is *added* to the radius, which is then rounded *up*.

>>> from flint import arb, ctx
>>> with ctx.workprec(100):
...     b = Ball.from_arb(arb(1) / 3)
>>> b.contains(Fraction(1, 3))
True
>>> Ball.exact(-1).contains(mpmath.mpf(-1)), Ball.exact(-1).contains(mpmath.mpf(1))
(True, False)
>>> with ctx.workprec(53):                                 # to_arb keeps the rounding of the midpoint
...     Ball(2**100 + 1, -100, 1, -200).to_arb().contains(arb(1) + arb(2) ** -100)
True
>>> d = b.to_json(20)
>>> d["mid"]
'0.33333333333333333333333'
>>> Fraction(d["rad"]) >= abs(Fraction(d["mid"]) - Fraction(1, 3))
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

import mpmath
from flint import arb, arf, ctx, fmpq
from mpmath.libmp import from_man_exp

from verify.core.errors import PrecisionTooLow

LOG10_2 = math.log10(2)


def _log2_abs(man: int, exp: int) -> float:
    """log2 |man 2^exp| in float64 (man != 0; any exponent, no Fraction; absolute error ~ |exp| 2^-52)."""
    return math.log2(abs(man)) + exp


def _log2_ratio(a_man: int, a_exp: int, b_man: int, b_exp: int) -> float:
    """log2(|a_man| 2^a_exp / (b_man 2^b_exp)), the exponents subtracted exactly (as integers) first."""
    return math.log2(abs(a_man)) - math.log2(b_man) + (a_exp - b_exp)


def _exceeds(a_man: int, a_exp: int, b_man: int, b_exp: int) -> bool:
    """Whether a_man 2^a_exp > b_man 2^b_exp exactly (a_man, b_man > 0), shifting by the bit lengths first."""
    top_a, top_b = a_man.bit_length() + a_exp, b_man.bit_length() + b_exp
    if top_a != top_b:
        return top_a > top_b
    shift = a_exp - b_exp          # |shift| < both bit lengths here
    return (a_man << shift) > b_man if shift >= 0 else a_man > (b_man << -shift)


def dyadic_float_enclosure(man: int, exp: int, rad_man: int, rad_exp: int) -> tuple[float, float]:
    """(m, r) in float64 enclosing the ball man 2^exp +- rad_man 2^rad_exp, in integer arithmetic
    (no Fraction: it runs once per distinct pair of a large matrix).

    m is the double nearest the midpoint c (Python's int division rounds correctly) and r is
    rad + |c - m|, formed exactly over a common power of two, rounded to nearest and moved up
    one ulp if that fell below it; so [m - r, m + r] contains [c - rad, c + rad]:
    |x - m| <= |x - c| + |c - m| <= rad + |c - m| <= r. The result depends on the values only,
    not on how man and exp write them.

    >>> dyadic_float_enclosure(3, -1, 0, 0), dyadic_float_enclosure(6, -2, 1, -60)
    ((1.5, 0.0), (1.5, 8.673617379884035e-19))
    """
    m = man / (1 << -exp) if exp < 0 else float(man << exp)
    p, q = m.as_integer_ratio()
    shift = max(0, -exp, q.bit_length() - 1, -rad_exp)               # everything over 2^shift
    exact = man << (shift + exp)
    rounded = p << (shift - q.bit_length() + 1)
    total = abs(exact - rounded) + (rad_man << (shift + rad_exp))
    r = total / (1 << shift)
    pr, qr = r.as_integer_ratio()
    if pr << shift < total * qr:                                       # r < total / 2^shift
        r = math.nextafter(r, math.inf)
    return m, r


def _dyadic(man: int, exp: int) -> Fraction:
    return Fraction(man) * (Fraction(2) ** exp)


@dataclass(frozen=True, slots=True)
class Ball:
    """An enclosure ``[mid - rad, mid + rad]`` with exact dyadic endpoints data.

    Slotted: a large kernel holds millions of these (about 130 bytes each with slots, 480 without).
    """

    man: int
    exp: int
    rad_man: int
    rad_exp: int

    @classmethod
    def from_arb(cls, x: arb) -> Ball:
        """Exact copy of an Arb ball (midpoint and radius upper bound)."""
        if not x.is_finite():                     # the working precision lost every digit
            raise PrecisionTooLow(f"non-finite ball {x}")
        m, e = x.mid().man_exp()
        r, re = x.rad().upper().man_exp()
        return cls(int(m), int(e), int(r), int(re))

    @classmethod
    def exact(cls, value: Fraction | int) -> Ball:
        """A zero-radius ball; ``value`` must be dyadic."""
        value = Fraction(value)
        den = value.denominator
        if den & (den - 1):
            raise ValueError("Ball.exact needs a dyadic rational")
        return cls(value.numerator, -(den.bit_length() - 1), 0, 0)

    def to_arb(self) -> arb:
        """A ball at the current precision that contains this one (rounding of the midpoint included)."""
        mid = arb(self.man) * arb(2) ** self.exp     # ball arithmetic: any rounding stays in the radius
        if self.rad_man == 0:
            return mid
        return mid + arb(0, (arb(self.rad_man) * arb(2) ** self.rad_exp).upper())

    @property
    def mid_fraction(self) -> Fraction:
        return _dyadic(self.man, self.exp)

    @property
    def rad_fraction(self) -> Fraction:
        return _dyadic(self.rad_man, self.rad_exp)

    def mid_mpf(self) -> mpmath.mpf:
        """The midpoint as an exact mpmath number, whatever ``mpmath.mp.prec`` is.

        ``mpmath.mpf((man, exp))`` would round to the ambient precision; the value is
        built by ``from_man_exp`` with ``prec=0`` (normalization without rounding) and
        wrapped by ``make_mpf``, which does not round either. Arithmetic on it rounds
        as usual.

        >>> with mpmath.workprec(53):
        ...     Ball(2**100 + 1, -100, 0, 0).mid_mpf() - 1 == mpmath.mpf(2) ** -100
        True
        """
        return _exact_mpf(self.man, self.exp)

    def float_enclosure(self) -> tuple[float, float]:
        """(m, r) in float64 with |x - m| <= r for every x in the ball (:func:`dyadic_float_enclosure`).

        >>> Ball(1, -2, 1, -60).float_enclosure()
        (0.25, 8.673617379884035e-19)
        >>> Ball(2**80 + 1, -80, 0, 0).float_enclosure()       # 1 + 2^-80: rounds to 1, r covers the rest
        (1.0, 8.271806125530277e-25)
        >>> m, r = Ball(1, -200, 0, 0).float_enclosure(); r >= 0
        True
        """
        return dyadic_float_enclosure(self.man, self.exp, self.rad_man, self.rad_exp)

    def __float__(self) -> float:
        return float(self.mid_fraction)

    def contains(self, value: Fraction | int | str | mpmath.mpf) -> bool:
        """Whether the exact ``value`` lies in the ball."""
        if isinstance(value, mpmath.mpf):
            sign, man, exp, _ = value._mpf_
            value = (-1 if sign else 1) * _dyadic(int(man), int(exp))
        value = Fraction(value)
        return abs(value - self.mid_fraction) <= self.rad_fraction

    def one_minus(self) -> Ball:
        """The ball of ``1 - x``: the reduced dyadic 1 - mid, the same radius (exact, in integers).

        >>> Ball(3, -3, 1, -70).one_minus() == Ball(5, -3, 1, -70)
        True
        """
        man, exp = self.man, self.exp
        if exp >= 0:
            return Ball(1 - (man << exp), 0, self.rad_man, self.rad_exp)
        num = (1 << -exp) - man
        if num == 0:
            return Ball(0, 0, self.rad_man, self.rad_exp)
        zeros = min((num & -num).bit_length() - 1, -exp)        # the power of two that divides num and 2^-exp
        return Ball(num >> zeros, exp + zeros, self.rad_man, self.rad_exp)

    def correct_digits(self) -> float:
        """Decimal digits certified: -log10(rad / max(1, |mid|)) (inf for exact balls).

        From the binary exponents, never through Fractions: a kernel diagonal of relu^2 at
        depth 40 is about 2^-(2^40), and its Fraction would not fit in memory.

        >>> [round(Ball(3, e, 1, e - 40).correct_digits(), 6) for e in (-2, 2**50)]   # 3/4 +- 2^-42, 3 2^(2^50) +- ...
        [12.64326, 12.518321]
        """
        if self.rad_man == 0:
            return math.inf
        if self.man and _log2_abs(self.man, self.exp) > 0:           # |mid| > 1: relative to |mid|
            return _log2_ratio(self.man, self.exp, self.rad_man, self.rad_exp) * LOG10_2
        return -_log2_abs(self.rad_man, self.rad_exp) * LOG10_2

    def relative_digits(self) -> float:
        """Decimal digits of relative accuracy: -log10(rad / |mid|) (0 if the ball contains 0).

        >>> round(Ball(3, -2, 1, -40).relative_digits(), 6), Ball(1, -2**60, 1, -2**60).relative_digits()
        (11.916261, 0.0)
        """
        if self.rad_man == 0:
            return math.inf
        if self.man == 0 or not _exceeds(abs(self.man), self.exp, self.rad_man, self.rad_exp):
            return 0.0
        return _log2_ratio(self.man, self.exp, self.rad_man, self.rad_exp) * LOG10_2

    def to_json(self, digits: int) -> dict[str, str]:
        """``{"mid", "rad"}`` decimal strings; the rad covers the midpoint's decimal rounding.

        The sum rad + |mid_text - mid| is formed exactly in integers over 2^s 10^t (no
        Fraction arithmetic: this runs once per printed entry).

        >>> Ball(1, -2, 1, -60).to_json(5)
        {'mid': '0.25000000', 'rad': '8.68e-19'}

        Beyond ``HUGE_EXPONENT`` bits of binary exponent (|x| outside about 10^+-20000, e.g. the
        diagonal of a relu^2 network at depth 30, ~2^-(2^29)) the exact integers would have
        that many bits: Arb's decimal enclosure is used instead (:func:`_huge_json`).

        >>> Ball(3, -2**40, 1, -2**40 - 80).to_json(5)          # mpmath: 3.7233629474155630482e-330985980542
        {'mid': '3.723362947415e-330985980542', 'rad': '2.00e-330985980554'}
        """
        if max(abs(self.exp), abs(self.rad_exp)) > HUGE_EXPONENT:
            return _huge_json(self, digits)
        with mpmath.workdps(digits + 10):
            text = mpmath.nstr(self.mid_mpf(), digits + 3, min_fixed=-5, max_fixed=digits + 5,
                               strip_zeros=False)
        dec, k = _decimal_of(text)                   # text = dec / 10^k exactly
        s2 = max(0, -self.exp, -self.rad_exp)
        t10 = max(0, k)
        scale10 = 10**t10
        mid_num = (self.man << (self.exp + s2)) * scale10
        text_num = (dec << s2) * 10 ** (t10 - k)
        rad_num = (self.rad_man << (self.rad_exp + s2)) * scale10
        total = rad_num + abs(text_num - mid_num)
        return {"mid": text, "rad": _decimal_upper_int(total, scale10 << s2)}


HUGE_EXPONENT = 1 << 16


def _huge_json(ball: Ball, digits: int) -> dict[str, str]:
    """:meth:`Ball.to_json` for astronomically large or small balls, from Arb's decimal enclosure.

    ``arb.mid_rad_10exp(n)`` returns integers (m, r, e) with the ball inside [m - r, m + r] 10^e
    (Arb's arb_get_fmpz_mid_rad_10exp), so the text m 10^e with radius >= r 10^e encloses it.
    """
    bits = int((digits + 10) * 3.33) + max(abs(ball.exp), abs(ball.rad_exp)).bit_length() + 64
    with ctx.workprec(bits):
        x = arb(arf((ball.man, ball.exp)), arf((ball.rad_man, ball.rad_exp)))
        m, r, e = x.mid_rad_10exp(digits + 3)
    m_int, r_int, e_int = int(m), int(r), int(e)
    if m_int == 0:
        mid = "0"
    else:
        text = str(abs(m_int))
        mid = f"{'-' if m_int < 0 else ''}{text[0]}.{text[1:]}e{e_int + len(text) - 1}"
    rad = _decimal_upper_int(max(r_int, 1), 1)           # r 10^e rounded up (at least one unit of m)
    mant, _, exp10 = rad.partition("e")
    return {"mid": mid, "rad": f"{mant}e{int(exp10) + e_int}"}


def _exact_mpf(man: int, exp: int) -> mpmath.mpf:
    """``man * 2^exp`` as an mpf carrying every bit of ``man`` (never rounded)."""
    return mpmath.mp.make_mpf(from_man_exp(int(man), int(exp)))


def decimal_upper(value: Fraction, sig: int = 3) -> str:
    """A decimal string >= ``value`` with ``sig`` significant digits (rounded up).

    Tight to one unit in the last digit, except when rounding up crosses a power of ten
    (9.9996e-5 -> 1.01e-4 rather than 1.00e-4): a little loose, never too small.

    >>> decimal_upper(Fraction(1, 3))
    '3.34e-1'
    >>> decimal_upper(Fraction(0))
    '0'
    """
    return _decimal_upper_int(value.numerator, value.denominator, sig)


_DECIMAL_TEXT = re.compile(r"(-?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?")


def _decimal_of(text: str) -> tuple[int, int]:
    """(d, k) with text = d / 10^k exactly, for mpmath's decimal strings ('-0.25', '1.5e-7')."""
    m = _DECIMAL_TEXT.fullmatch(text)
    if m is None:
        raise ValueError(f"not a decimal: {text!r}")
    frac = m.group(3) or ""
    d = int(m.group(2) + frac)
    return (-d if m.group(1) else d), len(frac) - int(m.group(4) or 0)


def _pow10_ge(p: int, q: int, e: int) -> bool:
    """Whether p / q >= 10^e (p, q > 0 integers)."""
    lhs: int = p * 10 ** max(0, -e)
    rhs: int = q * 10 ** max(0, e)
    return lhs >= rhs


def _decimal_upper_int(p: int, q: int, sig: int = 3) -> str:
    """:func:`decimal_upper` of p / q (q > 0) in integer arithmetic."""
    if p <= 0:
        return "0"
    exp10 = math.floor(math.log10(p) - math.log10(q))
    while not _pow10_ge(p, q, exp10):              # 10^exp10 <= p/q < 10^(exp10 + 1)
        exp10 -= 1
    while _pow10_ge(p, q, exp10 + 1):
        exp10 += 1
    shift = sig - 1 - exp10                         # digits = ceil(p/q * 10^shift)
    num, den = p * 10 ** max(0, shift), q * 10 ** max(0, -shift)
    digits = -(-num // den)
    if digits >= 10**sig:
        digits //= 10
        exp10 += 1
        digits += 1
    text = str(digits)
    return f"{text[0]}.{text[1:]}e{exp10}" if len(text) > 1 else f"{text}e{exp10}"


def decimal_lower(value: Fraction, sig: int = 3) -> str:
    """A decimal string <= ``value`` with ``sig`` significant digits (rounded down; '0' if value <= 0).

    With :func:`decimal_upper` the one outward rounding of the package.

    >>> decimal_lower(Fraction(1, 3)), decimal_lower(Fraction(2, 3), 2), decimal_lower(Fraction(0))
    ('3.33e-1', '6.6e-1', '0')
    """
    if value <= 0:
        return "0"
    exp10 = math.floor(math.log10(value.numerator) - math.log10(value.denominator)) + 1
    while Fraction(10) ** exp10 <= value:
        exp10 += 1
    while Fraction(10) ** (exp10 - 1) > value:
        exp10 -= 1
    text = str(math.floor(value / Fraction(10) ** (exp10 - sig)))
    return f"{text[0]}.{text[1:]}e{exp10 - 1}" if len(text) > 1 else f"{text}e{exp10 - 1}"


def arb_of_fraction(q: Fraction) -> arb:
    """``q`` as an Arb ball at the current precision (exact if representable)."""
    return arb(fmpq(q.numerator, q.denominator))
