"""Kernel-matrix tasks of a :class:`~verify.core.model.Model` outside the seed family, one distinct pair a task.

:mod:`verify.kernel.routes` serves the seed family (ReLU MLPs in NTK parameterization) with its
own recursion and, for the default model, the depth-independent asymptotic series. Every other
model (activation, ResNet, standard parameterization) is computed here by direct iteration of
:mod:`verify.kernel.model_recursion` (or read off an invariant box of the layer map where one
traps the orbit: :mod:`verify.kernel.invariant_box`): :func:`certified_model_pair` (Arb balls),
:func:`mpmath_model_pair` (plain mpmath, best effort) and :func:`model_diagonals` (the raw
diagonal Sigma^(L)(x,x) / Theta^(L)(x,x), shared by every point on the sphere).

A task returns, per depth, one ``(entry, 1 - entry)`` pair per kernel asked for.

>>> from fractions import Fraction
>>> from verify.core.model import Model
>>> from verify.data.pairs import PairCorrelation
>>> rows, bits, methods = certified_model_pair(PairCorrelation(1, Fraction(1, 4)), [2], ("nngp",), 20,
...                                   Model.parse(activation="erf"), 2, False)
>>> rows[0][0][0].to_json(20)["mid"]    # n0 = 2, cos 1/2: (2/pi) asin(1/4) / ((2/pi) asin(1/2)) = (6/pi) asin(1/4)
'0.48258373953099746262570'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import mpmath

from verify.core.balls import Ball
from verify.core.depths import depth_text
from verify.core.errors import PrecisionNotReached
from verify.core.model import Model
from verify.core.precision import MAX_DIGITS, meets_digits
from verify.data.pairs import PairCorrelation
from verify.kernel.model_recursion import certified_model_sweep, mpmath_model_sweep

MODEL_METHODS = ("certified direct iteration, or at depths beyond a certified trapping box of the layer map "
                 "its enclosure (the invariant-box route: depth-independent; see each result's method)")


def _missing_digits(gap: Ball, digits: int, relative_gap: bool) -> float:
    """Digits the gap ball (and its entry 1 - gap) still lack: 0 when both meet the request.

    The entry must have ``digits`` correct digits (relative to max(1, |entry|)); with
    ``relative_gap`` the gap must also have ``digits`` relative digits, which is how the linear
    algebra assembles kappa = J - G without cancellation.
    """
    entry = gap.one_minus()
    if meets_digits(gap, digits, relative=relative_gap) and meets_digits(entry, digits):
        return 0.0
    have = min(gap.relative_digits() if relative_gap else gap.correct_digits(), entry.correct_digits())
    return max(1.0, digits - have)


def certified_model_pair(pair: PairCorrelation, depths: Sequence[int], names: Sequence[str], digits: int,
                         model: Model, n0: int, relative_gap: bool, box: bool = True
                         ) -> tuple[list[tuple[tuple[Ball, Ball], ...]], int, list[str]]:
    """Certified ``(entry, 1 - entry)`` balls of one pair for each kernel of ``names`` at every depth.

    :func:`~verify.kernel.model_recursion.certified_model_sweep` certifies the gaps to absolute
    digits; where an entry or (with ``relative_gap``) a small gap still misses the request, the
    sweep is asked again for as many more digits as are missing (plus one), up to ``MAX_DIGITS``.
    ``box=False`` keeps to direct iteration (the route ``certified-direct``). Returns the rows, the
    working precision of the last sweep and the method of each depth
    (:meth:`~verify.kernel.model_recursion.ModelSweep.method`).
    """
    request = digits
    while True:
        sweep = certified_model_sweep(model, [pair], depths, n0, request, box=box)
        gaps = [tuple(getattr(sweep.at(d), f"{name}_gap")[0] for name in names) for d in depths]
        missing = max(_missing_digits(g, digits, relative_gap) for row in gaps for g in row)
        if missing == 0:
            rows = [tuple((g.one_minus(), g) for g in row) for row in gaps]
            return rows, sweep.working_precision_bits or 0, [sweep.method(d) for d in depths]
        request += math.ceil(missing) + 1
        if request > MAX_DIGITS:
            raise PrecisionNotReached(digits, sweep.working_precision_bits or 0,
                                      f"kernels of {model.name} at depth {depth_text(max(depths))}",
                                      f"the kernel would be needed to more than {MAX_DIGITS} digits")


def mpmath_model_pair(pair: PairCorrelation, depths: Sequence[int], names: Sequence[str], bits: int,
                      model: Model, n0: int) -> tuple[list[tuple[tuple[Any, Any], ...]], int]:
    """Best effort: ``(entry, 1 - entry)`` in plain mpmath at ``bits`` bits (no error bound)."""
    sweep = mpmath_model_sweep(model, [pair], depths, n0, bits)
    rows = [tuple((getattr(sweep.at(d), name)[0], getattr(sweep.at(d), f"{name}_gap")[0]) for name in names)
            for d in depths]
    return rows, bits


def model_diagonals(model: Model, depths: Sequence[int], n0: int, route: str, digits: int,
                    bits: int) -> dict[tuple[int, str], Ball | mpmath.mpf]:
    """The raw diagonal ``{(depth, kernel): Sigma^(L)(x,x) or Theta^(L)(x,x)}`` of points on the sphere.

    Certified balls with ``digits`` relative digits on ``route="certified"``, mpmath numbers at
    ``bits`` bits (best effort) on ``route="mpmath"``.
    """
    if route == "certified":
        sweep = certified_model_sweep(model, [], depths, n0, digits)
    else:
        sweep = mpmath_model_sweep(model, [], depths, n0, bits)
    out: dict[tuple[int, str], Ball | mpmath.mpf] = {}
    for d in depths:
        r = sweep.at(d)
        out[(d, "nngp")], out[(d, "ntk")] = r.nngp_diag, r.ntk_diag
    return out
