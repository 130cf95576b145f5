"""Where points come from: CSV and .npy files, and the built-in datasets.

* CSV: one point a row, decimal strings parsed exactly (never through float64);
  lines starting with ``#`` are comments; one header row of non-numeric names is allowed.
* CSV cells are ASCII decimals (:data:`verify.core.params.DECIMAL_GRAMMAR`): full-width or other
  Unicode digits, ``nan``, ``inf`` and ``1/3`` are refused, not guessed at.
* ``.npy``: a 2-d array (points x coordinates) of integers or floats, loaded with
  ``allow_pickle=False`` (a pickled file is refused; a file without the NumPy header is
  "not a .npy file"); 1-d arrays are refused as ambiguous; floats keep their exact binary values.
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

from verify.core.errors import InputError
from verify.core.params import DECIMAL_GRAMMAR, parse_exact
from verify.data.dataset import Dataset

SPHERE_SEED = 20261123
MAX_BUILTIN_POINTS = 10_000
BUILTINS = ("sphere-N", "msft-N")
NPY_MAGIC = b"\x93NUMPY"


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
    arr = _load_npy(path, what)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{what}: {path.name} must hold real numbers, not {arr.dtype}")
    if arr.ndim != 2 or arr.size == 0:
        hint = (" (a 1-d array is ambiguous: save n points of dimension n0 as shape (n, n0), "
                "e.g. x.reshape(-1, 1) for scalars)" if arr.ndim == 1 else "")
        raise InputError(f"{what}: {path.name} must be a non-empty 2-d array (points x coordinates), "
                         f"got shape {arr.shape}{hint}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what}: {path.name} contains NaN or infinity")
    if arr.dtype.kind == "f":       # every binary float is a rational: keep it exactly (long double too)
        return [[Fraction(*v.as_integer_ratio()) for v in row] for row in arr]
    return [[Fraction(int(v)) for v in row] for row in arr.tolist()]


def _load_npy(path: Path, what: str) -> np.ndarray:
    """np.load without pickles, refusing what is not a .npy file before NumPy guesses at it."""
    with path.open("rb") as fh:
        magic = fh.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        raise InputError(f"{what}: {path.name} is not a .npy file (bad magic: no NumPy header)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{what}: {path.name} holds pickled objects; refused") from None
        raise InputError(f"{what}: {path.name} is not a valid .npy file") from None
    except Exception:   # a damaged header reaches ast/tokenize (SyntaxError, TokenError, ...): not a fixed set
        raise InputError(f"{what}: {path.name} is not a valid .npy file (damaged header or data)") from None


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
    try:
        rows = [[c.strip() for c in r] for r in csv.reader(io.StringIO("\n".join(lines)))]
    except csv.Error as exc:
        raise InputError(f"{what}: {path.name} is not valid CSV ({exc})") from None
    if rows and all(_is_header_cell(c) for c in rows[0]):
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


def _is_header_cell(cell: str) -> bool:
    """A column name: a cell that no lenient reader would take for a number.

    Python's float() and Fraction() read full-width and other Unicode digits, "nan", "inf"
    and "1/3"; such cells are numbers written wrongly (refused later with a clear error),
    never names to skip. (No Fraction() here: it would compute 10**99999999 for "1e99999999".)
    """
    if DECIMAL_GRAMMAR.fullmatch(cell) and any(ch.isdigit() for ch in cell):
        return False
    return not all(_float_like(part) for part in cell.split("/", 1))


def _float_like(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def builtin_rows(name: str) -> tuple[list[list[Fraction]], str]:
    """The rows of a built-in dataset (exact rationals) and its display name."""
    kind, _, count = name.rpartition("-")
    if kind not in {"sphere", "msft"} or not (count.isascii() and count.isdigit()):
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
