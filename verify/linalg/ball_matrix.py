"""Vectors and matrices of certified balls, readable as numpy arrays, mpmath matrices or exact decimals.

A :class:`BallVector` is a tuple of :class:`~verify.core.balls.Ball` (it *is* a sequence of
balls), a :class:`BallMatrix` a tuple of row vectors, so ``m[i][j]`` is a Ball and code that
walks rows of balls keeps working. For a notebook both also give

* ``.mid``: the midpoints rounded to float64 (numpy), and ``.rad``: float64 radii such that
  every exact value lies in ``[mid - rad, mid + rad]`` (the rounding of ``mid`` included:
  :meth:`~verify.core.balls.Ball.float_enclosure`), so the float64 arrays are still an enclosure;
* ``.mid_mpmath()``: the exact midpoints as mpmath numbers (no rounding to ``mp.prec``);
* ``.decimals(digits)``: ``{"mid", "rad"}`` decimal strings, the radius covering the
  rounding of the printed midpoint (:meth:`~verify.core.balls.Ball.to_json`).

>>> m = BallMatrix.of([[Ball.exact(1), Ball(1, -2, 1, -60)]])
>>> m.shape, m[0][1] == Ball(1, -2, 1, -60)
((1, 2), True)
>>> m.mid.tolist(), m.rad.tolist()
([[1.0, 0.25]], [[0.0, 8.673617379884035e-19]])
>>> m.decimals(5)[0][1]
{'mid': '0.25000000', 'rad': '8.68e-19'}
>>> max_abs_difference(m, Fraction(1, 4)).contains(Fraction(3, 4))     # max(|1 - 1/4|, |1/4 - 1/4|)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import overload

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx

from verify.core.balls import Ball, arb_of_fraction


@dataclass(frozen=True)
class BallVector(Sequence[Ball]):
    """Certified balls in a row: a sequence of :class:`~verify.core.balls.Ball` with array views."""

    balls: tuple[Ball, ...]

    @classmethod
    def of(cls, balls: Iterable[Ball]) -> BallVector:
        return cls(tuple(balls))

    @overload
    def __getitem__(self, i: int) -> Ball: ...

    @overload
    def __getitem__(self, i: slice) -> BallVector: ...

    def __getitem__(self, i: int | slice) -> Ball | BallVector:
        return BallVector(self.balls[i]) if isinstance(i, slice) else self.balls[i]

    def __len__(self) -> int:
        return len(self.balls)

    def __iter__(self) -> Iterator[Ball]:
        return iter(self.balls)

    @property
    def mid(self) -> np.ndarray:
        """The midpoints rounded to the nearest float64 (best effort as numbers, see ``rad``)."""
        return np.array([b.float_enclosure()[0] for b in self.balls], dtype=np.float64)

    @property
    def rad(self) -> np.ndarray:
        """float64 radii: each exact value lies within ``rad`` of ``mid`` (certified, rounding included)."""
        return np.array([b.float_enclosure()[1] for b in self.balls], dtype=np.float64)

    def mid_mpmath(self) -> list[mpmath.mpf]:
        """The exact midpoints as mpmath numbers (every bit kept, whatever ``mp.prec`` is)."""
        return [b.mid_mpf() for b in self.balls]

    def decimals(self, digits: int) -> list[dict[str, str]]:
        """``{"mid", "rad"}`` decimal strings with ``digits`` (+3) significant digits; rad rounded up."""
        return [b.to_json(digits) for b in self.balls]


@dataclass(frozen=True)
class BallMatrix(Sequence[BallVector]):
    """A matrix of certified balls: a sequence of row :class:`BallVector` with array views."""

    rows: tuple[BallVector, ...]

    @classmethod
    def of(cls, rows: Iterable[Iterable[Ball]]) -> BallMatrix:
        out = tuple(BallVector.of(r) for r in rows)
        if len({len(r) for r in out}) > 1:
            raise ValueError("rows of a BallMatrix need the same length")
        return cls(out)

    @classmethod
    def from_arb(cls, a: arb_mat) -> BallMatrix:
        """Exact copies of the balls of an Arb matrix."""
        return cls.of([Ball.from_arb(a[i, j]) for j in range(a.ncols())] for i in range(a.nrows()))

    @overload
    def __getitem__(self, i: int) -> BallVector: ...

    @overload
    def __getitem__(self, i: slice) -> BallMatrix: ...

    def __getitem__(self, i: int | slice) -> BallVector | BallMatrix:
        return BallMatrix(self.rows[i]) if isinstance(i, slice) else self.rows[i]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[BallVector]:
        return iter(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0]) if self.rows else 0

    def _array(self, column: int) -> np.ndarray:
        out = np.empty(self.shape, dtype=np.float64)
        for i, row in enumerate(self.rows):
            for j, b in enumerate(row):
                out[i, j] = b.float_enclosure()[column]
        return out

    @property
    def mid(self) -> np.ndarray:
        """The midpoints rounded to the nearest float64 (n x m numpy array)."""
        return self._array(0)

    @property
    def rad(self) -> np.ndarray:
        """float64 radii: each exact entry lies within ``rad`` of ``mid`` (certified, rounding included)."""
        return self._array(1)

    def mid_mpmath(self) -> mpmath.matrix:
        """The exact midpoints as an mpmath matrix (its entries keep every bit; arithmetic rounds as usual)."""
        out = mpmath.matrix(*self.shape)
        for i, row in enumerate(self.rows):
            for j, b in enumerate(row):
                out[i, j] = b.mid_mpf()
        return out

    def decimals(self, digits: int) -> list[list[dict[str, str]]]:
        """Rows of ``{"mid", "rad"}`` decimal strings (as in the JSON of the command line)."""
        return [row.decimals(digits) for row in self.rows]


def max_abs_difference(a: Sequence[Sequence[Ball]], b: Sequence[Sequence[Ball]] | Fraction,
                       prec: int = 200) -> Ball:
    """Certified enclosure of max_ij |a_ij - b_ij| (``b`` a matrix of balls or one exact constant).

    Ball arithmetic at ``prec`` bits; the enclosures of ``a`` and ``b`` are carried in full.
    """
    with ctx.workprec(prec):
        best: arb | None = None
        for i, row in enumerate(a):
            for j, x in enumerate(row):
                y = arb_of_fraction(b) if isinstance(b, Fraction) else b[i][j].to_arb()
                d = abs(x.to_arb() - y)
                best = d if best is None else best.max(d)
        if best is None:
            raise ValueError("max_abs_difference of an empty matrix")
        return Ball.from_arb(best)
