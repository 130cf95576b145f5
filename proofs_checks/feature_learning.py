"""feature-learning: with a small output multiplier the tangent kernel moves by order 1 (no lazy training).

Source: Chizat, Oyallon and Bach 2019 (lazy training is a matter of scale: with the output
multiplier width^-1/2, the mean-field scaling, the linearization no longer describes
training), and Yang and Hu 2021 (Tensor Programs IV: the maximal-update parameterization,
which for one hidden layer is this scaling). Reads the study of :mod:`.lazy_training`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import CheckContext, CheckSpec, Evidence, Finding
from .lazy_training import (
    STATISTICAL,
    TOLERANCE,
    exponent_number,
    exponent_support,
    fit_text,
    fits_table,
    lazy_payload,
    loglog_figure,
    quantity_table,
    settings,
    trained_finding,
)
from .sources import LAZY_TRAINING


@dataclass(frozen=True)
class MovementClaim:
    """Under the mean-field scaling the relative kernel movement is ~ width^exponent (0: of order 1)."""

    exponent: float = 0.0

    def __str__(self) -> str:
        return f"kernel movement ~ width^{self.exponent:g} under the mean-field scaling"


def run(ctx_: CheckContext, kernel: None, claim: MovementClaim) -> tuple[list[Finding], Evidence, dict[str, Any]]:
    payload = lazy_payload(ctx_)
    summary = payload["scalings"]["mean-field"]
    lazy = payload["scalings"]["ntk"]
    fit = summary["fits"]["kernel_movement"]
    rows = summary["rows"]
    top, top_lazy = rows[-1], lazy["rows"][-1]
    findings = [
        Finding(f"kernel movement ~ width^{claim.exponent:g} (mean-field scaling)",
                exponent_support(fit["ci"], claim.exponent, True),
                f"||K_T - K_0||_F / ||K_0||_F ~ width^b, {fit_text(fit)} (widths {rows[0]['width']}.."
                f"{top['width']}, {top['networks']} networks each; exponent resolved to +-{TOLERANCE:g}); "
                f"at width {top['width']} it is {top['kernel_movement_mean']:.3g} against "
                f"{top_lazy['kernel_movement_mean']:.3g} under the NTK scaling", STATISTICAL),
        trained_finding(summary, "mean-field"),
    ]
    figure = loglog_figure(summary, "feature_learning_mean_field",
                           "Mean-field scaling (output multiplier width^-1/2): quantities vs width",
                           ("kernel_movement", "parameter_change", "deviation"))
    lazy_series = {"label": "kernel movement, NTK scaling (lazy)", "x": [r["width"] for r in lazy["rows"]],
                   "y": [r["kernel_movement_mean"] for r in lazy["rows"]]}
    figure.series.append(lazy_series)
    notes = [f"Scaling: {summary['scaling']}; the same initial networks as the NTK scaling of lazy-training.",
             f"Training: {payload['training']}."]
    evidence = Evidence(tables=[quantity_table(summary, "Mean-field scaling: quantities per width"),
                                fits_table(payload)],
                        figures=[figure], notes=notes, numbers={"exponent kernel_movement": exponent_number(fit)})
    return findings, evidence, settings(payload)


CHECK = CheckSpec(
    id="feature-learning",
    title="Feature learning: with output multiplier width^-1/2 the tangent kernel moves by order 1",
    claim_text="Under a feature-learning scaling (output multiplier 1/sqrt(n), the mean-field / muP scaling of a "
               "one-hidden-layer network, learning rate scaled by n so that training progresses), the relative "
               "movement of the tangent kernel during training does not vanish as the width n grows: it is of "
               "order 1 (width exponent 0).",
    claim_latex=r"\alpha=n^{-1/2}:\ \frac{\|K_T-K_0\|_F}{\|K_0\|_F}\asymp n^{0}",
    hypotheses="the lazy-training study's networks and data, trained with f = n^{-1/2} g and parameter learning "
               "rate n / lambda_max(K_inf)",
    method="the lazy-training study read for the mean-field scaling: exponent of the mean relative kernel "
           "movement in the width (bootstrap 95% interval), required within 0 +- 0.1",
    kernels=(None,),
    run=run,
    stated_claim=MovementClaim(0.0),
    false_claim=MovementClaim(-0.5),
    source=LAZY_TRAINING,
)
