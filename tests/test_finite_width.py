"""Finite-width networks: exact gradients, empirical kernels, Monte Carlo against the infinite width.

Tolerances
----------
* Finite differences. With every other parameter fixed, f is piecewise *linear* in one
  parameter (it enters one layer linearly; everything after is piecewise linear), so a
  central difference over the actually representable step (theta+ - theta-) is exact
  in exact arithmetic as long as no ReLU changes sign in between (asserted). What is
  left is the rounding of the two forward passes: with F the forward pass run on
  |W|, |b|, |x| and k the largest fan-in, each pass is off by at most
  L * gamma_{k+2} * F (gamma_m = m u / (1 - m u), u = 2^-53), so a difference quotient
  is off by at most 2 L gamma F / (theta+ - theta-). The NTK built from those gradients
  inherits sum_p (|dg_p(x)| |g_p(x')| + |g_p(x)| |dg_p(x')|), plus 2 gamma_P sum_p |g_p(x) g_p(x')|
  for the two dot products.
* Monte Carlo. Confidence intervals come from the samples (Student t), with a
  Bonferroni correction over the entries tested at once and family level 99%; the
  statistics tested have known expectations at finite width (depth 2 is exactly
  unbiased: the hidden units are i.i.d.; the NNGP log-diagonal has an exact mean).
* neural-tangents. Both sides evaluate the same finite sums in float64 in different
  orders; the difference is bounded by gamma_P times the sum of absolute terms,
  which here is below 1e-13 relative; we allow 1e-12 of the largest entry.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from verify import Parameterization, kernel_matrix
from verify.cli import main
from verify.finite_width import init_network, sample_kernels, seed_sequence
from verify.finite_width import montecarlo as mc
from verify.finite_width.network import PARALLEL_ENTRIES, _gaussian, layer_widths
from verify.sources import load_dataset

U = 2.0**-53
MODELS = [Parameterization(), Parameterization(sigma_w2="2", sigma_b2="0.3")]
HIDDEN = {1: [], 2: [5], 4: [5, 4, 6]}


def gamma(m: int) -> float:
    return m * U / (1 - m * U)


def sphere(n: int) -> np.ndarray:
    return load_dataset(f"builtin:sphere-{n}").float_points()


def plain_forward(net, X, absolute=False):
    """An independent per-example forward pass; returns outputs and ReLU sign patterns."""
    w2, b2 = float(net.param.sigma_w2), float(net.param.sigma_b2)
    biases = net.biases or [None] * net.depth
    outs, patterns = [], []
    for x in X:
        h, pattern = (np.abs(x) if absolute else x), []
        for i, (W, b) in enumerate(zip(net.weights, biases, strict=True)):
            W = np.abs(W) if absolute else W
            z = math.sqrt(w2 / W.shape[1]) * (W @ h)
            if b is not None:
                z = z + math.sqrt(b2) * (np.abs(b) if absolute else b)
            if i < net.depth - 1:
                pattern.append(z > 0)
                h = np.maximum(z, 0) if not absolute else z
        outs.append(z[0])
        patterns.append(np.concatenate(pattern) if pattern else np.zeros(0, bool))
    return np.array(outs), np.array(patterns)


@pytest.mark.parametrize("model", MODELS, ids=["default", "w2=2,b2=0.3"])
@pytest.mark.parametrize("depth", sorted(HIDDEN))
def test_gradients_and_ntk_match_finite_differences(model, depth):
    X = sphere(4)
    net = init_network(3, HIDDEN[depth], param=model, seed=11)
    assert np.allclose(net.apply(X), plain_forward(net, X)[0], rtol=1e-14, atol=1e-15)
    theta = net.flat_parameters()
    grads = net.per_example_gradients(X)
    assert grads.shape == (len(X), theta.size)
    _, base_pattern = plain_forward(net, X)
    magnitude = plain_forward(net, X, absolute=True)[0]
    kmax = max(net.widths[:-1]) + 2
    h = 2.0**-20
    fd = np.empty_like(grads)
    bound = np.empty_like(grads)
    for p in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[p] += h
        down[p] -= h
        step = up[p] - down[p]
        plus, minus = net.with_parameters(up), net.with_parameters(down)
        for side in (plus, minus):      # no ReLU flips: the difference quotient is exact
            assert np.array_equal(plain_forward(side, X)[1], base_pattern)
        fd[:, p] = (plus.apply(X) - minus.apply(X)) / step
        bound[:, p] = 2 * 2 * net.depth * gamma(kmax) * magnitude / step   # factor 2 margin
    assert np.all(np.abs(fd - grads) <= bound)
    ntk = net.ntk(X)
    assert np.allclose(ntk, grads @ grads.T, rtol=1e-13, atol=0)
    dot_bound = 2 * gamma(theta.size) * (np.abs(grads) @ np.abs(grads).T)
    ntk_bound = bound @ np.abs(grads).T + np.abs(grads) @ bound.T + dot_bound
    assert np.all(np.abs(fd @ fd.T - ntk) <= ntk_bound)
    # the NNGP (features) is the last layer's NTK term; "outputs" is f f^T
    last = grads[:, -(net.widths[-2] + (net.biases is not None)):]
    assert np.allclose(net.nngp(X), last @ last.T, rtol=1e-13, atol=1e-16)
    assert np.allclose(net.nngp(X, kind="outputs"), np.outer(net.apply(X), net.apply(X)))
    # cross-kernels are blocks of the joint Gram matrix
    assert np.allclose(net.ntk(X[:2], X[2:]), ntk[:2, 2:], rtol=1e-13)


def test_seed_reproducibility():
    X = sphere(5)
    a = init_network(3, 64, depth=3, seed=4)
    b = init_network(3, 64, depth=3, seed=4)
    c = init_network(3, 64, depth=3, seed=5)
    assert np.array_equal(a.flat_parameters(), b.flat_parameters())
    assert not np.array_equal(a.flat_parameters(), c.flat_parameters())
    for sampler in ("dense", "conditional"):
        k1 = sample_kernels(X, 32, 4, seed=[1, 2], sampler=sampler)
        k2 = sample_kernels(X, 32, 4, seed=[1, 2], sampler=sampler)
        assert np.array_equal(k1.ntk, k2.ntk) and np.array_equal(k1.nngp, k2.nngp)
    # the weights do not depend on how many threads draw them
    shape = (PARALLEL_ENTRIES // 512 + 300, 512)
    seq = seed_sequence(9, 1)
    with ThreadPoolExecutor(3) as pool:
        assert np.array_equal(_gaussian(seq, shape, None), _gaussian(seq, shape, pool))


def bonferroni_t(samples: np.ndarray, family: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """Per-entry means and half-widths of simultaneous t-intervals over the last axes."""
    count = int(np.prod(samples.shape[1:]))
    q = mc.t_quantile(1 - (1 - family) / (2 * count), samples.shape[0] - 1)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    return samples.mean(axis=0), q * se


@pytest.mark.parametrize("sampler", ["dense", "conditional"])
def test_mean_empirical_kernel_matches_infinite_width(sampler):
    """At depth 2, E[Theta_emp] = Theta and E[Sigma_emp] = Sigma exactly (i.i.d. hidden units)."""
    X, seeds, width = sphere(5), 64, 256
    iu = np.triu_indices(len(X))
    for kernel in ("ntk", "nngp"):
        ref = kernel_matrix(X, 2, kernel=kernel, digits=20, progress=False)
        samples = np.array([getattr(sample_kernels(X, width, 2, seed=[3, s], sampler=sampler),
                                    kernel)[iu] for s in range(seeds)]) / float(ref.raw_factor)
        mean, half = bonferroni_t(samples)
        assert np.all(np.abs(mean - ref.mid_array()[iu]) <= half), kernel
        assert np.all(half < 0.1)       # the test has power: intervals are narrow


def test_samplers_agree_in_distribution():
    X, seeds = sphere(5), 300
    iu = np.triu_indices(len(X))
    draws = {s: np.array([sample_kernels(X, 32, 4, seed=[7, i], sampler=s).ntk[iu]
                          for i in range(seeds)]) for s in ("dense", "conditional")}
    for stat in (lambda a: a, lambda a: (a - a.mean(axis=0)) ** 2):   # means and variances
        a, b = stat(draws["dense"]), stat(draws["conditional"])
        se = np.sqrt(a.var(axis=0, ddof=1) / seeds + b.var(axis=0, ddof=1) / seeds)
        z = mc.t_quantile(1 - 0.01 / (2 * len(iu[0])), 2 * seeds - 2)
        assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) <= z * se)


def test_exact_finite_width_moments_of_the_nngp_diagonal():
    """E log(Sigma_emp/Sigma) = sum_l E log r_l; E Sigma_emp(x,x) = Sigma(x,x) at every depth."""
    X, seeds, width, depth = sphere(4), 300, 64, 8
    q = float(kernel_matrix(X, depth, kernel="nngp", digits=20, progress=False).raw_factor)
    diag = np.array([np.diag(sample_kernels(X, width, depth, seed=[5, s],
                                            sampler="conditional").nngp)
                     for s in range(seeds)]) / q
    for values, exact in ((np.log(diag).mean(axis=1),
                           mc.nngp_log_diagonal_mean([width] * (depth - 1))),
                          (diag[:, 0], 1.0)):
        summary = mc.mean_ci(values, level=0.99)
        assert summary["ci"][0] <= exact <= summary["ci"][1]


TINY = mc.Profile("tiny", 2, (16, 32, 64), 6, "dense", (16, 32), (2, 3, 4), 6, "conditional",
                  (16, 2, 6), bootstrap=200, data="builtin:sphere-4")


def without_timing(value):
    """The payload with every wall-clock field removed (all else must be reproducible)."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if "seconds" not in k}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def test_study_payload_and_reproducibility():
    data = load_dataset(TINY.data)
    a = mc.run_study(TINY, data, seed=3, progress=False)
    b = mc.run_study(TINY, data, seed=3, progress=False)
    assert without_timing(a) == without_timing(b)
    c = mc.run_study(TINY, data, seed=4, progress=False)
    assert c["width_exponent"]["value"] != a["width_exponent"]["value"]
    fit = a["width_exponent"]
    assert set(fit) >= {"value", "ci"} and fit["ci"][0] <= fit["value"] <= fit["ci"][1]
    assert len(a["tables"]["deviation_vs_width"]) == 2 * len(TINY.widths)
    assert len(a["tables"]["deviation_vs_ratio"]) == 2 * len(TINY.grid_widths) * len(TINY.grid_depths)
    assert a["ratio_exponent"] is not None
    assert {f["name"] for f in a["theorem1"]["findings"]}
    json.dumps(a, allow_nan=False)


def test_cli_runs_profile_and_writes_figures(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(mc.PROFILES, "quick", TINY)
    assert main(["finite-width", "--profile", "quick", "--format", "json", "--quiet",
                 "--out", str(tmp_path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert isinstance(payload["width_exponent"]["value"], float)
    assert len(payload["width_exponent"]["ci"]) == 2
    for path in payload["figures"].values():
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "finite_width.json").read_text())["profile"] == "tiny"
    assert main(["finite-width", "--quiet", "--format", "table"]) == 0
    assert "width exponent (NTK" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--seed", "-1"], ["--seed", "x"], ["--data", "no/such/file.csv"], ["--profile", "huge"],
    ["--normalize", "sideways"], ["--data", "builtin:sphere-1"], ["--sigma-w2", "0"],
])
def test_cli_rejects_bad_input(argv, capsys):
    assert main(["finite-width", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ntk-verify: error:") and "\n" not in err


def test_layer_widths_rejects_bad_shapes():
    from verify.errors import InputError

    with pytest.raises(InputError):
        layer_widths(3, 8)
    with pytest.raises(InputError):
        layer_widths(3, [4, 0])


# --------------------------------------------------------------------------- neural-tangents

def nt_kernels(net, X):
    """Empirical NTK, NNGP (outputs) and NNGP (features) from neural-tangents on our weights."""
    jax = pytest.importorskip("jax")
    nt = pytest.importorskip("neural_tangents")
    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    w_std = math.sqrt(float(net.param.sigma_w2))
    b_std = math.sqrt(float(net.param.sigma_b2)) if net.param.sigma_b2 else None
    layers, params = [], []
    biases = net.biases or [None] * net.depth
    for i, (W, b) in enumerate(zip(net.weights, biases, strict=True)):
        layers.append(stax.Dense(W.shape[0], W_std=w_std, b_std=b_std, parameterization="ntk"))
        params.append((jax.numpy.asarray(W.T), None if b is None else jax.numpy.asarray(b)))
        if i < net.depth - 1:
            layers.append(stax.Relu())
            params.append(())
    _, apply_fn, _ = stax.serial(*layers)
    _, hidden_fn, _ = stax.serial(*layers[:-1]) if net.depth > 1 else (None, None, None)
    x = jax.numpy.asarray(X)
    ntk = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0)(x, None, params)
    outputs = nt.empirical_nngp_fn(apply_fn)(x, None, params)
    features = None
    if hidden_fn is not None:   # nt averages the traced (width) axis: (1/n) h.h'
        features = nt.empirical_nngp_fn(hidden_fn)(x, None, params[:-1])
        features = float(net.param.sigma_w2) * np.asarray(features) + float(net.param.sigma_b2)
    return np.asarray(ntk).reshape(len(X), len(X)), np.asarray(outputs), features


@pytest.mark.parametrize("model", MODELS, ids=["default", "w2=2,b2=0.3"])
@pytest.mark.parametrize("hidden", [[], [16], [16, 8, 12]], ids=["L1", "L2", "L4"])
def test_against_neural_tangents(model, hidden):
    X = sphere(6)
    net = init_network(3, hidden, param=model, seed=21)
    ntk, outputs, features = nt_kernels(net, X)
    scale = np.abs(net.ntk(X)).max()
    assert np.max(np.abs(ntk - net.ntk(X))) <= 1e-12 * scale
    assert np.max(np.abs(outputs - net.nngp(X, kind="outputs"))) <= 1e-12 * np.abs(outputs).max()
    if features is not None:
        assert np.max(np.abs(features - net.nngp(X))) <= 1e-12 * np.abs(features).max()
