"""Singular and near-singular training sets: exact diagnoses, and the three invertibility regimes checked."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st
from linalg_reference import assert_inside, kernel_matrices, lu_closed_form

from verify import kernel_matrix
from verify.cli import main
from verify.closed_form import solve
from verify.conditioning import arb_from_gaps, conditioning_sweep
from verify.dataset import Dataset
from verify.errors import SingularKernelError
from verify.params import Parameterization
from verify.singularity import diagnose, regime_of

TEST = Dataset.from_rows([["0.2", "0.3", "0.9"]])
R3 = [["1", "0"], ["0", "1"], ["-1", "0"], ["0", "-1"], ["1", "1"], ["-1", "-1"]]  # 3 pairs in R^2
R2 = [["1", "0", "0"], ["-1", "0", "0"], ["0", "1", "0"], ["0", "-1", "0"], ["1", "1", "1"],
      ["-1", "-1", "-1"]]                                                          # 3 pairs in R^3


def _labels(n: int) -> list[list[str]]:
    return [[str(i % 3 - 1)] for i in range(n)]


def _det_sign_certified(data: Dataset, depth: int, kernel: str = "nngp",
                        param: Parameterization | None = None) -> bool:
    """True if the certified determinant of the engine's kernel ball matrix excludes 0."""
    k = kernel_matrix(data, depth, kernel, 25, relative_gap=True, param=param, progress=False)
    with ctx.workprec(200):
        det = arb_from_gaps(k.gaps).det()
    return not det.contains(0) and det > 0


def test_coinciding_points_are_diagnosed() -> None:
    data = Dataset.from_rows([["1", "0", "0"], ["0", "1", "0"], ["0", "0", "1"], ["2", "0", "0"]])
    for depth in (1, 2, 10):
        with pytest.raises(SingularKernelError, match="training points 1 and 4 coincide"):
            solve(data, _labels(4), TEST, depth, "ntk", 15)
    c = conditioning_sweep(data, [1, 5], "nngp", 15, progress=False)
    assert all(x.singular and x.det.mid_fraction == 0 for x in c)


def test_depth_one_rank_deficiency() -> None:
    many = Dataset.from_rows([["1", "0"], ["0", "1"], ["0.6", "0.8"]])
    with pytest.raises(SingularKernelError, match=r"rank 2 < 3 \(3 points in dimension 2\)"):
        solve(many, _labels(3), Dataset.from_rows([["1", "1"]]), 1, "nngp", 15)
    dependent = Dataset.from_rows([["1", "0", "0"], ["0", "1", "0"], ["1", "1", "0"]])
    diag = diagnose(dependent, 1)
    assert diag.singular and "training points 1, 2, 3 are linearly dependent" in diag.message
    assert not diagnose(dependent, 2).singular          # R1: invertible from depth 2 on
    assert _det_sign_certified(dependent, 2)


def test_antipodal_pair() -> None:
    """x' = -x: singular at depth 1 (dependent), regime R2 and invertible for every L >= 2."""
    data = Dataset.from_rows([["1", "2", "2"], ["-1", "-2", "-2"], ["0", "1", "0"]])
    assert regime_of(data).name == "R2"
    with pytest.raises(SingularKernelError, match="linearly dependent"):
        solve(data, _labels(3), TEST, 1, "nngp", 15)
    for depth in (2, 3, 50):
        s = solve(data, _labels(3), TEST, depth, "nngp", 15)
        ref_g = kernel_matrices(data.points, data.points, [depth], "nngp", 40)[depth]
        ref_c = kernel_matrices(TEST.points, data.points, [depth], "nngp", 40)[depth]
        w_ref, _ = lu_closed_form(ref_g, ref_c, [[Fraction(v[0])] for v in _labels(3)], 30)
        assert_inside(s.weights, w_ref, Fraction(1, 10**26), "W")


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_regime_r3_singular_at_depth_two_only(kernel: str) -> None:
    """3 antipodal pairs in R^2: kappa u = 0 at L = 2 (certificate checked in Arb), det > 0 at L = 3."""
    data = Dataset.from_rows(R3)
    reg = regime_of(data)
    assert (reg.name, reg.antipodal_rank, reg.first_invertible_depth) == ("R3", 2, 3)
    diag = diagnose(data, 2)
    assert diag.singular and "odd part of the kernel is linear" in diag.message
    k = kernel_matrix(data, 2, kernel, 30, progress=False)
    with ctx.workprec(200):
        u = diag.null_vector_arb(data.n)
        ku = arb_from_gaps(k.gaps) * arb_mat_column(u)
        assert all(ku[i, 0].contains(0) for i in range(data.n))
        assert max(abs(x.mid()) for x in u) > 0.5
    ref = kernel_matrices(data.points, data.points, [2], kernel, 50)[2]
    with mpmath.workdps(50):
        assert abs(mpmath.det(ref)) < mpmath.mpf(10) ** -45        # independent: det = 0
    with pytest.raises(SingularKernelError, match="depth 2"):
        solve(data, _labels(6), Dataset.from_rows([["0.6", "0.8"]]), 2, kernel, 15)
    assert _det_sign_certified(data, 3, kernel)
    c = conditioning_sweep(data, [3, 100], kernel, 15, progress=False)
    assert all(x.lambda_min.mid_fraction > x.lambda_min.rad_fraction for x in c)


def arb_mat_column(values: list[arb]) -> arb_mat:
    col = arb_mat(len(values), 1)
    for i, v in enumerate(values):
        col[i, 0] = v
    return col


def test_regime_r2_and_bias() -> None:
    """3 antipodal pairs with independent directions in R^3: invertible at L = 2 (R2).
    With a bias even R3 is invertible at L = 2 (every Taylor coefficient is positive)."""
    assert regime_of(Dataset.from_rows(R2)).name == "R2"
    assert _det_sign_certified(Dataset.from_rows(R2), 2)
    bias = Parameterization(sigma_b2="0.1")
    data = Dataset.from_rows(R3)
    assert diagnose(data, 2, bias).status == "invertible"
    assert _det_sign_certified(data, 2, "nngp", bias)
    assert diagnose(data, 1, bias).singular              # 6 points > n0 + 1 = 3


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)).filter(lambda p: p != (0, 0)),
                min_size=2, max_size=4, unique=True),
       st.booleans())
def test_regimes_predict_the_certified_determinant(points, mirror) -> None:
    """Random integer points in R^2 (with their mirror images when ``mirror``): the exact regime
    predicts singular / invertible at L = 2 and L = 3; the certified det agrees."""
    rows = [list(p) for p in points] + ([[-a, -b] for a, b in points] if mirror else [])
    data = Dataset.from_rows(rows)
    for depth in (2, 3):
        diag = diagnose(data, depth)
        if diag.singular:
            k = kernel_matrix(data, depth, "nngp", 25, progress=False)
            with ctx.workprec(200):
                ku = arb_from_gaps(k.gaps) * arb_mat_column(diag.null_vector_arb(data.n))
                assert all(ku[i, 0].contains(0) for i in range(data.n))
        else:
            assert _det_sign_certified(data, depth)


def test_near_coinciding_points_are_solved_not_refused() -> None:
    """Points 1e-30 apart: invertible, very ill-conditioned; the certified solve pays in precision."""
    data = Dataset.from_rows([["1", "0", "0"], ["1", "1e-30", "0"], ["0", "1", "0"],
                              ["0.3", "0.4", "0.5"]])
    assert diagnose(data, 3).status == "invertible"
    s = solve(data, _labels(4), TEST, 3, "nngp", 15)
    assert s.digits_lost > 50
    ref_g = kernel_matrices(data.points, data.points, [3], "nngp", 140)[3]
    ref_c = kernel_matrices(TEST.points, data.points, [3], "nngp", 140)[3]
    w_ref, _ = lu_closed_form(ref_g, ref_c, [[Fraction(v[0])] for v in _labels(4)], 130)
    assert_inside(s.weights, w_ref, Fraction(1, 10**40), "W")


def test_cli_singular_exit_2(tmp_path, capsys) -> None:
    (tmp_path / "x.csv").write_text("1,0,0\n0,1,0\n0,0,1\n0,2,0\n")
    (tmp_path / "y.csv").write_text("1\n2\n3\n4\n")
    (tmp_path / "z.csv").write_text("1,1,1\n")
    code = main(["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "y.csv"),
                 "--test", str(tmp_path / "z.csv"), "--depth", "5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "ntk-verify: error: kappa is singular: training points 2 and 4 coincide"
