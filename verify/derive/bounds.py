"""Rigorous truncation bounds for the Abel series (certified, by the maximum principle).

In ``s = 1/w = sqrt(1 - rho)`` the defects of the truncated series

    delta_A(s) = A_N(G(w)) - A_N(w) - 1                          (zero of order N + 2 at s = 0)
    delta_B(s) = B_N(G(w)) - B_N(w) - phi_N(G(w))                (zero of order N at s = 0)
    H(s)       = G(w) - w = (sigma(s) - 1)/s = alpha + beta s + O(s^2)

are analytic on the closed disk ``|s| <= r`` once ``|kappa s q(s^2)| < 1`` there (then
``1 - kappa s q`` has positive real part and every principal branch used is
analytic; ``q`` converges for ``|s| < sqrt(2)``). Their maxima on the circle
``|s| = r`` are enclosed by covering it with Arb boxes (``q`` is summed with the
proven tail bound ``|q_k| <= 2^(1-k)``); real coefficients give the symmetry
``F(conj s) = conj F(s)``, so the upper half circle suffices. The maximum principle
applied to ``F(s)/s^m`` then gives ``|F(s)| <= M (|s|/r)^m`` for ``|s| <= r``, and
Cauchy's estimate bounds derivatives. Everything here is an upper bound computed
with outward rounding.

>>> cb = circle_bounds(12, 0.5, 64, 96)
>>> cb.analytic, cb.m_a < 1
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from flint import acb, arb, ctx

from .abel import AbelCoefficients, _horner, arb_abel
from .expansions import q_coeffs

Q_TERMS = 48


@dataclass(frozen=True)
class CircleBounds:
    """Upper bounds of |F| on the circle |s| = r for the defects (see module docstring)."""

    order: int
    r: float
    m_a: float        # max |delta_A|
    m_b: float        # max |delta_B|
    m_h: float        # max |H|
    m_h1: float       # max |H - alpha - beta s|
    max_kq: float     # max |kappa s q(s^2)| (< 1 proves analyticity on the disk)

    @property
    def analytic(self) -> bool:
        return self.max_kq < 1


def _q_acb(x: acb) -> acb:
    """Enclosure of q(x) for complex |x| < 2: Q_TERMS terms plus the proven tail bound."""
    coeffs = [arb(c.numerator) / c.denominator for c in q_coeffs(Q_TERMS)]
    val = _horner(coeffs, x)
    ax = abs(x).upper() / 2
    if not ax < 1:
        raise ArithmeticError("q evaluated outside its disk of convergence")
    tail = 2 * ax ** Q_TERMS / (1 - ax)
    return val + acb(arb(0, tail.upper()), arb(0, tail.upper()))


def _box(r: arb, theta: arb, half_width: arb) -> acb:
    """A complex box containing the arc of |s| = r of angular half-width ``half_width``."""
    rho = (r * half_width).upper()
    return acb(r * theta.cos() + arb(0, rho), r * theta.sin() + arb(0, rho))


def _defects(co: AbelCoefficients, s: acb) -> tuple[acb, acb, acb, acb, acb]:
    """(delta_A, delta_B, H, H - alpha - beta s, kappa s q) enclosed on the box ``s``."""
    kappa = arb(2).sqrt() / arb.pi()
    kq = kappa * s * _q_acb(s * s)
    root_v = (1 - kq).sqrt()                 # = 1/sigma (principal branch, Re > 0)
    h_val = kappa * _q_acb(s * s) / (root_v * (1 + root_v))      # (sigma - 1)/s, no cancellation
    log_sigma = -(1 - kq).log() / 2
    st = s * root_v                            # 1/G(w)
    c_poly = list(co.c)
    delta_a = (co.a1 * h_val + co.b * log_sigma
               + (_horner(c_poly, st) * st - _horner(c_poly, s) * s) - 1)
    inv_s, inv_st = 1 / s, 1 / st
    b_diff = co.dlog * log_sigma + (_horner(list(co.e), st) * st - _horner(list(co.e), s) * s)
    pw_s, pw_st = inv_s, inv_st
    for dj in co.d:
        b_diff = b_diff + dj * (pw_st - pw_s)
        pw_s, pw_st = pw_s * inv_s, pw_st * inv_st
    weighted = [-k * ck for k, ck in enumerate(co.c, start=1)]
    a_prime_g = co.a1 + co.b * st + _horner(weighted, st) * st * st
    phi_g = (1 - st * st) * inv_st * inv_st * inv_st * a_prime_g / 2
    delta_b = b_diff - phi_g
    return delta_a, delta_b, h_val, h_val - co.alpha - co.beta * s, kq


@lru_cache(maxsize=16)
def circle_bounds(order: int, r: float, boxes: int, prec: int = 128) -> CircleBounds:
    """Certified upper bounds of the defects on |s| = r (``boxes`` boxes on the upper half)."""
    co = arb_abel(order, prec)
    maxima = [0.0] * 5
    with ctx.workprec(prec):
        r_arb = arb(r)
        half = arb.pi() / (2 * boxes)
        for j in range(boxes):
            theta = arb.pi() * (2 * j + 1) / (2 * boxes)
            vals = _defects(co, _box(r_arb, theta, half))
            for i, v in enumerate(vals):
                up = abs(v).upper()
                if not up.is_finite():
                    raise ArithmeticError("defect bound is not finite; use more boxes")
                maxima[i] = max(maxima[i], _float_up(up))
    return CircleBounds(order, r, *maxima)


def _float_up(x: arb) -> float:
    """A float >= the arb upper bound ``x`` (rounded up)."""
    f = float(x.upper().mid())
    return math.nextafter(f, math.inf) if f >= 0 else f


@dataclass(frozen=True)
class RemainderBounds:
    """Certified constants for the truncated series on 0 < s <= s0 (w >= 1/s0).

    ``alpha_min``: G(w) - w >= alpha_min; ``d_max``: every dW_m/dw <= d_max along orbits.
    Error functions (all upper bounds, arguments w >= 1/s0):

    * ``abel_error(w)``: |A(w) - A_N(w)|
    * ``abel_derivative_error(w)``: |A'(w) - A_N'(w)| (d/dw)
    * ``b_sum_error(w)``: |sum_{k>=0} delta_B(W_k)| along the orbit of w
    * ``phi_sum_error(w)``: |sum_{k>=1} (phi(W_k) - phi_N(W_k))|
    """

    circle: CircleBounds
    s0: float
    alpha_min: float
    d_max: float

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


@lru_cache(maxsize=32)
def remainder_bounds(order: int, s0: float, r: float = 0.5, boxes: int = 256,
                     prec: int = 128) -> RemainderBounds:
    """Certified constants of :class:`RemainderBounds`, or ArithmeticError if s0 is too large."""
    cb = circle_bounds(order, r, boxes, prec)
    if not cb.analytic:
        raise ArithmeticError("analyticity on the disk |s| <= r not proven")
    if not 0 < s0 < r:
        raise ValueError("need 0 < s0 < r")
    co = arb_abel(order, prec)
    with ctx.workprec(prec):
        rr, ss = arb(r), arb(s0)
        alpha_min = co.alpha - arb(cb.m_h1) * (ss / rr) ** 2
        lip = arb(cb.m_h) / (rr - ss)               # |G'(w) - 1| <= s^2 lip
        if not (alpha_min > 0 and ss * ss * lip < 1):
            raise ArithmeticError(f"s0 = {s0} too large for the remainder bounds")
        d_max = (lip * (ss * ss + ss / alpha_min)).exp()
        # A_N increasing on (0, s0]: dA_N/dw = a1 + b s - sum k c_k s^(k+1) > 0 on the ball [0, s0]
        s_ball = arb(s0 / 2, s0 / 2)
        weighted = [-k * ck for k, ck in enumerate(co.c, start=1)]
        a_prime = co.a1 + co.b * s_ball + _horner(weighted, s_ball) * s_ball * s_ball
        if not a_prime > 0:
            raise ArithmeticError("monotonicity of A_N not proven")
        return RemainderBounds(cb, s0, _float_down(alpha_min), _float_up(d_max))


def _float_down(x: arb) -> float:
    f = float(x.lower().mid())
    return math.nextafter(f, -math.inf)
