"""det-to-zero: det(kappa) -> 0 as the depth grows."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from verify import KERNELS
from verify.core.balls import Ball
from verify.linalg.conditioning import conditioning_sweep

from .base import CheckContext, CheckSpec, Evidence, Figure, Table
from .common import ball_text
from .derived import FAR_DEPTH, derived_det_limit, limit_finding
from .trends import settled_or_decaying


@dataclass(frozen=True)
class DetLimitClaim:
    """The claimed limit of det(kappa) (normalized kernel) as L -> infinity."""

    limit: Fraction = Fraction(0)

    def __str__(self) -> str:
        return f"det(kappa) -> {self.limit}"


def _filled(ball: Ball | None) -> Ball:
    """A ball that conditioning_sweep always fills for a kernel that is not singular."""
    assert ball is not None  # only called for conditionings with `not c.singular`
    return ball


def ladder(ctx_: CheckContext) -> list[int]:
    return [1, 2, 3, 10, 100, 1000, 10**4] + ([10**5] if not ctx_.quick else [])


def run(ctx_: CheckContext, kernel: str, claim: DetLimitClaim):
    depths = ladder(ctx_)
    conds = conditioning_sweep(ctx_.data, depths + [FAR_DEPTH], kernel, digits=12, progress=ctx_.progress)
    dets = {c.depth: c.det for c in conds if not c.singular}
    tail = [d for d in depths if d >= 100]
    findings = [settled_or_decaying("det(kappa)", [(d, dets[d]) for d in tail], claim.limit),
                limit_finding("det(kappa)", [dets[FAR_DEPTH]], derived_det_limit(kernel, ctx_.data.n), claim.limit)]
    rows = [[str(c.depth), ball_text(c.det, 10), ball_text(_filled(c.log10_abs_det), 10), ball_text(c.lambda_min, 8),
             ball_text(_filled(c.lambda_max), 8), ball_text(_filled(c.condition_number), 8)]
            for c in conds if not c.singular]
    evidence = Evidence(
        tables=[Table(f"Certified det, log10 det, extreme eigenvalues and cond_2 of the normalized {kernel.upper()} "
                      f"({ctx_.data_spec})", ["L", "det", "log10 det", "lambda_min", "lambda_max", "cond_2"], rows)],
        figures=[Figure(f"experiment3_{kernel}_det", f"Experiment 3: log10 det(kappa) along depth ({kernel.upper()})",
                        "depth L", "log10 det", [{"label": kernel, "x": [c.depth for c in conds if not c.singular],
                                                  "y": [float(_filled(c.log10_abs_det).mid_fraction) for c in conds
                                                        if not c.singular]}], "log", "linear")],
        numbers={f"det_L{d}": {**dets[d].to_json(12), "kind": "certified"} for d in tail + [FAR_DEPTH]},
    )
    return findings, evidence, {"data": ctx_.data_spec, "depths": depths + [FAR_DEPTH], "digits": 12}


CHECK = CheckSpec(
    id="det-to-zero",
    title="det(kappa) tends to 0 with depth",
    claim_text="The determinant of the (normalized) kernel matrix tends to 0 as the depth grows.",
    claim_latex=r"\det \kappa^{(L)} \to 0 \quad (L\to\infty)",
    hypotheses="default model; distinct, non-antipodal points on the sphere; normalized kernel (the raw kernel's "
               "det also carries the factor raw_factor^n)",
    method="certified det, spectrum and cond_2 (Arb, relative-accuracy gaps) along depth; the limit from the "
           "certified decay or settling of det over the last decades",
    kernels=KERNELS,
    run=run,
    stated_claim=DetLimitClaim(Fraction(0)),
    false_claim=DetLimitClaim(Fraction(1)),
)
