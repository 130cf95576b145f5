"""slow-convergence: the depth needed for 1 - rho^(L) < delta ("K >> 1/delta" in the summary)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from verify.kernel.depth_thresholds import first_depth_below

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text


@dataclass(frozen=True)
class DepthOrderClaim:
    """The claimed order of the needed depth: K(delta) grows like delta^(-exponent)."""

    exponent: Fraction = Fraction(1)

    def __str__(self) -> str:
        return f"K(delta) ~ delta^-{self.exponent}"


def run(ctx_: CheckContext, kernel: str | None, claim: DepthOrderClaim):
    exps = [2, 3, 4, 5, 6] + ([7, 8] if not ctx_.quick else [])
    rhos = ["0", "0.9"]
    rows, series, scaled = [], [], {}
    for rho in rhos:
        ks = []
        for k in exps:
            res = first_depth_below(Fraction(rho), Fraction(1, 10**k))
            ks.append(res["depth"])
            rows.append([rho, f"1e-{k}", str(res["depth"]), ball_text(res["gap_at_depth"], 8),
                         ball_text(res["gap_before"], 8) if res["gap_before"] else "-",
                         f"{res['depth'] * 10 ** (-k / 2):.4f}"])
        series.append({"label": f"rho1 = {rho}", "x": [10.0**-k for k in exps], "y": ks})
        scaled[rho] = [K * 10.0 ** (-k * float(claim.exponent)) for K, k in zip(ks, exps, strict=True)]
    # K(delta) * delta^p must stay bounded away from 0 and infinity if K ~ delta^-p
    findings = []
    for rho, vals in scaled.items():
        ratio = vals[-1] / vals[0]
        span = exps[-1] - exps[0]
        if ratio < 0.1 or ratio > 10:
            trend = "falls" if ratio < 1 else "grows"
            findings.append(Finding(
                f"order (rho1={rho})", False,
                f"K(delta) delta^{claim.exponent} {trend} by a factor {ratio:.3g} over {span} decades of delta "
                f"(certified thresholds; fitted K ~ delta^-{_slope(exps, vals, claim):.3f})", "certified thresholds"))
        elif 0.5 < ratio < 2:
            spread = max(ratio, 1 / ratio)
            findings.append(Finding(f"order (rho1={rho})", True,
                                    f"K(delta) delta^{claim.exponent} stays within a factor {spread:.3f} "
                                    f"over {span} decades", "certified thresholds"))
        else:
            findings.append(Finding(f"order (rho1={rho})", None, f"ratio {ratio:.3g}", "certified thresholds"))
    const = 3 * math.pi / math.sqrt(2)
    evidence = Evidence(
        tables=[Table("Certified depth thresholds K(delta) = min{L : 1 - rho^(L) < delta}",
                      ["rho^(1)", "delta", "K", "1 - rho^(K)", "1 - rho^(K-1)", "K sqrt(delta)"], rows,
                      note=f"asymptotically K sqrt(delta) -> 3 pi / sqrt 2 = {const:.4f}")],
        figures=[Figure("slow_convergence_depth", "Depth needed for 1 - rho^(L) < delta", "delta", "K(delta)",
                        series + [{"label": "1/delta", "x": [10.0**-k for k in exps], "y": [10.0**k for k in exps]}],
                        "log", "log")],
    )
    return findings, evidence, {"rho1": rhos, "delta": [f"1e-{k}" for k in exps]}


def _slope(exps: list[int], scaled: list[float], claim: DepthOrderClaim) -> float:
    """Exponent p' of K ~ delta^-p' from the end points."""
    k_ratio = math.log10(scaled[-1] / scaled[0]) + float(claim.exponent) * (exps[-1] - exps[0])
    return k_ratio / (exps[-1] - exps[0])


CHECK = CheckSpec(
    id="slow-convergence",
    title="Slow convergence: depth needed for 1 - rho^(L) < delta",
    claim_text="Reaching 1 - rho^(L) < delta needs depth K >> 1/delta (convergence of rho^(L) to 1 is extremely slow).",
    claim_latex=r"1-\rho^{(K)}<\delta \ \text{requires}\ K \gg 1/\delta",
    hypotheses="default model; rho^(1) in (-1, 1); read as: the needed depth grows like delta^-1",
    method="certified first-passage depths K(delta) (Arb orbits, gap balls on both sides of delta) over "
           "several decades of delta; the claimed order holds iff K(delta) delta^p stays bounded",
    kernels=(None,),
    run=run,
    stated_claim=DepthOrderClaim(Fraction(1)),
    false_claim=DepthOrderClaim(Fraction(2)),
)
