"""Exact coefficients of the correlation map near rho = 1, in powers of s = sqrt(eps), eps = 1 - rho.

With ``s = sqrt(eps)`` everything is analytic in s (default model sigma_w^2 = 1, sigma_b^2 = 0;
docs/MATH.md):

    arccos(1 - eps) = sqrt(2) s R(s^2),      R(x) = sum_k binom(2k, k) / (8^k (2k + 1)) x^k
    sqrt(2 eps - eps^2) = sqrt(2) s sqrt(1 - s^2 / 2)
    h(1 - eps)      = 1 - eps + (sqrt(2) / pi) s^3 q(s^2)
    kappa0(1 - eps) = 1 - (sqrt(2) / pi) s R(s^2)
    g(eps) = 1 - h(1 - eps) = eps (1 - kappa s q(s^2)),   kappa = sqrt(2) / pi

with ``q(x) = (sqrt(1 - x/2) - (1 - x) R(x)) / x = 2/3 + x/30 + 3x^2/560 + ...``
(rational coefficients, radius of convergence 2 in x). In ``w = 1/s`` the map is
``w -> G(w) = w sigma(s)`` with ``sigma = (1 - kappa s q(s^2))^(-1/2) = 1 + (kappa/3) s
+ (kappa^2/6) s^2 + ...``: a translation by ``kappa/3 = sqrt(2)/(3 pi)`` per layer.
Exact rationals only (``fractions.Fraction``); the sympy forms are in :mod:`verify.derive.expansions`.

>>> q_coeffs(3)
[Fraction(2, 3), Fraction(1, 30), Fraction(3, 560)]
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from math import comb
from typing import Any

from verify.kernel.asymptotic.series import Series, ser_pow


@cache
def _r_coeffs(n: int) -> tuple[Fraction, ...]:
    return tuple(Fraction(comb(2 * k, k), 8**k * (2 * k + 1)) for k in range(n))


def r_coeffs(n: int) -> list[Fraction]:
    """Exact coefficients of ``R(x) = arccos(1 - x) / sqrt(2x)`` (n terms)."""
    return list(_r_coeffs(n))


def sqrt_half_coeffs(n: int) -> list[Fraction]:
    """Exact coefficients of ``sqrt(1 - x/2)`` (n terms)."""
    out, c = [], Fraction(1)
    for k in range(n):
        out.append(c)
        c = c * (Fraction(1, 2) - k) / (k + 1) * Fraction(-1, 2)
    return out


@cache
def _q_coeffs(n: int) -> tuple[Fraction, ...]:
    sq, r = sqrt_half_coeffs(n + 1), r_coeffs(n + 1)
    big_q = [sq[k] - r[k] + (r[k - 1] if k else 0) for k in range(n + 1)]
    if big_q[0] != 0:
        raise AssertionError("q(x) must vanish at x = 0")
    return tuple(big_q[1:])


def q_coeffs(n: int) -> list[Fraction]:
    """Exact coefficients of ``q(x)``; ``|q_k| <= 2^(1-k)`` (used for rigorous tails)."""
    return list(_q_coeffs(n))


def gap_ratio_series(kappa: Any, one: Any, n: int) -> Series:
    """``g(s^2) / s^2 = 1 - kappa s q(s^2)`` as a series in s, n terms, in the ring of ``one``."""
    zero = one - one
    q = q_coeffs(n // 2 + 1)
    out = [zero] * n
    out[0] = one
    for k, qk in enumerate(q):
        if 2 * k + 1 < n:
            out[2 * k + 1] = -kappa * _ring_rational(qk, one)
    return out


def sigma_series(kappa: Any, one: Any, n: int) -> Series:
    """``sigma(s) = G(w)/w = (g(s^2)/s^2)^(-1/2)``: the map in w = 1/sqrt(eps), n terms."""
    return ser_pow(gap_ratio_series(kappa, one, n), -1, 2, n)


def _ring_rational(q: Fraction, one: Any) -> Any:
    return one * q.numerator / q.denominator
