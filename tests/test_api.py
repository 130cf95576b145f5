"""The typed notebook API (``verify.solve``, ``verify.condition``, ``proofs_checks.api.check``) against
independent references: MATH.md's recursion and mpmath's LU, expm, eigsy and det (tests/linalg_reference.py)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import mpmath
import pytest
from linalg_reference import assert_inside, kernel_matrices, lu_closed_form

import verify
from proofs_checks import Verdict
from proofs_checks.api import check
from verify.core.errors import InputError
from verify.data.dataset import Dataset

TRAIN = [["1", "0"], ["0", "1"], ["0.6", "0.8"]]
TEST = [["0.8", "0.6"], ["-0.6", "0.8"]]
LABELS = [["1"], ["0"], ["2"]]
D = 20
TINY = Fraction(1, 10 ** (2 * D - 6))
X, Z = Dataset.from_rows(TRAIN), Dataset.from_rows(TEST)
Y = [[Fraction(v) for v in row] for row in LABELS]


def _float_enclosure_holds(mid: float, rad: float, ref: mpmath.mpf) -> bool:
    """``ref`` (a 2D-digit reference) lies in the float64 interval [mid - rad, mid + rad], up to its own error."""
    with mpmath.workdps(2 * D + 10):
        return abs(ref - mpmath.mpf(mid)) <= mpmath.mpf(rad) + mpmath.mpf(TINY.numerator) / TINY.denominator


def test_solve_returns_typed_enclosures_of_the_lu_solution() -> None:
    s = verify.solve(TRAIN, LABELS, TEST, 3, kernel="ntk", digits=D)
    gram = kernel_matrices(X.points, X.points, [3], "ntk", 2 * D + 10)[3]
    cross = kernel_matrices(Z.points, X.points, [3], "ntk", 2 * D + 10)[3]
    w_ref, f_ref = lu_closed_form(gram, cross, Y, 2 * D)
    assert isinstance(s, verify.SolveResult) and isinstance(s.weights, verify.BallMatrix)
    assert_inside(s.weights, w_ref, TINY, "W")
    assert_inside(s.predictions, f_ref, TINY, "f_inf")
    mid, rad = s.weights.mid, s.weights.rad
    assert mid.shape == rad.shape == (2, 3) == s.weights.shape
    assert all(_float_enclosure_holds(mid[i, j], rad[i, j], w_ref[i][j]) for i in range(2) for j in range(3))
    exact_mids = s.weights.mid_mpmath()
    assert all(exact_mids[i, j] == s.weights[i][j].mid_mpf() for i in range(2) for j in range(3))
    text = s.predictions.decimals(D)[1][0]
    assert Fraction(text["rad"]) >= abs(Fraction(text["mid"]) - s.predictions[1][0].mid_fraction)
    meta = s.metadata()
    assert (meta["kernel"], meta["depth"], meta["n"], meta["m"], meta["k"]) == ("ntk", 3, 3, 2, 1)
    assert meta["guarantee"] == s.guarantee == "certified enclosure"
    assert meta["parameterization"]["sigma_w2"] == "1" and meta["finite_time"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.depth = 4  # type: ignore[misc]


def test_solve_at_a_time_matches_the_matrix_exponential() -> None:
    """f_t(X) = (I - exp(-eta t kappa)) Y (f_0 = 0), with mpmath's expm of the reference kernel."""
    s = verify.solve(TRAIN, LABELS, TEST, 2, kernel="nngp", digits=D, time="2", lr="0.5")
    gram = kernel_matrices(X.points, X.points, [2], "nngp", 2 * D + 10)[2]
    with mpmath.workdps(2 * D):
        decay = mpmath.eye(3) - mpmath.expm(-gram)              # eta t = 1
        ref = decay * mpmath.matrix([[float(y[0])] for y in Y])
    assert s.finite_time_train is not None and s.finite_time_predictions is not None
    assert_inside(s.finite_time_train, [[ref[i, 0]] for i in range(3)], TINY, "f_t(X)")
    assert s.metadata()["finite_time"] == {"t": "2", "lr": "0.5", "time_scale": "normalized"}


def test_solve_sweep_and_keyword_only_arguments() -> None:
    sols = verify.solve_sweep(X, LABELS, Z, [10, 2], kernel="nngp", digits=12)
    assert [s.depth for s in sols] == [2, 10]
    with pytest.raises(TypeError):
        verify.solve(TRAIN, LABELS, TEST, 3, "ntk")  # type: ignore[misc]
    with pytest.raises(InputError, match="time"):
        verify.solve(TRAIN, LABELS, TEST, 3, time="-1")


def test_condition_returns_the_spectrum_of_the_reference_kernel() -> None:
    c = verify.condition(TRAIN, 2, kernel="nngp", digits=D)
    gram = kernel_matrices(X.points, X.points, [2], "nngp", 2 * D + 10)[2]
    with mpmath.workdps(2 * D):
        ev, _ = mpmath.eigsy(gram)
        ev = sorted(ev[i] for i in range(3))
        det = mpmath.det(gram)
    assert isinstance(c, verify.ConditionResult) and isinstance(c.eigenvalues, verify.BallVector)
    assert_inside([c.eigenvalues], [ev], TINY, "eigenvalues")
    assert_inside([[c.det]], [[det]], TINY, "det")
    assert c.eigenvalues.mid.shape == (3,) and all(
        _float_enclosure_holds(m, r, e) for m, r, e in zip(c.eigenvalues.mid, c.eigenvalues.rad, ev, strict=True))
    assert c.log10_cond2 == round(float(mpmath.log10(ev[-1] / ev[0])), 2)
    assert c.metadata()["singular"] is False and c.guarantee == "certified enclosure"
    [a, b] = verify.condition_sweep(TRAIN, [5, 2], kernel="nngp", digits=10)
    assert (a.depth, b.depth) == (2, 5)


def test_condition_reports_a_structural_singularity_exactly() -> None:
    """Three antipodal pairs in R^2: kappa u = 0 at depth 2 for an exact u (verify.linalg.singularity)."""
    r3 = [["1", "0"], ["0", "1"], ["-1", "0"], ["0", "-1"], ["1", "1"], ["-1", "-1"]]
    c = verify.condition(r3, 2, kernel="ntk", digits=10)
    assert c.singular and c.det == verify.Ball.exact(0) and c.eigenvalues is None and c.log10_cond2 is None
    assert c.guarantee.startswith("exact")


def test_check_runs_one_claim() -> None:
    # Lemma 1 holds (h(z) > z on (-1, 1): sqrt(1 - z^2) > z arccos z); the normalized NTK tends to 1/4 off the
    # diagonal (d_l ~ 3 l / 4, verify.derive), so Theorem 2's "tends to the matrix of ones" fails for it
    lemma = check("lemma-1", data="builtin:sphere-4", digits=20)
    assert (lemma.id, lemma.kernel, lemma.verdict) == ("lemma-1", None, Verdict.CONFIRMED)
    thm = check("theorem-2", kernel="ntk", data="builtin:sphere-4", digits=20)
    assert (thm.id, thm.kernel, thm.verdict) == ("theorem-2", "ntk", Verdict.REFUTED)


@pytest.mark.parametrize(("claim", "kernel", "message"), [
    ("no-such-claim", None, "unknown check id"),
    ("theorem-2", None, "runs per kernel"),
    ("lemma-1", "ntk", "does not run for kernel"),
])
def test_check_refuses_bad_arguments_in_one_line(claim: str, kernel: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check(claim, kernel=kernel)
