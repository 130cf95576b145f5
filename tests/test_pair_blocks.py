"""Certified arrays by blocks of rows (``arrays=True``, ``kernel --out FILE.npz``): the same
enclosures as the ball path, cell by cell, whatever the blocks and the pool."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verify import kernels_sweep
from verify.core import parallel
from verify.core.model import Model
from verify.kernel import pair_blocks
from verify.kernel.pair_blocks import row_blocks

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.28", "0.96"], ["-0.8", "0", "0.6"],
          ["0.48", "0.6", "0.64"], ["0", "0", "-1"], ["0.6", "0.8", "0"]]          # a repeated point
COLUMNS = [["0", "1", "0"], ["0.36", "0.48", "0.8"]]
ERF = Model.parse(activation="erf", sigma_w2="1.5", sigma_b2="0.1")


def _same_arrays(a: dict[str, list[Any]], b: dict[str, list[Any]]) -> None:
    for name in a:
        for ra, rb in zip(a[name], b[name], strict=True):
            x, y = ra.arrays(), rb.arrays()
            assert sorted(x) == sorted(y) == ["gap_mid", "gap_rad", "mid", "rad"]
            for key in x:
                assert np.array_equal(x[key], y[key]), (name, ra.depth, key)
            assert (ra.method, ra.working_precision_bits) == (rb.method, rb.working_precision_bits)


@pytest.mark.parametrize(("depths", "model", "columns"), [
    ([2, 40, 10**4], None, None),
    ([3, 10**5], None, COLUMNS),
    ([4, 30], ERF, None),
    ([5], ERF, COLUMNS),
])
def test_block_arrays_equal_the_ball_path(depths: list[int], model: Model | None, columns: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    balls = kernels_sweep(POINTS, depths, digits=30, model=model, columns=columns, progress=False)
    monkeypatch.setattr(parallel, "POOL_MIN_WORK", 0)          # the process pool, several blocks
    monkeypatch.setattr(pair_blocks, "BLOCK_PAIRS", 4)
    blocks = kernels_sweep(POINTS, depths, digits=30, model=model, columns=columns, progress=False, arrays=True)
    _same_arrays(balls, blocks)
    res = blocks["ntk"][0]
    assert res.distinct is None and res.enclosures is not None and res.route == "certified"
    if columns is None:                    # a Gram matrix: exact ones on the diagonal, symmetric
        z = res.arrays()
        assert np.all(np.diag(z["mid"]) == 1) and np.all(np.diag(z["rad"]) == 0)
        assert np.array_equal(z["mid"], z["mid"].T) and np.array_equal(z["gap_rad"], z["gap_rad"].T)


def test_json_of_block_arrays_encloses_the_balls() -> None:
    """The decimals of an arrays result still enclose the ball: mid as written, rad rounded up
    after the gap between the decimal and the double."""
    from fractions import Fraction

    balls = kernels_sweep(POINTS[:3], [7], digits=30, progress=False)["ntk"][0]
    blocks = kernels_sweep(POINTS[:3], [7], digits=30, progress=False, arrays=True)["ntk"][0]
    doc = blocks.to_json()
    for i in range(3):
        for j in range(3):
            ball, cell = balls.entries[i][j], doc["matrix"][i][j]
            lo = Fraction(cell["mid"]) - Fraction(cell["rad"])
            hi = Fraction(cell["mid"]) + Fraction(cell["rad"])
            assert lo <= ball.mid_fraction - ball.rad_fraction and ball.mid_fraction + ball.rad_fraction <= hi
            assert (float(cell["mid"]), float(ball.mid_fraction)) == (ball.float_enclosure()[0],) * 2


def test_row_blocks_cover_every_row_once() -> None:
    for n, m, symmetric, target in [(1, 1, True, 3), (10, 10, True, 7), (9, 4, False, 5), (50, 50, True, 2048)]:
        blocks = row_blocks(n, m, symmetric, target)
        assert [i for b in blocks for i in b] == list(range(n))
        sizes = [sum(m - (i + 1 if symmetric else 0) for i in b) for b in blocks]
        assert all(s >= target for s in sizes[:-1])
