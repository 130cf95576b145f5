"""Validated values of the Gaussian expectations behind the kernel recursions, by quadrature.

For (u, v) centred Gaussian with Var u = Var v = q and correlation rho, the
recursions of MATH.md rest on

    E[relu(u) relu(v)]   = q/2 * h(rho)
    E[relu'(u) relu'(v)] = (pi - arccos rho) / (2 pi)

This module evaluates the left-hand sides *without* those closed forms: it
conditions on u (v = rho u + sqrt(1 - rho^2) w) and integrates the exact
one-dimensional conditional expectations with mpmath's tanh-sinh quadrature at
raised precision. The two quadratures at different precisions must agree; their
difference is reported as the error estimate (validated, not certified).

>>> val, err = relu_relu_expectation("0", digits=20)
>>> mpmath.nstr(val, 20), err < 1e-20                  # = 1/(2 pi)
('0.15915494309189533577', True)
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath


def _phi(x: mpmath.mpf) -> mpmath.mpf:
    return mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)


def _big_phi(x: mpmath.mpf) -> mpmath.mpf:
    return mpmath.ncdf(x)


def _relu_mean(mu: mpmath.mpf, s: mpmath.mpf) -> mpmath.mpf:
    """E[relu(mu + s w)], w standard normal."""
    if s == 0:
        return max(mu, mpmath.mpf(0))
    return mu * _big_phi(mu / s) + s * _phi(mu / s)


def _positive_prob(mu: mpmath.mpf, s: mpmath.mpf) -> mpmath.mpf:
    """P(mu + s w > 0)."""
    if s == 0:
        return mpmath.mpf(1) if mu > 0 else mpmath.mpf(0)
    return _big_phi(mu / s)


def _integrate(integrand: Callable[[mpmath.mpf], mpmath.mpf], digits: int) -> tuple[mpmath.mpf, float]:
    """Integral over u in (0, inf) at two precisions; (value, |difference|)."""
    values = []
    for extra in (15, 30):
        with mpmath.workdps(digits + extra):
            values.append(mpmath.quad(integrand, [0, 1, 4, 10, mpmath.inf]))
    with mpmath.workdps(digits + 30):
        err = abs(values[1] - values[0])
    return values[1], float(err)


def relu_relu_expectation(rho: str | mpmath.mpf, q: str | mpmath.mpf = "1",
                          digits: int = 30) -> tuple[mpmath.mpf, float]:
    """Validated E[relu(u) relu(v)] for Var = q, correlation rho, by quadrature; (value, error estimate)."""
    with mpmath.workdps(digits + 30):
        r = mpmath.mpf(rho)
        scale = mpmath.mpf(q)
        s = mpmath.sqrt(max(1 - r * r, mpmath.mpf(0)))

    def integrand(u: mpmath.mpf) -> mpmath.mpf:
        r_, s_ = mpmath.mpf(r), mpmath.mpf(s)
        return u * _phi(u) * _relu_mean(r_ * u, s_)

    val, err = _integrate(integrand, digits)
    with mpmath.workdps(digits + 30):
        return val * scale, err * float(scale)


def relu_derivative_expectation(rho: str | mpmath.mpf, digits: int = 30) -> tuple[mpmath.mpf, float]:
    """Validated E[relu'(u) relu'(v)] = P(u > 0, v > 0) by quadrature; (value, error estimate)."""
    with mpmath.workdps(digits + 30):
        r = mpmath.mpf(rho)
        s = mpmath.sqrt(max(1 - r * r, mpmath.mpf(0)))

    def integrand(u: mpmath.mpf) -> mpmath.mpf:
        return _phi(u) * _positive_prob(mpmath.mpf(r) * u, mpmath.mpf(s))

    return _integrate(integrand, digits)
