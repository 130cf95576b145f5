"""The ReLU correlation map and its derivative kernel, in the gap coordinate e = 1 - rho.

MATH.md's map is ``h(z) = (sqrt(1 - z^2) + z (pi - arccos z)) / pi`` and its
derivative is ``h'(z) = kappa0(z) = (pi - arccos z) / pi``, which lies in [0, 1].
Near ``z = 1`` both ``sqrt(1 - z^2)`` and ``arccos z`` have diverging derivatives,
so a ball for ``z`` loses all accuracy there. Written in ``e = 1 - z`` with
``arccos(1 - e) = 2 asin(sqrt(e / 2))`` no rounding of ``1 - e`` ever happens and
the map

    g(e) = 1 - h(1 - e) = e + ((1 - e) A(e) - sqrt(e (2 - e))) / pi,  A(e) = arccos(1 - e)

is evaluated to full relative accuracy from an exact midpoint. Balls are then
propagated by the proven bound 0 <= g'(e) = kappa0(1 - e) <= 1 (re-centring),
never by evaluating ``g`` on a wide ball.

>>> from flint import arb, ctx
>>> with ctx.workprec(120):
...     print(gap_map_arb(arb(1)).str(25, radius=False))    # h(0) = 1/pi
0.6816901138162093284622325
>>> with ctx.workprec(120):
...     print(gap_map_arb(arb(2)).str(5, radius=False))     # h(-1) = 0
1.0000
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from flint import arb


def arccos_one_minus_arb(e: arb) -> arb:
    """Certified enclosure of ``arccos(1 - e)`` for a ball ``e`` in [0, 2].

    Uses ``2 asin(sqrt(e/2))`` for e <= 1 and ``pi - 2 asin(sqrt(1 - e/2))`` for
    e > 1, so neither end of the interval loses accuracy.
    """
    if e.mid() <= 1:
        return 2 * (e / 2).nonnegative_part().sqrt().asin()
    return arb.pi() - 2 * (1 - e / 2).nonnegative_part().sqrt().asin()


def gap_map_arb(e: arb) -> arb:
    """Certified enclosure of ``g(e) = 1 - h(1 - e)`` at the *point* (or very tight ball) ``e``.

    Call it on exact midpoints and carry the input radius by 0 <= g' <= 1 (re-centring).
    """
    s = (e * (2 - e)).nonnegative_part().sqrt()
    return e + ((1 - e) * arccos_one_minus_arb(e) - s) / arb.pi()


def h_mpmath(z: mpmath.mpf) -> mpmath.mpf:
    """Best effort: ``h(z)`` in plain mpmath at the current ``mp.prec``, as written in MATH.md.

    >>> mpmath.mp.dps = 30
    >>> h_mpmath(mpmath.mpf(0))
    mpf('0.318309886183790671537767526745048')
    >>> mpmath.mp.dps = 15
    """
    return (mpmath.sqrt(1 - z * z) + z * (mpmath.pi - mpmath.acos(z))) / mpmath.pi


def kappa0_mpmath(z: mpmath.mpf) -> mpmath.mpf:
    """Best effort: ``kappa0(z) = (pi - arccos z) / pi`` in plain mpmath."""
    return (mpmath.pi - mpmath.acos(z)) / mpmath.pi


def h_kappa0_float64(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best effort: ``(h(z), kappa0(z))`` in float64 (numpy), z clipped to [-1, 1], with one arccos
    for both (a layer of the float64 sweep).

    1 - z^2 is formed as (1 - z)(1 + z): 1 - z is exact near z = 1 (Sterbenz), where 1 - z * z
    would lose its relative accuracy (at depth 50 that cost the NTK up to 2.6e-11 against
    certified values).

    h(0) = 1/pi, h(1/2) = (sqrt(3)/2 + pi/3)/pi, kappa0(0) = 1/2, kappa0(1/2) = 2/3:

    >>> h, k0 = h_kappa0_float64(np.array([0.0, 0.5]))
    >>> [round(float(v), 12) for v in (*h, *k0)]
    [0.318309886184, 0.608997781044, 0.5, 0.666666666667]
    """
    z = np.clip(z, -1.0, 1.0)
    rest = math.pi - np.arccos(z)
    h: np.ndarray = (np.sqrt((1.0 - z) * (1.0 + z)) + z * rest) / math.pi
    return h, rest / math.pi
