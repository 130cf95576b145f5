"""residual-ntk: with ALPHA = L^(-1/2) the normalized kernels of a ReLU ResNet do not degenerate with depth.

Huang, Wang, Tao and Zhao (2020) compare the NTK of deep ResNets with that of deep feed-forward
networks: the feed-forward kernel degenerates as the depth grows, the ResNet's (residual branch
scaled down with the depth) does not. The seed summary's open question 1 asks whether its limits
(the normalized kernel tends to a matrix constant off the diagonal) hold with skip connections.

Model: neural-tangents' ``--architecture resnet:ALPHA`` (:mod:`verify.kernel.model_recursion`): a
first Dense, then L - 1 blocks x -> x + ALPHA Dense(relu(x)), NTK parameterization, weight variance
sigma_w^2 of the run. The *scaled* family takes ALPHA = L^(-gamma) (a different network at each
depth; exact at square depths for gamma = 1/2: ALPHA = 1/m at L = m^2), the *fixed* one a constant
ALPHA, and the feed-forward network (``mlp``) is the comparison.

Degenerate. Every off-diagonal entry of the feed-forward normalized NNGP tends to 1 and of the
normalized NTK Theta(x,x')/Theta(x,x) to 1/4 (limit 3/4 I + 1/4 J: a constant plus a nugget),
whatever the pair. A family *degenerates* when the spread (max - min of the off-diagonal entries
over distinct pairs) tends to 0, and does not when the spread stays bounded away from 0 (for the
NNGP also the largest entry stays away from 1).

One pair (ReLU, no bias), with h(c) = (sqrt(1 - c^2) + c (pi - arccos c))/pi, h'(c) = 1 - arccos(c)/pi,
beta = ALPHA^2 sigma_w^2 / 2, c the NNGP correlation, p the normalized NTK and u = q/t (diagonals):

    c' = (c + beta h(c)) / (1 + beta)
    p' = (p (1 + beta h'(c)) + beta u h(c)) / (1 + beta + beta u),    1/u' = 1/u + beta/(1 + beta)

from c_1 = p_1 = c0 (the cosine of the pair) and u_1 = 1 (the gap recursion of model_recursion with
a = 1, w = 2 beta, V(q, c) = q h(c)/2, Vdot(c) = h'(c)/2).

Uniform bound (proof). 1 - c' = (1 - c)/(1 + beta) + beta (1 - h(c))/(1 + beta) >= (1 - c)/(1 + beta)
since h <= 1 on [-1, 1]; for two pairs with c >= d, c' - d' >= (c - d)/(1 + beta) since h is
nondecreasing (h' >= 0). After L - 1 blocks, with log(1 + beta) <= beta,

    1 - c_L >= exp(-beta (L - 1)) (1 - c0),     spread_L >= exp(-beta (L - 1)) spread_1.

With ALPHA^2 = 1/L, beta (L - 1) < sigma_w^2/2 at every depth: the NNGP stays non-degenerate
uniformly in L. With a fixed ALPHA the factor tends to 0 and the bound says nothing (there
1 - c_L ~ (9 pi^2/2) ((1 + beta)/beta)^2 / L^2, docs/models.md).

Continuum limit (validated, not certified). The maps are Euler steps of size tau = beta/(1 + beta)
(for p up to a factor 1 + O(beta)) of

    dc/ds = h(c) - c,     dp/ds = (h'(c) - 1) p + (h(c) - p)/(1 + s),     c(0) = p(0) = c0,

since u_k = 1/(1 + (k - 1) tau) exactly; after L - 1 blocks s = S_L = (L - 1) tau and the Euler error
is O(tau) = O(1/L). With ALPHA = L^(-1/2), S_L -> sigma_w^2/2: the kernels tend to the solution at
s = sigma_w^2/2, which depends on c0. With ALPHA = L^(-gamma), gamma > 1/2, S_L -> 0 (the limit is
the first layer's kernel c0); with gamma < 1/2 or a fixed ALPHA, S_L -> infinity and c -> 1.

>>> c, p = continuum_kernels(mpmath.mpf(0), [mpmath.mpf(1) / 2], 20)[0]
>>> mpmath.nstr(c, 12), mpmath.nstr(p, 12)           # the orthogonal pair at infinite depth, ALPHA = L^(-1/2)
('0.14134767705', '0.106272159706')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
from flint import ctx

from verify.core.balls import Ball
from verify.core.errors import InputError
from verify.core.model import Architecture, Model
from verify.core.params import Parameterization
from verify.data.pairs import PairCorrelation, pair_index
from verify.kernel.model_recursion import DepthKernels, certified_model_sweep

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text, lower, upper
from .sources import HUANG_2020

DIGITS = 20
"""Absolute decimal digits certified for every normalized kernel."""
SQUARE_ROOTS = (2, 5, 10, 30, 100)
"""Depths L = m^2 (ALPHA = 1/m exactly in the scaled family); one more, m = 300, outside the quick profile."""
TREND_FROM = 100
"""The trends are read on the depths L >= TREND_FROM."""
CERTIFIED = "certified values, validated trend"
ODE_DIGITS = 12
"""Digits of the continuum-limit ODE in the check (its O(1/L) distance to the kernels is far larger)."""


# ------------------------------------------------------------------ the families and the claim


@dataclass(frozen=True)
class Family:
    """ReLU networks along depth: ``mlp`` (both None), ResNets with a fixed ``alpha``, or ALPHA = L^(-gamma)."""

    alpha: Fraction | None = None
    gamma: Fraction | None = None

    def __post_init__(self) -> None:
        if self.alpha is not None and self.gamma is not None:
            raise InputError("a family has a fixed ALPHA or ALPHA = L^(-gamma), not both")
        if self.alpha is not None and self.alpha <= 0:
            raise InputError(f"ALPHA must be > 0, got {self.alpha}")
        if self.gamma is not None and (self.gamma <= 0 or (2 * self.gamma).denominator != 1):
            raise InputError(f"gamma must be a positive multiple of 1/2 (exact ALPHA at square depths), "
                             f"got {self.gamma}")

    @property
    def kind(self) -> str:
        return "mlp" if self.alpha is None and self.gamma is None else ("fixed" if self.gamma is None else "scaled")

    def alpha_at(self, depth: int) -> Fraction | None:
        """The exact ALPHA of the network of depth ``depth`` (None for the feed-forward network)."""
        if self.gamma is None:
            return self.alpha
        root = math.isqrt(depth)
        if root * root != depth:
            raise InputError(f"ALPHA = L^(-{self.gamma}) is irrational at L = {depth}: use square depths")
        return Fraction(1, root ** int(2 * self.gamma))

    def model(self, depth: int, param: Parameterization) -> Model:
        alpha = self.alpha_at(depth)
        arch = Architecture() if alpha is None else Architecture("resnet", alpha)
        return Model(sigma_w2=param.sigma_w2, sigma_b2=param.sigma_b2, architecture=arch)

    def block_time(self, depth: int, param: Parameterization) -> Fraction | None:
        """S_L = (L - 1) beta/(1 + beta), beta = ALPHA^2 sigma_w^2/2: the continuum time after L - 1 blocks."""
        alpha = self.alpha_at(depth)
        if alpha is None:
            return None
        beta = alpha * alpha * param.sigma_w2 / 2
        return (depth - 1) * beta / (1 + beta)

    def limit_time(self, param: Parameterization) -> Fraction | None:
        """lim S_L: sigma_w^2/2 for gamma = 1/2, 0 for gamma > 1/2, None where it is infinite (or no ResNet)."""
        if self.gamma is None or self.gamma < Fraction(1, 2):
            return None
        return param.sigma_w2 / 2 if self.gamma == Fraction(1, 2) else Fraction(0)

    def __str__(self) -> str:
        if self.kind == "mlp":
            return "mlp"
        return f"resnet:{self.alpha}" if self.gamma is None else f"resnet:ALPHA = L^(-{self.gamma})"


SCALED = Family(gamma=Fraction(1, 2))
FIXED = Family(alpha=Fraction(3, 10))
MLP = Family()


@dataclass(frozen=True)
class DegeneracyClaim:
    """'The normalized kernel of ``family`` degenerates (or not) as L -> infinity'."""

    family: Family = SCALED
    degenerates: bool = False

    def __str__(self) -> str:
        return f"{self.family} {'degenerates' if self.degenerates else 'does not degenerate'}"

    def models(self, depths: Sequence[int], param: Parameterization) -> list[dict[str, Any]]:
        """The networks the claim is about, one per depth (Model.describe())."""
        return [self.family.model(d, param).describe() for d in depths]


# ------------------------------------------------------------------ the continuum limit


def _h(c: Any) -> Any:
    return (mpmath.sqrt(1 - c * c) + c * (mpmath.pi - mpmath.acos(c))) / mpmath.pi


def _h_prime(c: Any) -> Any:
    return 1 - mpmath.acos(c) / mpmath.pi


def continuum_kernels(c0: Any, times: Sequence[Any], digits: int) -> list[tuple[Any, Any]]:
    """Validated: (c(s), p(s)) of the continuum-limit ODE (module docstring) at each s of ``times``.

    Solved by mpmath's Taylor-series integrator (``mpmath.odefun``) at ``digits`` + 5 digits; the
    values are good to about ``digits`` digits for |c0| < 1 (no error bound is carried). c0 = 1 is
    the fixed point c = p = 1; c0 = -1 is refused (the vector field is not analytic there).
    """
    with mpmath.workdps(digits + 5):
        c0 = mpmath.mpf(c0)
        if c0 == 1:
            return [(mpmath.mpf(1), mpmath.mpf(1)) for _ in times]
        if not -1 < c0 < 1:
            raise InputError(f"the continuum limit needs -1 < c0 <= 1, got {c0}")

        def field(s: Any, y: list[Any]) -> list[Any]:
            c, p = y
            return [_h(c) - c, (_h_prime(c) - 1) * p + (_h(c) - p) / (1 + s)]

        solution = mpmath.odefun(field, 0, [c0, c0])
        out = []
        for s in times:
            c, p = solution(mpmath.mpf(s))
            out.append((+c, +p))
        return out


def pair_cosine(pair: PairCorrelation, digits: int) -> Any:
    """The pair's cosine sign * sqrt(t) as an mpf at ``digits`` + 10 digits."""
    with mpmath.workdps(digits + 10):
        return pair.sign * mpmath.sqrt(mpmath.mpf(pair.t.numerator) / pair.t.denominator)


# ------------------------------------------------------------------ certified kernels of a family


def chosen_pairs(ctx_: CheckContext) -> list[PairCorrelation]:
    """A few distinct pairs of the data, by 1 - cos evenly spread from the closest to the farthest.

    Coincident points (cos = 1) are left out: their entry is 1 at every depth.
    """
    _, unique = pair_index(ctx_.data, ctx_.data, True)
    pairs = sorted((p for p in unique if not (p.sign > 0 and p.t == 1)), key=lambda p: p.gap_float())
    count = 4 if ctx_.quick else 6
    if len(pairs) <= count:
        return pairs
    return [pairs[round(i * (len(pairs) - 1) / (count - 1))] for i in range(count)]


def ladder(ctx_: CheckContext) -> list[int]:
    return [m * m for m in SQUARE_ROOTS + (() if ctx_.quick else (300,))]


def family_kernels(ctx_: CheckContext, family: Family, depths: list[int],
                   pairs: list[PairCorrelation]) -> dict[int, DepthKernels]:
    """Certified kernels of ``family`` at each depth for ``pairs`` (cached in ``ctx.extras``)."""
    cache = ctx_.extras.setdefault("residual_ntk", {})
    key = (family, tuple(depths), tuple(pairs), ctx_.param, ctx_.data_spec)
    if key not in cache:
        n0 = ctx_.data.n0
        if family.kind == "scaled":
            cache[key] = {d: certified_model_sweep(family.model(d, ctx_.param), pairs, [d], n0, DIGITS).at(d)
                          for d in depths}
        else:
            sweep = certified_model_sweep(family.model(depths[-1], ctx_.param), pairs, depths, n0, DIGITS)
            cache[key] = {d: sweep.at(d) for d in depths}
    result: dict[int, DepthKernels] = cache[key]
    return result


def _dyadic_ball(lo: Fraction, hi: Fraction) -> Ball:
    """The ball [lo, hi] of two dyadic rationals (exact)."""
    mid, rad = Ball.exact((lo + hi) / 2), Ball.exact((hi - lo) / 2)
    return Ball(mid.man, mid.exp, rad.man, rad.exp)


def spread(entries: Sequence[Ball]) -> Ball:
    """Certified enclosure of max - min of the exact values inside ``entries``.

    The true max lies in [max lower, max upper] and the true min in [min lower, min upper].
    """
    lows, highs = [lower(b) for b in entries], [upper(b) for b in entries]
    return _dyadic_ball(max(max(lows) - min(highs), Fraction(0)), max(highs) - min(lows))


def smallest(entries: Sequence[Ball]) -> Ball:
    """Certified enclosure of the smallest of the exact values inside ``entries``."""
    return _dyadic_ball(min(lower(b) for b in entries), min(upper(b) for b in entries))


def largest(entries: Sequence[Ball]) -> Ball:
    """Certified enclosure of the largest of the exact values inside ``entries``."""
    return _dyadic_ball(max(lower(b) for b in entries), max(upper(b) for b in entries))


def _entries(k: DepthKernels, kernel: str) -> list[Ball]:
    return list(k.ntk if kernel == "ntk" else k.nngp)


# ------------------------------------------------------------------ reading the trends


def trend(seq: list[tuple[int, Ball]]) -> tuple[str, str]:
    """('decaying' | 'settled' | 'open', text) of positive certified values along the depth ladder.

    Decaying: each certified upper bound is at most half the previous lower bound. Settled: the
    moves from depth to depth shrink at least 3x each time and the last certified lower bound
    exceeds twice the last move (the extrapolated geometric tail stays away from 0).
    """
    trail = ", ".join(f"L={d}: {ball_text(b, 6)}" for d, b in seq)
    if all(2 * upper(b) <= lower(a) for (_, a), (_, b) in zip(seq, seq[1:], strict=False)):
        return "decaying", f"decays at least 2x per step ({trail})"
    moves = [abs(b.mid_fraction - a.mid_fraction) for (_, a), (_, b) in zip(seq, seq[1:], strict=False)]
    if (len(moves) >= 2 and all(3 * b <= a for a, b in zip(moves, moves[1:], strict=False))
            and lower(seq[-1][1]) > 2 * moves[-1]):
        return "settled", (f"settles at {ball_text(seq[-1][1], 8)} (L={seq[-1][0]}; last moves "
                           f"{float(moves[-2]):.2e}, {float(moves[-1]):.2e})")
    return "open", f"neither decays nor settles ({trail})"


def _trend_finding(name: str, seq: list[tuple[int, Ball]], degenerates: bool) -> Finding:
    kind, text = trend(seq)
    supports = None if kind == "open" else (kind == "decaying") == degenerates
    return Finding(name, supports, f"{name} {text}", CERTIFIED)


def _bound_finding(claim: DegeneracyClaim, param: Parameterization, seqs: dict[str, list[tuple[int, Ball]]],
                   first_spread: Fraction, first_gap: Fraction) -> Finding:
    """The proven bound of the module docstring, with the certified values checked against it."""
    factors = {d: math.exp(-float(Fraction(claim.family.alpha_at(d) or 0) ** 2 * param.sigma_w2 / 2 * (d - 1)))
               for d, _ in seqs["spread"]}
    worst = min(factors.values())
    below = [d for d, b in seqs["spread"] if float(upper(b)) < 0.999 * factors[d] * float(first_spread)]
    below += [d for d, b in seqs["gap"] if float(upper(b)) < 0.999 * factors[d] * float(first_gap)]
    if below:
        return Finding("proven uniform bound (NNGP)", None,
                       f"certified values below the proven bound at L = {sorted(set(below))}: a bug to find", "proof")
    uniform = math.exp(-float(param.sigma_w2) / 2)
    return Finding(
        "proven uniform bound (NNGP)", not claim.degenerates,
        f"1 - c_L >= exp(-beta (L-1)) (1 - c0) and spread_L >= exp(-beta (L-1)) spread_1 (module docstring); "
        f"with ALPHA^2 (L-1) <= 1 the factor exceeds exp(-sigma_w^2/2) = {uniform:.6f} at every depth "
        f"(here >= {worst:.6f}): spread >= {uniform * float(first_spread):.6f}, 1 - max entry >= "
        f"{uniform * float(first_gap):.6f} uniformly in L; every certified value satisfies the bound",
        "proof, certified values consistent")


def _continuum(ctx_: CheckContext, pairs: list[PairCorrelation], depths: list[int]
               ) -> dict[str, Any] | None:
    """The continuum-limit kernels of the scaled family at S_L for ``depths`` and at lim S_L (cached)."""
    cache = ctx_.extras.setdefault("residual_ntk_ode", {})
    key = (tuple(pairs), tuple(depths), ctx_.param)
    limit = SCALED.limit_time(ctx_.param)
    if limit is None or any(p.sign < 0 and p.t == 1 for p in pairs):
        return None
    if key not in cache:
        times = [SCALED.block_time(d, ctx_.param) for d in depths] + [limit]
        with mpmath.workdps(ODE_DIGITS + 10):
            s_values = [mpmath.mpf(s.numerator) / s.denominator for s in times if s is not None]
        rows = [continuum_kernels(pair_cosine(p, ODE_DIGITS), s_values, ODE_DIGITS) for p in pairs]
        cache[key] = {"depths": depths, "rows": rows, "limit_time": limit}
    result: dict[str, Any] = cache[key]
    return result


def _continuum_finding(ode: dict[str, Any], sweep: dict[int, DepthKernels], kernel: str, degenerates: bool
                       ) -> Finding:
    """Validated: the certified kernels approach the ODE's at rate 1/L, and the ODE's limit is not degenerate."""
    depths = ode["depths"]
    index = 1 if kernel == "ntk" else 0
    scaled_errors = []
    for k, d in enumerate(depths[-2:], start=len(depths) - 2):
        with mpmath.workdps(ODE_DIGITS + 10):
            worst = max(abs(b.mid_mpf() - row[k][index])
                        for b, row in zip(_entries(sweep[d], kernel), ode["rows"], strict=True))
        scaled_errors.append((d, float(worst) * d))
    limits = [row[-1][index] for row in ode["rows"]]
    lim_spread, lim_max = float(max(limits) - min(limits)), float(max(limits))
    (d1, e1), (d2, e2) = scaled_errors
    agree = e2 <= 10 and (e1 == e2 == 0 or (e1 > 0 and 1 / 3 <= e2 / e1 <= 3))
    text = (f"L |certified - ODE(S_L)| (largest over the pairs) = {e1:.3f} at L={d1}, {e2:.3f} at L={d2} "
            f"(an O(1/L) approach); the limit s = {ode['limit_time']} has off-diagonal entries "
            f"{float(min(limits)):.10f} .. {lim_max:.10f}, spread {lim_spread:.10f}")
    guarantee = "validated (continuum-limit ODE in mpmath against the certified values)"
    if not agree:
        return Finding("continuum limit", None, text + ": no clear 1/L approach", guarantee)
    return Finding("continuum limit", (lim_spread > 0 and lim_max < 1) != degenerates, text, guarantee)


# ------------------------------------------------------------------ the check


def _summary(sweep: dict[int, DepthKernels], kernel: str, depths: list[int]) -> dict[str, list[tuple[int, Ball]]]:
    out: dict[str, list[tuple[int, Ball]]] = {"spread": [], "min": [], "max": [], "gap": []}
    for d in depths:
        entries = _entries(sweep[d], kernel)
        out["spread"].append((d, spread(entries)))
        out["min"].append((d, smallest(entries)))
        out["max"].append((d, largest(entries)))
        out["gap"].append((d, smallest(list(sweep[d].ntk_gap if kernel == "ntk" else sweep[d].nngp_gap))))
    return out


def _first_layer(pairs: list[PairCorrelation]) -> tuple[Fraction, Fraction]:
    """Lower bounds of the first layer's spread and of 1 - (largest cosine), certified."""
    with ctx.workprec(128):
        gaps = [Ball.from_arb(p.gap_arb()) for p in pairs]
    return lower(spread(gaps)), lower(smallest(gaps))


def run(ctx_: CheckContext, kernel: str, claim: DegeneracyClaim):
    depths = ladder(ctx_)
    pairs = chosen_pairs(ctx_)
    if len(pairs) < 2:
        return ([Finding("spread of the off-diagonal entries", None, "fewer than two distinct pairs in the data",
                         CERTIFIED)], Evidence(), {"data": ctx_.data_spec})
    tail = [d for d in depths if d >= TREND_FROM]
    families = list(dict.fromkeys([SCALED, FIXED, MLP, claim.family]))
    sweeps = {f: family_kernels(ctx_, f, depths, pairs) for f in families}
    summaries = {f: _summary(sweeps[f], kernel, depths) for f in families}
    label = kernel.upper()
    own = {name: [(d, b) for d, b in seq if d >= TREND_FROM] for name, seq in summaries[claim.family].items()}
    findings = [_trend_finding(f"spread of the off-diagonal {label} ({claim.family})", own["spread"],
                               claim.degenerates)]
    if kernel == "nngp":
        findings.append(_trend_finding(f"1 - largest off-diagonal NNGP entry ({claim.family})", own["gap"],
                                       claim.degenerates))
    no_bias = ctx_.param.sigma_b2 == 0
    if kernel == "nngp" and no_bias and claim.family.limit_time(ctx_.param) is not None:
        first_spread, first_gap = _first_layer(pairs)
        findings.append(_bound_finding(claim, ctx_.param, own, first_spread, first_gap))
    ode = _continuum(ctx_, pairs, tail) if no_bias else None
    if ode is not None and claim.family == SCALED:
        findings.append(_continuum_finding(ode, sweeps[SCALED], kernel, claim.degenerates))
    mlp_kind, mlp_text = trend([(d, b) for d, b in summaries[MLP]["spread"] if d >= TREND_FROM])
    findings.append(Finding(f"the feed-forward {label} degenerates at the same depths",
                            None if mlp_kind == "open" else mlp_kind == "decaying",
                            f"spread of the mlp's off-diagonal {label} {mlp_text}", CERTIFIED))
    evidence = _evidence(ctx_, kernel, claim, families, summaries, ode, pairs)
    params = {"data": ctx_.data_spec, "pairs": len(pairs), "cosines": [mpmath.nstr(pair_cosine(p, 15), 15)
                                                                        for p in pairs],
              "depths": depths, "trend_depths": tail, "digits": DIGITS,
              "models": {str(f): DegeneracyClaim(f).models(depths, ctx_.param) if f.kind == "scaled"
                         else f.model(depths[-1], ctx_.param).describe() for f in families}}
    return findings, evidence, params


def _evidence(ctx_: CheckContext, kernel: str, claim: DegeneracyClaim, families: list[Family],
              summaries: dict[Family, dict[str, list[tuple[int, Ball]]]], ode: dict[str, Any] | None,
              pairs: list[PairCorrelation]) -> Evidence:
    label = kernel.upper()
    depths = [d for d, _ in summaries[SCALED]["spread"]]
    index = 1 if kernel == "ntk" else 0
    ode_cells: dict[int, str] = {}
    if ode is not None:
        for k, d in enumerate(ode["depths"]):
            vals = [row[k][index] for row in ode["rows"]]
            ode_cells[d] = f"{mpmath.nstr(min(vals), 10)} .. {mpmath.nstr(max(vals), 10)}"
    scaled = summaries[SCALED]
    rows = [[str(d), str(SCALED.alpha_at(d)), ball_text(scaled["min"][i][1], 10), ball_text(scaled["max"][i][1], 10),
             ball_text(scaled["spread"][i][1], 10), ode_cells.get(d, "-")] for i, d in enumerate(depths)]
    main = Table(f"Certified off-diagonal normalized {label} of the ResNet with ALPHA = L^(-1/2) "
                 f"({len(pairs)} pairs of {ctx_.data_spec}, a different network per depth)",
                 ["L", "ALPHA", "min entry", "max entry", "spread (max - min)", "continuum limit ODE(S_L) (validated)"],
                 rows, note="ODE(S_L): the continuum-limit ODE of the module docstring at s = (L-1) beta/(1+beta), "
                            "solved in mpmath (validated, not certified); its error is O(1/L).")
    cols = ["L"] + [f"spread, {f}" for f in families] + [f"max entry, {f}" for f in families if f != SCALED]
    comp = [[str(d)] + [ball_text(summaries[f]["spread"][i][1], 8) for f in families]
            + [ball_text(summaries[f]["max"][i][1], 8) for f in families if f != SCALED] for i, d in enumerate(depths)]
    comparison = Table(f"The same pairs and depths: ResNet with ALPHA = L^(-1/2), fixed ALPHA and the feed-forward "
                       f"network ({label})", cols, comp)
    figures = [
        Figure(f"residual_{kernel}_spread", f"Spread of the off-diagonal normalized {label} along depth",
               "depth L", "max - min over the pairs",
               [{"label": str(f), "x": depths, "y": [float(b.mid_fraction) for _, b in summaries[f]["spread"]]}
                for f in families], "log", "log"),
        Figure(f"residual_{kernel}_gap", f"1 - largest off-diagonal normalized {label} along depth", "depth L",
               "1 - max entry",
               [{"label": str(f), "x": depths, "y": [float(b.mid_fraction) for _, b in summaries[f]["gap"]]}
                for f in families], "log", "log"),
    ]
    top = depths[-1]
    numbers: dict[str, Any] = {}
    for f in families:
        tag = f.kind if f.kind != "fixed" else f"fixed_{f.alpha}".replace("/", "_")
        for name in ("min", "max", "spread"):
            numbers[f"{kernel}_{name}_{tag}_L{top}"] = {**summaries[f][name][-1][1].to_json(DIGITS),
                                                        "kind": "certified"}
    if ode is not None:
        limits = [row[-1][index] for row in ode["rows"]]
        for name, value in (("min", min(limits)), ("max", max(limits)), ("spread", max(limits) - min(limits))):
            numbers[f"{kernel}_{name}_continuum_limit"] = {"value": mpmath.nstr(value, 15), "kind": "validated"}
    notes = [
        f"Degenerate means: every off-diagonal entry tends to one common value (1 for the NNGP, 1/4 for the NTK of "
        f"the feed-forward network and of the ResNet with fixed ALPHA), so the spread tends to 0. Trends are read "
        f"on L >= {TREND_FROM}.",
        "Huang et al. (2020) analyse their own ResNet; this check is the analogue for neural-tangents' build "
        "(first Dense, then L - 1 blocks x + ALPHA Dense(relu(x))).",
    ]
    if claim.family not in (SCALED, FIXED, MLP):
        notes.append(f"The claim is about {claim.family}; its numbers are in the comparison table.")
    return Evidence(tables=[main, comparison], figures=figures, numbers=numbers, notes=notes)


CHECK = CheckSpec(
    id="residual-ntk",
    title="The normalized kernels of a ResNet with ALPHA = L^(-1/2) do not degenerate with depth",
    claim_text="With the residual branch scaled by ALPHA = L^(-1/2), the normalized NNGP and NTK of a ReLU ResNet "
               "do not degenerate as the depth L grows: the spread of their off-diagonal entries over distinct "
               "pairs stays bounded away from 0 (and the NNGP's entries stay bounded away from 1) uniformly in L, "
               "whereas the feed-forward kernel tends to a matrix constant off the diagonal (Huang, Wang, Tao and "
               "Zhao 2020; the summary's open question 1, skip connections).",
    claim_latex=r"\alpha_L = L^{-1/2}:\ \inf_L(\max_{i\neq j}\bar K^{(L)}_{ij} - \min_{i\neq j}\bar K^{(L)}_{ij}"
                r") > 0",
    hypotheses="neural-tangents' ResNet: a first Dense, then L - 1 blocks x -> x + ALPHA Dense(relu(x)); NTK "
               "parameterization, sigma_w^2 and sigma_b^2 of the run (the proven bound and the continuum limit "
               "need sigma_b^2 = 0); ALPHA = 1/m exactly at L = m^2, a different network per depth; a few distinct, "
               "non-coincident pairs of the data. Huang et al. build their ResNet differently and state their "
               "result for ALPHA = L^(-gamma); the range of gamma was not checked against their text here.",
    method="certified normalized kernels (Arb, 20 digits, verify.kernel.model_recursion.certified_model_sweep) at "
           "L = 4, 25, 100, 900, 10^4 (and 9 10^4 outside the quick profile) for ALPHA = L^(-1/2), fixed ALPHA = "
           "3/10 and the feed-forward network; trends of the spread (and of 1 - the largest NNGP entry) over "
           "L >= 100: decaying (each certified upper bound at most half the previous lower bound) or settled "
           "(moves shrink 3x, value above twice the last move); a proven uniform bound for the NNGP; the "
           "continuum-limit ODE solved in mpmath (validated)",
    kernels=("ntk", "nngp"),
    run=run,
    stated_claim=DegeneracyClaim(SCALED, degenerates=False),
    false_claim=DegeneracyClaim(FIXED, degenerates=False),
    source=HUANG_2020,
)
