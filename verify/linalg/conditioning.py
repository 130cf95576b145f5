"""Conditioning of kappa = K(X, X): certified det, log10|det|, spectrum, lambda_min/max, cond_2.

At large depth every NNGP entry is 1 - O(1/L^2), so kappa is assembled as J - G from
the gap matrix G, which the engine computes to relative accuracy (``relative_gap``).
Two precisions are then raised independently (:func:`certify`): the working
precision of the linear algebra (Ziv's loop on the *midpoint* matrix, where only
rounding counts), and the digits of the kernel itself (only when the radii of the
kernel entries, pushed through the ill-conditioned algebra, still exceed the request).

Eigenvalues: kappa is symmetric, so an approximate eigendecomposition of its
midpoint matrix gives enclosures of every eigenvalue by Weyl's inequality
(:func:`weyl_enclosures`, proof in its docstring): the k-th enclosure is that of the
k-th smallest eigenvalue, and repeated or clustered eigenvalues need no isolation.

>>> from verify.data.dataset import Dataset
>>> c = conditioning(Dataset.from_rows([["1", "0"], ["0", "1"]]), depth=2, kernel="nngp", digits=20)
>>> c.det.to_json(20)["mid"]          # 1 - 1/pi^2
'0.89867881635766222855612'
>>> [e.to_json(8)["mid"] for e in c.eigenvalues]   # 1 -+ 1/pi
['0.68169011382', '1.3183098862']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any, Generic, TypeVar

import mpmath
from flint import acb_mat, arb, arb_mat, ctx

from verify.core.balls import Ball, decimal_lower, decimal_upper
from verify.core.depths import check_depth, depth_text
from verify.core.errors import PrecisionNotReached
from verify.core.model import Model
from verify.core.params import DEFAULT, Parameterization
from verify.core.precision import MAX_DIGITS, bits_for_digits, check_digits, run_to_digits
from verify.data.dataset import Dataset
from verify.kernel.routes import KERNELS, KernelResult, check_choice, kernel_sweep, resolve_model
from verify.linalg.ball_matrix import BallVector
from verify.linalg.singularity import Diagnosis, Regime, diagnose, regime_of

K = TypeVar("K")
T = TypeVar("T")

KERNEL_GUARD_DIGITS = 6
APPROX_GUARD_BITS = 64
GUARANTEE = "certified enclosure"
SINGULAR_GUARANTEE = "exact (singular by the data's structure)"


# ---------------------------------------------------------------- assembling kappa in Arb

def ball_arb(b: Ball, midpoint: bool = False, *, prec: int) -> arb:
    """A rigorous Arb enclosure of ``b`` (or of its midpoint) at ``prec`` bits.

    The rounding of the midpoint to the working precision stays in the radius, also
    when the precision is below the midpoint's bit length.
    """
    with ctx.workprec(prec):
        return (Ball(b.man, b.exp, 0, 0) if midpoint else b).to_arb()


def arb_from_gaps(gaps: Sequence[Sequence[Ball]], midpoints: bool = False, *, prec: int) -> arb_mat:
    """kappa = 1 - G as an Arb matrix at ``prec`` bits (``midpoints``: radii dropped).

    Built from the gap matrix G (``KernelResult.gaps``), which carries the relative
    accuracy, never from 1 - (1 - G).
    """
    with ctx.workprec(prec):
        one = arb(1)
        out = arb_mat(len(gaps), len(gaps[0]))
        for i, row in enumerate(gaps):
            for j, g in enumerate(row):
                out[i, j] = one - ball_arb(g, midpoints, prec=prec)
        return out


def min_gap(gaps: Sequence[Sequence[Ball]]) -> Fraction:
    """The smallest nonzero gap midpoint (a cheap hint of how ill-conditioned kappa is).

    Chosen by log2 |mid| in float64 from the integers (no Fraction per entry: a 1000-point
    kernel has a million gaps); ties within float rounding may pick either, which a hint allows.

    >>> min_gap([[Ball(0, 0, 0, 0), Ball(3, -10, 0, 0)], [Ball(-1, -9, 1, -40), Ball(1, 0, 0, 0)]])
    Fraction(1, 512)
    """
    nonzero = [g for row in gaps for g in row if g.man != 0]
    if not nonzero:
        return Fraction(1)
    smallest = min(nonzero, key=lambda g: math.log2(abs(g.man)) + g.exp)
    return abs(smallest.mid_fraction)


def log10_fraction(q: Fraction) -> float:
    """log10 of a positive rational, also far outside float64's range (no float(q) on the way).

    >>> log10_fraction(Fraction(1, 10**400)), log10_fraction(Fraction(10**500, 1))
    (-400.0, 500.0)
    """
    if q <= 0:
        raise ValueError(f"log10 of a non-positive number {q}")
    return math.log10(q.numerator) - math.log10(q.denominator)


def lost_digits(hint: Fraction, n: int) -> int:
    """Digits kappa's conditioning will cost (an estimate from its smallest gap ``hint``), + log10(n + 1)."""
    lost = max(0.0, -log10_fraction(hint)) if hint > 0 else 0.0
    return math.ceil(lost + math.log10(n + 1))


# ---------------------------------------------------------------- two-level precision loop

def correct_digits(x: arb) -> float:
    """Digits of ``x`` certified relative to max(1, |x|) (0 for NaN, inf for exact)."""
    if not x.is_finite():
        return 0.0
    return Ball.from_arb(x).correct_digits()


def relative_digits(x: arb) -> float:
    """Relative digits of ``x`` (0 if the ball contains 0 or is not finite)."""
    if not x.is_finite():
        return 0.0
    return Ball.from_arb(x).relative_digits()


@dataclass
class Certified(Generic[T]):
    """A certified result with the precisions that produced it."""

    value: T
    working_precision_bits: int
    kernel_digits: int


def certify(
    kernels_at: Callable[[int], K],
    evaluate: Callable[[K, int, bool], T],
    achieved: Callable[[T], float],
    digits: int,
    lost: Callable[[K], int],
    what: str,
) -> Certified[T]:
    """Raise the working precision and, if needed, the kernel digits until ``achieved >= digits``.

    ``kernels_at(kd)`` gives certified kernels with ``kd`` relative gap digits;
    ``evaluate(kernels, bits, midpoints)`` does the arithmetic (``midpoints=True``:
    on the midpoint matrices, so only rounding counts); ``achieved`` returns the
    certified digits of a result; ``lost(kernels)`` estimates the digits the
    conditioning costs (:func:`lost_digits`): it sets the first working precision and
    raises the cap on the kernel digits (4 digits + 100 + lost). The returned value
    always comes from the full balls (``midpoints=False``), so it encloses the exact
    quantity.
    """
    kd = digits + KERNEL_GUARD_DIGITS
    kernels = kernels_at(kd)
    limit = 4 * digits + 100 + lost(kernels)
    while True:
        cost = lost(kernels)
        def on_midpoints(b: int, k: K = kernels) -> T:
            return evaluate(k, b, True)

        _, bits = run_to_digits(on_midpoints,
                                lambda r: achieved(r) >= digits + 1,
                                bits_for_digits(digits) + bits_for_digits(cost) + 32,
                                digits=digits, what=what)
        value = evaluate(kernels, bits, False)
        got = achieved(value)
        if got >= digits:
            return Certified(value, bits, kd)
        if kd >= limit:
            raise PrecisionNotReached(digits, bits, f"{what} (kernel digits up to {kd})")
        # jump at once to what the conditioning is estimated to cost (creeping up by the
        # shortfall recomputed the kernels many times at hundreds of digits)
        kd = min(limit, max(kd + math.ceil(digits - got), digits + cost) + KERNEL_GUARD_DIGITS)
        if kd > MAX_DIGITS:
            raise PrecisionNotReached(digits, bits, what, f"kappa's conditioning costs about {cost} digits, so "
                                      f"the kernels would be needed to {kd} digits (at most {MAX_DIGITS})")
        kernels = kernels_at(kd)


class KernelSource:
    """Certified kernels K(X, X) (and K(Z, X) with ``columns``) at several depths, cached by digits.

    The network is ``param`` (seed family) or ``model`` (any :class:`~verify.core.model.Model`,
    not both); ``model`` is always set, ``param`` holds its variances (the whole network only
    for the seed family). ``scheduler`` (a ``dask.distributed`` address or client) runs the
    kernel sweeps on a cluster, as :func:`~verify.kernel.routes.kernel_sweep` does: the same balls.
    """

    def __init__(self, data: Dataset, kernel: str, param: Parameterization | None = None,
                 columns: Dataset | None = None, progress: bool | None = None, *, model: Model | None = None,
                 scheduler: Any = None) -> None:
        self.data, self.kernel, self.columns = data, check_choice(kernel, KERNELS, "kernel"), columns
        self.model = resolve_model(param, model)
        self.param, self.progress = Parameterization(self.model.sigma_w2, self.model.sigma_b2), progress
        self._cache: dict[tuple[int, int], tuple[KernelResult, KernelResult | None]] = {}
        self.kernel_bits = 0
        self.scheduler = scheduler

    def prefetch(self, depths: Sequence[int], kd: int) -> None:
        """Compute every depth in one pass per pair (one sweep)."""
        todo = sorted({d for d in depths if (d, kd) not in self._cache})
        if not todo:
            return
        gram = kernel_sweep(self.data, todo, self.kernel, kd, model=self.model,
                            progress=self.progress, relative_gap=True, scheduler=self.scheduler)
        cross: Sequence[KernelResult | None] = [None] * len(todo)
        if self.columns is not None:
            cross = kernel_sweep(self.columns, todo, self.kernel, kd, model=self.model,
                                 progress=self.progress, columns=self.data, relative_gap=True,
                                 scheduler=self.scheduler)
        for d, g, c in zip(todo, gram, cross, strict=True):
            self._cache[(d, kd)] = (g, c)
            self.kernel_bits = max(self.kernel_bits, g.working_precision_bits or 0,
                                   (c.working_precision_bits or 0) if c else 0)

    def get(self, depth: int, kd: int) -> tuple[KernelResult, KernelResult | None]:
        """The kernels at ``depth`` with at least ``kd`` digits (cached ones if accurate enough)."""
        have = [k for d, k in self._cache if d == depth and k >= kd]
        if have:
            return self._cache[(depth, min(have))]
        self.prefetch([depth], kd)
        return self._cache[(depth, kd)]

    def diagnose(self, depth: int) -> Diagnosis:
        """The exact diagnosis of kappa at ``depth`` for this source's network (:func:`diagnose_model`)."""
        return diagnose_model(self.data, depth, self.model)


def activation_parity(model: Model) -> str | None:
    """``"odd"``, ``"even"`` or None: the parity of phi, read from its exact name and parameters.

    >>> [activation_parity(Model.parse(activation=a)) for a in ("erf", "abs", "abrelu:2,-2", "gelu")]
    ['odd', 'even', 'even', None]
    """
    act = model.activation
    # abrelu:A,B is A x (x < 0), B x (x > 0); leaky_relu:A is abrelu:A,1
    slopes = act.params if act.name == "abrelu" else (act.params[0], Fraction(1)) if act.name == "leaky_relu" else None
    if act.name in ("erf", "sign") or (slopes is not None and slopes[0] == slopes[1]):
        return "odd"
    if act.name == "abs" or (slopes is not None and slopes[0] == -slopes[1]):
        return "even"
    return None


def diagnose_model(data: Dataset, depth: int, model: Model) -> Diagnosis:
    """Exact verdict on kappa at ``depth`` for any :class:`~verify.core.model.Model`.

    The seed family: :func:`~verify.linalg.singularity.diagnose` (its theorem). Other models decide
    from the data only what is proved for them, and leave the rest to the certified eigenvalues
    (status ``undecided``):

    * coinciding points give equal rows: singular at every depth;
    * depth 1: both normalized kernels are a + b x.x' with a = 0 without a bias and a, b > 0 with
      one, whatever the activation, architecture and parameterization (the first layer is the same
      Dense layer), so the seed family's depth-1 verdict applies;
    * an antipodal pair (x, -x) without a bias (sigma_b^2 = 0), phi odd (any architecture) or phi
      even (MLP, depth >= 2): row(-x) = -row(x), resp. row(-x) = row(x), so kappa is singular.

    Proof of the last item. For odd phi, V(q, q, -s) = E[phi(u) phi(-v)] = -V(q, q, s) and phi' is
    even, so Vdot(q, q, -s) = Vdot(q, q, s). The layer maps (:mod:`verify.kernel.model_recursion`)
    Sigma' = a Sigma + w V(Sigma) + b and Theta' = a Theta + w Vdot(Sigma) Theta + n_V V(Sigma) + n_1
    have b = n_1 = 0 without a bias (n_1 = [bias] in the standard parameterization), and the first
    layer gives Sigma_1, Theta_1 proportional to x.z; by induction Sigma_L(-x, z) = -Sigma_L(x, z)
    and Theta_L(-x, z) = -Theta_L(x, z) for every z, and -x has the same diagonal as x, so the rows of
    x and -x of the normalized kernel add to 0. For even phi, V is even and Vdot odd in s; with
    a = 0 (MLP) Sigma_2 = w V(Sigma_1) is even and Theta_2 = w Vdot(Sigma_1) Theta_1 + n_V V(Sigma_1)
    is (odd x odd) + even = even, and the maps keep both even from there on, so the rows are equal
    from depth 2 on. QED.

    >>> from verify.data.dataset import Dataset
    >>> d = Dataset.from_rows([["1", "0"], ["-1", "0"], ["0", "1"]])
    >>> diagnose_model(d, 3, Model.parse(activation="erf")).status
    'singular'
    >>> diagnose_model(d, 3, Model.parse(activation="erf", sigma_b2="0.1")).status
    'undecided'
    >>> diagnose_model(d, 1, Model.parse(activation="gelu")).status
    'singular'
    """
    variances = Parameterization(model.sigma_w2, model.sigma_b2)
    if model.is_seed_family or depth == 1:
        return diagnose(data, depth, variances)
    reg = regime_of(data, variances)
    if reg.duplicates:
        return diagnose(data, depth, variances)
    parity = activation_parity(model) if model.sigma_b2 == 0 and reg.antipodal else None
    if parity == "odd" or (parity == "even" and model.architecture.kind == "mlp"):
        i, j = reg.antipodal[0]
        same = parity == "even"
        more = f" ({len(reg.antipodal)} antipodal pairs)" if len(reg.antipodal) > 1 else ""
        return Diagnosis(depth, "singular",
                         f"kappa is singular at depth {depth_text(depth)}: training points {i + 1} and {j + 1} are "
                         f"antipodal{more} and phi is {parity} without a bias, so their rows are "
                         f"{'equal' if same else 'opposite'} for {model.name}", reg,
                         ((i, Fraction(1), Fraction(1)), (j, Fraction(-1 if same else 1), Fraction(1))))
    return Diagnosis(depth, "undecided", f"kappa at depth {depth_text(depth)} for {model.name}: invertibility is "
                     "not decided from the data for this model; the certified eigenvalues decide it", reg)


def regime_meaning(regime: Regime, model: Model) -> str:
    """The data's invertibility regime in words, for ``model`` (:meth:`Regime.describe` in the seed family).

    >>> from verify.data.dataset import Dataset
    >>> reg = regime_of(Dataset.from_rows([["1", "0"], ["0", "1"]]))
    >>> regime_meaning(reg, Model.parse(activation="gelu"))[:60]
    'distinct points (data regime R1): for ntk-mlp-gelu(sigma_w^2'
    """
    if model.is_seed_family or regime.duplicates:
        return regime.describe()
    return (f"distinct points (data regime {regime.name}): for {model.name} invertibility at depth >= 2 is not "
            "decided from the data (the regimes R1-R3 are proved for ReLU MLPs in NTK parameterization); "
            "the certified computation decides it")


def certified_invertible(diag: Diagnosis, how: str) -> Diagnosis:
    """An ``undecided`` diagnosis turned ``invertible`` once a certified computation proved it (``how``)."""
    if diag.status != "undecided":
        return diag
    return replace(diag, status="invertible",
                   message=f"kappa is invertible at depth {depth_text(diag.depth)} ({how})")


# ---------------------------------------------------------------- the conditioning quantities

@dataclass(frozen=True)
class ConditionResult:
    """Certified enclosures of det, log10|det|, the spectrum and cond_2 of kappa at one depth.

    ``eigenvalues`` is a :class:`~verify.linalg.ball_matrix.BallVector` in ascending order
    (``.mid``, ``.rad`` as numpy arrays); at a depth where kappa is singular by the data's
    structure only ``det`` = 0 (exact) and the ``diagnosis`` are set. ``log10_cond2`` is
    log10 of the midpoint of cond_2 (``solve``'s ``digits_lost`` bounds cond_1 instead).
    """

    kernel: str
    depth: int
    digits: int
    n: int
    diagnosis: Diagnosis
    det: Ball
    log10_abs_det: Ball | None = None
    log10_abs_det_raw: Ball | None = None
    eigenvalues: BallVector | None = None
    condition_number: Ball | None = None
    working_precision_bits: int | None = None
    kernel_digits: int | None = None
    parameterization: Parameterization = DEFAULT
    model: Model | None = None         # None: the seed-family model of ``parameterization``

    def __post_init__(self) -> None:
        if self.eigenvalues is not None:
            object.__setattr__(self, "eigenvalues", BallVector.of(check_ascending(self.eigenvalues)))

    @property
    def singular(self) -> bool:
        return self.diagnosis.singular

    @property
    def guarantee(self) -> str:
        return SINGULAR_GUARANTEE if self.singular else GUARANTEE

    @property
    def lambda_min(self) -> Ball:
        return self.eigenvalues[0] if self.eigenvalues else Ball.exact(0)

    @property
    def lambda_max(self) -> Ball | None:
        return self.eigenvalues[-1] if self.eigenvalues else None

    @property
    def log10_cond2(self) -> float | None:
        """log10 of the midpoint of the certified cond_2 enclosure, to 0.01 (None where singular)."""
        cond = self.condition_number
        return None if cond is None else round(log10_fraction(cond.mid_fraction), 2)

    def metadata(self) -> dict[str, Any]:
        """What the result is and how it was made (no enclosures), with the model."""
        return {"kernel": self.kernel, "depth": self.depth, "digits": self.digits, "n": self.n,
                "singular": self.singular, "diagnosis": self.diagnosis.message, "guarantee": self.guarantee,
                **network_json(self.parameterization, self.model), "log10_cond2": self.log10_cond2,
                "working_precision_bits": self.working_precision_bits, "kernel_digits": self.kernel_digits}

    def to_json(self) -> dict[str, Any]:
        d = self.digits
        if self.singular:
            return {"depth": self.depth, "singular": True, "diagnosis": self.diagnosis.message,
                    "guarantee": SINGULAR_GUARANTEE,
                    "det": {"mid": "0", "rad": "0"}, "lambda_min": {"mid": "0", "rad": "0"},
                    "log10_abs_det": None, "condition_number": None}
        cond = self.condition_number
        # conditioning_sweep fills all of these whenever kappa is not singular
        assert self.log10_abs_det is not None and self.eigenvalues is not None
        assert cond is not None and self.lambda_max is not None
        return {
            "depth": self.depth,
            "singular": False,
            "guarantee": GUARANTEE,
            "det": self.det.to_json(d),
            "log10_abs_det": self.log10_abs_det.to_json(d),
            "log10_abs_det_raw": self.log10_abs_det_raw.to_json(d) if self.log10_abs_det_raw else None,
            "lambda_min": self.lambda_min.to_json(d),
            "lambda_max": self.lambda_max.to_json(d),
            "eigenvalues": self.eigenvalues.decimals(d),
            "condition_number": cond.to_json(d),
            "condition_number_bounds": _bounds(cond),
            "log10_cond2": self.log10_cond2,
            "working_precision_bits": self.working_precision_bits,
            "kernel_digits": self.kernel_digits,
        }


def network_json(param: Parameterization, model: Model | None) -> dict[str, Any]:
    """``{"parameterization", "model"}`` of a result's metadata: the full model in both outside the seed family.

    >>> network_json(DEFAULT, None)["model"]["activation"]
    'relu'
    """
    full = model or Model(sigma_w2=param.sigma_w2, sigma_b2=param.sigma_b2)
    return {"parameterization": param.describe() if full.is_seed_family else full.describe(),
            "model": full.describe()}


def _bounds(b: Ball, sig: int = 6) -> list[str]:
    """[lower, upper] of a positive ball as decimals with ``sig`` digits, rounded outward."""
    lo, hi = b.mid_fraction - b.rad_fraction, b.mid_fraction + b.rad_fraction
    return [decimal_lower(lo, sig), decimal_upper(hi, sig)]


class UnorderedEnclosures(RuntimeError):
    """Eigenvalue enclosures that are not in ascending order (a bug: never retried with more bits)."""


def check_ascending(enclosures: Sequence[Ball]) -> list[Ball]:
    """``enclosures`` unchanged if both endpoints ascend; :class:`UnorderedEnclosures` otherwise.

    ``ConditionResult.lambda_min`` / ``lambda_max`` take the first and last enclosure:
    that is right only for a list of enclosures of lambda_1 <= ... <= lambda_n in this
    order, as :func:`weyl_enclosures` builds them. Ascending endpoints do not prove
    that order, but a list given in another order (e.g. sorted by something else) is
    caught here instead of being read as lambda_min.
    """
    for k in range(1, len(enclosures)):
        lo, hi = enclosures[k - 1], enclosures[k]
        if (lo.mid_fraction - lo.rad_fraction > hi.mid_fraction - hi.rad_fraction
                or lo.mid_fraction + lo.rad_fraction > hi.mid_fraction + hi.rad_fraction):
            raise UnorderedEnclosures(f"eigenvalue enclosures {k} and {k + 1} are not in ascending order")
    return list(enclosures)


def frobenius_upper(m: arb_mat) -> arb:
    """An exact upper bound of the Frobenius norm sqrt(sum_ij |m_ij|^2) (which bounds |m|_2)."""
    total = arb(0)
    for i in range(m.nrows()):
        for j in range(m.ncols()):
            total += abs(m[i, j]).upper() ** 2
    return total.upper().sqrt().upper()


def _diagonal(values: Sequence[arb]) -> arb_mat:
    out = arb_mat(len(values), len(values))
    for i, v in enumerate(values):
        out[i, i] = v
    return out


def _exact_key(x: arb) -> Fraction:
    man, exp = x.mid().man_exp()
    return Fraction(int(man)) * Fraction(2) ** int(exp)


def weyl_enclosures(a: arb_mat, values: Sequence[arb], vectors: arb_mat) -> list[arb] | None:
    """Certified enclosures of lambda_1 <= ... <= lambda_n of every symmetric matrix in ``a``, ascending.

    ``values`` (d) and ``vectors`` (V, columns) are any exact real numbers (the
    midpoints of an approximate eigendecomposition; nothing about them is assumed).
    Returns ``[d_(k) +- r]`` with d sorted ascending and one common radius

        r = |A - V D V^T|_F + e (2 + e) max_i |d_i|,   e = |V^T V - I|_F,

    or None when e >= 1 (V too far from orthogonal) or a bound is not finite.

    Proof. Let A be the exact symmetric matrix (its entries lie in the balls of
    ``a``), D = diag(d), E = V^T V - I, so |E|_2 <= |E|_F <= e < 1. The eigenvalues
    of V^T V lie in [1 - e, 1 + e], so V is invertible, and V = Q P (polar form) with
    Q orthogonal and P = (V^T V)^(1/2) symmetric with eigenvalues in
    [sqrt(1 - e), sqrt(1 + e)]: |P - I|_2 <= 1 - sqrt(1 - e) <= e (as sqrt(1 - e) >=
    1 - e) and |P|_2 <= sqrt(1 + e) <= 1 + e. C = Q D Q^T is symmetric with eigenvalues
    exactly d_(1) <= ... <= d_(n). With B = V D V^T = Q P D P Q^T,
    |B - C|_2 = |P D P - D|_2 = |(P - I) D P + D (P - I)|_2 <= e |D|_2 (1 + e) + |D|_2 e
    = e (2 + e) max|d_i|. Weyl's inequality for symmetric matrices, |lambda_k(A) -
    lambda_k(C)| <= |A - C|_2 with both spectra sorted ascending, gives
    |lambda_k(A) - d_(k)| <= |A - B|_2 + |B - C|_2 <= |A - B|_F + e (2 + e) max|d_i| = r.
    Arb bounds |A - B|_F over every A in the balls (also when ``a`` is not exactly
    symmetric: only the symmetric A inside matter), and e, with rounding included. QED.

    The k-th enclosure is that of the k-th smallest eigenvalue whatever the order of
    ``values``, and clusters of equal eigenvalues cost nothing (no isolation is needed):
    the enclosures may overlap.

    >>> from flint import arb_mat, arb
    >>> a = arb_mat([[2, 1], [1, 2]])
    >>> s = arb(2).sqrt() / 2
    >>> v = arb_mat([[s.mid(), s.mid()], [-s.mid(), s.mid()]])
    >>> [e.contains(x) for e, x in zip(weyl_enclosures(a, [arb(3), arb(1)], v), [1, 3])]
    [True, True]
    """
    if not all(x.is_exact() for x in values):
        raise ValueError("weyl_enclosures needs exact values (midpoints)")
    n = a.nrows()
    ident = _diagonal([arb(1)] * n)
    e = frobenius_upper(vectors.transpose() * vectors - ident)
    if not e.is_finite() or not e < 1:
        return None
    residual = frobenius_upper(a - vectors * _diagonal(values) * vectors.transpose())
    top = max((abs(x) for x in values), key=_exact_key)
    rad = (residual + e * (2 + e) * top).upper()
    if not rad.is_finite():
        return None
    balls = [d + arb(0, rad) for d in sorted(values, key=_exact_key)]   # may round d to the precision
    common = max((b.rad() for b in balls), key=_exact_key)               # one radius: endpoints ascend
    return [b.mid() + arb(0, common) for b in balls]


def _flint_eigenvectors(mid: arb_mat) -> arb_mat | None:
    """Best effort: the real parts of flint's approximate eigenvectors (QR algorithm), or None."""
    n = mid.nrows()
    try:
        _, vecs = acb_mat(mid).eig(right=True, algorithm="approx")
    except (ValueError, ArithmeticError):
        return None
    out = arb_mat(n, n)
    for i in range(n):
        for j in range(n):
            x = vecs[i, j].real.mid()
            if not x.is_finite():
                return None
            out[i, j] = x
    return out


def _polar_factor(v: arb_mat, bits: int, max_steps: int = 60) -> arb_mat | None:
    """Best effort: the orthogonal polar factor of ``v`` by Newton-Schulz, X <- X (3I - X^T X) / 2.

    The iteration converges (quadratically) when every singular value of V lies in
    (0, sqrt 3), e.g. when |V^T V - I|_2 < 1; returns None if it does not reach a
    defect |X^T X - I|_F of about 2^-bits. QR eigenvectors of a cluster of equal
    eigenvalues span the right space but are far from orthogonal; this repairs them.
    """
    n = v.nrows()
    ident = _diagonal([arb(1)] * n)
    target = arb(2) ** (16 - bits) * n
    defect_was = None
    for _ in range(max_steps):
        gram = (v.transpose() * v).mid()
        defect = frobenius_upper((gram - ident).mid())
        if defect < target:
            return v
        if not defect.is_finite() or not defect < 1 or (defect_was is not None and not defect < defect_was):
            return None
        defect_was = defect
        v = (v * (3 * ident - gram) / 2).mid()
    return None


def _mpmath_eigh(mid: arb_mat, bits: int) -> tuple[list[arb], arb_mat]:
    """Best effort: mpmath's symmetric eigensolver (Householder + QL, orthogonal by construction)."""
    n = mid.nrows()
    with mpmath.workprec(bits), ctx.workprec(bits):
        m = mpmath.matrix(n, n)
        for i in range(n):
            for j in range(n):
                man, exp = mid[i, j].mid().man_exp()
                m[i, j] = mpmath.ldexp(mpmath.mpf(int(man)), int(exp))
        values, vectors = mpmath.eigsy((m + m.T) / 2)
        out = arb_mat(n, n)
        for i in range(n):
            for j in range(n):
                out[i, j] = arb(vectors[i, j]).mid()
        return [arb(values[i]).mid() for i in range(n)], out


def approximate_eigh(mid: arb_mat, bits: int) -> tuple[list[arb], arb_mat]:
    """Best effort: exact values d and vectors V with A V ~ V D for a symmetric midpoint matrix.

    flint's QR eigenvectors (C, fast), made orthogonal by :func:`_polar_factor`, with d
    the Rayleigh quotients diag(V^T A V); mpmath's ``eigsy`` when that fails. Nothing
    here is certified: :func:`weyl_enclosures` accepts any (d, V). The decomposition is
    computed with ``APPROX_GUARD_BITS`` more bits than the certified arithmetic, so that
    its error stays below the rounding of the latter.
    """
    bits += APPROX_GUARD_BITS
    with ctx.workprec(bits):
        v = _flint_eigenvectors(mid)
        v = _polar_factor(v, bits) if v is not None else None
        if v is None:
            return _mpmath_eigh(mid, bits)
        rayleigh = v.transpose() * mid * v
        return [rayleigh[i, i].mid() for i in range(mid.nrows())], v


def eigenvalues_symmetric(a: arb_mat, *, prec: int) -> list[arb] | None:
    """Certified enclosures of the ascending eigenvalues of the symmetric matrix in ``a`` (None: too wide).

    An approximate eigendecomposition of the midpoint matrix (:func:`approximate_eigh`, with
    ``prec`` + ``APPROX_GUARD_BITS`` bits) turned into enclosures by :func:`weyl_enclosures`
    in ``prec``-bit ball arithmetic: clusters of (nearly) equal eigenvalues need no isolation,
    and the k-th enclosure is that of the k-th smallest eigenvalue by construction (no
    sorting of overlapping balls).
    """
    with ctx.workprec(prec):
        values, vectors = approximate_eigh(a.mid(), prec)
        return weyl_enclosures(a, values, vectors)


def log10_abs(x: arb, *, prec: int) -> arb:
    """Certified enclosure of log10 |x| in ``prec``-bit ball arithmetic."""
    with ctx.workprec(prec):
        return abs(x).log() / arb(10).log()


def log10_raw_factor(kernel: str, depth: int, n0: int, *, prec: int) -> arb:
    """log10 of Theta^(L)(x,x) (ntk) or Sigma^(L)(x,x) (nngp) in the default model (exact formula), at ``prec`` bits."""
    with ctx.workprec(prec):
        value = arb(2).log() * (1 - depth) - arb(n0).log()
        if kernel == "ntk":
            value += arb(depth).log()
        return value / arb(10).log()


def raw_available(gram: KernelResult) -> bool:
    """Whether log10 of the raw kernel's scale is certified: the default model (exact formula) or a
    certified diagonal from the sweep (models outside the seed family); not for other seed variances."""
    model = gram.full_model
    return (model.is_seed_family and gram.parameterization.is_default) or gram.raw_factor_ball is not None


def log10_raw_scale(gram: KernelResult, *, prec: int) -> arb:
    """Certified log10 of the raw diagonal Theta^(L)(x,x) or Sigma^(L)(x,x) of ``gram`` (see :func:`raw_available`)."""
    if gram.raw_factor_ball is not None:
        return log10_abs(gram.raw_factor_ball.to_arb(), prec=prec)
    return log10_raw_factor(gram.kernel, gram.depth, gram.n0, prec=prec)


def _conditioning_values(gram: KernelResult, bits: int, midpoints: bool, raw: bool) -> dict | None:
    """det, log10|det|, the ascending eigenvalues and cond_2 = lambda_max / lambda_min (None: not certified).

    kappa is a Gram matrix of a positive semidefinite kernel, so its eigenvalues are
    >= 0 and cond_2 = lambda_n / lambda_1 once lambda_1 > 0 is certified; the first
    and last enclosures are those of lambda_1 and lambda_n by construction
    (:func:`weyl_enclosures`).
    """
    with ctx.workprec(bits):
        a = arb_from_gaps(gram.gaps, midpoints, prec=bits)
        det = a.det()
        ev = eigenvalues_symmetric(a, prec=bits)
        if ev is None or not det.is_finite() or det.contains(0) or not ev[0] > 0:
            return None
        log10 = log10_abs(det, prec=bits)
        out = {"det": det, "log10": log10, "eig": ev, "cond": ev[-1] / ev[0]}
        if raw:
            out["log10_raw"] = log10 + gram.shape[0] * log10_raw_scale(gram, prec=bits)
        return out


def _conditioning_digits(v: dict | None) -> float:
    if v is None:
        return 0.0
    parts = [relative_digits(v["det"]), correct_digits(v["log10"]), relative_digits(v["cond"])]
    parts += [relative_digits(e) for e in v["eig"]]
    return min(parts)


def conditioning_sweep(data: Dataset, depths: Sequence[int], kernel: str = "ntk", digits: int = 30,
                       param: Parameterization | None = None, progress: bool | None = None,
                       source: KernelSource | None = None, *, model: Model | None = None,
                       scheduler: Any = None) -> list[ConditionResult]:
    """Certified enclosures of det, log10|det|, spectrum and cond_2 of kappa at each depth.

    The kernels of all depths come from one sweep; ``digits`` is the number of
    relative digits of every reported quantity (``correct_digits`` for log10|det|).
    The network is ``param`` or ``model`` (any :class:`~verify.core.model.Model`; not both).
    ``log10_abs_det_raw`` (the raw kernel's log10|det|) is given for the default model and
    for models outside the seed family (their certified diagonal), not for other seed variances.
    ``scheduler`` runs the kernels on a Dask cluster (see :class:`KernelSource`).
    """
    digits = check_digits(digits)
    depths = sorted({check_depth(d) for d in depths})
    source = source or KernelSource(data, kernel, param, progress=progress, model=model, scheduler=scheduler)
    source.prefetch([d for d in depths if not source.diagnose(d).singular], digits + KERNEL_GUARD_DIGITS)
    return [_condition_at(source, depth, digits) for depth in depths]


def _condition_at(source: KernelSource, depth: int, digits: int) -> ConditionResult:
    """The certified conditioning at one depth (exact det = 0 where the data make kappa singular)."""
    diag = source.diagnose(depth)
    if diag.singular:
        return ConditionResult(source.kernel, depth, digits, source.data.n, diag, Ball.exact(0),
                               parameterization=source.param, model=source.model)
    raw = raw_available(source.get(depth, digits + KERNEL_GUARD_DIGITS)[0])

    def gram_at(kd: int) -> KernelResult:
        return source.get(depth, kd)[0]

    res = certify(gram_at,
                  lambda g, b, mid: _conditioning_values(g, b, mid, raw),
                  _conditioning_digits, digits,
                  lambda g: lost_digits(min_gap(g.gaps), g.shape[0]),
                  f"conditioning of kappa at depth {depth_text(depth)}")
    v = res.value
    assert v is not None  # certify returns a value with >= digits >= 1 digits; None has 0
    diag = certified_invertible(diag, "certified: lambda_min > 0")
    return ConditionResult(
        source.kernel, depth, digits, source.data.n, diag, Ball.from_arb(v["det"]),
        Ball.from_arb(v["log10"]), Ball.from_arb(v["log10_raw"]) if raw else None,
        BallVector.of(Ball.from_arb(e) for e in v["eig"]), Ball.from_arb(v["cond"]),
        res.working_precision_bits, res.kernel_digits, source.param, source.model)


def conditioning(data: Dataset, depth: int, kernel: str = "ntk", digits: int = 30,
                 param: Parameterization | None = None, progress: bool | None = None, *,
                 model: Model | None = None) -> ConditionResult:
    """Certified enclosures of det, log10|det|, spectrum and cond_2 of kappa at one depth."""
    return conditioning_sweep(data, [depth], kernel, digits, param, progress, model=model)[0]
