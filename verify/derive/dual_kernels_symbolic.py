"""Closed forms of the dual kernel pair of every activation (sympy), with their three checks.

For (u, v) centred Gaussian with ``Var u = Var v = q`` and ``Cov(u, v) = q c``:

    V(q, c)    = E[phi(u) phi(v)]          (the NNGP layer map)
    Vdot(q, c) = E[phi'(u) phi'(v)]        (the derivative kernel of the NTK)

as sympy expressions in the symbols ``q`` (> 0) and ``c`` (in [-1, 1]), with
``theta = acos(c)``. The forms are those neural-tangents 0.6.5 evaluates in ``stax``
(``ABRelu``, ``Sign``, ``RectifiedMonomial``, ``Erf``, ``Gelu``), written here in c and q:

=================  ==========================================================  ==============================
activation         V(q, c)                                                     Vdot(q, c)
=================  ==========================================================  ==============================
``abrelu:A,B``     q [(A-B)^2 sqrt(1-c^2)/(2 pi) + ((A^2+B^2)/2                (A^2+B^2)/2 - (A-B)^2 theta/(2 pi)
                   - (A-B)^2 theta/(2 pi)) c]
``relu^0``         (pi - theta)/(2 pi)                                         1/(2 pi q sqrt(1-c^2)) (delta)
``relu^2``         q^2 [3 c sqrt(1-c^2) + (pi-theta)(1+2c^2)]/(2 pi)           2 q [sqrt(1-c^2) + (pi-theta) c]/pi
``sign``           2 asin(c)/pi                                                2/(pi q sqrt(1-c^2)) (delta)
``erf``            2 asin(2qc/(1+2q))/pi                                       4/(pi sqrt((1+2q)^2 - 4q^2c^2))
``gelu``           qc/4 + [q^2 (c^2 + D^2)/((q+1)^2 D) + qc asin(qc/(q+1))]    1/4 + asin(qc/(q+1))/(2 pi) +
                   /(2 pi),  D = sqrt((q+1)^2 - q^2 c^2)                       qc (1/D^2 + (1-q)/(1+q) + 1)/(2 pi D)
=================  ==========================================================  ==============================

``relu`` = ``relu^1`` = ``abrelu:0,1``, ``leaky_relu:A`` = ``abrelu:A,1``, ``abs`` = ``abrelu:-1,1``.

*Sign and relu^0.* Their derivative is 0 almost everywhere plus a delta at 0 (jump J = 2, 1).
The distributional ``Vdot = J^2 p(0, 0) = J^2/(2 pi q sqrt(1 - c^2))`` (p the density of (u, v)) is
what Price's theorem pairs with V, and it is what :attr:`DualKernel.vdot` holds; it is infinite
at c = 1. The NTK uses :attr:`DualKernel.ntk_vdot` = 0, neural-tangents' choice (``stax.Sign`` and
``stax.RectifiedMonomial(0)`` set the NTK to zeros): the delta is dropped, so after such a layer
the NTK equals the NNGP kernel of the layer.

Checks, each with its threshold (:func:`hermite_check`, :func:`price_check`, :func:`quadrature_check`):

(a) the Taylor coefficients of V in c, orders 0..6, equal ``a_n(q)^2 / n!`` with
    ``a_n(q) = E[phi(sqrt(q) Z) He_n(Z)]`` (Mehler's expansion; He_n the probabilists' Hermite
    polynomials), the a_n computed by sympy as 1-D Gaussian integrals of phi with q symbolic;
    passes on exact symbolic equality, else on 40-digit agreement at q = 1/3, 1, 3;
(b) Price's theorem ``dV/ds = Vdot`` (s = q c, i.e. ``dV/dc = q Vdot``): exact symbolic
    equality, else 40-digit agreement on a grid of (q, c);
(c) V and Vdot against a 2-D Gauss-Legendre quadrature of the Gaussian expectation
    (:mod:`.bivariate_quadrature`) at c in {-0.9, -0.3, 0, 0.5, 0.99}, q = 1: > 30 digits
    (relative to max(|value|, V(q, 1)), resp. Vdot). For sign and relu^0, Vdot is J^2 times the
    bivariate normal density at the origin, evaluated from its definition.

>>> k = dual_kernel(Activation.parse("relu"))
>>> k.v.subs({Q: 1, C: 0}), k.vdot.subs({Q: 1, C: 0})
(1/(2*pi), 1/4)
>>> print(dual_kernel(Activation.parse("erf")).v)
2*asin(2*c*q/(2*q + 1))/pi
>>> dual_kernel(Activation.parse("sign")).ntk_vdot
0
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from verify.core.errors import InputError
from verify.core.model import Activation
from verify.derive import bivariate_quadrature as bq
from verify.derive.activations import abrelu_slopes

Q = sp.Symbol("q", positive=True)
C = sp.Symbol("c", real=True)
X = sp.Symbol("x", real=True)
Z = sp.Symbol("z", real=True)

HERMITE_ORDER = 6
CHECK_DIGITS = 40                      # numeric fallback of (a) and (b)
NUMERIC_QS = (sp.Rational(1, 3), sp.Integer(1), sp.Integer(3))
PRICE_CS = (sp.Rational(-9, 10), sp.Rational(-3, 10), sp.Integer(0), sp.Rational(1, 2), sp.Rational(99, 100))
QUAD_CS = ("-0.9", "-0.3", "0", "0.5", "0.99")
QUAD_Q = "1"
QUAD_NEED = 30.0


@dataclass(frozen=True)
class DualKernel:
    """The dual kernel pair of one activation (sympy, in Q and C) with phi itself.

    ``phi`` is ``(phi on x < 0, phi on x > 0)`` in X; ``dphi`` the same for the classical
    derivative (0 for sign and relu^0); ``jump = phi(0+) - phi(0-)``; ``degree`` the positive
    homogeneity degree k (phi(t x) = t^k phi(x), t > 0; then V(q, c) = q^k V(1, c)) or None.
    """

    spec: str
    phi: tuple[sp.Expr, sp.Expr]
    dphi: tuple[sp.Expr, sp.Expr]
    jump: sp.Expr
    degree: int | None
    v: sp.Expr
    vdot: sp.Expr
    ntk_vdot: sp.Expr
    source: str

    @property
    def v_diag(self) -> sp.Expr:
        """``V(q, 1) = E[phi(u)^2]``."""
        return sp.simplify(self.v.subs(C, 1))

    def normalized(self) -> tuple[sp.Expr, sp.Expr]:
        """(V(1, c)/V(1, 1), Vdot(1, c)/V(1, 1)): the q-free correlation map of a homogeneous phi."""
        if self.degree is None:
            raise ValueError(f"{self.spec}: not homogeneous, V depends on q and c separately")
        m = self.v_diag.subs(Q, 1)
        return sp.simplify(self.v.subs(Q, 1) / m), sp.simplify(self.vdot.subs(Q, 1) / m)

    @property
    def has_delta(self) -> bool:
        """True when phi jumps at 0 (its derivative has a delta: sign, relu^0)."""
        return self.jump != 0

    @property
    def odd(self) -> bool:
        """phi(-x) = -phi(x) (so V(q, 0) = 0 and V is odd in c)."""
        neg, pos = self.phi
        return sp.simplify(neg.subs(X, -X) + pos) == 0


def _abrelu(a: sp.Expr, b: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    theta = sp.acos(C)
    jump_part = (a - b) ** 2 / (2 * sp.pi)
    vdot = (a**2 + b**2) / 2 - jump_part * theta
    return Q * (jump_part * sp.sqrt(1 - C**2) + vdot * C), vdot


@lru_cache(maxsize=32)
def dual_kernel(activation: Activation) -> DualKernel:
    """The closed-form pair of ``activation`` (see the module table); InputError for phi = 0."""
    name = activation.name
    theta, root = sp.acos(C), sp.sqrt(1 - C**2)
    slopes = abrelu_slopes(activation)
    if slopes is not None:
        sa, sb = (sp.Rational(p.numerator, p.denominator) for p in slopes)
        if sa == 0 and sb == 0:
            raise InputError(f"activation {activation.spec}: phi is identically zero (no kernel to normalize)")
        v, vdot = _abrelu(sa, sb)
        return DualKernel(activation.spec, (sa * X, sb * X), (sa, sb), sp.Integer(0), 1, v, vdot, vdot,
                          "stax.ABRelu(A, B): A min(x, 0) + B max(x, 0) (Relu = ABRelu(0, 1))")
    if name == "relu^0":
        vdot = 1 / (2 * sp.pi * Q * root)
        return DualKernel(activation.spec, (sp.Integer(0), sp.Integer(1)), (sp.Integer(0), sp.Integer(0)),
                          sp.Integer(1), 0, (sp.pi - theta) / (2 * sp.pi), vdot, sp.Integer(0),
                          "stax.RectifiedMonomial(0): arc-cosine kernel of degree 0 (Cho and Saul); NTK set to 0")
    if name == "relu^2":
        v = Q**2 * (3 * C * root + (sp.pi - theta) * (1 + 2 * C**2)) / (2 * sp.pi)
        vdot = 2 * Q * (root + (sp.pi - theta) * C) / sp.pi
        return DualKernel(activation.spec, (sp.Integer(0), X**2), (sp.Integer(0), 2 * X), sp.Integer(0), 2,
                          v, vdot, vdot, "stax.RectifiedMonomial(2): arc-cosine kernel of degree 2 (Cho and Saul)")
    if name == "sign":
        vdot = 2 / (sp.pi * Q * root)
        return DualKernel(activation.spec, (sp.Integer(-1), sp.Integer(1)), (sp.Integer(0), sp.Integer(0)),
                          sp.Integer(2), 0, 2 * sp.asin(C) / sp.pi, vdot, sp.Integer(0),
                          "stax.Sign(): NNGP 1 - 2 theta/pi = 2 asin(c)/pi; NTK set to 0")
    if name == "erf":
        e = sp.erf(X)
        de = 2 * sp.exp(-X**2) / sp.sqrt(sp.pi)
        v = 2 * sp.asin(2 * Q * C / (1 + 2 * Q)) / sp.pi
        vdot = 4 / (sp.pi * sp.sqrt((1 + 2 * Q) ** 2 - 4 * Q**2 * C**2))
        return DualKernel(activation.spec, (e, e), (de, de), sp.Integer(0), None, v, vdot, vdot,
                          "stax.Erf(): arcsin kernel (Williams 1997)")
    if name == "gelu":
        g = X * (1 + sp.erf(X / sp.sqrt(2))) / 2
        dg = sp.simplify(sp.diff(g, X))
        d = sp.sqrt((Q + 1) ** 2 - Q**2 * C**2)
        angle = sp.asin(Q * C / (Q + 1))
        v = Q * C / 4 + (Q**2 * (C**2 + d**2) / ((Q + 1) ** 2 * d) + Q * C * angle) / (2 * sp.pi)
        vdot = (sp.Rational(1, 4) + angle / (2 * sp.pi)
                + Q * C * (1 / d**2 + (1 - Q) / (1 + Q) + 1) / (2 * sp.pi * d))
        return DualKernel(activation.spec, (g, g), (dg, dg), sp.Integer(0), None, v, vdot, vdot,
                          "stax.Gelu(): Tsuchida et al. 2020 (arXiv 2002.08517)")
    raise InputError(f"activation {activation.spec}: no closed-form dual kernel")


# ---- checks ------------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelCheck:
    """One check of a closed form: ``exact`` when sympy proved the identity, else ``digits``."""

    name: str
    passed: bool
    exact: bool
    digits: float | None
    detail: str
    rule: str


def _numeric_digits(diff: sp.Expr, scales: tuple[sp.Expr, ...], points: list[dict[sp.Symbol, sp.Expr]]) -> float:
    """min over points of -log10(|diff| / max |scales|) at CHECK_DIGITS + 10 digits."""
    worst = float(CHECK_DIGITS + 10)
    with mpmath.workdps(CHECK_DIGITS + 10):
        for pt in points:
            d = abs(mpmath.mpf(sp.N(diff.subs(pt), CHECK_DIGITS + 10)))
            s = max([abs(mpmath.mpf(sp.N(x.subs(pt), CHECK_DIGITS + 10))) for x in scales]
                    + [mpmath.mpf(10) ** -CHECK_DIGITS])
            if d:
                worst = min(worst, float(-mpmath.log10(d / s)))
    return worst


def _identity(lhs: sp.Expr, rhs: sp.Expr, points: list[dict[sp.Symbol, sp.Expr]],
              scale: sp.Expr) -> tuple[bool, float | None]:
    """(exact, digits): sympy's simplify proves lhs == rhs (digits None), or the 40-digit numeric check
    (relative to max(|rhs|, |scale|))."""
    if sp.simplify(lhs - rhs) == 0:
        return True, None
    return False, _numeric_digits(lhs - rhs, (rhs, scale), points)


@lru_cache(maxsize=256)
def _moment(branch_pos: sp.Expr, branch_neg_reflected: sp.Expr, k: int) -> sp.Expr:
    """``E[Z^k phi(sqrt(q) Z)]`` = int_0^oo z^k (phi_+(sqrt q z) + (-1)^k phi_-(-sqrt q z)) gauss(z) dz (sympy)."""
    integrand = sp.simplify(Z**k * (branch_pos + (-1) ** k * branch_neg_reflected))
    if integrand == 0:
        return sp.Integer(0)
    gauss = sp.exp(-Z**2 / 2) / sp.sqrt(2 * sp.pi)
    return sp.simplify(sp.integrate(sp.expand(integrand) * gauss, (Z, 0, sp.oo)))


def hermite_coefficients(kernel: DualKernel, order: int = HERMITE_ORDER) -> list[sp.Expr]:
    """``a_n(q) = E[phi(sqrt(q) Z) He_n(Z)]``, n = 0..order, by sympy Gaussian integrals of phi (q symbolic)."""
    neg, pos = kernel.phi
    pos_q = pos.subs(X, sp.sqrt(Q) * Z)
    neg_q = neg.subs(X, -sp.sqrt(Q) * Z)
    out = []
    for n in range(order + 1):
        poly = sp.Poly(sp.hermite_prob(n, Z), Z)
        out.append(sp.simplify(sum((coef * _moment(pos_q, neg_q, mon[0])
                                    for mon, coef in zip(poly.monoms(), poly.coeffs(), strict=True)),
                                   sp.Integer(0))))
    return out


def hermite_check(kernel: DualKernel, order: int = HERMITE_ORDER) -> KernelCheck:
    """(a): Taylor coefficients of V in c (orders 0..order) against a_n(q)^2/n! (Mehler)."""
    series = sp.series(kernel.v, C, 0, order + 1).removeO()
    coeffs = hermite_coefficients(kernel, order)
    points = [{Q: q} for q in NUMERIC_QS]
    exact_all, worst, bad = True, float(CHECK_DIGITS + 10), []
    for n, a_n in enumerate(coeffs):
        exact, digits = _identity(series.coeff(C, n), a_n**2 / sp.factorial(n), points, kernel.v_diag)
        exact_all &= exact
        if digits is not None:
            worst = min(worst, digits)
            if digits <= CHECK_DIGITS - 5:
                bad.append(n)
    passed = not bad
    detail = ("all coefficients equal symbolically" if exact_all else
              f"numeric agreement {worst:.1f} digits" + (f"; differ at order(s) {bad}" if bad else ""))
    return KernelCheck("hermite", passed, exact_all, None if exact_all else worst,
                       f"[c^n] V = a_n(q)^2/n!, n = 0..{order}: {detail}",
                       f"exact symbolic equality, else > {CHECK_DIGITS - 5} digits at q = 1/3, 1, 3")


def price_check(kernel: DualKernel) -> KernelCheck:
    """(b): dV/dc = q Vdot (Price's theorem, dV/ds = Vdot with s = q c), distributional Vdot for jumps."""
    points = [{Q: q, C: c} for q in NUMERIC_QS for c in PRICE_CS]
    exact, digits = _identity(sp.diff(kernel.v, C), Q * kernel.vdot, points,
                              Q * kernel.vdot.subs(C, sp.Rational(1, 2)))
    passed = exact or (digits is not None and digits > CHECK_DIGITS - 5)
    what = "distributional Vdot (phi jumps at 0)" if kernel.has_delta else "Vdot"
    return KernelCheck("price", passed, exact, digits,
                       f"dV/dc - q {what} = 0: " + ("symbolic" if exact else f"{digits:.1f} digits"),
                       f"exact symbolic equality, else > {CHECK_DIGITS - 5} digits on a (q, c) grid")


def quadrature_check(kernel: DualKernel, cs: tuple[str, ...] = QUAD_CS, q: str = QUAD_Q,
                     digits: int = 36) -> KernelCheck:
    """(c): V and Vdot against 2-D Gauss-Legendre quadrature (polar coordinates, sectors between kinks)."""
    fv = sp.lambdify((Q, C), kernel.v, "mpmath")
    fd = sp.lambdify((Q, C), kernel.vdot, "mpmath")
    worst = float(digits + 10)
    lines = []
    with mpmath.workdps(digits + 10):
        qq = mpmath.mpf(q)
        v_scale = abs(fv(qq, mpmath.mpf(1)))
        d_scale = None if kernel.has_delta else abs(fd(qq, mpmath.mpf(1)))
        for c in cs:
            cc = mpmath.mpf(c)
            v_quad = bq.expectation(kernel.spec, "phi", q, c, digits)
            if kernel.has_delta:
                d_ref = bq.delta_pair_density(kernel.jump, q, c)
            else:
                d_ref = bq.expectation(kernel.spec, "dphi", q, c, digits)
            dv = _rel_digits(fv(qq, cc), v_quad, v_scale)
            dd = _rel_digits(fd(qq, cc), d_ref, d_scale)
            worst = min(worst, dv, dd)
            lines.append(f"c = {c}: V {dv:.1f}, Vdot {dd:.1f}")
    method = ("Vdot: J^2 x bivariate normal density at 0 (J the jump)" if kernel.has_delta
              else "Vdot: the same quadrature of phi'")
    return KernelCheck("quadrature", worst > QUAD_NEED, False, worst,
                       f"q = {q}; V: 2-D Gauss-Legendre quadrature in polar coordinates; {method}; "
                       + "; ".join(lines),
                       f"> {QUAD_NEED:.0f} digits at every c in {{{', '.join(cs)}}}")


def _rel_digits(x: mpmath.mpf, ref: mpmath.mpf, scale: mpmath.mpf | None) -> float:
    s = max(abs(ref), scale or 0, mpmath.mpf(10) ** -(mpmath.mp.dps - 5))
    err = abs(x - ref)
    return float(mpmath.mp.dps) if err == 0 else float(-mpmath.log10(err / s))


def all_checks(kernel: DualKernel) -> list[KernelCheck]:
    """(a), (b), (c) for one kernel."""
    return [hermite_check(kernel), price_check(kernel), quadrature_check(kernel)]
