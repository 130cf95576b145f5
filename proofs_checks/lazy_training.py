"""lazy-training: wide networks trained by gradient descent stay close to their linearization.

Source: Chizat, Oyallon and Bach 2019, "On lazy training in differentiable programming"
(NeurIPS; Section 2: a model with scale factor alpha stays within O(1/alpha) of its
linearization, and an NTK-parameterized network of width n has alpha = sqrt(n) relative to
its mean-field form), and Jacot, Gabriel and Hongler 2018 (the kernel stays constant as
n -> infinity). The study is :func:`verify.finite_width.lazy_training.run_lazy_study`; this
module and :mod:`.feature_learning` read it.

What "O(width^p)" is taken to mean. Each quantity's mean over random networks is fitted as
C width^b (95% bootstrap interval [lo, hi] for b), and an exponent is resolved to
+-:data:`TOLERANCE`: room for the curvature of the log-log curve at finite width, small enough
to tell -1/2 from 0 and from -1.

* bound (``O``, the stated claim): the quantity falls at least as fast as width^p.
  Supported if hi <= p + TOLERANCE, contradicted if lo > p + TOLERANCE.
* sharp (``~``): the quantity falls like width^p. Supported if [lo, hi] lies within
  p +- TOLERANCE, contradicted if it lies outside, inconclusive if it straddles an end.

A finding that training went somewhere (the residual fell) can only support: without it
every quantity would be small for the wrong reason.

Why the bound reading. Over widths 64..4096 the relative parameter change and the deviation
from the infinite-width prediction fall like width^-1/2, but the kernel movement (b about
-0.67) and the deviation from the network's own linearization (about -0.65) fall faster: read
as a sharp rate (``RateClaim(-0.5, sharp=True)``) the claim is refuted by the kernel movement,
read as the O(.) bound the source states it is supported. Both readings are available.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from verify.finite_width.lazy_training import LAZY_PROFILES, QUANTITIES, power_law, run_lazy_study

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .sources import LAZY_TRAINING

TOLERANCE = 0.1
"""Half-width of the band around a claimed exponent within which it counts as attained."""
TRAINED = 0.5
"""Training counts as having gone somewhere when the mean ||f_T - y|| / ||f_0 - y|| is below this at every width."""
STATISTICAL = "statistical (95% percentile bootstrap over independent networks per width)"
LABELS = {
    "deviation": "max_t |f_t - f_t^lin| (linearization at init, kernel K_0)",
    "deviation_infinite": "max_t |f_t - f_t^inf| (infinite-width kernel prediction)",
    "kernel_movement": "||K_T - K_0||_F / ||K_0||_F",
    "parameter_change": "||theta_T - theta_0|| / ||theta_0||",
    "residual": "||f_T - y|| / ||f_0 - y||",
}
CLAIMED = ("deviation", "deviation_infinite", "kernel_movement", "parameter_change")


@dataclass(frozen=True)
class RateClaim:
    """Under the NTK scaling every quantity of :data:`CLAIMED` is O(width^exponent) (``sharp``: ~ width^exponent)."""

    exponent: float = -0.5
    sharp: bool = False

    def __str__(self) -> str:
        return f"{'~' if self.sharp else 'O'}(width^{self.exponent:g}) under the NTK scaling"


def exponent_support(ci: list[float], exponent: float, sharp: bool) -> bool | None:
    """Does the interval ``ci`` of a fitted exponent support b <= exponent (bound) or b = exponent (sharp)?

    >>> exponent_support([-0.75, -0.65], -0.5, False), exponent_support([-0.75, -0.65], -0.5, True)
    (True, False)
    >>> exponent_support([-0.55, -0.45], -1.0, False), exponent_support([-0.62, -0.5], -0.5, True)
    (False, None)
    """
    lo, hi = ci
    if sharp:
        if exponent - TOLERANCE <= lo and hi <= exponent + TOLERANCE:
            return True
        return False if hi < exponent - TOLERANCE or lo > exponent + TOLERANCE else None
    return True if hi <= exponent + TOLERANCE else (False if lo > exponent + TOLERANCE else None)


def lazy_payload(ctx_: CheckContext) -> dict[str, Any]:
    """The lazy-training study of the context's profile (cached in ``ctx.extras``, shared with feature-learning)."""
    if "lazy_training" not in ctx_.extras:
        start = time.perf_counter()
        ctx_.extras["lazy_training"] = run_lazy_study(LAZY_PROFILES[ctx_.profile], ctx_.param,
                                                      seed=ctx_.seed % 2**32, progress=ctx_.progress)
        ctx_.extras["lazy_training_seconds"] = round(time.perf_counter() - start, 1)
    payload: dict[str, Any] = ctx_.extras["lazy_training"]
    return payload


def fit_text(fit: dict[str, Any]) -> str:
    """'b = -0.512, 95% CI [-0.55, -0.47]'."""
    return f"b = {fit['value']:.3f}, 95% CI [{fit['ci'][0]:.3f}, {fit['ci'][1]:.3f}]"


def exponent_number(fit: dict[str, Any]) -> dict[str, Any]:
    """A fitted exponent for the evidence numbers: value, 95% interval and what kind of number it is."""
    return {"value": fit["value"], "ci": fit["ci"], "kind": "statistical (percentile bootstrap over networks)"}


def trained_finding(summary: dict[str, Any], scaling: str) -> Finding:
    """Supporting context only: the mean relative residual fell below :data:`TRAINED` at every width."""
    worst = max(r["residual_mean"] for r in summary["rows"])
    return Finding(f"training made progress ({scaling} scaling)", True if worst < TRAINED else None,
                   f"mean ||f_T - y|| / ||f_0 - y|| <= {worst:.3g} at every width", STATISTICAL)


def quantity_table(summary: dict[str, Any], title: str) -> Table:
    """Per width: mean and 95% t-interval of each quantity."""
    columns = ["width", "networks"] + [q.replace("_", " ") for q in QUANTITIES]
    rows = [[str(r["width"]), str(r["networks"])]
            + [f"{r[f'{q}_mean']:.4g} [{r[f'{q}_ci'][0]:.4g}, {r[f'{q}_ci'][1]:.4g}]" for q in QUANTITIES]
            for r in summary["rows"]]
    note = "Cells: mean over networks [95% t-interval]. " + "; ".join(f"{q}: {t}" for q, t in LABELS.items())
    return Table(title, columns, rows, note=note)


def fits_table(payload: dict[str, Any]) -> Table:
    """Fitted width exponents of every quantity under both scalings."""
    rows = [[scaling, LABELS[q], f"{fit['value']:.3f}", f"[{fit['ci'][0]:.3f}, {fit['ci'][1]:.3f}]"]
            for scaling, summ in payload["scalings"].items() for q, fit in summ["fits"].items()]
    return Table("Fitted exponents b of mean(quantity) ~ C width^b", ["scaling", "quantity", "b", "95% CI"], rows,
                 note="OLS of log(mean) on log(width); percentile bootstrap over the networks of each width.")


def loglog_figure(summary: dict[str, Any], name: str, title: str, quantities: tuple[str, ...]) -> Figure:
    """Each quantity's mean vs width with its power-law fit (dashed), log-log."""
    widths = [r["width"] for r in summary["rows"]]
    series: list[dict[str, Any]] = []
    for q in quantities:
        fit = summary["fits"][q]
        series.append({"label": f"{q.replace('_', ' ')} (b = {fit['value']:.2f})", "x": widths,
                       "y": [r[f"{q}_mean"] for r in summary["rows"]]})
        series.append({"label": f"fit {q.replace('_', ' ')}", "reference": True, "x": widths,
                       "y": power_law(fit, widths)})
    return Figure(name, title, "width", "mean over networks", series, "log", "log")


def settings(payload: dict[str, Any]) -> dict[str, Any]:
    """The parameters a result records: profile, seed, data, model, training."""
    return {k: payload[k] for k in ("profile", "seed", "data", "model", "training", "lambda_max_infinite")}


def run(ctx_: CheckContext, kernel: None, claim: RateClaim) -> tuple[list[Finding], Evidence, dict[str, Any]]:
    payload = lazy_payload(ctx_)
    summary = payload["scalings"]["ntk"]
    widths = [r["width"] for r in summary["rows"]]
    span = f"widths {min(widths)}..{max(widths)}, {summary['rows'][0]['networks']} networks each"
    findings = [Finding(f"{LABELS[q]} is {'~' if claim.sharp else 'O'}(width^{claim.exponent:g})",
                        exponent_support(summary["fits"][q]["ci"], claim.exponent, claim.sharp),
                        f"mean ~ width^b, {fit_text(summary['fits'][q])} ({span}; exponent resolved to "
                        f"+-{TOLERANCE:g})", STATISTICAL)
                for q in CLAIMED]
    findings.append(trained_finding(summary, "ntk"))
    figure = loglog_figure(summary, "lazy_training_ntk", "Lazy training (NTK scaling): quantities vs width",
                           CLAIMED)
    seconds = ctx_.extras.get("lazy_training_seconds")
    notes = [f"Training: {payload['training']}; data {payload['data']['name']}, targets {payload['data']['targets']}.",
             "The study is shared with feature-learning" + (f" ({seconds} s)." if seconds is not None else ".")]
    evidence = Evidence(tables=[quantity_table(summary, "NTK scaling: quantities per width"), fits_table(payload)],
                        figures=[figure], notes=notes,
                        numbers={f"exponent {q}": exponent_number(summary["fits"][q]) for q in CLAIMED})
    return findings, evidence, settings(payload)


CHECK = CheckSpec(
    id="lazy-training",
    title="Lazy training: wide networks stay close to their linearization (Chizat, Oyallon and Bach 2019)",
    claim_text="For a network of width n in the NTK parameterization trained by full-batch gradient descent on a "
               "small dataset, the function deviates from the kernel prediction f_t = y + (I - eta K)^t (f_0 - y) "
               "by O(1/sqrt(n)) (K the empirical NTK at init, or the infinite-width NTK), the tangent kernel moves "
               "by O(1/sqrt(n)) relative, and the relative parameter change is O(1/sqrt(n)).",
    claim_latex=r"\max_t|f_t-f^{\mathrm{lin}}_t|,\ \frac{\|K_T-K_0\|_F}{\|K_0\|_F},\ "
                r"\frac{\|\theta_T-\theta_0\|}{\|\theta_0\|}\in O(n^{-1/2})",
    hypotheses="ReLU network with one hidden layer of width n (NTK parameterization, the run's sigma_w^2 and "
               "sigma_b^2), 8 points on S^2 with targets y = x_1 + x_2 x_3, squared loss, learning rate 1 / "
               "lambda_max(K_inf), fixed number of steps; O(.) read as an upper bound on the width exponent",
    method="train seeded networks at widths 64..4096 with exact gradients (float64); fit mean(quantity) ~ C n^b "
           "on log-log with a percentile bootstrap interval over networks; b resolved to +-0.1",
    kernels=(None,),
    run=run,
    stated_claim=RateClaim(-0.5),
    false_claim=RateClaim(-1.0),
    source=LAZY_TRAINING,
)
