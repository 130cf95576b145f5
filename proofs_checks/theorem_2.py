"""theorem-2: the normalized limiting kernel strictly increases to (approaches) the matrix of ones."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from verify import KERNELS, KernelResult, kernel_matrix, kernel_sweep

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text, certainly_less, lower, upper
from .derived import FAR_DEPTH, derived_entry_limit, limit_finding


@dataclass(frozen=True)
class KernelLimitClaim:
    """The claimed off-diagonal limit of the normalized kernel, and whether it increases to it."""

    limit: Fraction = Fraction(1)
    increasing: bool = True

    def __str__(self) -> str:
        return f"{'increases' if self.increasing else 'tends'} to {self.limit} off the diagonal"


def _distance(ball, c: Fraction) -> tuple[Fraction, Fraction]:
    """Certified [low, high] of |x - c| over the ball."""
    lo, hi = lower(ball) - c, upper(ball) - c
    if lo <= 0 <= hi:
        return Fraction(0), max(-lo, hi)
    return min(abs(lo), abs(hi)), max(abs(lo), abs(hi))


def _increase_finding(sweep: dict[int, KernelResult], pairs: list[tuple[int, int]], steps: list[int]) -> Finding:
    """Strict increase along depth of every off-diagonal entry, L = steps[0]..steps[-1] (certified)."""
    counter = None
    for i, j in pairs:
        for a, b in zip(steps, steps[1:], strict=False):
            x, y = sweep[a].entries[i][j], sweep[b].entries[i][j]
            if not certainly_less(x, y) and counter is None and certainly_less(y, x):
                counter = (i, j, a, b, x, y)
    if counter:
        i, j, a, b, x, y = counter
        return Finding("strict increase", False,
                       f"pair ({i},{j}): entry at L={a} is {ball_text(x)} > entry at L={b} is {ball_text(y)}",
                       "certified")
    return Finding("strict increase", True,
                   f"every off-diagonal entry certified strictly increasing for L = 1..{steps[-1]}", "certified")


def _ladder_limit_finding(sweep: dict[int, KernelResult], pairs: list[tuple[int, int]], ladder: list[int],
                          limit: Fraction) -> Finding:
    """The limit from the certified distances of the entries to ``limit`` along the depth ladder."""
    dist = {d: max(_distance(sweep[d].entries[i][j], limit)[0] for i, j in pairs) for d in ladder}
    dist_hi = {d: max(_distance(sweep[d].entries[i][j], limit)[1] for i, j in pairs) for d in ladder}
    # converging at a power rate: the certified distance shrinks by at least 2x per decade of depth
    shrinking = all(2 * dist_hi[b] < dist[a] for a, b in zip(ladder, ladder[1:], strict=False))
    growing = all(dist[b] > dist_hi[a] for a, b in zip(ladder[-3:], ladder[-2:], strict=False))
    top = ladder[-1]
    if shrinking:
        return Finding("limit", True,
                       f"max distance to {limit} certified to shrink at least 2x per decade along "
                       f"L = {ladder}, to {float(dist_hi[top]):.3e} at L = {top}",
                       "certified values, validated limit")
    if growing:
        return Finding(
            "limit", False,
            f"the certified distance to {limit} grows over L = {ladder[-3:]} "
            f"(min over pairs {float(dist[ladder[-3]]):.4f} -> {float(dist[top]):.4f}); the entries settle elsewhere "
            f"(range at L={top}: [{float(min(lower(sweep[top].entries[i][j]) for i, j in pairs)):.6f}, "
            f"{float(max(upper(sweep[top].entries[i][j]) for i, j in pairs)):.6f}])",
            "certified values, validated limit")
    return Finding("limit", None, "distances neither clearly shrinking nor growing", "certified")


def _evidence(sweep: dict[int, KernelResult], far: KernelResult, pairs: list[tuple[int, int]], depths: list[int],
              kernel: str) -> Evidence:
    rows = []
    for d in depths:
        vals = [sweep[d].entries[i][j] for i, j in pairs]
        lo, hi = min(vals, key=lower), max(vals, key=upper)
        rows.append([str(d), ball_text(lo, 10), ball_text(hi, 10)])
    far_vals = [far.entries[i][j] for i, j in pairs]
    rows.append([f"{FAR_DEPTH:.0e} ({far.method})", ball_text(min(far_vals, key=lower), 10),
                 ball_text(max(far_vals, key=upper), 10)])
    sample = pairs[: min(6, len(pairs))]
    return Evidence(
        tables=[Table(f"Smallest and largest off-diagonal entry of the normalized {kernel.upper()} (certified)",
                      ["L", "min entry", "max entry"], rows)],
        figures=[Figure(f"experiment1_{kernel}_offdiag",
                        f"Experiment 1: normalized {kernel.upper()} off-diagonal entries, L = 1..10 and beyond",
                        "depth L", "entry", [{"label": f"pair {i},{j}", "x": depths,
                                              "y": [float(sweep[d].entries[i][j]) for d in depths]}
                                             for i, j in sample], "log", "linear")],
    )


def run(ctx_: CheckContext, kernel: str, claim: KernelLimitClaim):
    data = ctx_.data
    steps = list(range(1, 11))
    ladder = [10, 100, 1000, 10**4] + ([10**5] if not ctx_.quick else [])
    depths = sorted(set(steps) | set(ladder))
    sweep = {r.depth: r for r in kernel_sweep(data, depths, kernel=kernel, digits=ctx_.digits,
                                               progress=ctx_.progress)}
    pairs = [(i, j) for i in range(data.n) for j in range(i + 1, data.n)]
    findings = [_increase_finding(sweep, pairs, steps)] if claim.increasing else []
    findings.append(_ladder_limit_finding(sweep, pairs, ladder, claim.limit))
    far = kernel_matrix(data, FAR_DEPTH, kernel=kernel, digits=ctx_.digits, progress=ctx_.progress)
    findings.append(limit_finding("the off-diagonal entries", [far.entries[i][j] for i, j in pairs],
                                  derived_entry_limit(kernel), claim.limit))
    evidence = _evidence(sweep, far, pairs, depths, kernel)
    return findings, evidence, {"data": ctx_.data_spec, "depths": depths, "digits": ctx_.digits}


CHECK = CheckSpec(
    id="theorem-2",
    title="Theorem 2: the normalized kernel strictly increases to the matrix of ones",
    claim_text="The normalized limiting kernel (ThetaBar for the NTK, SigmaBar = rho for the NNGP) strictly "
               "increases with depth and converges to the matrix of ones.",
    claim_latex=r"\bar\Theta^{(L)}_{ij} \nearrow 1 \quad (L\to\infty)",
    hypotheses="default model; data on the sphere; distinct, non-antipodal points",
    method="certified kernel matrices along depth (every L = 1..10, then powers of ten); strict monotonicity "
           "from disjoint balls; the limit from certified distances to the claimed value",
    kernels=KERNELS,
    run=run,
    stated_claim=KernelLimitClaim(Fraction(1), True),
    false_claim=KernelLimitClaim(Fraction(1, 2), False),
)
