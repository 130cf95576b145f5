"""Both kernels from one pass: the same enclosures' quality as two separate sweeps, at half the recursions.

References are independent of the code under test: the plain mpmath route (its own
recursion, recursion_plain.py) at twice the digits must lie inside every certified ball.
"""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import pytest

from verify import kernel_sweep, kernels_sweep
from verify.cli import main
from verify.kernel import routes

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.28", "0.96"], ["-0.8", "0", "0.6"]]


REF_ERROR = Fraction(1, 10**45)      # the plain mpmath reference runs at 50 digits (best effort, no bound)


def _inside(ball, value: mpmath.mpf) -> bool:
    mid, rad = ball.mid_fraction, ball.rad_fraction + REF_ERROR
    man, exp = value.man_exp                   # exact (no rounding); man_exp drops the sign
    man = -abs(man) if value < 0 else man
    exact = Fraction(man) * Fraction(2) ** exp
    return mid - rad <= exact <= mid + rad


@pytest.mark.parametrize(("route", "depths"), [("certified-direct", [1, 3, 50]), ("certified", [7, 2000, 10**6])])
def test_one_pass_encloses_the_mpmath_reference(route: str, depths: list[int]) -> None:
    both = kernels_sweep(POINTS, depths, digits=25, route=route)
    ref_depths = [d for d in depths if d <= 10**4]
    for name in ("nngp", "ntk"):
        refs = kernel_sweep(POINTS, ref_depths, kernel=name, digits=50, route="mpmath")
        for res, ref in zip(both[name], refs, strict=False):
            assert res.kernel == name and res.depth == ref.depth
            for i in range(4):
                for j in range(4):
                    assert _inside(res.entries[i][j], ref.entries[i][j]), (name, res.depth, i, j)
                    assert res.entries[i][j].correct_digits() >= 25


def test_one_pass_agrees_with_separate_sweeps_at_any_depth() -> None:
    both = kernels_sweep(POINTS, [10**15], digits=20)
    for name in ("nngp", "ntk"):
        alone = kernel_sweep(POINTS, [10**15], kernel=name, digits=20)[0]
        for i in range(4):
            for j in range(4):
                a, b = both[name][0].entries[i][j], alone.entries[i][j]
                assert abs(a.mid_fraction - b.mid_fraction) <= a.rad_fraction + b.rad_fraction


def test_one_recursion_per_distinct_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = routes.certified_pair_sweep

    def counting(pair, depths, kernel, bits, schedule):  # type: ignore[no-untyped-def]
        calls.append(kernel)
        return real(pair, depths, kernel, bits, schedule)

    monkeypatch.setattr(routes, "certified_pair_sweep", counting)
    kernels_sweep(POINTS, [5], digits=15, route="certified-direct")
    both_calls = len(calls)
    calls.clear()
    for name in ("nngp", "ntk"):
        kernel_sweep(POINTS, [5], kernel=name, digits=15, route="certified-direct")
    assert both_calls == 6 and len(calls) == 12          # 6 distinct pairs: one pass instead of two


def test_cli_kernel_both(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kernel", "--data", "builtin:sphere-3", "--depth", "10", "--kernel", "both",
                 "--format", "json", "--quiet"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kernel"] == "both"
    assert payload["nngp"]["kernel"] == "nngp" and payload["ntk"]["kernel"] == "ntk"
    assert payload["nngp"]["matrix"][0][1]["mid"] != payload["ntk"]["matrix"][0][1]["mid"]


@pytest.mark.parametrize("model", [None, "erf"])
def test_float64_one_pass_agrees_with_the_certified_kernels(model: str | None) -> None:
    """The float64 route's both-kernel pass (one recursion) against certified balls (best effort: 1e-12)."""
    from verify import Model

    net = Model.parse(activation=model, sigma_w2="1.5") if model else None
    depths = [1, 5, 20]
    fast = kernels_sweep(POINTS, depths, route="float64", model=net)
    exact = kernels_sweep(POINTS, depths, digits=20, model=net)
    for name in ("nngp", "ntk"):
        for f, c in zip(fast[name], exact[name], strict=True):
            assert f.kernel == c.kernel == name and f.depth == c.depth
            assert abs(f.mid_array() - c.mid_array()).max() < 1e-12
