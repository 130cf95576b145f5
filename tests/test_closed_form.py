"""The certified closed form against independent references (mpmath LU at twice the digits, mpmath ODE)."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from linalg_reference import assert_inside, gradient_flow, kernel_matrices, lu_closed_form

from verify import Ball, kernel_sweep
from verify.cli import main
from verify.core.errors import InputError
from verify.data.dataset import Dataset
from verify.linalg.closed_form import Problem, flow_time, load_labels, solve, solve_blocks, solve_sweep

TRAIN = [["1", "0", "0"], ["0.6", "0.8", "0"], ["0", "0.6", "0.8"], ["0.3", "-0.4", "0.5"],
         ["-0.2", "0.1", "0.9"]]
TEST = [["0.5", "0.5", "0.5"], ["-1", "0.2", "0.1"]]
LABELS = [["1", "0"], ["-1", "2"], ["0.5", "0.25"], ["2", "1"], ["0", "-3"]]
F0_TRAIN = [["0.1", "0"], ["0", "0"], ["0", "0.5"], ["-0.25", "0"], ["0", "0"]]
F0_TEST = [["0", "1"], ["0.75", "0"]]
D = 20
TINY = Fraction(1, 10**(2 * D - 6))     # the reference's own error (cond * 10^-2D, generous)

X, Z = Dataset.from_rows(TRAIN), Dataset.from_rows(TEST)
Y = [[Fraction(v) for v in row] for row in LABELS]


def _fr(rows):
    return [[Fraction(v) for v in r] for r in rows]


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_weights_and_predictions_contain_mpmath_lu(kernel: str) -> None:
    """End to end at depths 10 and 10^3: every reference value lies in the D-digit enclosures."""
    depths = [10, 1000]
    sols = solve_sweep(X, LABELS, Z, depths, kernel, D, f0_train=F0_TRAIN, f0_test=F0_TEST,
                       progress=False)
    grams = kernel_matrices(X.points, X.points, depths, kernel, 2 * D + 10)
    cross = kernel_matrices(Z.points, X.points, depths, kernel, 2 * D + 10)
    for s in sols:
        w_ref, f_ref = lu_closed_form(grams[s.depth], cross[s.depth], Y, 2 * D, _fr(F0_TRAIN),
                                      _fr(F0_TEST))
        assert_inside(s.weights, w_ref, TINY, f"W at depth {s.depth}")
        assert_inside(s.predictions, f_ref, TINY, f"f_inf at depth {s.depth}")
        assert min(b.correct_digits() for row in [*s.weights, *s.predictions] for b in row) >= D
        assert s.diagnosis.status == "invertible"


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_contains_mpmath_lu_at_depth_1e5(kernel: str) -> None:
    """Depth 10^5: kernels certified to 2D digits, the closed form certified to D digits, LU at 2D."""
    depth = 10**5
    gram = kernel_sweep(X, [depth], kernel, 2 * D, relative_gap=True, progress=False)[0]
    cross = kernel_sweep(Z, [depth], kernel, 2 * D, relative_gap=True, progress=False,
                         columns=X)[0]
    value, bits, _ = solve_blocks(lambda kd: (gram.gaps, cross.gaps), Problem(Y), D, None, "test")
    with mpmath.workdps(2 * D + 10):     # the exact midpoints (entries 1 - gap are dyadic)
        g = mpmath.matrix([[b.mid_mpf() for b in row] for row in gram.entries])
        c = mpmath.matrix([[b.mid_mpf() for b in row] for row in cross.entries])
    w_ref, f_ref = lu_closed_form(g, c, Y, 2 * D)
    weights = [[_ball(value["weights"][i, j]) for j in range(X.n)] for i in range(Z.n)]
    preds = [[_ball(value["predictions"][i, j]) for j in range(2)] for i in range(Z.n)]
    # the midpoint matrix lies in the kernel balls, so its exact solution is in the enclosures
    assert_inside(weights, w_ref, TINY, "W")
    assert_inside(preds, f_ref, TINY, "f_inf")
    assert bits > 0


def _ball(x) -> Ball:
    return Ball.from_arb(x)


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_finite_time_matches_gradient_flow_ode(kernel: str) -> None:
    """f_t on the training and test points equals mpmath's ODE solution of the gradient flow."""
    depth, lr, t = 10, Fraction(1, 2), Fraction(3)
    s = solve(X, LABELS, Z, depth, kernel, D, time=flow_time("3", "0.5"), progress=False)
    gram = kernel_matrices(X.points, X.points, [depth], kernel, 2 * D)[depth]
    cross = kernel_matrices(Z.points, X.points, [depth], kernel, 2 * D)[depth]
    fx, fz = gradient_flow(gram, cross, Y, lr, t, 2 * D)
    assert_inside(s.finite_time_train, fx, TINY, "f_t(X)")
    assert_inside(s.finite_time_predictions, fz, TINY, "f_t(Z)")


def test_finite_time_tends_to_f_inf() -> None:
    """|f_t(Z) - f_inf(Z)| decreases in t; at large t the enclosures overlap f_inf's."""
    times = ["1", "10", "100", "1000", "100000"]
    sols = [solve(X, LABELS, Z, 10, "nngp", D, time=flow_time(t, "1"), progress=False)
            for t in times]
    f_inf = sols[0].predictions
    dist = [max(abs(a.mid_fraction - b.mid_fraction) for ra, rb in zip(s.finite_time_predictions,
                                                                      f_inf, strict=True)
                for a, b in zip(ra, rb, strict=True)) for s in sols]
    assert all(a > b for a, b in zip(dist, dist[1:], strict=False)), [float(d) for d in dist]
    last = sols[-1]
    for ra, rb in zip(last.finite_time_predictions, f_inf, strict=True):
        for a, b in zip(ra, rb, strict=True):
            assert abs(a.mid_fraction - b.mid_fraction) <= a.rad_fraction + b.rad_fraction
    for ra, y in zip(last.finite_time_train, Y, strict=True):     # f_t(X) -> Y
        for a, v in zip(ra, y, strict=True):
            assert a.contains(v) or abs(a.mid_fraction - v) < Fraction(1, 10**D)


def test_raw_time_scale_is_a_rescaled_time() -> None:
    """The raw kernel's flow at time t is the normalized kernel's at t * raw_factor (exact)."""
    depth = 3
    raw = solve(X, LABELS, Z, depth, "ntk", D, time=flow_time("1000", "1", "raw"), progress=False)
    factor = Fraction(depth, 3 * 2 ** (depth - 1))          # Theta^(L)(x,x) = 1/4, n0 = 3
    assert 1000 * factor == 250
    norm = solve(X, LABELS, Z, depth, "ntk", D, time=flow_time("250", "1"), progress=False)
    for ra, rb in zip(raw.finite_time_predictions, norm.finite_time_predictions, strict=True):
        for a, b in zip(ra, rb, strict=True):
            assert abs(a.mid_fraction - b.mid_fraction) <= a.rad_fraction + b.rad_fraction
    assert raw.weights[0][0].mid_fraction == norm.weights[0][0].mid_fraction


def test_labels_are_parsed_exactly(tmp_path) -> None:
    path = tmp_path / "y.csv"
    path.write_text("# labels\ny1,y2\n0.1,1e-30\n-3,2\n")
    assert load_labels(str(path), 2) == [[Fraction(1, 10), Fraction(1, 10**30)],
                                         [Fraction(-3), Fraction(2)]]
    np.save(tmp_path / "y.npy", np.array([[0.5], [2.0]]))
    assert load_labels(str(tmp_path / "y.npy"), 2) == [[Fraction(1, 2)], [Fraction(2)]]
    with pytest.raises(InputError, match="expected 3"):
        load_labels(str(path), 3)
    with pytest.raises(InputError, match="learning rate"):
        flow_time("1", "0")


def test_cli_solve_json_and_float64_side_by_side(tmp_path, capsys) -> None:
    for name, rows in {"x.csv": TRAIN, "z.csv": TEST, "y.csv": LABELS}.items():
        (tmp_path / name).write_text("\n".join(",".join(r) for r in rows) + "\n")
    code = main(["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "y.csv"),
                 "--test", str(tmp_path / "z.csv"), "--depth", "10", "--kernel", "nngp",
                 "--digits", "15", "--time", "2", "--lr", "0.5", "--format", "json", "--quiet"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("weights", "predictions", "det", "log10_abs_det", "digits_lost",
                "working_precision_bits", "finite_time", "float64"):
        assert key in out
    assert len(out["weights"]) == 2 and len(out["weights"][0]) == 5
    assert set(out["weights"][0][0]) == {"mid", "rad"}
    assert len(out["predictions"][0]) == 2
    assert out["float64"]["weights_relative_error"] < 1e-12      # benign at depth 10
    assert out["finite_time"]["lr"] == "0.5"
    code = main(["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "z.csv"),
                 "--test", str(tmp_path / "z.csv"), "--depth", "10"])
    assert code == 2
    assert "labels" in capsys.readouterr().err


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_points_1e200_apart_are_solved(kernel: str, tmp_path, capsys) -> None:
    """Two training points 1e-200 apart (cond ~ 1e201 for the NTK, 1e400 for the NNGP; issue 10:
    'math domain error' before). With Z = X the exact answer is known by hand: W = kappa kappa^-1 = I
    and f_inf(X) = Y; the enclosures hold it to D digits, and the CLI answers (exit 0, nothing on
    stderr)."""
    pts = [["1", "0"], ["1", "1e-200"]]
    data = Dataset.from_rows(pts)
    labels = [["1"], ["-1"]]
    s = solve(data, labels, data, 2, kernel, D)
    assert_inside(s.weights, [[1, 0], [0, 1]], Fraction(0), "W")
    assert_inside(s.predictions, [[1], [-1]], Fraction(0), "f_inf")
    assert all(b.correct_digits() >= D for row in [*s.weights, *s.predictions] for b in row)
    assert s.digits_lost > 200
    z = Dataset.from_rows([["0.3", "0.9"]])
    far = solve(data, labels, z, 2, kernel, D)
    dps = 2 * D + 420                                   # the reference loses up to 400 digits itself
    ref_g = kernel_matrices(data.points, data.points, [2], kernel, dps)[2]
    ref_c = kernel_matrices(z.points, data.points, [2], kernel, dps)[2]
    w_ref, p_ref = lu_closed_form(ref_g, ref_c, [[Fraction(1)], [Fraction(-1)]], dps)
    assert_inside(far.weights, w_ref, Fraction(1, 10**(2 * D)), "W(z)")
    assert_inside(far.predictions, p_ref, Fraction(1, 10**(2 * D)), "f_inf(z)")
    (tmp_path / "x.csv").write_text("1,0\n1,1e-200\n")
    (tmp_path / "y.csv").write_text("1\n-1\n")
    (tmp_path / "z.csv").write_text("0.3,0.9\n")
    for test in ("x.csv", "z.csv"):
        code = main(["solve", "--train", str(tmp_path / "x.csv"), "--labels", str(tmp_path / "y.csv"),
                     "--test", str(tmp_path / test), "--depth", "2", "--kernel", kernel, "--digits", "10",
                     "--time", "1", "--format", "json", "--quiet"])
        captured = capsys.readouterr()
        assert code == 0 and captured.err == "", captured.err
        assert json.loads(captured.out)["finite_time"] is not None
