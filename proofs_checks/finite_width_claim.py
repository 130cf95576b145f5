"""Theorem 1 read off a finite-width Monte Carlo study: the summary and findings (verdict words live here).

The study itself (:func:`verify.finite_width.montecarlo.run_study`) only measures; this
module says what the measurements mean for the claim "the NTK of a finite network
converges to the deterministic ThetaBar when depth L = o(min width)". ``ntk-verify
finite-width`` and the ``theorem-1`` check both use it.
"""

from __future__ import annotations

from typing import Any

from verify import KERNELS
from verify.finite_width.montecarlo import GUARANTEE, coverage_p_value


def theorem1_summary(payload: dict[str, Any]) -> dict[str, Any]:
    """Validated statistically: what the study says about Theorem 1 (NTK -> deterministic limit if L = o(n)).

    ``supported`` when the 95% interval of the NTK width exponent lies below 0 (the
    deviation vanishes as the width grows at fixed depth). The grid adds the regime
    statement: at the largest width, the mean deviation at the largest depth over the
    one at the smallest depth (growth with depth), the depth/width exponent, and the
    exact check of the empirical-NNGP log-diagonal mean, sum_l E log r_l, against the
    measured 95% intervals.
    """
    fit = payload["width_exponent"]
    grid = [r for r in payload["tables"]["deviation_vs_ratio"] if r["kernel"] == "ntk"]
    out: dict[str, Any] = {
        "claim": "the NTK of a finite network converges to the deterministic ThetaBar when "
                 "depth L = o(min width)",
        "verdict": "supported" if fit["ci"][1] < 0 else "not supported",
        "guarantee": GUARANTEE,
        "parameterization": payload["parameterization"]["name"],
        "width_exponent": {"value": fit["value"], "ci": fit["ci"], "depth": fit["depth"]},
    }
    if payload.get("ratio_exponent"):
        out["ratio_exponent"] = {k: payload["ratio_exponent"][k] for k in ("value", "ci")}
    if grid:
        top = max(r["width"] for r in grid)
        col = sorted((r for r in grid if r["width"] == top), key=lambda r: r["depth"])
        out["depth_growth_at_width"] = {
            "width": top, "depths": [col[0]["depth"], col[-1]["depth"]],
            "deviation_ratio": col[-1]["deviation_mean"] / col[0]["deviation_mean"]}
    exact = [r for r in payload["tables"]["deviation_vs_ratio"]
             if r["kernel"] == "nngp" and r["log_diag_exact"] is not None and r["log_diag_ci"]]
    if exact:
        inside = sum(r["log_diag_ci"][0] <= r["log_diag_exact"] <= r["log_diag_ci"][1]
                     for r in exact)
        out["nngp_log_diagonal"] = {
            "formula": "E log(Sigma_emp(x,x)/Sigma(x,x)) = sum_l E log r_l (exact, no bias)",
            "cells": len(exact), "inside_95_ci": int(inside),
            "coverage_p": coverage_p_value(int(inside), len(exact))}
    out["findings"] = theorem1_findings(out, payload)
    return out


def theorem1_findings(summary: dict[str, Any], payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Findings for the Theorem-1 check (fields of ``proofs_checks.base.Finding``), statistical guarantee.

    Only the width exponent can support or contradict the claim; the depth/width
    growth and the exact-moment validation can only support (the first shows why the
    hypothesis L = o(n) is needed, the second that the simulation is right) and are
    inconclusive otherwise.
    """
    guarantee = "statistical (95% Monte Carlo intervals)"
    fit = payload["width_exponent"]
    lo, hi = fit["ci"]
    found = [{
        "name": "deviation vanishes with the width at fixed depth",
        "supports": True if hi < 0 else (False if lo > 0 else None),
        "certificate": f"mean deviation ~ width^b, b = {fit['value']:.3f}, 95% CI [{lo:.3f}, "
                       f"{hi:.3f}] at depth {fit['depth']} (widths {min(fit['widths'])}.."
                       f"{max(fit['widths'])}, {fit['seeds']} networks each)",
        "guarantee": guarantee}]
    ratio = payload.get("ratio_exponent")
    if ratio:
        found.append({
            "name": "fluctuations grow with depth/width (the L = o(n) hypothesis matters)",
            "supports": True if ratio["ci"][0] > 0 else None,
            "certificate": f"mean deviation ~ (L/n)^c, c = {ratio['value']:.3f}, 95% CI "
                           f"[{ratio['ci'][0]:.3f}, {ratio['ci'][1]:.3f}] over L/n <= "
                           f"{ratio['max_ratio']:g}",
            "guarantee": guarantee})
    moments = summary.get("nngp_log_diagonal")
    cross = payload.get("sampler_crosscheck", {})
    if moments:
        ok = moments["coverage_p"] >= 0.01 and all(cross.get(k, {}).get("agree_at_99", True)
                                                    for k in KERNELS)
        found.append({
            "name": "simulation matches exact finite-width moments",
            "supports": True if ok else None,
            "certificate": f"{moments['inside_95_ci']}/{moments['cells']} intervals contain the "
                           f"exact E log NNGP diagonal (binomial p = {moments['coverage_p']:.3f}); "
                           "dense and conditional samplers agree at 99%"
                           if ok else "exact-moment or sampler check failed",
            "guarantee": guarantee})
    return found
