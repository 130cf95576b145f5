"""proposition-3: the closed-form solution equals the solution of the gradient-flow ODE."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import mpmath

from verify import KERNELS, Dataset, InputError, kernel_matrix
from verify.linalg.closed_form import flow_time, solve
from verify.linalg.gradient_flow import integrate_gradient_flow

from .base import CheckContext, CheckSpec, Evidence, Finding, Table
from .common import lower, upper


@dataclass(frozen=True)
class FlowClaim:
    """f_t(x) = f_0(x) + kappa_x kappa^-1 (I - exp(-rate * eta * kappa * t)) (Y - f_0(X)); the paper has rate 1."""

    rate: Fraction = Fraction(1)

    def __str__(self) -> str:
        return f"closed form with exp(-{self.rate} eta kappa t)"

    def evaluate(self, gram, cross, labels, eta, t):
        """The claimed (f_t(X), f_t(Z)) in plain mpmath (f_0 = 0)."""
        n = gram.rows
        decay = mpmath.expm(-mpmath.mpf(self.rate.numerator) / self.rate.denominator * mpmath.mpf(eta)
                            * mpmath.mpf(t) * gram)
        fx = (mpmath.eye(n) - decay) * labels
        fz = cross * mpmath.lu_solve(gram, fx)
        return fx, fz


def _split(ctx_: CheckContext) -> tuple[Dataset, Dataset, list[list[Fraction]]]:
    pts = ctx_.data.points
    if len(pts) < 3:
        raise InputError("proposition-3 needs at least 3 points (training and test)")
    train, test = ctx_.data.split(min(4, len(pts) - 2), 2)
    labels = [[p[0] / sum(abs(v) for v in p)] for p in train.points]    # synthetic, exact rationals
    return train, test, labels


def run(ctx_: CheckContext, kernel: str, claim: FlowClaim):
    train, test, labels = _split(ctx_)
    depths = [3, 20] if ctx_.quick else [3, 20, 200]
    times = ["0.5", "2", "10"]
    eta = "1"
    digits = 20
    rows, worst, worst_err, engine_ok = [], 0.0, 0.0, True
    for depth in depths:
        gram = kernel_matrix(train, depth, kernel, digits + 10)
        cross = kernel_matrix(train, depth, kernel, digits + 10, columns=test)
        with mpmath.workdps(digits + 15):
            K = mpmath.matrix([[e.mid_mpf() for e in row] for row in gram.entries])
            KZ = mpmath.matrix([[e.mid_mpf() for e in row] for row in cross.entries]).T
            Y = mpmath.matrix([[mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in r]
                               for r in labels])
        for t in times:
            ode_x, ode_z, err = integrate_gradient_flow(K, KZ, Y, eta, t, digits)
            with mpmath.workdps(digits + 15):
                cx, cz = claim.evaluate(K, KZ, Y, eta, t)
                diff = float(max(max(abs(a - b) for a, b in zip(cx, ode_x, strict=True)),
                                 max(abs(a - b) for a, b in zip(cz, ode_z, strict=True))))
            worst, worst_err = max(worst, diff), max(worst_err, err)
            if claim.rate == 1:
                sol = solve(train, labels, test, depth, kernel, digits, time=flow_time(t, eta))
                # solve(time=...) fills the finite-time predictions
                assert sol.finite_time_train is not None and sol.finite_time_predictions is not None
                slack = Fraction(10) ** -(digits - 2)
                inside = all(lower(b) - slack <= Fraction(mpmath.nstr(v, digits + 10)) <= upper(b) + slack
                             for row, col in ((sol.finite_time_train, ode_x), (sol.finite_time_predictions, ode_z))
                             for b, v in zip((x for r in row for x in r), col, strict=True))
                engine_ok = engine_ok and inside
            rows.append([str(depth), t, mpmath.nstr(ode_z[0, 0], 15), mpmath.nstr(cz[0, 0], 15), f"{diff:.2e}",
                         f"{err:.1e}"])
    tol = max(10.0 ** -(digits - 3), 100 * worst_err)
    findings = [Finding(
        "claimed closed form vs ODE integration", worst <= tol,
        f"max |claimed f_t - ODE f_t| = {worst:.2e} over depths {depths}, t in {times} "
        f"(tolerance {tol:.0e}; ODE error estimate {worst_err:.1e})", "validated (Taylor ODE solver, two precisions)")]
    if claim.rate == 1:
        findings.append(Finding(
            "certified closed form (engine) contains the ODE solution", engine_ok,
            "the engine's Arb enclosures of f_t(X), f_t(Z) contain the ODE values at every depth and time"
            if engine_ok else "an ODE value fell outside the engine's enclosure", "certified vs validated"))
    table = Table("f_t at the first test point: ODE integration vs the claimed closed form",
                  ["L", "t", "ODE f_t(z_1)", "claimed f_t(z_1)", "max |diff|", "ODE error est."], rows)
    return findings, Evidence(tables=[table]), {"n_train": train.n, "n_test": test.n, "depths": depths,
                                                "times": times, "eta": eta, "digits": digits}


CHECK = CheckSpec(
    id="proposition-3",
    title="Proposition 3: the closed-form solution of gradient flow",
    claim_text="Under gradient flow on the squared loss, f_t(x) = f_0(x) + kappa_x kappa^-1 (I - exp(-eta kappa t)) "
               "(Y - f_0(X)), and f_inf(x) = f_0(x) + kappa_x kappa^-1 (Y - f_0(X)).",
    claim_latex=r"f_t(x)=f_0(x)+\kappa_x\kappa^{-1}\left(I-e^{-\eta\kappa t}\right)(Y-f_0(X))",
    hypotheses="infinite width (constant kernel), invertible kappa, f_0 = 0, normalized kernel",
    method="the claimed formula (mpmath expm and LU) against a Taylor-series integration of df/dt = -eta K (f - Y) "
           "at two precisions; the engine's certified closed form must contain the ODE values",
    kernels=KERNELS,
    run=run,
    stated_claim=FlowClaim(Fraction(1)),
    false_claim=FlowClaim(Fraction(2)),
)
