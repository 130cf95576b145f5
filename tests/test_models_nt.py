"""The model engine against neural-tangents 0.6.5 (x64) for every activation, both parameterizations,
MLP and residual networks, depths 1..20.

Part a (always runs) compares :func:`verify.kernel.model_recursion.certified_model_sweep` (20
digits, midpoints) with ``tests/data/nt_models_reference.json``, the RAW kernels written by
``scripts/make_nt_models_reference.py`` (see there for the networks and the data set: four exact
decimal unit vectors of R^3 with cosines +-0.9984, -0.9943, 0.36, 0.41, -0.32).

Part b (only where the ``crosscheck`` extra is installed) recomputes a few models live with
neural-tangents and compares them with the committed data and with the engine.

Tolerances (as ``tests/test_neural_tangents.py``)
-------------------------------------------------
* normalized kernels: neural-tangents' raw value divided by the engine's (certified) diagonal
  against the engine's normalized kernel, absolute ``NORM_ATOL`` = 1e-12;
* raw kernels: relative ``RAW_RTOL`` = 1e-12 against max(|K|, ``RAW_FLOOR`` K(x,x)). The floor is for
  entries that are small differences: neural-tangents forms sqrt(prod - nngp^2) and sums terms of
  the size of the diagonal, so its absolute error is a few 1e-17 of K(x,x) (e.g. ReLU's
  h(-0.9984) ~ 2e-6 at L = 2), a large relative error of a tiny entry;
* Sigma^(L)(x,x) (neural-tangents' diagonal formula, ``cov1``): relative ``RAW_RTOL``.

Where neural-tangents itself is inaccurate, the test states the error model and asserts it:

* Theta^(L)(x,x): neural-tangents has no diagonal formula for the NTK; the diagonal of its ntk
  matrix goes through the pair formula at correlation 1 - O(eps). For the ABRelu family
  sqrt(prod - nngp^2) ~ sqrt(eps) q gives theta ~ 2e-8 and a relative error of order 1e-8 a layer
  (``NTK_DIAG_KINK_RTOL`` = 1e-6 over 20 layers); for erf and gelu the square root
  sqrt((1+q)^2 - q^2) loses about q eps (``RAW_RTOL`` (1 + q)). For sign (and relu^0) the arcsine
  map turns the nngp diagonal's 1 - c ~ eps into sqrt(eps) a layer, so its NTK diagonal drifts (by
  100% at L = 20 for sigma_w^2 = 2): compared at L <= 2 only.
* ``RectifiedMonomial`` (relu^0, relu^1, relu^2) returns NaN on the NTK diagonal (it evaluates
  (pi - theta)/sin(theta) at theta = 0; stored as null), and its relu^1/relu^2 NTK, an automatic
  derivative of that expression, cancels like eps / (1 - rho): the normalized NTK is compared to
  ``NORM_ATOL + RECTIFIED_EPS / min(1 - rho)`` (rho of that pair at the layers so far). For relu^1
  the engine also matches neural-tangents' ``Relu()`` (the same function) to ``NORM_ATOL``.
* Values outside float64's normal range (relu^2: Sigma(x,x) = 3 Sigma^2 / 2 + ... underflows or
  overflows within 20 layers) are not compared; neural-tangents stores 0, inf or NaN there.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

from verify.core.model import Model
from verify.data.pairs import pair_correlation
from verify.kernel.model_recursion import certified_model_sweep, float64_model_sweep

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "nt_models_reference.json"
SCRIPT = ROOT / "scripts" / "make_nt_models_reference.py"
NORM_ATOL = 1e-12
RAW_RTOL = 1e-12
RAW_FLOOR = 1e-3
NTK_DIAG_KINK_RTOL = 1e-6
RECTIFIED_EPS = 1e-15
DIGITS = 20
ACTIVATIONS = ["relu", "leaky_relu:0.1", "abrelu:-0.5,2", "abs", "sign", "relu^0", "relu^1", "relu^2", "erf", "gelu"]
TINY, HUGE = mpmath.mpf(2) ** -1000, mpmath.mpf(2) ** 1000      # well inside float64's normal range


@functools.cache
def reference() -> dict:
    return json.loads(DATA.read_text())


def model_of(cfg: dict) -> Model:
    return Model.parse(activation=cfg["activation"], sigma_w2=cfg["sigma_w2"], sigma_b2=cfg["sigma_b2"],
                       parameterization=cfg["parameterization"], width=cfg["width"],
                       architecture=cfg["architecture"])


@functools.cache
def pair_keys() -> tuple:
    ref = reference()
    pts = [[Fraction(v) for v in p] for p in ref["points"]]
    return tuple(pair_correlation(pts[i], pts[j]) for i, j in ref["pairs"])


def engine(cfg: dict, depths: list[int]):
    return certified_model_sweep(model_of(cfg), list(pair_keys()), depths, n0=reference()["n0"], digits=DIGITS)


def _in_range(value: mpmath.mpf) -> bool:
    return TINY < abs(value) < HUGE


def deviations(cfg: dict, out, depths: list[int], stored: dict | None = None) -> dict[str, float]:
    """Largest deviations of neural-tangents' values (``stored`` or ``cfg``) from the engine's balls.

    Asserts the error models of the module docstring on the way; returns the largest
    normalized, raw (floored) and diagonal deviations and the largest normalized NTK deviation
    in units of the rectified error model (``rectified``).
    """
    src = stored if stored is not None else cfg
    act = cfg["activation"]
    worst = {"norm": 0.0, "raw": 0.0, "nngp_diag": 0.0, "ntk_diag": 0.0, "rectified_ntk": 0.0}
    min_gap = [mpmath.inf] * len(src["nngp"][0])
    where = f"{model_of(cfg).name} width={cfg['width']}"
    for depth in depths:
        got = out.at(depth)
        k = depth - 1
        min_gap = [min(g, b.mid_mpf()) for g, b in zip(min_gap, got.nngp_gap, strict=True)]
        for kernel in ("nngp", "ntk"):
            diag = getattr(got, f"{kernel}_diag").mid_mpf()
            if not _in_range(diag):
                continue
            nt_diag = src[f"{kernel}_diag"][k]
            if nt_diag is not None and (kernel == "nngp" or act not in ("sign", "relu^0") or depth <= 2):
                rel = float(abs(nt_diag / diag - 1))
                worst[f"{kernel}_diag"] = max(worst[f"{kernel}_diag"], rel)
                if kernel == "nngp":
                    tol = RAW_RTOL
                elif act in ("erf", "gelu"):
                    tol = RAW_RTOL * (1 + float(got.nngp_diag.mid_mpf()))
                else:
                    tol = NTK_DIAG_KINK_RTOL
                assert rel <= tol, f"{where} L={depth}: {kernel} diagonal differs by {rel:.2e} (relative)"
            for p, value in enumerate(src[kernel][k]):
                if value is None:
                    continue
                norm = getattr(got, kernel)[p].mid_mpf()
                dev = float(abs(value / diag - norm))
                raw_dev = float(abs(value - norm * diag) / max(abs(norm * diag), RAW_FLOOR * abs(diag)))
                tol = NORM_ATOL
                if kernel == "ntk" and act in ("relu^1", "relu^2"):
                    tol = NORM_ATOL + RECTIFIED_EPS / float(min_gap[p])
                assert dev <= tol, f"{where} L={depth} {kernel} pair {p}: normalized differs by {dev:.2e}"
                raw_tol = RAW_RTOL if tol == NORM_ATOL else tol / RAW_FLOOR   # |K| >= RAW_FLOOR K(x,x) in the ratio
                assert raw_dev <= raw_tol, f"{where} L={depth} {kernel} pair {p}: raw differs by {raw_dev:.2e}"
                if tol == NORM_ATOL:
                    worst["norm"] = max(worst["norm"], dev)
                    worst["raw"] = max(worst["raw"], raw_dev)
                else:
                    worst["rectified_ntk"] = max(worst["rectified_ntk"], dev)
    return worst


def configs_of(activation: str) -> list[dict]:
    return [c for c in reference()["configs"] if c["activation"] == activation]


# ---------------------------------------------------------------- part a: committed data


def test_reference_file_is_complete():
    ref = reference()
    prov = ref["provenance"]
    assert prov["versions"]["neural_tangents"] == "0.6.5" and prov["jax_enable_x64"] is True
    assert ref["depths"] == list(range(1, 21))
    seen = {(c["activation"], c["sigma_w2"], c["sigma_b2"], c["parameterization"], c["width"], c["architecture"])
            for c in ref["configs"]}
    for act in ACTIVATIONS:
        for sw in ("1", "2"):
            for sb in ("0", "0.1"):
                for arch in ("mlp", "resnet:1", "resnet:0.3"):
                    assert (act, sw, sb, "ntk", 1, arch) in seen
                    assert (act, sw, sb, "standard", 1, arch) in seen
                assert sb == "0" or (act, sw, sb, "standard", 64, "resnet:0.3") in seen
    for cfg in ref["configs"]:
        assert len(cfg["nngp"]) == len(cfg["ntk"]) == 20 and all(len(row) == 6 for row in cfg["nngp"])


def test_nulls_are_only_where_neural_tangents_is_known_to_fail():
    for cfg in reference()["configs"]:
        act = cfg["activation"]
        for key in ("nngp", "ntk", "nngp_diag", "ntk_diag"):
            rows = cfg[key]
            flat = [v for row in rows for v in (row if isinstance(row, list) else [row])]
            if any(v is None for v in flat):
                assert act == "relu^2" or (key == "ntk_diag" and act.startswith("relu^")), (act, key)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_engine_matches_committed_neural_tangents(activation: str):
    depths = reference()["depths"]
    worst = {"norm": 0.0, "raw": 0.0, "nngp_diag": 0.0, "ntk_diag": 0.0, "rectified_ntk": 0.0}
    for cfg in configs_of(activation):
        dev = deviations(cfg, engine(cfg, depths), depths)
        worst = {k: max(worst[k], dev[k]) for k in worst}
    print(f"{activation}: max |normalized diff| {worst['norm']:.2e}, max relative raw diff (floored) "
          f"{worst['raw']:.2e}, Sigma(x,x) {worst['nngp_diag']:.2e}, Theta(x,x) {worst['ntk_diag']:.2e}"
          + (f"; NTK within RectifiedMonomial's error model, largest |normalized diff| {worst['rectified_ntk']:.2e}"
             if activation in ("relu^1", "relu^2") else ""))


def test_relu1_matches_neural_tangents_relu():
    """relu^1 is relu: neural-tangents' accurate ``Relu()`` data agrees with the engine's relu^1 to NORM_ATOL."""
    depths = reference()["depths"]
    keys = ("sigma_w2", "sigma_b2", "parameterization", "width", "architecture")
    for cfg in configs_of("relu^1"):
        twin = next(c for c in configs_of("relu") if all(c[k] == cfg[k] for k in keys))
        out = engine(cfg, depths)
        dev = deviations(twin, out, depths)          # twin's own activation (relu): the strict tolerances
        assert dev["norm"] <= NORM_ATOL


def test_float64_route_matches_committed_neural_tangents():
    """The best-effort float64 route (vectorized over the float64 cosines) against the same data.

    relu^1 and relu^2 are left out (neural-tangents' own NTK error there, see the docstring).
    """
    ref = reference()
    cosines = np.array(ref["cosines_float64"])
    worst = 0.0
    for cfg in ref["configs"]:
        if cfg["activation"] in ("relu^1", "relu^2"):
            continue
        out = float64_model_sweep(model_of(cfg), cosines, ref["depths"], ref["n0"])
        for depth in ref["depths"]:
            got = out.at(depth)
            for kernel in ("nngp", "ntk"):
                nt = np.array([np.nan if v is None else v for v in cfg[kernel][depth - 1]])
                dev = float(np.max(np.abs(nt / getattr(got, f"{kernel}_diag") - getattr(got, kernel))))
                assert dev <= NORM_ATOL, (model_of(cfg).name, depth, kernel, dev)
                worst = max(worst, dev)
    print(f"float64 route: max |normalized diff| {worst:.2e}")


# ---------------------------------------------------------------- part b: live neural-tangents

LIVE = [("gelu", "2", "0.1", "standard", 64, "resnet:0.3"), ("erf", "1", "0.1", "ntk", 1, "mlp"),
        ("abrelu:-0.5,2", "2", "0", "standard", 1, "resnet:1"), ("sign", "1", "0.1", "ntk", 1, "resnet:0.3")]
LIVE_DEPTH = 6


def _load_script():
    spec = importlib.util.spec_from_file_location("make_nt_models_reference", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("key", LIVE, ids=lambda k: "-".join(map(str, k)))
def test_live_neural_tangents(key: tuple):
    pytest.importorskip("neural_tangents")
    import jax

    jax.config.update("jax_enable_x64", True)
    script = _load_script()
    cfg = {"activation": key[0], "sigma_w2": key[1], "sigma_b2": key[2], "parameterization": key[3],
           "width": key[4], "architecture": key[5]}
    live = script.sweep(cfg, script.inputs(), max_depth=LIVE_DEPTH)
    depths = list(range(1, LIVE_DEPTH + 1))
    deviations(cfg, engine(cfg, depths), depths, stored=live)       # asserts the tolerances
    stored = next(c for c in reference()["configs"] if all(c[k] == cfg[k] for k in cfg))
    for name in ("nngp", "ntk"):
        np.testing.assert_allclose(np.array(live[name], dtype=float), np.array(stored[name][:LIVE_DEPTH], dtype=float),
                                   rtol=1e-13, atol=1e-300)
