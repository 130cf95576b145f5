"""The layer recursion of a :class:`~verify.core.model.Model`: NNGP and NTK, raw and normalized, one pass.

Points lie on the unit sphere S^(n0-1); a pair enters only through its exact cosine c0
(:class:`~verify.data.pairs.PairCorrelation`), and every point has the same diagonal
q_l = Sigma^(l)(x,x), t_l = Theta^(l)(x,x). The state of a pair is the gap of each
normalized kernel, e_l = 1 - Sigma^(l)(x,x')/q_l and f_l = 1 - Theta^(l)(x,x')/t_l.

Layers (neural-tangents' ``Dense`` kernel function, see the module ``stax/linear.py`` of
neural-tangents 0.6.5). The first layer is Dense(W_std = sigma_w, b_std = sigma_b) on the input
kernel x.x'/n0 (NTK 0):

    q_1 = sigma_w^2/n0 + sigma_b^2,   e_1 = (sigma_w^2/n0)/q_1 (1 - c0)
    ntk parameterization:       t_1 = q_1,                f_1 = e_1
    standard parameterization:  t_1 = n0 (1/n0) + [bias], f_1 = (1 - c0)/(1 + [bias])

([bias] = 1 when sigma_b^2 > 0, a bias being present exactly then: b_std = None for
sigma_b^2 = 0). Each further layer l -> l+1 (L Dense layers = L - 1 steps) is, with
V = V(q,q,s), Vdot = Vdot(q,q,s) of :mod:`verify.kernel.dual_kernels`,

    Sigma' = a Sigma + w V + b,     Theta' = a Theta + w Vdot Theta + n_V V + n_1

    architecture / parameterization   a   w                   b                   n_V                 n_1
    mlp, ntk                          0   sigma_w^2           sigma_b^2           sigma_w^2           sigma_b^2
    mlp, standard                     0   sigma_w^2           sigma_b^2           width               [bias]
    resnet:ALPHA, ntk                 1   ALPHA^2 sigma_w^2   ALPHA^2 sigma_b^2   ALPHA^2 sigma_w^2   ALPHA^2 sigma_b^2
    resnet:ALPHA, standard            1   ALPHA^2 sigma_w^2   ALPHA^2 sigma_b^2   width               [bias]

(standard: ``ntk = input_width * nngp + W_std^2 * ntk (+ 1 with a bias)``, with the
pre-affine nngp = V and input_width = ``width``, the ``out_dim`` of the Dense layer below; the
residual block's FanInSum adds the identity branch, a = 1.) In the gap coordinate, with
DV = V(q,q,q) - V(q,q,q(1-e)), DVdot = Vdot(q,q,q) - Vdot(q,q,q(1-e)), Vd = V(q,q,q) and
Vdotd = Vdot(q,q,q):

    q' = a q + w Vd + b                   t' = (a + w Vdotd) t + n_V Vd + n_1
    e' = (a q e + w DV) / q'              f' = (a t f + w t (DVdot (1 - f) + Vdotd f) + n_V DV) / t'

Routes: :func:`mpmath_model_sweep` (plain mpmath at given bits, best effort),
:func:`float64_model_sweep` (float64, vectorized over many cosines, best effort) and
:func:`certified_model_sweep` (Arb balls, precision raised until the digits asked for are
certified). All three return raw and normalized NNGP and NTK for every pair and depth.

>>> from verify.core.model import Model
>>> pair = PairCorrelation(1, Fraction(0))                  # orthogonal points
>>> out = certified_model_sweep(Model(), [pair], [2], n0=2, digits=20)
>>> out.at(2).nngp[0].to_json(20)["mid"]                     # ReLU: rho^(2) = h(0) = 1/pi
'0.31830988618379067153777'
>>> out.at(2).ntk_diag.to_json(20)["mid"]                    # Theta^(2)(x,x) = 2/(n0 2) = 1/2
'0.50000000000000000000000'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import arb, ctx

from verify.core.balls import Ball, arb_of_fraction
from verify.core.depths import DIRECT_MAX_DEPTH, check_depth, depth_text
from verify.core.errors import InputError, PrecisionTooLow
from verify.core.model import Model
from verify.core.precision import DEFAULT_MAX_BITS, bits_for_digits, run_to_digits
from verify.data.pairs import PairCorrelation
from verify.kernel.dual_kernels import (
    ARB,
    FLOAT64,
    MPMATH,
    ABReluKernel,
    Arith,
    DualKernel,
    Num,
    dual_kernel,
)
from verify.kernel.invariant_box import (
    METHOD,
    STALL_WINDOW,
    Box,
    Shrinking,
    StepCoefficients,
    Tail,
    find_invariant_box,
)
from verify.kernel.model_enclosures import gap_enclosures as gap_enclosures  # re-exported (tests, docs)
from verify.kernel.model_enclosures import pair_image, q_image

GUARANTEES = {
    "certified": "certified enclosure",
    "mpmath": "best effort (plain mpmath, no error bound)",
    "float64": "best effort (float64, no error bound)",
}


@dataclass(frozen=True)
class LayerCoefficients:
    """The exact coefficients (a, w, b, n_V, n_1) of a hidden step and the first layer's data."""

    a: Fraction
    w: Fraction
    b: Fraction
    n_v: Fraction
    n_1: Fraction
    q1: Fraction              # q_1 = sigma_w^2/n0 + sigma_b^2
    e_scale: Fraction         # e_1 = e_scale (1 - c0)
    t1: Fraction              # t_1
    f_scale: Fraction         # f_1 = f_scale (1 - c0)

    @classmethod
    def of(cls, model: Model, n0: int) -> LayerCoefficients:
        """The coefficients of ``model`` for inputs of dimension ``n0`` (see the module docstring).

        >>> from verify.core.model import Model
        >>> c = LayerCoefficients.of(Model.parse(sigma_b2="0.1", parameterization="standard", width=64,
        ...                                      architecture="resnet:0.5"), n0=4)
        >>> [str(v) for v in (c.a, c.w, c.b, c.n_v, c.n_1, c.t1, c.f_scale)]
        ['1', '1/4', '1/40', '64', '1', '2', '1/2']
        """
        sw, sb = model.sigma_w2, model.sigma_b2
        bias = Fraction(1 if sb > 0 else 0)
        alpha = model.architecture.alpha
        scale = Fraction(1) if alpha is None else alpha * alpha
        a = Fraction(0) if alpha is None else Fraction(1)
        w, b = scale * sw, scale * sb
        q1 = sw / n0 + sb
        e_scale = (sw / n0) / q1
        if model.parameterization == "ntk":
            return cls(a, w, b, w, b, q1, e_scale, q1, e_scale)
        return cls(a, w, b, Fraction(model.width), bias, q1, e_scale, 1 + bias, 1 / (1 + bias))


@dataclass(frozen=True)
class DepthKernels:
    """Kernels at one depth: per pair (lists) or per cosine (float64 arrays), and the diagonal.

    ``nngp``/``ntk`` are the normalized kernels rho = Sigma(x,x')/Sigma(x,x) and
    ThetaBar = Theta(x,x')/Theta(x,x); ``*_gap`` are 1 minus them; ``raw_*`` = normalized times the
    diagonal ``nngp_diag`` = Sigma^(L)(x,x), ``ntk_diag`` = Theta^(L)(x,x). Balls on the certified
    route, mpf on the mpmath route, float64 on the float64 route.
    """

    depth: int
    nngp_diag: Any
    ntk_diag: Any
    nngp_gap: Any
    ntk_gap: Any
    nngp: Any
    ntk: Any
    raw_nngp: Any
    raw_ntk: Any


@dataclass(frozen=True)
class ModelSweep:
    """A model's kernels at several depths, from one pass; ``working_precision_bits`` as used."""

    model: Model
    n0: int
    route: str
    working_precision_bits: int | None
    depths: tuple[int, ...]
    results: tuple[DepthKernels, ...]
    methods: tuple[str, ...] = ()

    def method(self, depth: int) -> str:
        """How the kernels at ``depth`` were computed (the certified route's two methods; else the route)."""
        return self.methods[self.depths.index(depth)] if self.methods else f"{self.route} iteration"

    @property
    def guarantee(self) -> str:
        return GUARANTEES[self.route]

    def at(self, depth: int) -> DepthKernels:
        return self.results[self.depths.index(depth)]

    def describe(self) -> dict[str, Any]:
        return {"model": self.model.describe(), "n0": self.n0, "route": self.route,
                "guarantee": self.guarantee, "working_precision_bits": self.working_precision_bits}


def _targets(model: Model, depths: Sequence[int], n0: int) -> list[int]:
    """The sorted distinct depths; InputError where the kernels are not defined."""
    targets = sorted({check_depth(d) for d in depths})
    if not targets:
        raise InputError("no depth given")
    if isinstance(n0, bool) or not isinstance(n0, int) or n0 < 1:
        raise InputError(f"n0 (the input dimension) must be an integer >= 1, got {n0!r}")
    kernel = dual_kernel(model.activation)
    if (isinstance(kernel, ABReluKernel) and kernel.a == kernel.b == 0 and model.sigma_b2 == 0
            and targets[-1] > 1):
        raise InputError(f"{model.name}: phi is identically zero, so Sigma(x,x) = 0 from layer 2 on "
                         "and the normalized kernels are undefined")
    return targets


def _plain_diag_step(kernel: DualKernel, ar: Arith, co: Any, q: Num, t: Num) -> tuple[Num, Num, Num, Num]:
    """(q', t', Vd, Vdotd) of one step in a best-effort arithmetic."""
    vd, vdd = kernel.V_diag(ar, q), kernel.Vdot_diag(ar, q)
    return co.a * q + co.w * vd + co.b, (co.a + co.w * vdd) * t + co.n_v * vd + co.n_1, vd, vdd


def _plain_sweep(model: Model, ar: Arith, convert: Any, gap0: Num, targets: list[int], n0: int
                 ) -> list[tuple[Num, Num, Num, Num]]:
    """(q, t, e, f) at each target depth, iterating the gap recursion in a best-effort arithmetic."""
    kernel = dual_kernel(model.activation)
    c = LayerCoefficients.of(model, n0)
    co = _Converted(c, convert)
    q, t = convert(c.q1), convert(c.t1)
    e, f = convert(c.e_scale) * gap0, convert(c.f_scale) * gap0
    out = []
    layer = 1
    for target in targets:
        while layer < target:
            q_new, t_new, _, vdd = _plain_diag_step(kernel, ar, co, q, t)
            dv, dvd = kernel.gap_V(ar, q, e), kernel.gap_Vdot(ar, q, e)
            e_new = (co.a * q * e + co.w * dv) / q_new
            f = (co.a * t * f + co.w * t * (dvd * (1 - f) + vdd * f) + co.n_v * dv) / t_new
            q, t, e = q_new, t_new, e_new
            layer += 1
        out.append((q, t, e, f))
    return out


class _Converted:
    """The coefficients of :class:`LayerCoefficients` as numbers of one arithmetic."""

    def __init__(self, c: LayerCoefficients, convert: Any) -> None:
        self.a, self.w, self.b = convert(c.a), convert(c.w), convert(c.b)
        self.n_v, self.n_1 = convert(c.n_v), convert(c.n_1)


def _mpf(q: Fraction) -> Any:
    return mpmath.mpf(q.numerator) / q.denominator


def pair_gap_mpmath(pair: PairCorrelation) -> Any:
    """1 - cos of a pair at the current mpmath precision, without cancellation ((1 - t)/(1 + sqrt t))."""
    root = mpmath.sqrt(_mpf(pair.t))
    return _mpf(1 - pair.t) / (1 + root) if pair.sign > 0 else 1 + root


def mpmath_model_sweep(model: Model, pairs: Sequence[PairCorrelation], depths: Sequence[int], n0: int,
                       bits: int) -> ModelSweep:
    """Best effort (no error bound): the kernels in plain mpmath at ``bits`` bits of working precision.

    >>> from verify.core.model import Model
    >>> out = mpmath_model_sweep(Model.parse(activation="erf"), [PairCorrelation(1, Fraction(0))], [2], 3, 60)
    >>> print(mpmath.nstr(out.at(2).nngp[0], 12))     # erf is odd: orthogonal stays orthogonal
    0.0
    """
    targets = _targets(model, depths, n0)
    with mpmath.workprec(bits):
        gaps = [pair_gap_mpmath(p) for p in pairs] or [mpmath.mpf(0)]     # no pairs: the diagonal only
        per_pair = [_plain_sweep(model, MPMATH, _mpf, g, targets, n0) for g in gaps][:len(pairs)]
        diagonal = _plain_sweep(model, MPMATH, _mpf, gaps[0], targets, n0) if not pairs else per_pair[0]
        results = []
        for k, depth in enumerate(targets):
            q, t = diagonal[k][:2]
            e = [row[k][2] for row in per_pair]
            f = [row[k][3] for row in per_pair]
            results.append(DepthKernels(depth, q, t, e, f, [1 - v for v in e], [1 - v for v in f],
                                        [q * (1 - v) for v in e], [t * (1 - v) for v in f]))
    return ModelSweep(model, n0, "mpmath", bits, tuple(targets), tuple(results))


def float64_model_sweep(model: Model, cosines: Sequence[float] | np.ndarray, depths: Sequence[int],
                        n0: int) -> ModelSweep:
    """Best effort in float64: the kernels for a whole array of first-layer cosines at once.

    The diagonal is carried as float64 numbers, so it over- or underflows where the raw kernel
    leaves float64's range (e.g. beyond about 1000 layers of the default ReLU model).

    >>> from verify.core.model import Model
    >>> out = float64_model_sweep(Model(), np.array([0.0, 1.0]), [2], n0=2)
    >>> out.at(2).nngp.round(12).tolist()                # h(0) = 1/pi, h(1) = 1
    [0.318309886184, 1.0]
    """
    targets = _targets(model, depths, n0)
    gap0 = 1.0 - np.asarray(cosines, dtype=np.float64)
    with np.errstate(all="ignore"):
        rows = _plain_sweep(model, FLOAT64, float, gap0, targets, n0)
    results = [DepthKernels(d, q, t, e, f, 1 - e, 1 - f, q * (1 - e), t * (1 - f))
               for d, (q, t, e, f) in zip(targets, rows, strict=True)]
    return ModelSweep(model, n0, "float64", 53, tuple(targets), tuple(results))


# ------------------------------------------------------------------ the certified route


class _CertifiedDiagonal:
    """q_l and t_l as balls, one step per call (shared by every pair).

    q is re-centred each layer: q' = F(m_q) + [-r_q, r_q] F'(ball) with F(q) = a q + w Vd(q) + b and
    F'(q) = a + w Vd'(q) enclosed on the ball (mean value theorem), so the radius grows by the
    true slope, not by the dependency effects of evaluating F on a ball. t' = (a + w Vdotd(q)) t +
    n_V Vd(q) + n_1 holds t once, so plain ball arithmetic is exact there up to rounding.
    """

    def __init__(self, kernel: DualKernel, c: LayerCoefficients) -> None:
        self.kernel = kernel
        self.a, self.w, self.b = arb_of_fraction(c.a), arb_of_fraction(c.w), arb_of_fraction(c.b)
        self.n_v, self.n_1 = arb_of_fraction(c.n_v), arb_of_fraction(c.n_1)
        self.q, self.t = arb_of_fraction(c.q1), arb_of_fraction(c.t1)

    def step(self) -> tuple[arb, arb, arb, arb, arb, arb]:
        """Advance one layer; returns (q, t, q', t', Vd(q), Vdotd(q)) as balls for the pairs' step."""
        k, q, t = self.kernel, self.q, self.t
        vd, vdd = k.V_diag(ARB, q), k.Vdot_diag(ARB, q)
        q_new = q_image(k, self.a, self.w, self.b, q)
        t_new = (self.a + self.w * vdd) * t + self.n_v * vd + self.n_1
        if not (q_new.is_finite() and t_new.is_finite()):
            raise PrecisionTooLow("the diagonal lost every digit")
        self.q, self.t = q_new, t_new
        return q, t, q_new, t_new, vd, vdd


class _DirectState:
    """The certified state (q, t and every pair's gaps e, f) at one depth, advanced one layer per call.

    e_1 and f_1 are the exact rational scales times the certified gap 1 - c0 of the pair. Each step
    evaluates e' = (a q e + w DV)/q' and f' = f (a t + w t Vdotd - w t DVdot)/t' + (w t DVdot +
    n_V DV)/t' in ball arithmetic from enclosures of DV and DVdot valid for every gap in the ball e
    (:func:`gap_enclosures`) and the balls q, t, q', t' of the true diagonals: by inclusion
    monotonicity of ball arithmetic the results contain the exact e_(l+1), f_(l+1) (the dependency
    between the enclosures only widens them). f enters once (no wrapping), and e is re-centred on
    its midpoint at the next step.
    """

    def __init__(self, kernel: DualKernel, c: LayerCoefficients, pairs: Sequence[PairCorrelation]) -> None:
        self.kernel = kernel
        self.diag = _CertifiedDiagonal(kernel, c)
        gaps = [p.gap_arb() for p in pairs]
        self.e = [arb_of_fraction(c.e_scale) * g for g in gaps]
        self.f = [arb_of_fraction(c.f_scale) * g for g in gaps]
        self.layer = 1

    def step(self) -> None:
        kernel, diag = self.kernel, self.diag
        a, w, n_v = diag.a, diag.w, diag.n_v
        q, t, q_new, t_new, _, vdd = diag.step()
        inv_q, inv_t = 1 / q_new, 1 / t_new
        e_self, f_self = a * q * inv_q, (a + w * vdd) * t * inv_t
        wt = w * t * inv_t
        e, f = self.e, self.f
        for i in range(len(e)):
            e[i], f[i] = pair_image(kernel, q, vdd, e[i], f[i], e_self, f_self, wt, w, n_v, inv_q, inv_t)
        self.layer += 1

    def box(self) -> Box:
        return Box(self.diag.q, 1 / self.diag.t, tuple(self.e), tuple(self.f))

    def coefficients(self) -> StepCoefficients:
        d = self.diag
        return StepCoefficients(d.a, d.w, d.b, d.n_v, d.n_1)


DIRECT_METHOD = "direct iteration"
NO_BOX_METHOD = "direct iteration (no invariant box found: no depth-independent route for this model here)"
BOX_METHOD = METHOD
_DIRECT_LIMIT = depth_text(DIRECT_MAX_DEPTH, 6)
BOX_GIVE_UP = 2**16           # without a box by this depth, a target beyond direct iteration is refused
SERIES_FROM_DEPTH = 1000      # kink-family models (verify.kernel.model_series) run the Abel series beyond this depth
FIRST_BOX_ATTEMPT = 64        # the depth of the first attempt at an invariant box; then at twice the depth


def _accurate_tail(tail: Tail, depth: int, digits: int) -> bool:
    return _accurate([_tail_kernels(tail, depth)], digits)


def _tail_kernels(tail: Tail, depth: int) -> DepthKernels:
    q, t, e, f = tail.at(depth)
    return depth_balls(depth, q, t, list(e), list(f))


def _certified_run(model: Model, pairs: Sequence[PairCorrelation], targets: list[int], n0: int,
                   prec: int, digits: int | None = None) -> tuple[list[DepthKernels], list[str]]:
    """One certified pass at ``prec`` bits: balls of every kernel at every target depth, and how each was had.

    Direct iteration (:class:`_DirectState`) throughout, except that with ``digits`` given, from
    depth ``FIRST_BOX_ATTEMPT`` on (then at twice the depth of the last try, and so on) while the deepest target is
    more than twice as deep, the invariant-box route (:mod:`verify.kernel.invariant_box`) is
    tried: a trapping box is shrunk alongside the trajectory, and if at the end it certifies
    ``digits`` at the deepest target, every later target is read off it, at a cost independent of
    the depth. Targets passed on the way are read off the direct state.
    """
    kernel = dual_kernel(model.activation)
    c = LayerCoefficients.of(model, n0)
    out: list[DepthKernels] = []
    methods: list[str] = []
    tail: Tail | None = None
    shrink: Shrinking | None = None
    with ctx.workprec(prec):
        state = _DirectState(kernel, c, pairs)
        co = state.coefficients()
        attempt = FIRST_BOX_ATTEMPT
        k = 0
        while k < len(targets):
            target = targets[k]
            if state.layer == target:
                out.append(depth_balls(target, state.diag.q, state.diag.t, state.e, state.f))
                methods.append(NO_BOX_METHOD if attempt > FIRST_BOX_ATTEMPT else DIRECT_METHOD)
                k += 1
            elif tail is not None:
                out.append(_tail_kernels(tail, target))
                methods.append(BOX_METHOD)
                k += 1
            elif shrink is not None and (shrink.done or shrink.steps % STALL_WINDOW == STALL_WINDOW - 1):
                candidate = Tail(kernel, co, state.layer, shrink.box, state.diag.t)
                if digits is not None and _accurate_tail(candidate, targets[-1], digits):
                    tail, shrink = candidate, None
                elif shrink.done:
                    shrink = None
                else:
                    shrink.step()
                    state.step()
            elif (shrink is None and digits is not None and state.layer >= attempt
                  and targets[-1] > 2 * state.layer):
                attempt = 2 * state.layer
                box = find_invariant_box(kernel, co, state.box())
                shrink = None if box is None else Shrinking(kernel, co, box)
            else:
                if shrink is None and state.layer >= BOX_GIVE_UP and target > DIRECT_MAX_DEPTH:
                    raise InputError(f"{model.name}: no invariant box of the layer map found up to depth "
                                     f"{state.layer} (no geometric attracting fixed point?), and depth "
                                     f"{depth_text(target)} is beyond direct iteration ({_DIRECT_LIMIT})")
                if shrink is not None:
                    shrink.step()
                state.step()
    return out, methods


def depth_balls(depth: int, q: arb, t: arb, e: list[arb], f: list[arb]) -> DepthKernels:
    one_minus_e = [1 - v for v in e]
    one_minus_f = [1 - v for v in f]
    return DepthKernels(
        depth, Ball.from_arb(q), Ball.from_arb(t),
        [Ball.from_arb(v) for v in e], [Ball.from_arb(v) for v in f],
        [Ball.from_arb(v) for v in one_minus_e], [Ball.from_arb(v) for v in one_minus_f],
        [Ball.from_arb(q * v) for v in one_minus_e], [Ball.from_arb(t * v) for v in one_minus_f])


def _accurate(results: list[DepthKernels], digits: int) -> bool:
    """Normalized kernels to ``digits`` absolute digits (they lie in [-1, 1]), diagonals to relative digits."""
    for r in results:
        if any(b.correct_digits() < digits for b in (*r.nngp_gap, *r.ntk_gap)):
            return False
        if any(b.rad_man != 0 and b.relative_digits() < digits for b in (r.nngp_diag, r.ntk_diag)):
            return False
    return True


def certified_model_sweep(model: Model, pairs: Sequence[PairCorrelation], depths: Sequence[int], n0: int,
                          digits: int, max_bits: int = DEFAULT_MAX_BITS, box: bool = True) -> ModelSweep:
    """Certified enclosures of the NNGP and NTK (normalized, gaps, raw) and the diagonals at every depth.

    Every normalized kernel (and its gap) is certified to ``digits`` absolute decimal digits and
    both diagonals to ``digits`` relative digits; the raw kernels are the balls of their products
    (relative accuracy where the normalized value is not near 0). The working precision starts at
    the digits asked for plus 2 log2(L) + 24 bits and doubles until that holds
    (:func:`~verify.core.precision.run_to_digits`); past ``max_bits`` it raises
    :class:`~verify.core.errors.PrecisionNotReached`. The bounds behind every radius are proved in
    :mod:`verify.kernel.model_enclosures`, :class:`_CertifiedDiagonal` and (for depths read off an
    invariant box, see :meth:`ModelSweep.method`) :mod:`verify.kernel.invariant_box`; ``box=False``
    keeps to direct iteration. Members of the seed's kink family (relu, leaky_relu, abrelu, abs
    without a bias, NTK parameterization, MLP or resnet) run the Abel series of
    :mod:`verify.kernel.model_series` instead once the deepest target is beyond ``SERIES_FROM_DEPTH``
    (unless ``box=False``): time independent of the depth, gaps to relative digits.
    """
    targets = _targets(model, depths, n0)
    if box and targets[-1] > SERIES_FROM_DEPTH:
        from verify.kernel.model_series import parabolic_family, series_available, series_model_sweep  # imports us

        family = parabolic_family(model, n0)
        if series_available(family, digits):
            results, methods, bits = series_model_sweep(model, family, pairs, targets, n0, digits)
            return ModelSweep(model, n0, "certified", bits, tuple(targets), tuple(results), tuple(methods))
    start = bits_for_digits(digits) + 2 * math.ceil(math.log2(targets[-1] + 1)) + 24

    if not box and targets[-1] > DIRECT_MAX_DEPTH:
        raise InputError(f"depth {depth_text(targets[-1])} is beyond direct iteration ({_DIRECT_LIMIT})")
    goal = digits if box else None          # None: direct iteration only
    (results, methods), bits = run_to_digits(lambda p: _certified_run(model, pairs, targets, n0, p, goal),
                                             lambda res: _accurate(res[0], digits), start, max_bits=max_bits,
                                             digits=digits, what=f"kernels of {model.name}")
    return ModelSweep(model, n0, "certified", bits, tuple(targets), tuple(results), tuple(methods))
