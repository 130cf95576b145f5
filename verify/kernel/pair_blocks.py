"""Certified kernel matrices for thousands of points: blocks of rows in, float64 enclosures out.

A matrix of n points has n(n - 1)/2 pairs. Keeping a ball (a Python object) per pair, kernel
and depth, with the dictionary of exact keys that deduplicates them, costs about a kilobyte a
pair: 12 GB at n = 5000. Here a task is a block of consecutive rows: the worker forms the
block's exact first-layer keys (:func:`~verify.data.pairs.correlation_keys`, deduplicated within
the block), runs the certified pair function once per distinct key and returns, for every
cell, depth and kernel, the float64 enclosures (:meth:`~verify.core.balls.Ball.float_enclosure`) of the entry and of
its gap ``1 - entry``: 32 bytes a cell and kernel, no Python object per entry. The parent writes
them into preallocated matrices as the blocks arrive (:func:`~verify.core.parallel.run_tasks`
with ``consume``) and keeps nothing else.

Each pair's balls are those of the one-pair path: a pair's precision loop does not look at the
other pairs, so the arrays equal ``KernelResult.arrays()`` of the same sweep (a test holds this).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from verify.core.balls import Ball, dyadic_float_enclosure
from verify.core.parallel import run_tasks
from verify.data.dataset import Dataset
from verify.data.pairs import PairCorrelation, correlation_keys, integer_points, key_correlation

# What a pair function returns: the gap balls (1 - entry) per depth, one per kernel; its working
# precision in bits; its method per depth.
PairGaps = tuple[list[tuple[Ball, ...]], int, list[str]]
PairFunction = Callable[[PairCorrelation], PairGaps]

BLOCK_PAIRS = 2048      # cells a task holds, about: one message and one float64 array a block
PARTS = 4               # entry mid, entry rad, gap mid, gap rad


def float_enclosure_one_minus(ball: Ball) -> tuple[float, float]:
    """The float enclosure of ``ball.one_minus()`` without making that ball
    (:func:`~verify.core.balls.dyadic_float_enclosure` depends on the values only).

    >>> b = Ball(3, -70, 1, -75)
    >>> float_enclosure_one_minus(b) == b.one_minus().float_enclosure()
    True
    """
    man, exp = ball.man, ball.exp
    if exp >= 0:
        return dyadic_float_enclosure(1 - (man << exp), 0, ball.rad_man, ball.rad_exp)
    return dyadic_float_enclosure((1 << -exp) - man, exp, ball.rad_man, ball.rad_exp)


def float_enclosures(balls: Sequence[Ball]) -> tuple[np.ndarray, np.ndarray]:
    """(mids, rads): :meth:`~verify.core.balls.Ball.float_enclosure` of every ball, as float64 arrays."""
    mids = np.empty(len(balls))
    rads = np.empty(len(balls))
    for u, value in enumerate(balls):
        mids[u], rads[u] = value.float_enclosure()
    return mids, rads


@dataclass
class BlockEnclosures:
    """What a block task returns: ``values[depth, kernel, part, cell]`` (parts: entry mid and rad,
    gap mid and rad) over the block's cells in row order, the largest working precision and the
    count of each method per depth."""

    values: np.ndarray
    bits: int
    methods: list[Counter[str]]


@dataclass
class MatrixEnclosures:
    """Certified float64 enclosures of whole matrices: ``values[kernel, part, depth]`` is n x m
    (parts as :class:`BlockEnclosures`); ``bits`` the largest working precision of any pair;
    ``methods[depth]`` how many pairs each method served."""

    values: np.ndarray
    bits: int
    methods: list[Counter[str]]

    def arrays(self, kernel: int, depth: int) -> dict[str, np.ndarray]:
        """``mid``, ``rad``, ``gap_mid``, ``gap_rad`` of one kernel and depth (views, n x m)."""
        return dict(zip(("mid", "rad", "gap_mid", "gap_rad"), self.values[kernel, :, depth], strict=True))


def row_blocks(n: int, m: int, symmetric: bool, target: int = BLOCK_PAIRS) -> list[range]:
    """Consecutive rows holding about ``target`` cells each (cells right of the diagonal when ``symmetric``).

    >>> [len(b) for b in row_blocks(6, 6, True, target=5)]
    [1, 2, 3]
    >>> row_blocks(0, 3, False)
    []
    """
    blocks: list[range] = []
    start = size = 0
    for i in range(n):
        size += m - (i + 1 if symmetric else 0)
        if size >= target or i == n - 1:
            blocks.append(range(start, i + 1))
            start, size = i + 1, 0
    return blocks


def block_enclosures(rows: Sequence[tuple[int, ...]], row_norms: Sequence[int], first_row: int,
                     cols: Sequence[tuple[int, ...]], col_norms: Sequence[int], symmetric: bool,
                     shape: tuple[int, int], pair_gaps: PairFunction) -> BlockEnclosures:
    """The float64 enclosures of a block of rows (integer coordinates, :func:`integer_points`).

    ``rows[k]`` is row ``first_row + k``; with ``symmetric`` only the cells right of the diagonal.
    ``shape`` is (depths, kernels) of what ``pair_gaps`` returns.
    """
    keys = [key for k, (a, na) in enumerate(zip(rows, row_norms, strict=True))
            for key in correlation_keys(a, na, *_columns(cols, col_norms, first_row + k, symmetric))]
    distinct: dict[tuple[int, int, int], int] = {}
    cell_of = np.array([distinct.setdefault(key, len(distinct)) for key in keys], dtype=np.int64)
    found: list[tuple[float, ...]] = []          # per key: (entry mid, rad, gap mid, rad) per depth and kernel
    bits = 0
    methods: list[Counter[str]] = [Counter() for _ in range(shape[0])]
    for key in distinct:
        gaps, pair_bits, pair_methods = pair_gaps(key_correlation(key))
        bits = max(bits, pair_bits)
        for counts, method in zip(methods, pair_methods, strict=True):
            counts[method] += 1
        found.append(tuple(x for row in gaps for gap in row
                           for x in (*float_enclosure_one_minus(gap), *gap.float_enclosure())))
    per_key = np.array(found, dtype=np.float64).reshape(len(distinct), *shape, PARTS)
    return BlockEnclosures(np.moveaxis(per_key, 0, -1)[..., cell_of], bits, methods)


def _columns(cols: Sequence[tuple[int, ...]], col_norms: Sequence[int], row: int,
             symmetric: bool) -> tuple[Sequence[tuple[int, ...]], Sequence[int]]:
    start = row + 1 if symmetric else 0
    return cols[start:], col_norms[start:]


def matrix_enclosures(rows: Dataset, cols: Dataset, symmetric: bool, shape: tuple[int, int],
                      pair_gaps: PairFunction, *, progress: bool | None = None, scheduler: object = None,
                      cost: int = 1) -> MatrixEnclosures:
    """Certified float64 enclosures of every cell, by blocks of rows on all cores (or a Dask cluster).

    ``shape`` is (depths, kernels) of what ``pair_gaps`` returns for one pair; ``cost`` a rough
    size of one pair (steps) for :func:`~verify.core.parallel.run_tasks`. A symmetric result
    has exactly 1 on the diagonal (radius 0) and its lower triangle mirrors the upper one.

    Memory: the result (32 bytes a cell, depth and kernel) and a block's arrays at a time.
    """
    depths, kernels = shape
    n, m = rows.n, cols.n
    values = np.empty((kernels, PARTS, depths, n, m))
    a_int, a_norm = integer_points(rows)
    b_int, b_norm = (a_int, a_norm) if symmetric else integer_points(cols)
    blocks = row_blocks(n, m, symmetric, BLOCK_PAIRS)
    tasks = [(a_int[b.start:b.stop], a_norm[b.start:b.stop], b.start, b_int, b_norm, symmetric, shape, pair_gaps)
             for b in blocks]
    found = MatrixEnclosures(values, 0, [Counter() for _ in range(depths)])

    def place(position: int, block: BlockEnclosures) -> None:
        pos = 0
        for i in blocks[position]:
            start = i + 1 if symmetric else 0
            cells = block.values[..., pos:pos + m - start].transpose(1, 2, 0, 3)    # kernel, part, depth, cell
            values[:, :, :, i, start:] = cells
            if symmetric:
                values[:, :, :, start:, i] = cells
            pos += m - start
        found.bits = max(found.bits, block.bits)
        for total, counts in zip(found.methods, block.methods, strict=True):
            total.update(counts)

    run_tasks(block_enclosures, tasks, progress=progress, label=f"blocks of ~{BLOCK_PAIRS} pairs", scheduler=scheduler,
              cost=cost * BLOCK_PAIRS, consume=place, batch_max=1)
    if symmetric:
        diagonal = np.arange(n)
        values[:, :, :, diagonal, diagonal] = np.array([1.0, 0.0, 0.0, 0.0])[:, None, None]
    return found
