"""Pairs of points by their exact first-layer correlation: the key that deduplicates kernel entries.

Two pairs with the same key (sign(x.x'), (x.x')^2 / (|x|^2 |x'|^2)) have the same kernel
entry at every depth, so every route computes each distinct key once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb, ctx, fmpq

from verify.data.dataset import Dataset


@dataclass(frozen=True)
class PairCorrelation:
    """The exact first-layer cosine of a pair: sign(x.x') and t = (x.x')^2 / (|x|^2 |x'|^2).

    Two pairs with equal keys have the same kernel entry at every depth, so this is
    also the deduplication key.
    """

    sign: int
    t: Fraction

    def gap_arb(self) -> arb:
        """Certified enclosure of 1 - cos(x, x') at the current precision, without cancellation.

        1 - cos = (1 - t)/(1 + sqrt t) for a positive cosine, 1 + sqrt t otherwise; 1 - t is
        formed as (den - num)/den straight into Arb (no Fraction arithmetic: the cosines of
        exact data have numerators of dozens of digits, and this runs for every pair).

        >>> with ctx.workprec(64):
        ...     [float(PairCorrelation(sign, Fraction(1, 4)).gap_arb()) for sign in (1, -1)]     # cos = 1/2, -1/2
        [0.5, 1.5]
        """
        num, den = self.t.numerator, self.t.denominator
        root = arb(fmpq(num, den)).sqrt()
        if self.sign > 0:
            return arb(fmpq(den - num, den)) / (1 + root)
        return 1 + root

    def gap_float(self) -> float:
        """Best effort: 1 - cos(x, x') in float64 (to size working precisions)."""
        with ctx.workprec(64):
            return float(self.gap_arb())


def pair_index(rows: Dataset, cols: Dataset, symmetric: bool) -> tuple[np.ndarray, list[PairCorrelation]]:
    """The distinct exact first-layer correlations of all pairs, and which one each pair has.

    Returns ``(index, unique)``: ``unique`` in a fixed order (by sign, then t rounded to a
    float, then the reduced fraction: a cheap key) and ``index[i, j]`` the
    position in ``unique`` of :func:`pair_correlation` of row i and column j (pairs i < j
    only when ``symmetric``; other cells are -1). Each point is scaled to integer
    coordinates once (x = a / D, D > 0), so a pair costs an integer dot product and one
    gcd: t = (a.b)^2 / (|a|^2 |b|^2) and sign(x.y) = sign(a.b), the same key as
    :func:`pair_correlation` (about 2 us a pair instead of 35).
    """
    a_int = [_integer_coordinates(p) for p in rows.points]
    b_int = a_int if symmetric else [_integer_coordinates(p) for p in cols.points]
    a_norm = [sum(v * v for v in p) for p in a_int]
    b_norm = a_norm if symmetric else [sum(v * v for v in p) for p in b_int]
    index = np.full((rows.n, cols.n), -1, dtype=np.int64)
    seen: dict[tuple[int, int, int], int] = {}
    gcd, mul = math.gcd, int.__mul__
    for i, (a, na) in enumerate(zip(a_int, a_norm, strict=True)):
        row = index[i]
        start = i + 1 if symmetric else 0
        found = []
        for b, nb in zip(b_int[start:], b_norm[start:], strict=True):
            xy = sum(map(mul, a, b))
            num, den = xy * xy, na * nb
            g = gcd(num, den)
            found.append(seen.setdefault((-1 if xy < 0 else 1, num // g, den // g), len(seen)))
        row[start:] = found
    keys = list(seen)
    order = sorted(range(len(keys)), key=lambda k: (keys[k][0], keys[k][1] / keys[k][2], keys[k][1:]))
    position = np.empty(len(keys) + 1, dtype=np.int64)
    position[order] = np.arange(len(keys))
    position[-1] = -1                              # keeps the -1 cells at -1
    # num <= den by Cauchy-Schwarz (exact integers); the guard only mirrors pair_correlation's clamp
    unique = [PairCorrelation(keys[k][0], Fraction(keys[k][1], keys[k][2]) if keys[k][1] <= keys[k][2]
                              else Fraction(1)) for k in order]
    return position[index], unique


def _integer_coordinates(p: Sequence[Fraction]) -> tuple[int, ...]:
    """a with p = a / D for D = lcm of the denominators (> 0)."""
    den = math.lcm(*(v.denominator for v in p))
    return tuple(v.numerator * (den // v.denominator) for v in p)


def pair_correlation(x: Sequence[Fraction], y: Sequence[Fraction]) -> PairCorrelation:
    """The exact key (sign(x.y), (x.y)^2 / (|x|^2 |y|^2)) of the cosine between x and y."""
    xy = sum((a * b for a, b in zip(x, y, strict=True)), Fraction(0))
    nx = sum((a * a for a in x), Fraction(0))
    ny = sum((b * b for b in y), Fraction(0))
    t = xy * xy / (nx * ny)
    sign = 1 if xy > 0 else (-1 if xy < 0 else 1)
    return PairCorrelation(sign, min(t, Fraction(1)))
