"""Finite-width ReLU networks of a :class:`~verify.params.Parameterization` and their empirical kernels.

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
  and W (I - Q Q^T) independent of everything the forward pass saw.

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
from typing import Protocol

import numpy as np

from ..errors import InputError
from ..params import DEFAULT, Parameterization

SeedLike = int | Sequence[int] | np.random.SeedSequence
SAMPLERS = ("dense", "conditional")
NNGP_KINDS = ("features", "outputs")
CHUNK_ROWS = 256
"""Rows of a weight matrix drawn from one seed stream (fixed, so results do not depend on cores)."""
PARALLEL_ENTRIES = 1 << 20
CHOLESKY_QR_CONDITION = 1e-6
MAX_DENSE_PARAMETERS = 200_000_000
"""About 1.6 GB of float64 weights; beyond it use the conditional sampler."""


def seed_sequence(seed: SeedLike, *key: int) -> np.random.SeedSequence:
    """The reproducible child stream ``key`` of ``seed`` (independent streams for distinct keys).

    >>> seed_sequence(7, 1, 2).spawn_key
    (1, 2)
    """
    base = seed if isinstance(seed, np.random.SeedSequence) else None
    if base is None:
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


def orthonormal_basis(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best effort (float64): Q with orthonormal columns and R with h^T = Q R.

    CholeskyQR2 (two Gram-Cholesky passes, small BLAS-3 products; LAPACK's QR of a
    tall 4096 x 8 matrix is ten times slower here) when h (N x k) is wide and the
    first Cholesky factor has a diagonal ratio above 1e-6 (well inside kappa(h) < u^-1/2,
    where CholeskyQR2 is as accurate as Householder); Householder QR otherwise
    (rank-deficient data, narrow layers).

    >>> h = np.random.default_rng(0).standard_normal((3, 50))
    >>> q, r = orthonormal_basis(h)
    >>> bool(np.allclose(q.T @ q, np.eye(3))), bool(np.allclose(q @ r, h.T))
    (True, True)
    """
    if h.shape[1] > h.shape[0]:
        try:
            r1 = np.linalg.cholesky(h @ h.T).T
            d = np.abs(np.diag(r1))
            if d.min() > CHOLESKY_QR_CONDITION * d.max():
                q = h.T @ np.linalg.inv(r1)
                r2 = np.linalg.cholesky(q.T @ q).T
                return q @ np.linalg.inv(r2), r2 @ r1
        except np.linalg.LinAlgError:
            pass
    return np.linalg.qr(h.T)


@dataclass
class _ConditionalLayer:
    """A layer whose weights are drawn only where the data can see them (see the module doc)."""

    rng: np.random.Generator
    n_out: int
    scale: float
    bias_scale: float
    basis: np.ndarray | None = None
    projected: np.ndarray | None = None

    def forward(self, h: np.ndarray) -> np.ndarray:
        q, r = orthonormal_basis(h)                              # h^T = Q R, Q orthonormal (k x r)
        self.basis = q
        self.projected = self.rng.standard_normal((q.shape[1], self.n_out))   # Q^T W^T
        z = self.scale * (r.T @ self.projected)                  # h W^T = R^T (Q^T W^T)
        if self.bias_scale:
            z = z + self.bias_scale * self.rng.standard_normal(self.n_out)
        return z

    def backward(self, delta: np.ndarray) -> np.ndarray:
        q, g = self.basis, self.projected
        lam, vec = np.linalg.eigh(delta @ delta.T)               # delta delta^T = F F^T
        factor = vec * np.sqrt(np.maximum(lam, 0.0))
        fresh = factor @ self.rng.standard_normal((len(lam), q.shape[0]))  # ~ delta W~, W~ fresh
        fresh -= (fresh @ q) @ q.T                               # ... times (I - Q Q^T)
        return self.scale * ((delta @ g.T) @ q.T + fresh)


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
