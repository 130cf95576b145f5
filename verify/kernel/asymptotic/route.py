"""The asymptotic route: rho^(L) and ThetaBar^(L) at any depth, in time independent of L.

Default model only (sigma_w^2 = 1, sigma_b^2 = 0). For one pair:

1. certified direct iteration (:func:`~verify.kernel.recursion_certified.certified_pair_sweep`)
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

from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache

from flint import arb, ctx

from verify.core.balls import Ball
from verify.core.errors import BoundNotProven, InputError, PrecisionNotReached, PrecisionTooLow
from verify.core.params import KERNELS
from verify.core.precision import bits_for_digits, run_to_digits
from verify.data.dataset import Dataset
from verify.data.pairs import PairCorrelation
from verify.kernel.asymptotic.abel import AbelCoefficients, arb_abel, eval_a, eval_a_prime, eval_b
from verify.kernel.asymptotic.bounds import RemainderBounds, remainder_bounds
from verify.kernel.correlation_map import gap_map_arb
from verify.kernel.layer_schedule import LayerSchedule
from verify.kernel.recursion_certified import certified_pair_sweep

GUARANTEE = "certified enclosure (asymptotic route: Abel series with proven truncation bounds)"
CIRCLE_RADIUS = 0.7
CIRCLE_BOXES = 512
MIN_SWITCH_POINT = 1e-6          # s0 below this would need ~7e6 layers of direct iteration
MAX_SERIES_DIGITS = 1000         # the series' coefficients cost ~digits^3: ~80 s at 1000 digits, ~25 min at 2000


def series_order(digits: int) -> int:
    """Truncation order N of the Abel series used for ``digits`` digits."""
    return max(24, digits // 2 + 4)


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
def switch_point(digits: int) -> float:
    """s0: the route switches from iteration to series once sqrt(1 - rho) <= s0.

    Chosen so that each proven truncation bound is below 10^-(digits + 8) relative
    to the quantity it perturbs (checked again, rigorously, by the enclosures). The
    comparison is in Arb: 10^-(digits + 8) underflows float64 beyond 300 digits.
    Raises :class:`PrecisionNotReached` if no s0 >= MIN_SWITCH_POINT works.
    """
    order = series_order(digits)
    s0 = 0.2
    while s0 >= MIN_SWITCH_POINT:
        try:
            rb = remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
        except BoundNotProven:
            s0 *= 0.8
            continue
        if _truncation_small(rb, s0, digits):
            return s0
        s0 *= 0.8
    raise PrecisionNotReached(digits, 0, "asymptotic route",
                              f"no switch point s0 >= {MIN_SWITCH_POINT} makes the series' proven "
                              f"truncation bounds small enough at order {order}")


def _truncation_small(rb: RemainderBounds, s0: float, digits: int) -> bool:
    """Whether every truncation bound at w = 1/s0 is below 10^-(digits + 8) in relative terms."""
    with ctx.workprec(64):
        w0 = 1 / arb(s0)
        target = arb(10) ** (-(digits + 8))
        rel_a = rb.abel_error(w0) / (3 * w0)
        rel_b = (rb.b_sum_error(w0) + rb.phi_sum_error(w0)) / (w0 ** 4)
        rel_d = rb.abel_derivative_error(w0) / 3
        return all(rel.upper() < target for rel in (rel_a, rel_b, rel_d))


def _first_layer_below(pair: PairCorrelation, gap2: float, start_scale: Fraction) -> int:
    """Best effort: the first layer whose gap is below ``gap2`` (53-bit Arb midpoints)."""
    with ctx.workprec(64):
        e = arb(start_scale.numerator) / start_scale.denominator * pair.gap_arb()
        layer = 1
        while float(e.mid()) >= gap2:
            e = gap_map_arb(e.mid())
            layer += 1
        return layer


def _enclose_w(co: AbelCoefficients, target: arb, err: arb, w_floor: arb, bits: int) -> arb:
    """Certified enclosure of the w >= w_floor with A(w) in ``target``.

    Uses |A - A_N| <= err on [w_floor, oo) and that the exact A is nondecreasing there
    (proven from the hypotheses checked by :func:`~verify.kernel.asymptotic.bounds.remainder_bounds`,
    docs/rigour.md section 3): if A(w_lo) < A(w) < A(w_hi) then w_lo < w < w_hi. A
    bracket end is tested only where the error bound holds (w definitely above
    w_floor); otherwise the floor itself, a lower bound of the true w, is used.
    """
    a_m = arb(1) / co.alpha
    t = target.mid()
    w = (t + arb(1.5) * (t / a_m).log()) / a_m             # leading-order guess
    w = arb(w.mid())
    tiny = arb(2) ** (-bits + 8)
    for _ in range(200):
        step = ((eval_a(co, w) - t) / eval_a_prime(co, w)).mid()
        w = arb((w - step).mid())
        if abs(step) <= abs(w) * tiny:
            break
    lo_need, hi_need = target.lower(), target.upper()
    width = (target.rad() + err.upper()) / a_m * 4 + abs(w) * arb(2) ** (-bits + 4)
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


def _series_step(co: AbelCoefficients, rb: RemainderBounds, e_n: arb, f_n: arb | None,
                 n: int, depth: int, bits: int) -> tuple[arb, arb | None]:
    """Certified (1 - rho^(L), 1 - ThetaBar^(L)) at L = depth > n from the balls at layer n."""
    w_n = 1 / e_n.sqrt()
    err_a = rb.abel_error(w_n)
    target = eval_a(co, w_n) + (depth - n)
    target = target + arb(0, err_a.upper())            # A(w_L) = A(w_n) + L - n
    w_l = _enclose_w(co, target, err_a, w_n, bits)
    e_l = 1 / (w_l * w_l)
    if f_n is None:
        return e_l, None
    d_err = arb(0, rb.abel_derivative_error(w_n).upper())
    t_n = n * (1 - f_n)
    start = t_n * w_n ** 3 / 2 * (eval_a_prime(co, w_n) + d_err)          # T_n A'(rho_n)
    sum_err = (rb.b_sum_error(w_n) + rb.phi_sum_error(w_n)).upper()
    total = start + eval_b(co, w_l) - eval_b(co, w_n) + arb(0, sum_err)
    a_prime_l = w_l ** 3 / 2 * (eval_a_prime(co, w_l) + d_err)              # A'(rho_L)
    f_l = 1 - total / a_prime_l / depth
    return e_l, f_l


def _switch_layer(pair: PairCorrelation, depths: Sequence[int], kernel: str, bits: int, s0: float,
                  schedule: LayerSchedule) -> tuple[int, dict[int, tuple[Ball, Ball | None]]]:
    """The switch layer n (certified 1 - rho^(n) <= s0^2) and the direct balls at n and every depth <= n."""
    n = _first_layer_below(pair, 0.8 * s0 * s0, schedule.first_layer_scale)
    while True:
        low = sorted({d for d in depths if d <= n} | {n})
        direct = certified_pair_sweep(pair, low, kernel, bits, schedule)
        if direct[-1][0].to_arb().upper() <= arb(s0) * arb(s0):      # w_n >= 1/s0
            return n, dict(zip(low, direct, strict=True))
        n += max(1, n // 8)


def _sweep_at(pair: PairCorrelation, depths: Sequence[int], kernel: str, bits: int,
              order: int, s0: float, schedule: LayerSchedule) -> list[tuple[Ball, Ball | None]]:
    want_ntk = kernel == "ntk"
    n, by_depth = _switch_layer(pair, depths, kernel, bits, s0, schedule)
    e_n_ball, f_n_ball = by_depth[n]
    if e_n_ball.man == 0 and e_n_ball.rad_man == 0:       # identical points: rho = ThetaBar = 1
        exact = (Ball.exact(0), Ball.exact(0) if want_ntk else None)
        return [by_depth.get(d, exact) for d in depths]
    rb = remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
    out = []
    with ctx.workprec(bits):
        co = arb_abel(order, bits)
        e_n = e_n_ball.to_arb()
        f_n = f_n_ball.to_arb() if f_n_ball is not None else None
        for d in depths:
            if d in by_depth:
                out.append(by_depth[d])
                continue
            e_l, f_l = _series_step(co, rb, e_n, f_n, n, d, bits)
            out.append((Ball.from_arb(e_l), Ball.from_arb(f_l) if f_l is not None else None))
    return out


def asymptotic_pair_sweep(
    pair: PairCorrelation,
    depths: Sequence[int],
    kernel: str,
    digits: int,
    schedule: LayerSchedule,
) -> tuple[list[tuple[Ball, Ball | None]], int, str]:
    """Certified enclosure of (1 - rho^(L), 1 - ThetaBar^(L)) at every L of ``depths``.

    Both gaps are accurate to ``digits`` relative digits (the NTK gap tends to 3/4).
    Returns ``(balls, working_precision_bits, guarantee)``; the time does not depend
    on L. Default model only: other parameterizations raise InputError.
    """
    if not schedule.is_default:
        raise InputError("the asymptotic route is derived for the default model "
                         "(sigma_w^2 = 1, sigma_b^2 = 0) only; use the certified route")
    if kernel not in KERNELS:
        raise InputError(f"unknown kernel {kernel!r}")
    targets = sorted(set(int(d) for d in depths))
    if not targets or targets[0] < 1:
        raise InputError("depths must be integers >= 1")
    check_series_digits(digits, f"{kernel} entry (asymptotic route)")
    order = series_order(digits)
    s0 = switch_point(digits)
    start = bits_for_digits(digits) + 40

    def compute(bits: int) -> list[tuple[Ball, Ball | None]]:
        return _sweep_at(pair, targets, kernel, bits, order, s0, schedule)

    def accurate(out: list[tuple[Ball, Ball | None]]) -> bool:
        return all(b.rad_man == 0 or b.relative_digits() >= digits
                   for pair_out in out for b in pair_out if b is not None)

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
    bits = bits_for_digits(digits) + 40
    n, by_depth = _switch_layer(pair, [], "ntk", bits, s0, LayerSchedule(Fraction(1), Fraction(0), 2))
    e_ball, f_ball = by_depth[n]
    assert f_ball is not None
    rb = remainder_bounds(order, s0, CIRCLE_RADIUS, CIRCLE_BOXES)
    with ctx.workprec(bits):
        w_n = 1 / e_ball.to_arb().sqrt()
        co = arb_abel(order, bits)
        tau = eval_a(co, w_n) - n + arb(0, rb.abel_error(w_n).upper())
        d_err = arb(0, rb.abel_derivative_error(w_n).upper())
        t_n = n * (1 - f_ball.to_arb())
        k_const = (t_n * w_n ** 3 / 2 * (eval_a_prime(co, w_n) + d_err) - eval_b(co, w_n)
                   + arb(0, (rb.b_sum_error(w_n) + rb.phi_sum_error(w_n)).upper()))
    return tau, k_const, n
