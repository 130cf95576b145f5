"""Exact diagnosis of singular training sets, and the three invertibility regimes for L >= 2.

Everything here is decided in exact rational arithmetic on the data (no kernel is
computed), so a singular kernel matrix is reported with its reason instead of a
wrong number.

Theorem (normalized NTK and NNGP of MATH.md's model, sigma_b^2 = 0, any sigma_w^2,
points on S^{n0-1}; proof sketch below). Call two training points *coinciding* if
they are the same point of the sphere and *antipodal* if x' = -x. Then kappa is
invertible

* at depth L = 1 (kappa = x.x'/n0) iff the points are linearly independent
  (so never when n > n0);
* for every L >= 2, in exactly three regimes of distinct points:

  - R1: no antipodal pair: invertible for all L >= 2;
  - R2: antipodal pairs {x_p, -x_p} whose directions x_p are linearly independent
    (e.g. a single pair x, -x, or at most n0 pairs in general position):
    invertible for all L >= 2;
  - R3: antipodal pairs with linearly dependent directions (e.g. more than n0
    pairs): singular at L = 2, invertible for all L >= 3;

* never when two points coincide (two equal rows).

Proof sketch. On the sphere kappa_ij = F(x_i . x_j) with F a power series
sum_k a_k t^k, a_k >= 0 (h(z) = 1/pi + z/2 + sum_j c_{2j} z^{2j}, c_{2j} > 0, and the
recursions only add, multiply and compose such series). Hence
c^T kappa c = sum_k a_k |sum_i c_i x_i^{(x)k}|^2. At L = 2 (both kernels) the odd
part of F is exactly t/2 and every even coefficient is positive, so c^T kappa c = 0
iff c sums to zero on every line {x, -x} and sum_i c_i x_i = 0: with distinct points
this is c = sum_p d_p (e_{x_p} - e_{-x_p}) with sum_p d_p x_p = 0. For L >= 3 every
a_k > 0 (h(h(z)) contains z E(z), E with all even degrees), so c^T kappa c = 0
forces sum_i c_i p(x_i) = 0 for every polynomial p, i.e. c = 0 on distinct points.
With a bias (sigma_b^2 > 0; proof below) kappa is invertible for every L >= 2 as
soon as the points are distinct, antipodal pairs or not: the regimes R2 and R3 then
behave like R1. At L = 1 kappa (= sigma_w^2 x.x'/n0 + sigma_b^2, normalized) is
singular iff the vectors (x_i/|x_i|, 1) are dependent.

Proof with a bias (points on the sphere, as every dataset is projected; q_l =
Sigma^(l)(x,x) is the same for every point). At layer 1 the normalized correlation is
rho^(1) = beta + (1 - beta) t with t = x.x' and beta = sigma_b^2 / (sigma_w^2/n0 +
sigma_b^2) in (0, 1). Each further layer gives rho^(l+1) = gamma_l + (1 - gamma_l)
h(rho^(l)) with gamma_l = sigma_b^2 / (sigma_w^2 q_l/2 + sigma_b^2) in (0, 1), and h
has coefficients a_0 = 1/pi, a_1 = 1/2, a_{2j} > 0 (all j >= 1), the others 0, with
sum_k a_k = h(1) = 1. Hence rho^(2) = g(t) with g(t) = gamma_1 + (1 - gamma_1) sum_k
a_k (beta + (1 - beta) t)^k. Expanding the powers (all terms >= 0, and sum_k a_k
(beta + (1 - beta)|t|)^k <= 1 converges, so the rearrangement is allowed), the
coefficient of t^m is (1 - gamma_1) sum_{k >= m} a_k C(k, m) beta^(k-m) (1 - beta)^m,
which is > 0 for every m, since some even k >= m has a_k > 0 and beta > 0. So the
depth-2 NNGP matrix is sum_m b_m (x_i.x_j)^m with every b_m > 0, and c^T kappa c =
sum_m b_m |sum_i c_i x_i^(x)m|^2 vanishes only if sum_i c_i p(x_i) = 0 for every
polynomial p, i.e. c = 0 for distinct points: invertible. Deeper NNGP layers keep
every coefficient > 0 (composing with gamma + (1 - gamma) h keeps a positive multiple
of the previous series, a_1 > 0). The NTK adds, at each layer, Theta^(l) *
SigmaDot^(l+1) (entrywise product of two positive semidefinite kernel matrices:
positive semidefinite, Schur) to the positive definite Sigma^(l+1), so its matrix is
positive definite too; the normalized kernels are positive multiples of the raw ones
(equal diagonals). QED. Without a bias beta = 0, and at L = 2 the odd part of the
series is only t/2: that is where R3 fails.

>>> from verify.data.dataset import Dataset
>>> d = Dataset.from_rows([["1", "0"], ["0", "1"], ["-1", "0"], ["0", "-1"], ["1", "1"], ["-1", "-1"]])
>>> regime_of(d).name
'R3'
>>> print(diagnose(d, 2).message[:76])
kappa is singular at depth 2: the antipodal pairs (1,3), (2,4), (5,6) have l
>>> diagnose(d, 3).status
'invertible'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from flint import arb, ctx, fmpq

from verify.core.depths import depth_text
from verify.core.errors import SingularKernelError
from verify.core.params import DEFAULT, Parameterization
from verify.data.dataset import Dataset

Vector = tuple[Fraction, ...]


@dataclass(frozen=True)
class Regime:
    """Exact structure of a training set: coinciding points, antipodal pairs, their rank."""

    name: str                                  # "duplicates", "R1", "R2" or "R3"
    duplicates: tuple[tuple[int, int], ...]    # 0-based index pairs of coinciding points
    antipodal: tuple[tuple[int, int], ...]     # 0-based (i, j) with x_j = -x_i
    antipodal_rank: int
    first_invertible_depth: int | None         # None: singular at every depth
    biased: bool = False                       # sigma_b^2 > 0: R2 and R3 behave like R1

    def describe(self) -> str:
        """The regime in words, for the model it was computed for (with or without a bias)."""
        if self.biased and self.name != "duplicates":
            pairs = "no antipodal pair" if self.name == "R1" else "antipodal pairs"
            return (f"distinct points, {pairs}: with a bias (sigma_b^2 > 0) invertible for every "
                    "L >= 2")
        texts = {
            "duplicates": "two training points coincide: singular at every depth",
            "R1": "distinct points, no antipodal pair: invertible for every L >= 2",
            "R2": "distinct points, antipodal pairs with independent directions: "
                  "invertible for every L >= 2",
            "R3": "distinct points, antipodal pairs with dependent directions: "
                  "singular at L = 2, invertible for every L >= 3",
        }
        return texts[self.name]


@dataclass(frozen=True)
class Diagnosis:
    """Exact verdict on kappa = K(X, X) at one depth: ``invertible``, ``singular`` or ``undecided``.

    ``null_vector`` (singular only) is an exact certificate u with kappa u = 0, as
    entries (index, c, s) meaning u_index = c * sqrt(s).
    """

    depth: int
    status: str
    message: str
    regime: Regime
    null_vector: tuple[tuple[int, Fraction, Fraction], ...] = field(default=())

    @property
    def singular(self) -> bool:
        return self.status == "singular"

    def null_vector_arb(self, n: int, *, prec: int) -> list[arb]:
        """Certified enclosure of the certificate u (length n) in ``prec``-bit ball arithmetic."""
        with ctx.workprec(prec):
            out = [arb(0)] * n
            for i, c, s in self.null_vector:
                out[i] = out[i] + arb(fmpq(c.numerator, c.denominator)) * arb(
                    fmpq(s.numerator, s.denominator)).sqrt()
            return out

    def to_json(self) -> dict[str, Any]:
        reg = self.regime
        return {
            "status": self.status,
            "message": self.message,
            "regime": reg.name,
            "regime_meaning": reg.describe(),
            "coinciding_points": [[i + 1, j + 1] for i, j in reg.duplicates],
            "antipodal_pairs": [[i + 1, j + 1] for i, j in reg.antipodal],
            "guarantee": "exact (rational arithmetic on the data)",
        }


def _norm2(x: Vector) -> Fraction:
    return sum((v * v for v in x), Fraction(0))


def _ray_and_line(x: Vector) -> tuple[Vector, Vector]:
    """Exact keys of the ray {c x, c > 0} and of the line {c x, c != 0}."""
    lead = next(v for v in x if v != 0)
    return tuple(v / abs(lead) for v in x), tuple(v / lead for v in x)


def dependency(vectors: Sequence[Vector]) -> tuple[int, list[Fraction] | None]:
    """Rank of ``vectors`` and, if dependent, exact c != 0 with sum_i c_i v_i = 0.

    >>> dependency([(Fraction(1), Fraction(0)), (Fraction(0), Fraction(1)), (Fraction(1), Fraction(1))])
    (2, [Fraction(-1, 1), Fraction(-1, 1), Fraction(1, 1)])
    """
    # (pivot, row, combination); a combination is sparse (the basis vectors' positions and its own),
    # kept as {position: coefficient}: O(N r^2) for N vectors of rank r, not O(N^2 r)
    basis: list[tuple[int, list[Fraction], dict[int, Fraction]]] = []
    found: dict[int, Fraction] | None = None
    for k, v in enumerate(vectors):
        row = list(v)
        comb = {k: Fraction(1)}
        for bpivot, brow, bcomb in basis:
            f = row[bpivot]
            if f:
                row = [a - f * b for a, b in zip(row, brow, strict=True)]
                for i, b in bcomb.items():
                    comb[i] = comb.get(i, Fraction(0)) - f * b
        pivot = next((i for i, a in enumerate(row) if a != 0), None)
        if pivot is None:
            found = found or comb
            continue
        scale = row[pivot]
        basis.append((pivot, [a / scale for a in row], {i: a / scale for i, a in comb.items()}))
    if found is None:
        return len(basis), None
    return len(basis), [found.get(i, Fraction(0)) for i in range(len(vectors))]


def regime_of(data: Dataset, param: Parameterization | None = None) -> Regime:
    """Exact invertibility regime of a training set under ``param`` (see the module docstring).

    The name (R1, R2, R3, duplicates) is the structure of the data; the first
    invertible depth and :meth:`Regime.describe` depend on the bias: with
    sigma_b^2 > 0 every set of distinct points is invertible from L = 2 on.
    """
    param = param or DEFAULT
    rays: dict[Vector, int] = {}
    lines: dict[Vector, list[int]] = {}
    duplicates = []
    for i, x in enumerate(data.points):
        ray, line = _ray_and_line(x)
        if ray in rays:
            duplicates.append((rays[ray], i))
            continue
        rays[ray] = i
        lines.setdefault(line, []).append(i)
    antipodal = tuple((m[0], m[1]) for m in lines.values() if len(m) == 2)
    rank, dep = dependency([data.points[i] for i, _ in antipodal])
    if duplicates:
        name, first = "duplicates", None
    elif not antipodal:
        name, first = "R1", 2
    else:
        name, first = ("R2", 2) if dep is None else ("R3", 3)
    biased = param.sigma_b2 > 0
    if first is not None and biased:
        first = 2
    reg = Regime(name, tuple(duplicates), antipodal, rank, first, biased)
    if first == 2 and _diagnose_depth_one(data, reg, param).status == "invertible":
        reg = replace(reg, first_invertible_depth=1)
    return reg


def diagnose(data: Dataset, depth: int, param: Parameterization | None = None) -> Diagnosis:
    """Exact verdict: is kappa (normalized NTK or NNGP, same answer) singular at ``depth``?"""
    param = param or DEFAULT
    reg = regime_of(data, param)
    pts = data.points
    if reg.duplicates:
        i, j = reg.duplicates[0]
        more = f" ({len(reg.duplicates)} coinciding pairs)" if len(reg.duplicates) > 1 else ""
        return Diagnosis(depth, "singular",
                         f"kappa is singular: training points {i + 1} and {j + 1} coincide{more}",
                         reg, ((i, Fraction(1), Fraction(1)), (j, Fraction(-1), Fraction(1))))
    if depth == 1:
        return _diagnose_depth_one(data, reg, param)
    if depth == 2 and param.sigma_b2 == 0 and reg.name == "R3":
        _, dep = dependency([pts[i] for i, _ in reg.antipodal])
        assert dep is not None  # R3: regime_of found these antipodal directions dependent
        pairs = ", ".join(f"({i + 1},{j + 1})" for i, j in reg.antipodal)
        null = []
        for (i, j), c in zip(reg.antipodal, dep, strict=True):
            if c:
                null += [(i, c, _norm2(pts[i])), (j, -c, _norm2(pts[i]))]
        return Diagnosis(depth, "singular",
                         f"kappa is singular at depth 2: the antipodal pairs {pairs} have linearly "
                         f"dependent directions (rank {reg.antipodal_rank} < {len(reg.antipodal)}); "
                         "at depth 2 the odd part of the kernel is linear", reg, tuple(null))
    return Diagnosis(depth, "invertible", f"kappa is invertible at depth {depth_text(depth)} ({reg.describe()})",
                     reg)


def _diagnose_depth_one(data: Dataset, reg: Regime, param: Parameterization) -> Diagnosis:
    pts, n, n0 = data.points, data.n, data.n0
    if param.sigma_b2 == 0:
        rank, dep = dependency(pts)
        if dep is None:
            return Diagnosis(1, "invertible", "kappa is invertible at depth 1 (linearly independent "
                             "points)", reg)
        rows = [i for i, c in enumerate(dep) if c]
        why = (f"{n} points in dimension {n0}" if n > n0 else
               "training points " + ", ".join(str(i + 1) for i in rows) + " are linearly dependent")
        return Diagnosis(1, "singular", f"kappa is singular at depth 1: the depth-1 kernel x.x'/n0 "
                         f"has rank {rank} < {n} ({why})", reg,
                         tuple((i, dep[i], _norm2(pts[i])) for i in rows))
    if n > n0 + 1:
        return Diagnosis(1, "singular", f"kappa is singular at depth 1: with a bias the depth-1 "
                         f"kernel has rank <= n0 + 1 = {n0 + 1} < {n} points", reg)
    norms = [_rational_sqrt(_norm2(x)) for x in pts]
    if any(r is None for r in norms):
        return Diagnosis(1, "undecided", "depth 1 with a bias and irrational norms: left to the "
                         "certified determinant", reg)
    exact_norms = [r for r in norms if r is not None]   # all of them (checked above)
    lifted = [tuple(v / r for v in x) + (Fraction(1),) for x, r in zip(pts, exact_norms, strict=True)]
    rank, dep = dependency(lifted)
    if dep is None:
        return Diagnosis(1, "invertible", "kappa is invertible at depth 1", reg)
    return Diagnosis(1, "singular", f"kappa is singular at depth 1: the vectors (x/|x|, 1) have "
                     f"rank {rank} < {n}", reg,
                     tuple((i, c, Fraction(1)) for i, c in enumerate(dep) if c))


def _rational_sqrt(q: Fraction) -> Fraction | None:
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(a, b) if a * a == q.numerator and b * b == q.denominator else None


def require_invertible(data: Dataset, depth: int, param: Parameterization | None = None) -> Diagnosis:
    """The diagnosis, or :class:`SingularKernelError` (exit 2 on the CLI) when kappa is singular."""
    diag = diagnose(data, depth, param)
    if diag.singular:
        raise SingularKernelError(diag.message)
    return diag


def require_distinct(data: Dataset, regime: Regime) -> None:
    """:class:`SingularKernelError` if two points coincide: kappa is then singular at every depth.

    (A singularity at particular depths only, as in R3, is no error: it is a result to report.)
    """
    if regime.duplicates:
        raise SingularKernelError(diagnose(data, 1).message)
