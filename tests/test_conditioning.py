"""Certified det, log10|det|, spectrum and cond_2 against mpmath at twice the digits; float64 breakdown."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from linalg_reference import assert_inside, exact, kernel_matrices

from verify.cli import main
from verify.conditioning import conditioning_sweep
from verify.dataset import Dataset
from verify.float64_linalg import breakdown_depth, float64_grams
from verify.sources import load_dataset

POINTS = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.6", "0.8"], ["0.3", "-0.4", "0.5"],
          ["-0.2", "0.1", "0.9"]]
D = 20
X = Dataset.from_rows(POINTS)


def _inside(ball, value: mpmath.mpf, slack: Fraction) -> bool:
    return abs(exact(value) - ball.mid_fraction) <= ball.rad_fraction + slack


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_det_spectrum_and_cond_contain_mpmath(kernel: str) -> None:
    depths = [10, 1000]
    conds = conditioning_sweep(X, depths, kernel, D, progress=False)
    refs = kernel_matrices(X.points, X.points, depths, kernel, 2 * D + 10)
    for c in conds:
        with mpmath.workdps(2 * D):
            a = refs[c.depth]
            det = mpmath.det(a)
            ev, _ = mpmath.eigsy(a)
            ev = sorted(ev[i] for i in range(a.rows))
            cond = ev[-1] / ev[0]
            log10det = mpmath.log10(det)
        slack = abs(exact(det)) / 10**(2 * D - 8)
        assert _inside(c.det, det, slack), (c.depth, c.det.to_json(30), det)
        assert _inside(c.log10_abs_det, log10det, Fraction(1, 10**(2 * D - 8)))
        assert_inside([c.eigenvalues], [ev], Fraction(1, 10**(2 * D - 8)), "eigenvalues")
        assert _inside(c.condition_number, cond, abs(exact(cond)) / 10**(2 * D - 8))
        assert c.det.relative_digits() >= D and c.lambda_min.relative_digits() >= D
        assert c.diagnosis.status == "invertible"


def test_multiple_eigenvalues_are_enclosed() -> None:
    """e1, e2, e3 at depth 3: kappa = (1 - c) I + c J has a double eigenvalue (cluster algorithm)."""
    data = Dataset.from_rows([["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"]])
    c = conditioning_sweep(data, [3], "nngp", D, progress=False)[0]
    ref = kernel_matrices(data.points, data.points, [3], "nngp", 2 * D + 10)[3]
    with mpmath.workdps(2 * D + 10):
        off = ref[0, 1]
        expected = [1 - off, 1 - off, 1 + 2 * off]
    assert_inside([c.eigenvalues], [expected], Fraction(1, 10**(2 * D)), "eigenvalues")


def test_raw_det_below_float64_range() -> None:
    """8 points, NNGP, depth 10^3: log10|det| of the raw kernel is about -2440, enclosed; float64 gives 0."""
    data = load_dataset("builtin:sphere-8")
    depth = 1000
    c = conditioning_sweep(data, [depth], "nngp", D, progress=False)[0]
    assert c.log10_abs_det_raw.mid_fraction < -308 and c.log10_abs_det_raw.correct_digits() >= D
    ref = kernel_matrices(data.points, data.points, [depth], "nngp", 2 * D + 10)[depth]
    with mpmath.workdps(2 * D):
        raw = ref * (mpmath.mpf(2) ** (1 - depth) / data.n0)     # Sigma^(L)(x,x) = 1/(n0 2^(L-1))
        ref_log = mpmath.log10(mpmath.det(raw))
    assert _inside(c.log10_abs_det_raw, ref_log, Fraction(1, 10**(2 * D - 8)))
    gram64 = float64_grams(data, [depth], "nngp")[depth]
    assert np.linalg.det(gram64 * (2.0 ** (1 - depth) / data.n0)) == 0.0   # underflow


@pytest.mark.slow
def test_twenty_points_nngp_depth_1e6() -> None:
    """sphere-20, NNGP, L = 10^6: det ~ 4e-196 and log10|det| enclosed to D digits, close to the
    flat-limit asymptote n a^(n-1), a = 9 pi^2 / (2 L^2); float64's det is off by orders of magnitude;
    the raw kernel's det (log10 ~ -6.0e6) is far below float64's range."""
    data, depth = load_dataset("builtin:sphere-20"), 10**6
    c = conditioning_sweep(data, [depth], "nngp", D, progress=False)[0]
    assert c.det.relative_digits() >= D and c.log10_abs_det.correct_digits() >= D
    with mpmath.workdps(30):
        a = 9 * mpmath.pi**2 / (2 * mpmath.mpf(depth) ** 2)
        asymptote = mpmath.log10(data.n * a ** (data.n - 1))
    assert abs(float(c.log10_abs_det.mid_fraction) - float(asymptote)) < 0.01
    assert abs(float(c.lambda_min.mid_fraction) / float(a) - 1) < 0.01
    assert c.log10_abs_det_raw.mid_fraction < -6 * 10**6
    det64 = np.linalg.det(float64_grams(data, [depth], "nngp")[depth])
    assert abs(det64 / float(c.det.mid_fraction) - 1) > 1      # float64: wrong, not just inexact


def test_breakdown_depth_of_near_duplicates() -> None:
    """Two training points 1e-9 apart: float64 kernels see them as one, W breaks at once (depth 2)."""
    pts = [["1", "0", "0"], ["1", "1e-9", "0"], ["0", "1", "0"], ["0.3", "0.4", "0.5"],
           ["0", "0", "1"], ["-0.5", "0.5", "0.5"]]
    out = breakdown_depth(Dataset.from_rows(pts), "nngp", max_depth=20, progress=False)
    assert out["breakdown_depth"] == 2, out
    benign = breakdown_depth(load_dataset("builtin:sphere-6"), "nngp", max_depth=100, progress=False)
    assert benign["breakdown_depth"] is None
    assert all(e["weights_relative_error"] < 1e-6 for e in benign["errors"].values())


def test_cli_condition_json(capsys) -> None:
    code = main(["condition", "--data", "builtin:sphere-6", "--depths", "1,10,100", "--kernel",
                 "nngp", "--digits", "15", "--format", "json", "--quiet"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    first, rest = out["depths"][0], out["depths"][1:]
    assert first["singular"] and "rank 3 < 6" in first["diagnosis"]
    for row in rest:
        for key in ("det", "log10_abs_det", "lambda_min", "lambda_max", "condition_number"):
            assert set(row[key]) == {"mid", "rad"}
        assert row["float64"]["relative_error"]["det"] < 1e-8
    assert out["breakdown"]["breakdown_depth"] is None
    assert main(["condition", "--data", "builtin:sphere-6", "--depths", "0"]) == 2
