"""Rigorous truncation bounds for the Abel series (certified, by the maximum principle).

In ``s = 1/w = sqrt(1 - rho)`` the defects of the truncated series

    delta_A(s) = A_N(G(w)) - A_N(w) - 1                          (zero of order N + 2 at s = 0)
    delta_B(s) = B_N(G(w)) - B_N(w) - phi_N(G(w))                (zero of order N at s = 0)
    H(s)       = G(w) - w = (sigma(s) - 1)/s = alpha + beta s + O(s^2)

are analytic on the closed disk ``|s| <= r`` once ``|kappa s q(s^2)| < 1`` there (then
``1 - kappa s q`` has positive real part and every principal branch used is
analytic; ``q`` converges for ``|s| < sqrt(2)``). Their maxima on the circle
``|s| = r`` are enclosed by covering it with Arb boxes (``q`` is summed with the
tail bound ``|q_k| <= 2^(1-k)``, proven for every k from the closed form
``q_k = 2 binom(2k, k) / (8^k (2k + 1)(2k + 3))``, see :func:`q_coefficient` and
docs/rigour.md); real coefficients give the symmetry ``F(conj s) = conj F(s)``, so
the upper half circle suffices. The maximum principle applied to ``F(s)/s^m`` then
gives ``|F(s)| <= M (|s|/r)^m`` for ``|s| <= r``, and Cauchy's estimate bounds
derivatives. Everything here is an upper bound computed with outward rounding.

The coefficients behind the bounds are computed at :func:`bounds_precision` bits:
their recurrences cancel about 2.3 bits per order, so a fixed precision would
inflate the bounds (still valid, but useless) once the order grows with the digits.

>>> cb = circle_bounds(12, 0.5, 64, 96)
>>> cb.analytic, cb.m_a < 1
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from flint import acb, arb, ctx

from verify.core.errors import BoundNotProven
from verify.kernel.asymptotic.abel import AbelCoefficients, arb_abel, family_kappa, horner
from verify.kernel.asymptotic.coefficients import q_coeffs
from verify.kernel.asymptotic.exact_cache import cached_exact
from verify.kernel.asymptotic.family import SEED, KinkFamily

Q_TERMS = 48
COEFFICIENT_BITS = 64          # relative accuracy asked of every coefficient behind the bounds


def q_coefficient(k: int) -> Fraction:
    """The closed form ``q_k = 2 binom(2k, k) / (8^k (2k + 1)(2k + 3))`` (exact).

    Hence ``0 < q_k <= 2^(1-k) / ((2k + 1)(2k + 3)) <= 2^(1-k)`` for every k, since
    ``binom(2k, k) <= 4^k`` (proof of the closed form: docs/rigour.md, section 2).

    >>> [q_coefficient(k) for k in range(3)]
    [Fraction(2, 3), Fraction(1, 30), Fraction(3, 560)]
    """
    return Fraction(2 * math.comb(2 * k, k), 8**k * (2 * k + 1) * (2 * k + 3))


@lru_cache(maxsize=4)
def checked_q_coeffs(n: int) -> tuple[Fraction, ...]:
    """``q_0 .. q_(n-1)`` from :mod:`.expansions`, checked equal to the proven closed form.

    The tail bound used beyond them is proven for the closed form; this check ties it
    to the coefficients actually summed (any disagreement is a bug: AssertionError).
    """
    coeffs = tuple(q_coeffs(n))
    for k, qk in enumerate(coeffs):
        if qk != q_coefficient(k):
            raise AssertionError(f"q_{k} = {qk} differs from its closed form {q_coefficient(k)}")
    return coeffs


def _coefficients_accurate(co: AbelCoefficients) -> bool:
    """Whether every series coefficient is known to COEFFICIENT_BITS relative bits."""
    for x in (*co.c, *co.d, co.dlog, *co.e):
        rad = x.rad()
        if rad != 0 and not rad * 2**COEFFICIENT_BITS <= abs(x.mid()):
            return False
    return True


@lru_cache(maxsize=16)
def bounds_precision(order: int, family: KinkFamily = SEED) -> int:
    """Bits at which the coefficients behind the bounds keep COEFFICIENT_BITS relative bits.

    Starts from 128 + 3 * order (the recurrences lose about 2.3 bits per order) and
    doubles, at most four times, until :func:`_coefficients_accurate` holds. The bounds
    are rigorous at any precision; this only keeps them tight.
    """
    bits = 64 * math.ceil((128 + 3 * order) / 64)
    for _ in range(4):
        if _coefficients_accurate(arb_abel(order, bits, family)):
            break
        bits *= 2
    return bits


@dataclass(frozen=True)
class CircleBounds:
    """Upper bounds of |F| on the circle |s| = r for the defects (see module docstring).

    The bounds are exact Arb numbers (zero radius, rounded up), so no size overflows.
    """

    order: int
    r: float
    m_a: arb          # max |delta_A|
    m_b: arb          # max |delta_B|
    m_h: arb          # max |H|
    m_h1: arb         # max |H - alpha - beta s|
    max_kq: arb       # max |kappa s q(s^2)| (< 1 proves analyticity on the disk)

    @property
    def analytic(self) -> bool:
        return bool(self.max_kq < 1)


def _q_acb(x: acb) -> acb:
    """Enclosure of q(x) for complex |x| < 2: Q_TERMS terms plus the proven tail bound.

    ``sum_{k >= Q} |q_k| |x|^k <= sum_{k >= Q} 2^(1-k) |x|^k = 2 (|x|/2)^Q / (1 - |x|/2)``.
    """
    val: acb = horner(_q_arb_coeffs(ctx.prec), x)
    ax = abs(x).upper() / 2
    if not ax < 1:
        raise ValueError("q evaluated outside its disk of convergence (|s| must stay below 1.4)")
    tail = 2 * ax ** Q_TERMS / (1 - ax)
    return val + acb(arb(0, tail.upper()), arb(0, tail.upper()))


@lru_cache(maxsize=8)
def _q_arb_coeffs(prec: int) -> tuple[arb, ...]:
    """The Q_TERMS checked coefficients of q as balls at ``prec`` bits (the same balls at every call)."""
    with ctx.workprec(prec):
        return tuple(arb(c.numerator) / c.denominator for c in checked_q_coeffs(Q_TERMS))


def _box(r: arb, theta: arb, half_width: arb) -> acb:
    """A complex box containing the arc of |s| = r of angular half-width ``half_width``."""
    rho = (r * half_width).upper()
    return acb(r * theta.cos() + arb(0, rho), r * theta.sin() + arb(0, rho))


def _defects(co: AbelCoefficients, s: acb) -> tuple[acb, acb, acb, acb, acb]:
    """(delta_A, delta_B, H, H - alpha - beta s, kappa s q) enclosed on the box ``s``
    (kappa = w sqrt(2)/pi of the coefficients' family; the NTK's right-hand side weighed by
    ``1 - theta (1 - s^2)/(1 - st^2)``, :mod:`.abel`)."""
    kappa = co.kappa
    q_val = _q_acb(s * s)
    kq = kappa * s * q_val
    root_v = (1 - kq).sqrt()                 # = 1/sigma (principal branch, Re > 0)
    h_val = kappa * q_val / (root_v * (1 + root_v))      # (sigma - 1)/s, no cancellation
    log_sigma = -(1 - kq).log() / 2
    st = s * root_v                            # 1/G(w)
    c_poly = list(co.c)
    delta_a = (co.a1 * h_val + co.b * log_sigma
               + (horner(c_poly, st) * st - horner(c_poly, s) * s) - 1)
    inv_s, inv_st = 1 / s, 1 / st
    b_diff = co.dlog * log_sigma + (horner(list(co.e), st) * st - horner(list(co.e), s) * s)
    pw_s, pw_st = inv_s, inv_st
    for dj in co.d:
        b_diff = b_diff + dj * (pw_st - pw_s)
        pw_s, pw_st = pw_s * inv_s, pw_st * inv_st
    weighted = [-k * ck for k, ck in enumerate(co.c, start=1)]
    a_prime_g = co.a1 + co.b * st + horner(weighted, st) * st * st
    phi_g = (1 - st * st) * inv_st * inv_st * inv_st * a_prime_g / 2
    if co.theta != 0:
        phi_g = phi_g * (1 - co.theta * (1 - s * s) / (1 - st * st))
    delta_b = b_diff - phi_g
    return delta_a, delta_b, h_val, h_val - co.alpha - co.beta * s, kq


@lru_cache(maxsize=16)
def circle_bounds(order: int, r: float, boxes: int, prec: int | None = None,
                  family: KinkFamily = SEED) -> CircleBounds:
    """Certified upper bounds of the defects on |s| = r (``boxes`` boxes on the upper half).

    ``prec`` defaults to :func:`bounds_precision` of the order. The maxima are exact
    numbers, kept in the on-disk cache of :mod:`.exact_cache` (why a cached value is the
    one this code computes: see there).
    """
    prec = prec or bounds_precision(order, family)
    key = {"order": order, "r": repr(float(r)), "boxes": boxes, "prec": prec, "q_terms": Q_TERMS}
    if family != SEED:
        key |= {"weight": str(family.weight), "theta": str(family.theta)}
    maxima = cached_exact("circle-bounds", key, lambda: _circle_maxima(order, r, boxes, prec, family))
    return CircleBounds(order, r, *maxima)


def _circle_maxima(order: int, r: float, boxes: int, prec: int, family: KinkFamily = SEED) -> list[arb]:
    """The five maxima of :class:`CircleBounds` (exact upper bounds): the work behind :func:`circle_bounds`."""
    co = arb_abel(order, prec, family)
    with ctx.workprec(prec):
        maxima = [arb(0)] * 5
        r_arb = arb(r)
        half = arb.pi() / (2 * boxes)
        for j in range(boxes):
            theta = arb.pi() * (2 * j + 1) / (2 * boxes)
            vals = _defects(co, _box(r_arb, theta, half))
            for i, v in enumerate(vals):
                up = abs(v).upper()
                if not up.is_finite():
                    raise BoundNotProven("defect bound is not finite; use more boxes or a smaller radius")
                maxima[i] = maxima[i].max(up)
    return maxima


@dataclass(frozen=True)
class RemainderBounds:
    """Certified constants for the truncated series on 0 < s <= s0 (w >= 1/s0).

    ``alpha_min``: G(w) - w >= alpha_min; ``d_max``: every dW_m/dw <= d_max along orbits.
    Error functions (all upper bounds, arguments w >= 1/s0, each decreasing in w):

    * ``abel_error(w)``: |A(w) - A_N(w)|
    * ``abel_derivative_error(w)``: |A'(w) - A_N'(w)| (d/dw)
    * ``b_sum_error(w)``: |sum_{k>=0} delta_B(W_k)| along the orbit of w
    * ``phi_sum_error(w)``: |sum_{k>=1} (phi(W_k) - phi_N(W_k))|

    Constructing it (:func:`remainder_bounds`) also checks the hypotheses under which
    the exact Abel function A is nondecreasing on [1/s0, oo) (docs/rigour.md, section 3).
    """

    circle: CircleBounds
    s0: float
    alpha_min: arb
    d_max: arb

    def _tail(self, w: arb, p: int) -> arb:
        """Upper bound of sum_{m>=0} W_m^-p, W_m >= w + m alpha_min."""
        return w ** (-p) + w ** (1 - p) / (arb(self.alpha_min) * (p - 1))

    def _tail_strict(self, w: arb, p: int) -> arb:
        """Upper bound of sum_{m>=1} W_m^-p (integral test)."""
        return w ** (1 - p) / (arb(self.alpha_min) * (p - 1))

    def abel_error(self, w: arb) -> arb:
        n, r = self.circle.order, arb(self.circle.r)
        return arb(self.circle.m_a) * r ** (-(n + 2)) * self._tail(w, n + 2)

    def _derivative_constant(self) -> arb:
        n, r, s0 = self.circle.order, arb(self.circle.r), arb(self.s0)
        return (arb(self.d_max) * arb(self.circle.m_a) * r ** (-(n + 2))
                * ((n + 2) + s0 / (r - s0)))

    def abel_derivative_error(self, w: arb) -> arb:
        return self._derivative_constant() * self._tail(w, self.circle.order + 3)

    def b_sum_error(self, w: arb) -> arb:
        n, r = self.circle.order, arb(self.circle.r)
        return arb(self.circle.m_b) * r ** (-n) * self._tail(w, n)

    def phi_sum_error(self, w: arb) -> arb:
        """sum_{k>=1} (W_k^3/2) |R'(W_k)| with R' bounded by abel_derivative_error."""
        n = self.circle.order
        a_m = arb(self.alpha_min)
        first = self._tail_strict(w, n)
        second = self._tail_strict(w, n - 1) / (a_m * (n + 2))
        return self._derivative_constant() * (first + second) / 2


def check_truncation_increasing(co: AbelCoefficients, s0: float) -> None:
    """Prove dA_N/dw = a1 + b s - sum k c_k s^(k+1) > 0 for all s in [0, s0], or raise BoundNotProven.

    Evaluated on the single ball [0, s0] (call inside the coefficients' precision).
    """
    s_ball = arb(s0 / 2, s0 / 2)
    weighted = [-k * ck for k, ck in enumerate(co.c, start=1)]
    a_prime = co.a1 + co.b * s_ball + horner(weighted, s_ball) * s_ball * s_ball
    if not a_prime > 0:
        raise BoundNotProven(f"monotonicity of A_N on (0, {s0}] not proven")


def check_map_increasing(alpha_min: arb, lip: arb, s0: float) -> None:
    """Prove G(w) - w >= alpha_min > 0 and G'(w) >= 1 - s0^2 lip > 0 on w >= 1/s0, or raise BoundNotProven.

    ``lip`` bounds |H'(s)| on [0, s0] (Cauchy: max|H| / (r - s0)), and
    G'(w) - 1 = -s^2 H'(s); so G maps [1/s0, oo) into itself, increasingly.
    """
    ss = arb(s0)
    if not (alpha_min > 0 and ss * ss * lip < 1):
        raise BoundNotProven(f"s0 = {s0} too large for the remainder bounds")


def lipschitz_h(cb: CircleBounds, beta: arb, r: arb, s0: arb) -> arb:
    """An upper bound of |H'(s)| for 0 <= s <= s0 < r: the smaller of two proven bounds.

    * Cauchy's estimate for H on the disk of radius r - s around s: ``m_h / (r - s0)``;
    * with ``H(s) = alpha + beta s + s^2 F(s)``: F is analytic on |s| <= r with
      ``|F| <= m_h1 / r^2`` there (maximum principle, as for ``alpha_min``), and Cauchy's
      estimate gives ``|F'(s)| <= m_h1 / (r^2 (r - s0))``, so
      ``|H'(s)| = |beta + 2 s F + s^2 F'| <= |beta| + (m_h1 / r^2) (2 s0 + s0^2 / (r - s0))``.

    The second is about five times smaller near the switch point (H' is close to beta
    there), which keeps ``d_max`` (the bound on dW_m/dw) near 1 for a larger s0.

    >>> cb = circle_bounds(24, 0.7, 64)
    >>> with ctx.workprec(64):
    ...     lip = lipschitz_h(cb, arb(2) / (6 * arb.pi() ** 2), arb(0.7), arb(0.1))
    >>> bool(lip < cb.m_h / (arb(0.7) - arb(0.1)) / 4)
    True
    """
    cauchy = cb.m_h / (r - s0)
    split = abs(beta) + cb.m_h1 / (r * r) * (2 * s0 + s0 * s0 / (r - s0))
    return arb(cauchy.upper()).min(arb(split.upper()))


def weight_factor_analytic(family: KinkFamily, r: float) -> bool:
    """Prove that ``1 - theta (1 - s^2)/(1 - st^2)`` (st = s sqrt(1 - kappa s q(s^2)), the NTK
    right-hand side's factor for theta > 0, :mod:`.abel`) is analytic on the disk ``|s| <= r``.

    It is once ``st^2 != 1`` there. The coefficients of q are positive (:func:`q_coefficient`), so
    ``|q(s^2)| <= q(r^2)`` and ``|st|^2 = |s|^2 |1 - kappa s q(s^2)| <= r^2 (1 + kappa r q(r^2))``;
    if that bound is below 1 then ``|st| < 1`` on the whole disk. (Without theta there is no factor.)

    >>> weight_factor_analytic(KinkFamily(Fraction(2), Fraction(1, 2)), 0.8)
    True
    >>> weight_factor_analytic(KinkFamily(Fraction(1, 10**4), Fraction(1, 2)), 1.0)
    False
    """
    if family.theta == 0:
        return True
    with ctx.workprec(64):
        rr = arb(r)
        q_r = _q_acb(acb(rr * rr)).real
        return bool(rr * rr * (1 + family_kappa(family) * rr * q_r) < 1)


@lru_cache(maxsize=32)
def remainder_bounds(order: int, s0: float, r: float = 0.5, boxes: int = 256,
                     prec: int | None = None, family: KinkFamily = SEED) -> RemainderBounds:
    """Certified constants of :class:`RemainderBounds`, or BoundNotProven if s0 is too large.

    Checks the analyticity of the defects on the disk (:func:`weight_factor_analytic` for a
    family with theta > 0, ``|kappa s q| < 1`` on the circle) and the two hypotheses of the
    monotonicity lemma for the exact A (:func:`check_truncation_increasing`, :func:`check_map_increasing`).
    """
    prec = prec or bounds_precision(order, family)
    if not weight_factor_analytic(family, r):
        raise BoundNotProven(f"the NTK factor of {family} is not proven analytic on |s| <= {r}")
    cb = circle_bounds(order, r, boxes, prec, family)
    if not cb.analytic:
        raise BoundNotProven("analyticity on the disk |s| <= r not proven")
    if not 0 < s0 < r:
        raise ValueError("need 0 < s0 < r")
    co = arb_abel(order, prec, family)
    with ctx.workprec(prec):
        rr, ss = arb(r), arb(s0)
        # H(s) = alpha + beta s + (H - alpha - beta s) >= alpha - max(0, -beta) s0 - m_h1 (s0/r)^2 on [0, s0]
        alpha_min = co.alpha - (-co.beta).max(arb(0)) * ss - cb.m_h1 * (ss / rr) ** 2
        lip = lipschitz_h(cb, co.beta, rr, ss)      # |G'(w) - 1| <= s^2 lip
        check_map_increasing(alpha_min, lip, s0)
        d_max = (lip * (ss * ss + ss / alpha_min)).exp()
        check_truncation_increasing(co, s0)
        return RemainderBounds(cb, s0, arb(alpha_min.lower()), arb(d_max.upper()))
