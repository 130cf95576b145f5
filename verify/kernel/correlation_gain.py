"""How far the ReLU correlation map lifts a correlation: certified enclosures of h(z) - z.

h(z) - z = (sqrt(1 - z^2) - z arccos z) / pi is positive on (-1, 1) (Lemma 1's step).
In the gap e = 1 - z it is e - g(e), evaluated by :func:`~verify.kernel.correlation_map.gap_map_arb`
at the exact point e (no cancellation near z = 1).

>>> h_minus_identity(Fraction(0), prec=128).to_json(20)["mid"]     # h(0) = 1/pi
'0.31830988618379067153777'
>>> h_minus_identity(Fraction(-1), prec=128).contains(1)             # h(-1) = 0
True
"""

from __future__ import annotations

from fractions import Fraction

from flint import ctx

from verify.core.balls import Ball, arb_of_fraction
from verify.kernel.correlation_map import gap_map_arb


def h_minus_identity(z: Fraction, *, prec: int) -> Ball:
    """Certified enclosure of h(z) - z for an exact z in [-1, 1], in ``prec``-bit ball arithmetic."""
    if not -1 <= z <= 1:
        raise ValueError(f"h is defined on [-1, 1], got z = {z}")
    with ctx.workprec(prec):
        e = arb_of_fraction(1 - z)
        return Ball.from_arb(e - gap_map_arb(e))
