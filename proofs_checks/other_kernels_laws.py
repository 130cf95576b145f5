"""What the summary's criteria predict for a catalogue model, and the derived depth laws of both normalized kernels.

The seed summary (Mechanism 2, Lemma 1, Theorem 2; Open Question 3) names the properties behind
"the normalized kernel tends to the matrix of ones" but does not list them; as the summary states
them for ReLU they are

    (C1) the correlation follows one map: rho^(L+1) = h(rho^(L)), h: [-1, 1] -> [-1, 1];
    (C2) h(1) = 1;
    (C3) h(z) > z for every z in (-1, 1) (rho^(L) strictly increases);
    (C4) rho^(1) in (-1, 1) (distinct, non-antipodal inputs),

and the conclusion is Theorem 2's: rho^(L) -> 1 and ThetaBar^(L) -> 1 (both normalized kernels tend to
the matrix of ones), at the rate of h at 1 (h'(1) < 1: geometric with rate h'(1); h'(1) = 1, as for
ReLU: algebraic, 1 - rho ~ C/L^2). For a model whose map depends on the variance q_l, h is read as
the map the correlation follows asymptotically (:func:`effective_analysis`): the map at the fixed point
q* the variance orbit reaches, the q-free map of a homogeneous phi, or the limit map as q_l -> oo; when
q_l -> 0 with phi linear at 0 (gelu without bias) the limit map is the identity and (C3) fails.

Derived laws (:class:`Law`), for the MLP recursion of :mod:`verify.kernel.model_recursion`
(NTK parameterization) with ThetaBar_(l+1) = lambda_l rhodot_l ThetaBar_l + (1 - lambda_l) rho_(l+1),
lambda_l = chi(q_l) t_l / t_(l+1), rhodot = Vdot(q, c)/Vdot(q, 1):

* NNGP: :func:`verify.derive.phases.analyse` (sympy; c*, chi_c, the algebraic constant C).
* NTK, q* finite and ordered (c* = 1): ThetaBar -> (1 - chi_1) c*/(1 - chi_c) = 1. Its gap obeys
  f' = chi_1 f + O(DVdot): for a kink (relu family) DVdot ~ k theta ~ sqrt(e_l) ~ chi_1^(l/2), so the
  gap decays at sqrt(chi_1); for a smooth phi DVdot = O(e_l) and the gap is ~ L chi_1^L.
* NTK, q* finite and chaotic (c* < 1): t_L grows like chi_1^L while the off-diagonal stays
  O(max(chi_c, 1)^L) (O(L chi_c^L) when c* = 0): ThetaBar -> 0.
* NTK of relu^2 (q_l -> 0 or oo doubly exponentially, q-free map h): t = r q with r' = h'(1) r + 1, so
  ThetaBar -> 0 at the rate max(h'(c*), 1)/h'(1).
* NTK of sign and relu^0: Vdot = 0 (neural-tangents' convention), so ThetaBar = rho from layer 2 on.
* NTK of a k = 1 activation with c* = 1 parabolic: with 1 - rhodot_l ~ a/l (a = nu sqrt(C), nu from
  1 - rhodot(1 - s^2) = nu s + ..., C the NNGP constant; in a ResNet block a = beta nu sqrt(C)/(1 + beta))
  and lambda_l ~ 1 - s/l (s = 1, or 2 when the variance grows linearly: edge of chaos with a bias), the
  balance ThetaBar = (1 - s/l)(1 - a/l) ThetaBar + s/l gives ThetaBar -> s/(s + a): 1/4 (a = 3, s = 1;
  the seed ReLU law of :mod:`verify.derive.asymptotics` is the proven case) or 4/7 (a = 3/2, s = 2).
  This balance is a leading-order argument, not a proof; the certified values check it.
* gelu without bias (q_l -> 0 at rate chi_1 = phi'(0)^2 sigma_w^2): c_(l+1) - c_l = O(q_l), so rho_L
  tends to an input-dependent c_inf geometrically at rate chi_1, and ThetaBar_L, a weighted mean of
  the rho_l with weights O(1/L) on the early layers, tends to the same c_inf at rate 1/L.

>>> laws = model_laws(Model.parse("relu", "2", "0.1"), 3)
>>> laws.criteria.holds, laws.nngp.kind, sp.sstr(laws.ntk.value.expr)
(True, 'algebraic', '4/7')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp

from verify.core.model import Model
from verify.derive.dual_kernels_symbolic import C, Q
from verify.derive.phases import Num, PhaseAnalysis, analyse

ACTIVATIONS = ("relu", "leaky_relu:0.1", "abrelu:-0.5,2", "abs", "sign", "relu^0", "relu^1", "relu^2", "erf", "gelu")
GRID = (("1", "0"), ("1", "0.1"), ("2", "0"), ("2", "0.1"))
RESNETS = (("relu", "resnet:1"), ("relu", "resnet:0.3"), ("abs", "resnet:0.3"))
N_SYM = sp.Symbol("n", positive=True, integer=True)
S = sp.Symbol("s", positive=True)


def catalogue_models() -> list[Model]:
    """The models of docs/models.md (scripts/make_models_table.py): 10 activations x 4 variances, 3 ResNets x 4."""
    return ([Model.parse(spec, w, b) for spec in ACTIVATIONS for w, b in GRID]
            + [Model.parse(spec, w, b, architecture=arch) for spec, arch in RESNETS for w, b in GRID])


def label(model: Model) -> str:
    """A short name: ``relu (2, 0.1)``, ``relu resnet:0.3 (1, 0)``."""
    arch = "" if model.architecture.kind == "mlp" else f" {model.architecture.spec}"
    return f"{model.activation.spec}{arch} ({_dec(model.sigma_w2)}, {_dec(model.sigma_b2)})"


def _dec(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else str(float(x))


@dataclass(frozen=True)
class Law:
    """How one normalized kernel's off-diagonal entry behaves with depth.

    ``limit``: "ones" (-> 1), "constant" (-> ``value``, the same for every pair) or "data" (a limit
    that depends on the pair). The approach is ``kind`` "geometric" (|entry - limit| ~ A L^power r^L,
    r = ``rate``) or "algebraic" (~ A (log L)^power L^-p, p = ``rate``); ``constant`` is C in
    1 - rho ~ C L^-2 where derived. ``how`` and ``rate_how`` say where the limit and the rate come from.
    """

    kernel: str
    limit: str
    value: Num | None
    kind: str
    rate: Num | None
    power: int = 0
    constant: Num | None = None
    how: str = ""
    rate_how: str = ""

    def limit_text(self) -> str:
        if self.limit == "data":
            return "a limit that depends on the pair"
        assert self.value is not None
        return "1" if self.limit == "ones" else f"{self.value.text(12)}" + ("" if self.value.expr is not None
                                                                             else " (validated)")

    def rate_text(self) -> str:
        if self.rate is None:
            return "not derived"
        r = self.rate.text(10) + ("" if self.rate.expr is not None else " (v)")
        if self.kind == "geometric":
            return f"geometric, rate {r}" + (f" (times L^{self.power})" if self.power else "")
        log = f" (log L)^{self.power}" if self.power else ""
        c = f", C = {self.constant.text()}" if self.constant is not None else ""
        return f"algebraic,{log} L^-{r}{c}"

    def shape(self, depth: int) -> Any:
        """The law's L-dependence without its constant A (mpmath): L^power r^L or (log L)^power L^-p."""
        assert self.rate is not None
        L = mpmath.mpf(depth)
        if self.kind == "geometric":
            return L**self.power * mpmath.power(self.rate.value, L)
        return mpmath.log(L) ** self.power * L ** (-self.rate.value)


@dataclass(frozen=True)
class Criteria:
    """(C1)-(C3) evaluated on the map ``what``; ``fixed_map``: exact, asymptotic or none."""

    what: str
    fixed_map: str
    interior: tuple[str, ...]
    holds: bool
    slope_at_one: Num | None

    def text(self) -> str:
        c1 = {"exact": "holds (one map)", "asymptotic": "holds for the limit map",
              "none": "fails (the maps tend to the identity)"}[self.fixed_map]
        c3 = "holds" if self.holds else ("fails: fixed points in (-1, 1) at " + ", ".join(self.interior)
                                         if self.interior else "fails")
        return f"C1 {c1}; C2 holds; C3 {c3}"


@dataclass(frozen=True)
class ModelLaws:
    """Everything derived for one model and input dimension n0 (q_1 = sigma_w^2/n0 + sigma_b^2)."""

    model: Model
    n0: int
    analysis: PhaseAnalysis
    orbit: str
    criteria: Criteria
    nngp: Law
    ntk: Law

    def law(self, kernel: str) -> Law:
        return self.nngp if kernel == "nngp" else self.ntk

    @property
    def kernel_kind(self) -> str:
        """kink (relu family), step (sign, relu^0) or smooth (erf, gelu, relu^2)."""
        k = self.analysis.kernel
        if k.has_delta:
            return "step"
        return "kink" if k.degree == 1 else "smooth"


def _rat(x: Fraction) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator)


def effective_analysis(model: Model, n0: int) -> tuple[PhaseAnalysis, str]:
    """phases.analyse with the variance orbit from q_1 = sigma_w^2/n0 + sigma_b^2 taken into account.

    analyse picks the attracting q* (and notes when q_1 = sigma_w^2 + sigma_b^2 lies beyond its basin);
    here the basin is decided for the q_1 of unit-sphere inputs of dimension n0. relu^2 beyond the basin
    (q_l -> oo doubly exponentially, the bias fades) follows its q-free map h: the analysis without bias.
    """
    a = analyse(model)
    q1 = _rat(model.sigma_w2) / n0 + _rat(model.sigma_b2)
    if a.q_star is None or a.q_star.value == 0:
        return a, f"q_1 = {sp.sstr(q1)}: {a.q_behaviour}"
    upper = [p for p in a.q_fixed_points if p.at.value > a.q_star.value]
    if upper and mpmath.mpf(sp.N(q1, 30)) >= upper[0].at.value:
        if a.kernel.degree == 2:
            free = analyse(Model(model.activation, model.sigma_w2, Fraction(0), model.parameterization,
                                 model.width, model.architecture))
            return free, (f"q_1 = {sp.sstr(q1)} lies beyond the basin of q* = {a.q_star.text(8)} (it ends at "
                          f"{upper[0].at.text(8)}): q_l -> oo doubly exponentially, the correlation follows h")
        raise ValueError(f"{model.name}: q_1 = {q1} lies beyond the basin of q*; not derived here")
    return a, f"q_1 = {sp.sstr(q1)}: q_l -> q* = {a.q_star.text(12)}"


def criteria_of(a: PhaseAnalysis) -> Criteria:
    """(C1)-(C3) on the map the correlation follows asymptotically (c* = 1 is always a fixed point: C2)."""
    if a.cmap is None:
        return Criteria("the identity (q_l -> 0, phi linear at 0)", "none", (), False, Num.exact(sp.Integer(1)))
    exact = a.model.architecture.kind == "mlp" and (
        (a.kernel.degree in (1, 2) and a.model.sigma_b2 == 0) or a.kernel.has_delta)
    interior = tuple(p.at.text(10) for p in a.c_fixed_points if -1 < p.at.value < 1)
    one = [p for p in a.c_fixed_points if p.at.value == 1]
    slope = one[0].slope if one else None
    return Criteria(a.cmap.what, "exact" if exact else "asymptotic", interior, not interior, slope)


def nngp_law(a: PhaseAnalysis) -> Law:
    conv = a.convergence
    src = "derived (phases.analyse, sympy)"
    if conv.kind == "algebraic":
        return Law("nngp", "ones", Num.exact(sp.Integer(1)), "algebraic", Num.exact(sp.Integer(2)), 0, conv.constant,
                   src, src)
    if conv.kind == "geometric" and conv.target is not None:
        limit = "ones" if conv.target.value == 1 else "constant"
        return Law("nngp", limit, conv.target, "geometric", conv.rate, 0, None, src, src)
    if conv.kind == "none" and a.cmap is None:          # q* = 0: the maps tend to the identity
        return Law("nngp", "data", None, "geometric", a.chi_1, 0, None, src,
                   "derived here at leading order: c_(l+1) - c_l = O(q_l), q_l ~ chi_1^l")
    return Law("nngp", "data", None, "not derived", None, how=f"not derived: {conv.text}")


def _nu(a: PhaseAnalysis) -> sp.Expr:
    """nu with 1 - Vdot(1, 1 - s^2)/Vdot(1, 1) = nu s + O(s^2) (k = 1: Vdot does not depend on q)."""
    k = a.kernel
    rho_dot = k.vdot.subs(Q, 1) / k.vdot.subs({Q: 1, C: 1})
    ser = sp.series(1 - rho_dot.subs(C, 1 - S**2), S, 0, 2).removeO()
    return sp.simplify(ser.coeff(S, 1))


def _balance_limit(a: PhaseAnalysis, nngp: Law) -> tuple[sp.Expr, int]:
    """(s/(s + a), s) for a k = 1 activation with parabolic c* = 1 (see the module docstring)."""
    assert nngp.constant is not None and nngp.constant.expr is not None
    model = a.model
    a_coef = _nu(a) * sp.sqrt(nngp.constant.expr)
    s = 1
    if model.architecture.kind == "resnet":
        alpha = model.architecture.alpha
        assert alpha is not None
        beta = _rat(alpha) ** 2 * _rat(model.sigma_w2) * a.kernel.v_diag.subs(Q, 1)
        a_coef = a_coef * beta / (1 + beta)
    elif model.sigma_b2 != 0 and a.phase == "edge of chaos":
        s = 2
    return sp.nsimplify(sp.simplify(s / (s + a_coef))), s


def ntk_law(a: PhaseAnalysis, nngp: Law, kind: str) -> Law:
    """The derived law of the normalized NTK's off-diagonal entry (see the module docstring)."""
    here = "derived here at leading order (module docstring)"
    if kind == "step":
        return replace(nngp, kernel="ntk", how="exact: Vdot = 0, so ThetaBar = rho from layer 2 on",
                       rate_how="exact: the NNGP's law (ThetaBar = rho)")
    if nngp.limit == "data":
        return Law("ntk", "data", None, "algebraic", Num.exact(sp.Integer(1)), 0, None,
                   f"{here}: the same limit as the NNGP", f"{here}: the first layers weigh O(1/L)")
    zero = Num.exact(sp.Integer(0))
    if nngp.limit == "ones" and nngp.kind == "geometric":
        chi = nngp.rate
        assert chi is not None
        if kind == "kink":
            rate = Num.exact(sp.sqrt(chi.expr)) if chi.expr is not None else Num(mpmath.sqrt(chi.value))
            return Law("ntk", "ones", Num.exact(sp.Integer(1)), "geometric", rate, 0, None,
                       f"{here}: (1 - chi_1) c*/(1 - chi_c) = 1", f"{here}: DVdot ~ sqrt(e_l)")
        return Law("ntk", "ones", Num.exact(sp.Integer(1)), "geometric", chi, 1, None,
                   f"{here}: (1 - chi_1) c*/(1 - chi_c) = 1", f"{here}: DVdot = O(e_l)")
    if nngp.limit == "ones":                              # k = 1, parabolic c* = 1
        value, s = _balance_limit(a, nngp)
        seed = a.model.activation.name in ("relu", "relu^1") and a.model.sigma_b2 == 0 and \
            a.model.architecture.kind == "mlp"
        how = ("derived (verify.derive.asymptotics.theta_law; independent of sigma_w^2)" if seed
               else f"{here}: s/(s + a), s = {s}")
        if s == 2:
            return Law("ntk", "constant", Num.exact(value), "algebraic", Num.exact(sp.Rational(1, 2)), 0, None, how,
                       "observed (the variance's linear growth gives relative corrections ~ L^(-1/2))")
        return Law("ntk", "constant", Num.exact(value), "algebraic", Num.exact(sp.Integer(1)), 1, None, how,
                   "derived (theta_law): ((3/8) log L + ...)/L" if seed
                   else "observed (reference: the seed law (log L)/L)")
    # c* < 1: the diagonal outgrows the off-diagonal
    target = nngp.value
    assert target is not None and nngp.rate is not None
    if a.kernel.degree == 2 and a.q_star is None:
        h_one = a.kernel.normalized()[1].subs(C, 1)
        chi_c = nngp.rate
        r = Num(max(chi_c.value, mpmath.mpf(1)) / mpmath.mpf(sp.N(h_one, 70)))
        if chi_c.value < 1:
            r = Num.exact(1 / h_one)
        return Law("ntk", "constant", zero, "geometric", r, 0, None, f"{here}: t = r q, r' = h'(1) r + 1",
                   f"{here}: max(h'(c*), 1)/h'(1)")
    chi_1, chi_c = a.chi_1, nngp.rate
    if target.value == 0:
        return Law("ntk", "constant", zero, "geometric", Num(chi_c.value / chi_1.value), 1, None,
                   f"{here}: t_L ~ chi_1^L, off-diagonal O(L chi_c^L)", f"{here}: chi_c/chi_1 (times L)")
    return Law("ntk", "constant", zero, "geometric", Num(max(chi_c.value, mpmath.mpf(1)) / chi_1.value), 0, None,
               f"{here}: t_L ~ chi_1^L, off-diagonal O(max(chi_c, 1)^L)", f"{here}: max(chi_c, 1)/chi_1")


@lru_cache(maxsize=128)
def model_laws(model: Model, n0: int) -> ModelLaws:
    """The criteria and both derived laws of ``model`` for unit-sphere inputs of dimension ``n0``."""
    a, orbit = effective_analysis(model, n0)
    nngp = nngp_law(a)
    kind = "step" if a.kernel.has_delta else ("kink" if a.kernel.degree == 1 else "smooth")
    return ModelLaws(model, n0, a, orbit, criteria_of(a), nngp, ntk_law(a, nngp, kind))


# ---- limits of det(kappa) and of the weights kappa_x kappa^-1 ------------------------------------------

B_SYM = sp.Symbol("b", positive=True)


@dataclass(frozen=True)
class MatrixLimit:
    """The limits of the normalized det(kappa) (n x n) and of each weight of kappa_x kappa^-1 for one kernel.

    ``det``/``weight`` are sympy in n (and in b, the validated entry limit ``b_value``, when it has no
    closed form); None where the limit depends on the data (``*_how`` says why).
    """

    det: sp.Expr | None
    weight: sp.Expr | None
    det_how: str
    weight_how: str
    b_value: Any = None

    def at(self, expr: sp.Expr | None, n: int) -> sp.Expr | None:
        """``expr`` at n training points (b substituted by its validated value)."""
        if expr is None:
            return None
        out = sp.simplify(expr.subs(N_SYM, n))
        return out if self.b_value is None else sp.Float(mpmath.nstr(out.subs(B_SYM, self.b_value), 15), 15)

    def det_text(self) -> str:
        return self.det_how if self.det is None else f"{sp.sstr(self.det)} ({self.det_how})"

    def weight_text(self) -> str:
        return self.weight_how if self.weight is None else f"{sp.sstr(self.weight)} ({self.weight_how})"


def matrix_limit(laws: ModelLaws, kernel: str) -> MatrixLimit:
    """Derived limits of det and weights for n training points (symbol n) and a test point distinct from them.

    * The kernel tends to (1 - b) I + b J (b the constant limit, < 1): det -> (1 - b)^(n-1) (1 - b + n b)
      and every weight -> b/(1 - b + n b) (the limit matrix is invertible; continuity).
    * It tends to J algebraically (parabolic c* = 1): the pairs differ only by a shift of the depth
      (1 - rho_L(x, x') = F(L + tau(x, x')), F ~ C/L^2), so the gap matrix over the common gap tends to
      J - I and the test gaps to 1: every weight -> 1/n (proved for the seed model in
      verify.derive.weights; the same Fatou-coordinate argument for the other parabolic maps). det -> 0.
    * It tends to J geometrically: 1 - rho_L(x, x') = A chi^L psi(x, x') (1 + o(1)) with psi the
      Koenigs function of the map, so E/(A chi^L) -> Psi (zero diagonal) and, from
      W = ((q - 1)/(1 - p)) u^T E^-1 + eps^T E^-1 (kappa = J - E, verify.derive.weights),
      W -> psi_x^T Psi^-1 + (1 - psi_x^T Psi^-1 u)/(u^T Psi^-1 u) u^T Psi^-1 (kriging with the
      variogram Psi; the weights sum to 1; it needs Psi invertible). The NTK of a kink activation has
      gaps ~ sqrt(psi) (Psi replaced by its entrywise square root); a smooth one's ~ L chi^L psi (Psi).
      The limit depends on the data: observed (certified at depth), not in closed form. det -> 0.
    """
    law = laws.law(kernel)
    if law.limit == "data":
        return MatrixLimit(None, None, "depends on the data (observed)", "depends on the data (observed)")
    assert law.value is not None
    if law.limit == "constant" and law.value.value < 1:
        exact = law.value.expr is not None
        b: sp.Expr = law.value.expr if law.value.expr is not None else B_SYM
        how = "derived: limit (1 - b) I + b J" + ("" if exact else f", b = {law.value.text(12)} (validated)")
        det = sp.factor((1 - b) ** (N_SYM - 1) * (1 - b + N_SYM * b))
        return MatrixLimit(det, sp.simplify(b / (1 - b + N_SYM * b)), how, how,
                           None if exact else mpmath.mpf(law.value.value))
    if law.kind == "algebraic":
        return MatrixLimit(sp.Integer(0), 1 / N_SYM, "derived: the limit J is singular",
                           "derived: Fatou coordinate, gap ratios -> 1")
    sqrt = kernel == "ntk" and laws.kernel_kind == "kink"
    return MatrixLimit(sp.Integer(0), None, "derived: the limit J is singular",
                       "derived: kriging with Psi" + ("^(1/2) entrywise" if sqrt else "")
                       + " (Koenigs function; depends on the data, observed)")


def kriging_weights(psi_train: list[list[Any]], psi_test: list[Any]) -> list[Any]:
    """Best effort (mpmath): psi_x^T Psi^-1 + (1 - psi_x^T Psi^-1 u)/(u^T Psi^-1 u) u^T Psi^-1.

    >>> w = kriging_weights([[0, 1], [1, 0]], [1, 1])           # symmetric data: equal weights
    >>> [mpmath.nstr(x, 6) for x in w]
    ['0.5', '0.5']
    """
    n = len(psi_test)
    inv = mpmath.matrix(psi_train) ** -1
    u = mpmath.matrix([1] * n)
    x = mpmath.matrix(psi_test)
    a = (x.T * inv)
    b = (u.T * inv)
    p = (b * u)[0]
    qx = (a * u)[0]
    return [a[i] + (1 - qx) / p * b[i] for i in range(n)]


