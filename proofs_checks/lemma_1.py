"""lemma-1: rho^(L+1) = h(rho^(L)) increases strictly to 1 for rho^(1) in (-1, 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx, fmpq

from verify import kernel_sweep
from verify.core.balls import Ball
from verify.kernel.correlation_map import gap_map_arb

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import RHO_GRID, ball_text, certainly_less, lower, pair_rows


@dataclass(frozen=True)
class SequenceClaim:
    """The claimed behaviour of rho^(L): its direction (+1 increasing, -1 decreasing) and limit."""

    direction: int = 1
    limit: Fraction = Fraction(1)

    def __str__(self) -> str:
        return f"{'increases' if self.direction > 0 else 'decreases'} to {self.limit}"


def _h_above_identity_on_grid(points: int = 2000) -> tuple[bool, str]:
    """Certified: h(z) > z (i.e. g(e) < e for e = 1 - z) at ``points`` grid points of (-1, 1)."""
    with ctx.workprec(128):
        worst = None
        for k in range(1, points):
            e = arb(fmpq(2 * k, points))                   # e in (0, 2)
            diff = e - gap_map_arb(e)                       # = h(z) - z
            if not diff > 0:
                return False, f"h(z) - z not certified positive at z = {1 - Fraction(2 * k, points)}"
            if worst is None or diff.lower() < worst:
                worst = diff.lower()
    assert worst is not None  # the loop ran (points >= 2) and every step set it
    return True, f"h(z) - z > {float(worst):.3e} certified at {points - 1} grid points"


def run(ctx_: CheckContext, kernel: str | None, claim: SequenceClaim):
    ladder = ctx_.depth_ladder()
    steps = list(range(1, 51))
    depths = sorted(set(ladder) | set(steps))
    findings: list[Finding] = []
    table_rows, series, orbit50 = [], [], []
    increase_ok, limit_breach = True, None
    decrease_seen: tuple[str, int, int, Ball, Ball] | None = None
    for rho in RHO_GRID:
        sweep = kernel_sweep(pair_rows(rho), depths, kernel="nngp", digits=ctx_.digits,
                             relative_gap=True, progress=ctx_.progress)
        balls = {r.depth: r.entries[0][1] for r in sweep}
        gaps = {r.depth: r.gaps[0][1] for r in sweep}
        for a, b in zip(steps, steps[1:], strict=False):
            if not certainly_less(balls[a], balls[b]):
                increase_ok = False
            if decrease_seen is None and certainly_less(balls[a], balls[b]):  # contradicts 'decreases'
                decrease_seen = (rho, a, b, balls[a], balls[b])
        for d in ladder:
            if limit_breach is None and claim.limit < 1 and lower(balls[d]) > claim.limit:
                limit_breach = (rho, d, balls[d])
        top = ladder[-1]
        table_rows.append([rho] + [ball_text(gaps[d], 8) for d in ladder[3:]]
                          + [f"{float(gaps[top].mid_fraction) * top * top:.6f}"])
        series.append({"label": f"rho1 = {rho}", "x": ladder,
                       "y": [float(gaps[d].mid_fraction) for d in ladder]})
        orbit50.append({"label": f"rho1 = {rho}", "x": steps,
                        "y": [float(balls[d].mid_fraction) for d in steps]})
    grid_ok, grid_msg = _h_above_identity_on_grid()

    # direction
    if claim.direction > 0:
        findings.append(Finding(
            "strict increase", increase_ok and grid_ok,
            ("rho^(l) < rho^(l+1) certified for l = 1..49 on every orbit; " + grid_msg
             + "; analytically h(z) - z = (sqrt(1-z^2) - z arccos z)/pi > 0 on (-1,1) (tan t > t)")
            if increase_ok and grid_ok else "a step was not certified increasing", "certified"))
    else:
        # the orbits increase, so a certified increasing step refutes the 'decreases' claim (recorded above)
        assert decrease_seen is not None
        rho, a, b, ba, bb = decrease_seen
        findings.append(Finding("claimed decrease", False,
                                f"rho1={rho}: rho^({a}) = {ball_text(ba)} < rho^({b}) = {ball_text(bb)}",
                                "certified"))
    # limit
    top = ladder[-1]
    if claim.limit > 1:
        findings.append(Finding("limit", False, "h maps [-1, 1] into [0, 1], so rho^(L) <= 1 < claimed limit",
                                "certified"))
    elif claim.limit < 1:
        if limit_breach:
            rho, d, b = limit_breach
            findings.append(Finding(
                "limit", False,
                f"rho1={rho}: rho^({d}) = {ball_text(b)} > {claim.limit}; rho^(L) increases, so its limit "
                f"exceeds the claimed {claim.limit}", "certified"))
        else:
            findings.append(Finding("limit", None, f"no certified value beyond {claim.limit} up to L={top}",
                                    "certified"))
    else:
        findings.append(Finding(
            "limit 1", increase_ok,
            f"monotone and bounded by 1, so rho^(L) converges to a fixed point of h; h(z) = z on [-1, 1] only "
            f"at z = 1 (h(z) > z on (-1, 1), h(-1) = 0); certified 1 - rho^({top}) in the table "
            f"(about 9 pi^2/(2 L^2) = {9 * math.pi ** 2 / 2 / top ** 2:.3e})", "certified"))
    evidence = Evidence(
        tables=[Table("Certified gaps 1 - rho^(L) (relative accuracy) and (1 - rho^(L)) L^2 at the top depth",
                      ["rho^(1)"] + [f"L = {d}" for d in ladder[3:]] + [f"(1-rho)L^2 at L={top}"],
                      table_rows, note=f"9 pi^2 / 2 = {9 * math.pi ** 2 / 2:.6f}")],
        figures=[
            Figure("lemma1_gap", "1 - rho^(L) along depth (certified midpoints)", "depth L", "1 - rho^(L)",
                   series + [{"label": "9 pi^2 / (2 L^2)", "x": ladder,
                              "y": [9 * math.pi ** 2 / 2 / d ** 2 for d in ladder]}], "log", "log"),
            Figure("experiment2_rho_orbit", "Experiment 2: rho^(L) through L = 50", "depth L", "rho^(L)",
                   orbit50),
        ],
    )
    return findings, evidence, {"rho1": RHO_GRID, "depths": depths, "digits": ctx_.digits}


CHECK = CheckSpec(
    id="lemma-1",
    title="Lemma 1: the correlation increases strictly to 1",
    claim_text="For rho^(1) in (-1, 1), rho^(L+1) = h(rho^(L)) increases strictly and converges to 1.",
    claim_latex=r"\rho^{(1)}\in(-1,1)\ \Rightarrow\ \rho^{(L)} \nearrow 1 \text{ strictly}",
    hypotheses="default model (ReLU, NTK parameterization, sigma_w^2 = 1, no bias); rho^(1) in (-1, 1)",
    method="certified orbits (Arb) from a grid of rho^(1); certified h(z) > z on a grid plus the analytic "
           "argument; certified gaps 1 - rho^(L) to the top depth",
    kernels=(None,),
    run=run,
    stated_claim=SequenceClaim(1, Fraction(1)),
    false_claim=SequenceClaim(1, Fraction(99, 100)),
)
