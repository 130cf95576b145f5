"""hanin-nica: E[K(x,x)^2]/E[K(x,x)]^2 ~ exp(5 beta), beta = sum 1/n_l (Hanin and Nica 2019; open question 2).

The study (:func:`verify.finite_width.ntk_fluctuations.run_fluctuation_study`) measures the
ratio over beta = L/n from 0.01 to 1 with 95% intervals and fits c in A exp(c beta); this
module reads it as evidence: c's interval must contain the claimed exponent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from verify.finite_width.ntk_fluctuations import PROFILES, run_fluctuation_study

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .sources import HANIN_NICA

GUARANTEE = "statistical (95% Monte Carlo intervals, importance sampling over seeded networks)"
RANDOM_AT_ONE = 2.0
"""'Not deterministic' at beta = 1: E[K^2]/E[K]^2 > 2, i.e. the standard deviation of K exceeds its mean."""


@dataclass(frozen=True)
class FluctuationClaim:
    """The claimed exponent c of E[K^2]/E[K]^2 ~ A exp(c beta)."""

    exponent: float = 5.0

    def __str__(self) -> str:
        return f"E[K^2]/E[K]^2 ~ exp({self.exponent:g} beta)"


def study(ctx_: CheckContext) -> dict[str, Any]:
    """The study for the context's profile (cached in ``ctx.extras``: the stated and variant claims share it)."""
    if "ntk_fluctuations" not in ctx_.extras:
        ctx_.extras["ntk_fluctuations"] = run_fluctuation_study(PROFILES[ctx_.profile], seed=ctx_.seed % 2**32,
                                                                param=ctx_.param)
    return ctx_.extras["ntk_fluctuations"]


def _findings(payload: dict[str, Any], claim: FluctuationClaim) -> list[Finding]:
    fit, grid = payload["fit"], payload["grid"]
    lo, hi = fit["ci"]
    fitted = [r for r in grid if r["fitted"]]
    inside = lo <= claim.exponent <= hi
    found = [Finding(
        "exponent of exp(c beta)", inside,
        f"E[K^2]/E[K]^2 ~ A exp(c beta) with c = {fit['value']:.3f}, 95% CI [{lo:.3f}, {hi:.3f}] over beta = "
        f"{fitted[0]['beta']:g}..{fitted[-1]['beta']:g} (width {fitted[0]['width']}, {len(fitted)} depths, "
        f"{fitted[0]['networks']} networks each); claimed c = {claim.exponent:g} is "
        + ("inside" if inside else "outside") + f"; the exact ratios give c = {payload['exact_fit']['value']:.3f} "
        f"on the same depths", GUARANTEE)]
    top = grid[-1]
    random = top["ci"][0] > RANDOM_AT_ONE
    found.append(Finding(
        "the NTK is not deterministic when L/n is of order 1", True if random else None,
        f"at beta = {top['beta']:g} (depth {top['depth']}, width {top['width']}): E[K^2]/E[K]^2 = "
        f"{top['ratio']:.3f}, 95% CI [{top['ci'][0]:.3f}, {top['ci'][1]:.3f}] (exact {top['exact']:.4g}); "
        f"std(K)/E[K] = {math.sqrt(max(top['ratio'] - 1, 0)):.2f}", GUARANTEE))
    cov, net = payload["coverage"], payload["network_check"]
    ok = cov["p"] >= 0.01 and net["agree_at_99"]
    found.append(Finding(
        "simulation matches the exact moments and the network code", True if ok else None,
        f"{cov['inside']}/{cov['cells']} fitted intervals contain the exact ratio (binomial p = {cov['p']:.3f}); "
        f"{net['networks']} networks of the network code (width {net['width']}, depth {net['depth']}, plain "
        f"Monte Carlo): ratio {net['ratio']:.4f}, 95% CI [{net['ci'][0]:.4f}, {net['ci'][1]:.4f}], exact "
        f"{net['exact']:.4f}" + ("" if net["agree_at_99"] else " (disagree at 99%)"), GUARANTEE))
    return found


def _evidence(payload: dict[str, Any]) -> Evidence:
    grid, fit = payload["grid"], payload["fit"]
    rows = [[str(r["depth"]), f"{r['beta']:g}", f"{r['ratio']:.4f}", f"[{r['ci'][0]:.4f}, {r['ci'][1]:.4f}]",
             f"{r['exact']:.6g}", f"{math.exp(5 * r['beta']):.4g}", f"{r['exact'] / r['forward_factor']:.4f}",
             "yes" if r["fitted"] else "no (heavy tails)"] for r in grid]
    table = Table(
        f"E[K(x,x)^2]/E[K(x,x)]^2 vs beta = (L-1)/n, width n = {grid[0]['width']}",
        ["depth L", "beta", "Monte Carlo ratio", "95% CI", "exact ratio", "exp(5 beta)",
         "exact / prod(1+5/n)", "fitted"], rows,
        note="exact ratio: rational arithmetic on the independent-scalar representation of K "
             "(verify/finite_width/ntk_fluctuations.py); prod(1+5/n) = E[Q^2]/E[Q]^2 is the forward-norm factor.")
    betas = [r["beta"] for r in grid]
    line = [math.exp(fit["intercept"] + fit["value"] * b) for b in betas]
    figure = Figure(
        "hanin_nica_ratio", f"E[K^2]/E[K]^2 vs depth/width: fitted c = {fit['value']:.2f}", "beta = (L-1)/n",
        "E[K^2]/E[K]^2",
        [{"label": "Monte Carlo (95% CI in the table)", "x": betas, "y": [r["ratio"] for r in grid]},
         {"label": "exact", "reference": True, "x": betas, "y": [r["exact"] for r in grid]},
         {"label": "exp(5 beta)", "reference": True, "x": betas, "y": [math.exp(5 * b) for b in betas]},
         {"label": f"fit A exp({fit['value']:.2f} beta)", "reference": True, "x": betas, "y": line}],
        "linear", "log")
    factor = [r["exact"] / r["forward_factor"] for r in grid]
    notes = [
        f"Convention: {payload['beta_convention']}.",
        "The ratio is exp(5 beta) up to a bounded factor: exactly, E[K^2]/E[K]^2 = prod(1 + 5/n_l) x P, where "
        f"prod(1 + 5/n_l) = exp(5 beta + O(sum 1/n_l^2)) and P falls from {max(factor):.3f} to {min(factor):.3f} "
        f"on this grid. A fit of exp(c beta) therefore gives c below 5 on beta <= 1 (exact ratios: c = "
        f"{payload['exact_fit']['value']:.3f} on the fitted depths, {payload['exact_fit_all']['value']:.3f} on all).",
        f"Fitted on beta <= {fit['max_beta']:g}: beyond it the Monte Carlo ratio is dominated by rare networks and "
        "its interval under-covers (the exact values are shown instead).",
        f"Study time {payload['seconds']} s (the network-code cross-check {payload['network_check']['seconds']} s).",
    ]
    return Evidence(tables=[table], figures=[figure], notes=notes,
                    numbers={"exponent": {"value": fit["value"], "ci": fit["ci"], "kind": "statistical"}})


def run(ctx_: CheckContext, kernel: str | None, claim: FluctuationClaim):
    payload = study(ctx_)
    params = {"profile": payload["profile"], "seed": payload["seed"], "width": payload["grid"][0]["width"],
              "depths": [r["depth"] for r in payload["grid"]], "draws_per_depth": payload["grid"][0]["networks"],
              "fit_max_beta": payload["fit"]["max_beta"]}
    return _findings(payload, claim), _evidence(payload), params


CHECK = CheckSpec(
    id="hanin-nica",
    title="Hanin and Nica: the NTK fluctuates like exp(5 beta) when depth is comparable to width",
    claim_text="For a ReLU network of hidden widths n_l, E[K(x,x)^2]/E[K(x,x)]^2 is about exp(5 beta) with "
               "beta = sum_l 1/n_l, so the NTK is not deterministic when L/n is of order 1 (Hanin and Nica 2019, "
               "Theorem 1; the summary's open question 2). Read here: the exponent c of a fit A exp(c beta) over "
               "L/n from 0.01 to 1 is 5 within its interval.",
    claim_latex=r"\frac{\mathbb{E}[K(x,x)^2]}{\mathbb{E}[K(x,x)]^2}\approx e^{5\beta},\ \beta=\sum_l \frac{1}{n_l}",
    hypotheses="default model at initialization (NTK parameterization, sigma_w^2 = 1, no bias parameters; Hanin "
               "and Nica also train zero-initialized biases); equal hidden widths; one input x != 0 (the ratio "
               "depends on neither x nor sigma_w^2); beta over the hidden layers",
    method="Monte Carlo over seeded networks through an exact representation of K(x,x) by independent scalars "
           "(derived from the network code's conditional sampler, checked against it), with importance sampling "
           "of the forward-norm factor; 95% intervals by the delta method; OLS fit of log ratio on beta with a "
           "parametric-bootstrap interval; exact ratios in rational arithmetic beside",
    kernels=("ntk",),
    run=run,
    stated_claim=FluctuationClaim(5.0),
    false_claim=FluctuationClaim(1.0),
    source=HANIN_NICA,
)
