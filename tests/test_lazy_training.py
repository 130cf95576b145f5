"""Lazy training: exact gradients, the linearized prediction, and the width exponents.

Independent routes
------------------
* The loss gradient against central finite differences of the loss (one width, both scalings):
  f is piecewise linear in each single parameter (see tests/test_finite_width.py), so a
  difference quotient is exact up to rounding unless a ReLU flips in between (asserted not
  to); the loss is a quadratic of f, so its quotient carries an O(h) term: we allow 1e-6
  of the largest gradient entry (h = 2^-20 gives about 1e-6 |f|, rounding about 1e-10).
* A whole training run against a second implementation of gradient descent written here
  from the two-layer formulas (no code of the package): outputs, kernels and parameters
  agree to 1e-9 relative (rounding, a few hundred products deep).
* The linearized prediction y + (I - eta K)^t (f_0 - y) against the eigen-decomposition route,
  against gradient descent on the parameter-space linearization f_0 + J_0 (theta - theta_0),
  and against the continuous-time formula y + exp(-eta K t)(f_0 - y), which it must approach
  within t (eta lambda_max)^2 / 2 ||f_0 - y|| (|(1 - x)^t - e^{-x t}| <= t x^2 / 2 for 0 <= x <= 1).
* The exponents: a small study (4 widths, 16 networks each, 100 steps), against the theory:
  the relative parameter change ~ width^-1/2 (each of n units moves by O(1/sqrt(n)), the norm
  of theta grows like sqrt(n)); the other lazy quantities are O(width^-1/2); under the mean-field
  scaling the kernel moves by order 1. The check verdicts come from base.decide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from proofs_checks import CheckContext, Verdict
from proofs_checks.feature_learning import CHECK as FEATURE_CHECK
from proofs_checks.feature_learning import MovementClaim
from proofs_checks.lazy_training import CHECK as LAZY_CHECK
from proofs_checks.lazy_training import RateClaim
from verify.data.sources import load_dataset
from verify.finite_width import init_network
from verify.finite_width.lazy_training import (
    LazyProfile,
    linearized_outputs,
    loss_gradient,
    output_multiplier,
    run_lazy_study,
    targets,
    train,
)

TEST_PROFILE = LazyProfile("test", (64, 256, 1024, 4096), 16, 6, 100, bootstrap=1000)
X = load_dataset("builtin:sphere-8").float_points()
Y = targets(X)


def two_layer(weights: tuple[np.ndarray, np.ndarray], alpha: float):
    """Outputs, per-example gradients (W0 row-major, then W1), ReLU pattern of alpha n^-1/2 a.relu(W x/sqrt(n0))."""
    w0, w1 = weights
    n, n0 = w0.shape
    u = X @ w0.T / math.sqrt(n0)                       # (N, n)
    h = np.maximum(u, 0)
    out = alpha * h @ w1[0] / math.sqrt(n)
    d_w1 = alpha * h / math.sqrt(n)
    d_w0 = alpha * ((u > 0) * w1[0] / math.sqrt(n))[:, :, None] * X[:, None, :] / math.sqrt(n0)
    return out, np.hstack([d_w0.reshape(len(X), -1), d_w1]), u > 0


@pytest.mark.parametrize("scaling", ["ntk", "mean-field"])
def test_loss_gradient_matches_finite_differences(scaling):
    width = 64
    alpha = output_multiplier(scaling, width)
    net = init_network(3, width, 2, seed=5)
    theta = net.flat_parameters()
    grad = loss_gradient(net, X, Y, alpha)
    pattern = two_layer(net.weights, alpha)[2]

    def loss(t: np.ndarray) -> float:
        return 0.5 * float(np.sum((alpha * net.with_parameters(t).apply(X) - Y) ** 2))

    h = 2.0**-20
    fd = np.empty_like(theta)
    for p in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[p] += h
        down[p] -= h
        for side in (up, down):
            assert np.array_equal(two_layer(net.with_parameters(side).weights, alpha)[2], pattern)
        fd[p] = (loss(up) - loss(down)) / (up[p] - down[p])
    assert np.max(np.abs(fd - grad)) <= 1e-6 * np.max(np.abs(grad))


@pytest.mark.parametrize("scaling", ["ntk", "mean-field"])
def test_training_matches_an_independent_gradient_descent(scaling):
    width, steps = 64, 30
    alpha = output_multiplier(scaling, width)
    eta = 0.7 / alpha**2
    net = init_network(3, width, 2, seed=9)
    run = train(net, X, Y, eta, steps, alpha)
    w0, w1 = (w.copy() for w in net.weights)
    out, jac, _ = two_layer((w0, w1), alpha)
    k0 = jac @ jac.T
    outputs = [out]
    for _ in range(steps):
        step = eta * jac.T @ (out - Y)
        w0 = w0 - step[: w0.size].reshape(w0.shape)
        w1 = w1 - step[w0.size:].reshape(w1.shape)
        out, jac, _ = two_layer((w0, w1), alpha)
        outputs.append(out)
    scale = np.max(np.abs(outputs))
    assert np.max(np.abs(run.outputs - np.array(outputs))) <= 1e-9 * scale
    assert np.allclose(run.kernel_initial, k0, rtol=1e-9, atol=0)
    assert np.allclose(run.kernel_final, jac @ jac.T, rtol=1e-9, atol=1e-12 * np.abs(k0).max())
    assert np.allclose(run.theta_final, np.concatenate([w0.ravel(), w1.ravel()]), rtol=1e-9, atol=1e-12)
    same = run.measures(eta, k0)                 # K_inf := K_0 (k0 is already f's kernel): the same prediction
    assert same["deviation_infinite"] == pytest.approx(same["deviation"], rel=1e-9)


def test_linearized_prediction_three_routes():
    net = init_network(3, 32, 2, seed=2)
    jac = net.per_example_gradients(X)
    k0 = jac @ jac.T
    f0 = net.apply(X)
    lam = np.linalg.eigvalsh(k0)
    eta, steps = 0.9 / lam[-1], 50
    path = linearized_outputs(k0, f0, Y, eta, steps)
    # eigen-decomposition: (I - eta K)^t = V diag((1 - eta lambda)^t) V^T
    vals, vecs = np.linalg.eigh(k0)
    coef = vecs.T @ (f0 - Y)
    for t in (0, 1, 7, steps):
        assert np.allclose(path[t], Y + vecs @ ((1 - eta * vals) ** t * coef), rtol=0, atol=1e-12)
    # gradient descent on the parameter-space linearization f_lin(theta) = f0 + J0 (theta - theta0)
    delta = np.zeros(jac.shape[1])
    for _ in range(steps):
        delta -= eta * jac.T @ (f0 + jac @ delta - Y)
    assert np.allclose(path[-1], f0 + jac @ delta, rtol=0, atol=1e-12)
    # continuous time: y + exp(-eta K t)(f0 - y), within t (eta lambda_max)^2 / 2 ||f0 - y||
    small = 0.05 / lam[-1]
    t = 40
    discrete = linearized_outputs(k0, f0, Y, small, t)[-1]
    continuous = Y + vecs @ (np.exp(-small * vals * t) * coef)
    bound = t * (small * lam[-1]) ** 2 / 2 * np.linalg.norm(f0 - Y)
    assert 0 < np.linalg.norm(discrete - continuous) <= bound


@pytest.fixture(scope="module")
def study():
    return run_lazy_study(TEST_PROFILE, seed=3, progress=False)


def test_lazy_exponents(study):
    fits = study["scalings"]["ntk"]["fits"]
    for q in ("parameter_change", "deviation", "deviation_infinite"):
        lo, hi = fits[q]["ci"]
        assert lo < -0.5 < hi, (q, fits[q])
    # the kernel falls at least as fast as width^-1/2 (over these widths faster: about width^-2/3)
    assert fits["kernel_movement"]["ci"][1] < -0.5
    assert all(r["residual_mean"] < 0.1 for r in study["scalings"]["ntk"]["rows"])
    movement = study["scalings"]["mean-field"]["fits"]["kernel_movement"]
    assert movement["ci"][0] < 0 < movement["ci"][1]
    assert min(r["kernel_movement_mean"] for r in study["scalings"]["mean-field"]["rows"]) > 0.5


def test_checks_go_both_ways(study):
    ctx = CheckContext(extras={"lazy_training": study})
    stated = LAZY_CHECK.evaluate(ctx, None)
    assert stated.verdict is Verdict.CONFIRMED, stated.certificate
    assert stated.evidence.figures[0].xscale == stated.evidence.figures[0].yscale == "log"
    false = LAZY_CHECK.evaluate(ctx, None, LAZY_CHECK.false_claim)
    assert false.verdict is Verdict.REFUTED and any(f.supports is False for f in false.findings)
    # read as a sharp rate, the kernel movement (about width^-2/3 here) is not confirmed
    assert LAZY_CHECK.evaluate(ctx, None, RateClaim(-0.5, sharp=True)).verdict is not Verdict.CONFIRMED
    feature = FEATURE_CHECK.evaluate(ctx, None)
    assert feature.verdict is Verdict.CONFIRMED, feature.certificate
    lazy_like = FEATURE_CHECK.evaluate(ctx, None, FEATURE_CHECK.false_claim)
    assert lazy_like.verdict is Verdict.REFUTED
    assert FEATURE_CHECK.false_claim == MovementClaim(-0.5)
