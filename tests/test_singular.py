"""Singular and near-singular training sets: exact diagnoses, and the three invertibility regimes checked."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import pytest
import sympy
from flint import arb, arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st
from linalg_reference import assert_inside, cosine, exact, kernel_matrices, lu_closed_form

from proofs_checks.invertibility import _null_residual
from verify import Ball, kernel_matrix
from verify.cli import main
from verify.core.errors import SingularKernelError
from verify.core.params import Parameterization
from verify.data.dataset import Dataset
from verify.linalg.closed_form import solve
from verify.linalg.conditioning import arb_from_gaps, conditioning_sweep
from verify.linalg.null_certificate import rayleigh_bound
from verify.linalg.singularity import diagnose, regime_of

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
        det = arb_from_gaps(k.gaps, prec=200).det()
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
        u = diag.null_vector_arb(data.n, prec=200)
        ku = arb_from_gaps(k.gaps, prec=200) * arb_mat_column(u)
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
                ku = arb_from_gaps(k.gaps, prec=200) * arb_mat_column(diag.null_vector_arb(data.n, prec=200))
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


def _biased_depth_two_nngp(data: Dataset, sigma_b2: Fraction, dps: int) -> mpmath.matrix:
    """Depth-2 NNGP correlation with a bias, by hand from the layer rules (params.py): on the sphere
    q1 = 1/n0 + b, rho1 = (t/n0 + b) / q1, rho2 = (q1 h(rho1) / 2 + b) / (q1 / 2 + b)."""
    n0 = data.n0
    with mpmath.workdps(dps):
        b = mpmath.mpf(sigma_b2.numerator) / sigma_b2.denominator
        q1 = mpmath.mpf(1) / n0 + b
        out = mpmath.matrix(data.n, data.n)
        for i, x in enumerate(data.points):
            for j, y in enumerate(data.points):
                t = cosine(x, y)
                rho1 = (t / n0 + b) / q1
                h = (mpmath.sqrt(max(0, 1 - rho1**2)) + rho1 * (mpmath.pi - mpmath.acos(rho1))) / mpmath.pi
                out[i, j] = (q1 * h / 2 + b) / (q1 / 2 + b)
        return out


def test_bias_regime_is_stated_for_the_model(tmp_path, capsys) -> None:
    """Issue 10: with sigma_b^2 = 0.1 the R3 set (dependent antipodal pairs) is invertible at L = 2,
    and the regime text must say so (not 'singular at L = 2'). Independent: the hand-built biased
    kernel's det (mpmath) is > 0 and lies in the certified enclosure."""
    data, b = Dataset.from_rows(R3), Fraction(1, 10)
    bias = Parameterization(sigma_b2="0.1")
    plain, biased = regime_of(data), regime_of(data, bias)
    assert plain.name == biased.name == "R3"
    assert "singular at L = 2" in plain.describe() and plain.first_invertible_depth == 3
    assert "singular" not in biased.describe() and "bias" in biased.describe()
    assert biased.first_invertible_depth == 2
    assert _det_sign_certified(data, 2, "ntk", bias)                      # the NTK too (Schur product)
    assert "singular" not in diagnose(data, 2, bias).to_json()["regime_meaning"]
    with mpmath.workdps(40):
        det = mpmath.det(_biased_depth_two_nngp(data, b, 40))
    assert det > mpmath.mpf("1e-4")
    c = conditioning_sweep(data, [2], "nngp", 15, param=bias, progress=False)[0]
    assert abs(exact(det) - c.det.mid_fraction) <= c.det.rad_fraction + Fraction(1, 10**35)
    code = main(["condition", "--data", "builtin:sphere-5", "--depths", "2", "--quiet", "--format", "json"])
    assert code == 0 and "bias" not in json.loads(capsys.readouterr().out)["regime"]["meaning"]
    path = tmp_path / "r3.csv"
    path.write_text("\n".join(",".join(r) for r in R3) + "\n")
    code = main(["condition", "--data", str(path), "--depths", "2", "--kernel", "nngp", "--sigma-b2", "0.1",
                 "--digits", "10", "--format", "json", "--quiet"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and not out["depths"][0]["singular"]
    assert "singular" not in out["regime"]["meaning"] and "bias" in out["regime"]["meaning"]


def test_duplicates_exit_2_in_condition_and_solve(tmp_path, capsys) -> None:
    """Coinciding points make kappa singular at every depth: condition and solve both refuse them the
    same way (exit 2, the same single line), instead of condition exiting 0 with only singular rows."""
    (tmp_path / "x.csv").write_text("1,0,0\n0,1,0\n0,0,1\n0,2,0\n")
    (tmp_path / "y.csv").write_text("1\n2\n3\n4\n")
    (tmp_path / "z.csv").write_text("1,1,1\n")
    lines = []
    for argv in (["condition", "--data", str(tmp_path / "x.csv"), "--depths", "1,2,10"],
                 ["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "y.csv"),
                  "--test", str(tmp_path / "z.csv"), "--depth", "2"]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and len(captured.err.strip().splitlines()) == 1
        lines.append(captured.err.strip())
    assert lines[0] == lines[1] == "ntk-verify: error: kappa is singular: training points 2 and 4 coincide"


def test_certificate_bound_on_the_counterexample() -> None:
    """K = [[1, -1], [-1, 2]], u = (3, 2): lambda_min = (3 - sqrt 5) / 2 = 0.381966 (by hand, sympy).
    |K u|_inf / |u|_inf = 1/3 is below it (the old, false statement); the 2-norm bound sqrt(2/13)
    = 0.392 is above it, and the certified number is at least sqrt(2/13)."""
    k = sympy.Matrix([[1, -1], [-1, 2]])
    lam_min = min(k.eigenvals())
    assert sympy.simplify(lam_min - (3 - sympy.sqrt(5)) / 2) == 0
    u = sympy.Matrix([3, 2])
    ku = k * u
    assert max(abs(x) for x in ku) / max(abs(x) for x in u) < lam_min      # the old statement fails
    exact_bound = sympy.sqrt(sum(x**2 for x in ku) / sum(x**2 for x in u))
    assert exact_bound >= lam_min
    with ctx.workprec(100):
        bound = Ball.from_arb(rayleigh_bound(arb_mat([[1, -1], [-1, 2]]), [arb(3), arb(2)]))
    upper = bound.mid_fraction + bound.rad_fraction
    below = Fraction(int(sympy.floor(exact_bound * 10**30)), 10**30)     # <= sqrt(2/13)
    assert below <= upper < below + Fraction(1, 10**20)
    text = _null_residual(Dataset.from_rows(R3), 2, "nngp")
    assert "|kappa u|_2 / |u|_2" in text and "inf" not in text
    assert Fraction(text.split("<=")[-1].split()[0]) < Fraction(1, 10**30)
