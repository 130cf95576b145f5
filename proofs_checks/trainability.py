"""trainability: the NTK's condition number along depth in the ordered and chaotic phases (Xiao et al. 2020).

Source. Xiao, Pennington and Schoenholz (ICML 2020, arXiv 1912.13053) relate trainability to
the condition number kappa = lambda_max/lambda_min of the NTK Gram matrix Theta^(l) on the
training set at large depth. What was read (the paper's body was not reachable here; its abstract
and the authors' companion notebook ``notebooks/Disentangling_Trainability_and_Generalization.ipynb``
of google/neural-tangents, linked from the paper as the code that "reproduces the essential
results", were): an MLP with phi = erf, NTK parameterization, recursion
Theta^(l+1) = K^(l+1) + sigma_w^2 Tdot(K^(l)) Theta^(l) on inputs with the same norm, q* the
attracting fixed point of the variance map, c* the attracting fixed point of the correlation
map, chi_1 = sigma_w^2 E[phi'(u)^2] at Var u = q* (the slope of the correlation map at c = 1).

* Ordered phase (chi_1 < 1, c* = 1 attracting): Theta^(l) -> p* 1 1^T with p* = q*/(1 - chi_1);
  the diagonal converges at rate chi_1^l, the off-diagonal at l chi_1^l, lambda_min -> 0 like
  l chi_1^l, so "kappa^(l) >~ 1/(l chi_1^l)" (the notebook; its summary's "grows like l chi_1^l"
  is a slip for the same law).
* Chaotic phase (chi_1 > 1, an attracting c* < 1): the diagonal grows like chi_1^l, the
  off-diagonal tends to q* c*/(1 - chi_c*), "the conditioning number converges to 1".
* Scope: the phase diagram is stated for erf/tanh-like phi, "emphatically, not for ReLUs".

The kernel. kappa is the same for the raw NTK and the normalized one ThetaBar = Theta(x,x')/Theta(x,x)
(every diagonal entry equals Theta^(L)(x,x) on the sphere), so the certified cond_2 of the
normalized Gram matrix (:func:`verify.linalg.conditioning.conditioning_sweep` with ``model=``,
assembled from the relative-accuracy gaps 1 - ThetaBar) is the paper's kappa. The data-dependent
part of Theta is its gap matrix G = 1 - ThetaBar: kappa ~ n / lambda_min(-P G P), P the projection
onto 1-perp.

Derivation (why l chi_1^l; gap coordinates of :mod:`verify.kernel.model_recursion`). With
D_l = Theta_l(x,x) - Theta_l(x,x') and e_l = 1 - c_l ~ A chi_1^l (c* = 1 attracts at rate chi_1),

    D_{l+1} = chi_1 D_l + q* e_{l+1} + (chi_1 - sigma_w^2 Vdot(q*, c_l)) Theta_l(x,x').

For phi' absolutely continuous (erf), chi_1 - sigma_w^2 Vdot(q*, c) = sigma_w^2 q* E[phi''(u)^2] e + ...,
so the source term is s chi_1^l and D_l ~ s l chi_1^(l-1): the gap is l chi_1^l times a pair-dependent
constant, lambda_min ~ l chi_1^l and log cond_2 = -log L - L log chi_1 + C + O(1/L). For ReLU,
Vdot(q, q, q c) = (pi - arccos c)/(2 pi) has a kink at c = 1: chi_1 - sigma_w^2 Vdot = sigma_w^2
arccos(c_l)/(2 pi) ~ sigma_w^2 sqrt(2 e_l)/(2 pi) ~ chi_1^(l/2) dominates, D_l ~ chi_1^(l/2) and
cond_2 grows like chi_1^(-L/2) (no factor L): the ReLU models (with bias, chi_1 = sigma_w^2/2) are
outside the source's hypotheses and appear as reference evidence, with the certified rate.

The reading (stated claim, :class:`TrainabilityClaim`). For each claimed ordered model the
residual r(L) = log10 cond_2(L) + a log10 L + b L log10 chi_1 (a = b = 1: the law 1/(L chi_1^L))
*settles*: along the doubling ladder L = 8 xi, 16 xi, 32 xi, 64 xi (and 128 xi outside the quick
profile; xi = -1/ln chi_1, :func:`ladder`) each certified move is at most SHRINK times the one before
(the law's O(1/L) correction halves them). It is contradicted when the last move grows by GROW over
the one before (a residual with a nonzero slope per layer doubles its moves along a doubling
ladder: the rate is wrong). The secant slope of log10 cond_2 over the last
step against the law's -b log10 chi_1 - a log10(L_K/L_(K-1))/(L_K - L_(K-1)) is shown with it:
their difference is the last move over the step, so the settling band is the slope's tolerance.
For each claimed chaotic model cond_2 - 1 must decay to 0 (at least 2x per step,
:func:`.trends.settled_or_decaying`). Each claimed model's phase is checked as well: certified
chi_1 on the claimed side of 1 and the law's hypotheses (q* > 0 with c* = 1 attracting, or an
attracting c* < 1) from :func:`verify.derive.phases.analyse`.

>>> str(STATED)
'cond_2 ~ 1/(L^1 chi_1^(1 L)) for erf(sw2=1, sb2=0.1), erf(sw2=1.25, sb2=0.1); cond_2 -> 1 for erf(sw2=2, sb2=0.1), \
erf(sw2=2, sb2=0)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
from flint import arb, ctx

from verify.core.balls import Ball, arb_of_fraction
from verify.core.model import Model
from verify.data.dataset import Dataset
from verify.derive.phases import PhaseAnalysis, analyse
from verify.kernel.dual_kernels import ARB, MPMATH, dual_kernel
from verify.linalg.conditioning import ConditionResult, conditioning_sweep

from .base import CheckContext, CheckSpec, Evidence, Figure, Finding, Table
from .common import ball_text, lower, upper
from .sources import XIAO_2020
from .trends import settled_or_decaying

DIGITS = 20
"""Relative digits certified for every cond_2 (and eigenvalue) of the Gram matrices."""
MAX_POINTS = 6
"""The first points of the run's data used (no two collinear: their Gram matrix is singular for odd phi)."""
LADDER_START = 8
LADDER_STEPS = 4
"""Ordered side (chi_1 < 1): L = ceil(8 xi 2^k), k = 0..3 (one more outside the quick profile), with the
depth scale xi = -1/ln chi_1. The law is asymptotic in L/xi: the residual has a data-dependent transient
over the first few xi (a hump that peaked between 3 xi and 8 xi on the built-in data), and in units of xi
log10 cond_2 ~ L/(xi ln 10) is about 28 at 64 xi (55 at 128 xi) whatever chi_1."""
FIXED_LADDER = (25, 50, 100, 200)
CHAOTIC_LADDER = (10, 20, 40, 80)
"""The edge (chi_1 = 1, no depth scale) and the chaotic side (one more step outside the quick profile:
cond_2 - 1 stays above 1e-16 at L = 160 for the models below, well within DIGITS)."""
SHRINK = Fraction(2, 3)
"""Settling: each certified move of the residual at most SHRINK times the one before (the law's O(1/L)
correction gives 1/2 along a doubling ladder; measured 0.47 to 0.60 for erf with sigma_b^2 = 0.1,
sigma_w^2 = 0.75, 1, 1.25 on sphere-4/10/20 and msft-10)."""
GROW = Fraction(3, 2)
"""A wrong rate: the last move at least GROW times the one before, same sign (a linear drift gives 2)."""
RESOLUTION = Fraction(1, 10**12)
"""A move of the residual below this (in log10) counts as settled: it is below what the ladder resolves."""
CHI_BITS = 256
CERTIFIED = "certified (Arb enclosures of cond_2 and chi_1; the limit validated from the shrinking moves)"


@dataclass(frozen=True)
class Net:
    """An MLP in NTK parameterization by its activation and variances (exact decimal texts)."""

    activation: str
    sigma_w2: str
    sigma_b2: str

    @property
    def model(self) -> Model:
        return Model.parse(activation=self.activation, sigma_w2=self.sigma_w2, sigma_b2=self.sigma_b2)

    def __str__(self) -> str:
        return f"{self.activation}(sw2={self.sigma_w2}, sb2={self.sigma_b2})"


ERF_ORDERED = (Net("erf", "1", "0.1"), Net("erf", "1.25", "0.1"))
ERF_CHAOTIC = (Net("erf", "2", "0.1"), Net("erf", "2", "0"))
REFERENCE = (Net("relu", "1", "0.1"), Net("relu", "1.5", "0.1"), Net("relu", "2", "0.1"), Net("erf", "0.5", "0"))
"""Outside the source's hypotheses: ReLU with bias (ordered, sigma_w^2 < 2; edge, sigma_w^2 = 2) and erf
without bias below its edge sigma_w^2 = pi/4 (q* = 0: chi_1 < 1 but c* = 1 is not an attracting fixed point)."""


@dataclass(frozen=True)
class TrainabilityClaim:
    """cond_2 of the NTK ~ 1/(L^depth_power chi_1^(rate L)) for the ordered models; -> chaotic_limit for the chaotic.

    ``chi_rule``: "derived" (chi_1 = sigma_w^2 E[phi'(u)^2] at Var u = q*, certified) or "sigma_w2"
    (the wrong rule chi_1 = sigma_w^2). ``reference``: models shown as evidence only (no finding).
    """

    ordered: tuple[Net, ...] = ERF_ORDERED
    chaotic: tuple[Net, ...] = ERF_CHAOTIC
    depth_power: int = 1
    rate: Fraction = Fraction(1)
    chaotic_limit: Fraction = Fraction(1)
    chi_rule: str = "derived"
    reference: tuple[Net, ...] = field(default=())

    def __str__(self) -> str:
        parts = []
        if self.ordered:
            chi = "chi_1" if self.chi_rule == "derived" else "chi_1 (= sigma_w^2)"
            parts.append(f"cond_2 ~ 1/(L^{self.depth_power} {chi}^({self.rate} L)) for "
                         + ", ".join(map(str, self.ordered)))
        if self.chaotic:
            parts.append(f"cond_2 -> {self.chaotic_limit} for " + ", ".join(map(str, self.chaotic)))
        return "; ".join(parts)


STATED = TrainabilityClaim(reference=REFERENCE)


# ---------------------------------------------------------------- chi_1, certified

def _rational(expr: Any) -> Fraction | None:
    return Fraction(int(expr.p), int(expr.q)) if expr is not None and expr.is_Rational else None


def certified_q_star(model: Model, phases: PhaseAnalysis) -> arb | None:
    """Certified enclosure of the attracting fixed point q* of q -> sigma_w^2 E[phi(u)^2] + sigma_b^2 (None: no q*).

    Exact when the derivation gives a rational q* (ReLU with bias: sigma_b^2/(1 - chi_1); erf without
    bias below its edge: 0). Otherwise (erf) the validated q* of :func:`verify.derive.phases.analyse`
    is bracketed: g(q) = sigma_w^2 V(q, q, q) + sigma_b^2 - q is certified > 0 at lo and < 0 at hi
    (so a fixed point lies in [lo, hi]) and g' < 0 on [lo, hi] (so it is the only one there).
    """
    if phases.q_star is None:
        return None
    exact = _rational(phases.q_star.expr)
    if exact is not None:
        return arb_of_fraction(exact)
    kernel = dual_kernel(model.activation)
    sw, sb = arb_of_fraction(model.sigma_w2), arb_of_fraction(model.sigma_b2)
    with mpmath.workdps(60):
        mid = Fraction(mpmath.nstr(phases.q_star.value, 50))
    lo, hi = mid * (1 - Fraction(1, 10**40)), mid * (1 + Fraction(1, 10**40))
    q_lo, q_hi = arb_of_fraction(lo), arb_of_fraction(hi)

    def g(q: arb) -> arb:
        return sw * kernel.V_diag(ARB, q) + sb - q

    hull = q_lo.union(q_hi)
    if not (g(q_lo) > 0 and g(q_hi) < 0 and sw * kernel.V_diag_prime(ARB, hull) - 1 < 0):
        raise ArithmeticError(f"{model.name}: the validated q* = {mid} could not be bracketed")
    return hull


def certified_chi_1(model: Model, phases: PhaseAnalysis) -> Ball:
    """Certified enclosure of chi_1 = sigma_w^2 E[phi'(u)^2] at Var u = q* (the slope of the correlation map at 1).

    Without a finite q* (ReLU at or beyond its edge) the derivation applies only to degree-1 homogeneous
    phi, where E[phi'(u)^2] does not depend on Var u (ReLU: 1/2, so chi_1 = sigma_w^2/2).

    >>> m = Net("erf", "1", "0.1").model
    >>> certified_chi_1(m, analyse(m)).to_json(20)["mid"]
    '0.79716452703381559157775'
    >>> m = Net("relu", "1.5", "0.1").model
    >>> chi = certified_chi_1(m, analyse(m)); chi.mid_fraction, chi.rad_fraction
    (Fraction(3, 4), Fraction(0, 1))
    """
    kernel = dual_kernel(model.activation)
    with ctx.workprec(CHI_BITS):
        q = certified_q_star(model, phases)
        if q is None:
            if kernel.degree != 1:
                raise ArithmeticError(f"{model.name}: no finite q*, and E[phi'^2] depends on the variance")
            q = arb(1)
        return Ball.from_arb(arb_of_fraction(model.sigma_w2) * kernel.Vdot_diag(ARB, q))


def edge_sigma_w2(activation: str, sigma_b2: Fraction) -> Any:
    """Best effort (mpmath bisection at 40 digits): sigma_w^2 on the edge of chaos chi_1 = 1 at bias ``sigma_b2``.

    The edge is parametrized by q* > 0: sigma_w^2 = 1/E[phi'(u)^2], sigma_b^2 = q* - E[phi(u)^2]/E[phi'(u)^2]
    (Var u = q*); the bias is solved for q*. For erf without bias the curve starts at pi/4 (q* -> 0).

    >>> print(mpmath.nstr(edge_sigma_w2("erf", Fraction(1, 10)), 10))
    1.552117855
    """
    kernel = dual_kernel(Model.parse(activation=activation).activation)
    with mpmath.workdps(40):
        def bias(q: Any) -> Any:
            return q - kernel.V_diag(MPMATH, q) / kernel.Vdot_diag(MPMATH, q)

        target = mpmath.mpf(sigma_b2.numerator) / sigma_b2.denominator
        lo, hi = mpmath.mpf("1e-12"), mpmath.mpf(1)
        while bias(hi) < target:
            hi *= 2
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if bias(mid) < target else (lo, mid)
        return 1 / kernel.Vdot_diag(MPMATH, (lo + hi) / 2)


# ---------------------------------------------------------------- the certified conditioning along depth

@dataclass(frozen=True)
class Study:
    """One model: its derived phase, certified chi_1, and the certified conditioning along a ladder."""

    net: Net
    phases: PhaseAnalysis
    chi_1: Ball
    conds: tuple[ConditionResult, ...]

    @property
    def depths(self) -> list[int]:
        return [c.depth for c in self.conds]

    def cond(self, k: int) -> Ball:
        value = self.conds[k].condition_number
        assert value is not None            # conditioning_sweep certifies cond_2 (or raises)
        return value

    @property
    def attracting_c(self) -> list[str]:
        return [p.at.text(12) for p in self.phases.c_fixed_points if "attracting" in p.stability]

    def hypothesis_gap(self, role: str) -> str | None:
        """Why the law of ``role`` does not apply to this model (None: its hypotheses hold)."""
        a = self.phases
        q_pos = a.q_star is not None and a.q_star.value > 0
        c_one = any(p.at.value == 1 and p.stability == "attracting" for p in a.c_fixed_points)
        if role == "ordered":
            if not q_pos:
                return f"no fixed point q* > 0 ({a.q_behaviour})"
            return None if c_one else "c* = 1 is not an attracting fixed point"
        inner = any(p.at.value < 1 and "attracting" in p.stability for p in a.c_fixed_points)
        return None if q_pos and inner else "no attracting c* < 1 with q* > 0"


def usable_points(data: Dataset, limit: int = MAX_POINTS) -> Dataset:
    """The first ``limit`` points of ``data`` with no two collinear (x' = +-x makes the Gram matrix singular).

    >>> usable_points(Dataset.from_rows([["1", "0"], ["-1", "0"], ["0", "1"]])).points
    ((Fraction(1, 1), Fraction(0, 1)), (Fraction(0, 1), Fraction(1, 1)))
    """
    kept: list[int] = []
    for i in range(data.n):
        if len(kept) == limit:
            break
        if all(data.pair(i, j).t != 1 for j in kept):
            kept.append(i)
    return Dataset(tuple(data.points[i] for i in kept), data.project, f"{data.name}[{','.join(map(str, kept))}]")


def ladder(phase: str, chi_1: float, quick: bool) -> list[int]:
    """The doubling ladder of a model of this derived phase and chi_1 (see :data:`LADDER_START`).

    >>> ladder("ordered", 0.5, True), ladder("edge of chaos", 1.0, False)
    ([12, 24, 47, 93], [25, 50, 100, 200, 400])
    """
    if phase == "ordered" and chi_1 < 1:
        xi = -1 / math.log(chi_1)
        return [math.ceil(LADDER_START * xi * 2**k) for k in range(LADDER_STEPS + (0 if quick else 1))]
    base = CHAOTIC_LADDER if phase == "chaotic" else FIXED_LADDER
    return list(base) + ([] if quick else [2 * base[-1]])


def study(ctx_: CheckContext, net: Net) -> Study:
    """The certified study of ``net`` on the ladder of its phase (cached in ``ctx.extras``: variants share it)."""
    cache = ctx_.extras.setdefault("trainability", {})
    key = (net, ctx_.quick, ctx_.data_spec)
    if key not in cache:
        model = net.model
        phases = analyse(model)
        chi = certified_chi_1(model, phases)
        conds = conditioning_sweep(usable_points(ctx_.data), ladder(phases.phase, float(chi), ctx_.quick), "ntk",
                                   DIGITS, model=model)
        cache[key] = Study(net, phases, chi, tuple(conds))
    found: Study = cache[key]
    return found


# ---------------------------------------------------------------- findings

def claimed_chi(study_: Study, claim: TrainabilityClaim) -> Ball:
    if claim.chi_rule == "derived":
        return study_.chi_1
    if claim.chi_rule == "sigma_w2":
        with ctx.workprec(CHI_BITS):
            return Ball.from_arb(arb_of_fraction(study_.net.model.sigma_w2))
    raise ValueError(f"unknown chi_rule {claim.chi_rule!r}")


def residuals(study_: Study, claim: TrainabilityClaim) -> list[Ball]:
    """Certified r(L) = log10 cond_2(L) + a log10 L + b L log10 chi_1 at every depth of the ladder."""
    a, b = claim.depth_power, claim.rate
    with ctx.workprec(CHI_BITS):
        ten = arb(10).log()
        log_chi = claimed_chi(study_, claim).to_arb().log() / ten
        return [Ball.from_arb(study_.cond(k).to_arb().log() / ten + a * arb(L).log() / ten
                              + arb_of_fraction(b) * L * log_chi) for k, L in enumerate(study_.depths)]


def _abs_bounds(ball: Ball) -> tuple[Fraction, Fraction]:
    lo, hi = lower(ball), upper(ball)
    return (Fraction(0) if lo <= 0 <= hi else min(abs(lo), abs(hi))), max(abs(lo), abs(hi))


def moves(values: Sequence[Ball]) -> list[Ball]:
    with ctx.workprec(CHI_BITS):
        return [Ball.from_arb(b.to_arb() - a.to_arb()) for a, b in zip(values, values[1:], strict=False)]


def settling(steps: Sequence[Ball]) -> bool | None:
    """True: every move at most SHRINK times the one before (or below RESOLUTION); False: the last grows by GROW.

    >>> settling([Ball.exact(Fraction(1, 16)), Ball.exact(Fraction(1, 32)), Ball.exact(Fraction(1, 64))])
    True
    >>> settling([Ball.exact(-5), Ball.exact(-10), Ball.exact(-20)])
    False
    """
    if len(steps) < 2:
        return None
    shrink = all(_abs_bounds(b)[1] <= max(SHRINK * _abs_bounds(a)[0], RESOLUTION)
                 for a, b in zip(steps, steps[1:], strict=False))
    if shrink:
        return True
    last, before = steps[-1], steps[-2]
    same_sign = (lower(last) > 0 and lower(before) > 0) or (upper(last) < 0 and upper(before) < 0)
    if same_sign and _abs_bounds(last)[0] >= GROW * _abs_bounds(before)[1]:
        return False
    return None


def secant_slope(study_: Study) -> Ball:
    """Certified (log10 cond_2(L_K) - log10 cond_2(L_(K-1)))/(L_K - L_(K-1)) over the last step of the ladder."""
    with ctx.workprec(CHI_BITS):
        step = study_.depths[-1] - study_.depths[-2]
        value = (study_.cond(-1).to_arb().log() - study_.cond(-2).to_arb().log()) / arb(10).log() / step
        return Ball.from_arb(value)


def rate_finding(study_: Study, claim: TrainabilityClaim) -> Finding:
    """Does log10 cond_2 + a log10 L + b L log10 chi_1 settle along the doubling ladder?"""
    r = residuals(study_, claim)
    d = moves(r)
    depths = study_.depths
    verdict = settling(d)
    step = depths[-1] - depths[-2]
    with ctx.workprec(CHI_BITS):
        ten = arb(10).log()
        law = (-arb_of_fraction(claim.rate) * claimed_chi(study_, claim).to_arb().log() / ten
               - claim.depth_power * (arb(depths[-1]) / depths[-2]).log() / ten / step)
    trail = ", ".join(ball_text(m, 4) for m in d)
    text = (f"{study_.net}: moves of log10 cond_2 + {claim.depth_power} log10 L + {claim.rate} L log10 chi_1 over "
            f"L = {depths}: {trail}; secant slope of log10 cond_2 over [{depths[-2]}, {depths[-1]}] "
            f"{ball_text(secant_slope(study_), 8)} per layer vs the law's {ball_text(Ball.from_arb(law), 8)}")
    if verdict is True:
        band = 2 * _abs_bounds(d[-1])[1] + r[-1].rad_fraction
        text += (f"; the residual settles (each move at most {SHRINK} of the one before), its limit within "
                 f"{float(band):.1e} of {ball_text(r[-1], 8)} (validated: the geometric tail of the moves)")
    elif verdict is False:
        text += (f"; the moves grow (at least {float(GROW)}x per doubling): the residual drifts by "
                 f"{float(d[-1].mid_fraction) / step:.6g} per layer, so the rate is not "
                 f"{claim.rate} log10(1/chi_1) per layer")
    else:
        text += "; the moves neither shrink nor grow steadily"
    return Finding(f"ordered-phase rate, {study_.net}", verdict, text, CERTIFIED)


def chaotic_finding(study_: Study, claim: TrainabilityClaim) -> Finding:
    """cond_2 - limit decays to 0 along the ladder (:func:`.trends.settled_or_decaying`)."""
    with ctx.workprec(CHI_BITS):
        limit = arb_of_fraction(claim.chaotic_limit)
        seq = [(L, Ball.from_arb(study_.cond(k).to_arb() - limit)) for k, L in enumerate(study_.depths)]
    found = settled_or_decaying(f"cond_2 - {claim.chaotic_limit}, {study_.net}", seq, Fraction(0))
    return Finding(found.name, found.supports, found.certificate.replace("per decade", "per doubling of L"),
                   found.guarantee)


def phase_finding(study_: Study, role: str, claim: TrainabilityClaim) -> Finding:
    """The model is where the claim puts it: certified chi_1 on the claimed side of 1, and the law's hypotheses."""
    chi, claimed = study_.chi_1, claimed_chi(study_, claim)
    name = f"phase of {study_.net}"
    guarantee = "certified chi_1 (Arb, q* bracketed); fixed points derived (verify.derive.phases)"
    where = f"chi_1 = sigma_w^2 E[phi'(u)^2] at q* = {study_.phases.q_star.text(15) if study_.phases.q_star else '-'}"
    if claim.chi_rule != "derived" and (upper(claimed) < lower(chi) or lower(claimed) > upper(chi)):
        return Finding(name, False, f"the claim takes chi_1 = {ball_text(claimed, 10)} but {where} is certified "
                       f"{ball_text(chi, 15)}", guarantee)
    side = upper(chi) < 1 if role == "ordered" else lower(chi) > 1
    wrong = lower(chi) > 1 if role == "ordered" else upper(chi) < 1
    gap = study_.hypothesis_gap(role)
    text = (f"{where} is {ball_text(chi, 15)} (phase: {study_.phases.phase}; attracting c*: "
            f"{', '.join(study_.attracting_c) or 'none'})")
    if wrong:
        return Finding(name, False, f"claimed {role}, but {text}", guarantee)
    if not side or gap:
        outside = f"; outside the law's hypotheses: {gap}" if gap else ""
        return Finding(name, None, f"claimed {role}; {text}{outside}", guarantee)
    return Finding(name, True, f"{role}: {text}", guarantee)


# ---------------------------------------------------------------- evidence

def _log10_cond(ball: Ball) -> float:
    with ctx.workprec(CHI_BITS):
        return float((ball.to_arb().log() / arb(10).log()).mid())


def best_effort_slope(study_: Study, claim: TrainabilityClaim) -> float:
    """Best effort: least-squares slope of log10 cond_2 + a log10 L against L over the last three depths."""
    pts = [(L, _log10_cond(study_.cond(k)) + claim.depth_power * math.log10(L))
           for k, L in enumerate(study_.depths)][-3:]
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def _law_series(study_: Study, claim: TrainabilityClaim) -> dict[str, Any]:
    """The law's log10 cond_2 through the deepest certified value (it fixes the slope and shape, not the constant)."""
    top, y_top = study_.depths[-1], _log10_cond(study_.cond(-1))
    log_chi = math.log10(float(claimed_chi(study_, claim)))
    ys = [y_top + claim.depth_power * math.log10(top / L) - float(claim.rate) * (L - top) * log_chi
          for L in study_.depths]
    return {"label": f"law, {study_.net}", "x": study_.depths, "y": ys, "reference": True}


def kind(study_: Study, role: str) -> str:
    """'ordered' or 'chaotic': the claimed role, or for a reference model its derived phase (edge: 'ordered')."""
    if role != "reference":
        return role
    return "chaotic" if study_.phases.phase == "chaotic" else "ordered"


def _summary_row(s: Study, role: str, claim: TrainabilityClaim) -> list[str]:
    ordered_like = kind(s, role) == "ordered"
    law = f"1/(L^{claim.depth_power} chi_1^({claim.rate} L))" if ordered_like else f"-> {claim.chaotic_limit}"
    conds = sorted((s.cond(k) for k in range(len(s.depths))), key=lambda b: b.mid_fraction)
    slope = f"{best_effort_slope(s, claim):.6f}" if ordered_like else "-"
    law_slope = f"{-float(claim.rate) * math.log10(float(claimed_chi(s, claim))):.6f}" if ordered_like else "-"
    return [str(s.net), role, s.phases.phase, s.phases.q_star.text(12) if s.phases.q_star else "-",
            ", ".join(s.attracting_c) or "-", ball_text(s.chi_1, 12), law,
            f"{conds[0].to_json(4)['mid']} .. {conds[-1].to_json(4)['mid']}", slope, law_slope]


def _numbers(s: Study, role: str, claim: TrainabilityClaim) -> dict[str, Any]:
    out: dict[str, Any] = {f"chi_1 {s.net}": {**s.chi_1.to_json(20), "kind": "certified"}}
    if kind(s, role) == "ordered":
        out[f"fitted slope of log10 cond_2 + {claim.depth_power} log10 L, {s.net}"] = {
            "value": f"{best_effort_slope(s, claim):.8f}", "kind": "best effort (least squares, last 3 depths)"}
        out[f"secant slope of log10 cond_2, {s.net}, L={s.depths[-2]}..{s.depths[-1]}"] = {
            **secant_slope(s).to_json(12), "kind": "certified"}
    for k, L in enumerate(s.depths):
        out[f"cond_2 {s.net} L={L}"] = {**s.cond(k).to_json(12), "kind": "certified"}
    return out


def _series(s: Study, r: str) -> dict[str, Any]:
    return {"label": f"{s.net} ({r})", "x": s.depths, "y": [_log10_cond(s.cond(k)) for k in range(len(s.depths))]}


def _figures(claim: TrainabilityClaim, roles: list[tuple[Study, str]]) -> list[Figure]:
    first = [kind(s, r) == "ordered" and s.phases.phase == "ordered" for s, r in roles]
    ordered = [sr for sr, f in zip(roles, first, strict=True) if f]
    others = [sr for sr, f in zip(roles, first, strict=True) if not f]
    laws = [_law_series(s, claim) for s, _ in ordered if s.hypothesis_gap("ordered") is None]
    return [Figure("trainability_ordered", "NTK cond_2 along depth, ordered side (certified); dashed: the law "
                   "through the deepest value",
                   "depth L", "log10 cond_2", [_series(s, r) for s, r in ordered] + laws),
            Figure("trainability_chaotic", "NTK cond_2 along depth: chaotic phase (-> 1), ReLU at the edge "
                   "(certified)", "depth L", "log10 cond_2", [_series(s, r) for s, r in others])]


def _reference_note(s: Study) -> str | None:
    """For an ordered reference model with q* > 0: its certified rate against both candidate laws."""
    if s.phases.phase != "ordered" or s.hypothesis_gap("ordered") is not None:
        return None
    with ctx.workprec(CHI_BITS):
        rate = -(s.chi_1.to_arb().log() / arb(10).log())
        half = Ball.from_arb(rate / 2)
    return (f"{s.net} (reference): certified secant slope of log10 cond_2 over L = {s.depths[-2]}..{s.depths[-1]}: "
            f"{ball_text(secant_slope(s), 10)} per layer; (1/2) log10(1/chi_1) = {ball_text(half, 10)} "
            f"(cond_2 ~ chi_1^(-L/2)), log10(1/chi_1) = {ball_text(Ball.from_arb(rate), 10)} (Xiao et al.'s law).")


def evidence(ctx_: CheckContext, claim: TrainabilityClaim, roles: list[tuple[Study, str]]) -> Evidence:
    rows, numbers = [], {}
    for s, role in roles:
        numbers.update(_numbers(s, role, claim))
        res = residuals(s, claim)
        rows += [[str(s.net), str(L), ball_text(s.cond(k), 10), f"{_log10_cond(s.cond(k)):.6f}",
                  ball_text(res[k], 10) if kind(s, role) == "ordered" else ball_text(s.cond(k).one_minus(), 6)]
                 for k, L in enumerate(s.depths)]
    edge = edge_sigma_w2("erf", Fraction(1, 10))
    numbers["edge of chaos, erf, sigma_b^2 = 0.1: sigma_w^2"] = {"value": mpmath.nstr(edge, 15),
                                                                 "kind": "best effort (mpmath bisection)"}
    data = usable_points(ctx_.data)
    notes = [f"Data: {data.n} points of {ctx_.data_spec} ({data.name}), no two collinear; cond_2 of the NTK Gram "
             "matrix (the same for the raw and the normalized NTK).",
             f"Edge of chaos for erf at sigma_b^2 = 0.1: sigma_w^2 = {mpmath.nstr(edge, 10)} (best effort; pi/4 = "
             f"{mpmath.nstr(mpmath.pi / 4, 10)} only without bias, where q* = 0)."]
    notes += [n for n in (_reference_note(s) for s, r in roles if r == "reference") if n]
    if any(r == "reference" for _, r in roles):
        notes += ["ReLU with bias (reference, outside the source's hypotheses): chi_1 = sigma_w^2/2 and cond_2 "
                  "grows like chi_1^(-L/2), not 1/(L chi_1^L): ReLU's Vdot has a kink at c = 1, so the NTK gap "
                  "follows sqrt(1 - c_L) (module docstring). ReLU at the edge (sigma_w^2 = 2): cond_2 decreases "
                  "slowly towards a finite limit.",
                  "erf without bias below pi/4 (reference): chi_1 < 1 but q* = 0; the correlation map tends to the "
                  "identity and cond_2 tends to a finite, data-dependent limit (the law needs q* > 0, c* = 1)."]
    return Evidence(
        tables=[Table("Models: derived phase, certified chi_1, certified cond_2 range along the ladder",
                      ["model", "role", "phase", "q*", "attracting c*", "chi_1 (certified)", "law",
                       "cond_2 range", "fitted slope (best effort)", "law slope -b log10 chi_1"],
                      [_summary_row(s, r, claim) for s, r in roles]),
                Table("Certified cond_2 along depth; last column: log10 cond_2 + a log10 L + b L log10 chi_1 "
                      "(ordered side and edge) or 1 - cond_2 (chaotic side)",
                      ["model", "L", "cond_2", "log10 cond_2", "residual / 1 - cond_2"], rows)],
        figures=_figures(claim, roles), numbers=numbers, notes=notes)


def run(ctx_: CheckContext, kernel: str, claim: TrainabilityClaim):
    roles = [(study(ctx_, n), "ordered") for n in claim.ordered] + [(study(ctx_, n), "chaotic") for n in claim.chaotic]
    findings: list[Finding] = []
    for s, role in roles:
        findings.append(phase_finding(s, role, claim))
        findings.append(rate_finding(s, claim) if role == "ordered" else chaotic_finding(s, claim))
    parameters = {"data": ctx_.data_spec, "points": usable_points(ctx_.data).n, "digits": DIGITS,
                  "ladders": {str(s.net): s.depths for s, _ in roles},
                  "shrink": str(SHRINK), "grow": str(GROW), "claim": str(claim)}
    refs = [(study(ctx_, n), "reference") for n in claim.reference]
    return findings, evidence(ctx_, claim, roles + refs), parameters


CHECK = CheckSpec(
    id="trainability",
    title="NTK conditioning with depth: ordered phase 1/(L chi_1^L), chaotic phase -> 1",
    claim_text="In the ordered phase (chi_1 < 1, c* = 1) the condition number of the NTK grows like 1/(L chi_1^L); "
               "in the chaotic phase (chi_1 > 1) it tends to 1 (Xiao, Pennington and Schoenholz 2020).",
    claim_latex=r"\kappa(\Theta^{(L)})\sim\frac{1}{L\,\chi_1^{L}}\ (\chi_1<1),\qquad"
                r"\kappa(\Theta^{(L)})\to 1\ (\chi_1>1)",
    hypotheses="MLP, NTK parameterization, phi = erf (the source's setting; ReLU is excluded there and shown as "
               "reference), points on the sphere; chi_1 = sigma_w^2 E[phi'(u)^2] at Var u = q* > 0; ordered: "
               "c* = 1 attracting; chaotic: an attracting c* < 1",
    method="certified cond_2 of the NTK Gram matrix (Arb, conditioning_sweep with model=) along doubling ladders; "
           "certified chi_1 (q* bracketed); ordered: the moves of log10 cond_2 + log10 L + L log10 chi_1 must "
           "shrink; chaotic: cond_2 - 1 must decay",
    kernels=("ntk",),
    run=run,
    stated_claim=STATED,
    false_claim=TrainabilityClaim(rate=Fraction(2), chaotic=()),
    source=XIAO_2020,
)
