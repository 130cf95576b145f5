"""Reading a limit off certified values along a depth ladder (one rule, shared by the checks).

A sequence of certified balls at depths spaced by decades is

* *decaying* when each certified upper bound is at most half the previous lower
  bound (power-law convergence to 0), and
* *settled* when its moves from decade to decade shrink at least 3x each time while
  it stays away from 0: extrapolating the geometric tail, the limit then lies within
  half the last move of the last value (validated, not certified).

A claimed limit is supported if the sequence decays and the claim is 0, or settles
at the claimed value; contradicted if it decays and the claim is not 0, or settles
away from the claimed value; otherwise the finding is open.
"""

from __future__ import annotations

from fractions import Fraction

from verify import Ball

from .base import Finding
from .common import ball_text, lower, upper


def _abs_lower(b: Ball) -> Fraction:
    lo, hi = lower(b), upper(b)
    return Fraction(0) if lo <= 0 <= hi else min(abs(lo), abs(hi))


def _abs_upper(b: Ball) -> Fraction:
    return max(abs(lower(b)), abs(upper(b)))


def settled_or_decaying(name: str, seq: list[tuple[int, Ball]], claimed: Fraction) -> Finding:
    guarantee = "certified values, validated limit"
    decaying = all(2 * _abs_upper(b) <= _abs_lower(a) for (_, a), (_, b) in zip(seq, seq[1:], strict=False))
    moves = [abs(b.mid_fraction - a.mid_fraction) for (_, a), (_, b) in zip(seq, seq[1:], strict=False)]
    last_d, last = seq[-1]
    size = abs(last.mid_fraction)
    settled = (len(moves) >= 2 and size > 0 and _abs_lower(last) > 0
               and all(3 * b <= a for a, b in zip(moves, moves[1:], strict=False)))
    if decaying:
        trail = ", ".join(f"L={d}: {ball_text(b, 6)}" for d, b in seq)
        ok = claimed == 0
        return Finding(f"limit of {name}", ok,
                       f"{name} decays at least 2x per decade to 0 ({trail})"
                       + ("" if ok else f"; the claimed limit {claimed} is not 0"), guarantee)
    if settled:
        band = moves[-1]
        ok = abs(claimed - last.mid_fraction) <= 2 * band + last.rad_fraction
        return Finding(f"limit of {name}", ok,
                       f"{name} settles at {ball_text(last, 8)} (L={last_d}; last decade moved it by "
                       f"{float(band):.2e}, the one before by {float(moves[-2]):.2e})"
                       + ("" if ok else f", away from the claimed {claimed}"), guarantee)
    return Finding(f"limit of {name}", None, f"{name} neither decays nor settles over L = {[d for d, _ in seq]}",
                   guarantee)
