"""Certified depth thresholds: the first depth at which 1 - rho^(L) falls below delta.

Because rho^(L) increases strictly with L (h(z) > z on (-1, 1)), the gap
1 - rho^(L) decreases, and K(delta) = min{L : 1 - rho^(L) < delta} is well defined.
The result is certified: the enclosure of the gap at K lies below delta and the one
at K - 1 lies at or above it.

>>> from fractions import Fraction
>>> first_depth_below(Fraction(0), Fraction(1, 100))["depth"]   # rho^(1) = 0
58
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from flint import arb, ctx, fmpq

from verify.core.balls import Ball
from verify.core.errors import InputError
from verify.core.precision import run_to_digits
from verify.data.pairs import PairCorrelation
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import OrbitWalker

CHUNK = 256


def _cosine_pair(rho1: Fraction) -> PairCorrelation:
    rho1 = Fraction(rho1)
    if not -1 <= rho1 <= 1:
        raise InputError(f"rho^(1) must lie in [-1, 1], got {rho1}")
    return PairCorrelation(1 if rho1 >= 0 else -1, rho1 * rho1)


def first_depth_below(rho1: Fraction, delta: Fraction, max_depth: int = 10**8,
                      n0: int = 3) -> dict[str, Any]:
    """Certified K(delta) for the default model: the first L with 1 - rho^(L) < delta.

    Returns ``{"depth", "gap_at_depth", "gap_before", "working_precision_bits"}`` with
    the gaps as Balls. Raises InputError if delta is not in (0, 2] or the threshold
    lies beyond ``max_depth``.
    """
    delta = Fraction(delta)
    if not 0 < delta <= 2:
        raise InputError(f"delta must lie in (0, 2], got {delta}")
    pair = _cosine_pair(rho1)
    schedule = LayerSchedule(Fraction(1), Fraction(0), n0)
    delta_bits = max(0, -math.floor(math.log2(delta)))

    def compute(bits: int) -> dict[str, Any] | None:
        with ctx.workprec(bits):
            bound = arb(fmpq(delta.numerator, delta.denominator))
            walker = OrbitWalker(pair, "nngp", bits, schedule)
            if walker.state.e < bound:
                return {"depth": 1, "gap_at_depth": Ball.from_arb(walker.state.e), "gap_before": None}
            while walker.layer < max_depth:
                snap = walker.snapshot()
                walker.advance_to(min(walker.layer + CHUNK, max_depth))
                if walker.state.e > bound:
                    continue
                walker.restore(snap)
                before = walker.state.e
                while True:
                    walker.advance_to(walker.layer + 1)
                    e = walker.state.e
                    if e < bound and before >= bound:
                        return {"depth": walker.layer, "gap_at_depth": Ball.from_arb(e),
                                "gap_before": Ball.from_arb(before)}
                    if not (e > bound):
                        return None           # the ball straddles delta: more precision
                    before = e
            raise InputError(f"1 - rho stays above {float(delta):.3g} up to depth {max_depth}")

    result, bits = run_to_digits(compute, lambda r: r is not None,
                                 start_bits=64 + 2 * delta_bits + 2 * math.ceil(math.log2(max_depth)),
                                 what="depth threshold")
    assert result is not None  # run_to_digits only returns a result that passed `r is not None`
    result["working_precision_bits"] = bits
    return result
