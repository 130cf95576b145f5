"""Uncertified routes: plain mpmath and float64, written the way a user would by hand.

Both iterate rho^(l+1) = 1 - lam_l (1 - h(rho^(l))) and
ThetaBar^(l+1) = nu_l rho^(l+1) + (1 - nu_l) ThetaBar^(l) kappa0(rho^(l)) directly in
the correlation coordinate (MATH.md's formulas, normalized). They carry no error
bound: the mpmath route is best effort at arbitrary precision, the float64 route is
best effort in double precision, there to show where double precision breaks.

>>> from fractions import Fraction
>>> from verify.kernel.layer_schedule import LayerSchedule
>>> s = LayerSchedule(Fraction(1), Fraction(0), n0=2)
>>> out = mpmath_pair_sweep(mpmath.mpf(0), [2], "ntk", 80, s)
>>> print(mpmath.nstr(out[0][0], 15))   # rho^(2) = h(0) = 1/pi
0.318309886183791
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import mpmath
import numpy as np

from verify.kernel.correlation_map import h_kappa0_float64, h_mpmath, kappa0_mpmath
from verify.kernel.layer_schedule import LayerSchedule


def _mpf_of(q: Fraction) -> mpmath.mpf:
    return mpmath.mpf(q.numerator) / q.denominator


def mpmath_pair_sweep(
    rho1: mpmath.mpf,
    depths: Sequence[int],
    kernel: str,
    prec: int,
    schedule: LayerSchedule,
) -> list[tuple[mpmath.mpf, mpmath.mpf | None]]:
    """Best effort (no error bound): (rho^(L), ThetaBar^(L)) in plain mpmath at ``prec`` bits."""
    want_ntk = kernel == "ntk"
    targets = sorted(set(depths))
    out = {}
    with mpmath.workprec(prec):
        scale = _mpf_of(schedule.first_layer_scale)
        rho = 1 - scale * (1 - mpmath.mpf(rho1))
        theta = rho
        coeffs = schedule.iterate(_mpf_of)
        layer, idx = 1, 0
        while True:
            if layer == targets[idx]:
                out[layer] = (+rho, +theta if want_ntk else None)
                idx += 1
                if idx == len(targets):
                    break
            lam, nu = next(coeffs)
            k0 = kappa0_mpmath(rho) if want_ntk else None
            rho = 1 - lam * (1 - h_mpmath(rho))
            if want_ntk:
                theta = nu * rho + (1 - nu) * theta * k0
            layer += 1
    return [out[d] for d in targets]


def float64_sweep(
    rho1: np.ndarray,
    depths: Sequence[int],
    kernel: str,
    schedule: LayerSchedule,
) -> dict[str, list[np.ndarray]]:
    """Best effort in float64: kernel values for a vector of first-layer correlations.

    ``kernel`` is ``nngp``, ``ntk`` or ``both``; returns ``{name: arrays}`` with one array per
    depth (same shape as ``rho1``): rho^(L) for ``nngp``, ThetaBar^(L) for ``ntk``. The NTK
    recursion carries rho^(l), so ``both`` costs one pass.

    >>> from fractions import Fraction
    >>> out = float64_sweep(np.array([0.0]), [2], "both", LayerSchedule(Fraction(1), Fraction(0), 2))
    >>> round(float(out["nngp"][0][0]), 12), round(float(out["ntk"][0][0]), 12)    # 1/pi and (1/pi + 0)/2
    (0.318309886184, 0.159154943092)
    """
    targets = sorted(set(depths))
    names = ("nngp", "ntk") if kernel == "both" else (kernel,)
    want_ntk = "ntk" in names
    rho = 1.0 - float(schedule.first_layer_scale) * (1.0 - np.asarray(rho1, dtype=np.float64))
    theta = rho.copy()
    coeffs = schedule.iterate(float)
    out: dict[str, list[np.ndarray]] = {name: [] for name in names}
    layer, idx = 1, 0
    with np.errstate(all="ignore"):
        while True:
            if layer == targets[idx]:
                for name in names:
                    out[name].append((theta if name == "ntk" else rho).copy())
                idx += 1
                if idx == len(targets):
                    break
            lam, nu = next(coeffs)
            h, k0 = h_kappa0_float64(rho)
            rho = 1.0 - lam * (1.0 - h)
            if want_ntk:
                theta = nu * rho + (1.0 - nu) * theta * k0
            layer += 1
    return out
