"""Lazy training: finite ReLU networks trained by gradient descent, against their linearization.

The model. The network g of :mod:`.network` (NTK parameterization, ReLU; by default one
hidden layer of width n and the default parameterization sigma_w^2 = 1 without bias):

    g(x) = n^{-1/2} a . relu(n0^{-1/2} W x),    W (n x n0) and a (n) standard normal at init,

and the trained function is f = alpha g, with one of two scalings:

* ``ntk`` (lazy): alpha = 1. In Chizat, Oyallon and Bach's terms (2019, "On lazy training
  in differentiable programming") f = sqrt(n) h with h the mean-field network below, i.e. their
  scale factor is sqrt(n), and their Section 2 bounds the distance to the linearized model
  by O(1/scale) = O(1/sqrt(n)) (up to its smoothness assumptions, which ReLU does not meet).
* ``mean-field`` (feature learning): alpha = n^{-1/2} (n the last hidden width), so
  f(x) = n^{-1} sum_i a_i relu(w_i . x / sqrt(n0)): the mean-field parameterization of a
  two-layer network, which for one hidden layer is also the maximal-update (muP) one. With
  more hidden layers it is only "the NTK network with a small output multiplier".

Training: full-batch gradient descent on the squared loss (1/2) sum_i (f(x_i) - y_i)^2,

    theta_{t+1} = theta_t - eta alpha J_t^T (f_t - y),    J_t = dg(X)/dtheta  (exact, per layer),

with eta = rate / (alpha^2 lambda_max(K_inf)) and K_inf the raw infinite-width NTK on the
training points (certified midpoints). The function-space step eta alpha^2 K_inf is therefore
the same in both scalings (its top mode contracts by 1 - rate per step), and the parameter
learning rate of the mean-field scaling is n times that of the NTK one.

The linearized prediction: with K0 = alpha^2 J_0 J_0^T the tangent kernel of f at init,
gradient descent on the model linearized at theta_0 gives exactly

    f^lin_t = y + (I - eta alpha^2 J_0 J_0^T)^t (f_0 - y) = y + (I - eta K0)^t (f_0 - y),

the discrete-time form of y + exp(-eta K0 t)(f_0 - y); f^inf_t is the same with alpha^2 K_inf
in place of K0 (the infinite-width kernel prediction from the network's own f_0).

Measured per network (best effort, float64), for t = 0 .. T:

* ``deviation``: max over t and the training points of |f_t - f^lin_t|;
* ``deviation_infinite``: the same against f^inf_t;
* ``kernel_movement``: ||K_T - K_0||_F / ||K_0||_F (tangent kernels of f; alpha cancels);
* ``parameter_change``: ||theta_T - theta_0|| / ||theta_0|| over all parameters;
* ``residual``: ||f_T - y|| / ||f_0 - y||, how far training went.

The study (:func:`run_lazy_study`) trains ``seeds`` networks per width and scaling and fits
mean(quantity) ~ C width^p (:func:`~verify.finite_width.montecarlo.fit_power_law`: OLS on
log-log, percentile bootstrap over seeds, seeded). Both scalings train the same initial
networks (network s of width n comes from ``seed_sequence(seed, LAZY_KEY, n, s)``).
Everything is reproducible: the draws are numpy's PCG64 streams of :func:`.init_network`,
and no step involves a choice a linear-algebra library makes (products, norms, and the largest
eigenvalue of K_inf, which is unique).

Measured with the quick profile (widths 64..4096, 32 networks each, 200 steps, seed 20261123;
exponent, 95% bootstrap interval): parameter_change -0.499 [-0.521, -0.478] and
deviation_infinite -0.517 [-0.582, -0.447] fall like width^-1/2 (the latter is dominated by
K0 - K_inf, Theorem 1), while deviation -0.648 [-0.720, -0.573] and kernel_movement
-0.672 [-0.706, -0.638] fall faster over these widths: O(1/sqrt(n)) bounds them but is not
their rate here. The full profile (to 16384, 48 networks each) gives the same: -0.506
[-0.518, -0.495], -0.503 [-0.537, -0.469], -0.643 [-0.683, -0.603], -0.672 [-0.689, -0.653],
with local slopes of about -0.67 still between 8192 and 16384. (An exploratory run with 16
networks per width hinted at slopes near -1/2 between 16384 and 65536, as an n^-1/2 term from
ReLU units switching sign during training would give; unresolved.) Under the mean-field
scaling every quantity stays of order 1: kernel_movement -0.002 [-0.027, 0.023] (quick, 8
networks per width; full, 16 networks: 0.003 [-0.007, 0.014]), about 1.3 at every width.

Depth matters for the parameter change: with two hidden layers ||theta_0|| grows like n (the
n x n matrix) while theta moves by O(1), so ||theta_T - theta_0|| / ||theta_0|| falls like 1/n
(exploratory run, depth 3, widths 64..512, 6 networks each: -0.99 [-1.05, -0.93]; kernel
movement -0.98 [-1.12, -0.80]). The profiles and the claims use one hidden layer.

>>> X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.6, 0.8]])
>>> net = init_network(3, 16, depth=2, seed=0)
>>> run = train(net, X, targets(X), eta=0.5, steps=3)
>>> run.outputs.shape, float(run.deviations()[0])
((4, 3), 0.0)
>>> bool(np.allclose(linearized_outputs(np.eye(2), np.zeros(2), np.ones(2), 0.5, 2)[-1], 0.75))
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from verify.core.errors import InputError
from verify.core.parallel import progress_reporter
from verify.core.params import DEFAULT, Parameterization
from verify.data.sources import load_dataset
from verify.finite_width.montecarlo import fit_power_law, mean_ci
from verify.finite_width.network import Network, init_network, seed_sequence
from verify.kernel.routes import kernel_matrix

SCALINGS = ("ntk", "mean-field")
QUANTITIES = ("deviation", "deviation_infinite", "kernel_movement", "parameter_change", "residual")
FITTED = QUANTITIES[:4]
"""The quantities whose width exponent is fitted (``residual`` only shows that training went somewhere)."""
LAZY_KEY = 11
"""First key of the seed streams of this study (the Monte Carlo studies use 1..4)."""
REFERENCE_DIGITS = 20
TARGETS = "y = x_1 + x_2 x_3 (coordinates of the unit vector x)"
GUARANTEE = ("validated statistically (independent random networks per width, 95% percentile bootstrap "
             "intervals of the fitted exponents; each network's numbers are best-effort float64)")


def targets(X: np.ndarray) -> np.ndarray:
    """Best effort: the training targets y = x_1 + x_2 x_3 of the rows of X (n0 >= 3).

    >>> targets(np.array([[0.0, 0.6, 0.8]])).round(2).tolist()
    [0.48]
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 3:
        raise InputError(f"the lazy-training targets need inputs of dimension >= 3, got shape {X.shape}")
    return X[:, 0] + X[:, 1] * X[:, 2]


def output_multiplier(scaling: str, width: int) -> float:
    """alpha: 1 for ``ntk``, width^-1/2 for ``mean-field``.

    >>> output_multiplier("ntk", 64), output_multiplier("mean-field", 64)
    (1.0, 0.125)
    """
    if scaling not in SCALINGS:
        raise InputError(f"unknown scaling {scaling!r}; choose from {', '.join(SCALINGS)}")
    return 1.0 if scaling == "ntk" else 1 / math.sqrt(width)


def loss_gradient(net: Network, X: np.ndarray, y: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Best effort (float64): the gradient of (1/2) ||alpha g(X) - y||^2 in the flat parameters of ``net``."""
    residual = alpha * net.apply(X) - y
    return alpha * (net.per_example_gradients(X).T @ residual)


def linearized_outputs(kernel: np.ndarray, f0: np.ndarray, y: np.ndarray, eta: float, steps: int) -> np.ndarray:
    """Best effort: f_t = y + (I - eta K)^t (f0 - y) for t = 0..steps, rows of a (steps+1, N) array.

    Gradient descent with step eta on a model whose tangent kernel is the constant K.

    >>> linearized_outputs(np.array([[2.0]]), np.array([0.0]), np.array([1.0]), 0.25, 2).ravel().tolist()
    [0.0, 0.5, 0.75]
    """
    out = np.empty((steps + 1, len(f0)))
    out[0] = f0
    for t in range(steps):
        out[t + 1] = out[t] - eta * (kernel @ (out[t] - y))
    return out


@dataclass(frozen=True)
class TrainingRun:
    """One network trained by gradient descent (best effort, float64).

    ``outputs``/``linearized``: f_t and f^lin_t, rows t = 0..T; ``kernel_initial``/``kernel_final``:
    K_0 and K_T (tangent kernels of f = alpha g); ``theta_initial``/``theta_final``.
    """

    outputs: np.ndarray
    linearized: np.ndarray
    kernel_initial: np.ndarray
    kernel_final: np.ndarray
    theta_initial: np.ndarray
    theta_final: np.ndarray
    targets: np.ndarray

    def deviations(self, reference: np.ndarray | None = None) -> np.ndarray:
        """max over the points of |f_t - reference_t| for each t (``reference`` defaults to f^lin)."""
        ref = self.linearized if reference is None else reference
        return np.max(np.abs(self.outputs - ref), axis=1)

    def measures(self, eta: float, kernel_infinite: np.ndarray) -> dict[str, float]:
        """The :data:`QUANTITIES` of this run; ``kernel_infinite`` is alpha^2 K_inf (the kernel of f)."""
        y, f = self.targets, self.outputs
        steps = len(f) - 1
        infinite = linearized_outputs(kernel_infinite, f[0], y, eta, steps)
        k0, kt = self.kernel_initial, self.kernel_final
        return {
            "deviation": float(self.deviations().max()),
            "deviation_infinite": float(self.deviations(infinite).max()),
            "kernel_movement": float(np.linalg.norm(kt - k0) / np.linalg.norm(k0)),
            "parameter_change": float(np.linalg.norm(self.theta_final - self.theta_initial)
                                      / np.linalg.norm(self.theta_initial)),
            "residual": float(np.linalg.norm(f[-1] - y) / np.linalg.norm(f[0] - y)),
        }


def train(net: Network, X: np.ndarray, y: np.ndarray, eta: float, steps: int, alpha: float = 1.0) -> TrainingRun:
    """Best effort (float64): ``steps`` steps of full-batch gradient descent on (1/2)||alpha g(X) - y||^2.

    theta_{t+1} = theta_t - eta alpha J_t^T (alpha g_t(X) - y), J_t the exact per-example
    gradients of :meth:`Network.per_example_gradients`.
    """
    if steps < 1 or not eta > 0:
        raise InputError(f"training needs steps >= 1 and a positive learning rate, got {steps}, {eta}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    theta0 = net.flat_parameters()
    theta = theta0
    outputs = np.empty((steps + 1, len(X)))
    jac = net.per_example_gradients(X)
    k0 = alpha**2 * (jac @ jac.T)
    outputs[0] = alpha * net.apply(X)
    for t in range(steps):
        theta = theta - eta * alpha * (jac.T @ (outputs[t] - y))     # a new array: ``net`` shares theta's memory
        net = net.with_parameters(theta)
        jac = net.per_example_gradients(X)
        outputs[t + 1] = alpha * net.apply(X)
    return TrainingRun(outputs, linearized_outputs(k0, outputs[0], y, eta, steps), k0,
                       alpha**2 * (jac @ jac.T), theta0, theta, y)


@dataclass(frozen=True)
class LazyProfile:
    """What the study trains: widths, networks per width (NTK and mean-field scaling), steps, depth."""

    name: str
    widths: tuple[int, ...]
    seeds: int
    feature_seeds: int
    steps: int
    depth: int = 2
    rate: float = 1.0
    """eta alpha^2 lambda_max(K_inf): the contraction of the top infinite-width mode per step."""
    data: str = "builtin:sphere-8"
    bootstrap: int = 2000


WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)
LAZY_PROFILES = {
    "quick": LazyProfile("quick", WIDTHS, 32, 8, 200),
    "full": LazyProfile("full", (*WIDTHS, 8192, 16384), 48, 16, 200),
}


def infinite_ntk(data_spec: str, depth: int, param: Parameterization) -> tuple[np.ndarray, np.ndarray]:
    """The training points (float64) and the raw infinite-width NTK on them (certified midpoints)."""
    data = load_dataset(data_spec)
    res = kernel_matrix(data, depth, "ntk", digits=REFERENCE_DIGITS, route="certified", param=param,
                        progress=False)
    return data.float_points(), res.mid_array() * float(res.raw_factor)


def run_lazy_study(profile: LazyProfile, param: Parameterization | None = None, seed: int = 0,
                   progress: bool | None = None) -> dict[str, Any]:
    """Validated statistically: the lazy-training study of ``profile`` as a JSON-ready dict.

    ``scalings[s]`` holds, for the scaling s, the per-width ``rows`` (mean and 95% t-interval
    of every :data:`QUANTITIES` entry) and the ``fits`` of the :data:`FITTED` quantities
    (exponent, bootstrap interval, intercept).
    """
    param = param or DEFAULT
    if min(profile.widths) < 1 or len(profile.widths) < 3 or min(profile.seeds, profile.feature_seeds) < 2:
        raise InputError("the lazy-training study needs >= 3 widths and >= 2 networks per width")
    t0 = time.perf_counter()
    X, k_inf = infinite_ntk(profile.data, profile.depth, param)
    y = targets(X)
    lam = float(np.linalg.eigvalsh(k_inf)[-1])
    counts = {"ntk": profile.seeds, "mean-field": profile.feature_seeds}
    bar = progress_reporter(len(profile.widths) * sum(counts.values()), "networks (lazy training)", progress)
    samples = {s: {q: [np.empty(counts[s]) for _ in profile.widths] for q in QUANTITIES} for s in SCALINGS}
    seconds = dict.fromkeys(SCALINGS, 0.0)
    try:
        for k, width in enumerate(profile.widths):
            for s in range(max(counts.values())):
                net = init_network(X.shape[1], width, profile.depth, param, seed_sequence(seed, LAZY_KEY, width, s))
                for scaling in SCALINGS:
                    if s >= counts[scaling]:
                        continue
                    start = time.perf_counter()
                    alpha = output_multiplier(scaling, width)
                    eta = profile.rate / (alpha**2 * lam)
                    run = train(net, X, y, eta, profile.steps, alpha)
                    for q, v in run.measures(eta, alpha**2 * k_inf).items():
                        samples[scaling][q][k][s] = v
                    seconds[scaling] += time.perf_counter() - start
                    bar.update(1)
    finally:
        bar.close()
    return {
        "command": "lazy-training",
        "profile": profile.name,
        "profile_settings": asdict(profile),
        "seed": seed,
        "guarantee": GUARANTEE,
        "parameterization": param.describe(),
        "model": f"ReLU network, {profile.depth - 1} hidden layer(s) of the given width, NTK parameterization",
        "data": {"name": profile.data, "n": len(X), "n0": int(X.shape[1]), "targets": TARGETS},
        "lambda_max_infinite": lam,
        "training": f"full-batch gradient descent on (1/2) sum (f - y)^2, {profile.steps} steps, "
                    f"eta alpha^2 = {profile.rate:g} / lambda_max(K_inf)",
        "scalings": {s: _scaling_summary(s, profile, samples[s], seed, seconds[s]) for s in SCALINGS},
        "runtime_seconds": round(time.perf_counter() - t0, 2),
    }


SCALING_TEXT = {
    "ntk": "NTK parameterization, output multiplier 1 (lazy)",
    "mean-field": "output multiplier width^-1/2 (mean-field; muP for one hidden layer), "
                  "parameter learning rate x width",
}


def _scaling_summary(scaling: str, profile: LazyProfile, samples: dict[str, list[np.ndarray]], seed: int,
                     seconds: float) -> dict[str, Any]:
    rows = []
    for k, width in enumerate(profile.widths):
        row: dict[str, Any] = {"width": width, "networks": int(samples[QUANTITIES[0]][k].size)}
        for q in QUANTITIES:
            summ = mean_ci(samples[q][k])
            row[f"{q}_mean"], row[f"{q}_ci"] = summ["mean"], summ["ci"]
        rows.append(row)
    fits = {}
    for q in FITTED:
        fit = fit_power_law(profile.widths, samples[q], seed=seed, n_boot=profile.bootstrap)
        fits[q] = {k: fit[k] for k in ("value", "ci", "level", "method", "intercept")}
    return {"scaling": SCALING_TEXT[scaling], "rows": rows, "fits": fits, "seconds": round(seconds, 2)}


def power_law(fit: dict[str, Any], widths: Sequence[int]) -> list[float]:
    """Best effort: the fitted C width^p at ``widths`` (for figures).

    >>> power_law({"value": -0.5, "intercept": 0.0}, [4, 16])
    [0.5, 0.25]
    """
    return [math.exp(fit["intercept"]) * w ** fit["value"] for w in widths]
