"""theorem-1: the NTK of a finite network converges to a deterministic limit when width dominates depth."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from verify import KERNELS
from verify.data.sources import load_dataset
from verify.finite_width.montecarlo import PROFILES, run_study

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .finite_width_claim import theorem1_summary


@dataclass(frozen=True)
class WidthClaim:
    """The claimed direction of the deviation |Theta_emp - ThetaBar| as the width grows at fixed depth."""

    direction: int = -1                  # -1: vanishes with the width; +1: grows with the width

    def __str__(self) -> str:
        return "deviation vanishes as width grows" if self.direction < 0 else "deviation grows with width"


def finite_width_payload(ctx_: CheckContext) -> dict[str, Any]:
    """The Monte Carlo study (cached in the context: the NTK and NNGP checks share it).

    Its run time is kept under ``study_seconds``: the check that ran it is timed with it, the
    other one reuses it and says so.
    """
    if "finite_width" not in ctx_.extras:
        profile = PROFILES[ctx_.profile]
        data = load_dataset(profile.data)
        start = time.perf_counter()
        payload = run_study(profile, data, ctx_.param, seed=ctx_.seed % 2**32, progress=ctx_.progress)
        ctx_.extras["finite_width"] = payload
        ctx_.extras["finite_width_seconds"] = round(time.perf_counter() - start, 1)
        ctx_.extras["finite_width_first"] = None
    return ctx_.extras["finite_width"]


def shared_study_notes(ctx_: CheckContext, kernel: str, data_name: str) -> list[str]:
    """Which data the study used, and where its run time is counted (it is shared by both kernels)."""
    first = ctx_.extras.get("finite_width_first")
    if first is None:
        ctx_.extras["finite_width_first"] = first = kernel
    seconds = ctx_.extras.get("finite_width_seconds")
    timing = (f"The Monte Carlo study ({seconds} s) is shared by theorem-1 ntk and nngp; it ran once, timed with "
              f"theorem-1 ({first})" + ("." if first == kernel else ", so this check's own time is only the reading "
                                        "of its results."))
    data = (f"Data: {data_name}, the Monte Carlo dataset of the '{ctx_.profile}' profile (finite networks are "
            f"costly), not --data {ctx_.data_spec}, which the certified checks use.")
    return [data, timing]


def run(ctx_: CheckContext, kernel: str, claim: WidthClaim):
    payload = finite_width_payload(ctx_)
    fit = payload["width_exponent"] if kernel == "ntk" else payload["width_exponent_nngp"]
    lo, hi = fit["ci"]
    guarantee = "statistical (95% Monte Carlo interval, bootstrap over seeds)"
    if claim.direction < 0:
        supports = True if hi < 0 else (False if lo > 0 else None)
    else:
        supports = True if lo > 0 else (False if hi < 0 else None)
    findings = [Finding(
        "width exponent", supports,
        f"mean deviation ~ width^b with b = {fit['value']:.3f}, 95% CI [{lo:.3f}, {hi:.3f}] at depth "
        f"{fit['depth']} (widths {min(fit['widths'])}..{max(fit['widths'])}, {fit['seeds']} networks each)",
        guarantee)]
    if kernel == "ntk":
        for f in theorem1_summary(payload)["findings"][1:]:          # supporting context only
            findings.append(Finding(f["name"], f["supports"] if f["supports"] else None, f["certificate"],
                                    f["guarantee"]))
    rows_w = [r for r in payload["tables"]["deviation_vs_width"] if r["kernel"] == kernel]
    rows_r = [r for r in payload["tables"]["deviation_vs_ratio"] if r["kernel"] == kernel]
    table_w = Table(f"Deviation of the normalized empirical {kernel.upper()} from the certified kernel vs width "
                    f"(depth {fit['depth']})", ["width", "networks", "mean deviation", "95% CI"],
                    [[str(r["width"]), str(r["seeds"]), f"{r['deviation_mean']:.4f}",
                      f"[{r['deviation_ci'][0]:.4f}, {r['deviation_ci'][1]:.4f}]"] for r in rows_w],
                    note=payload["deviation_statistic"] if isinstance(payload["deviation_statistic"], str) else "")
    table_r = Table(f"Deviation vs depth/width ({kernel.upper()})", ["width", "depth", "L/n", "mean deviation",
                                                                   "95% CI"],
                    [[str(r["width"]), str(r["depth"]), f"{r['depth_over_width']:.4g}", f"{r['deviation_mean']:.4f}",
                      f"[{r['deviation_ci'][0]:.4f}, {r['deviation_ci'][1]:.4f}]"] for r in rows_r])
    widths = sorted({r["width"] for r in rows_r})
    xs = [r["width"] for r in rows_w]
    fitted = [math.exp(fit["intercept"]) * w ** fit["value"] for w in xs] if "intercept" in fit else []
    ratio_series = [{"label": f"width {w}", "x": [r["depth_over_width"] for r in rows_r if r["width"] == w],
                     "y": [r["deviation_mean"] for r in rows_r if r["width"] == w]} for w in widths]
    figures = [
        Figure(f"theorem1_{kernel}_width", f"{kernel.upper()}: deviation vs width (depth {fit['depth']}), "
               f"fit b = {fit['value']:.3f}", "width", "mean deviation",
               [{"label": "Monte Carlo mean", "x": xs, "y": [r["deviation_mean"] for r in rows_w]},
                {"label": "power-law fit", "reference": True, "x": xs if fitted else [], "y": fitted}],
               "log", "log"),
        Figure(f"theorem1_{kernel}_ratio", f"{kernel.upper()}: deviation vs depth/width", "depth / width",
               "mean deviation", ratio_series, "log", "log"),
    ]
    params = {"profile": payload["profile"], "seed": payload["seed"], "data": payload["data"]["name"],
              "normalization": payload["normalization"]}
    notes = shared_study_notes(ctx_, kernel, payload["data"]["name"])
    return findings, Evidence(tables=[table_w, table_r], figures=figures, notes=notes), params


CHECK = CheckSpec(
    id="theorem-1",
    title="Theorem 1: the finite-width NTK converges to a deterministic limit when width dominates depth",
    claim_text="If L = o(min width), the NTK of the finite network converges (in probability) to the "
               "deterministic limiting kernel as the widths grow.",
    claim_latex=r"L\in o(\min_l n_l)\ \Rightarrow\ \Theta_{\mathrm{emp}}\to\Theta^{(L)}_\infty",
    hypotheses="default model at initialization; fixed depth while the width grows; data on the sphere",
    method="Monte Carlo over seeded finite networks (exact per-layer gradients, float64): deviation of the "
           "normalized empirical kernel from the certified infinite-width kernel; power-law fit in the width "
           "with a bootstrap 95% interval",
    kernels=KERNELS,
    run=run,
    stated_claim=WidthClaim(-1),
    false_claim=WidthClaim(+1),
    per_kernel={"nngp": {
        "title": "Theorem 1 (NNGP analogue): the finite-width NNGP converges to a deterministic limit when width "
                 "dominates depth",
        "claim_text": "The same statement for the NNGP kernel (the covariance of the network's outputs): if "
                      "L = o(min width), the empirical NNGP of the finite network converges (in probability) to "
                      "the deterministic limiting kernel Sigma^(L) as the widths grow.",
        "claim_latex": r"L\in o(\min_l n_l)\ \Rightarrow\ \Sigma_{\mathrm{emp}}\to\Sigma^{(L)}_\infty",
        "method": "the NTK check's Monte Carlo study, read for the NNGP: deviation of the normalized empirical NNGP "
                  "(outer products of the last hidden layer) from the certified infinite-width kernel; power-law "
                  "fit in the width with a bootstrap 95% interval",
    }},
)
