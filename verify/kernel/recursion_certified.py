"""Certified depth recursion for one pair of points (Arb balls, python-flint).

The state is the gap e_l = 1 - rho^(l) and, for the NTK, f_l = 1 - ThetaBar^(l)
(see :mod:`verify.kernel.layer_schedule`). e is re-centred at every layer: the map is
evaluated at the exact midpoint and the old radius is carried by the proven bound
0 <= g' <= 1, so the radius grows at most additively (the wrapping effect of naive
ball evaluation near rho = 1 never appears). a_l = arccos(rho^(l))/pi is evaluated
on the ball e_l directly; it enters the f-recursion with a coefficient in [0, 1].
The members of the seed's kink family (:mod:`verify.kernel.asymptotic.family`: map
(1 - w) rho + w h(rho), 0 < w <= 2) step the same way: their g' = 1 - w a lies in [-1, 1], so
the old radius is still carried unchanged; their NTK state is D_l = T_l(x,x) f_l.

>>> from fractions import Fraction
>>> from verify.kernel.layer_schedule import LayerSchedule
>>> sched = LayerSchedule(Fraction(1), Fraction(0), n0=2)
>>> out = certified_pair_sweep(PairCorrelation(1, Fraction(0)), [1, 2], "ntk", 100, sched)
>>> [b.one_minus().to_json(10)["mid"] for b, _ in out]    # rho^(1) = 0, rho^(2) = 1/pi
['0.0', '0.3183098861838']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from flint import arb, ctx

from verify.core.balls import Ball, arb_of_fraction
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic.family import SEED, KinkFamily
from verify.kernel.correlation_map import arccos_one_minus_arb, gap_map_arb
from verify.kernel.layer_schedule import LayerSchedule


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
    targets = sorted(set(depths))
    out: dict[int, tuple[Ball, Ball | None]] = {}
    with ctx.workprec(prec):
        walker = OrbitWalker(pair, kernel, prec, schedule)
        for target in targets:
            walker.advance_to(target)
            out[target] = walker.state.balls(target)
    return [out[d] for d in targets]


class OrbitWalker:
    """The certified state of one pair, advanced layer by layer (call inside ``ctx.workprec(prec)``)."""

    def __init__(self, pair: PairCorrelation, kernel: str, prec: int, schedule: LayerSchedule,
                 family: KinkFamily = SEED) -> None:
        self.default = schedule.is_default
        if family != SEED and not self.default:
            raise ValueError("a kink-family map needs the default schedule (no bias)")
        # the default model: e_1 = 1 - cos (scale 1) and coefficients (1, 1/(l+1)) that step() does not read
        e = pair.gap_arb() if self.default else arb_of_fraction(schedule.first_layer_scale) * pair.gap_arb()
        self.state = _GapState(e, kernel == "ntk", self.default, family)
        self.coeffs = None if self.default else schedule.iterate(arb_of_fraction)
        self.fast = self.default and family == SEED and prec <= FAST_PATH_MAX_BITS
        self.layer = 1

    def advance_to(self, target: int) -> None:
        """Advance to layer ``target`` (>= the current layer)."""
        state = self.state
        while self.layer < target:
            if self.fast and state.e.mid() < 2:
                self.layer = _run_default_fast(state, self.layer, target)
                if self.layer == target:
                    break
            state.step(self.layer, None if self.coeffs is None else next(self.coeffs))
            self.layer += 1

    def snapshot(self) -> tuple[arb, arb | None, int]:
        return (self.state.e, self.state.d, self.layer)

    def restore(self, snap: tuple[arb, arb | None, int]) -> None:
        """Go back to a snapshot (default model only: its coefficients do not depend on history)."""
        if not self.default:
            raise ValueError("restore needs the default model")
        self.state.e, self.state.d, self.layer = snap


FAST_PATH_MAX_BITS = 800
FAST_PATH_MIN_GAP = 2.0**-150   # gaps (and so radii >= 2^-(800+150)) stay far above float64 underflow
FAST_PATH_MAX_GAP = 2 - 2.0**-20  # 2 - m stays above 2^-20: its float64 value then has a relative error < 2^-32
_UP = 1 + 2.0**-48            # covers the rounding of a few float64 operations
_K = 0.3979 * _UP             # >= 1.25 / pi
_S_DOWN = 1 - 2.0**-30         # float64 sqrt(m (2 - m)) times this is below the exact s(m)


def _run_default_fast(state: _GapState, layer: int, target: int) -> int:
    """Advance the default model from ``layer`` towards ``target``; return the layer reached.

    The midpoint m_l is iterated with Arb (each step's rounding is a fresh radius);
    the radii are carried as float64 upper bounds, by proven bounds instead of ball
    arithmetic (radii of 2^-800 and above are far from float64 underflow):

    * e_{l+1} in g(m_l) +- (rad g(m_l) + R_l), since 0 <= g' <= 1;
    * |a(E) - a(m_l)| <= da_l = 1.25 R_l / (pi s(m_l)) for E in m_l +- R_l while
      R_l <= m_l / 4 (see :meth:`_GapState._arccos_over_pi`) and R_l <= (2 - m_l)/4 (the same
      argument after E -> 2 - E, which leaves s(E) = sqrt(E (2 - E)) unchanged: a first-layer gap
      in (1, 2), a negative cosine, runs here too);
    * d_{l+1} = d_l (1 - a_l) + l a_l + e_{l+1} with d_l in [0, l], 0 <= 1 - a_l <= 1, so an
      error Sd_l in d_l, da_l in a_l and R_l in e_{l+1} give
      Sd_{l+1} <= Sd_l (1 + da_l) + l da_l + R_l. The loop carries u_l = l - d_l instead:
      u_{l+1} = u_l (1 - a_l) + 1 - e_{l+1} (the same recursion, with no integer operand; u has
      the same error Sd_l), and g as e_l (1 - a_l) + a_l - s_l/pi, sharing 1 - a_l;
    * s(m_l) = sqrt(m_l (2 - m_l)) is bounded below in float64: m_l is exact and fm = float(m_l)
      within 2^-53 relative (so 2^-52 absolute) of it; with 2 - fm >= 2^-20 the value 2 - fm
      (exact for fm >= 1 by Sterbenz's lemma, correctly rounded below) is within 2^-32 relative
      of 2 - m_l, so sqrt(fm (2 - fm)), three more correctly rounded operations, is within
      2^-32 relative of s(m_l), and that value times (1 - 2^-30) is at most s(m_l).

    Stops early (returning the layer) when m_l > 2 - 2^-20, m_l < 2^-150 or
    R_l > min(m_l, 2 - m_l) / 4, where the general ball step takes over (radii then never reach float64's
    subnormal range, where the rounding bound above would not hold).
    """
    want_ntk = state.want_ntk
    inv_pi = state.inv_pi
    two_over_pi = 2 * inv_pi
    e = state.e
    m = e.mid()
    big_r = float(e.rad()) * _UP
    d = state.d
    sd = 0.0
    u = None                                            # u_l = l - d_l
    if want_ntk:
        assert d is not None  # _GapState keeps d whenever want_ntk
        sd = float(d.rad()) * _UP
        u = layer - d.mid()
    one, two = arb(1), arb(2)
    while layer < target:
        m_float = float(m)
        if not FAST_PATH_MIN_GAP <= m_float <= FAST_PATH_MAX_GAP or (
                big_r > 0 and 4 * big_r > min(m_float, 2 - m_float)):
            break
        # half angle ha = asin(sqrt(m/2)) = atan(tau) and s = sqrt(m (2 - m)) = (2 - m) tau, with
        # tau = sqrt(m / (2 - m)) (0 < m < 2): one sqrt and one atan instead of two sqrt and an asin
        q = two - m
        tau = (m / q).sqrt()
        a = tau.atan() * two_over_pi                    # a = arccos(1 - m)/pi = 2 ha/pi
        b = one - a
        g = m * b + a - q * tau * inv_pi                # g = m + ((1 - m) 2 ha - s)/pi
        if want_ntk:
            if big_r > 0:
                s_low = math.sqrt(m_float * (2 - m_float)) * _S_DOWN       # <= s(m), see above
                if not s_low > 0:
                    break
                da = _K * big_r / s_low * _UP
                sd = (sd * (1 + da) + layer * da + big_r) * _UP
            assert u is not None  # as above: set whenever want_ntk
            u = u * b + (one - g)                       # l + 1 - d_{l+1}, d_{l+1} = d (1 - a) + l a + g
        big_r = (big_r + float(g.rad()) * _UP) * _UP
        m = g.mid()
        layer += 1
    state.e = arb(m, big_r) if big_r > 0 else m
    if want_ntk:
        assert u is not None  # as above
        d = layer - u
        state.d = d + arb(0, sd) if sd > 0 else d
    return layer


class _GapState:
    """e_l (and d_l = l (1 - ThetaBar^(l)) or f_l = 1 - ThetaBar^(l)) as balls; one layer per step.

    Hot loop: about a dozen Arb operations per layer. ``e`` is re-centred on its
    midpoint every layer; ``a_l = arccos(1 - e_l)/pi`` is enclosed from its value at
    the midpoint plus the input radius times a proven bound on its derivative.
    """

    def __init__(self, e: arb, want_ntk: bool, default: bool, family: KinkFamily = SEED) -> None:
        self.e = e
        self.default_form = default
        self.want_ntk = want_ntk
        self.pi = arb.pi()
        self.inv_pi = 1 / self.pi
        # d_1 = 1 * f_1 = e_1 (D_1 = U_1(x,x) f_1 = offset e_1 for the kink family)
        self.d = (e if family is SEED or family.offset == 1 else arb_of_fraction(family.offset) * e) \
            if want_ntk else None
        self.family = family
        seed = family == SEED
        self.weight = None if seed else arb_of_fraction(family.weight)
        self.theta = None if seed else arb_of_fraction(family.theta)

    def step(self, layer: int, general: tuple[arb, arb] | None) -> None:
        e = self.e
        mid, rad = e.mid(), e.rad()
        if mid <= 1:
            half_angle = (mid * 0.5).sqrt().asin()          # arccos(1 - m) = 2 * half_angle
            s = (mid * (2 - mid)).sqrt()
            g = mid + ((1 - mid) * (2 * half_angle) - s) * self.inv_pi
        else:
            half_angle = None
            g = gap_map_arb(mid)
        if self.weight is not None:               # the kink family: mid + w (g_seed(mid) - mid)
            g = mid + self.weight * (g - mid)
        if rad != 0:
            g = g + arb(0, rad)
        if self.want_ntk:
            a = self._arccos_over_pi(e, mid, rad, half_angle, s if half_angle is not None else None)
        if self.weight is not None and self.want_ntk:
            # D_l = T_l(x,x) f_l: D_{l+1} = w a T_l(x,x) + (1 - w a) D_l + e_{l+1} - theta e_l
            assert self.d is not None  # set whenever want_ntk
            wa = self.weight * a
            assert self.theta is not None  # set with the weight
            self.d = self.d * (1 - wa) + wa * ntk_diagonal(self.family, layer) + g - self.theta * e
        elif general is not None:
            lam, nu = general
            g = lam * g
            if self.want_ntk:
                assert self.d is not None  # set whenever want_ntk
                # f_{l+1} = (1 - nu)(a + f (1 - a)) + nu e_{l+1}
                self.d = (1 - nu) * (a + self.d * (1 - a)) + nu * g
        elif self.want_ntk:
            # d_{l+1} = l a_l + d_l (1 - a_l) + e_{l+1}   (d_l = l (1 - ThetaBar^(l)))
            assert self.d is not None  # set whenever want_ntk
            self.d = self.d * (1 - a) + a * layer + g
        self.e = g

    def _arccos_over_pi(self, e: arb, mid: arb, rad: arb, half_angle: arb | None,
                        s: arb | None) -> arb:
        """Enclosure of arccos(1 - E)/pi for all E in the ball e.

        On (0, 1] the derivative of arccos(1 - E) is 1/sqrt(E (2 - E)), decreasing in E;
        if rad <= mid/4 then sqrt((m - r)(2 - m + r)) >= sqrt(3/4) s(m) > 0.8 s(m), so the
        value moves by at most 1.25 rad / s(m) over the ball.
        """
        if half_angle is None or s is None or (rad != 0 and 4 * rad > mid) or (rad != 0 and not s > 0):
            return arccos_one_minus_arb(e) * self.inv_pi
        angle = 2 * half_angle
        if rad != 0:
            angle = angle + arb(0, (1.25 * rad / s).upper())
        return angle * self.inv_pi

    def balls(self, layer: int) -> tuple[Ball, Ball | None]:
        e_ball = Ball.from_arb(self.e)
        if not self.want_ntk:
            return e_ball, None
        assert self.d is not None  # set whenever want_ntk
        return e_ball, Ball.from_arb(self.d / ntk_diagonal(self.family, layer) if self.default_form else self.d)


def ntk_diagonal(family: KinkFamily, layer: int) -> arb | int:
    """``T_l(x, x)``, the normalizer of ThetaBar: ``layer`` itself for the seed, else an exact ball."""
    return layer if family == SEED else arb_of_fraction(family.ntk_diagonal(layer))
