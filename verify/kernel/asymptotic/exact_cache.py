"""An on-disk cache of exact numbers that are costly to compute and the same on every run.

Used for the circle maxima of :func:`verify.kernel.asymptotic.bounds.circle_bounds` (about
0.5-1 s at 30 digits, more at high digits, once per process without the cache).

Why a cached value is the value the code would compute:

1. The computation is a fixed sequence of Arb operations at a precision it sets itself
   (``ctx.workprec``); it reads no other state, draws no random numbers, and Arb's results
   are bit-for-bit reproducible for the same inputs, precision and library version.
2. The file is found by the SHA-256 of everything that determines the result: the
   arguments, the source text of every module on the computation path
   (:data:`SOURCES`), and the versions of python-flint and of the FLINT library it runs.
   Editing any of them changes the name, so a stale file is never read. The full key is
   also stored in the file and compared on reading.
3. Only exact numbers are stored (Arb balls of radius 0: dyadic ``man * 2^exp``), as
   integers, and read back exactly (``arb(arf((man, exp)))``). Balls with a radius are
   never cached: python-flint cannot rebuild a radius bit for bit.

Anything unexpected (no cache folder, unreadable or malformed file, a key that does not
match) means the value is recomputed; writing is best effort and atomic (a temporary
file and a rename), so concurrent processes never read half a file.

The folder is ``$NTK_VERIFY_CACHE_DIR`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/ntk-verify`` or ``~/.cache/ntk-verify``.

>>> from flint import arb, ctx
>>> with ctx.workprec(80):
...     x = (arb(1) / 3).upper()
>>> decode_exact(encode_exact([x]))[0] == x
True
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import flint
from flint import arb, arf

from verify.core.atomic_write import write_atomic

FORMAT = 1
# the modules whose code determines the cached circle maxima (see the module docstring)
SOURCES = (
    "verify.kernel.asymptotic.bounds",
    "verify.kernel.asymptotic.abel",
    "verify.kernel.asymptotic.coefficients",
    "verify.kernel.asymptotic.family",
    "verify.kernel.asymptotic.series",
)


def cache_dir() -> Path | None:
    """The cache folder, or None when disabled (``NTK_VERIFY_CACHE_DIR=off``)."""
    chosen = os.environ.get("NTK_VERIFY_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ntk-verify"


@cache
def code_fingerprint(modules: tuple[str, ...] = SOURCES) -> str:
    """SHA-256 of the source text of ``modules`` and of the python-flint and FLINT versions."""
    digest = hashlib.sha256()
    digest.update(f"python-flint {flint.__version__} FLINT {getattr(flint, '__FLINT_VERSION__', '?')}".encode())
    for name in modules:
        path = getattr(importlib.import_module(name), "__file__", None)
        if path is None:
            raise RuntimeError(f"no source file for {name}")
        digest.update(name.encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


def encode_exact(values: Sequence[arb]) -> list[list[str]]:
    """Exact balls (radius 0) as [man, exp] decimal integer strings; ValueError for a ball with a radius."""
    out = []
    for v in values:
        if v.rad() != 0 or not v.is_finite():
            raise ValueError("only exact, finite balls are cached")
        man, exp = v.mid().man_exp()
        out.append([str(int(man)), str(int(exp))])
    return out


def decode_exact(items: Any) -> list[arb]:
    """The inverse of :func:`encode_exact` (exact at any precision)."""
    return [arb(arf((int(man), int(exp)))) for man, exp in items]


def cached_exact(name: str, key: dict[str, Any], compute: Callable[[], list[arb]]) -> list[arb]:
    """``compute()`` (a list of exact balls), read from the cache when the same key was computed before."""
    folder = cache_dir()
    full_key = {"format": FORMAT, "name": name, "code": code_fingerprint(), **key}
    text_key = json.dumps(full_key, sort_keys=True)
    path = None
    if folder is not None:
        path = folder / f"{name}-{hashlib.sha256(text_key.encode()).hexdigest()[:32]}.json"
        found = _read(path, full_key)
        if found is not None:
            return found
    values = compute()
    if path is not None:
        _write(path, {"key": full_key, "values": encode_exact(values)})
    return values


def _read(path: Path, full_key: dict[str, Any]) -> list[arb] | None:
    try:
        data = json.loads(path.read_text())
        if data["key"] != full_key:
            return None
        return decode_exact(data["values"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, payload: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):   # a cache: never fail the computation because it cannot be written
        write_atomic(path, json.dumps(payload) + "\n")
