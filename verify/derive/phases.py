"""Fixed points, chi_1, phase and convergence type of a model's kernel maps (sympy where exact, mpmath elsewhere).

For a :class:`~verify.core.model.Model` with activation phi, the NNGP recursion of an MLP
(neural-tangents' ``Dense`` / ``phi`` layers, any parameterization: the NNGP maps are the same)
is, with ``V`` the dual kernel of :mod:`.dual_kernels_symbolic`,

    q_{l+1} = F(q_l) = sigma_w^2 V(q_l, 1) + sigma_b^2                       (variance map)
    c_{l+1} = (sigma_w^2 V(q_l, c_l) + sigma_b^2) / q_{l+1}                  (correlation map)

At a fixed point q* of F the correlation map is ``f(c) = (sigma_w^2 V(q*, c) + sigma_b^2)/q*``,
with ``f(1) = 1`` and ``f'(c) = sigma_w^2 Vdot(q*, c)`` (Price), so the slope at c = 1 is
``chi_1 = sigma_w^2 E[phi'(u)^2]`` at Var u = q*, and the slope at another fixed point c* is
``chi_c = sigma_w^2 Vdot(q*, c*)``. Phase: ordered (chi_1 < 1), chaotic (chi_1 > 1), edge of
chaos (chi_1 = 1); decided exactly when chi_1 is an exact number.

Homogeneous activations (phi(t x) = t^k phi(x), t > 0) have ``V(q, c) = q^k V(1, c)``:

* k = 1 (relu, leaky_relu, abrelu, abs, relu^1), m = V(1, 1) = (A^2 + B^2)/2, chi_1 = sigma_w^2 m for
  every q. Without bias there is no finite q* > 0 (q_l = q_1 chi_1^(l-1)) and the correlation map
  ``h(c) = V(1, c)/m`` does not depend on sigma_w^2: c* = 1 is parabolic (h'(1) = 1) and, with
  ``1 - h(1 - e) = e - kappa e^(3/2) + ...``, ``1 - c_L ~ 4/(kappa^2 L^2)`` (ReLU: kappa = 2 sqrt 2/(3 pi),
  ``9 pi^2/(2 L^2)``). With bias, chi_1 < 1: ``q* = sigma_b^2/(1 - chi_1)`` and geometric convergence
  at rate chi_1; chi_1 = 1: q grows by sigma_b^2 per layer and ``1 - c_L ~ 1/(kappa^2 L^2)`` (a quarter
  of the unbiased constant: with E_l = q_l (1 - c_l), E_{l+1} = E_l - kappa E_l^(3/2)/sqrt(q_l) and
  q_l ~ sigma_b^2 l give E_l ~ sigma_b^2/(kappa^2 l)); chi_1 > 1: q grows geometrically, the bias
  fades and the unbiased law holds.
* k = 0 (sign, relu^0): V(q, 1) is constant, so q* = sigma_w^2 V(1, 1) + sigma_b^2 from layer 2 on;
  phi' has a delta, so chi_1 = +oo (c = 1 repels); neural-tangents' NTK takes phi' = 0 (chi_1 = 0 for
  the NTK's gradient factor).
* k = 2 (relu^2): F(q) = sigma_w^2 (3/2) q^2 + sigma_b^2 (exact roots); without bias q* = 2/(3 sigma_w^2)
  repels and the q-free map h has h'(1) = 4/3: c* = 1 repels, an interior c* attracts.

erf and gelu: q* by bracketing on a logarithmic grid and bisection at 60 digits (validated);
q* = 0 is a fixed point without bias (phi(0) = 0), where phi is linear to first order: the
correlation map tends to the identity and c_L tends to a limit that depends on c_1. The edge of
chaos at q* = 0 is sigma_w^2 = 1/phi'(0)^2 (:func:`edge_of_chaos_at_zero`): pi/4 for erf(x), 4 for gelu.

ResNet (``resnet:ALPHA``): q_{l+1} = q_l + alpha^2 (sigma_w^2 V(q_l, 1) + sigma_b^2) never has a finite
positive fixed point; for k = 1 the block map is ``(c + beta h(c))/(1 + beta)``, beta = alpha^2 sigma_w^2 m,
parabolic at c* = 1 for every sigma_w^2: ``1 - c_L ~ 4 (1 + beta)^2/(beta^2 kappa^2 L^2)``. Other
activations in a ResNet: q growth only (the correlation analysis is not derived here).

>>> a = analyse(Model.parse("relu"))
>>> a.chi_1.text(), a.phase, a.convergence.constant.text()
('1/2', 'ordered', '9*pi**2/2')
>>> analyse(Model.parse("relu", sigma_w2="1", sigma_b2="0.1")).q_star.text()
'1/5'
>>> edge_of_chaos_at_zero(Activation.parse("erf"))
pi/4
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp

from verify.core.model import Activation, Model
from verify.derive.dual_kernels_symbolic import C, DualKernel, Q, dual_kernel

DPS = 60
S = sp.Symbol("s", positive=True)          # s = sqrt(1 - c) near c = 1
Q_GRID = [mpmath.mpf(10) ** (mpmath.mpf(e) / 16) for e in range(-160, 97)]   # 1e-10 .. 1e6
MpFn = Callable[..., Any]


def _rat(x: Fraction) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator)


@dataclass(frozen=True)
class Num:
    """A derived number: exact sympy ``expr`` when known (label "exact"), else a validated mpf."""

    value: Any
    expr: sp.Expr | None = None

    @property
    def label(self) -> str:
        return "exact" if self.expr is not None else "validated"

    def text(self, digits: int = 20) -> str:
        if self.expr is not None:
            return "+oo" if self.expr is sp.oo else sp.sstr(self.expr)
        if self.value == mpmath.inf:
            return "+oo"
        return mpmath.nstr(self.value, digits)

    def approx(self, digits: int = 12) -> str:
        """The value as a short decimal (also for exact numbers)."""
        return "+oo" if self.value == mpmath.inf else mpmath.nstr(self.value, digits)

    @classmethod
    def exact(cls, expr: sp.Expr) -> Num:
        e = sp.nsimplify(expr) if expr.is_Float else sp.simplify(expr)
        value = mpmath.inf if e is sp.oo else mpmath.mpf(sp.N(e, DPS + 10))
        return cls(value, e)


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point with the map's slope there and its stability."""

    at: Num
    slope: Num
    stability: str

    def text(self) -> str:
        return f"{self.at.text(15)} (slope {self.slope.text(12)}, {self.stability})"


@dataclass(frozen=True)
class Convergence:
    """How c_L approaches its limit: kind geometric / algebraic / none / not derived, with its law."""

    kind: str
    text: str
    rate: Num | None = None
    exponent: sp.Expr | None = None
    constant: Num | None = None
    target: Num | None = None


@dataclass
class CorrelationMap:
    """The correlation map analysed (mpmath callables at DPS) and what it is."""

    f: MpFn
    df: MpFn
    what: str
    expr: sp.Expr | None = None


@dataclass
class PhaseAnalysis:
    """Everything :func:`analyse` derives for one model (see the module docstring)."""

    model: Model
    kernel: DualKernel
    variance_map: sp.Expr
    q_fixed_points: list[FixedPoint]
    q_behaviour: str
    q_star: Num | None
    chi_1: Num
    phase: str
    phase_note: str
    cmap: CorrelationMap | None
    c_fixed_points: list[FixedPoint]
    convergence: Convergence
    q_start: Any = None                 # q_1 used by the numeric checks
    kappa: sp.Expr | None = None        # 1 - h(1 - e) = e - kappa e^(3/2) + ... (k = 1)
    notes: list[str] = field(default_factory=list)
    # chi_1 = offset + factor E[phi'(u)^2] (/ E[phi(u)^2] when ``ratio``) at Var u = q: (offset, factor, q, ratio)
    chi_rule: tuple[sp.Expr, sp.Expr, Num, bool] | None = None

    def fixed_points_text(self, digits: int, none: str = "-") -> str:
        """The correlation map's fixed points with their stability ('(v)' marks a validated, not exact, value)."""
        if not self.c_fixed_points:
            return none
        return "; ".join(f"{p.at.text(digits)}{'' if p.at.expr is not None else ' (v)'} ({p.stability.split(' (')[0]})"
                         for p in self.c_fixed_points)

    @property
    def chi_1_ntk(self) -> Num | None:
        """The NTK's gradient factor where it differs from chi_1 (phi' with a delta: neural-tangents uses 0)."""
        return Num.exact(sp.Integer(0)) if self.kernel.has_delta else None


# ---- numeric helpers ---------------------------------------------------------------------

def _mp(expr: sp.Expr) -> Any:
    return mpmath.mpf(sp.N(expr, DPS + 10))


def _bisect(g: MpFn, a: Any, b: Any, steps: int = 230) -> Any:
    """A root of g in [a, b] where g changes sign (bisection to about 2^-steps relative)."""
    ga = g(a)
    for _ in range(steps):
        m = (a + b) / 2
        gm = g(m)
        if gm == 0:
            return m
        if (gm < 0) == (ga < 0):
            a, ga = m, gm
        else:
            b = m
    return (a + b) / 2


def _sign_change_roots(g: MpFn, grid: list[Any]) -> list[Any]:
    vals = [g(x) for x in grid]
    return [_bisect(g, grid[i], grid[i + 1]) for i in range(len(grid) - 1)
            if vals[i] != 0 and vals[i + 1] != 0 and (vals[i] < 0) != (vals[i + 1] < 0)] + \
        [grid[i] for i in range(1, len(grid) - 1) if vals[i] == 0]


def _stability(slope: Any) -> str:
    if slope == mpmath.inf:
        return "repelling (infinite slope)"
    if abs(slope) < 1:
        return "attracting"
    return "repelling" if abs(slope) > 1 else "neutral"


def _kernel_fns(k: DualKernel) -> tuple[MpFn, MpFn, MpFn]:
    """(V(q, c), Vdot(q, c), V(q, 1)) as mpmath callables."""
    return (sp.lambdify((Q, C), k.v, "mpmath"), sp.lambdify((Q, C), k.vdot, "mpmath"),
            sp.lambdify(Q, k.v_diag, "mpmath"))


@lru_cache(maxsize=32)
def large_q_limits(activation: Activation) -> tuple[sp.Expr, sp.Expr]:
    """(lim V(q, 1)/q, lim V(q, 1)) as q -> oo (sympy limits; the growth of q in a ResNet)."""
    k = dual_kernel(activation)
    return sp.limit(k.v_diag / Q, Q, sp.oo), sp.limit(k.v_diag, Q, sp.oo)


def edge_of_chaos_at_zero(activation: Activation) -> sp.Expr:
    """sigma_w^2 with chi_1 = 1 at q* = 0 (no bias, phi(0) = 0): 1/phi'(0)^2 = 1/Vdot(0, 1) (exact)."""
    k = dual_kernel(activation)
    if k.v_diag.subs(Q, 0) != 0 or k.degree is not None:
        raise ValueError(f"{activation.spec}: q* = 0 is not a fixed point with a finite slope")
    return sp.simplify(1 / sp.limit(k.vdot.subs(C, 1), Q, 0))


# ---- correlation fixed points ------------------------------------------------------------

def _c_grid() -> list[Any]:
    lin = [mpmath.mpf(i) / 400 - 1 for i in range(0, 800)]
    near = [1 - mpmath.mpf(10) ** (-mpmath.mpf(j) / 4) for j in range(10, 120)]
    return sorted(set(lin + near))


def _c_fixed_points(cm: CorrelationMap, exact: dict[int, bool], chi_1: Num) -> list[FixedPoint]:
    """Fixed points of cm.f on [-1, 1]: c = 1 (always), c = -1 and c = 0 when ``exact`` says so, and
    the sign changes of f(c) - c on a grid of [-1, 1) (800 points, plus 1 - 10^-j/4 up to 1 - 1e-30)."""
    found: list[FixedPoint] = []
    roots = _sign_change_roots(lambda c: cm.f(c) - c, _c_grid())
    roots = [r for r in roots if abs(r) > mpmath.mpf(10) ** (-DPS // 2) or not exact.get(0)]
    for c0 in (-1, 0):
        if exact.get(c0):
            if c0 == -1:            # f' is even when f is odd: the slope at -1 is chi_1
                slope = chi_1
            elif cm.expr is not None:
                slope = Num.exact(sp.diff(cm.expr, C).subs(C, 0))
            else:
                slope = Num(cm.df(mpmath.mpf(0)))
            found.append(FixedPoint(Num.exact(sp.Integer(c0)), slope, _stability(slope.value)))
    for r in roots:
        if abs(r + 1) > mpmath.mpf(10) ** (-DPS // 2):
            slope = cm.df(r)
            found.append(FixedPoint(Num(r), Num(slope), _stability(slope)))
    one = chi_1
    stab = _stability(one.value)
    if one.value == 1:
        below = [p for p in found if p.at.value < 1]
        stab = "parabolic, attracting from below" if not any(p.stability == "attracting" for p in below) \
            else "parabolic"
    found.append(FixedPoint(Num.exact(sp.Integer(1)), one, stab))
    return sorted(found, key=lambda p: p.at.value)


def _geometric(points: list[FixedPoint]) -> Convergence:
    attracting = [p for p in points if p.stability == "attracting"]
    if not attracting:
        return Convergence("not derived", "no attracting fixed point of the correlation map found")
    texts = [f"c_L -> {p.at.text(15)} geometrically, |c_L - c*| ~ const chi_c^L, chi_c = {p.slope.text(15)}"
             for p in attracting]
    first = attracting[-1]
    return Convergence("geometric", "; ".join(texts) + (" (the attracting point depends on c_1)"
                                                         if len(attracting) > 1 else ""),
                       rate=first.slope, target=first.at)


# ---- the analysis ------------------------------------------------------------------------

def analyse(model: Model) -> PhaseAnalysis:
    """Derive the variance and correlation maps' fixed points, chi_1, the phase and the convergence type."""
    k = dual_kernel(model.activation)
    with mpmath.workdps(DPS):
        if model.architecture.kind == "resnet":
            a = _resnet(model, k)
        elif k.degree == 1:
            a = _degree_one(model, k)
        elif k.degree in (0, 2):
            a = _exact_variance(model, k)
        else:
            a = _smooth(model, k)
        a.chi_rule = _chi_rule(a)
    return a


def _chi_rule(a: PhaseAnalysis) -> tuple[sp.Expr, sp.Expr, Num, bool] | None:
    """How chi_1 reads as a Gaussian expectation (for its numeric check); None when it is +oo or not derived."""
    s2 = _rat(a.model.sigma_w2)
    one = Num.exact(sp.Integer(1))
    if a.kernel.has_delta or a.phase == "not derived":
        return None
    if a.model.architecture.kind == "resnet":
        return sp.Integer(1), _rat(a.model.architecture.alpha or Fraction(0)) ** 2 * s2, one, False
    if a.kernel.degree == 1:
        return sp.Integer(0), s2, one, False
    if a.q_star is not None:
        q = a.q_star if a.q_star.value > 0 else Num(mpmath.mpf(10) ** -(DPS - 10))
        return sp.Integer(0), s2, q, False
    repelling = [p.at for p in a.q_fixed_points if p.at.value > 0]
    if repelling:
        return sp.Integer(0), s2, repelling[0], False
    return sp.Integer(0), sp.Integer(1), one, True


def _phase(chi: Num) -> str:
    if chi.expr is not None:
        diff = sp.simplify(chi.expr - 1)
        if diff == 0:
            return "edge of chaos"
        return "chaotic" if (chi.expr is sp.oo or diff.is_positive) else "ordered"
    if abs(chi.value - 1) < mpmath.mpf(10) ** (-DPS // 2):
        return "edge of chaos (to working precision)"
    return "chaotic" if chi.value > 1 else "ordered"


def _homogeneous_map(k: DualKernel) -> tuple[sp.Expr, CorrelationMap]:
    """The q-free map h(c) = V(1, c)/V(1, 1) of a homogeneous phi."""
    h, hdot = k.normalized()
    if k.has_delta:   # slope at c = +-1 is infinite: mpmath would divide by zero
        def dh(c: Any) -> Any:
            return mpmath.inf if abs(c) == 1 else sp.lambdify(C, hdot, "mpmath")(c)
    else:
        dh = sp.lambdify(C, hdot, "mpmath")
    return h, CorrelationMap(sp.lambdify(C, h, "mpmath"), dh, "h(c) = V(1, c)/V(1, 1) (exact, q-free)", h)


def _kappa(h: sp.Expr) -> sp.Expr:
    """kappa with 1 - h(1 - s^2) = s^2 - kappa s^3 + O(s^4) (sympy series)."""
    ser = sp.series(1 - h.subs(C, 1 - S**2), S, 0, 4).removeO()
    if sp.simplify(ser.coeff(S, 2) - 1) != 0:
        raise ValueError("h'(1) != 1: not a parabolic point")
    return sp.simplify(-ser.coeff(S, 3))


def _degree_one(model: Model, k: DualKernel) -> PhaseAnalysis:
    s2, b = _rat(model.sigma_w2), _rat(model.sigma_b2)
    m = k.v_diag.subs(Q, 1)
    chi = Num.exact(s2 * m)
    fmap = sp.expand(s2 * k.v_diag + b)
    h, hmap = _homogeneous_map(k)
    kappa = _kappa(h)
    linear = kappa == 0
    notes = []
    q_start = _mp(s2 + b)
    if b == 0:
        growth = {"ordered": "q_l -> 0", "chaotic": "q_l -> oo", "edge of chaos": "q_l = q_1 for every l"}
        behaviour = (f"no finite q* > 0 without bias: q_l = q_1 chi_1^(l-1), chi_1 = {chi.text()} "
                     f"({growth[_phase(chi)]})")
        qfp = [FixedPoint(Num.exact(sp.Integer(0)), chi, _stability(chi.value))]
        notes.append("without bias the correlation map does not depend on sigma_w^2; chi_1 is the "
                     "growth factor of q (and of the NTK's gradient term)")
        cmap: CorrelationMap = hmap
        if linear:
            return PhaseAnalysis(model, k, fmap, qfp, behaviour, None, chi, _phase(chi), notes[0], cmap, [],
                                 Convergence("none", "phi is linear: c_L = c_1 for every L"), q_start, kappa, notes)
        points = _c_fixed_points(cmap, {}, Num.exact(sp.Integer(1)))
        const = sp.simplify(4 / kappa**2)
        conv = Convergence("algebraic", f"1 - c_L ~ {sp.sstr(const)} / L^2 (parabolic c* = 1; 1 - h(1 - e) = "
                           f"e - kappa e^(3/2) + ..., kappa = {sp.sstr(kappa)}; 1 - c_L ~ 4/(kappa^2 L^2))",
                           exponent=sp.Integer(2), constant=Num.exact(const), target=Num.exact(sp.Integer(1)))
        return PhaseAnalysis(model, k, fmap, qfp, behaviour, None, chi, _phase(chi), notes[0], cmap, points,
                             conv, q_start, kappa, notes)
    if (s2 * m - 1).is_negative:
        qs = Num.exact(b / (1 - s2 * m))
        qfp = [FixedPoint(qs, chi, "attracting")]
        f = sp.simplify((s2 * qs.expr * m * h + b) / qs.expr)
        cmap = CorrelationMap(sp.lambdify(C, f, "mpmath"), sp.lambdify(C, sp.diff(f, C), "mpmath"),
                              "f(c) = (sigma_w^2 V(q*, c) + sigma_b^2)/q* (exact)", f)
        points = _c_fixed_points(cmap, {}, chi)
        return PhaseAnalysis(model, k, fmap, qfp, f"q_l -> q* = {qs.text()} geometrically (rate chi_1)", qs,
                             chi, _phase(chi), "", cmap, points, _geometric(points), q_start, kappa, notes)
    # b > 0 and chi_1 >= 1: q grows without bound, the bias fades, the limit map is h
    edge = s2 * m == 1
    behaviour = ("no finite q*: q_l = q_1 + (l - 1) sigma_b^2 (grows linearly)" if edge else
                 f"no finite q*: q_l grows geometrically at rate chi_1 = {chi.text()}")
    if linear:
        return PhaseAnalysis(model, k, fmap, [], behaviour, None, chi, _phase(chi), "", hmap, [],
                             Convergence("not derived", "phi is linear: c_L tends to a limit that depends on c_1"),
                             q_start, kappa, notes)
    points = _c_fixed_points(hmap, {}, Num.exact(sp.Integer(1)))
    const = sp.simplify((1 if edge else 4) / kappa**2)
    why = ("E_l = q_l (1 - c_l) obeys E_{l+1} = E_l - kappa E_l^(3/2)/sqrt(q_l), q_l ~ sigma_b^2 l, so "
           "E_l ~ sigma_b^2/(kappa^2 l): a quarter of the unbiased constant" if edge else
           "q grows geometrically, the bias's share decays geometrically: the unbiased law")
    conv = Convergence("algebraic", f"1 - c_L ~ {sp.sstr(const)} / L^2 ({why}; kappa = {sp.sstr(kappa)})",
                       exponent=sp.Integer(2), constant=Num.exact(const), target=Num.exact(sp.Integer(1)))
    notes.append("the correlation map is not autonomous (q_l grows); its limit is h(c) = V(1, c)/V(1, 1)")
    return PhaseAnalysis(model, k, fmap, [], behaviour, None, chi, _phase(chi), notes[-1], hmap, points, conv,
                         q_start, kappa, notes)


def _frozen_map(model: Model, k: DualKernel, qs: Num) -> CorrelationMap:
    """f(c) = (sigma_w^2 V(q*, c) + sigma_b^2)/q* at a fixed point q* (exact when q* is)."""
    s2, b = _rat(model.sigma_w2), _rat(model.sigma_b2)
    vf, vdf, _ = _kernel_fns(k)
    if qs.expr is not None:
        f = (s2 * k.v.subs(Q, qs.expr) + b) / qs.expr
        df_expr = s2 * k.vdot.subs(Q, qs.expr)
        fn = sp.lambdify(C, f, "mpmath")
        dfn = sp.lambdify(C, df_expr, "mpmath")

        def dfs(c: Any) -> Any:
            return mpmath.inf if (k.has_delta and abs(c) == 1) else dfn(c)

        return CorrelationMap(fn, dfs, "f(c) = (sigma_w^2 V(q*, c) + sigma_b^2)/q* (exact)", f)
    qv, s2v, bv = qs.value, _mp(s2), _mp(b)
    # normalized by F(q*) rather than q*: the same at the fixed point, and f(1) = 1 exactly for the
    # validated (finite-precision) q*, at any working precision
    return CorrelationMap(lambda c: (s2v * vf(qv, c) + bv) / (s2v * vf(qv, 1) + bv),
                          lambda c: s2v * qv * vdf(qv, c) / (s2v * vf(qv, 1) + bv),
                          "f(c) = (sigma_w^2 V(q*, c) + sigma_b^2)/F(q*) (q* validated)")


def _exact_variance(model: Model, k: DualKernel) -> PhaseAnalysis:
    """sign, relu^0 (V(q, 1) constant) and relu^2 (quadratic F): q* from sympy."""
    s2, b = _rat(model.sigma_w2), _rat(model.sigma_b2)
    fmap = sp.expand(s2 * k.v_diag + b)
    dfmap = sp.diff(fmap, Q)
    notes: list[str] = []
    if k.degree == 0:
        qs = Num.exact(fmap)
        qfp = [FixedPoint(qs, Num.exact(sp.Integer(0)), "attracting (reached at layer 2)")]
        behaviour = f"q_l = q* = {qs.text()} for every l >= 2 (V(q, 1) does not depend on q)"
        q_start = _mp(s2 + b)
    else:
        roots = sorted((r for r in sp.solve(sp.Eq(fmap, Q), Q) if r.is_real and r.is_positive),
                       key=lambda r: float(r))
        qfp = [FixedPoint(Num.exact(r), Num.exact(dfmap.subs(Q, r)), _stability(_mp(dfmap.subs(Q, r))))
               for r in roots]
        stable = [p for p in qfp if p.stability == "attracting"]
        if b == 0:
            qfp.insert(0, FixedPoint(Num.exact(sp.Integer(0)), Num.exact(sp.Integer(0)), "attracting"))
        if stable:
            qs = stable[0].at
            upper = [p for p in qfp if p.at.value > qs.value]
            basin = f"q_1 < {upper[0].at.text()}" if upper else "every q_1"
            behaviour = f"q_l -> q* = {qs.text()} for {basin} (quadratic map, exact roots)"
            q_start = qs.value / 2
            if upper and _mp(s2 + b) >= upper[0].at.value:
                notes.append(f"from q_1 = sigma_w^2 + sigma_b^2 = {sp.sstr(s2 + b)} (|x|^2 = n0) q_l -> oo "
                             "doubly exponentially")
        else:
            qs = None
            behaviour = ("no attracting q* > 0: q_l -> 0 or oo doubly exponentially (q* = "
                         + ", ".join(p.at.text() for p in qfp if p.at.value > 0) + " repels)"
                         if b == 0 else "no fixed point: q_l -> oo doubly exponentially")
            q_start = _mp(s2 + b)
    if qs is None:                      # relu^2 without attracting q*: the q-free map (exact for b = 0)
        _, cmap = _homogeneous_map(k)
        slope1 = Num.exact(k.normalized()[1].subs(C, 1))
        rep = [p for p in qfp if p.at.value > 0]
        chi = (Num.exact(s2 * k.vdot.subs({Q: rep[0].at.expr, C: 1})) if rep else slope1)
        if b != 0:
            cmap.what = "limit q -> oo: h(c) = V(1, c)/V(1, 1)"
            notes.append("the correlation map tends to h as q_l -> oo (the bias fades)")
        points = _c_fixed_points(cmap, {}, slope1)
        note = (f"chi_1 at the repelling q* = {rep[0].at.text()}" if rep else
                "no finite q*: chi_1 = sigma_w^2 Vdot(q, 1) grows without bound; slope of h at 1 shown")
        return PhaseAnalysis(model, k, fmap, qfp, behaviour, qs, chi, _phase(chi), note, cmap, points,
                             _geometric(points), q_start, None, notes)
    cmap = _frozen_map(model, k, qs)
    chi = Num.exact(sp.oo) if k.has_delta else Num.exact(s2 * k.vdot.subs({Q: qs.expr, C: 1}))
    assert cmap.expr is not None          # q* is exact here
    exact_pts = {-1: sp.simplify(cmap.expr.subs(C, -1) + 1) == 0, 0: sp.simplify(cmap.expr.subs(C, 0)) == 0}
    points = _c_fixed_points(cmap, exact_pts, chi)
    note = ("phi' has a delta at 0: chi_1 = +oo (distributional), c = 1 repels; neural-tangents' NTK "
            "uses phi' = 0" if k.has_delta else "")
    return PhaseAnalysis(model, k, fmap, qfp, behaviour, qs, chi, _phase(chi), note, cmap, points,
                         _geometric(points), q_start, None, notes)


def _smooth(model: Model, k: DualKernel) -> PhaseAnalysis:
    """erf, gelu: q* by bracketing (validated), or exactly 0 without bias."""
    s2, b = _rat(model.sigma_w2), _rat(model.sigma_b2)
    fmap = sp.expand(s2 * k.v_diag + b)
    _, vdf, vdiag = _kernel_fns(k)
    s2v, bv = _mp(s2), _mp(b)
    dfn = sp.lambdify(Q, sp.diff(fmap, Q), "mpmath")

    def g(q: Any) -> Any:
        return s2v * vdiag(q) + bv - q

    roots = _sign_change_roots(g, Q_GRID)
    qfp = [FixedPoint(Num(r), Num(dfn(r)), _stability(dfn(r))) for r in roots]
    slope0 = Num.exact(s2 * sp.limit(k.vdot.subs(C, 1), Q, 0))
    if b == 0:
        qfp.insert(0, FixedPoint(Num.exact(sp.Integer(0)), slope0, _stability(slope0.value)))
    notes = []
    if g(Q_GRID[-1]) > 0:
        notes.append("F(q) > q at q = 1e6: q_l -> oo for q_1 beyond the last fixed point")
    stable = [p for p in qfp if p.stability == "attracting"]
    q1 = _mp(s2 + b)
    reached = _iterate_q(lambda q: s2v * vdiag(q) + bv, q1, 4000)
    pick = [p for p in stable if abs(p.at.value - reached) < mpmath.mpf(10) ** -20] or stable
    if not pick:
        return PhaseAnalysis(model, k, fmap, qfp, "no attracting fixed point of the variance map found", None,
                             Num(mpmath.nan), "not derived", "", None, [],
                             Convergence("not derived", "the variance map has no attracting fixed point"),
                             q1, None, notes)
    qs = pick[0].at
    upper = [p for p in qfp if p.at.value > qs.value]
    basin = f"q_1 < {upper[0].at.text(15)}" if upper else "every q_1 > 0"
    if qs.expr is not None and qs.value == 0:
        chi = slope0
        behaviour = f"q_l -> 0 geometrically at rate F'(0) = chi_1 = {chi.text()} ({basin})"
        conv = Convergence("none", "q* = 0, where phi is linear to first order: the correlation map tends to the "
                           "identity and c_L tends to a limit that depends on c_1 (no universal c*)")
        return PhaseAnalysis(model, k, fmap, qfp, behaviour, qs, chi, _phase(chi),
                             "q* = 0: chi_1 = sigma_w^2 phi'(0)^2", None, [], conv, q1, None, notes)
    chi = Num(s2v * vdf(qs.value, mpmath.mpf(1)))
    behaviour = f"q_l -> q* = {qs.text(20)} for {basin} (validated: bisection at {DPS} digits)"
    cmap = _frozen_map(model, k, qs)
    odd = k.odd and b == 0
    points = _c_fixed_points(cmap, {-1: odd, 0: odd}, chi)
    start = q1 if abs(reached - qs.value) < mpmath.mpf(10) ** -20 else qs.value / 2
    return PhaseAnalysis(model, k, fmap, qfp, behaviour, qs, chi, _phase(chi), "", cmap, points,
                         _geometric(points), start, None, notes)


def _iterate_q(fq: MpFn, q: Any, steps: int) -> Any:
    for _ in range(steps):
        nxt = fq(q)
        if nxt > 10**30:
            return mpmath.inf
        if abs(nxt - q) <= abs(q) * mpmath.mpf(10) ** -(DPS - 5):
            return nxt
        q = nxt
    return q


def _resnet(model: Model, k: DualKernel) -> PhaseAnalysis:
    alpha = model.architecture.alpha
    assert alpha is not None
    s2, b, a2 = _rat(model.sigma_w2), _rat(model.sigma_b2), _rat(alpha) ** 2
    fmap = sp.expand(Q + a2 * (s2 * k.v_diag + b))
    q_start = _mp(s2 + b)
    chi = Num.exact(1 + a2 * s2 * k.vdot.subs(C, 1)) if k.degree == 1 else Num(mpmath.nan)
    if k.degree == 1:
        m = k.v_diag.subs(Q, 1)
        beta = sp.simplify(a2 * s2 * m)
        h, hmap = _homogeneous_map(k)
        kappa = _kappa(h)
        f = sp.simplify((C + beta * h) / (1 + beta))
        cmap = CorrelationMap(sp.lambdify(C, f, "mpmath"), sp.lambdify(C, sp.diff(f, C), "mpmath"),
                              "block map (c + beta h(c))/(1 + beta), beta = alpha^2 sigma_w^2 V(1, 1)"
                              + (" (limit: the bias fades)" if b else " (exact)"), f)
        behaviour = (f"no finite q* > 0: q_l grows geometrically at rate 1 + beta = {sp.sstr(1 + beta)}"
                     + (" (plus alpha^2 sigma_b^2 per block)" if b else ""))
        if kappa == 0:
            return PhaseAnalysis(model, k, fmap, [], behaviour, None, chi, "edge of chaos (every sigma_w^2)",
                                 "", cmap, [], Convergence("none", "phi is linear: c_L = c_1"), q_start, kappa)
        points = _c_fixed_points(cmap, {}, Num.exact(sp.Integer(1)))
        const = sp.simplify(4 * (1 + beta) ** 2 / (beta**2 * kappa**2))
        conv = Convergence("algebraic", f"1 - c_L ~ {sp.sstr(const)} / L^2 (block map 1 - f(1 - e) = e - "
                           f"beta kappa/(1 + beta) e^(3/2) + ..., kappa = {sp.sstr(kappa)}, beta = {sp.sstr(beta)})",
                           exponent=sp.Integer(2), constant=Num.exact(const), target=Num.exact(sp.Integer(1)))
        note = ("slope of the block's correlation map at c = 1 is exactly 1 for every sigma_w^2: no ordered or "
                "chaotic phase; chi_1 here is the per-block growth of the NTK's gradient term, 1 + alpha^2 "
                "sigma_w^2 E[phi'^2]")
        return PhaseAnalysis(model, k, fmap, [], behaviour, None, chi, "edge of chaos (every sigma_w^2)", note,
                             cmap, points, conv, q_start, kappa)
    if k.degree == 2:
        growth = "doubly exponentially (F(q) - q = alpha^2 sigma_w^2 (3/2) q^2 + alpha^2 sigma_b^2)"
    else:
        lin, top = large_q_limits(model.activation)
        growth = (f"geometrically at rate 1 + alpha^2 sigma_w^2 lim V(q, 1)/q = {sp.sstr(1 + a2 * s2 * lin)}"
                  if lin != 0 else f"linearly by alpha^2 (sigma_w^2 lim V(q, 1) + sigma_b^2) = "
                  f"{sp.sstr(a2 * (s2 * top + b))} per block")
    behaviour = f"q_l is increasing (no finite q* > 0) and grows {growth}"
    return PhaseAnalysis(model, k, fmap, [], behaviour, None, chi, "not derived",
                         "resnet with this activation: the correlation analysis is not derived here "
                         "(the direct route applies)", None, [],
                         Convergence("not derived", "resnet with this activation: not derived"), q_start)
