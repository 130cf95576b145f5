"""Depth asymptotics of the default model (sigma_w^2 = 1, sigma_b^2 = 0), derived with sympy.

From the Abel coordinate ``A(rho^(L)) = L + tau`` (:mod:`.abel`), with
``t = L + tau``, ``u = 1/t``, ``ell = log t`` and ``a1 w = t (1 + u X(u, ell))``:

* ``1 - rho^(L) = (9 pi^2 / 2) L^-2 [1 + sum_j P_j(log L, tau) L^-j + ...]``,
  ``P_1 = -3 log L - 2 tau``: the leading constant and the log-correction are
  universal; rho^(1) enters only through the Abel constant ``tau = A(rho^(1)) - 1``,
  first at relative order 1/L.
* ``ThetaBar^(L) = 1/4 + [(3/8) log L + tau/4 - 1/8] / L + ...``: the normalized NTK
  off-diagonal entry tends to 1/4, not 1; rho^(1) enters through tau, and through
  ``K = T_n A'(rho_n) - B(w_n)`` only at order L^-4.
* ``kappa_x kappa^-1`` tends to ``1/(n + 3)`` per training point for the NTK and ``1/n``
  for the NNGP kernel (all points distinct, test point distinct from the training set).
* the depth at which ``1 - rho^(L) < delta`` is ``(3 pi/sqrt 2) delta^(-1/2) + O(log delta)``.

All expansions are computed exactly over QQ(kappa)[ell, tau] (kappa = sqrt(2)/pi) by
the series routines of :mod:`.series`.

>>> law = gap_law(2)
>>> print(law.correction(1))
-(2*tau + 3*log(L))
>>> print(theta_law(1).correction(1))
tau/4 + 3*log(L)/8 - 1/8
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy as sp
from sympy.polys.fields import field
from sympy.polys.rings import ring

from verify.derive.expansions import KAPPA_VALUE
from verify.kernel.asymptotic.abel import AbelCoefficients, abel_coefficients
from verify.kernel.asymptotic.series import ser_log, ser_mul, ser_pow

L_SYM = sp.Symbol("L", positive=True)
TAU = sp.Symbol("tau", real=True)
K_SYM = sp.Symbol("K", real=True)
N_SYM = sp.Symbol("n", positive=True, integer=True)
DELTA = sp.Symbol("delta", positive=True)


@dataclass(frozen=True)
class DepthLaw:
    """``prefactor * L^-p * (lead + sum_{j=1}^{order} corrections[j-1] * L^-j)`` (sympy).

    ``corrections[j-1]`` is a polynomial in log L and tau with exact coefficients;
    the error of the truncated law is O((log L)^(order+1) / L^(order+1)) relative.
    """

    name: str
    prefactor: sp.Expr
    power: int
    lead: sp.Expr
    corrections: tuple[sp.Expr, ...]

    def correction(self, j: int) -> sp.Expr:
        return self.corrections[j - 1]

    def expr(self, order: int | None = None) -> sp.Expr:
        order = len(self.corrections) if order is None else order
        body = self.lead + sp.Add(*[c * L_SYM ** (-j)
                                    for j, c in enumerate(self.corrections[:order], 1)])
        return self.prefactor * L_SYM ** (-self.power) * body

    def callable(self, order: int | None = None) -> Callable[..., Any]:
        """Best effort: ``f(L, tau, K)`` in mpmath at the current precision (K unused by 1 - rho)."""
        return sp.lambdify((L_SYM, TAU, K_SYM), self.expr(order), "mpmath")


@lru_cache(maxsize=1)
def _base_ring() -> Any:
    """QQ(kappa)[ell, tau, K, log_a1]: exact coefficients of every law."""
    fld, _ = field("kappa", sp.QQ)
    rng, *_gens = ring("ell,tau,K,log_a1", fld.to_domain())
    return rng


@lru_cache(maxsize=8)
def _ring(order: int) -> tuple[Any, Any, Any, Any, AbelCoefficients]:
    rng = _base_ring()
    kap = rng.domain.gens[0] if hasattr(rng.domain, "gens") else None
    kap = rng(field("kappa", sp.QQ)[1]) if kap is None else rng(kap)
    ell, tau = rng.gens[0], rng.gens[1]
    co = abel_coefficients(kap, rng.one, max(order + 2, 4))
    return rng, ell, tau, rng.one, co


def _inverse_series(order: int) -> tuple[list[Any], Any]:
    """X(u) (``order + 1`` terms) with ``a1 w = (1 + u X)/u`` solving A(w) = 1/u; and the ring."""
    rng, ell, _tau, one, co = _ring(order)
    n = order + 1
    zero = one - one
    c_scaled = [ck * co.a1 ** k for k, ck in enumerate(co.c, start=1)]
    x = [zero] * n
    for _ in range(n + 1):
        f = [one] + x[: n - 1]                               # 1 + u X, n terms
        logs = ser_log(f, n)
        new = [-co.b * v for v in logs]
        new[0] = new[0] - co.b * ell
        for k, ck in enumerate(c_scaled[: n], start=1):
            pk = ser_pow(f, -k, 1, n)
            for j in range(k, n):
                new[j] = new[j] - ck * pk[j - k]
        x = new
    return x, rng


def _substitute_l(series_u: list[Any], shift: int, n: int) -> list[Any]:
    """Re-expand ``sum_j a_j(ell) u^(j + shift)`` with ``u = 1/(L + tau)``, ``ell = log(L + tau)``.

    Returns the coefficients of v^(j + shift) (v = 1/L), j = 0..n-1, with ell now
    meaning log L.
    """
    rng = _base_ring()
    ell, tau, one = rng.gens[0], rng.gens[1], rng.one
    zero = one - one
    one_tau = [one, tau] + [zero] * (n - 2)                  # 1 + tau v
    delta = ser_log(one_tau, n)                              # log(1 + tau v)
    out = [zero] * n
    for j, aj in enumerate(series_u[:n]):
        # a_j(ell + delta) = sum_i a_j^(i)(ell) delta^i / i!
        expanded = [zero] * n
        deriv, dpow, fact = aj, [one] + [zero] * (n - 1), 1
        for i in range(n):
            if deriv == 0:
                break
            for m in range(n):
                expanded[m] = expanded[m] + deriv * dpow[m] / fact
            deriv = deriv.diff(ell)
            dpow = ser_mul(dpow, delta, n)
            fact *= i + 1
        factor = ser_pow(one_tau, -(j + shift), 1, n)       # u^(j+shift) = v^(j+shift) (1+tau v)^-(j+shift)
        term = ser_mul(expanded, factor, n)
        for m in range(n - j):
            out[j + m] = out[j + m] + term[m]
    return out


def _to_expr(x: Any) -> sp.Expr:
    """A QQ(kappa)[ell, tau] element as sympy, with ell -> log L and kappa -> sqrt(2)/pi."""
    names = {sp.Symbol("ell"): sp.log(L_SYM), sp.Symbol("tau"): TAU, sp.Symbol("K"): K_SYM,
             sp.Symbol("log_a1"): sp.log(3 * sp.pi / sp.sqrt(2)), sp.Symbol("kappa"): KAPPA_VALUE}
    return sp.expand(x.as_expr().subs(names))


@lru_cache(maxsize=8)
def gap_law(order: int) -> DepthLaw:
    """``1 - rho^(L)`` to relative order L^-order (exact coefficients; order >= 1)."""
    x, _ = _inverse_series(order)
    rng, _, _, one, co = _ring(order)
    n = order + 1
    f = [one] + x[: n - 1]
    body = _substitute_l(ser_pow(f, -2, 1, n), 2, n)         # (1 + u X)^-2 u^2
    lead = body[0]
    corrections = tuple(sp.factor_terms(_to_expr(c / lead)) for c in body[1:])
    return DepthLaw("1 - rho^(L)", _to_expr(co.a1 ** 2), 2, sp.Integer(1), corrections)


@lru_cache(maxsize=8)
def theta_law(order: int) -> DepthLaw:
    """``ThetaBar^(L)`` (off-diagonal) to relative order L^-order (exact coefficients).

    ``T_L = L ThetaBar = 2 s^3 (B(w) + K) / A_w(w)`` with s = 1/w (:mod:`.abel`); the
    constant ``K = lim (T_L A'(rho_L) - B(w_L))`` (symbol ``K``) and the log-term of B
    (``log(a1)`` appears) first enter at L^-4.
    """
    x, _ = _inverse_series(order)
    rng, ell, _, one, co = _ring(order)
    zero = one - one
    const_k, log_a1 = rng.gens[2], rng.gens[3]
    n = order + 1
    f = [one] + x[: n - 1]
    f_inv = ser_pow(f, -1, 1, n)
    inv_a1 = rng.ground_new(1 / co.a1.LC)
    # P(u) = u^4 (B(w) + K) with s^-j = a1^-j u^-j f^j and log(1/s) = ell + log f - log a1
    p = [zero] * n
    f_pow = [one] + [zero] * (n - 1)
    for j, dj in enumerate(co.d, start=1):
        f_pow = ser_mul(f_pow, f, n)
        for m in range(n - (4 - j)):
            p[m + 4 - j] = p[m + 4 - j] + dj * inv_a1 ** j * f_pow[m]
    tail = [co.dlog * v for v in ser_log(f, n)]
    tail[0] = tail[0] + co.dlog * (ell - log_a1) + const_k
    s_ser = [zero] + [co.a1 * v for v in f_inv[: n - 1]]     # s = a1 u / f
    s_pow = [one] + [zero] * (n - 1)
    for ek in co.e[: n]:
        s_pow = ser_mul(s_pow, s_ser, n)
        tail = [a + ek * v for a, v in zip(tail, s_pow, strict=True)]
    for m in range(n - 4):
        p[m + 4] = p[m + 4] + tail[m]
    # dA/dw / a1 = 1 + (b s - sum k c_k s^(k+1)) / a1
    a_w = [one] + [zero] * (n - 1)
    s_pow = [one] + [zero] * (n - 1)
    for ck in ([co.b] + [-k * ck for k, ck in enumerate(co.c, start=1)])[: n]:
        s_pow = ser_mul(s_pow, s_ser, n)
        a_w = [a + ck * inv_a1 * v for a, v in zip(a_w, s_pow, strict=True)]
    ratio = ser_mul(ser_mul(ser_pow(f, -3, 1, n), p, n), ser_pow(a_w, -1, 1, n), n)
    t_series = [2 * co.a1 ** 2 * v for v in ratio]          # T = u^-1 * this
    body = _substitute_l(t_series, -1, n)                    # v * T, v = 1/L
    return DepthLaw("ThetaBar^(L)", sp.Integer(1), 0, _to_expr(body[0]),
                    tuple(sp.expand(_to_expr(c)) for c in body[1:]))


def depth_for_gap_expr() -> sp.Expr:
    """``L(delta) + tau``: the real depth with 1 - rho^(L) = delta, up to O(delta^(1/2)).

    The minimal integer depth with 1 - rho^(L) < delta is the least integer above
    ``A(delta^-1/2) - tau``; its expansion is returned here.
    """
    a1 = 3 * sp.pi / sp.sqrt(2)
    return sp.expand(a1 * DELTA ** sp.Rational(-1, 2) - sp.Rational(3, 2) * sp.log(a1)
                     + sp.Rational(3, 4) * sp.log(DELTA))


def weights_limit_ntk() -> sp.Expr:
    """Each entry of lim kappa_x kappa^-1 for the NTK: beta/(1 + (n - 1) beta) at beta = 1/4."""
    beta = sp.Rational(1, 4)
    return sp.simplify(beta / (1 + (N_SYM - 1) * beta))


def weights_limit_nngp() -> sp.Expr:
    """Each entry of lim kappa_x kappa^-1 for the NNGP kernel: 1/n."""
    return 1 / N_SYM


def inverse_of_equicorrelation() -> tuple[sp.Expr, sp.Expr]:
    """(x, y) with (a I + b J)^-1 = x I + y J for an n x n matrix (derived by sympy)."""
    a, b, x, y = sp.symbols("a b x y")
    sol = sp.solve([a * x - 1, a * y + b * x + N_SYM * b * y], [x, y], dict=True)[0]
    return sp.simplify(sol[x]), sp.simplify(sol[y])
