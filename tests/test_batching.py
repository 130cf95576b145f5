"""Batched sweeps and their fast helpers give exactly what the one-pair path gives.

Pairs travel to workers in batches (verify.core.parallel.batches) and the series route
sets its constants up once per process; none of that may change a single bit of a
ball. The references here are the one-pair-at-a-time sweeps (each pair alone, in this
process) and, for the integer helpers, Ball's own Fraction-based methods.
"""

from __future__ import annotations

import json
import math
import random
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from flint import arb, ctx

from verify import kernels_sweep
from verify.core import parallel
from verify.core.balls import Ball
from verify.core.errors import InputError
from verify.core.precision import meets_digits
from verify.kernel.asymptotic import bounds, exact_cache
from verify.kernel.pair_blocks import float_enclosure_one_minus

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.28", "0.96"], ["-0.8", "0", "0.6"],
          ["0.48", "0.6", "0.64"], ["0", "0", "-1"]]


@pytest.mark.parametrize(("route", "depths"), [("certified", [3, 1000, 10**4, 10**5]),
                                               ("certified-direct", [1, 7, 60])])
def test_batched_pool_sweep_equals_one_pair_at_a_time(route: str, depths: list[int],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "POOL_MIN_WORK", 0)            # force the process pool
    monkeypatch.setattr(parallel, "BATCHES_PER_WORKER", 2)       # batches of several pairs
    assert parallel.pool_size(15, 1, 2) == 2 and len(parallel.batches(15, 2)[0]) > 1
    batched = kernels_sweep(POINTS, depths, digits=30, route=route)
    for i in range(len(POINTS)):
        for j in range(i + 1, len(POINTS)):
            alone = kernels_sweep([POINTS[i], POINTS[j]], depths, digits=30, route=route)
            for name in ("nngp", "ntk"):
                for res, ref in zip(batched[name], alone[name], strict=True):
                    assert res.entries[i][j] == res.entries[j][i] == ref.entries[0][1], (name, res.depth, i, j)
                    assert res.gaps[i][j] == ref.gaps[0][1]
                    assert res.working_precision_bits >= ref.working_precision_bits


def _random_balls(count: int, seed: int) -> list[Ball]:
    rng = random.Random(seed)
    out = [Ball(0, 0, 0, 0), Ball(1, 0, 0, 0), Ball(-3, 5, 1, -2), Ball(1, -1100, 1, -1200)]
    for _ in range(count):
        man = rng.choice([-1, 1]) * rng.randrange(0, 2 ** rng.randrange(1, 160))
        out.append(Ball(man, rng.randrange(-300, 30), rng.randrange(0, 2**30), rng.randrange(-420, 0)))
    return out


def _one_minus_by_fractions(ball: Ball) -> Ball:
    """1 - mid as a reduced Fraction (the reference for Ball.one_minus's integer arithmetic)."""
    value = 1 - Fraction(ball.man) * Fraction(2) ** ball.exp
    return Ball(value.numerator, -(value.denominator.bit_length() - 1), ball.rad_man, ball.rad_exp)


def _float_enclosure_by_fractions(ball: Ball) -> tuple[float, float]:
    """The reference for Ball.float_enclosure's integer arithmetic: m = float(mid) (Fraction's float
    rounds correctly), r = rad + |mid - m| rounded to nearest, moved up one ulp if below."""
    mid = ball.mid_fraction
    m = float(mid)
    err = ball.rad_fraction + abs(mid - Fraction(m))
    r = float(err)
    return m, (math.nextafter(r, math.inf) if Fraction(r) < err else r)


def test_integer_helpers_equal_the_fraction_methods() -> None:
    for ball in _random_balls(20_000, 7):
        assert ball.one_minus() == _one_minus_by_fractions(ball)
        assert ball.float_enclosure() == _float_enclosure_by_fractions(ball)
        assert float_enclosure_one_minus(ball) == _float_enclosure_by_fractions(_one_minus_by_fractions(ball))
        for digits in (1, 17, 30, 45):
            assert meets_digits(ball, digits) == (ball.correct_digits() >= digits)
            assert meets_digits(ball, digits, relative=True) == (ball.relative_digits() >= digits)


def test_float_enclosures_of_a_large_result_cover_every_ball() -> None:
    res = kernels_sweep(POINTS, [10**4], digits=30)["ntk"][0]
    arrays = res.arrays()
    for i in range(len(POINTS)):
        for j in range(len(POINTS)):
            for key, ball in (("", res.entries[i][j]), ("gap_", res.gaps[i][j])):
                assert (arrays[f"{key}mid"][i, j], arrays[f"{key}rad"][i, j]) == ball.float_enclosure()


def test_disk_cache_returns_the_computed_circle_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached circle maximum is read back bit for bit, and only under the same key."""
    monkeypatch.setenv("NTK_VERIFY_CACHE_DIR", str(tmp_path))
    args = (12, 0.5, 16, 96)
    fresh = bounds._circle_maxima(*args)
    bounds.circle_bounds.cache_clear()
    try:
        first = bounds.circle_bounds(*args)
        files = list(tmp_path.glob("circle-bounds-*.json"))
        assert len(files) == 1
        bounds.circle_bounds.cache_clear()
        calls: list[int] = []
        monkeypatch.setattr(bounds, "_circle_maxima", lambda *a: calls.append(1) or fresh)
        again = bounds.circle_bounds(*args)
        assert calls == []                                   # read from the file, not recomputed
        for a, b, c in zip((first.m_a, first.m_b, first.m_h, first.m_h1, first.max_kq),
                           (again.m_a, again.m_b, again.m_h, again.m_h1, again.max_kq), fresh, strict=True):
            assert a.mid().man_exp() == b.mid().man_exp() == c.mid().man_exp() and b.rad() == 0
        # another code fingerprint (an edited module): the file is not used
        data = json.loads(files[0].read_text())
        data["key"]["code"] = "0" * 64
        files[0].write_text(json.dumps(data))
        bounds.circle_bounds.cache_clear()
        bounds.circle_bounds(*args)
        assert calls == [1]
    finally:
        bounds.circle_bounds.cache_clear()


def test_cache_refuses_balls_with_a_radius() -> None:
    with ctx.workprec(64), pytest.raises(ValueError):
        exact_cache.encode_exact([arb(1) / 3])


def test_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NTK_VERIFY_CACHE_DIR", "off")
    assert exact_cache.cache_dir() is None
    assert exact_cache.cached_exact("x", {"k": 1}, lambda: [arb(2)]) == [arb(2)]


def test_scheduler_without_dask_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)         # as if the extra were not installed
    with pytest.raises(InputError, match=r"pip install 'ntk-verify\[cluster\]'"):
        kernels_sweep(POINTS[:2], [3], scheduler="tcp://127.0.0.1:8786")


@pytest.mark.parametrize("min_work", [10**9, 0])          # in-process, then the process pool
def test_run_tasks_hands_each_result_to_a_consumer_once(min_work: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "POOL_MIN_WORK", min_work)
    got: dict[int, int] = {}

    def keep(position: int, value: int) -> None:
        assert position not in got
        got[position] = value

    out = parallel.run_tasks(pow, [(k, 2) for k in range(50)], consume=keep, processes=2, batch_max=1)
    assert out == [] and got == {k: k * k for k in range(50)}
    assert [len(b) for b in parallel.batches(50, 2, most=1)] == [1] * 50
