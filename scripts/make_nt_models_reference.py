"""Generate ``tests/data/nt_models_reference.json``: neural-tangents kernels of many models as reference data.

Why this data is committed
--------------------------
neural-tangents is an independent float64 implementation of the infinite-width kernels of
every activation of :mod:`verify.core.model`. Its stack (jax, TensorFlow through tf2jax) is too
heavy for every test run, so this script computes the kernels once;
``tests/test_models_nt.py`` compares the engine (:mod:`verify.kernel.model_recursion`) with them
on every run and recomputes a few live where the ``crosscheck`` extra is installed.

How to run
----------
In the venv with the ``crosscheck`` extra (neural-tangents 0.6.5, jax 0.4.30, numpy < 2)::

    /work/nt-venv/bin/python scripts/make_nt_models_reference.py            # writes the JSON
    /work/nt-venv/bin/python scripts/make_nt_models_reference.py --check    # recompute, compare, no write

What it stores
--------------
Four unit vectors of R^3 with exact decimal coordinates (cosines 0.9984, -0.9984, 0.36,
-0.99434496, 0.411904, -0.315648: near-parallel and near-antiparallel pairs included), n0 = 3.
For every activation of ``ACTIVATIONS``, sigma_w^2 in {1, 2}, sigma_b^2 in {0, 0.1} (sigma_b^2 = 0
means no bias, ``b_std=None``), parameterization ``ntk`` and ``standard`` with width 1 (and
``standard`` with width 64 where sigma_b^2 = 0.1), architectures ``mlp``, ``resnet:1``,
``resnet:0.3``, and depths L = 1..20 (L Dense layers; for resnet a first Dense and L - 1 blocks,
see ``network``): the RAW nngp and ntk of the 6 pairs (i < j, in ``pairs`` order) and the raw
diagonals Sigma^(L)(x,x) (``cov1``, neural-tangents' diagonal formula) and Theta^(L)(x,x) (the
ntk matrix's diagonal; equal for the 4 points, checked to 1e-13 relative).

Layers are applied one block at a time (the kernel function of each block is ``jax.jit``-ed),
which is the composition ``stax.serial`` performs; for one configuration per activation and
architecture the script checks this against the un-jitted ``stax.serial`` of the whole network at
depth ``CHECK_DEPTH`` and stores the largest difference in the provenance. Input kernels are
built with ``diagonal_spatial=True`` so the diagonals use neural-tangents' diagonal formulas.

Where neural-tangents returns NaN or infinity the value is stored as null: its
``RectifiedMonomial`` evaluates its kernel at correlation exactly 1 through (pi - theta)/sin(theta),
so the NTK diagonal (and every entry after a second such layer when the diagonals are not kept
separately) is NaN; relu^2 at sigma_w^2 = 2 overflows float64 past about 10 layers.
Floats are written with Python's ``repr`` (exact float64 round trip).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np

POINTS = [("1", "0", "0"), ("0.9984", "0.024", "0.0512"), ("-0.9984", "0.0512", "0.024"), ("0.36", "0.48", "0.8")]
ACTIVATIONS = ["relu", "leaky_relu:0.1", "abrelu:-0.5,2", "abs", "sign", "relu^0", "relu^1", "relu^2", "erf", "gelu"]
SIGMAS = [("1", "0"), ("1", "0.1"), ("2", "0"), ("2", "0.1")]
ARCHITECTURES = ["mlp", "resnet:1", "resnet:0.3"]
WIDE = 64
MAX_DEPTH = 20
CHECK_DEPTH = 4
DIAG_RTOL = 1e-13
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "nt_models_reference.json"


def pairs() -> list[tuple[int, int]]:
    n = len(POINTS)
    return [(i, j) for i in range(n) for j in range(i + 1, n)]


def configurations() -> list[dict]:
    """Every model of the reference data (``width`` is stated for both parameterizations)."""
    out = []
    for act in ACTIVATIONS:
        for w2, b2 in SIGMAS:
            params = [("ntk", 1), ("standard", 1)] + ([("standard", WIDE)] if b2 != "0" else [])
            for param, width in params:
                for arch in ARCHITECTURES:
                    out.append({"activation": act, "sigma_w2": w2, "sigma_b2": b2, "parameterization": param,
                                "width": width, "architecture": arch})
    return out


def inputs() -> np.ndarray:
    return np.array([[float(v) for v in p] for p in POINTS], dtype=np.float64)


def activation_layer(spec: str):
    """The stax layer of an activation spec (``relu``, ``leaky_relu:A``, ``abrelu:A,B``, ``relu^K``, ...)."""
    from neural_tangents import stax

    name, _, rest = spec.partition(":")
    args = [float(v) for v in rest.split(",")] if rest else []
    if name.startswith("relu^"):
        return stax.RectifiedMonomial(int(name[5:]))
    table = {"relu": stax.Relu, "leaky_relu": stax.LeakyRelu, "abrelu": stax.ABRelu, "abs": stax.Abs,
             "sign": stax.Sign, "erf": stax.Erf, "gelu": lambda: stax.Gelu(approximate=False)}
    return table[name](*args)


def network(cfg: dict):
    """(first layer, block): the first Dense and the layer taking depth L to L + 1."""
    from neural_tangents import stax

    w_std = math.sqrt(float(cfg["sigma_w2"]))
    b_std = math.sqrt(float(cfg["sigma_b2"])) if cfg["sigma_b2"] != "0" else None
    param, width = cfg["parameterization"], cfg["width"]

    def dense(scale: float = 1.0):
        return stax.Dense(width, W_std=scale * w_std, b_std=None if b_std is None else scale * b_std,
                          parameterization=param)

    phi = activation_layer(cfg["activation"])
    arch = cfg["architecture"]
    if arch == "mlp":
        return dense(), stax.serial(phi, dense())
    alpha = float(arch.partition(":")[2])
    block = stax.serial(stax.FanOut(2), stax.parallel(stax.serial(phi, dense(alpha)), stax.Identity()),
                        stax.FanInSum())
    return dense(), block


def _clean(values) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64).ravel()]


def sweep(cfg: dict, x: np.ndarray, max_depth: int = MAX_DEPTH) -> dict:
    """Raw kernels of ``cfg`` at depths 1..max_depth: pairs' nngp/ntk and the two diagonals."""
    import jax

    (_, _, first), (_, _, block) = network(cfg)
    step = jax.jit(block)
    idx = tuple(np.array(p) for p in zip(*pairs(), strict=True))
    out: dict = {"nngp": [], "ntk": [], "nngp_diag": [], "ntk_diag": []}
    worst = 0.0
    k = first(x, None, diagonal_spatial=True)
    for depth in range(1, max_depth + 1):
        if depth > 1:
            k = step(k)
        nngp, ntk, cov1 = (np.asarray(a) for a in (k.nngp, k.ntk, k.cov1))
        if nngp.dtype != np.float64:
            raise RuntimeError("neural-tangents did not return float64: x64 off?")
        out["nngp"].append(_clean(nngp[idx]))
        out["ntk"].append(_clean(ntk[idx]))
        out["nngp_diag"].append(_clean(cov1[:1])[0])
        diag = np.diag(ntk)
        if np.all(np.isfinite(diag)):
            spread = float(np.max(np.abs(diag / diag[0] - 1.0)))
            worst = max(worst, spread)
            if spread > DIAG_RTOL:
                raise RuntimeError(f"{cfg} L={depth}: ntk diagonal not constant ({spread:.2e})")
        out["ntk_diag"].append(_clean(diag[:1])[0])
    out["ntk_diag_spread"] = worst
    return out


def full_network(cfg: dict, depth: int):
    """The whole network of ``depth`` Dense layers as one ``stax.serial`` (no jit), for the check."""
    from neural_tangents import stax

    (first, block) = network(cfg)
    return stax.serial(first, *[block] * (depth - 1))


def check_composition(cfg: dict, x: np.ndarray, stored: dict) -> float:
    """Largest relative difference between the stored (block by block, jitted) and the full serial kernels."""
    _, _, kernel_fn = full_network(cfg, CHECK_DEPTH)
    k = kernel_fn(x, None, ("nngp", "ntk"), diagonal_spatial=True)
    idx = tuple(np.array(p) for p in zip(*pairs(), strict=True))
    worst = 0.0
    for name, mat in (("nngp", k.nngp), ("ntk", k.ntk)):
        a = np.asarray(mat)[idx]
        b = np.array([np.nan if v is None else v for v in stored[name][CHECK_DEPTH - 1]])
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.any():
            worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300))))
    return worst


def _versions() -> dict[str, str]:
    import jax
    import jaxlib
    import neural_tangents

    return {"python": platform.python_version(), "numpy": np.__version__, "jax": jax.__version__,
            "jaxlib": jaxlib.__version__, "neural_tangents": getattr(neural_tangents, "__version__", "unknown")}


def build(progress: bool = True) -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)
    x = inputs()
    configs = configurations()
    checked: set[tuple[str, str]] = set()
    worst_check, worst_spread = 0.0, 0.0
    for n, cfg in enumerate(configs):
        cfg.update(sweep(cfg, x))
        worst_spread = max(worst_spread, cfg.pop("ntk_diag_spread"))
        key = (cfg["activation"], cfg["architecture"])
        if key not in checked and cfg["width"] == WIDE and cfg["sigma_w2"] == "2":
            checked.add(key)
            worst_check = max(worst_check, check_composition(cfg, x, cfg))
        if progress:
            print(f"\r{n + 1}/{len(configs)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    cos = x @ x.T
    return {
        "provenance": {
            "generator": "scripts/make_nt_models_reference.py",
            "date": datetime.date.today().isoformat(),
            "versions": _versions(),
            "platform": platform.platform(),
            "jax_enable_x64": True,
            "network": "first stax.Dense(width, W_std=sqrt(sigma_w2), b_std=sqrt(sigma_b2) or None, "
                       "parameterization); mlp: L-1 x serial(phi, Dense(...)); resnet:ALPHA: L-1 x "
                       "serial(FanOut(2), parallel(serial(phi, Dense(width, ALPHA W_std, ALPHA b_std)), "
                       "Identity()), FanInSum()); kernel_fn(x, None, diagonal_spatial=True)",
            "kernels": "RAW; nngp/ntk: pairs (i<j) in 'pairs' order; nngp_diag = cov1[0], ntk_diag = ntk[0,0]; "
                       "null where neural-tangents returned NaN or inf",
            "max_rel_diff_block_jit_vs_full_serial": worst_check,
            "composition_checked_at_depth": CHECK_DEPTH,
            "composition_checked_for": sorted(f"{a} {b}" for a, b in checked),
            "max_rel_ntk_diag_spread": worst_spread,
        },
        "points": [list(p) for p in POINTS],
        "n0": len(POINTS[0]),
        "pairs": [list(p) for p in pairs()],
        "cosines_float64": [float(cos[i, j]) for i, j in pairs()],
        "depths": list(range(1, MAX_DEPTH + 1)),
        "configs": configs,
    }


def dumps(data: dict) -> str:
    """One line per configuration (small, diffable)."""
    head = {k: v for k, v in data.items() if k != "configs"}
    lines = [json.dumps(cfg, separators=(",", ":")) for cfg in data["configs"]]
    text = json.dumps(head, indent=1)
    return text[:-2] + ',\n "configs": [\n' + ",\n".join(lines) + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="recompute and compare with the existing file")
    args = ap.parse_args(argv)
    data = build()
    text = dumps(data)
    if json.loads(text)["configs"] != data["configs"]:
        raise RuntimeError("JSON round trip changed a value")
    if args.check:
        old = json.loads(args.out.read_text())
        worst = 0.0
        for new_cfg, old_cfg in zip(data["configs"], old["configs"], strict=True):
            for key in ("nngp", "ntk", "nngp_diag", "ntk_diag"):
                a = np.array(new_cfg[key], dtype=float)
                b = np.array(old_cfg[key], dtype=float)
                ok = np.isfinite(a) & np.isfinite(b)
                worst = max(worst, float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300),
                                                initial=0.0)))
        print(f"max relative difference vs {args.out}: {worst:.3e}")
        return 0 if worst <= 1e-13 else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text) / 1024:.0f} KB, {len(data['configs'])} models)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
