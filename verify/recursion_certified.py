"""Certified depth recursion for one pair of points (Arb balls, python-flint).

The state is the gap e_l = 1 - rho^(l) and, for the NTK, f_l = 1 - ThetaBar^(l)
(see :mod:`verify.layer_schedule`). e is re-centred at every layer: the map is
evaluated at the exact midpoint and the old radius is carried by the proven bound
0 <= g' <= 1, so the radius grows at most additively (the wrapping effect of naive
ball evaluation near rho = 1 never appears). a_l = arccos(rho^(l))/pi is evaluated
on the ball e_l directly; it enters the f-recursion with a coefficient in [0, 1].

>>> from fractions import Fraction
>>> from verify.layer_schedule import LayerSchedule
>>> sched = LayerSchedule(Fraction(1), Fraction(0), n0=2)
>>> out = certified_pair_sweep(PairCorrelation(1, Fraction(0)), [1, 2], "ntk", 100, sched)
>>> [b.one_minus().to_json(10)["mid"] for b, _ in out]    # rho^(1) = 0, rho^(2) = 1/pi
['0.0', '0.3183098861838']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from flint import arb, ctx, fmpq

from .balls import Ball
from .correlation_map import arccos_one_minus_arb, gap_map_arb
from .layer_schedule import LayerSchedule


def _arb_of(q: Fraction) -> arb:
    return arb(fmpq(q.numerator, q.denominator))


@dataclass(frozen=True)
class PairCorrelation:
    """The exact first-layer cosine of a pair: sign(x.x') and t = (x.x')^2 / (|x|^2 |x'|^2).

    Two pairs with equal keys have the same kernel entry at every depth, so this is
    also the deduplication key.
    """

    sign: int
    t: Fraction

    def gap_arb(self) -> arb:
        """Certified enclosure of 1 - cos(x, x') at the current precision, without cancellation."""
        root = _arb_of(self.t).sqrt()
        if self.sign > 0:
            return _arb_of(1 - self.t) / (1 + root)
        return 1 + root

    def cosine_float(self) -> float:
        return self.sign * float(self.t) ** 0.5


def certified_pair_sweep(
    pair: PairCorrelation,
    depths: Sequence[int],
    kernel: str,
    prec: int,
    schedule: LayerSchedule,
) -> list[tuple[Ball, Ball | None]]:
    """Certified enclosures of (1 - rho^(L), 1 - ThetaBar^(L)) at each L of ``depths`` (sorted).

    Runs at ``prec`` bits; the caller checks the radii and raises the precision.
    For ``kernel == "nngp"`` the second ball is None.
    """
    want_ntk = kernel == "ntk"
    targets = sorted(set(depths))
    out: dict[int, tuple[Ball, Ball | None]] = {}
    with ctx.workprec(prec):
        pi = arb.pi()
        e = _arb_of(schedule.first_layer_scale) * pair.gap_arb()
        f = e if want_ntk else None
        coeffs = schedule.iterate(_arb_of)
        default = schedule.is_default
        layer = 1
        idx = 0
        last = targets[-1]
        while True:
            if layer == targets[idx]:
                out[layer] = (Ball.from_arb(e), Ball.from_arb(f) if want_ntk else None)
                idx += 1
                if layer == last:
                    break
            lam, nu = next(coeffs)
            if want_ntk:
                a = arccos_one_minus_arb(e) / pi
            rad = e.rad()
            e = gap_map_arb(e.mid())
            if rad != 0:
                e = e + arb(0, rad)
            if not default:
                e = lam * e
            if want_ntk:
                f = (1 - nu) * (a + f * (1 - a)) + nu * e
            layer += 1
    return [out[d] for d in targets]
