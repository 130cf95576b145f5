"""A depth-independent certified route for models with a geometric attracting fixed point: invariant boxes.

The state of the model recursion at a depth is the diagonal (q, s = 1/t) and, per pair, the gaps
(e, f) of the normalized NNGP and NTK (:mod:`verify.kernel.model_recursion`); one layer is the map
x -> G(x). :func:`box_image` is a map Phi on boxes (one ball per coordinate) with

    G(X) subset Phi(X)     for every box X                                     (*)

(it is the certified layer step, each term enclosed over the whole box; the proofs are those of
:func:`~verify.kernel.model_enclosures.gap_enclosures` and
:func:`~verify.kernel.model_enclosures.q_image`, and of :func:`_s_image` below).

**Theorem.** Let x_m (the exact state at depth m) lie in a box X_0 with Phi(X_0) subset X_0, and
let X_(j+1) = Phi(X_j) cap X_j. Then x_L lies in X_j for every L >= m + j.

*Proof.* By (*), G(X_0) subset Phi(X_0) subset X_0, so x_L in X_0 for all L >= m (induction on L).
If x_L in X_j for all L >= m + j, then for L >= m + j + 1 both x_L in X_j and
x_L = G(x_(L-1)) in G(X_j) subset Phi(X_j), so x_L in X_(j+1). QED.

No derivative bound of G and no contraction constant is needed: the check Phi(X_0) subset X_0 is
the certificate, and it can only succeed where the orbit is trapped. Near a geometric attracting
fixed point (rate kappa < 1) the widths of X_j shrink like kappa^j down to a floor of about the
rounding error over (1 - kappa), so after J of these steps a single box X_J encloses the state at
*every* depth L >= m + J: the cost is m + 2 J layers (the exact trajectory is carried alongside,
see :class:`Tail`), whatever L is. At a parabolic point (rate 1) the widths stall far above the
floor, the box misses the digits asked for and the caller falls back to direct iteration.

:func:`find_invariant_box` finds X_0 by epsilon-inflation (Rump): starting from the certified
state at depth m, replace X by the hull of X and Phi(X) with doubled radii until Phi(X) subset X.

The raw NTK diagonal t = 1/s may grow without bound (chaotic phase, s -> 0). It is carried
multiplicatively: t_L = t_n prod_(l=n)^(L-1) c_l with c_l = A(q_l) + B(q_l) s_l (the step
t' = A t + B divided by t), and every c_l for l >= n lies in c(X_J), so
t_L in t_n c(X_J)^(L - n): relative width about (L - n) times that of c(X_J), which the working
precision (grown by 2 log2 L bits) absorbs. Where s stays away from 0, 1/s(X_J) encloses t_L too
and the intersection of both is returned.

>>> from verify.core.model import Model
>>> from verify.data.pairs import PairCorrelation
>>> from fractions import Fraction
>>> from verify.kernel.model_recursion import certified_model_sweep
>>> out = certified_model_sweep(Model.parse(activation="erf", sigma_w2="1.5"), [PairCorrelation(1, Fraction(0))],
...                             [10**15], n0=2, digits=20)
>>> rho = out.at(10**15).nngp[0]                 # erf is odd, no bias: rho = 0 is attracting here
>>> rho.contains(0), rho.correct_digits() >= 20, out.method(10**15)[:13]
(True, True, 'invariant box')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flint import arb, ctx

from verify.kernel.dual_kernels import ARB, DualKernel
from verify.kernel.model_enclosures import pair_image, q_image

METHOD = "invariant box (certified trapping region of the layer map; depth-independent)"
INFLATION_TRIES = 24
MAX_RELATIVE_RADIUS = 2.0 ** -16   # a box wider than this (relative) is not sought further
STALL_WINDOW = 16            # shrink steps between two looks at the radii
STALL_RATIO = 0.99           # a window that keeps more than this of every radius has stalled
MAX_SHRINK_STEPS = 100_000
UNIT = arb(1, 1)             # [0, 2]: every gap lies in it


@dataclass(frozen=True)
class StepCoefficients:
    """The exact coefficients (a, w, b, n_V, n_1) of a hidden layer, as balls (see model_recursion)."""

    a: arb
    w: arb
    b: arb
    n_v: arb
    n_1: arb


@dataclass(frozen=True)
class Box:
    """One ball per coordinate: q, s = 1/t, and the gaps e, f of every pair."""

    q: arb
    s: arb
    e: tuple[arb, ...]
    f: tuple[arb, ...]

    def coordinates(self) -> tuple[arb, ...]:
        return (self.q, self.s, *self.e, *self.f)

    def contains(self, other: Box) -> bool:
        return all(x.contains(y) for x, y in zip(self.coordinates(), other.coordinates(), strict=True))

    def intersect(self, other: Box) -> Box:
        """The coordinatewise intersection (both boxes hold the exact state, so it does too)."""
        return Box(self.q.intersection(other.q), self.s.intersection(other.s),
                   tuple(x.intersection(y) for x, y in zip(self.e, other.e, strict=True)),
                   tuple(x.intersection(y) for x, y in zip(self.f, other.f, strict=True)))

    def radii(self) -> list[arb]:
        return [x.rad() for x in self.coordinates()]


def _s_image(a_term: arb, b_term: arb, s: arb) -> arb:
    """Certified s' = s/(A + B s) for every s in the ball ``s`` (s >= 0) and A, B in their balls.

    Proof. For fixed A > 0, B >= 0 the map g(s) = s/(A + B s) is increasing on s >= 0
    (g'(s) = A/(A + B s)^2 > 0), so its image of [lo, hi] is [g(lo), g(hi)]; evaluating g at the
    exact ends with A, B as balls encloses that image for every (A, B) in the balls. With A = 0
    exactly (Vdot = 0 and no skip branch) t' = B, so s' = 1/B. A ball A that is not > 0 is
    refused (NaN: the box check then fails).
    """
    if a_term.is_zero():
        return 1 / b_term
    if not a_term > 0:
        return arb("nan")
    s = s.nonnegative_part()
    lo, hi = arb(s.lower()), arb(s.upper())
    image: arb = (lo / (a_term + b_term * lo)).union(hi / (a_term + b_term * hi))
    return image


def box_image(kernel: DualKernel, co: StepCoefficients, box: Box) -> Box:
    """Phi(X): a box containing G(x) for every state x in ``box`` (property (*) of the module).

    The diagonal step is q' = q_image(q) and s' = :func:`_s_image`; with A = a + w Vdot_d(q),
    B = n_V V_d(q) + n_1, the ratio t/t' = 1/(A + B s) and 1/t' = s', a pair steps as in
    :func:`~verify.kernel.model_recursion._certified_run`:

        e' = (a q/q') e + w DV/q',    f' = f (A t/t' - w (t/t') DVdot) + w (t/t') DVdot + n_V DV s'

    with DV, DVdot enclosed over the whole (q, e) box by
    :func:`~verify.kernel.model_enclosures.gap_enclosures`. Each term is an enclosure over the box,
    so by inclusion monotonicity of ball arithmetic every result holds the exact image; gaps are
    intersected with [0, 2] (the exact e, f lie there: |rho| <= 1 and |ThetaBar| <= 1 by
    Cauchy-Schwarz, both kernels being positive semi-definite).
    """
    q = box.q
    vd, vdd = kernel.V_diag(ARB, q), kernel.Vdot_diag(ARB, q)
    q_new = q_image(kernel, co.a, co.w, co.b, q)
    a_term, b_term = co.a + co.w * vdd, co.n_v * vd + co.n_1
    s_new = _s_image(a_term, b_term, box.s)
    inv_q = 1 / q_new
    e_self = co.a * q * inv_q
    if kernel.kind == "step":                # Vdot = 0: f' = (a t f + n_V DV)/t'
        ratio = co.a / (a_term + b_term * box.s.nonnegative_part()) if not co.a.is_zero() else arb(0)
        f_self, wt = ratio, arb(0)
    else:
        ratio = 1 / (a_term + b_term * box.s.nonnegative_part())
        f_self, wt = a_term * ratio, co.w * ratio
    e_new, f_new = [], []
    for e, f in zip(box.e, box.f, strict=True):
        e_next, f_next = pair_image(kernel, q, vdd, e, f, e_self, f_self, wt, co.w, co.n_v, inv_q, s_new)
        e_new.append(e_next.intersection(UNIT))
        f_new.append(f_next.intersection(UNIT))
    return Box(q_new, s_new, tuple(e_new), tuple(f_new))


def _inflated(box: Box, image: Box, factors: list[float]) -> Box:
    """Epsilon-inflation, coordinate by coordinate: a coordinate whose image is not inside grows.

    A coordinate that failed becomes the hull of its box and image, its radius times its own
    factor (plus a few ulps), and that factor doubles; coordinates already holding their image
    stay as they are. The layer map is triangular (q alone; s from q; e from q; f from q, s, e),
    so a coordinate driven by another one that keeps its box catches up in a few doublings.
    """
    ulps = arb(2) ** (8 - ctx.prec)
    out = []
    for c, (x, y) in enumerate(zip(box.coordinates(), image.coordinates(), strict=True)):
        if x.contains(y):
            out.append(x)
            continue
        hull = x.union(y)
        extra = factors[c] * hull.rad() + (abs(hull.mid()) + ulps) * ulps
        factors[c] *= 2
        out.append(hull + arb(0, extra.upper()))
    n = len(box.e)
    return Box(out[0], out[1], tuple(out[2:2 + n]), tuple(out[2 + n:]))


def find_invariant_box(kernel: DualKernel, co: StepCoefficients, state: Box) -> Box | None:
    """A box X containing ``state`` with Phi(X) subset X (certified trapping region), or None.

    ``state`` is the certified state at some depth m; the returned box holds the exact state at
    every depth >= m (module theorem, j = 0).
    """
    box = state
    factors = [1.0] * len(state.coordinates())
    for _ in range(INFLATION_TRIES):
        image = box_image(kernel, co, box)
        if not all(x.is_finite() for x in image.coordinates()):
            return None
        if box.contains(image):
            return box
        box = _inflated(box, image, factors)
        if not _near_linear(box):
            return None
    return None


def _near_linear(box: Box) -> bool:
    """Whether the radii of q and of the gaps are below ``MAX_RELATIVE_RADIUS`` (of |q|, of 1).

    A wider box may still trap the orbit, but it reaches where the layer map is far from linear
    and shrinks slowly or not at all (it may hold the repelling fixed point rho = 1, say), so the
    search stops and the caller tries again deeper. s = 1/t is exempt: where t grows without
    bound its box is [0, s] itself, and s' = s/(A + B s) is monotone on all of it.
    """
    gaps = (*box.e, *box.f)
    return (box.q.rad() <= MAX_RELATIVE_RADIUS * abs(box.q.mid())
            and all(x.rad() <= MAX_RELATIVE_RADIUS for x in gaps))


class Shrinking:
    """X_(j+1) = Phi(X_j) cap X_j, one step per call (module theorem), until the radii stall.

    ``done`` when over the last ``STALL_WINDOW`` steps no radius fell below ``STALL_RATIO`` of
    its value at the window's start (the rounding floor, or a parabolic point), or after
    ``MAX_SHRINK_STEPS``. The caller may stop earlier, as soon as the box meets its request.
    """

    def __init__(self, kernel: DualKernel, co: StepCoefficients, box: Box) -> None:
        self.kernel, self.co, self.box, self.steps = kernel, co, box, 0
        self.done = False
        self._window_start = box.radii()

    def step(self) -> None:
        self.box = box_image(self.kernel, self.co, self.box).intersect(self.box)
        self.steps += 1
        if self.steps % STALL_WINDOW == 0:
            new = self.box.radii()
            stalled = all(r_new >= STALL_RATIO * r_old for r_new, r_old in zip(new, self._window_start, strict=True))
            self._window_start = new
            self.done = stalled
        self.done = self.done or self.steps >= MAX_SHRINK_STEPS


@dataclass(frozen=True)
class Tail:
    """Enclosures at every depth L >= ``start`` from the shrunk box and the exact trajectory at ``start``.

    ``box`` holds the exact state at every depth >= ``start`` (module theorem); ``t_start`` is the
    certified t at depth ``start``.
    """

    kernel: DualKernel
    co: StepCoefficients
    start: int
    box: Box
    t_start: arb

    def at(self, depth: int) -> tuple[arb, arb, Sequence[arb], Sequence[arb]]:
        """(q, t, e per pair, f per pair) at ``depth`` >= ``start``."""
        q, s = self.box.q, self.box.s.nonnegative_part()
        vd, vdd = self.kernel.V_diag(ARB, q), self.kernel.Vdot_diag(ARB, q)
        growth = (self.co.a + self.co.w * vdd) + (self.co.n_v * vd + self.co.n_1) * s   # t'/t on the box
        t: arb = self.t_start * growth ** (depth - self.start)
        if s > 0:
            t = t.intersection(1 / s)
        return q, t, self.box.e, self.box.f
