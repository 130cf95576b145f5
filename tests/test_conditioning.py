"""Certified det, log10|det|, spectrum and cond_2 against mpmath at twice the digits; float64 breakdown."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import example, given, settings
from hypothesis import strategies as st
from linalg_reference import assert_inside, exact, kernel_matrices

from verify import Ball
from verify.cli import main
from verify.core.balls import arb_of_fraction
from verify.data.dataset import Dataset
from verify.data.sources import load_dataset
from verify.linalg import conditioning
from verify.linalg.conditioning import conditioning_sweep
from verify.linalg.float64_linalg import breakdown_depth, float64_grams

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
    """e1, e2, e3 at depth 3: kappa = (1 - c) I + c J has a double eigenvalue (Weyl enclosures: no isolation needed)."""
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


# ---------------------------------------------------------------- clusters, tiny gaps, fault injection

OCTAHEDRON = [["1", "0", "0"], ["-1", "0", "0"], ["0", "1", "0"], ["0", "-1", "0"], ["0", "0", "1"],
              ["0", "0", "-1"]]


def _octahedron_depth_two(dps: int) -> mpmath.matrix:
    """NNGP at depth 2 by hand: kappa_ij = h(x_i.x_j), h(1) = 1, h(0) = 1/pi, h(-1) = 0
    (h(z) = (sqrt(1 - z^2) + z (pi - arccos z)) / pi, MATH.md)."""
    with mpmath.workdps(dps):
        pts = [[int(v) for v in p] for p in OCTAHEDRON]
        values = {1: mpmath.mpf(1), 0: 1 / mpmath.pi, -1: mpmath.mpf(0)}
        return mpmath.matrix([[values[sum(a * b for a, b in zip(p, q, strict=True))] for q in pts]
                              for p in pts])


def test_octahedron_repeated_eigenvalues_are_enclosed(tmp_path, capsys) -> None:
    """The 6 points +-e_i, NNGP, depth 2 (issue 10: exit 3 before): kappa = I + A / pi with A the
    octahedron's adjacency (spectrum 4, 0 x3, -2 x2), so the eigenvalues are 1 - 2/pi (twice),
    1 (three times), 1 + 4/pi. Checked against that hand spectrum and against mpmath's eigsy."""
    c = conditioning_sweep(Dataset.from_rows(OCTAHEDRON), [2], "nngp", D, progress=False)[0]
    with mpmath.workdps(2 * D + 10):
        pi = mpmath.pi
        hand = [1 - 2 / pi, 1 - 2 / pi, mpmath.mpf(1), mpmath.mpf(1), mpmath.mpf(1), 1 + 4 / pi]
        ev, _ = mpmath.eigsy(_octahedron_depth_two(2 * D + 10))
        numeric = sorted(ev[i] for i in range(6))
        assert max(abs(a - b) for a, b in zip(hand, numeric, strict=True)) < mpmath.mpf(10) ** (-2 * D)
        det = (1 + 4 / pi) * (1 - 2 / pi) ** 2
        cond = (1 + 4 / pi) / (1 - 2 / pi)
    slack = Fraction(1, 10**(2 * D))
    assert_inside([c.eigenvalues], [hand], slack, "eigenvalues")
    assert _inside(c.det, det, slack) and _inside(c.condition_number, cond, slack)
    assert c.lambda_min.relative_digits() >= D and c.condition_number.relative_digits() >= D
    path = tmp_path / "D3.csv"
    path.write_text("\n".join(",".join(p) for p in OCTAHEDRON) + "\n")
    assert main(["condition", "--data", str(path), "--depths", "2", "--kernel", "nngp", "--format", "json",
                 "--quiet"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert Fraction(out["depths"][0]["lambda_min"]["mid"]) < Fraction(3634, 10000)


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_octahedron_clusters_at_depth_three(kernel: str) -> None:
    """Deeper, both kernels: the octahedron's symmetry keeps the multiplicities; mpmath eigsy on the
    reference kernel (linalg_reference) lies in every enclosure."""
    data = Dataset.from_rows(OCTAHEDRON)
    c = conditioning_sweep(data, [3, 50], kernel, D, progress=False)
    refs = kernel_matrices(data.points, data.points, [3, 50], kernel, 2 * D + 10)
    for x in c:
        with mpmath.workdps(2 * D):
            ev, _ = mpmath.eigsy(refs[x.depth])
            ev = sorted(ev[i] for i in range(6))
        assert_inside([x.eigenvalues], [ev], Fraction(1, 10**(2 * D - 8)), "eigenvalues")


def test_points_1e200_apart(tmp_path, capsys) -> None:
    """Two points 1e-200 apart (issue 10: 'math domain error' before): NNGP, depth 2, kappa =
    [[1, h], [h, 1]], h = h(rho), rho = cos(theta), theta = atan(1e-200); eigenvalues 1 -+ h, det
    1 - h^2 ~ 1e-400, cond ~ 4e400 (beyond float64: every conversion must survive it)."""
    data = Dataset.from_rows([["1", "0"], ["1", "1e-200"]])
    c = conditioning_sweep(data, [2], "nngp", D, progress=False)[0]
    with mpmath.workdps(500):
        theta = mpmath.atan(mpmath.mpf(10) ** -200)
        h = (mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta)) / mpmath.pi
        lam = [1 - h, 1 + h]
        det, cond = 1 - h * h, (1 + h) / (1 - h)
        assert mpmath.mpf("1e-401") < lam[0] < mpmath.mpf("1e-400")
        assert_inside([c.eigenvalues], [lam], abs(exact(lam[0])) / 10**(2 * D))
        assert _inside(c.det, det, abs(exact(det)) / 10**(2 * D))
        assert _inside(c.condition_number, cond, abs(exact(cond)) / 10**(2 * D))
    assert c.lambda_min.relative_digits() >= D and c.to_json()["log10_cond2"] == 400.6
    path = tmp_path / "close.csv"
    path.write_text("1,0\n1,1e-200\n")
    for kernel in ("ntk", "nngp"):
        code = main(["condition", "--data", str(path), "--depths", "2,3", "--kernel", kernel, "--format",
                     "json", "--quiet"])
        captured = capsys.readouterr()
        assert code == 0 and captured.err == ""
        assert all(not r["singular"] for r in json.loads(captured.out)["depths"])


def _reference_octahedron() -> tuple[arb_mat, list]:
    """The depth-2 octahedron kernel as an Arb matrix (exact 0/1 entries, 1/pi at 200 bits) and its
    hand spectrum (ascending)."""
    with ctx.workprec(200):
        inv_pi = 1 / arb.pi()
        a = arb_mat(6, 6)
        pts = [[int(v) for v in p] for p in OCTAHEDRON]
        for i, p in enumerate(pts):
            for j, q in enumerate(pts):
                dot = sum(x * y for x, y in zip(p, q, strict=True))
                a[i, j] = {1: arb(1), 0: inv_pi, -1: arb(0)}[dot]
    with mpmath.workdps(60):
        pi = mpmath.pi
        spectrum = [1 - 2 / pi] * 2 + [mpmath.mpf(1)] * 3 + [1 + 4 / pi]
    return a, spectrum


def _contains(ball: arb, value: mpmath.mpf) -> bool:
    b = Ball.from_arb(ball)
    return abs(exact(value) - b.mid_fraction) <= b.rad_fraction + Fraction(1, 10**50)


def test_fault_injection_eigen_order_and_pairing(monkeypatch) -> None:
    """Faults in the approximate eigendecomposition never give a wrong enclosure:
    reversed order -> the same ascending enclosures (Weyl sorts the values itself);
    values paired with the wrong vectors -> wide enclosures that still contain the spectrum;
    V far from orthogonal -> refused (None); an eigenvalue list in the wrong order -> caught."""
    a, spectrum = _reference_octahedron()
    with ctx.workprec(200):
        values, vectors = conditioning.approximate_eigh(a.mid(), 200)
        good = conditioning.weyl_enclosures(a, values, vectors)
        again = conditioning.weyl_enclosures(a, *reversed_pairs(values, vectors))
        assert [(x.mid(), x.rad()) for x in again] == [(x.mid(), x.rad()) for x in good]
        assert all(_contains(x, s) for x, s in zip(good, spectrum, strict=True))
        assert max(x.rad() for x in good) < arb(2) ** -150
        wrong = conditioning.weyl_enclosures(a, values[1:] + values[:1], vectors)   # mispaired
        assert all(_contains(x, s) for x, s in zip(wrong, spectrum, strict=True))
        assert min(x.rad() for x in wrong) > 0.1
        assert conditioning.weyl_enclosures(a, values, vectors * 2) is None        # e = |4I - I|_F >= 1
        with pytest.raises(ValueError, match="exact"):
            conditioning.weyl_enclosures(a, [v + arb(0, 1e-30) for v in values], vectors)

    real = conditioning.approximate_eigh
    monkeypatch.setattr(conditioning, "approximate_eigh", lambda mid, bits: reversed_pairs(*real(mid, bits)))
    c = conditioning_sweep(Dataset.from_rows(OCTAHEDRON), [2], "nngp", D, progress=False)[0]
    assert_inside([c.eigenvalues], [spectrum], Fraction(1, 10**(2 * D)), "eigenvalues")
    with pytest.raises(conditioning.UnorderedEnclosures):
        conditioning.ConditionResult(c.kernel, c.depth, c.digits, c.n, c.diagnosis, c.det,
                                     eigenvalues=c.eigenvalues[::-1])


def reversed_pairs(values: list, vectors: arb_mat) -> tuple[list, arb_mat]:
    """The same eigenpairs listed in reverse order (a solver with another ordering convention)."""
    n = len(values)
    return values[::-1], arb_mat([[vectors[i, n - 1 - j] for j in range(n)] for i in range(n)])


def test_mpmath_fallback_when_flint_eigenvectors_fail(monkeypatch) -> None:
    """If flint's QR eigenvectors are unusable, mpmath's eigsy takes over; the enclosures still hold."""
    monkeypatch.setattr(conditioning, "_flint_eigenvectors", lambda mid: None)
    a, spectrum = _reference_octahedron()
    with ctx.workprec(200):
        ev = conditioning.eigenvalues_symmetric(a, prec=200)
    assert all(_contains(x, s) for x, s in zip(ev, spectrum, strict=True))
    assert max(x.rad() for x in ev) < arb(2) ** -150


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=4, max_size=4), st.integers(0, 3), st.integers(1, 40))
@example([1, 1, -2, 3], 2, 30)          # a double eigenvalue, V accepted
@example([2, 2, 2, 2], 0, 1)            # V too far from orthogonal: refused
def test_weyl_bound_holds_for_rough_decompositions(diag, seed, noise_exp) -> None:
    """kappa = Q diag Q^T with Q a rational orthogonal matrix (Householder, exact) and repeated
    eigenvalues allowed; (d, V) from the truth perturbed by 2^-noise: the Weyl enclosures of
    the module docstring contain the exact eigenvalues (sorted by hand), whatever the noise."""
    w = [Fraction(v) for v in ([1, 2, 3, 4], [1, -1, 2, 0], [2, 1, 1, 1], [0, 1, -3, 2])[seed]]
    norm2 = sum(x * x for x in w)
    q = [[(1 if i == j else 0) - 2 * w[i] * w[j] / norm2 for j in range(4)] for i in range(4)]
    k = [[sum(q[i][m] * diag[m] * q[j][m] for m in range(4)) for j in range(4)] for i in range(4)]
    with ctx.workprec(128):
        a = arb_mat([[arb_of_fraction(x) for x in row] for row in k])
        eps = arb(2) ** -noise_exp
        vectors = arb_mat([[(arb_of_fraction(q[i][j]) + eps * ((i + 2 * j) % 3 - 1)).mid()
                            for j in range(4)] for i in range(4)])
        values = [(arb(d) + eps * (m % 2)).mid() for m, d in enumerate(diag)]
        enc = conditioning.weyl_enclosures(a, values, vectors)
    if enc is None:
        return                                    # V too far from orthogonal: refused, never wrong
    for ball, truth in zip(enc, sorted(diag), strict=True):
        b = Ball.from_arb(ball)
        assert abs(truth - b.mid_fraction) <= b.rad_fraction
