"""Abel (Fatou) coordinates of the correlation map at its parabolic fixed point rho = 1: Arb side.

The seed model (ReLU, no bias) and every member of its parabolic kink family
(:mod:`.family`: the map ``(1 - w) rho + w h(rho)``, kappa replaced by ``w kappa``; the NTK's sum
weighted by theta). For the seed, in ``w = (1 - rho)^(-1/2)`` the map
``rho -> h(rho)`` is ``w -> G(w) = w sigma(1/w)`` (see :mod:`.coefficients`), a
translation by ``alpha = kappa/3 = sqrt(2)/(3 pi)`` plus corrections. Two formal
series solve the two functional equations of the depth recursion:

* ``A(G(w)) = A(w) + 1`` with
  ``A(w) = a1 w + b log(a1 w) + sum_{k=1}^N c_k w^-k``, ``a1 = 3 pi / sqrt(2)``, ``b = -3/2``;
  then ``A(rho^(L)) = L + tau`` with ``tau = A(rho^(1)) - 1``.
* ``B(G(w)) - B(w) = phi(G(w))``, ``phi(w) = rho A'(rho) = (1 - w^-2) (w^3/2) dA/dw``, with
  ``B(w) = d4 w^4 + d3 w^3 + d2 w^2 + d1 w + d_log log w + sum_{k=1}^{N-2} e_k w^-k``;
  it sums the NTK recursion: ``T_L A'(rho_L) = T_n A'(rho_n) + B(w_L) - B(w_n)``
  with ``T_L = L ThetaBar^(L)``. For a family member with theta > 0 (resnets) the right-hand
  side is ``phi(G(w)) (1 - theta r(s))``, ``r(s) = (1 - s^2)/(1 - s^2 sigma(s)^-2)``: the step
  ``T' = g' T + rho' - theta rho`` telescopes to ``T' A'(rho') = T A'(rho) + (rho' - theta rho) A'(rho')``
  and ``rho A'(rho') = rho' A'(rho') (1 - s^2)/(1 - s'^2)`` with ``s' = 1/G(w) = s/sigma(s)``.

The coefficients are solved order by order in ``s = 1/w`` over the ring of
``kappa = sqrt(2)/pi`` (:func:`abel_coefficients` is generic in the ring): here as Arb
balls (certified enclosures of the exact values) for the numeric route; the exact
solution in QQ(kappa) is :func:`verify.derive.abel.symbolic_abel` (sympy). The series
are asymptotic (Gevrey-1, the Fatou coordinate of a parabolic germ), so truncation
errors are bounded separately (:mod:`.bounds`).

>>> with ctx.workprec(60):                    # A_N(100), 15 digits
...     print(eval_a(arb_abel(12, 60), arb(100)).str(15))
[656.684369893474 +/- 3.07e-14]
>>> with ctx.workprec(120):                   # 30 digits
...     print(eval_a(arb_abel(12, 120), arb(100)).str(30, radius=False))
656.684369893473976861601417119
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from flint import arb, arb_poly, ctx

from verify.core.balls import arb_of_fraction
from verify.kernel.asymptotic.coefficients import sigma_series
from verify.kernel.asymptotic.family import SEED, KinkFamily
from verify.kernel.asymptotic.series import ser_log, ser_mul, ser_pow, ser_powers


@dataclass(frozen=True)
class AbelCoefficients:
    """Coefficients of the two Abel-type series (ring elements: exact or Arb balls).

    ``c[k-1]`` is c_k (k = 1..order); ``d`` is (d1, d2, d3, d4); ``e[k-1]`` is the
    coefficient of w^-k in B (k = 1..order-2).
    """

    order: int
    kappa: Any
    theta: Any
    alpha: Any
    beta: Any
    a1: Any
    b: Any
    c: tuple[Any, ...]
    d: tuple[Any, Any, Any, Any]
    dlog: Any
    e: tuple[Any, ...]
    sigma: tuple[Any, ...]

    # Arb polynomials for the real evaluations below (ball coefficients only): evaluated by
    # Arb in C, one call instead of a Python loop over the order (the series route's hot path)
    @cached_property
    def c_poly(self) -> arb_poly:
        """``sum_k c_k s^(k-1)``: A_N(w) = a1 w + b log(a1 w) + s * c_poly(s)."""
        return arb_poly(list(self.c))

    @cached_property
    def c_prime_poly(self) -> arb_poly:
        """``-sum_k k c_k s^(k-1)``: dA_N/dw = a1 + b s + s^2 * c_prime_poly(s)."""
        return arb_poly([-k * ck for k, ck in enumerate(self.c, start=1)])

    @cached_property
    def b_poly(self) -> arb_poly:
        """``d1 w + d2 w^2 + d3 w^3 + d4 w^4``, the polynomial part of B_N."""
        return arb_poly([0 * self.d[0], *self.d])

    @cached_property
    def c_floats(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Best effort: (c_k, -k c_k) as floats, for a float64 first guess of the Abel inverse."""
        c = tuple(float(x.mid()) for x in self.c)
        return c, tuple(-k * ck for k, ck in enumerate(c, start=1))

    @cached_property
    def float_constants(self) -> tuple[float, float]:
        """Best effort: (a1, b) as floats."""
        return float(self.a1.mid()), float(self.b.mid())

    @cached_property
    def _truncations(self) -> dict[tuple[str, int, int], tuple[arb_poly, arb]]:
        return {}

    def truncated(self, name: str, binade: int, prec: int) -> tuple[arb_poly, arb]:
        """(P_K, [-t, t]): the first K terms of the polynomial ``name`` (``c_poly``, ``c_prime_poly``,
        ``e_poly``) with coefficients rounded to ``prec`` bits, and the ball [-t, t] with
        ``|P(s) - P_K(s)| <= t`` for every real s with ``|s| <= 2^binade``.

        Proof: P(s) - P_K(s) = sum_{i >= K} p_i s^i, so its modulus is at most
        sum_{i >= K} |p_i| 2^(binade i) (every |p_i| bounded above by its ball, in Arb with
        outward rounding). Rounding a coefficient to ``prec`` bits keeps the exact value in
        its ball (Arb adds the rounding to the radius). So ``P_K(s) + [-t, t]`` encloses
        P(s) for every s in a ball inside [-2^binade, 2^binade]: the same enclosure as P(s),
        at the cost of K terms. K is the least count with t <= 2^-(prec + 16) |p_0|: far
        below the rounding of the values these polynomials enter (A_N ~ a1 w, B_N ~ d4 w^4).
        """
        key = (name, binade, prec)
        cache = self._truncations
        if key not in cache:
            full = getattr(self, name)
            coeffs = [full[i] for i in range(full.degree() + 1)]
            with ctx.workprec(prec + 32):
                sigma = arb(2) ** binade
                target = abs(coeffs[0]).upper() * arb(2) ** (-(prec + 16))
                tail, count = arb(0), len(coeffs)
                for i in range(len(coeffs) - 1, 0, -1):       # tail = sum_{j >= i} |p_j| sigma^j
                    more = tail + abs(coeffs[i]).upper() * sigma ** i
                    if not more.upper() <= target:
                        break
                    tail, count = more, i
                bound = arb(tail.upper())
            with ctx.workprec(prec):
                cache[key] = (arb_poly([+c for c in coeffs[:count]]), arb(0, bound))
        return cache[key]

    def evaluate(self, name: str, s: arb) -> arb:
        """Certified enclosure of the polynomial ``name`` at the real ball s (0 <= s < 1), by its
        :meth:`truncated` form for the binade of ``s``'s upper end.

        The binade 2^e >= upper(s) comes from ``math.frexp`` of ``float(upper(s))``: float
        rounding is monotone and fixes powers of two, so upper(s) >= 2^(e-1) implies
        float(upper(s)) >= 2^(e-1), and frexp's e satisfies float(upper(s)) < 2^e; if upper(s)
        were >= 2^e the float would be too (same argument), a contradiction.
        """
        high = float(s.upper())
        if not (high < 1 and s > 0):              # not a small positive ball: the whole polynomial
            value: arb = getattr(self, name)(s)
            return value
        key = (name, math.frexp(high)[1], ctx.prec)
        poly, tail = self._truncations.get(key) or self.truncated(*key)
        return poly(s) + tail

    @cached_property
    def _float_term_counts(self) -> dict[int, int]:
        return {}

    def float_terms(self, binade: int) -> int:
        """Best effort: how many c_k matter in float64 for s < 2^binade: all k with (k+1)|c_k| 2^(binade (k+1))
        above 2^-64 (A_N and dA_N/dw are both at least ~1 there, so the rest is below their rounding)."""
        counts = self._float_term_counts
        if binade not in counts:
            c = self.c_floats[0]
            big = [k for k, ck in enumerate(c, start=1)
                   if ck and math.log2(abs(ck) * (k + 1)) + binade * (k + 1) > -64]
            counts[binade] = max(big, default=1)          # at least one term (horner needs one)
        return counts[binade]

    @cached_property
    def e_poly(self) -> arb_poly:
        """``sum_k e_k s^(k-1)``: B_N(w) = b_poly(w) + dlog log w + s * e_poly(s)."""
        return arb_poly(list(self.e))


def abel_coefficients(kappa: Any, one: Any, order: int, theta: Any = 0) -> AbelCoefficients:
    """Solve both functional equations order by order (exact or ball arithmetic); ``theta`` weighs
    the NTK's right-hand side (module docstring; 0 for the seed and every MLP)."""
    if order < 4:
        raise ValueError("order must be >= 4")
    n_terms = order + 4
    sig = sigma_series(kappa, one, n_terms)
    alpha, beta = sig[1], sig[2]
    a1 = one / alpha
    b = -a1 * beta / alpha
    logs = ser_log(sig, n_terms)
    # sigma^-k, to n_terms - k terms: it only ever multiplies s^k (s^k -> s^k sigma^-k)
    inv_powers = ser_powers(ser_pow(sig, -1, 1, n_terms), order, n_terms, shifted=True)

    # A: coefficient of s^m in a1 (sigma-1)/s + b log sigma + sum c_k s^k (sigma^-k - 1) = 1
    c: list[Any] = []
    for k in range(1, order + 1):
        m = k + 1
        acc = a1 * sig[m + 1] + b * logs[m]
        for j, cj in enumerate(c, start=1):
            acc = acc + cj * inv_powers[j][m - j]
        c.append(acc / (alpha * k))

    # phi(w) = (s^-3 - s^-1)/2 * A'(w), A'(w) = a1 + b s - sum k c_k s^(k+1); index i <-> s^(i-3)
    a_prime = [a1, b] + [-k * ck for k, ck in enumerate(c, start=1)]
    a_prime = (a_prime + [one - one] * n_terms)[:n_terms]
    phi = [a_prime[i] / 2 - (a_prime[i - 2] / 2 if i >= 2 else 0) for i in range(n_terms)]
    pos_powers = ser_powers(sig, 4, n_terms)                                # sigma^j, j <= 4

    def sigma_pow(j: int) -> list[Any]:
        return pos_powers[j] if j >= 0 else inv_powers[-j]

    phi_g = [one - one] * n_terms              # phi(G(w)): s^j -> s^j sigma^-j
    for i, p in enumerate(phi):
        sp_j = sigma_pow(3 - i) if i <= 3 else inv_powers[i - 3]
        for t in range(n_terms - i):
            phi_g[i + t] = phi_g[i + t] + p * sp_j[t]
    if theta != 0:                             # phi(G(w)) (1 - theta r(s)), index i <-> s^(i-3) as before
        phi_g = ser_mul(phi_g, weight_factor(sig, theta, one, n_terms), n_terms)

    d: dict[int, Any] = {}

    def known(idx: int) -> Any:   # the d_j terms' coefficient at s^(idx-3)
        acc = phi_g[idx]
        for j, dj in d.items():
            acc = acc - dj * pos_powers[j][idx - 3 + j]
        return acc

    for j in (4, 3, 2, 1):
        d[j] = known(4 - j) / (alpha * j)
    dlog = known(4) / alpha
    e: list[Any] = []
    for k in range(1, order - 1):
        acc = known(k + 4) - dlog * logs[k + 1]
        for j, ej in enumerate(e, start=1):
            acc = acc - ej * inv_powers[j][k + 1 - j]
        e.append(acc / (-alpha * k))
    return AbelCoefficients(order, kappa, theta, alpha, beta, a1, b, tuple(c), (d[1], d[2], d[3], d[4]),
                            dlog, tuple(e), tuple(sig))


def weight_factor(sig: list[Any], theta: Any, one: Any, n: int) -> list[Any]:
    """``1 - theta (1 - s^2) / (1 - s^2 sigma(s)^-2)`` as a series in s (n terms)."""
    zero = one - one
    inv_sq = ser_pow(sig, -2, 1, n)
    den = [one] + [zero] + [-x for x in inv_sq[: n - 2]]
    ratio = ser_mul([one, zero, -one], ser_pow(den, -1, 1, n), n)
    return [(one if i == 0 else zero) - theta * r for i, r in enumerate(ratio)]


def family_kappa(family: KinkFamily) -> arb:
    """``w kappa = w sqrt(2)/pi`` of the family's gap map, at the current precision."""
    kappa: arb = arb_of_fraction(family.weight) * arb(2).sqrt() / arb.pi()
    return kappa


@lru_cache(maxsize=16)
def arb_abel(order: int, prec: int, family: KinkFamily = SEED) -> AbelCoefficients:
    """Certified enclosures of the exact coefficients at ``prec`` bits (Arb balls), for the seed
    or a member of its kink family (:mod:`.family`)."""
    with ctx.workprec(prec):
        return abel_coefficients(family_kappa(family), arb(1), order, arb_of_fraction(family.theta))


# ---- real evaluation (Arb) ---------------------------------------------------------------

def eval_a(co: AbelCoefficients, w: arb) -> arb:
    """Certified enclosure of the truncated series ``A_N(w)`` (w a real ball, w > 0)."""
    s = 1 / w
    a1w = co.a1 * w
    value: arb = a1w + co.b * a1w.log() + co.evaluate("c_poly", s) * s
    return value


def eval_a_prime(co: AbelCoefficients, w: arb) -> arb:
    """Certified enclosure of ``dA_N/dw = a1 + b s - sum k c_k s^(k+1)``."""
    s = 1 / w
    value: arb = co.a1 + co.b * s + co.evaluate("c_prime_poly", s) * s * s
    return value


def eval_a_float(co: AbelCoefficients, w: float) -> tuple[float, float]:
    """Best effort: (A_N(w), dA_N/dw) in float64 (for Newton's first steps; no error bound).

    >>> with ctx.workprec(60):
    ...     co = arb_abel(12, 60)
    ...     exact = eval_a(co, arb(100))
    >>> abs(eval_a_float(co, 100.0)[0] / float(exact.mid()) - 1) < 1e-14
    True
    """
    c, c_prime = co.c_floats
    s = 1 / w
    k = co.float_terms(math.frexp(s)[1])          # the terms above 2^-64 for this binade of s
    a1, b = co.float_constants
    return (a1 * w + b * math.log(a1 * w) + horner(c[:k], s) * s,
            a1 + b * s + horner(c_prime[:k], s) * s * s)


def eval_b(co: AbelCoefficients, w: arb) -> arb:
    """Certified enclosure of the truncated series ``B_N(w)``."""
    s = 1 / w
    value: arb = co.b_poly(w) + co.dlog * w.log() + co.evaluate("e_poly", s) * s
    return value


def horner(coeffs: tuple[Any, ...] | list[Any], s: Any) -> Any:
    """``sum_k coeffs[k] s^k`` by Horner's rule (works for arb and acb)."""
    acc = coeffs[-1] * 1
    for ck in reversed(coeffs[:-1]):
        acc = acc * s + ck
    return acc
