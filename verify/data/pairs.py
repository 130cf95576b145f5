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
from flint import arb, ctx

from verify.data.dataset import Dataset

Key = tuple[int, int, int]     # (sign(x.x'), num, den): t = num / den in lowest terms


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
        exact data have numerators of dozens of digits, and this runs for every pair). The
        integers enter Arb exactly and only the divisions round (no fmpq: its gcd would reduce
        a key that is already in lowest terms).

        >>> with ctx.workprec(64):
        ...     [float(PairCorrelation(sign, Fraction(1, 4)).gap_arb()) for sign in (1, -1)]     # cos = 1/2, -1/2
        [0.5, 1.5]
        """
        num, den = self.t.numerator, self.t.denominator
        root = (arb(num) / den).sqrt()
        if self.sign > 0:
            return arb(den - num) / den / (1 + root)
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
    a_int, a_norm = integer_points(rows)
    b_int, b_norm = (a_int, a_norm) if symmetric else integer_points(cols)
    index = np.full((rows.n, cols.n), -1, dtype=np.int64)
    seen: dict[Key, int] = {}
    for i, (a, na) in enumerate(zip(a_int, a_norm, strict=True)):
        start = i + 1 if symmetric else 0
        index[i, start:] = [seen.setdefault(key, len(seen))
                            for key in correlation_keys(a, na, b_int[start:], b_norm[start:])]
    keys = list(seen)
    order = sorted(range(len(keys)), key=lambda k: (keys[k][0], keys[k][1] / keys[k][2], keys[k][1:]))
    position = np.empty(len(keys) + 1, dtype=np.int64)
    position[order] = np.arange(len(keys))
    position[-1] = -1                              # keeps the -1 cells at -1
    unique = [key_correlation(keys[k]) for k in order]
    return position[index], unique


def integer_points(data: Dataset) -> tuple[list[tuple[int, ...]], list[int]]:
    """Every point of ``data`` as integer coordinates a (x = a / D, D > 0) and its |a|^2.

    >>> integer_points(Dataset.from_rows([["0.6", "0.8"]], "none"))
    ([(3, 4)], [25])
    """
    points = [_integer_coordinates(p) for p in data.points]
    return points, [sum(v * v for v in p) for p in points]


def correlation_keys(a: Sequence[int], norm_a: int, others: Sequence[Sequence[int]],
                     other_norms: Sequence[int]) -> list[Key]:
    """The exact keys ``(sign(a.b), num, den)`` with num/den = (a.b)^2 / (|a|^2 |b|^2) in lowest terms,
    of ``a`` against each point of ``others`` (integer coordinates, from :func:`integer_points`).

    >>> correlation_keys((3, 4), 25, [(1, 0), (0, -1)], [1, 1])      # cosines 3/5 and -4/5
    [(1, 9, 25), (-1, 16, 25)]
    """
    gcd, mul = math.gcd, int.__mul__
    keys = []
    for b, norm_b in zip(others, other_norms, strict=True):
        xy = sum(map(mul, a, b))
        num, den = xy * xy, norm_a * norm_b
        g = gcd(num, den)
        keys.append((-1 if xy < 0 else 1, num // g, den // g))
    return keys


def key_correlation(key: Key) -> PairCorrelation:
    """The :class:`PairCorrelation` of a key of :func:`correlation_keys`.

    num <= den by Cauchy-Schwarz (exact integers); the guard only mirrors :func:`pair_correlation`'s clamp.
    """
    sign, num, den = key
    return PairCorrelation(sign, Fraction(num, den) if num <= den else Fraction(1))


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
