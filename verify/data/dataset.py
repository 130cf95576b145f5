"""Datasets: parse points exactly, project them onto the sphere, list the distinct pair correlations.

Points are kept as exact rationals (decimal strings are parsed with
:class:`fractions.Fraction`, floats from ``.npy`` files keep their exact binary
value), so the first-layer cosine of every pair is known exactly up to one square
root. Projection:

* ``normalize``: x -> x / |x| (done exactly in the cosine, never rounded);
* ``stereographic``: R^n -> S^n, x -> (2x, |x|^2 - 1) / (|x|^2 + 1) (exact rationals);
* ``none``: the points must already lie on the unit sphere (| |x|^2 - 1 | <= 1e-12).

>>> d = Dataset.from_rows([["1", "0"], ["0.6", "0.8"]], project="none")
>>> d.n, d.n0, d.pair(0, 1)
(2, 2, PairCorrelation(sign=1, t=Fraction(9, 25)))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from verify.core.errors import InputError
from verify.core.params import parse_exact

if TYPE_CHECKING:
    from verify.data.pairs import PairCorrelation

PROJECTIONS = ("normalize", "stereographic", "none")
SPHERE_TOLERANCE = Fraction(1, 10**12)


def _exact_cell(value: object, where: str) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise InputError(f"{where}: not a finite number ({value})")
        return Fraction(*value.as_integer_ratio())     # exact, long double included
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return Fraction(int(value))
    return parse_exact(str(value), where)


@dataclass(frozen=True)
class Dataset:
    """n points on S^{n0-1} (exact rationals, possibly off-sphere before normalization)."""

    points: tuple[tuple[Fraction, ...], ...]
    project: str
    name: str = "data"

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[object]] | np.ndarray, project: str = "normalize",
                  name: str = "data") -> Dataset:
        """Validate and project rows of numbers (decimal strings, ints, Fractions or floats)."""
        if project not in PROJECTIONS:
            raise InputError(f"unknown projection {project!r}; choose from {', '.join(PROJECTIONS)}")
        if isinstance(rows, np.ndarray):
            if rows.ndim != 2:
                raise InputError(f"{name}: expected a 2-d array of points, got shape {rows.shape}")
            rows = rows.tolist()
        rows = list(rows)
        if not rows:
            raise InputError(f"{name}: no points")
        width = len(rows[0])
        if width == 0:
            raise InputError(f"{name}: points have no coordinates")
        points = []
        for i, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__len__"):
                raise InputError(f"{name}: row {i + 1} is not a list of coordinates")
            if len(row) != width:
                raise InputError(f"{name}: row {i + 1} has {len(row)} values, expected {width}")
            points.append(tuple(_exact_cell(v, f"{name} row {i + 1}") for v in row))
        projected = [_project(p, project, f"{name} row {i + 1}") for i, p in enumerate(points)]
        return cls(tuple(projected), project, name)

    def split(self, n_train: int, n_test: int | None = None) -> tuple[Dataset, Dataset]:
        """(training points, test points): the first ``n_train`` points, then the next ``n_test``
        (default: all the rest). The one train/test split of the package; points stay exact.

        >>> train, test = Dataset.from_rows([["1", "0"], ["0", "1"], ["0.6", "0.8"]]).split(2)
        >>> train.n, test.n, test.name
        (2, 1, 'data[2:3]')
        """
        stop = self.n if n_test is None else n_train + n_test
        if not 1 <= n_train < stop <= self.n:
            raise InputError(f"{self.name}: cannot split {self.n} points into {n_train} training and "
                             f"{stop - n_train} test points")
        return (Dataset(self.points[:n_train], self.project, f"{self.name}[:{n_train}]"),
                Dataset(self.points[n_train:stop], self.project, f"{self.name}[{n_train}:{stop}]"))

    @property
    def n(self) -> int:
        return len(self.points)

    @property
    def n0(self) -> int:
        """Input dimension after projection (stereographic adds one)."""
        return len(self.points[0])

    def pair(self, i: int, j: int) -> PairCorrelation:
        """The exact first-layer correlation key of points i and j."""
        from verify.data.pairs import pair_correlation  # pairs.py builds on Dataset

        return pair_correlation(self.points[i], self.points[j])

    def float_points(self) -> np.ndarray:
        """Best effort: the points in float64, normalized in float64 (for the float64 route)."""
        arr = np.array([[float(v) for v in p] for p in self.points], dtype=np.float64)
        return arr / np.linalg.norm(arr, axis=1, keepdims=True)


def _project(p: tuple[Fraction, ...], project: str, where: str) -> tuple[Fraction, ...]:
    norm2 = sum((v * v for v in p), Fraction(0))
    if project == "stereographic":
        denom = norm2 + 1
        return tuple(2 * v / denom for v in p) + ((norm2 - 1) / denom,)
    if norm2 == 0:
        raise InputError(f"{where}: zero vector has no direction (cannot lie on the sphere)")
    if project == "none" and abs(norm2 - 1) > SPHERE_TOLERANCE:
        raise InputError(
            f"{where}: point is not on the unit sphere (|x|^2 = {float(norm2):.6g}); "
            "use --project normalize or stereographic"
        )
    return p
