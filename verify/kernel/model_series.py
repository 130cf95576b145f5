"""Certified kernels of the seed's kink family at any depth, in time independent of the depth.

The members (:mod:`verify.kernel.asymptotic.family`: relu, leaky_relu, abrelu, abs without a bias,
NTK parameterization, MLP or resnet, any sigma_w^2) have the seed's parabolic fixed point rho = 1
with kappa scaled by a weight w, so the seed's Abel series with their proven truncation bounds
(:mod:`verify.kernel.asymptotic.route`) give the normalized kernels at any depth: direct
iteration to the switch layer (a few dozen to a few hundred layers), then the series. Both
gaps come to ``digits`` relative digits. The diagonals are exact products:
``Sigma^(L)(x,x) = q_1 r^(L-1)`` with ``r = sigma_w^2 m`` (MLP) or ``1 + ALPHA^2 sigma_w^2 m``
(resnet), ``m = (a^2 + b^2)/2``, and ``Theta^(L)(x,x) = Sigma^(L)(x,x) T_L(x,x)`` with
``T_L(x,x) = 1 + (L - 1)(1 - theta)`` (proofs in the family's module), enclosed in Arb.

>>> from verify.core.model import Model
>>> from verify.data.pairs import PairCorrelation
>>> from fractions import Fraction
>>> model = Model.parse(activation="abs")
>>> res, methods, bits = series_model_sweep(model, parabolic_family(model), [PairCorrelation(1, Fraction(0))],
...                                         [10**6], 3, 20)
>>> res[0].nngp_gap[0].to_json(20)["mid"], res[0].ntk[0].to_json(20)["mid"]     # 1 - rho, ThetaBar
('1.1102815767797935820241e-11', '0.25000538235835644277725')
>>> res[0].ntk_diag.to_json(20)["mid"]                # Theta(x,x) = L q_1, q_1 = 1/n0: m = 1 for abs
'333333.33333333333333333'
>>> methods[0].startswith("asymptotic series")
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from flint import arb, ctx

from verify.core.balls import arb_of_fraction
from verify.core.errors import BoundNotProven, PrecisionNotReached, PrecisionTooLow
from verify.core.model import Model
from verify.core.precision import bits_for_digits
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic.family import KinkFamily, kink_slopes, parabolic_family
from verify.kernel.asymptotic.route import MAX_SERIES_DIGITS, asymptotic_pair_sweep, switch_point
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.model_recursion import DepthKernels, LayerCoefficients, depth_balls

__all__ = ["parabolic_family", "series_available", "series_method", "series_model_sweep"]


def series_method(family: KinkFamily) -> str:
    """The method text of the series route for ``family``."""
    return (f"asymptotic series (Abel coordinate of the kink family, weight w = {family.weight}, "
            f"theta = {family.theta}; direct iteration up to the switch layer)")


def _diagonal_ratio(model: Model, c: LayerCoefficients) -> Fraction:
    """``r`` with ``Sigma^(l+1)(x,x) = r Sigma^(l)(x,x)`` (no bias): a_c + w_c m of the model's coefficients ``c``."""
    slopes = kink_slopes(model)
    assert slopes is not None  # a kink-family member
    a, b = slopes
    return c.a + c.w * (a * a + b * b) / 2          # m = E[phi(u)^2] = (a^2 + b^2)/2 for u ~ N(0, 1)


def series_available(family: KinkFamily | None, digits: int) -> bool:
    """Whether the series certifies ``digits`` digits for ``family`` (its switch point exists)."""
    if family is None or digits > MAX_SERIES_DIGITS:
        return False
    try:
        switch_point(digits, family.series_map)
    except (BoundNotProven, PrecisionNotReached):
        return False
    return True


def series_model_sweep(model: Model, family: KinkFamily | None, pairs: Sequence[PairCorrelation],
                       targets: Sequence[int], n0: int, digits: int) -> tuple[list[DepthKernels], list[str], int]:
    """Certified kernels of a kink-family model at every target depth (sorted), by the series.

    Returns the kernels per depth, the method per depth and the working precision (bits).
    """
    if family is None:
        raise ValueError(f"{model.name} is not in the seed's kink family")
    schedule = LayerSchedule(Fraction(1), Fraction(0), n0)
    per_pair, bits = [], 0
    for pair in pairs:
        balls, used, _ = asymptotic_pair_sweep(pair, targets, "ntk", digits, schedule, family)
        per_pair.append(balls)
        bits = max(bits, used)
    c = LayerCoefficients.of(model, n0)
    ratio = _diagonal_ratio(model, c)
    prec = bits_for_digits(digits) + 2 * math.ceil(math.log2(targets[-1] + 1)) + 32
    out = []
    with ctx.workprec(prec):
        q1, r = arb_of_fraction(c.q1), arb_of_fraction(ratio)
        for k, depth in enumerate(targets):
            q = q1 * r ** arb(depth - 1)
            t = q * arb_of_fraction(family.scale * family.ntk_diagonal(depth))
            e = [balls[k][0].to_arb() for balls in per_pair]
            f = [balls[k][1].to_arb() for balls in per_pair]        # type: ignore[union-attr]  # the NTK was asked
            res = depth_balls(depth, q, t, e, f)
            if any(d.rad_man != 0 and d.relative_digits() < digits for d in (res.nngp_diag, res.ntk_diag)):
                raise PrecisionTooLow(f"the diagonal of {model.name} at depth {depth} lost its digits")
            out.append(res)
    return out, [series_method(family)] * len(targets), max(bits, prec)
