"""Where points come from: CSV and .npy files, and the built-in datasets.

* CSV: one point a row, decimal strings parsed exactly (never through float64);
  lines starting with ``#`` are comments; one header row of non-numeric names is allowed.
* ``.npy``: loaded with ``allow_pickle=False`` (a pickled file is refused); floats keep
  their exact binary values.
* ``builtin:sphere-N``: N points drawn from a seeded Gaussian in R^3, projected on S^2.
* ``builtin:msft-N``: real data, the first N trading days of Microsoft's daily
  (open, high, low, close) prices from matplotlib's bundled sample data, centred
  per feature (exactly, in rationals) before projection.

>>> load_dataset("builtin:sphere-3").n
3
>>> load_dataset("builtin:msft-5").n0
4
"""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from pathlib import Path

import numpy as np

from .dataset import Dataset
from .errors import InputError
from .params import parse_exact

SPHERE_SEED = 20261123
MAX_BUILTIN_POINTS = 10_000
BUILTINS = ("sphere-N", "msft-N")


def load_dataset(spec: str, project: str = "normalize") -> Dataset:
    """Load points from a path or ``builtin:NAME`` and project them onto the sphere."""
    spec = str(spec)
    if spec.startswith("builtin:"):
        rows, name = builtin_rows(spec[len("builtin:"):])
        return Dataset.from_rows(rows, project, name)
    return Dataset.from_rows(load_rows(spec), project, Path(spec).name)


def load_rows(path: str | Path, what: str = "data") -> list[list[Fraction]]:
    """Rows of exact numbers from a CSV or .npy file (InputError on anything malformed)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{what} file not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} path is a directory: {path}")
    if path.suffix.lower() == ".npy":
        return _npy_rows(path, what)
    return _csv_rows(path, what)


def _npy_rows(path: Path, what: str) -> list[list[Fraction]]:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{what}: {path.name} holds pickled objects; refused") from None
        raise InputError(f"{what}: {path.name} is not a valid .npy file") from None
    except (OSError, EOFError):
        raise InputError(f"{what}: {path.name} is not a valid .npy file") from None
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InputError(f"{what}: {path.name} must hold real numbers, not {arr.dtype}")
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.size == 0:
        raise InputError(f"{what}: {path.name} must be a non-empty 2-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what}: {path.name} contains NaN or infinity")
    return [[Fraction(v) if isinstance(v, float) else Fraction(int(v)) for v in row]
            for row in arr.tolist()]


def _csv_rows(path: Path, what: str) -> list[list[Fraction]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{what}: {path.name} is empty")
    if b"\x00" in raw:
        raise InputError(f"{what}: {path.name} is a binary file, expected CSV text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{what}: {path.name} is not UTF-8 text") from None
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise InputError(f"{what}: {path.name} has no data rows")
    rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO("\n".join(lines)))]
    if rows and all(not _looks_numeric(c) for c in rows[0]):
        rows = rows[1:]
    if not rows:
        raise InputError(f"{what}: {path.name} has a header but no data rows")
    width = len(rows[0])
    out = []
    for i, row in enumerate(rows, start=1):
        if len(row) != width:
            raise InputError(f"{what}: {path.name} row {i} has {len(row)} values, expected {width}")
        out.append([parse_exact(c, f"{what}: {path.name} row {i}") for c in row])
    return out


def _looks_numeric(cell: str) -> bool:
    try:
        Fraction(cell)
        return True
    except (ValueError, ZeroDivisionError):
        return cell.lower() in {"nan", "inf", "-inf", "+inf", "infinity", "-infinity"}


def builtin_rows(name: str) -> tuple[list[list[Fraction]], str]:
    """The rows of a built-in dataset (exact rationals) and its display name."""
    kind, _, count = name.rpartition("-")
    if kind not in {"sphere", "msft"} or not count.isdigit():
        raise InputError(f"unknown built-in dataset {name!r}; available: "
                         + ", ".join(f"builtin:{b}" for b in BUILTINS))
    n = int(count)
    if not 1 <= n <= MAX_BUILTIN_POINTS:
        raise InputError(f"built-in dataset size must be 1..{MAX_BUILTIN_POINTS}, got {n}")
    if kind == "sphere":
        pts = np.random.default_rng(SPHERE_SEED).standard_normal((n, 3))
        pts /= np.linalg.norm(pts, axis=1, keepdims=True)
        return [[Fraction(float(v)) for v in p] for p in pts], f"builtin:sphere-{n}"
    return _msft_rows(n), f"builtin:msft-{n}"


def _msft_rows(n: int) -> list[list[Fraction]]:
    from matplotlib import cbook

    path = cbook.get_sample_data("msft.csv", asfileobj=False)
    with open(path, encoding="utf-8") as fh:
        records = list(csv.DictReader(fh))
    if n > len(records):
        raise InputError(f"builtin:msft has {len(records)} days, asked for {n}")
    rows = [[Fraction(r[k]) for k in ("Open", "High", "Low", "Close")] for r in records[:n]]
    means = [sum(col, Fraction(0)) / n for col in zip(*rows, strict=True)]
    return [[v - m for v, m in zip(row, means, strict=True)] for row in rows]
