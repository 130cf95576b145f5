"""Generate ``proofs_checks/data/nt_reference.json``: neural-tangents kernels as reference data.

Why this data is committed
--------------------------
neural-tangents is an independent implementation of the infinite-width NTK and NNGP
kernels (float64, closed-form ReLU layers).  Installing it pulls TensorFlow through
tf2jax (a ~2.6 GB venv), which is too heavy for every test run.  So its values are
computed once by this script and committed; ``tests/test_neural_tangents.py`` compares
the project's engine with them on every run, and re-runs neural-tangents live only
where the ``crosscheck`` extra is installed.

How to run
----------
Only in a separate venv that has the pinned neural-tangents stack (Python 3.11)::

    python3.11 -m venv /work/ntvenv
    /work/ntvenv/bin/pip install "jax==0.4.30" "jaxlib==0.4.30" "tf2jax==0.3.6" \
        "neural-tangents==0.6.5" "numpy<2"
    /work/ntvenv/bin/python scripts/make_nt_reference.py            # writes the JSON
    /work/ntvenv/bin/python scripts/make_nt_reference.py --check    # compare, no write

What it stores
--------------
For each dataset (unit vectors, float64, stored as ``repr(float)`` decimal strings so a
decimal parser gets back exactly the same binary values) and each depth L = 1..50
(L ``Dense`` layers, L-1 ``Relu``), the RAW ``nngp`` and ``ntk`` matrices of

    stax.serial(*[Dense(1, W_std=1.0, b_std=None, parameterization='ntk'), Relu()] * (L-1),
                Dense(1, W_std=1.0, b_std=None, parameterization='ntk'))

as ``kernel_fn(X, None, ('nngp', 'ntk'))``, written as JSON floats (Python's ``repr``,
which round-trips float64 exactly).  Before writing, the diagonals are checked against
Sigma^(L)(x,x) = 1/(n0 2^(L-1)) and Theta^(L)(x,x) = L/(n0 2^(L-1)) (see MATH.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import re
import sys
from pathlib import Path

import numpy as np

MAX_DEPTH = 50
DIAG_RTOL = 1e-14
ARCHITECTURE = (
    "stax.serial(*[Dense(1, W_std=1.0, b_std=None, parameterization='ntk'), Relu()] * (L-1), "
    "Dense(1, W_std=1.0, b_std=None, parameterization='ntk')); "
    "kernel_fn(X, None, ('nngp', 'ntk')); L = number of Dense layers"
)
OUT = Path(__file__).resolve().parent.parent / "proofs_checks" / "data" / "nt_reference.json"


def _unit_rows(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def datasets() -> dict[str, tuple[str, np.ndarray]]:
    """The reference inputs: name -> (description, float64 array of unit rows)."""
    angles = np.array([0.0, 0.7, 2.0, 3.5, 5.9])
    circle5 = np.stack([np.cos(angles), np.sin(angles)], axis=1)

    sphere6 = _unit_rows(np.random.default_rng(20261123).standard_normal((6, 3)))

    c = 0.999
    s = math.sqrt(1.0 - c * c)
    extreme4 = _unit_rows(
        np.array(
            [
                [1.0, 0.0, 0.0],
                [c, s, 0.0],  # cos with row 0 ~ +0.999
                [-c, 0.0, s],  # cos with row 0 ~ -0.999, with row 1 ~ -0.998
                [0.2, -0.6, 0.7],  # generic
            ]
        )
    )
    return {
        "circle5": ("5 points on S^1 at angles 0, 0.7, 2.0, 3.5, 5.9 rad", circle5),
        "sphere6": (
            "6 points: numpy.random.default_rng(20261123).standard_normal((6, 3)), "
            "rows normalized to unit length",
            sphere6,
        ),
        "extreme4": (
            "4 unit points in R^3: e1, (0.999, sqrt(1-0.999^2), 0), "
            "(-0.999, 0, sqrt(1-0.999^2)), normalize(0.2, -0.6, 0.7); "
            "pairwise cosines include ~+0.999 and ~-0.999",
            extreme4,
        ),
    }


def architecture(depth: int):
    from neural_tangents import stax

    def dense():
        return stax.Dense(1, W_std=1.0, b_std=None, parameterization="ntk")

    return stax.serial(*[dense(), stax.Relu()] * (depth - 1), dense())


def nt_kernels(x: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw (nngp, ntk) float64 matrices from neural-tangents for ``depth`` Dense layers."""
    _, _, kernel_fn = architecture(depth)
    k = kernel_fn(x, None, ("nngp", "ntk"))
    nngp = np.asarray(k.nngp)
    ntk = np.asarray(k.ntk)
    if nngp.dtype != np.float64 or ntk.dtype != np.float64:
        raise RuntimeError(f"neural-tangents did not return float64 ({nngp.dtype}); x64 off?")
    return nngp, ntk


def diag_factor(n0: int, depth: int, kernel: str) -> float:
    """Exact diagonal of the raw kernel on the sphere (a power of two times 1 or L)."""
    base = 1.0 / (n0 * 2.0 ** (depth - 1))
    return base * depth if kernel == "ntk" else base


def _compact(text: str) -> str:
    """Put each innermost list of numbers on one line (keeps the file small and diffable)."""
    item = r'"?-?[0-9][-+0-9.eE]*"?'  # a JSON number or a decimal string
    num_list = re.compile(rf"\[\s*({item}(?:,\s*{item})*)\s*\]")
    return num_list.sub(lambda m: "[" + ", ".join(re.split(r",\s*", m.group(1))) + "]", text)


def _versions() -> dict[str, str]:
    import jax
    import jaxlib
    import neural_tangents

    out = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "neural_tangents": getattr(neural_tangents, "__version__", "unknown"),
    }
    for mod in ("tf2jax", "tensorflow"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception:  # provenance only
            out[mod] = "not importable"
    return out


def build() -> dict:
    import jax

    jax.config.update("jax_enable_x64", True)

    data: dict = {}
    worst_diag = 0.0
    for name, (desc, x) in datasets().items():
        n, n0 = x.shape
        norms_dev = float(np.max(np.abs(np.sum(x * x, axis=1) - 1.0)))
        cos = x @ x.T
        entry = {
            "description": desc,
            "points": [[repr(float(v)) for v in row] for row in x],
            "n0": n0,
            "max_abs_norm2_minus_1_float64": norms_dev,
            "cosines_float64": cos.tolist(),
            "depths": {},
        }
        for depth in range(1, MAX_DEPTH + 1):
            nngp, ntk = nt_kernels(x, depth)
            for kern, mat in (("nngp", nngp), ("ntk", ntk)):
                if mat.shape != (n, n):
                    raise RuntimeError(f"{name} L={depth} {kern}: shape {mat.shape}")
                d = diag_factor(n0, depth, kern)
                rel = float(np.max(np.abs(np.diag(mat) / d - 1.0)))
                worst_diag = max(worst_diag, rel)
                if rel > DIAG_RTOL:
                    raise RuntimeError(
                        f"{name} L={depth} {kern}: diagonal off by {rel:.3e} (relative)"
                    )
            entry["depths"][str(depth)] = {"nngp": nngp.tolist(), "ntk": ntk.tolist()}
        data[name] = entry

    return {
        "provenance": {
            "generator": "scripts/make_nt_reference.py",
            "date": datetime.date.today().isoformat(),
            "versions": _versions(),
            "platform": platform.platform(),
            "jax_enable_x64": True,
            "architecture": ARCHITECTURE,
            "depths": [1, MAX_DEPTH],
            "kernels": "RAW matrices; normalize by diagonal factor 1/(n0 2^(L-1)) (nngp) "
            "and L/(n0 2^(L-1)) (ntk)",
            "float_format": "JSON floats written with Python repr (exact float64 round trip); "
            "points are repr(float) decimal strings",
            "max_rel_diag_deviation": worst_diag,
        },
        "datasets": data,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--check", action="store_true", help="compare with the existing file instead of writing"
    )
    args = ap.parse_args(argv)

    ref = build()
    if args.check:
        old = json.loads(args.out.read_text())
        worst = 0.0
        for name, entry in ref["datasets"].items():
            for depth, mats in entry["depths"].items():
                for kern, mat in mats.items():
                    a = np.array(mat)
                    b = np.array(old["datasets"][name]["depths"][depth][kern])
                    worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
        print(f"max relative difference vs {args.out}: {worst:.3e}")
        return 0 if worst <= 1e-14 else 1

    text = _compact(json.dumps(ref, indent=1)) + "\n"
    # Round-trip check: every float must come back bit-identical.
    back = json.loads(text)
    for name, entry in ref["datasets"].items():
        for depth, mats in entry["depths"].items():
            for kern, mat in mats.items():
                if back["datasets"][name]["depths"][depth][kern] != mat:
                    raise RuntimeError(f"round trip failed for {name} L={depth} {kern}")
        pts = np.array([[float(s) for s in row] for row in back["datasets"][name]["points"]])
        if not np.array_equal(pts, datasets()[name][1]):
            raise RuntimeError(f"points of {name} do not round-trip")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(
        f"wrote {args.out} ({len(text) / 1024:.0f} KB); max relative diagonal deviation "
        f"{ref['provenance']['max_rel_diag_deviation']:.2e}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
