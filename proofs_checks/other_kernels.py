"""other-kernels: do the summary's criteria predict the depth limit of every model in the catalogue?

Open Question 3 of the seed summary asks whether the key properties identified for ReLU predict the
limiting behaviour of other kernels. The criteria (C1)-(C4) and what they predict are stated in
:mod:`proofs_checks.other_kernels_laws`: where they hold for a model's correlation map h, both
normalized kernels tend to the matrix of ones at the rate of h at c = 1 (geometric with rate h'(1) < 1,
algebraic ~ C/L^2 when h'(1) = 1); where they fail, the kernel does not tend to the matrix of ones.

Evidence, per model of docs/models.md (a few in the quick profile) and per kernel: certified
normalized entries (:func:`~verify.kernel.model_recursion.certified_model_sweep`, 40 absolute digits)
of two pairs of the data (smallest and largest |cosine|) along a depth ladder chosen from the model's
derived law (evenly spaced depths 2k..5k for a geometric law; decades 100..10^4, or 10^3..10^5 in the full
profile, for an algebraic one, and 10^5..10^7 for the seed's kink family, whose series cost the same at any
depth; relu^2 stops at depth 24, its variance's exponent doubling each layer).
Whether an entry tends to 1 is read from the certified gaps 1 - entry over the last three depths by the
shared rule of :mod:`.trends` (decaying: -> 1; settled away from 0: not 1). The rate: from the gaps
where the limit is 1 (per-layer ratio (g_c/g_b)^(1/(L_c - L_b)), exponent log(g_b/g_c)/log(L_c/L_b)),
else from the ratio of successive differences, compared with the derived law's own ratio at the same
depths.

A rate prediction "geometric with rate r" is met when the observed per-layer ratio of the gaps is
within a polynomial prefactor L^m, |m| <= 2, of r (|log(r_obs/r)| <= 2 log(L_c/L_b)/(L_c - L_b) + 1e-3);
"algebraic L^-p" when the observed exponent is within 0.1 of p. The later of the two estimates over the
last three depths decides (:func:`approach`): an estimate not yet within tolerance but approaching the
prediction leaves the finding open (not yet asymptotic) instead of contradicting it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
from flint import arb, ctx

from verify.core.balls import Ball
from verify.core.errors import InputError
from verify.core.model import Model
from verify.data.dataset import Dataset
from verify.data.pairs import PairCorrelation, pair_index
from verify.kernel.model_recursion import ModelSweep, certified_model_sweep
from verify.kernel.model_series import parabolic_family

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text
from .other_kernels_laws import Law, ModelLaws, catalogue_models, label, model_laws
from .trends import settled_or_decaying

DIGITS = 40
"""Absolute decimal digits certified for every normalized entry (the smallest gaps read are ~1e-15)."""
QUICK_MODELS = (("relu", "2", "0"), ("relu", "1", "0.1"), ("erf", "2", "0"), ("sign", "1", "0.1"),
                ("relu^2", "2", "0.1"), ("gelu", "2", "0"))
QUICK_DECADES = (100, 1000, 10**4)
FULL_DECADES = (1000, 10**4, 10**5)
"""The depths of an algebraic law (the full profile goes a decade further: some gaps reach L^-2 late)."""
SERIES_DECADES = (10**5, 10**6, 10**7)
"""The full profile's decades for the seed's kink family (relu-type without a bias, MLP or resnet), whose
certified kernels cost the same at any depth (:mod:`verify.kernel.model_series`): a resnet with a small
ALPHA reaches its L^-2 law only beyond 10^5."""
DOUBLY_EXPONENTIAL_TOP = 24
"""relu^2: q_l's binary exponent doubles each layer, and Arb slows down beyond this depth."""
GEOMETRIC_SHRINK = 0.1
"""A geometric ladder's spacing k makes the slower law shrink at least this much per step."""
RATE_SLACK = 1e-3
EXPONENT_TOLERANCE = 0.1


def study_models(quick: bool) -> list[Model]:
    return [Model.parse(*m) for m in QUICK_MODELS] if quick else catalogue_models()


def kernel_ladder(laws: ModelLaws, law: Law, decades: tuple[int, ...]) -> tuple[int, ...]:
    """The depths a kernel's limit and rate are read from (the last three matter): ``decades`` for an
    algebraic law, 2k, 3k, 4k, 5k for a geometric one (k from the rate)."""
    if law.kind != "geometric":
        return decades
    assert law.rate is not None
    k = max(1, math.ceil(math.log(GEOMETRIC_SHRINK) / math.log(float(law.rate.value))))
    if laws.analysis.kernel.degree == 2:
        k = min(k, (DOUBLY_EXPONENTIAL_TOP - 8) // 3)
        return tuple(DOUBLY_EXPONENTIAL_TOP - j * k for j in (3, 2, 1, 0))
    return tuple(j * k for j in (2, 3, 4, 5))


def study_pairs(data: Dataset) -> tuple[PairCorrelation, ...]:
    """The data's pairs with the smallest and the largest |cosine| (distinct, non-antipodal points)."""
    _, unique = pair_index(data, data, True)
    usable = sorted((p for p in unique if p.t < 1), key=lambda p: p.t)
    if not usable:
        raise InputError(f"{data.name}: other-kernels needs two distinct, non-antipodal points")
    return (usable[0], usable[-1]) if len(usable) > 1 else (usable[0],)


@lru_cache(maxsize=64)
def certified_study(model: Model, pairs: tuple[PairCorrelation, ...], n0: int, decades: tuple[int, ...]
                    ) -> tuple[ModelLaws, ModelSweep, dict[str, tuple[int, ...]]]:
    """The laws, one certified sweep over both kernels' ladders, and the ladders (cached across kernels)."""
    laws = model_laws(model, n0)
    ladders = {k: kernel_ladder(laws, laws.law(k), decades) for k in ("nngp", "ntk")}
    depths = sorted(set(ladders["nngp"]) | set(ladders["ntk"]))
    return laws, certified_model_sweep(model, list(pairs), depths, n0, DIGITS), ladders


# ---- reading limits and rates off certified values --------------------------------------------------

def _entries(sweep: ModelSweep, kernel: str, depths: tuple[int, ...], i: int) -> list[Ball]:
    return [(sweep.at(d).nngp if kernel == "nngp" else sweep.at(d).ntk)[i] for d in depths]


@dataclass(frozen=True)
class Observed:
    """What the certified entries of one pair show over the last three depths L_a < L_b < L_c.

    ``ones``: the trend rule's reading of the gaps g = 1 - entry (True: -> 1, False: settles away, None).
    ``gap_rates`` (per layer, (g_b/g_a)^(1/(L_b - L_a)) and (g_c/g_b)^(1/(L_c - L_b))) and
    ``gap_exponents`` (log(g_a/g_b)/log(L_b/L_a), log(g_b/g_c)/log(L_c/L_b)) exist where the gaps are positive.
    """

    depths: tuple[int, ...]
    entries: list[Ball]
    ones: bool | None
    trend: str
    diff_ratio: Ball | None           # (v_c - v_b)/(v_b - v_a)
    gap_ratio: Ball | None            # g_c/g_b
    gap_rates: tuple[Ball, Ball] | None
    gap_exponents: tuple[Ball, Ball] | None

    def per_layer(self) -> Ball | None:
        """The per-layer ratio of successive differences, (ratio)^(1/k), for evenly spaced depths."""
        a, b, c = self.depths[-3:]
        if self.diff_ratio is None or c - b != b - a:
            return None
        with ctx.workprec(200):
            r = self.diff_ratio.to_arb()
            return Ball.from_arb(r ** (arb(1) / (c - b))) if r > 0 else None

    def exponent(self) -> Ball | None:
        """-log(ratio)/log(L_c/L_b) of the differences, for depths in geometric progression (None unless the
        differences shrink: 0 < ratio < 1)."""
        a, b, c = self.depths[-3:]
        if self.diff_ratio is None or c * a != b * b:
            return None
        with ctx.workprec(200):
            r = self.diff_ratio.to_arb()
            return Ball.from_arb(-r.log() / (arb(c) / b).log()) if 0 < r < 1 else None


def observe(entries: list[Ball], depths: tuple[int, ...]) -> Observed:
    last = list(zip(depths[-3:], entries[-3:], strict=True))
    trend = settled_or_decaying("1 - entry", [(d, v.one_minus()) for d, v in last], Fraction(0))
    (la, va), (lb, vb), (lc, vc) = last
    with ctx.workprec(200):
        a, b, c = va.to_arb(), vb.to_arb(), vc.to_arb()
        d1, d2 = b - a, c - b
        ratio = Ball.from_arb(d2 / d1) if not d1.contains(0) else None
        ga, gb, gc = 1 - a, 1 - b, 1 - c
        gap_ratio = rates = exponents = None
        if ga > 0 and gb > 0 and gc > 0:
            gap_ratio = Ball.from_arb(gc / gb)
            rates = (Ball.from_arb((gb / ga) ** (arb(1) / (lb - la))), Ball.from_arb((gc / gb) ** (arb(1) / (lc - lb))))
            exponents = (Ball.from_arb((ga / gb).log() / (arb(lb) / la).log()),
                         Ball.from_arb((gb / gc).log() / (arb(lc) / lb).log()))
    return Observed(depths, entries, trend.supports, trend.certificate, ratio, gap_ratio, rates, exponents)


def approach(first: Any, last: Any, target: Any, tol: Any) -> bool | None:
    """An asymptotic value read off two successive estimates: True when the last is within ``tol`` of
    ``target``; None when it is not yet but the estimates approach it (same side, distance at least
    halved: pre-asymptotic); False otherwise (stationary away from it, or moving off).

    >>> approach(1.6, 1.88, 2, 0.1), approach(1.9, 1.97, 2, 0.1), approach(0.707, 0.7071, 0.5, 0.06)
    (None, True, False)
    """
    if abs(last - target) <= tol:
        return True
    if (first - target) * (last - target) > 0 and abs(last - target) <= abs(first - target) / 2:
        return None
    return False


def _law_ratio(law: Law, depths: tuple[int, ...], gaps: bool) -> Any:
    """The law's own ratio at the last depths: g_c/g_b (``gaps``) or of successive differences (A cancels)."""
    with mpmath.workdps(60):
        a, b, c = (law.shape(d) for d in depths[-3:])
        return c / b if gaps else (c - b) / (b - a)


def rate_agreement(law: Law, obs: Observed) -> tuple[bool | None, str]:
    """The observed rate against the derived law's at the same depths (per layer within 1e-2, exponent 0.15).

    Where the limit is 1 the gaps are compared (g_c/g_b), elsewhere successive differences.
    """
    gaps = law.limit == "ones"
    ratio = obs.gap_ratio if gaps else obs.diff_ratio
    if law.rate is None or ratio is None:
        return None, "no rate to compare"
    pred = _law_ratio(law, obs.depths, gaps)
    got = ratio.mid_mpf()
    if pred <= 0 or got <= 0:
        return False, f"ratio {mpmath.nstr(got, 6)}, derived {mpmath.nstr(pred, 6)}"
    _, b, c = obs.depths[-3:]
    what = "gaps" if gaps else "differences"
    if law.kind == "geometric":
        one = mpmath.mpf(1) / (c - b)
        return bool(abs(mpmath.log(got / pred)) * one <= 1e-2), (
            f"per-layer ratio of the {what} {mpmath.nstr(got ** one, 8)}, derived law {mpmath.nstr(pred ** one, 8)}")
    scale = mpmath.log(mpmath.mpf(c) / b)
    p_got, p_pred = -mpmath.log(got) / scale, -mpmath.log(pred) / scale
    return bool(abs(p_got - p_pred) <= 0.15), (f"exponent of the {what} {mpmath.nstr(p_got, 4)}, derived law "
                                               f"{mpmath.nstr(p_pred, 4)}")


# ---- the claim ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitPredictionClaim:
    """A rule predicting, per model, whether the normalized kernel tends to the matrix of ones, and how fast.

    ``rule``: "criteria" (ones exactly where (C1)-(C3) hold) or "always" (every model). ``rate``: "map"
    (the rate of the correlation map at 1: geometric h'(1) < 1, algebraic L^-2 at h'(1) = 1), "algebraic"
    (always L^-2, as for ReLU) or "none" (no statement on the rate).
    """

    rule: str = "criteria"
    rate: str = "map"

    def __str__(self) -> str:
        what = ("the criteria (C1)-(C3) decide whether the normalized kernel tends to the matrix of ones"
                if self.rule == "criteria" else "every normalized kernel of the catalogue tends to the matrix of ones")
        rate = {"map": ", at the rate of the correlation map at c = 1", "algebraic": ", algebraically (~ C/L^2)",
                "none": ""}[self.rate]
        return what + rate

    def predicts_ones(self, laws: ModelLaws) -> bool:
        return True if self.rule == "always" else laws.criteria.holds

    def predicted_rate(self, laws: ModelLaws) -> tuple[str, Any] | None:
        """("geometric", r) or ("algebraic", p) for a model predicted to tend to the matrix of ones."""
        if self.rate == "none" or not self.predicts_ones(laws):
            return None
        slope = laws.criteria.slope_at_one
        if self.rate == "algebraic" or (slope is not None and slope.value == 1):
            return "algebraic", mpmath.mpf(2)
        return ("geometric", slope.value) if slope is not None and slope.value < 1 else None


def _combined(values: list[bool | None]) -> bool | None:
    if all(v is True for v in values):
        return True
    return False if any(v is False for v in values) else None


def limit_finding(laws: ModelLaws, kernel: str, claim: LimitPredictionClaim, obs: list[Observed]) -> Finding:
    pred = claim.predicts_ones(laws)
    got = _combined([o.ones for o in obs])
    law = laws.law(kernel)
    why = (f"criteria on {laws.criteria.what}: {laws.criteria.text()}" if claim.rule == "criteria"
           else "the variant predicts it for every model")
    seen = {True: "tends to 1", False: "does not tend to 1", None: "undecided"}[got]
    decisive = next(o for o in obs if o.ones is got) if any(o.ones is got for o in obs) else obs[0]
    return Finding(
        f"{label(laws.model)}: limit of the normalized {kernel.upper()}", None if got is None else pred == got,
        f"predicted: {'tends' if pred else 'does not tend'} to the matrix of ones ({why}); certified entries "
        f"of {len(obs)} pair(s): {seen} ({decisive.trend}); derived limit {law.limit_text()} ({law.how})",
        "certified values, validated limit")


def rate_finding(laws: ModelLaws, kernel: str, claim: LimitPredictionClaim, obs: list[Observed]) -> Finding | None:
    """The predicted rate against the certified gaps, where the prediction and the values both say 'ones'.

    Geometric with rate r: the per-layer gap ratios over the last two intervals against r, within a
    polynomial prefactor L^m (|m| <= 2); algebraic L^-p: the gap exponents against p (within 0.1). The
    later estimate decides (:func:`approach`): near the prediction supports it, approaching it leaves the
    finding open (not yet asymptotic), anything else contradicts it.
    """
    pred = claim.predicted_rate(laws)
    if pred is None or _combined([o.ones for o in obs]) is not True:
        return None
    kind, r = pred
    verdicts, parts = [], []
    for o in obs:
        la, lb, lc = o.depths[-3:]
        if kind == "geometric" and o.gap_rates is not None:
            allowance = 2 * math.log(lc / lb) / (lc - lb) + RATE_SLACK
            first, last = (mpmath.log(b.mid_mpf()) for b in o.gap_rates)
            verdicts.append(approach(first, last, mpmath.log(r), allowance))
            parts.append(f"per-layer gap ratio {ball_text(o.gap_rates[1], 8)} over L = {lb}..{lc} (before: "
                         f"{ball_text(o.gap_rates[0], 6)}; |log(ratio/{mpmath.nstr(r, 8)})| <= {allowance:.3g} "
                         "allows a factor L^m, |m| <= 2)")
        elif kind == "algebraic" and o.gap_exponents is not None:
            first, last = (b.mid_mpf() for b in o.gap_exponents)
            verdicts.append(approach(first, last, r, EXPONENT_TOLERANCE))
            parts.append(f"gap exponent {ball_text(o.gap_exponents[1], 6)} over L = {lb}..{lc} (before: "
                         f"{ball_text(o.gap_exponents[0], 4)})")
        else:
            verdicts.append(None)
    law = laws.law(kernel)
    return Finding(f"{label(laws.model)}: rate of the normalized {kernel.upper()}", _combined(verdicts),
                   f"predicted {kind} ({'rate' if kind == 'geometric' else 'exponent'} {mpmath.nstr(r, 10)}); "
                   f"certified: {'; '.join(parts)}; derived law: {law.rate_text()} ({law.rate_how})",
                   "certified values, validated rate")


# ---- the check ------------------------------------------------------------------------------------


def _observed_rate_text(law: Law, o: Observed) -> str:
    """The rate read off the certified entries: of the gaps where the limit is 1, else of the differences."""
    gaps = law.limit == "ones"
    if law.kind == "geometric":
        r = (o.gap_rates[1] if o.gap_rates else None) if gaps else o.per_layer()
        return "-" if r is None else f"per layer {ball_text(r, 6)}"
    p = (o.gap_exponents[1] if o.gap_exponents else None) if gaps else o.exponent()
    return "-" if p is None else f"exponent {ball_text(p, 4)}"


def _row(laws: ModelLaws, kernel: str, claim: LimitPredictionClaim, obs: list[Observed]) -> list[str]:
    law = laws.law(kernel)
    ok, detail = rate_agreement(law, obs[0])
    seen = {True: "tends to 1", False: "does not", None: "undecided"}[_combined([o.ones for o in obs])]
    return [label(laws.model), laws.criteria.text(), "ones" if claim.predicts_ones(laws) else "not ones",
            law.limit_text(), law.rate_text(), ", ".join(str(d) for d in obs[0].depths),
            ball_text(obs[0].entries[-1], 10), seen, _observed_rate_text(law, obs[0]),
            f"{'yes' if ok else 'no' if ok is False else '-'}: {detail}"]


def _decades(model: Model, n0: int, quick: bool) -> tuple[int, ...]:
    if quick:
        return QUICK_DECADES
    return SERIES_DECADES if parabolic_family(model, n0) is not None else FULL_DECADES


def run(ctx_: CheckContext, kernel: str, claim: LimitPredictionClaim):
    pairs = study_pairs(ctx_.data)
    n0 = ctx_.data.n0
    findings: list[Finding] = []
    rows, series, numbers, ladders = [], [], {}, {}
    for model in study_models(ctx_.quick):
        laws, sweep, ladder = certified_study(model, pairs, n0, _decades(model, n0, ctx_.quick))
        depths = ladder[kernel]
        obs = [observe(_entries(sweep, kernel, depths, i), depths) for i in range(len(pairs))]
        findings.append(limit_finding(laws, kernel, claim, obs))
        rate = rate_finding(laws, kernel, claim, obs)
        if rate is not None:
            findings.append(rate)
        rows.append(_row(laws, kernel, claim, obs))
        name = label(model)
        ladders[name] = list(depths)
        series.append({"label": name, "x": list(depths),
                       "y": [max(float(v.one_minus().mid_fraction), 1e-300) for v in obs[0].entries]})
        numbers[name] = {"predicted_ones": claim.predicts_ones(laws),
                         "certified_ones": _combined([o.ones for o in obs]),
                         "entries_last_depth": [{**o.entries[-1].to_json(20), "kind": "certified"} for o in obs],
                         "derived_limit": laws.law(kernel).limit_text(), "derived_rate": laws.law(kernel).rate_text()}
    cosines = [p.sign * math.sqrt(p.t) for p in pairs]
    evidence = Evidence(
        tables=[Table(f"Criteria, derived laws and certified normalized {kernel.upper()} entries (first pair, cos "
                      f"{cosines[0]:.6f}; {ctx_.data_spec}, q_1 = sigma_w^2/{n0} + sigma_b^2)",
                      ["model", "criteria", "predicted", "derived limit", "derived rate", "depths",
                       "entry at the last depth", "certified", "observed rate", "derived law matches"], rows,
                      "Observed rates over the last three depths: of the gaps 1 - entry where the derived limit is 1, "
                      "else of successive differences (per layer for evenly spaced depths, exponent for decades); "
                      "'derived law matches' compares it with the derived law's own ratio at the same depths "
                      "(per layer within 1e-2, exponent within 0.15).")],
        figures=[Figure(f"other_kernels_{kernel}_gaps", f"1 - normalized {kernel.upper()} entry along depth "
                        "(first pair)", "depth L", "1 - entry", series, "log", "log")],
        numbers=numbers,
        notes=[f"{label(m)}: {model_laws(m, n0).orbit}" for m in study_models(ctx_.quick)],
    )
    return findings, evidence, {"data": ctx_.data_spec, "n0": n0, "pair_cosines": cosines, "digits": DIGITS,
                                "ladders": ladders}


CHECK = CheckSpec(
    id="other-kernels",
    title="Open Question 3: the criteria predict the depth limit of other models' kernels",
    claim_text="For every model of the catalogue (activations, variances, MLP and ResNet), the key properties "
               "identified for ReLU (the correlation follows one map h with h(1) = 1 and h(z) > z on (-1, 1)) "
               "predict the limit of the normalized kernel: where they hold it tends to the matrix of ones, at "
               "the rate of h at 1; where they fail it does not.",
    claim_latex=r"h(1) = 1,\ h(z) > z\ (z \in (-1,1)) \Leftrightarrow \bar K^{(L)} \to \mathbf{1}\mathbf{1}^\top",
    hypotheses="the models of docs/models.md (the quick profile: six of them), NTK parameterization; two pairs of "
               "the data (smallest and largest |cosine|), unit-sphere inputs of dimension n0 (q_1 = sigma_w^2/n0 + "
               "sigma_b^2); h is the correlation map the variance orbit leads to",
    method="criteria on the map of phases.analyse (sympy); certified normalized entries along a ladder chosen from "
           "the derived law; the limit from the certified gaps' trend (decaying / settled), the rate from their "
           "per-layer ratio or exponent",
    kernels=("nngp", "ntk"),
    run=run,
    stated_claim=LimitPredictionClaim("criteria", "map"),
    false_claim=LimitPredictionClaim("always", "none"),
)
