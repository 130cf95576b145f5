"""theorem-3: the closed-form weights kappa_x kappa^-1 converge to a bounded limit as the depth grows."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from verify import KERNELS, Dataset, kernel_matrix
from verify.linalg.ball_matrix import max_abs_difference
from verify.linalg.closed_form import solve_sweep
from verify.linalg.float64_linalg import float64_weights, relative_error

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text
from .derived import FAR_DEPTH, derived_weight_limit, limit_finding
from .trends import settled_or_decaying


@dataclass(frozen=True)
class WeightsClaim:
    """The claimed behaviour of W_L = kappa_x kappa^-1: a bounded limit (None: unspecified) or a given constant."""

    limit: Fraction | None = None

    def __str__(self) -> str:
        return "W converges to a bounded limit" if self.limit is None else f"every weight tends to {self.limit}"


def split(data: Dataset) -> tuple[Dataset, Dataset, list[list[Fraction]]]:
    """Training points (all but the last two), test points (the last two), synthetic labels x_1 / |x|_1."""
    train, test = data.split(data.n - 2)
    labels = [[p[0] / sum(abs(v) for v in p)] for p in train.points]
    return train, test, labels


def run(ctx_: CheckContext, kernel: str, claim: WeightsClaim):
    train, test, labels = split(ctx_.data)
    depths = [2, 3, 10, 100, 1000, 10**4] + ([10**5] if not ctx_.quick else [])
    sols = {s.depth: s for s in solve_sweep(train, labels, test, depths + [FAR_DEPTH], kernel, digits=12,
                                            progress=ctx_.progress)}
    far = sols.pop(FAR_DEPTH)
    derived = derived_weight_limit(kernel, train.n)
    tail = [d for d in depths if d >= 100]
    findings: list[Finding] = []
    if claim.limit is None:
        moves = [(b, max_abs_difference(sols[b].weights, sols[a].weights))
                 for a, b in zip(tail, tail[1:], strict=False)]
        conv = settled_or_decaying("max change of W per decade", moves, Fraction(0))
        findings.append(Finding("W converges", conv.supports, conv.certificate, conv.guarantee))
        bound = max(max(abs(b.mid_fraction) + b.rad_fraction for row in s.weights for b in row) for s in sols.values())
        findings.append(Finding("W bounded along depth", True if conv.supports else None,
                                f"max |W_ij| <= {float(bound):.6f} at every depth of {depths} (certified)",
                                "certified"))
        findings.append(limit_finding("every weight", [b for row in far.weights for b in row], derived, derived))
    else:
        dist = [(d, max_abs_difference(sols[d].weights, claim.limit)) for d in tail]
        findings.append(settled_or_decaying(f"max |W - {claim.limit}|", dist, Fraction(0)))
        findings.append(limit_finding("every weight", [b for row in far.weights for b in row], derived, claim.limit))

    rows = []
    for d in depths:
        s = sols[d]
        g = kernel_matrix(train, d, kernel, route="float64").mid_array()
        c = kernel_matrix(train, d, kernel, route="float64", columns=test).mid_array()
        w64, status = float64_weights(g, c.T)
        err = relative_error(w64, s.weights)
        rows.append([str(d)] + [ball_text(b, 8) for b in s.weights[0][:4]]
                    + [ball_text(s.predictions[0][0], 8), ball_text(s.log10_abs_det, 6),
                       status if w64 is None else f"{err:.1e}"])
    n = train.n
    rows.append([f"{FAR_DEPTH:.0e}"] + [ball_text(b, 8) for b in far.weights[0][:4]]
                + [ball_text(far.predictions[0][0], 8), ball_text(far.log10_abs_det, 6), "-"])
    evidence = Evidence(
        tables=[Table(f"Certified weights W = kappa_x kappa^-1 of test point 1 (first 4 of {n}), prediction f_inf "
                      f"for synthetic labels, log10 det, and float64's relative error ({kernel.upper()})",
                      ["L", "W_11", "W_12", "W_13", "W_14", "f_inf(z_1)", "log10 det", "float64 W rel. error"],
                      rows, note="float64: numpy.linalg.solve on float64 kernels (best effort)")],
        figures=[Figure(f"theorem3_{kernel}_weights", f"Experiment 3 / next check 3: weights of test point 1 along "
                        f"depth ({kernel.upper()})", "depth L", "W_1j",
                        [{"label": f"W_1{j + 1}", "x": depths,
                          "y": [float(sols[d].weights[0][j].mid_fraction) for d in depths]} for j in range(n)],
                        "log", "linear")],
    )
    evidence.notes.append(f"derived limit of every weight: {derived} (= 1/{'(n + 3)' if kernel == 'ntk' else 'n'}, "
                          f"n = {n})")
    return findings, evidence, {"n_train": n, "n_test": test.n, "depths": depths + [FAR_DEPTH], "digits": 12,
                                "labels": "x_1 / |x|_1 (synthetic)"}


CHECK = CheckSpec(
    id="theorem-3",
    title="Theorem 3: kappa_x kappa^-1 stays bounded and converges although det(kappa) -> 0",
    claim_text="The closed-form weights kappa_x kappa^-1 converge to a bounded limit as the depth grows, for data "
               "on the sphere, although det(kappa) -> 0.",
    claim_latex=r"\kappa_x\kappa^{-1} \to \bar u_\infty,\ \ \|\bar u_\infty\| \le C'",
    hypotheses="default model; distinct, non-antipodal training points on the sphere; test points distinct from "
               "them; normalized kernel (W is scale-free)",
    method="certified solves (Arb) of kappa W^T = kappa_x^T along depth; convergence from the certified decay of "
           "the per-decade change of W; float64 alongside",
    kernels=KERNELS,
    run=run,
    stated_claim=WeightsClaim(None),
    false_claim=WeightsClaim(Fraction(0)),
)
