"""Printed enclosures stay enclosures: checked in exact Fraction arithmetic, not by the code under test.

``Ball.to_json`` and ``decimal_upper`` run in integer arithmetic (they format every entry of
large matrices); here every output is read back exactly and checked: the printed radius
covers the true radius plus the midpoint's decimal rounding, and rounding is tight (one
unit less in the last digit would not cover).
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from verify.core.balls import Ball, decimal_lower, decimal_upper


def _one_ulp_less(text: str) -> Fraction:
    mant, _, exp = text.partition("e")
    digits = mant.replace(".", "")
    places = len(digits) - 1
    return Fraction(int(digits) - 1, 10**places) * Fraction(10) ** int(exp)


positive = st.fractions(min_value=Fraction(1, 10**80), max_value=Fraction(10**80))


@settings(max_examples=400, deadline=None)
@given(positive, st.integers(1, 8))
def test_decimal_upper_is_a_tight_upper_bound(value: Fraction, sig: int) -> None:
    text = decimal_upper(value, sig)
    assert Fraction(text) >= value
    assert len(text.partition("e")[0].replace(".", "")) == sig
    ulp = Fraction(text) - _one_ulp_less(text)
    assert Fraction(text) - value < 2 * ulp   # within one unit (two when rounding crosses a power of ten)


@settings(max_examples=400, deadline=None)
@given(positive, st.integers(2, 8))
def test_decimal_lower_is_a_lower_bound(value: Fraction, sig: int) -> None:
    assert Fraction(decimal_lower(value, sig)) <= value


@settings(max_examples=400, deadline=None)
@given(st.integers(-(2**300), 2**300), st.integers(-600, 60), st.integers(0, 2**40), st.integers(-700, 10),
       st.sampled_from([1, 3, 15, 30, 80]))
def test_printed_ball_encloses_the_ball(man: int, exp: int, rad_man: int, rad_exp: int, digits: int) -> None:
    ball = Ball(man, exp, rad_man, rad_exp)
    out = ball.to_json(digits)
    mid, rad = Fraction(out["mid"]), Fraction(out["rad"])
    exact_mid = Fraction(man) * Fraction(2) ** exp
    exact_rad = Fraction(rad_man) * Fraction(2) ** rad_exp
    assert rad >= exact_rad + abs(mid - exact_mid)       # [mid - rad, mid + rad] contains the ball
