"""Per-layer coefficients of the normalized recursions, for any (sigma_w^2, sigma_b^2).

With q_l = Sigma^(l)(x,x) and t_l = Theta^(l)(x,x) (the same for every point of the
sphere), the normalized quantities e_l = 1 - rho^(l) and f_l = 1 - ThetaBar^(l) obey

    e_{l+1} = lam_l * g(e_l)                                  lam_l = sigma_w^2 q_l / (2 q_{l+1})
    f_{l+1} = (1 - nu_l) (a_l + f_l (1 - a_l)) + nu_l e_{l+1}    nu_l = q_{l+1} / t_{l+1}

with ``g(e) = 1 - h(1 - e)`` and ``a_l = arccos(rho^(l)) / pi = 1 - kappa0(rho^(l))``.
Every term is nonnegative, so no cancellation happens. The coefficients are
computed from bounded ratios (beta_l = sigma_b^2 / q_l and r_l = t_l / q_l), so
nothing over- or underflows at any depth. For MATH.md's model lam_l = 1 and
nu_l = 1 / (l + 1), and so for every network without a bias, whatever sigma_w^2:
with sigma_b^2 = 0, q_(l+1) = sigma_w^2 q_l / 2, so lam_l = 1, and t_(l+1) = q_(l+1) + sigma_w^2
t_l / 2 gives t_l = l q_l by induction (t_1 = q_1), so nu_l = 1 / (l + 1). The normalized
kernels of a bias-free ReLU network therefore do not depend on sigma_w^2 (only the raw
diagonals do: :func:`raw_diagonals`), and :attr:`LayerSchedule.is_default` holds for all of them.

>>> from fractions import Fraction
>>> s = LayerSchedule(Fraction(1), Fraction(0), n0=3)
>>> s.first_layer_scale, next(s.iterate(Fraction))
(Fraction(1, 1), (Fraction(1, 1), Fraction(1, 2)))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any, TypeVar

import mpmath

_Num = TypeVar("_Num")


class LayerSchedule:
    """The coefficients (lam_l, nu_l), l = 1, 2, ..., as exact rationals, arb balls or floats."""

    def __init__(self, sigma_w2: Fraction, sigma_b2: Fraction, n0: int) -> None:
        self.sigma_w2 = Fraction(sigma_w2)
        self.sigma_b2 = Fraction(sigma_b2)
        self.n0 = int(n0)
        q1 = self.sigma_w2 / self.n0 + self.sigma_b2
        self.beta1 = self.sigma_b2 / q1
        # the normalized recursion is MATH.md's (lam = 1, nu = 1/(l + 1), e_1 = 1 - cos): no bias, any
        # sigma_w^2 (module docstring), so the default model's fast loop and asymptotic series apply
        self.is_default = self.sigma_b2 == 0

    @property
    def first_layer_scale(self) -> Fraction:
        """e_1 = first_layer_scale * (1 - cos(x, x')) (the bias pulls rho^(1) towards 1)."""
        return 1 - self.beta1

    def iterate(self, convert: Callable[[Fraction], _Num]) -> Iterator[tuple[_Num, _Num]]:
        """Yield (lam_l, nu_l) for l = 1, 2, ... with numbers built by ``convert(Fraction)``.

        ``convert`` maps exact rationals into the arithmetic in use (arb, mpf, float);
        the recursion then runs in that arithmetic (balls stay rigorous).
        """
        # the arithmetic below is the same for every number type (Fraction, arb, mpf, float)
        half_w: Any = convert(self.sigma_w2 / 2)
        one: Any = convert(Fraction(1))
        if self.is_default:
            layer = 1
            while True:
                yield one, one / (layer + 1)
                layer += 1
        beta: Any = convert(self.beta1)
        ratio: Any = one
        while True:
            denom = half_w + beta
            lam = half_w / denom
            beta = beta / denom
            ratio = one + lam * ratio
            yield lam, one / ratio


def raw_diagonals(sigma_w2: Fraction, sigma_b2: Fraction, n0: int, depth: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """Best effort at the current mpmath precision: (Sigma^(L)(x,x), Theta^(L)(x,x)) on the sphere.

    The raw kernel is the normalized one times these diagonals. For the default
    model they are 1/(n0 2^(L-1)) and L/(n0 2^(L-1)) (exact up to the final rounding).

    >>> raw_diagonals(Fraction(1), Fraction(0), 2, 3)
    (mpf('0.125'), mpf('0.375'))
    >>> raw_diagonals(Fraction(3), Fraction(0), 2, 3)      # q = (3/2)(3/2)^2 = 27/8, t = 3 q
    (mpf('3.375'), mpf('10.125'))
    """
    if sigma_w2 == 1 and sigma_b2 == 0:
        q = mpmath.ldexp(mpmath.mpf(1) / n0, 1 - depth)
        return q, q * depth
    if sigma_b2 == 0:            # q_L = (sigma_w^2 / n0) (sigma_w^2 / 2)^(L-1), t_L = L q_L, at any depth
        w = mpmath.mpf(sigma_w2.numerator) / sigma_w2.denominator
        q = w / n0 * mpmath.exp((depth - 1) * mpmath.log(w / 2))
        return q, q * depth
    w = mpmath.mpf(sigma_w2.numerator) / sigma_w2.denominator
    b = mpmath.mpf(sigma_b2.numerator) / sigma_b2.denominator
    q = w / n0 + b
    t = q
    for _ in range(depth - 1):
        q = w * q / 2 + b
        t = q + w * t / 2
    return q, t
