"""Goal-driven precision: evaluate, check the result against the request, raise, or give up.

One helper owns the loop (Ziv's strategy, as python-flint's ``showgood``): callers
ask for decimal digits of the *result*; the working precision is an output.

>>> bits_for_digits(30)
100
>>> res, bits = run_to_digits(lambda p: p, lambda r: r >= 400, start_bits=100)
>>> res, bits
(400, 400)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from verify.core.balls import Ball
from verify.core.errors import InputError, PrecisionNotReached, PrecisionTooLow
from verify.core.params import exact_integer, quoted

T = TypeVar("T")

MAX_DIGITS = 2_000
DEFAULT_MAX_BITS = 1 << 16


def check_digits(digits: object) -> int:
    """Validate a requested number of decimal digits (1 .. MAX_DIGITS; text must be an ASCII decimal).

    >>> check_digits("30"), check_digits(" 1e2 ")
    (30, 100)
    """
    value = exact_integer(digits, "digits", max_magnitude=9)
    if value < 1 or value > MAX_DIGITS:
        raise InputError(f"digits must be between 1 and {MAX_DIGITS}, got {quoted(digits)}")
    return value


def bits_for_digits(digits: int) -> int:
    """Bits that carry ``digits`` decimal digits (ceil(digits * log2(10)))."""
    return math.ceil(digits * math.log2(10))


def meets_digits(ball: Ball, digits: int, relative: bool = False) -> bool:
    """Whether ``rad <= 10^-digits * |mid|`` (``relative``) or ``<= 10^-digits * max(1, |mid|)``.

    Exact integer arithmetic on the dyadic mantissas (no Fractions, no logarithms: this
    runs for every ball of every pair). An exact ball (radius 0) always meets the request.

    >>> b = Ball(1, -2, 1, -60)                 # 1/4 +- 2^-60 = 8.7e-19
    >>> meets_digits(b, 18), meets_digits(b, 19)
    (True, False)
    >>> tiny = Ball(1, -60, 1, -120)            # 8.7e-19 +- 7.5e-37
    >>> meets_digits(tiny, 36), meets_digits(tiny, 18, relative=True), meets_digits(tiny, 19, relative=True)
    (True, True, False)
    >>> meets_digits(Ball(1, -60, 1, -50), 1, relative=True)       # the ball contains 0
    False
    """
    if ball.rad_man == 0:
        return True
    scale: int = 10**digits
    rad, rad_exp = ball.rad_man * scale, ball.rad_exp
    mid, exp = abs(ball.man), ball.exp
    if not relative and (mid == 0 or (exp < 0 and mid >> -exp == 0)):     # |mid| < 1: scale by 1
        mid, exp = 1, 0
    if rad_exp >= exp:
        return rad << (rad_exp - exp) <= mid
    return rad <= mid << (exp - rad_exp)


def run_to_digits(
    compute: Callable[[int], T],
    accurate: Callable[[T], bool],
    start_bits: int,
    max_bits: int = DEFAULT_MAX_BITS,
    digits: int | None = None,
    what: str = "result",
) -> tuple[T, int]:
    """Run ``compute(bits)`` at rising precision until ``accurate(result)``.

    The precision starts at ``start_bits`` and doubles. Returns the result and the
    working precision that met the request; raises :class:`PrecisionNotReached`
    past ``max_bits`` (never pads digits). ``compute`` may raise
    :class:`~verify.core.errors.PrecisionTooLow` to ask for more bits; every other
    exception propagates at once (it is a bug or bad input, not a precision issue).
    """
    bits = max(32, int(start_bits))
    while True:
        try:
            result = compute(bits)
            done = accurate(result)
        except PrecisionTooLow:
            done = False
        if done:
            return result, bits
        if bits >= max_bits:
            raise PrecisionNotReached(digits if digits is not None else -1, max_bits, what)
        bits = min(2 * bits, max_bits)
