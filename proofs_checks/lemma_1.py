"""lemma-1: rho^(L+1) = h(rho^(L)) increases strictly to 1 for rho^(1) in (-1, 1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from verify import Ball, kernel_sweep
from verify.kernel.correlation_gain import h_minus_identity

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
    worst = None
    for k in range(1, points):
        z = 1 - Fraction(2 * k, points)                    # e = 1 - z in (0, 2)
        low = lower(h_minus_identity(z, prec=128))
        if not low > 0:
            return False, f"h(z) - z not certified positive at z = {z}"
        if worst is None or low < worst:
            worst = low
    assert worst is not None  # the loop ran (points >= 2) and every step set it
    return True, f"h(z) - z > {float(worst):.3e} certified at {points - 1} grid points"


@dataclass
class Orbits:
    """Certified orbits rho^(L) from every rho^(1) of the grid, and what they show about the claim."""

    steps: list[int]
    ladder: list[int]
    increase_ok: bool = True
    limit_breach: tuple[str, int, Ball] | None = None          # (rho1, L, rho^(L) > claimed limit)
    decrease_seen: tuple[str, int, int, Ball, Ball] | None = None
    table_rows: list[list[str]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)     # 1 - rho^(L) along the ladder
    orbit50: list[dict[str, Any]] = field(default_factory=list)    # rho^(L) for L = 1..50

    def add(self, rho: str, balls: dict[int, Ball], gaps: dict[int, Ball], claim: SequenceClaim) -> None:
        """One orbit: its certified steps, a breach of the claimed limit, its table row and figure series."""
        steps, ladder = self.steps, self.ladder
        for a, b in zip(steps, steps[1:], strict=False):
            if not certainly_less(balls[a], balls[b]):
                self.increase_ok = False
            if self.decrease_seen is None and certainly_less(balls[a], balls[b]):  # contradicts 'decreases'
                self.decrease_seen = (rho, a, b, balls[a], balls[b])
        for d in ladder:
            if self.limit_breach is None and claim.limit < 1 and lower(balls[d]) > claim.limit:
                self.limit_breach = (rho, d, balls[d])
        top = ladder[-1]
        self.table_rows.append([rho] + [ball_text(gaps[d], 8) for d in ladder[3:]]
                               + [f"{float(gaps[top].mid_fraction) * top * top:.6f}"])
        self.series.append({"label": f"rho1 = {rho}", "x": ladder,
                            "y": [float(gaps[d].mid_fraction) for d in ladder]})
        self.orbit50.append({"label": f"rho1 = {rho}", "x": steps,
                             "y": [float(balls[d].mid_fraction) for d in steps]})


def _orbits(ctx_: CheckContext, claim: SequenceClaim, depths: list[int], steps: list[int]) -> Orbits:
    out = Orbits(steps, ctx_.depth_ladder())
    for rho in RHO_GRID:
        sweep = kernel_sweep(pair_rows(rho), depths, kernel="nngp", digits=ctx_.digits,
                             relative_gap=True, progress=ctx_.progress)
        out.add(rho, {r.depth: r.entries[0][1] for r in sweep}, {r.depth: r.gaps[0][1] for r in sweep}, claim)
    return out


def _direction_finding(orbits: Orbits, claim: SequenceClaim) -> Finding:
    if claim.direction > 0:
        grid_ok, grid_msg = _h_above_identity_on_grid()
        ok = orbits.increase_ok and grid_ok
        return Finding(
            "strict increase", ok,
            ("rho^(l) < rho^(l+1) certified for l = 1..49 on every orbit; " + grid_msg
             + "; analytically h(z) - z = (sqrt(1-z^2) - z arccos z)/pi > 0 on (-1,1) (tan t > t)")
            if ok else "a step was not certified increasing", "certified")
    # the orbits increase, so a certified increasing step refutes the 'decreases' claim (recorded above)
    assert orbits.decrease_seen is not None
    rho, a, b, ba, bb = orbits.decrease_seen
    return Finding("claimed decrease", False,
                   f"rho1={rho}: rho^({a}) = {ball_text(ba)} < rho^({b}) = {ball_text(bb)}", "certified")


def _limit_finding(orbits: Orbits, claim: SequenceClaim) -> Finding:
    top = orbits.ladder[-1]
    if claim.limit > 1:
        return Finding("limit", False, "h maps [-1, 1] into [0, 1], so rho^(L) <= 1 < claimed limit", "certified")
    if claim.limit < 1:
        if orbits.limit_breach:
            rho, d, b = orbits.limit_breach
            return Finding(
                "limit", False,
                f"rho1={rho}: rho^({d}) = {ball_text(b)} > {claim.limit}; rho^(L) increases, so its limit "
                f"exceeds the claimed {claim.limit}", "certified")
        return Finding("limit", None, f"no certified value beyond {claim.limit} up to L={top}", "certified")
    return Finding(
        "limit 1", orbits.increase_ok,
        f"monotone and bounded by 1, so rho^(L) converges to a fixed point of h; h(z) = z on [-1, 1] only "
        f"at z = 1 (h(z) > z on (-1, 1), h(-1) = 0); certified 1 - rho^({top}) in the table "
        f"(about 9 pi^2/(2 L^2) = {9 * math.pi ** 2 / 2 / top ** 2:.3e})", "certified")


def _evidence(orbits: Orbits) -> Evidence:
    ladder, top = orbits.ladder, orbits.ladder[-1]
    return Evidence(
        tables=[Table("Certified gaps 1 - rho^(L) (relative accuracy) and (1 - rho^(L)) L^2 at the top depth",
                      ["rho^(1)"] + [f"L = {d}" for d in ladder[3:]] + [f"(1-rho)L^2 at L={top}"],
                      orbits.table_rows, note=f"9 pi^2 / 2 = {9 * math.pi ** 2 / 2:.6f}")],
        figures=[
            Figure("lemma1_gap", "1 - rho^(L) along depth (certified midpoints)", "depth L", "1 - rho^(L)",
                   orbits.series + [{"label": "9 pi^2 / (2 L^2)", "x": ladder,
                                     "y": [9 * math.pi ** 2 / 2 / d ** 2 for d in ladder]}], "log", "log"),
            Figure("experiment2_rho_orbit", "Experiment 2: rho^(L) through L = 50", "depth L", "rho^(L)",
                   orbits.orbit50),
        ],
    )


def run(ctx_: CheckContext, kernel: str | None, claim: SequenceClaim):
    steps = list(range(1, 51))
    depths = sorted(set(ctx_.depth_ladder()) | set(steps))
    orbits = _orbits(ctx_, claim, depths, steps)
    findings = [_direction_finding(orbits, claim), _limit_finding(orbits, claim)]
    return findings, _evidence(orbits), {"rho1": RHO_GRID, "depths": depths, "digits": ctx_.digits}


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
