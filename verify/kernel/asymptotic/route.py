"""The asymptotic route: rho^(L) and ThetaBar^(L) at any depth, in time independent of L.

Default model only (sigma_w^2 = 1, sigma_b^2 = 0). For one pair:

1. certified direct iteration (:class:`~verify.kernel.recursion_certified.OrbitWalker`)
   up to the first layer n with ``1 - rho^(n) <= s0^2`` (a few hundred layers);
2. the Abel coordinate (:mod:`verify.derive.abel`): ``A(w_L) = A(w_n) + L - n`` with
   ``w = (1 - rho)^(-1/2)``; ``w_L`` is enclosed by bracketing the truncated series
   ``A_N`` (increasing) with the proven truncation bound ``|A - A_N| <= E_A``
   (:mod:`verify.kernel.asymptotic.bounds`);
3. for the NTK, ``T_L = L ThetaBar^(L)`` from the telescoped sum
   ``T_L A'(rho_L) = T_n A'(rho_n) + B(w_L) - B(w_n)`` with proven bounds on every
   truncation (``A'`` through Cauchy estimates, the sums through integral tests).

Every step is ball arithmetic with outward rounding and every truncation has a
proven bound, so the results are certified enclosures, like the direct route's.
``n`` and the truncation order depend only on the requested digits.

>>> from fractions import Fraction
>>> from verify.kernel.layer_schedule import LayerSchedule
>>> sched = LayerSchedule(Fraction(1), Fraction(0), n0=2)
>>> out, bits, how = asymptotic_pair_sweep(PairCorrelation(1, Fraction(0)), [10**15], "ntk", 15,
...                                        sched)
>>> e, f = out[0]
>>> e.to_json(15)["mid"], f.one_minus().to_json(15)["mid"]        # 1 - rho, ThetaBar
('4.44132198048972107e-29', '0.250000000000013675')
>>> how
'certified enclosure (asymptotic route: Abel series with proven truncation bounds)'
>>> out, _, _ = asymptotic_pair_sweep(PairCorrelation(1, Fraction(0)), [10**6], "nngp", 32, sched)
>>> out[0][0].to_json(32)["mid"]
'4.4411077997448982749670860444798691e-11'
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from flint import arb, ctx

from verify.core.balls import Ball
from verify.core.errors import BoundNotProven, InputError, PrecisionNotReached, PrecisionTooLow
from verify.core.params import KERNELS
from verify.core.precision import bits_for_digits, meets_digits, run_to_digits
from verify.data.dataset import Dataset
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic.abel import AbelCoefficients, arb_abel, eval_a, eval_a_float, eval_a_prime, eval_b
from verify.kernel.asymptotic.bounds import RemainderBounds, bounds_precision, remainder_bounds, weight_factor_analytic
from verify.kernel.asymptotic.family import SEED, KinkFamily
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import OrbitWalker, ntk_diagonal

GUARANTEE = "certified enclosure (asymptotic route: Abel series with proven truncation bounds)"
# The disk |s| <= r of the remainder bounds and the least truncation order. Measured at 30
# digits (switch point s0, and the layers of direct iteration before it from rho^(1) = 0):
# r = 0.7, N = 24: s0 = 0.027, ~250 layers; r = 1.0, N = 40: s0 = 0.114, ~55 layers;
# r = 1.0, N = 60: s0 = 0.24, ~21 layers (one NTK pair: 0.96 ms -> 0.67 ms at 128 bits).
# The direct layers are most of a pair's cost; the series' Gevrey growth (max|delta_A| on the
# circle) limits the gain of a higher order: with TRUNCATION_MARGIN = 3, N = 60 gives s0 = 0.29,
# N = 70 0.314, N = 80 0.314, N = 100 0.314 (and r = 1.15 or 1.3 only larger bounds); N = 70
# saves ~3 layers of N = 60 for ~10 more terms at the switch layer (a pair at depth 1e4, both
# kernels, 0.46 -> 0.43 ms). Its bounds at s0/10 are ~1e-100, which
# tests/test_asymptotic_route.py resolves at 640 bits.
# From 132 digits on the order grows as before (N = digits/2 + 4) and r changes little.
CIRCLE_RADIUS = 1.0
FAMILY_RADII = (1.0, 0.9, 0.8, 0.7)   # a kink family with theta > 0 takes the first where its NTK factor is analytic
CIRCLE_BOXES = 512
MIN_ORDER = 70
SWITCH_START = 0.45              # the first s0 tried; then s0 shrinks by SWITCH_STEP until the bounds suffice
SWITCH_STEP = 0.95
TRUNCATION_MARGIN = 3            # each proven truncation bound below 10^-(digits + TRUNCATION_MARGIN) relative
SWITCH_MARGIN = 0.99             # the float64 guess of the switch layer aims at SWITCH_MARGIN * s0^2 (1% to spare)
MIN_SWITCH_POINT = 1e-6          # s0 below this would need ~7e6 layers of direct iteration
MAX_GUESS_LAYERS = 10**6         # the float64 guess of a kink-family switch layer stops here (the loop goes on)
MAX_SERIES_DIGITS = 1000         # the series' coefficients cost ~digits^3: ~80 s at 1000 digits, ~25 min at 2000


def series_order(digits: int) -> int:
    """Truncation order N of the Abel series used for ``digits`` digits.

    >>> series_order(30), series_order(400)
    (70, 204)
    """
    return max(MIN_ORDER, digits // 2 + 4)


def check_series_digits(digits: int, what: str) -> None:
    """Refuse (PrecisionNotReached, exit code 3) a request beyond MAX_SERIES_DIGITS digits.

    Measured on one core for one pair at depth 10^6: 400 digits 2 s, 600 digits 7 s,
    800 digits 23 s, 1000 digits 80 s: the coefficients of order digits/2, computed at
    about 3.3 * digits bits, cost ~digits^3 multiplications of growing size.
    """
    if digits > MAX_SERIES_DIGITS:
        raise PrecisionNotReached(
            digits, 0, what,
            f"the asymptotic route certifies at most {MAX_SERIES_DIGITS} digits (its cost grows like "
            "digits^3); ask for fewer digits, or use --route certified-direct (its time grows with the depth)")


@lru_cache(maxsize=32)
def circle_radius(family: KinkFamily) -> float:
    """The radius r of the disk of the remainder bounds: CIRCLE_RADIUS, or for a kink family with
    theta > 0 the first of FAMILY_RADII where its NTK factor is proven analytic
    (:func:`~verify.kernel.asymptotic.bounds.weight_factor_analytic`; 0.8 serves every weight <= 2)."""
    if family.theta == 0:
        return CIRCLE_RADIUS
    for r in FAMILY_RADII:
        if weight_factor_analytic(family, r):
            return r
    raise BoundNotProven(f"no disk of FAMILY_RADII makes the NTK factor of {family} analytic")


def family_bounds(order: int, s0: float, family: KinkFamily) -> RemainderBounds:
    """The remainder bounds of ``family``'s series (its disk, its map without offset and scale)."""
    return remainder_bounds(order, s0, circle_radius(family), CIRCLE_BOXES, family=family.series_map)


@lru_cache(maxsize=32)
def switch_point(digits: int, family: KinkFamily = SEED) -> float:
    """s0: the route switches from iteration to series once sqrt(1 - rho) <= s0.

    Chosen so that each proven truncation bound is below 10^-(digits + TRUNCATION_MARGIN) relative
    to the quantity it perturbs (checked again, rigorously, by the enclosures). The
    comparison is in Arb: such targets underflow float64 beyond 300 digits. (The bounds enter the
    enclosures' radii, so the margin only keeps them from spoiling the digits asked for. The
    normalizations of :func:`_truncation_small` are within a factor ~30 of the relative errors they
    cause (a rough count, not a proof: the enclosures' radii, checked against the request, are
    what certify): an error E in A moves w_L by about 2E/A_N' (it enters A(w_n) and the
    inversion), and A_N' = a1 - 1.5 s + O(s^2) is about 1.7 at s0 for the seed (a1 = pi/sqrt 2)
    and 0.4 for the kink family's largest weight 2 (a1 halved, s0 up to 0.45), so 1 - rho^(L) =
    w_L^-2 moves by about 7 rel_a (30 for weight 2); A' enters twice, divided by A_N' (3.5 rel_d,
    15); the sums enter T_L A'(rho_L) ~ L w_L^3 a1/2 and move ThetaBar by about rel_b or less.
    With margin 3 the truncation takes about 3 10^-(digits + 2) relative or less, a thirtieth of
    the radius asked for.
    8 digits before 2026-12-01, then 5, then 3 with order 70: s0 0.239 -> 0.27 -> 0.314 at 30
    digits, 20 -> 17 -> 14 direct layers a pair from rho^(1) = 0.)
    Raises :class:`PrecisionNotReached` if no s0 >= MIN_SWITCH_POINT works.
    """
    order = series_order(digits)
    s0 = SWITCH_START
    while s0 >= MIN_SWITCH_POINT:
        try:
            rb = family_bounds(order, s0, family)
        except BoundNotProven:
            s0 *= SWITCH_STEP
            continue
        if _truncation_small(rb, s0, digits):
            return s0
        s0 *= SWITCH_STEP
    raise PrecisionNotReached(digits, 0, "asymptotic route",
                              f"no switch point s0 >= {MIN_SWITCH_POINT} makes the series' proven "
                              f"truncation bounds small enough at order {order}")


def _truncation_small(rb: RemainderBounds, s0: float, digits: int) -> bool:
    """Whether every truncation bound at w = 1/s0 is below 10^-(digits + TRUNCATION_MARGIN) in relative terms."""
    with ctx.workprec(64):
        w0 = 1 / arb(s0)
        target = arb(10) ** (-(digits + TRUNCATION_MARGIN))
        rel_a = rb.abel_error(w0) / (3 * w0)
        rel_b = (rb.b_sum_error(w0) + rb.phi_sum_error(w0)) / (w0 ** 4)
        rel_d = rb.abel_derivative_error(w0) / 3
        return all(rel.upper() < target for rel in (rel_a, rel_b, rel_d))


def _first_layer_below(first_gap: float, gap2: float, family: KinkFamily = SEED) -> int:
    """Best effort: the first layer whose gap is below ``gap2``, from the first layer's gap e_1
    (float64; only a first guess). For the kink family (whose map need not be increasing) by
    iterating the float64 map, at most ``MAX_GUESS_LAYERS`` layers.

    The layer is 1 + the number of thresholds T_k <= e_1 (:func:`_layer_thresholds`):
    a lookup, the same answer for the same pair wherever it is asked.

    >>> _first_layer_below(1.0, 0.05)    # rho^(1) = 0
    22
    """
    if family == SEED:
        return 1 + bisect.bisect_right(_layer_thresholds(gap2), first_gap)
    weight, layer, e = float(family.weight), 1, first_gap
    while e >= gap2 and layer < MAX_GUESS_LAYERS:
        e, layer = e + weight * (_gap_map_float(e) - e), layer + 1
    return layer


@lru_cache(maxsize=32)
def _layer_thresholds(gap2: float) -> tuple[float, ...]:
    """Best effort: T_0 = gap2 < T_1 < ... with g^k(e) < gap2 exactly when e < T_k (g increasing).

    T_(k+1) = g^-1(T_k) by bisection in float64; the list ends once T_k > g(2) = 1, since
    every gap is at most 2 and so one layer takes it below T_k. At most ~8000 entries
    (the smallest gap2, 1e-12).
    """
    out = [gap2]
    while out[-1] <= 1:
        lo, hi = out[-1], 2.0                      # g(lo) < T_k <= g(hi) = 1
        for _ in range(64):
            mid = (lo + hi) / 2
            if _gap_map_float(mid) < out[-1]:
                lo = mid
            else:
                hi = mid
        out.append(hi)
    return tuple(out)


def _gap_map_float(e: float) -> float:
    """Best effort: g(e) = 1 - h(1 - e) in float64 (its form without cancellation of 1 - e)."""
    return e + ((1 - e) * 2 * math.asin(math.sqrt(e / 2)) - math.sqrt(e * (2 - e))) / math.pi


def _newton_mid(co: AbelCoefficients, target: arb, bits: int) -> tuple[arb, arb]:
    """Best effort: an exact midpoint w with A_N(w) close to ``target``'s midpoint, and the ball
    ``A_N(w) - target`` at it (what the enclosures below start from; nothing here is a proof).

    Newton's method: in float64 to ~50 bits, then at full precision until the next step would be
    below 2^-(bits/2 + 16) relative. The full-precision steps divide by the float64 slope A_N' of
    the last float step (relative error ~2^-50), so each gains ~50 bits: the w returned is within
    about the last step computed, 2^-(bits/2 + 16) relative or less (2^-100 at 128 bits, 2^-150 at
    256). That is all the interval-Newton enclosure of w_L needs (its width is second order in
    it); the NTK's A_N' taken on that ball is wider, and :func:`_series_step` evaluates it again
    where it is.
    """
    t = target.mid()
    guess = _float_newton(co, t)
    slope: float | None = None
    if guess is None:                                       # A beyond float64's range
        a_m = arb(1) / co.alpha
        w = (t + arb(1.5) * (t / a_m).log()) / a_m          # leading-order guess
        w = arb(w.mid())
    else:
        w, slope = guess
    tiny = _power_of_two(-(bits // 2) - 16)
    for _ in range(200):
        residual = eval_a(co, w) - target
        step = (residual / (eval_a_prime(co, w) if slope is None else slope)).mid()
        if abs(step) <= abs(w) * tiny:
            break
        w = (w - step).mid()
    return w, residual


@lru_cache(maxsize=64)
def _power_of_two(exponent: int) -> arb:
    """2^exponent, exactly (an Arb power of two is exact at any precision)."""
    return arb(2) ** exponent


def _bracket_w(co: AbelCoefficients, w: arb, target: arb, err: arb, w_floor: arb, bits: int) -> arb:
    """Certified enclosure of the w >= w_floor with A(w) in ``target``, bracketed around the point w
    (from :func:`_newton_mid`; where :func:`_newton_enclose_w` does not certify).

    Uses |A - A_N| <= err on [w_floor, oo) and that the exact A is nondecreasing there
    (proven from the hypotheses checked by :func:`~verify.kernel.asymptotic.bounds.remainder_bounds`,
    docs/rigour.md section 3): if A(w_lo) < A(w) < A(w_hi) then w_lo < w < w_hi. A
    bracket end is tested only where the error bound holds (w definitely above
    w_floor); otherwise the floor itself, a lower bound of the true w, is used.
    """
    a_m = arb(1) / co.alpha
    lo_need, hi_need = target.lower(), target.upper()
    width = (target.rad() + err.upper()) / a_m * 4 + abs(w) * _power_of_two(4 - bits)
    for _ in range(60):
        w_lo, w_hi = arb((w - width).mid()), arb((w + width).mid())
        at_floor = not w_lo > w_floor
        lo_ok = at_floor or (eval_a(co, w_lo) + err).upper() < lo_need
        hi_ok = w_hi > w_floor and (eval_a(co, w_hi) - err).lower() > hi_need
        if lo_ok and hi_ok:
            low = w_floor if at_floor else w_lo
            return low.union(w_hi)
        width = width * 4
    raise PrecisionTooLow("could not bracket the Abel inverse")


def _newton_enclose_w(co: AbelCoefficients, w: arb, residual: arb, err: arb, w_floor: arb, bits: int
                      ) -> tuple[arb, arb] | None:
    """The enclosure of :func:`_bracket_w` by one interval-Newton step, and A_N' on a ball around it;
    None where the step does not certify (then :func:`_bracket_w` brackets).

    With w an exact point (from :func:`_newton_mid`), v = ``residual`` = A_N(w) - target and
    W = w +- delta a ball definitely above w_floor (so inside [w0, oo), where |A - A_N| <= err and
    A_N' > 0 are proven, docs/rigour.md section 3): N = w - (v + [-err, err]) / A_N'(W). Let w* be
    the exact solution (A(w*) in ``target``, w* >= w_floor) and tau = A_N(w*), inside target +- err.
    The function phi(x) = A_N(x) - tau is increasing on [w0, oo) with phi(w*) = 0, and N contains
    its interval Newton image over W (v contains A_N(w) - tau up to the err term); if N lies inside
    W, phi has a zero in W (Moore's interval Newton theorem), hence w* in W (the zero on [w0, oo) is
    unique), hence w* in N by the mean value theorem. A_N'(W) then also encloses A_N'(w*).
    Costs one evaluation of A_N' where the bracket costs two of A_N.
    """
    spread = residual + arb(0, err.upper())
    slope = co.float_constants[0]                            # a1 ~ A_N' (a guess of the ball's size only)
    delta = abs(spread).upper() * (4 / slope) + abs(w) * _power_of_two(4 - bits)
    for _ in range(4):
        ball = arb(w, delta.upper())
        if not ball.lower() > w_floor.upper():
            return None
        derivative = eval_a_prime(co, ball)
        if derivative > 0:
            image = w - spread / derivative
            if image.lower() > ball.lower() and image.upper() < ball.upper():
                return image, derivative
        delta = delta * 4
    return None


@dataclass(frozen=True)
class SeriesStart:
    """What the series needs from the switch layer n of one pair: computed once, used at every L > n.

    ``a_n`` encloses A(w_n) (so ``tau = a_n - n`` and A(w_L) = a_n + L - n) and, for the
    NTK, ``k_const`` encloses ``K = T_n A'(rho_n) - B(w_n)`` (so T_L A'(rho_L) = K + B(w_L)):
    both depend on the pair only, so a pair at many depths, or at any depth, costs one
    inversion of A_N and two series evaluations a depth.
    """

    n: int
    w_n: arb
    err_a: arb                # |A - A_N| <= err_a on [w_n, oo)
    a_n: arb
    d_err: arb | None         # +- |A' - A_N'| on [w_n, oo) (NTK only)
    k_const: arb | None


@dataclass(frozen=True)
class FloorBounds:
    """The truncation bounds of :class:`RemainderBounds` at the floor w0 = 1/s0, as exact upper bounds.

    Each bound is a decreasing function of w valid on [w, oo) (docs/rigour.md, section 3),
    and every pair switches at a w_n >= w0 (certified: 1 - rho^(n) <= s0^2), so the bound at
    w0 holds on [w_n, oo) for every pair: computed once per (order, s0) instead of once
    a pair. :func:`switch_point` chose s0 so that these very values are below
    10^-(digits + TRUNCATION_MARGIN) relative to what they perturb.
    """

    err_a: arb                # |A - A_N| on [w0, oo)
    d_err: arb                # [-1, 1] |A' - A_N'| on [w0, oo)
    sum_err: arb              # [-1, 1] (|sum delta_B| + |sum (phi - phi_N)|) along orbits from w >= w0


# by id of the RemainderBounds, which the entry keeps alive (so the id is never reused)
_FLOOR_BOUNDS: dict[int, tuple[RemainderBounds, FloorBounds]] = {}


def floor_bounds(rb: RemainderBounds) -> FloorBounds:
    """The :class:`FloorBounds` of ``rb`` (ball arithmetic at 64 bits; only the upper ends are kept)."""
    if id(rb) not in _FLOOR_BOUNDS:
        with ctx.workprec(64):
            w0 = 1 / arb(rb.s0)              # a ball containing 1/s0: each bound's upper end covers it
            sums = rb.b_sum_error(w0) + rb.phi_sum_error(w0)
            _FLOOR_BOUNDS[id(rb)] = (rb, FloorBounds(arb(rb.abel_error(w0).upper()),
                                                     arb(0, rb.abel_derivative_error(w0).upper()),
                                                     arb(0, sums.upper())))
    return _FLOOR_BOUNDS[id(rb)][1]


def series_start(co: AbelCoefficients, rb: RemainderBounds, e_n: arb, f_n: arb | None, n: int,
                 family: KinkFamily = SEED) -> SeriesStart:
    """The :class:`SeriesStart` of a pair from its balls at layer n (call inside the working precision).

    Needs 1 - rho^(n) <= s0^2 (w_n >= w0 = 1/s0): the truncation bounds are those at w0
    (:class:`FloorBounds`), valid on [w_n, oo).
    """
    fb = floor_bounds(rb)
    w_n = e_n.rsqrt()
    a_n = eval_a(co, w_n) + arb(0, fb.err_a)
    if f_n is None:
        return SeriesStart(n, w_n, fb.err_a, a_n, None, None)
    t_n = ntk_diagonal(family, n) * (1 - f_n)                                      # T_n = T_n(x,x) ThetaBar^(n)
    start = t_n * w_n ** 3 / 2 * (eval_a_prime(co, w_n) + fb.d_err)          # T_n A'(rho_n)
    return SeriesStart(n, w_n, fb.err_a, a_n, fb.d_err, start - eval_b(co, w_n) + fb.sum_err)


def _float_newton(co: AbelCoefficients, target: arb) -> tuple[arb, float] | None:
    """Best effort: w with A_N(w) = target to about 50 bits, by Newton's method in float64, and the
    float64 slope A_N' of the last step (None if out of range).

    It stops after a step below 2^-50 relative, so that slope was taken within ~2^-50 of the
    solution: the full-precision Newton steps divide by it, and each then gains ~50 bits (a slope
    from an earlier, coarser step would gain only ~25, and leave the interval-Newton ball of
    :func:`_newton_enclose_w`, hence its A_N', some 10^5 times wider)."""
    t = float(target)
    if not 10 < t < 1e300:
        return None
    a1 = co.float_constants[0]
    c1 = co.c_floats[0][0]
    # u = a1 w solves u = t + (3/2) log u - c1 a1/u + O(1/u^2) (A = a1 w + b log(a1 w) + c1/w + ..., b = -3/2
    # for the seed and every kink-family member): two fixed-point sweeps leave ~1e-9 relative for Newton
    u = t + 1.5 * math.log(t)
    for _ in range(2):
        u = t + 1.5 * math.log(u) - c1 * a1 / u
    w = u / a1
    for _ in range(60):
        value, slope = eval_a_float(co, w)
        step = (value - t) / slope
        w -= step
        if not math.isfinite(w) or w <= 0:
            return None
        if abs(step) <= w * 2.0**-50:
            return arb(w), slope
    return None


def _series_step(co: AbelCoefficients, start: SeriesStart, depth: int, bits: int,
                 family: KinkFamily = SEED) -> tuple[arb, arb | None]:
    """Certified (1 - rho^(L), 1 - ThetaBar^(L)) at L = depth > n from the pair's :class:`SeriesStart`."""
    target = start.a_n + (depth - start.n)              # A(w_L) = A(w_n) + L - n
    w, residual = _newton_mid(co, target, bits)
    found = _newton_enclose_w(co, w, residual, start.err_a, start.w_n, bits)
    if found is None:
        w_l, slope = _bracket_w(co, w, target, start.err_a, start.w_n, bits), None
    else:
        w_l, slope = found                              # slope encloses A_N'(w_L)
    e_l = 1 / (w_l * w_l)
    if start.k_const is None or start.d_err is None:
        return e_l, None
    if slope is None or not slope.rad() <= abs(slope) * _power_of_two(16 - bits):
        slope = eval_a_prime(co, w_l)                   # the ball of the Newton step was wide (high bits)
    a_prime_l = w_l ** 3 / 2 * (slope + start.d_err)      # A'(rho_L)
    f_l = 1 - (start.k_const + eval_b(co, w_l)) / a_prime_l / ntk_diagonal(family, depth)
    return e_l, f_l


def _switch_layer(pair: PairCorrelation, depths: Sequence[int], kernel: str, bits: int, s0: float,
                  schedule: LayerSchedule, family: KinkFamily = SEED, stop_at_depths: bool = False
                  ) -> tuple[int, dict[int, tuple[Ball, Ball | None]], arb, arb | None]:
    """Direct iteration up to the switch layer n (certified 1 - rho^(n) <= s0^2, so w_n >= 1/s0).

    Returns n, the balls at every depth <= n, and (1 - rho^(n), 1 - ThetaBar^(n)) as
    Arb balls (None for the NNGP). Call inside ``ctx.workprec(bits)``. With ``stop_at_depths``
    it stops once every depth is reached (a small weight may switch only after 10^5 layers).
    """
    walker = OrbitWalker(pair, kernel, bits, schedule, family)
    n = _first_layer_below(float(walker.state.e), SWITCH_MARGIN * s0 * s0, family)
    bound = arb(s0) * arb(s0)
    by_depth: dict[int, tuple[Ball, Ball | None]] = {}
    pending = sorted(set(depths))
    while True:
        while pending and pending[0] <= n:
            walker.advance_to(pending[0])
            by_depth[pending[0]] = walker.state.balls(pending[0])
            pending.pop(0)
        if stop_at_depths and not pending:
            break
        walker.advance_to(n)
        if walker.state.e.upper() <= bound:                              # w_n >= 1/s0
            break
        n += max(1, n // 8)
    d_n = walker.state.d                                               # T_n(x,x) (1 - ThetaBar^(n))
    return n, by_depth, walker.state.e, (d_n / ntk_diagonal(family, n) if d_n is not None else None)


def _sweep_at(pair: PairCorrelation, depths: Sequence[int], kernel: str, bits: int,
              order: int, s0: float, schedule: LayerSchedule, family: KinkFamily = SEED
              ) -> list[tuple[Ball, Ball | None]]:
    want_ntk = kernel == "ntk"
    out = []
    with ctx.workprec(bits):
        n, by_depth, e_n, f_n = _switch_layer(pair, depths, kernel, bits, s0, schedule, family, True)
        if len(by_depth) == len(depths):                      # every depth before the switch
            return [by_depth[d] for d in depths]
        if e_n.is_exact() and e_n.is_zero():                 # identical points: rho = ThetaBar = 1
            exact = (Ball.exact(0), Ball.exact(0) if want_ntk else None)
            return [by_depth.get(d, exact) for d in depths]
        co = series_coefficients(order, bits, family)
        start = series_start(co, family_bounds(order, s0, family), e_n, f_n, n, family)
        for d in depths:
            if d in by_depth:
                out.append(by_depth[d])
                continue
            e_l, f_l = _series_step(co, start, d, bits, family)
            out.append((Ball.from_arb(e_l), Ball.from_arb(f_l) if f_l is not None else None))
    return out


def series_coefficients(order: int, bits: int, family: KinkFamily = SEED) -> AbelCoefficients:
    """The series' coefficients for a working precision of ``bits``.

    At least at :func:`~verify.kernel.asymptotic.bounds.bounds_precision`: the recurrences
    cancel about 2.3 bits an order (at order 60 and 140 bits only ~14 bits of the last
    coefficients would be left), and one set serves every working precision below it.
    """
    core = family.series_map
    return arb_abel(order, max(bits, bounds_precision(order, core)), core)


def prepare_series(digits: int, family: KinkFamily = SEED) -> None:
    """Compute the per-process constants of the route for ``digits`` now (switch point,
    bounds, coefficients), e.g. before forking workers that then share them. Beyond
    MAX_SERIES_DIGITS it does nothing (each pair then refuses with its own message)."""
    if digits > MAX_SERIES_DIGITS:
        return
    order = series_order(digits)
    family_bounds(order, switch_point(digits, family.series_map), family)
    series_coefficients(order, _start_bits(digits), family)


def _start_bits(digits: int) -> int:
    """The first working precision of a pair: the digits asked for and at least 24 guard bits,
    rounded up to whole 64-bit words (Arb's cost steps at word boundaries: 128 bits at 30
    digits cost about 13% less than 140; a pair that needs more gets it from run_to_digits).

    >>> _start_bits(30), _start_bits(50)
    (128, 192)
    """
    return 64 * math.ceil((bits_for_digits(digits) + 24) / 64)


def asymptotic_pair_sweep(
    pair: PairCorrelation,
    depths: Sequence[int],
    kernel: str,
    digits: int,
    schedule: LayerSchedule,
    family: KinkFamily = SEED,
) -> tuple[list[tuple[Ball, Ball | None]], int, str]:
    """Certified enclosure of (1 - rho^(L), 1 - ThetaBar^(L)) at every L of ``depths``.

    Both gaps are accurate to ``digits`` relative digits (the NTK gap tends to 3/4).
    Returns ``(balls, working_precision_bits, guarantee)``; the time does not depend
    on L. Networks without a bias only (their normalized kernels are the default model's, any
    sigma_w^2: :mod:`verify.kernel.layer_schedule`); with a bias it raises InputError. ``family``:
    a member of the seed's kink family (:mod:`.family`; ThetaBar normalized by its T_L(x, x)).
    """
    if not schedule.is_default:
        raise InputError("the asymptotic route is derived for networks without a bias "
                         "(sigma_b^2 = 0) only; use the certified route")
    if kernel not in KERNELS:
        raise InputError(f"unknown kernel {kernel!r}")
    targets = sorted(set(int(d) for d in depths))
    if not targets or targets[0] < 1:
        raise InputError("depths must be integers >= 1")
    check_series_digits(digits, f"{kernel} entry (asymptotic route)")
    order = series_order(digits)
    s0 = switch_point(digits, family.series_map)
    start = _start_bits(digits)

    def compute(bits: int) -> list[tuple[Ball, Ball | None]]:
        return _sweep_at(pair, targets, kernel, bits, order, s0, schedule, family)

    def accurate(out: list[tuple[Ball, Ball | None]]) -> bool:
        return all(meets_digits(b, digits, relative=True) for pair_out in out for b in pair_out if b is not None)

    res, bits = run_to_digits(compute, accurate, start, digits=digits,
                              what=f"{kernel} entry (asymptotic route)")
    by = dict(zip(targets, res, strict=True))
    return [by[int(d)] for d in depths], bits, GUARANTEE


def asymptotic_gap_matrices(data: Dataset, depths: Sequence[int], kernel: str, digits: int
                            ) -> tuple[list[list[list[Ball]]], int, str]:
    """Certified enclosures of the gap matrices ``1 - K^(L)`` (normalized kernel) at each depth.

    One matrix per depth (diagonal exactly 0); every off-diagonal gap is accurate to
    ``digits`` relative digits. Returns ``(matrices, max working bits, guarantee)``.
    Pairs with equal first-layer correlation are computed once.
    """
    sched = LayerSchedule(Fraction(1), Fraction(0), data.n0)
    keys = {(i, j): data.pair(i, j) for i in range(data.n) for j in range(i + 1, data.n)}
    results, bits = {}, 0
    for pair in sorted(set(keys.values()), key=lambda p: (p.sign, p.t)):
        out, used, _ = asymptotic_pair_sweep(pair, depths, kernel, digits, sched)
        results[pair] = [e if f is None else f for e, f in out]      # f is None exactly for the NNGP
        bits = max(bits, used)
    zero = Ball.exact(0)
    mats = []
    for k in range(len(depths)):
        mat = [[zero] * data.n for _ in range(data.n)]
        for (i, j), pair in keys.items():
            mat[i][j] = mat[j][i] = results[pair][k]
        mats.append(mat)
    return mats, bits, GUARANTEE


def abel_constants(pair: PairCorrelation, digits: int = 30) -> tuple[arb, arb, int]:
    """Certified enclosures of the pair's constants (tau, K) of the depth laws.

    ``tau = A(rho^(1)) - 1`` so that ``A(rho^(L)) = L + tau``, and
    ``K = lim_L (T_L A'(rho^(L)) - B_N(w_L))`` (see :mod:`verify.derive.asymptotics`).
    Also returns the layer n at which the series took over.
    """
    check_series_digits(digits, "Abel constants")
    order = series_order(digits)
    s0 = switch_point(digits)
    bits = _start_bits(digits)
    rb = family_bounds(order, s0, SEED)
    with ctx.workprec(bits):
        n, _, e_n, f_n = _switch_layer(pair, [], "ntk", bits, s0, LayerSchedule(Fraction(1), Fraction(0), 2))
        start = series_start(series_coefficients(order, bits), rb, e_n, f_n, n)
        assert start.k_const is not None  # the NTK gap was given
        return start.a_n - n, start.k_const, n
