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
* Rounding. canonical_qr is Gram-Schmidt twice: ||Q^T Q - I|| and ||Q R - A|| / ||A|| are
  O(u) times small polynomials in the sizes (Giraud et al. 2005 for CGS2); two routes to
  the same (unique) factorization of a well-conditioned matrix agree to kappa(A) times
  that. We allow 1e-12 (k N <= 6000, kappa <= 15): about gamma_{k N} kappa / 10, a
  thousand times the errors measured (at most 1.1e-15). The conditional
  sampler run on rotated inputs repeats every float operation in a different order;
  the kernels, which depend on the data only through their Gram matrix, must agree to
  1e-10 relative (rounding amplified through a few layers; measured 4e-16, while the
  LAPACK-based sampler drew a different sample, off by 50% to 1300%). The same 1e-10
  holds for samples computed with other BLAS kernels (measured 7e-14 at depth 32).
* neural-tangents. Both sides evaluate the same finite sums in float64 in different
  orders; the difference is bounded by gamma_P times the sum of absolute terms,
  which here is below 1e-13 relative; we allow 1e-12 of the largest entry.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import without_timing

from proofs_checks.finite_width_claim import theorem1_summary
from verify import Parameterization, kernel_matrix
from verify.cli import main
from verify.data.sources import load_dataset
from verify.finite_width import init_network, sample_kernels, seed_sequence
from verify.finite_width import montecarlo as mc
from verify.finite_width.network import PARALLEL_ENTRIES, _gaussian, canonical_qr, layer_widths

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


@pytest.mark.parametrize(("model", "width", "depth", "duplicate"), [
    (MODELS[0], 32, 4, False),
    (MODELS[1], 3, 3, True),     # hidden layers narrower than the data, a repeated point: dropped columns
], ids=["default-32x4", "bias-3x3-duplicate"])
def test_samplers_agree_in_distribution(model, width, depth, duplicate):
    X, seeds = sphere(5), 300
    X = np.vstack([X, X[:1]]) if duplicate else X
    iu = np.triu_indices(len(X))
    draws = {s: np.array([sample_kernels(X, width, depth, param=model, seed=[7, i], sampler=s).ntk[iu]
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


# --------------------------------------------------------------------------- canonical factorization

QR_TOL = 1e-12


def householder_positive(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference: LAPACK's Householder QR with the signs made positive (another route, same unique result)."""
    q, r = np.linalg.qr(a)
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return q * signs, r * signs[:, None]


def random_orthogonal(n: int, seed: int) -> np.ndarray:
    return householder_positive(np.random.default_rng(seed).standard_normal((n, n)))[0]


def assert_is_factorization(a: np.ndarray, f) -> None:
    """Q^T Q = I, A = Q R, positive pivots, R zero left of each pivot (staircase upper triangular)."""
    q, r, kept = f
    assert np.max(np.abs(q.T @ q - np.eye(len(kept)))) <= QR_TOL
    assert np.max(np.abs(q @ r - a)) <= QR_TOL * np.abs(a).max()
    for row, col in enumerate(kept):
        assert r[row, col] > 0 and np.all(r[row, :col] == 0)


@pytest.mark.parametrize("shape", [(50, 8), (8, 8), (200, 30)])
def test_canonical_qr_is_the_unique_positive_pivot_qr(shape):
    a = np.random.default_rng(shape[1]).standard_normal(shape)
    f = canonical_qr(a)
    assert f.kept.tolist() == list(range(shape[1]))
    assert_is_factorization(a, f)
    q_ref, r_ref = householder_positive(a)
    assert np.max(np.abs(f.q - q_ref)) <= QR_TOL and np.max(np.abs(f.r - r_ref)) <= QR_TOL * np.abs(a).max()


def test_canonical_qr_drops_dependent_columns():
    """Duplicates, a combination of earlier columns, a zero column (dead units) and columns beyond the rank."""
    rng = np.random.default_rng(1)
    b = rng.standard_normal((6, 3))
    a = np.column_stack([b[:, 0], b[:, 0], b[:, 1], np.zeros(6), b[:, 1] - 2 * b[:, 0], b[:, 2], b[:, 2]])
    f = canonical_qr(a)
    assert f.kept.tolist() == [0, 2, 5]
    assert_is_factorization(a, f)
    q_ref, r_ref = householder_positive(b)                 # the same factorization of the kept columns
    assert np.max(np.abs(f.q - q_ref)) <= QR_TOL
    assert np.max(np.abs(f.r - q_ref.T @ a)) <= QR_TOL * np.abs(a).max()
    wide = rng.standard_normal((3, 8))                     # rank 3: the first three columns are kept
    g = canonical_qr(wide)
    assert g.kept.tolist() == [0, 1, 2]
    assert_is_factorization(wide, g)
    assert canonical_qr(np.zeros((4, 2))).kept.size == 0


def test_canonical_qr_does_not_depend_on_the_route():
    """Rotating or permuting the rows of A (every product summed differently) leaves R and O^T Q unchanged."""
    a = np.maximum(np.random.default_rng(2).standard_normal((40, 8)), 0)   # ReLU features
    base = canonical_qr(a)
    rotation = random_orthogonal(40, 3)
    for o in (rotation, np.eye(40)[np.random.default_rng(4).permutation(40)]):
        f = canonical_qr(o @ a)
        assert f.kept.tolist() == base.kept.tolist()
        assert np.max(np.abs(f.r - base.r)) <= QR_TOL * np.abs(a).max()
        assert np.max(np.abs(o.T @ f.q - base.q)) <= QR_TOL


def forbid_lapack(monkeypatch) -> None:
    """Make every LAPACK route of numpy raise: the public functions and numpy's gufunc module behind them."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("LAPACK called")

    class NoLapack:
        def __getattr__(self, name):
            return refuse

    for name in ("qr", "eigh", "eig", "eigvalsh", "cholesky", "svd", "inv", "solve", "lstsq", "pinv", "det"):
        monkeypatch.setattr(np.linalg, name, refuse)
    import importlib

    # numpy >= 2 keeps the implementation in numpy.linalg._linalg, numpy 1.x in numpy.linalg.linalg
    np_linalg = importlib.import_module("numpy.linalg._linalg" if hasattr(np.linalg, "_linalg")
                                        else "numpy.linalg.linalg")
    monkeypatch.setattr(np_linalg, "_umath_linalg", NoLapack())
    with pytest.raises(AssertionError, match="LAPACK"):    # the stub is effective
        np_linalg.qr(np.eye(2))


@pytest.mark.parametrize("sampler", ["dense", "conditional"])
def test_samplers_use_no_lapack(monkeypatch, sampler):
    X = np.vstack([sphere(5), sphere(5)[:1]])              # a duplicate point: rank-deficient layers
    expected = {m: sample_kernels(X, 4, 4, param=m, seed=3, sampler=sampler) for m in MODELS}
    forbid_lapack(monkeypatch)
    for m in MODELS:
        k = sample_kernels(X, 4, 4, param=m, seed=3, sampler=sampler)
        assert np.array_equal(k.ntk, expected[m].ntk) and np.all(np.isfinite(k.ntk))


def test_conditional_sampler_depends_on_the_inputs_only_through_their_gram_matrix():
    """Rotated inputs, same seed: the same draw (LAPACK's QR would flip signs and draw another sample)."""
    X = np.vstack([sphere(6), sphere(6)[2:3]])
    XO = X @ random_orthogonal(3, 5)
    for m in MODELS:
        for width, depth in ((32, 4), (4, 6)):
            a = sample_kernels(X, width, depth, param=m, seed=[8, width], sampler="conditional")
            b = sample_kernels(XO, width, depth, param=m, seed=[8, width], sampler="conditional")
            for name in ("ntk", "nngp", "outputs"):
                x, y = getattr(a, name), getattr(b, name)
                assert np.max(np.abs(x - y)) <= 1e-10 * np.abs(x).max(), (m, width, depth, name)
            assert np.max(np.abs(a.ntk[2] - a.ntk[-1])) <= 1e-10 * np.abs(a.ntk).max()   # duplicate rows agree


BLAS_PROBE = """
import json
from verify import Parameterization
from verify.finite_width import sample_kernels
from verify.data.sources import load_dataset
X = load_dataset("builtin:sphere-8").float_points()
draws = [sample_kernels(X, 64, 32, param=param, seed=[6, s], sampler=sampler)
         for sampler in ("dense", "conditional")
         for param in (Parameterization(), Parameterization(sigma_w2="2", sigma_b2="0.3")) for s in range(4)]
print(json.dumps([[k.ntk.tolist(), k.nngp.tolist()] for k in draws]))
"""


def blas_probe(coretype: str | None) -> tuple[str | None, np.ndarray]:
    """Kernels of 16 seeded networks computed in a fresh process, OpenBLAS's CPU kernels set to ``coretype``."""
    env = dict(os.environ, OPENBLAS_VERBOSE="2")
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    run = subprocess.run([sys.executable, "-c", BLAS_PROBE], env=env, capture_output=True, text=True,
                         check=True, timeout=600)
    core = re.search(r"Core: (\S+)", run.stderr)
    return (core.group(1) if core else None), np.array(json.loads(run.stdout))


def test_draws_do_not_depend_on_the_blas_kernels():
    """A second machine, simulated: OpenBLAS's SSE3 kernels (another summation order, also inside LAPACK).

    Both samplers must draw the same networks: only rounding may differ (measured: 7e-14
    relative). The LAPACK-based conditional sampler this replaced failed here: its
    kernels of these depth-32 networks differed by up to half their largest entry.
    """
    here_core, here = blas_probe(None)
    there_core, there = blas_probe("Prescott")
    if here_core is None or here_core == there_core:
        pytest.skip(f"needs OpenBLAS with selectable CPU kernels (got {here_core}, {there_core})")
    scale = np.abs(here).max(axis=(-2, -1), keepdims=True)
    assert np.all(np.abs(here - there) <= 1e-10 * scale)


TINY = mc.Profile("tiny", 2, (16, 32, 64), 6, "dense", (16, 32), (2, 3, 4), 6, "conditional",
                  (16, 2, 6), bootstrap=200, data="builtin:sphere-4")


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
    assert "theorem1" not in a              # the study measures; proofs_checks says what it means
    assert {f["name"] for f in theorem1_summary(a)["findings"]}
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
    from verify.core.errors import InputError

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
