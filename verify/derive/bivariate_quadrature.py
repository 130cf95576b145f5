"""Validated 2-D Gaussian expectations E[f(u) f(v)] by Gauss-Legendre quadrature (Arb arithmetic, no closed form).

The independent route of check (c) in :mod:`.dual_kernels_symbolic`. With ``Var u = Var v = q``,
``Cov = q c``, ``theta = acos(c)`` and polar coordinates ``u = sqrt(q) r cos t``,
``v = sqrt(q) r cos(t - theta)`` (so that ``(r cos t, r sin t)`` is standard normal):

    E[f(u) g(v)] = (1/2 pi) int_{-pi}^{pi} dt int_0^R r exp(-r^2/2) f(u) g(v) dr  (+ tail below e^(-R^2/2) R^4)

The angle is cut where u = 0 or v = 0 (t = +-pi/2, theta +- pi/2), so on each sector f and g
are analytic (they are analytic except at 0); Gauss-Legendre with ``ANGLE_NODES`` nodes per
sector and ``RADIAL_NODES`` on [0, R] then converges geometrically. The activations are
evaluated here from their definitions (model.py's table), not from any kernel formula.
Arb balls are used as fast multiprecision numbers: the result is *validated* by agreement
with the closed forms, not certified (the quadrature error is not bounded).

>>> x = expectation("relu", "phi", "1", "0", 30)       # E[relu(u) relu(v)] at c = 0: 1/(2 pi)
>>> mpmath.nstr(x, 25)                                  # 1/(2 pi) = 0.159154943091895335768883763...
'0.1591549430918953357688838'
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp
from flint import arb, ctx

from verify.core.model import Activation
from verify.derive.activations import abrelu_slopes

ANGLE_NODES = 64
RADIAL_NODES = 100
RADIUS = 15

Branches = tuple[Callable[[arb], arb], Callable[[arb], arb]]


@lru_cache(maxsize=16)
def _legendre(n: int, prec: int) -> list[tuple[arb, arb]]:
    """Gauss-Legendre nodes and weights on (-1, 1) at ``prec`` bits (Arb)."""
    with ctx.workprec(prec):
        return [arb.legendre_p_root(n, k, weight=True) for k in range(n)]


def _frac(x: Fraction) -> arb:
    return arb(x.numerator) / x.denominator


def _const(value: int) -> Callable[[arb], arb]:
    return lambda _x: arb(value)


def _branches(spec: str, which: str) -> Branches:
    """(f on x < 0, f on x > 0) for phi (``which == "phi"``) or its classical derivative (``"dphi"``)."""
    act = Activation.parse(spec)
    name = act.name
    slopes = abrelu_slopes(act)
    if slopes is not None:
        a, b = slopes
        if which == "phi":
            return (lambda x: _frac(a) * x), (lambda x: _frac(b) * x)
        return (lambda _x: _frac(a)), (lambda _x: _frac(b))
    if name == "relu^2":
        return (_const(0), lambda x: x * x) if which == "phi" else (_const(0), lambda x: 2 * x)
    if name in ("relu^0", "sign"):
        low = 0 if name == "relu^0" else -1
        return (_const(low), _const(1)) if which == "phi" else (_const(0), _const(0))
    if name == "erf":
        if which == "phi":
            return (lambda x: x.erf()), (lambda x: x.erf())
        return (lambda x: 2 * (-x * x).exp() / arb.pi().sqrt()), (lambda x: 2 * (-x * x).exp() / arb.pi().sqrt())
    if name == "gelu":
        if which == "phi":
            def g(x: arb) -> arb:
                return x * (1 + (x / arb(2).sqrt()).erf()) / 2
        else:
            def g(x: arb) -> arb:
                return (1 + (x / arb(2).sqrt()).erf()) / 2 + x * (-x * x / 2).exp() / (2 * arb.pi()).sqrt()
        return g, g
    raise ValueError(f"no quadrature integrand for {spec!r}")


def _pick(f: Branches, x: arb) -> arb:
    return f[1](x) if x.mid() > 0 else f[0](x)


def expectation(spec: str, which: str, q: str, c: str, digits: int) -> mpmath.mpf:
    """Validated ``E[f(u) f(v)]`` (f = phi or phi') at Var q, correlation c (decimal strings), as an mpf.

    ``digits`` sets the working precision (digits + 12, in bits); the rule sizes are fixed
    (``ANGLE_NODES``, ``RADIAL_NODES``): enough for 30 digits at q = 1 for every activation here.
    """
    prec = int((digits + 12) * 3.33)
    f = _branches(spec, which)
    with ctx.workprec(prec):
        pi = arb.pi()
        cc = arb(c)
        theta = cc.acos()
        sq = arb(q).sqrt()
        cuts = []
        for b in (-pi / 2, pi / 2, theta - pi / 2, theta + pi / 2):
            while b.mid() >= pi.mid():
                b -= 2 * pi
            while b.mid() < -pi.mid():
                b += 2 * pi
            cuts.append(b)
        edges = sorted([-pi, pi, *cuts], key=lambda a: a.mid())
        radial = [(RADIUS * (x + 1) / 2, RADIUS * w / 2) for x, w in _legendre(RADIAL_NODES, prec)]
        radial = [(r, w * r * (-r * r / 2).exp()) for r, w in radial]
        angle = _legendre(ANGLE_NODES, prec)
        total = arb(0)
        for lo, hi in zip(edges, edges[1:], strict=False):
            half = (hi - lo) / 2
            if half.mid() <= 0:
                continue
            for x, w in angle:
                t = lo + half * (x + 1)
                cu, cv = sq * t.cos(), sq * (t - theta).cos()
                inner = arb(0)
                for r, wr in radial:
                    inner += wr * _pick(f, r * cu) * _pick(f, r * cv)
                total += half * w * inner
        total /= 2 * pi
        with mpmath.workdps(digits + 12):
            return mpmath.mpf(total.mid().str(digits + 12, radius=False))


def delta_pair_density(jump: sp.Expr, q: str, c: str) -> mpmath.mpf:
    """``E[J delta(u) J delta(v)] = J^2 p(0, 0)``, p the bivariate normal density: J^2/(2 pi sqrt(det Sigma))."""
    qq, cc = mpmath.mpf(q), mpmath.mpf(c)
    sigma = mpmath.matrix([[qq, qq * cc], [qq * cc, qq]])
    return mpmath.mpf(sp.N(jump**2, mpmath.mp.dps)) / (2 * mpmath.pi * mpmath.sqrt(mpmath.det(sigma)))
