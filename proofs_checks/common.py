"""Small helpers shared by the claim checks (formatting and standard inputs; no verdicts)."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath

from verify import Ball

from .base import BallCell

# First-layer correlations spanning the interval, each an exact decimal.
RHO_GRID = ["-0.999", "-0.5", "0", "0.5", "0.9", "0.999999"]


def pair_rows(rho: str) -> list[list[str]]:
    """Two unit vectors of R^2 with cosine exactly ``rho`` (to 60 digits)."""
    with mpmath.workdps(70):
        r = mpmath.mpf(rho)
        return [["1", "0"], [mpmath.nstr(r, 65), mpmath.nstr(mpmath.sqrt(1 - r * r), 65)]]


MAX_JSON_DIGITS = 60


def ball_text(ball: Ball, digits: int = 12) -> BallCell:
    """A ball as 'mid ± rad' with ``digits`` (+3 guard) significant digits of the midpoint (rad rigorous).

    The text's ± covers the rounding of the midpoint; the cell also carries the enclosure
    to the digits actually certified (at most ``MAX_JSON_DIGITS``), for results.json.
    """
    j = ball.to_json(digits)
    relative = ball.relative_digits()
    certified = None if relative == 0 and ball.rad_man != 0 else min(relative, float(MAX_JSON_DIGITS))
    json_digits = digits if certified is None else max(digits, min(MAX_JSON_DIGITS, math.ceil(certified) + 1))
    return BallCell(f"{j['mid']} ± {j['rad']}", ball.to_json(json_digits), digits + 3, certified)


def lower(ball: Ball) -> Fraction:
    return ball.mid_fraction - ball.rad_fraction


def upper(ball: Ball) -> Fraction:
    return ball.mid_fraction + ball.rad_fraction


def certainly_less(a: Ball, b: Ball) -> bool:
    """a < b for every point of both balls."""
    return upper(a) < lower(b)


