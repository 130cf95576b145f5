"""Truncated power series over any commutative ring with rational scalars.

A series is a list ``[f_0, f_1, ..., f_{n-1}]`` meaning ``sum f_k x^k + O(x^n)``.
The coefficients can be exact (sympy ring or field elements, ``fractions.Fraction``)
or Arb balls: the recurrences use only ring operations and division by integers
and by the leading coefficient, so with balls every output coefficient is an
enclosure of the exact one. The same code therefore produces the symbolic
derivations and the certified numeric coefficients.

A term is skipped only when its coefficient is *exactly* zero (:func:`_is_zero`).
For an Arb ball ``x != 0`` is true only when the ball excludes 0, so testing it
would drop a ball that straddles 0 together with its radius, and the output would
no longer enclose the exact coefficient.

>>> from fractions import Fraction as Q
>>> ser_pow([Q(1), Q(1)], -1, 2, 4)          # (1 + x)^(-1/2)
[Fraction(1, 1), Fraction(-1, 2), Fraction(3, 8), Fraction(-5, 16)]
>>> ser_log([Q(1), Q(1)], 4)                  # log(1 + x)
[Fraction(0, 1), Fraction(1, 1), Fraction(-1, 2), Fraction(1, 3)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flint import arb, arb_poly

Series = list[Any]


def _coef(f: Sequence[Any], k: int) -> Any:
    return f[k] if k < len(f) else None


def _is_zero(x: Any) -> bool:
    """Whether ``x`` is exactly zero (an Arb ball: midpoint 0 *and* radius 0).

    ``==`` is exact for sympy and Fraction, and for Arb it is true only for two
    exact, equal balls; a ball that merely contains 0 is not zero.

    >>> from flint import arb
    >>> _is_zero(arb(0)), _is_zero(arb(0, 1e-9)), _is_zero(arb(1e-9, 1e-9))
    (True, False, False)
    """
    return bool(x == 0)


def ser_mul(a: Sequence[Any], b: Sequence[Any], n: int) -> Series:
    """The product of two series, truncated to n terms.

    Arb balls go through Arb's polynomial product (``arb_poly``, in C): the same
    enclosure property, about three times faster than the loop below.

    >>> from flint import arb
    >>> [c.str(5) for c in ser_mul([arb(1), arb(2)], [arb(3), arb(0), arb(1)], 3)]
    ['3.0000', '6.0000', '1.0000']
    """
    if n <= 0:
        return []
    if isinstance(a[0], arb) and all(isinstance(x, arb) for x in (*a[:n], *b[:n])):
        prod = (arb_poly(list(a[:n])) * arb_poly(list(b[:n]))).coeffs()[:n]
        return prod + [a[0] - a[0]] * (n - len(prod))
    zero = a[0] - a[0]
    out = [zero] * n
    b_terms = [(j, bj) for j, bj in enumerate(b[:n]) if not _is_zero(bj)]
    for i in range(min(n, len(a))):
        ai = a[i]
        if _is_zero(ai):
            continue
        for j, bj in b_terms:
            if i + j >= n:
                break
            out[i + j] = out[i + j] + ai * bj
    return out


def ser_pow(f: Sequence[Any], num: int, den: int, n: int) -> Series:
    """``f^(num/den)`` for a series with ``f[0] == 1`` (J. C. P. Miller's recurrence)."""
    one = f[0]
    out = [one - one] * n
    out[0] = one
    for m in range(1, n):
        acc = one - one
        for k in range(1, m + 1):
            fk = _coef(f, k)
            if fk is None or _is_zero(fk):
                continue
            weight = (num + den) * k - den * m          # ((a + 1) k - m) * den
            if weight:
                acc = acc + fk * out[m - k] * weight
        out[m] = acc / (den * m)
    return out


def ser_log(f: Sequence[Any], n: int) -> Series:
    """``log f`` for a series with ``f[0] == 1`` (from ``f l' = f'``)."""
    one = f[0]
    zero = one - one
    out = [zero] * n
    for m in range(1, n):
        acc = zero
        for k in range(1, m):
            fk = _coef(f, m - k)
            if fk is not None and not _is_zero(fk) and not _is_zero(out[k]):
                acc = acc + out[k] * fk * k
        fm = _coef(f, m)
        out[m] = (fm if fm is not None else zero) - acc / m
    return out


def ser_powers(f: Sequence[Any], top: int, n: int, shifted: bool = False) -> list[Series]:
    """``[f^0, f^1, ..., f^top]`` truncated to n terms (f^0 is the series 1).

    With ``shifted``, ``f^j`` is truncated to ``n - j`` terms instead: all that
    ``x^j f(x)^j`` needs to n terms (composition with ``x f(x)``), at a third of the cost.

    >>> from fractions import Fraction as Q
    >>> ser_powers([Q(1), Q(1)], 2, 3, shifted=True)[2]      # (1 + x)^2 to 1 term
    [Fraction(1, 1)]
    """
    one = f[0]
    out = [[one] + [one - one] * (n - 1)]
    for j in range(1, top + 1):
        out.append(ser_mul(out[-1], f, n - j if shifted else n))
    return out
