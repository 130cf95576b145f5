"""Small helpers shared by the claim checks (formatting and standard inputs; no verdicts)."""

from __future__ import annotations

from fractions import Fraction

import mpmath

from verify import Ball

# First-layer correlations spanning the interval, each an exact decimal.
RHO_GRID = ["-0.999", "-0.5", "0", "0.5", "0.9", "0.999999"]


def pair_rows(rho: str) -> list[list[str]]:
    """Two unit vectors of R^2 with cosine exactly ``rho`` (to 60 digits)."""
    with mpmath.workdps(70):
        r = mpmath.mpf(rho)
        return [["1", "0"], [mpmath.nstr(r, 65), mpmath.nstr(mpmath.sqrt(1 - r * r), 65)]]


def ball_text(ball: Ball, digits: int = 12) -> str:
    """A ball as 'mid ± rad' with ``digits`` significant digits of the midpoint (rad rigorous)."""
    j = ball.to_json(digits)
    return f"{j['mid']} ± {j['rad']}"


def lower(ball: Ball) -> Fraction:
    return ball.mid_fraction - ball.rad_fraction


def upper(ball: Ball) -> Fraction:
    return ball.mid_fraction + ball.rad_fraction


def certainly_less(a: Ball, b: Ball) -> bool:
    """a < b for every point of both balls."""
    return upper(a) < lower(b)


