"""Finite-width ReLU networks of a :class:`~verify.core.params.Parameterization` and their empirical kernels.

The network with L dense layers and hidden widths n_1 .. n_{L-1} (n_L = 1) computes

    z^{l+1} = sqrt(sigma_w^2 / n_l) W^l h^l + sigma_b b^l,    h^0 = x,  h^l = relu(z^l),

with W^l (shape n_{l+1} x n_l) and b^l standard normal, and f(x) = z^L. This is
``neural_tangents.stax.serial(Dense(n_1, W_std=sigma_w, b_std=sigma_b,
parameterization='ntk'), Relu(), ..., Dense(1, ...))``, with nt's ``W`` the transpose of
ours; ``sigma_b^2 = 0`` means no bias parameters at all (nt's ``b_std=None``).

Empirical kernels, from exact per-layer formulas (no autodiff), batched over the N
inputs in float64. With delta^{l+1} = df/dz^{l+1} (backpropagated, relu'(0) = 0)

    Theta_emp(x, x') = sum_l  (delta^{l+1} . delta'^{l+1}) * (sigma_w^2/n_l h^l . h'^l + sigma_b^2)

since df/dW^l = sqrt(sigma_w^2/n_l) delta^{l+1} (h^l)^T and df/db^l = sigma_b delta^{l+1}.
The empirical NNGP ``kind="features"`` is sigma_w^2/n_{L-1} h^{L-1} . h'^{L-1} + sigma_b^2,
the covariance of f given the last hidden layer (it tends to Sigma^(L)); ``kind="outputs"``
is f(x) f(x'), what ``neural_tangents.empirical_nngp_fn`` returns for one output.

Two samplers give the same distribution of these kernels:

* ``dense``: a concrete network (:func:`init_network`), weights drawn in fixed row
  blocks from per-block seed streams on all cores (reproducible for any core count);
* ``conditional``: the Gaussian conditioning trick. Only the projections of each W^l
  onto the span of the N layer inputs (forward) and of the N backpropagated vectors
  (backward) are drawn, O(L n N^2) work instead of O(L n^2): if Q spans the inputs,
  W = (W Q) Q^T + W (I - Q Q^T) with the two parts independent, W Q standard normal,
  and W (I - Q Q^T) independent of everything the forward pass saw (proof at
  :class:`_ConditionalLayer`).

Reproducible on any machine. Every random number comes from a seeded
``np.random.Generator`` in a fixed order and shape, and what is done with it involves
no choice that a linear-algebra library makes: the dense sampler only multiplies
matrices; the conditional one factors with :func:`canonical_qr` (Gram-Schmidt twice
in numpy, positive pivots: unique, so no sign, order or algorithm is left to LAPACK,
whose Householder signs and ``eigh`` eigenvectors differ between builds and CPUs).
Two machines with the same package versions draw the same samples, and the kernels
differ only by the rounding of BLAS products (different CPU kernels sum in different
orders), not by a different sample.

>>> net = init_network(2, hidden=3, depth=2, seed=0)
>>> net.widths
(2, 3, 1)
>>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
>>> K = net.kernels(X)
>>> bool(np.allclose(K.ntk, net.per_example_gradients(X) @ net.per_example_gradients(X).T))
True
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from verify.core.errors import InputError
from verify.core.params import DEFAULT, Parameterization

SeedLike = int | Sequence[int] | np.random.SeedSequence
SAMPLERS = ("dense", "conditional")
NNGP_KINDS = ("features", "outputs")
CHUNK_ROWS = 256
"""Rows of a weight matrix drawn from one seed stream (fixed, so results do not depend on cores)."""
PARALLEL_ENTRIES = 1 << 20
DEPENDENCE_TOL = 1e-10
"""A column whose residual after Gram-Schmidt twice is at most this fraction of its norm is dependent."""
MAX_DENSE_PARAMETERS = 200_000_000
"""About 1.6 GB of float64 weights; beyond it use the conditional sampler."""


def seed_sequence(seed: SeedLike, *key: int) -> np.random.SeedSequence:
    """The reproducible child stream ``key`` of ``seed`` (independent streams for distinct keys).

    >>> seed_sequence(7, 1, 2).spawn_key
    (1, 2)
    """
    if isinstance(seed, np.random.SeedSequence):
        base = seed
    else:
        entropy = [seed] if isinstance(seed, (int, np.integer)) else list(seed)
        if not entropy or any(isinstance(v, bool) or int(v) < 0 for v in entropy):
            raise InputError(f"seed must be a non-negative integer (or a list of them), got {seed!r}")
        base = np.random.SeedSequence([int(v) for v in entropy])
    return np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + tuple(key))


def layer_widths(n0: int, hidden: int | Sequence[int], depth: int | None = None) -> tuple[int, ...]:
    """The widths (n_0, n_1, .., n_{L-1}, 1) of an L-layer network; ``hidden`` an int needs ``depth``.

    >>> layer_widths(3, 8, depth=3), layer_widths(3, [5, 4])
    ((3, 8, 8, 1), (3, 5, 4, 1))
    """
    if isinstance(hidden, (int, np.integer)):
        if depth is None:
            raise InputError("give the depth when all hidden layers have one width")
        hidden = [int(hidden)] * (int(depth) - 1)
    hidden = [int(h) for h in hidden]
    if depth is not None and len(hidden) != int(depth) - 1:
        raise InputError(f"depth {depth} needs {int(depth) - 1} hidden widths, got {len(hidden)}")
    widths = (int(n0), *hidden, 1)
    if any(w < 1 for w in widths):
        raise InputError(f"widths must be >= 1, got {widths}")
    return widths


def _scales(param: Parameterization, widths: Sequence[int]) -> tuple[list[float], float]:
    """Per-layer weight scales sqrt(sigma_w^2 / n_l) and the bias scale sigma_b."""
    w2, b2 = float(param.sigma_w2), float(param.sigma_b2)
    return [math.sqrt(w2 / n) for n in widths[:-1]], math.sqrt(b2)


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


@dataclass(frozen=True)
class EmpiricalKernels:
    """Empirical kernels of one network on N inputs (raw, not normalized), float64."""

    ntk: np.ndarray
    nngp: np.ndarray
    outputs: np.ndarray

    def nngp_of_kind(self, kind: str) -> np.ndarray:
        """``features`` (Sigma_emp, tends to Sigma^(L)) or ``outputs`` (f f^T)."""
        if kind not in NNGP_KINDS:
            raise InputError(f"unknown NNGP kind {kind!r}; choose from {', '.join(NNGP_KINDS)}")
        return self.nngp if kind == "features" else np.outer(self.outputs, self.outputs)


class _Layer(Protocol):
    def forward(self, h: np.ndarray) -> np.ndarray: ...

    def backward(self, delta: np.ndarray) -> np.ndarray: ...


@dataclass
class _DenseLayer:
    weight: np.ndarray
    bias: np.ndarray | None
    scale: float
    bias_scale: float

    def forward(self, h: np.ndarray) -> np.ndarray:
        z = self.scale * (h @ self.weight.T)
        return z if self.bias is None else z + self.bias_scale * self.bias

    def backward(self, delta: np.ndarray) -> np.ndarray:
        return self.scale * (delta @ self.weight)


class CanonicalQR(NamedTuple):
    """A = Q R restricted to the kept columns: ``q`` (k x r), ``r`` (r x N), ``kept`` (the r pivot columns)."""

    q: np.ndarray
    r: np.ndarray
    kept: np.ndarray


def canonical_qr(a: np.ndarray, tol: float = DEPENDENCE_TOL) -> CanonicalQR:
    """Best effort (float64): the QR factorization of A (k x N) with positive pivots, by Gram-Schmidt twice.

    Column j of A, in the order 0 .. N-1, is orthogonalized against the basis built so
    far by classical Gram-Schmidt run twice ("twice is enough"): c = Q^T a,
    v = a - Q c, then c' = Q^T v, v = v - Q c'. If |v| > tol |a| the column is kept:
    q = v / |v| joins the basis as its column i (i = the basis size so far) and the
    pivot is R[i, j] = |v| > 0. Otherwise (|v| <= tol |a|: a duplicate point, a point
    in the span of earlier ones, an all-zero column from dead ReLU units, columns
    beyond the rank k) it is dropped, and only its coefficients c + c' on the existing
    basis are stored. So Q^T Q = I and A = Q R up to rounding on the kept columns, and
    to within tol |a_j| on a dropped column j.

    *No choice of sign, order or algorithm.* In exact arithmetic the kept columns
    A_K are linearly independent, and A_K = Q R_K with R_K upper triangular with a
    positive diagonal is unique (R_K^T R_K = A_K^T A_K is the Cholesky factorization,
    unique for a positive definite matrix, and Q = A_K R_K^{-1}); a dropped column's
    coefficients are Q^T a_j, again determined by A. So (Q, R) is a function of A alone:
    any correct implementation on any machine returns the same numbers up to rounding,
    unlike LAPACK's Householder QR (the sign of each pivot follows the data and the
    library) or ``eigh`` (eigenvector signs and the order within clusters are the
    library's). The only discrete decision, keep or drop, compares |v| with tol |a|;
    it differs between machines only for data whose residual lies within rounding of
    that threshold, while exactly dependent columns (duplicates, rank <= k) have
    residuals of order u |a| (u = 2^-53; measured at most 2e-16 |a| for k from 3 to
    4096), six orders below ``tol``.

    *Accuracy.* A column is kept only if its residual is at least tol |a| >> u |a|:
    the first pass leaves v orthogonal to the basis to about u |a|, i.e. to u/tol
    relative to |v|, and the second pass restores orthogonality to O(u) relative to
    |v| (Kahan and Parlett's "twice is enough"; Giraud, Langou, Rozloznik and van den
    Eshof 2005), so Q^T Q = I to O(u) times small factors. Only matrix-vector
    products (BLAS level 2) and square roots are used, cost O(k N^2); no LAPACK.

    >>> a = np.array([[3.0, 3.0, 1.0], [4.0, 4.0, 0.0]])     # columns 0 and 1 coincide
    >>> f = canonical_qr(a)
    >>> f.kept.tolist(), f.r.round(12).tolist()
    ([0, 2], [[5.0, 5.0, 0.6], [0.0, 0.0, 0.8]])
    >>> bool(np.allclose(f.q @ f.r, a)), bool(np.allclose(f.q.T @ f.q, np.eye(2)))
    (True, True)
    """
    a = np.asarray(a, dtype=np.float64)
    k, n = a.shape
    columns = a.T                              # row j is column j of A (contiguous when A = h.T)
    basis = np.empty((min(k, n), k))           # rows q_0^T, q_1^T, ...
    coef = np.zeros((min(k, n), n))
    threshold = tol * np.sqrt(np.einsum("ij,ij->i", columns, columns))
    kept: list[int] = []
    for j in range(n):
        r = len(kept)
        v = columns[j]
        if r:
            v, coef[:r, j] = _orthogonalize_twice(basis[:r], v)
        pivot = math.sqrt(np.dot(v, v))
        if pivot > threshold[j] and r < len(basis):
            np.multiply(v, 1 / pivot, out=basis[r])
            coef[r, j] = pivot
            kept.append(j)
    r = len(kept)
    return CanonicalQR(basis[:r].T, coef[:r], np.array(kept, dtype=np.intp))


def _orthogonalize_twice(qs: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classical Gram-Schmidt run twice against the orthonormal rows ``qs``: (residual, coefficients c + c')."""
    c = np.dot(qs, v)
    v = v - np.dot(c, qs)              # first pass
    c2 = np.dot(qs, v)
    v -= np.dot(c2, qs)                # second pass
    return v, c + c2


@dataclass
class _ConditionalLayer:
    """A layer whose weights are drawn only where the data can see them.

    One layer z = s h W^T (+ s_b b), h (N x k) its input, W (n_out x k) standard normal
    and independent of h and of every other layer's parameters.

    *Forward.* canonical_qr(h^T) gives h^T = Q R (Q of size k x r, orthonormal columns,
    a function of h only). Each row w of W is N(0, I_k) independently of h, so given h,
    Q^T w ~ N(0, Q^T Q) = N(0, I_r): G = Q^T W^T (r x n_out) is standard normal, and
    z = s h W^T = s R^T (Q^T W^T) = s R^T G. The layer draws G, nothing else of W.

    *What stays hidden.* With P = I - Q Q^T, W = (W Q) Q^T + W P, and for each row w the
    Gaussian vectors Q^T w and P w are uncorrelated (Q^T P = 0), hence independent. The
    forward output depends on W only through W Q = G^T, and everything downstream
    (later layers, the backpropagated delta = df/dz of this layer's output) depends
    only on z and the other layers' parameters. So W P is independent of (h, G, delta),
    and given all of them it has the law of W~ P, W~ a fresh standard normal copy of W.

    *Backward.* delta W = (delta G^T) Q^T + delta W~ P in law. canonical_qr(delta^T)
    gives delta^T = Q_d R_d (Q_d of size n_out x r_d, a function of delta), so
    delta W~ = R_d^T (Q_d^T W~), and Q_d^T W~ (r_d x k) is standard normal and
    independent of delta (each column of W~ is N(0, I_{n_out})). The layer therefore
    draws G' (r_d x k) fresh and uses R_d^T G' P for delta W~ P.

    *Jointly.* The draws happen in a fixed order: G (and the bias) of layers 0 .. L-1
    forward, then G' of layers L-1 .. 1 backward. Each one, given everything computed
    before it, is standard normal and independent of it, exactly as the quantity it
    stands for is in the true network (above; the W~ of different layers are
    independent because the W are). By the chain rule for conditional laws, the
    sequence of simulated quantities (h, z, delta and delta W of every layer, hence the
    kernels) has the joint law of the true network's.

    Cost per layer: O((k + n_out) N^2) for the two factorizations and O(N r (k + n_out))
    for the products, O(L n N^2) for the network.

    Dropped columns (see :func:`canonical_qr`) change h^T or delta^T by at most
    ``DEPENDENCE_TOL`` of a column's norm, hence z and delta W by as much relative.
    """

    rng: np.random.Generator
    n_out: int
    scale: float
    bias_scale: float
    basis: np.ndarray | None = None
    projected: np.ndarray | None = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        f = canonical_qr(h.T)                                    # h^T = Q R
        self.basis = f.q
        self.projected = self.rng.standard_normal((f.q.shape[1], self.n_out))   # G = Q^T W^T
        z = self.scale * (f.r.T @ self.projected)                # h W^T = R^T G
        if self.bias_scale:
            z = z + self.bias_scale * self.rng.standard_normal(self.n_out)
        return z

    def backward(self, delta: np.ndarray) -> np.ndarray:
        q, g = self.basis, self.projected
        if q is None or g is None:
            raise RuntimeError("backward before forward")
        r_d = canonical_qr(delta.T).r                            # delta^T = Q_d R_d
        fresh = r_d.T @ self.rng.standard_normal((len(r_d), q.shape[0]))   # ~ delta W~
        return self.scale * ((delta @ g.T - fresh @ q) @ q.T + fresh)      # delta G^T Q^T + fresh P


def _backprop(X: np.ndarray, layers: Sequence[_Layer]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield (l, delta^{l+1}, h^l) for l = L-1 .. 0; first yields (-1, f(X), h^{L-1})."""
    hs, zs = [X], []
    for i, layer in enumerate(layers):
        zs.append(layer.forward(hs[-1]))
        if i < len(layers) - 1:
            hs.append(_relu(zs[-1]))
    yield -1, zs[-1][:, 0], hs[-1]
    delta = np.ones((X.shape[0], 1))
    for i in range(len(layers) - 1, -1, -1):
        yield i, delta, hs[i]
        if i:
            delta = layers[i].backward(delta) * (zs[i - 1] > 0)


def _kernels(X: np.ndarray, layers: Sequence[_Layer], scales: Sequence[float],
             bias2: float) -> EmpiricalKernels:
    steps = _backprop(X, layers)
    _, outputs, h_last = next(steps)
    nngp = scales[-1] ** 2 * (h_last @ h_last.T) + bias2
    ntk = np.zeros((X.shape[0], X.shape[0]))
    for i, delta, h in steps:
        ntk += (delta @ delta.T) * (scales[i] ** 2 * (h @ h.T) + bias2)
    return EmpiricalKernels(ntk, nngp, outputs)


def _as_inputs(X: np.ndarray | Sequence[Sequence[float]], n0: int) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != n0 or X.shape[0] == 0:
        raise InputError(f"inputs must have shape (N, {n0}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError("inputs contain NaN or infinity")
    return X


def _gaussian(seq: np.random.SeedSequence, shape: tuple[int, int],
              pool: ThreadPoolExecutor | None) -> np.ndarray:
    """Standard normal matrix, row block b drawn from child stream b of ``seq``."""
    out = np.empty(shape)
    blocks = range(0, shape[0], CHUNK_ROWS)

    def fill(start: int) -> None:
        rng = np.random.default_rng(seed_sequence(seq, start // CHUNK_ROWS))
        rng.standard_normal(out=out[start:start + CHUNK_ROWS])

    if pool is None or out.size < PARALLEL_ENTRIES:
        for start in blocks:
            fill(start)
    else:
        list(pool.map(fill, blocks))
    return out


@dataclass(frozen=True)
class Network:
    """A concrete finite network: ``weights[l]`` is W^l (n_{l+1} x n_l), ``biases`` None without bias."""

    param: Parameterization
    widths: tuple[int, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...] | None

    @property
    def depth(self) -> int:
        """L, the number of dense layers."""
        return len(self.weights)

    def _layers(self) -> list[_DenseLayer]:
        scales, bscale = _scales(self.param, self.widths)
        biases = self.biases or (None,) * self.depth
        return [_DenseLayer(w, b, s, bscale)
                for w, b, s in zip(self.weights, biases, scales, strict=True)]

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Best effort (float64): the outputs f(x) for the rows x of X, shape (N,)."""
        X = _as_inputs(X, self.widths[0])
        return next(_backprop(X, self._layers()))[1]

    def kernels(self, X: np.ndarray) -> EmpiricalKernels:
        """Best effort (float64): empirical NTK, NNGP (features) and outputs on the rows of X."""
        X = _as_inputs(X, self.widths[0])
        scales, bscale = _scales(self.param, self.widths)
        return _kernels(X, self._layers(), scales, bscale**2)

    def ntk(self, X: np.ndarray, X2: np.ndarray | None = None) -> np.ndarray:
        """Best effort (float64): Theta_emp(X, X2) = grad f(x) . grad f(x'), exact per-layer formula."""
        return self._cross("ntk", X, X2)

    def nngp(self, X: np.ndarray, X2: np.ndarray | None = None, kind: str = "features") -> np.ndarray:
        """Best effort (float64): the empirical NNGP of ``kind`` (see the module doc)."""
        return self._cross(kind, X, X2)

    def _cross(self, what: str, X: np.ndarray, X2: np.ndarray | None) -> np.ndarray:
        X = _as_inputs(X, self.widths[0])
        both = X if X2 is None else np.vstack([X, _as_inputs(X2, self.widths[0])])
        k = self.kernels(both)
        full = k.ntk if what == "ntk" else k.nngp_of_kind(what)
        return full if X2 is None else full[: len(X), len(X):]

    def per_example_gradients(self, X: np.ndarray) -> np.ndarray:
        """Best effort (float64): rows grad_theta f(x), ordered as :meth:`flat_parameters`."""
        X = _as_inputs(X, self.widths[0])
        scales, bscale = _scales(self.param, self.widths)
        steps = _backprop(X, self._layers())
        next(steps)
        parts: list[list[np.ndarray]] = [[] for _ in range(self.depth)]
        for i, delta, h in steps:
            parts[i].append(scales[i] * np.einsum("no,ni->noi", delta, h).reshape(len(X), -1))
            if self.biases is not None:
                parts[i].append(bscale * delta)
        return np.hstack([p for layer in parts for p in layer])

    def flat_parameters(self) -> np.ndarray:
        """All parameters in one vector: W^0 (row-major), b^0, W^1, b^1, ..."""
        biases = self.biases or (None,) * self.depth
        return np.concatenate([a.ravel() for w, b in zip(self.weights, biases, strict=True)
                               for a in (w, b) if a is not None])

    def with_parameters(self, theta: np.ndarray) -> Network:
        """The same architecture with the parameters ``theta`` (layout of :meth:`flat_parameters`)."""
        theta = np.asarray(theta, dtype=np.float64)
        weights, biases, pos = [], [], 0
        for w in self.weights:
            weights.append(theta[pos:pos + w.size].reshape(w.shape))
            pos += w.size
            if self.biases is not None:
                biases.append(theta[pos:pos + w.shape[0]])
                pos += w.shape[0]
        if pos != theta.size:
            raise InputError(f"expected {pos} parameters, got {theta.size}")
        return Network(self.param, self.widths, tuple(weights),
                       tuple(biases) if self.biases is not None else None)


def init_network(n0: int, hidden: int | Sequence[int], depth: int | None = None,
                 param: Parameterization | None = None, seed: SeedLike = 0) -> Network:
    """A randomly initialized network (standard normal weights, NTK scaling), reproducible from ``seed``.

    W^l comes from child stream (l, 0) of ``seed`` and b^l from (l, 1), each matrix in
    row blocks of :data:`CHUNK_ROWS` drawn on all cores.

    >>> a = init_network(3, 4, depth=3, seed=5).flat_parameters()
    >>> bool(np.array_equal(a, init_network(3, 4, depth=3, seed=5).flat_parameters()))
    True
    """
    param = param or DEFAULT
    widths = layer_widths(n0, hidden, depth)
    count = sum(a * b for a, b in zip(widths, widths[1:], strict=False))
    if count > MAX_DENSE_PARAMETERS:
        raise InputError(f"{count} weights is too many for a dense network "
                         f"(limit {MAX_DENSE_PARAMETERS}); use the conditional sampler")
    base = seed_sequence(seed)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        weights = tuple(_gaussian(seed_sequence(base, i, 0), (m, k), pool)
                        for i, (k, m) in enumerate(zip(widths, widths[1:], strict=False)))
    biases = None
    if param.sigma_b2 != 0:
        biases = tuple(np.random.default_rng(seed_sequence(base, i, 1)).standard_normal(m)
                       for i, m in enumerate(widths[1:]))
    return Network(param, widths, weights, biases)


def sample_kernels(X: np.ndarray, hidden: int | Sequence[int], depth: int | None = None,
                   param: Parameterization | None = None, seed: SeedLike = 0,
                   sampler: str = "dense") -> EmpiricalKernels:
    """Best effort (float64): the empirical kernels of one random network on the rows of X.

    ``sampler="dense"`` builds the network (:func:`init_network`); ``"conditional"``
    draws the same distribution in O(L n N^2) work (a different random stream, so
    the two samplers agree in distribution, not sample by sample).

    >>> X = np.eye(3)
    >>> k = sample_kernels(X, 64, depth=3, seed=1, sampler="conditional")
    >>> k.ntk.shape, bool(np.allclose(k.ntk, k.ntk.T))
    ((3, 3), True)
    """
    param = param or DEFAULT
    if sampler not in SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}; choose from {', '.join(SAMPLERS)}")
    X = np.asarray(X, dtype=np.float64)
    widths = layer_widths(X.shape[1] if X.ndim == 2 else 0, hidden, depth)
    if sampler == "dense":
        return init_network(widths[0], widths[1:-1], param=param, seed=seed).kernels(X)
    X = _as_inputs(X, widths[0])
    scales, bscale = _scales(param, widths)
    rng = np.random.default_rng(seed_sequence(seed))
    layers = [_ConditionalLayer(rng, m, s, bscale) for m, s in zip(widths[1:], scales, strict=True)]
    return _kernels(X, layers, scales, bscale**2)
