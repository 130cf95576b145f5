"""invertibility: kappa is invertible for L >= 2 on the sphere in three data regimes; colinear inputs break it."""

from __future__ import annotations

from dataclasses import dataclass

from verify import KERNELS, Dataset
from verify.core.balls import decimal_upper
from verify.data.sources import load_dataset
from verify.linalg.conditioning import conditioning_sweep
from verify.linalg.null_certificate import null_residual_bound
from verify.linalg.singularity import diagnose, regime_of

from .base import CheckContext, CheckSpec, Evidence, Finding, Table
from .common import ball_text, lower


@dataclass(frozen=True)
class InvertibilityClaim:
    """kappa invertible for distinct points from ``from_depth`` on; antipodal (x' = -x) pairs break it or not."""

    from_depth: int = 2
    distinct_invertible: bool = True
    antipodal_breaks: bool = True

    def __str__(self) -> str:
        return (f"distinct points: {'invertible' if self.distinct_invertible else 'singular'} for L >= "
                f"{self.from_depth}; x' = -x {'breaks' if self.antipodal_breaks else 'does not break'} it")


def regime_datasets() -> dict[str, Dataset]:
    """One dataset per regime (exact rationals): R1 random, R2 one antipodal pair, R3 dependent antipodal pairs,
    and coinciding points."""
    sphere = load_dataset("builtin:sphere-5")
    pts = list(sphere.points)
    r2 = pts + [tuple(-v for v in pts[0])]
    r3 = [["1", "0"], ["0", "1"], ["-1", "0"], ["0", "-1"], ["1", "1"], ["-1", "-1"]]
    dup = pts[:4] + [pts[1]]
    return {"R1 (random, no antipodal pair)": sphere,
            "R2 (one antipodal pair)": Dataset.from_rows(r2, name="R2"),
            "R3 (3 antipodal pairs in R^2)": Dataset.from_rows(r3, name="R3"),
            "coinciding points": Dataset.from_rows(dup, name="duplicates")}


def _null_residual(data: Dataset, depth: int, kernel: str) -> str:
    """Certified bound on |kappa u|_2 / |u|_2 for the exact null-vector certificate u (an upper bound on
    lambda_min)."""
    bound = null_residual_bound(data, depth, kernel)
    value = decimal_upper(bound.mid_fraction + bound.rad_fraction, 2)
    return f"lambda_min <= |kappa u|_2 / |u|_2 <= {value} (certified)"


def run(ctx_: CheckContext, kernel: str, claim: InvertibilityClaim):
    depths = [1, 2, 3, 10]
    rows, singular_after, invertible_after, antipodal_invertible, dup_singular = [], None, [], None, None
    for name, data in regime_datasets().items():
        regime = regime_of(data)
        ok_depths = [d for d in depths if not diagnose(data, d).singular]
        conds = {c.depth: c for c in conditioning_sweep(data, ok_depths, kernel, digits=10)} if ok_depths else {}
        for d in depths:
            diag = diagnose(data, d)
            if diag.singular:
                cert = _null_residual(data, d, kernel) if d >= 2 else "exact (depth 1: linear kernel)"
                rows.append([name, str(d), "singular", diag.message, cert])
                if name.startswith("R") and d >= claim.from_depth and singular_after is None:
                    singular_after = (name, d, diag.message, cert)
                if name == "coinciding points" and d >= 2:
                    dup_singular = (d, diag.message)
                continue
            lam = conds[d].lambda_min
            certified_pos = lower(lam) > 0
            rows.append([name, str(d), "invertible" if certified_pos else "undecided",
                         f"lambda_min = {ball_text(lam, 8)}", regime.describe()])
            if name.startswith("R") and d >= claim.from_depth and certified_pos:
                invertible_after.append((name, d, lam))
            if name.startswith("R2") and d >= 2 and certified_pos and antipodal_invertible is None:
                antipodal_invertible = (d, lam)

    findings: list[Finding] = []
    if claim.distinct_invertible:
        if singular_after:
            name, d, msg, cert = singular_after
            findings.append(Finding(f"distinct points invertible for L >= {claim.from_depth}", False,
                                    f"{name} at L = {d}: {msg}; {cert}", "exact + certified"))
        else:
            findings.append(Finding(f"distinct points invertible for L >= {claim.from_depth}", True,
                                    f"lambda_min > 0 certified for every regime dataset at every L >= "
                                    f"{claim.from_depth} in {depths}", "certified (on these datasets)"))
    else:
        name, d, lam = invertible_after[0]
        findings.append(Finding("distinct points singular", False,
                                f"{name} at L = {d}: lambda_min = {ball_text(lam)} > 0", "certified"))
    if antipodal_invertible:
        d, lam = antipodal_invertible
        findings.append(Finding("x' = -x breaks invertibility" if claim.antipodal_breaks
                                else "x' = -x keeps invertibility", not claim.antipodal_breaks,
                                f"R2 (with x and -x) at L = {d}: lambda_min = {ball_text(lam)} > 0", "certified"))
    if dup_singular:
        d, msg = dup_singular
        findings.append(Finding("coinciding points break invertibility", True, f"L = {d}: {msg}", "exact"))
    evidence = Evidence(tables=[Table(f"Invertibility of the normalized {kernel.upper()} by data regime "
                                      "(next check 2)", ["dataset", "L", "status", "evidence", "certificate / regime"],
                                      rows, note="regimes from verify.linalg.singularity (exact rational diagnosis)")])
    return findings, evidence, {"depths": depths, "datasets": list(regime_datasets())}


CHECK = CheckSpec(
    id="invertibility",
    title="Invertibility of kappa on the sphere for L >= 2",
    claim_text="On the sphere kappa is invertible for L >= 2 (in three data regimes); colinear inputs break "
               "invertibility.",
    claim_latex=r"L\ge 2,\ x_i\in S^{n_0-1}\ \Rightarrow\ \det\kappa^{(L)}\neq 0",
    hypotheses="default model (no bias); read as: distinct points give an invertible kappa for every L >= 2, and "
               "colinear points (x' = x or x' = -x) make it singular",
    method="exact rational diagnosis of the data (coinciding points, antipodal pairs and the rank of their "
           "directions), certified lambda_min > 0 (Arb) where invertible, and a certified bound "
           "lambda_min <= |kappa u|_2 / |u|_2 for the exact null vector u where singular",
    kernels=KERNELS,
    run=run,
    stated_claim=InvertibilityClaim(2, True, True),
    false_claim=InvertibilityClaim(2, False, True),
)
