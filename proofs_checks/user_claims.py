"""Users' own claims: load a claim file (``--claims FILE.py``) into checks like the built-in ones.

A claim file is a Python module that defines its checks with the public API of
:mod:`proofs_checks.base` (:class:`~proofs_checks.base.CheckSpec`, ``Finding``, ``Evidence``,
``Table``, ``Figure``) and exposes them in a module-level list::

    CHECKS = [CheckSpec(id="my-claim", ...), ...]

(a single ``CHECK = CheckSpec(...)``, as in the built-in modules, is accepted too). Verdicts
are formed by :func:`~proofs_checks.base.decide` from the findings, exactly as for the
built-in claims; every check of the file gets the source "user file PATH" with a hash of
the file's content as its version.

**Loading a claim file runs it**: it is imported by path
(:func:`importlib.util.spec_from_file_location`), with the rights of whoever runs
``ntk-verify``. Load only files you trust. Nothing else a user gives (data, decimals,
ids) is ever evaluated.

Everything is checked before any computation: a missing path, a file that is not ``.py``,
one that raises when imported, one that exposes no valid checks, duplicate ids, or an id
of a built-in check each give one :class:`~verify.core.errors.InputError` line (exit 2).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

from verify.core.errors import InputError
from verify.core.params import KERNELS

from .base import CheckSpec, exception_line
from .sources import user_file_source

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
"""Check ids: lower-case ASCII letters, digits, '.', '_', '-' (they name anchors and figures)."""


def load_claims_file(path: str | Path, builtin_ids: Iterable[str]) -> list[CheckSpec]:
    """The checks a claim file exposes, each with the source "user file PATH"; InputError if unusable.

    >>> load_claims_file("no/such/file.py", [])
    Traceback (most recent call last):
    ...
    verify.core.errors.InputError: --claims no/such/file.py: no such file
    """
    shown = str(path)
    where = f"--claims {shown}"
    file = Path(path)
    if not file.exists():
        raise InputError(f"{where}: no such file")
    if not file.is_file():
        raise InputError(f"{where}: not a file")
    if file.suffix != ".py":
        raise InputError(f"{where}: a claim file must be a Python file ending in .py")
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    module = _import(file, content, where)
    specs = _exposed(module, where)
    source = user_file_source(shown, content)
    _check_ids(specs, set(builtin_ids), where)
    return [replace(spec, source=source) for spec in specs]


def _import(file: Path, content: bytes, where: str) -> ModuleType:
    """Import the file under a private module name (registered while it runs, so dataclasses work)."""
    name = f"ntk_verify_user_claims_{hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:16]}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise InputError(f"{where}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # the user's code: any failure (even SystemExit) is their file's
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise InputError(f"{where}: importing it raised {exception_line(exc)}") from None
    return module


def _exposed(module: ModuleType, where: str) -> list[CheckSpec]:
    """The module's ``CHECKS`` list (or its ``CHECK``), every item a valid CheckSpec."""
    if hasattr(module, "CHECKS"):
        items: Any = module.CHECKS
        if not isinstance(items, (list, tuple)):
            raise InputError(f"{where}: CHECKS must be a list of CheckSpec, got {type(items).__name__}")
    elif hasattr(module, "CHECK"):
        items = [module.CHECK]
    else:
        raise InputError(f"{where}: exposes no checks (define CHECKS = [CheckSpec(...), ...])")
    if not items:
        raise InputError(f"{where}: CHECKS is empty")
    for i, spec in enumerate(items):
        _validate(spec, f"{where}: CHECKS[{i}]")
    return list(items)


def _validate(spec: Any, where: str) -> None:
    if not isinstance(spec, CheckSpec):
        raise InputError(f"{where} is a {type(spec).__name__}, not a proofs_checks.base.CheckSpec")
    if not isinstance(spec.id, str) or not ID_PATTERN.match(spec.id):
        raise InputError(f"{where}: id {spec.id!r} must be 1-64 lower-case letters, digits, '.', '_' or '-'")
    for name in ("title", "claim_text", "claim_latex", "hypotheses", "method"):
        if not isinstance(getattr(spec, name), str):
            raise InputError(f"{where} ({spec.id}): {name} must be a string")
    if not callable(spec.run):
        raise InputError(f"{where} ({spec.id}): run must be a function run(ctx, kernel, claim)")
    kernels = spec.kernels
    if not isinstance(kernels, tuple) or not kernels or any(k is not None and k not in KERNELS for k in kernels):
        raise InputError(f"{where} ({spec.id}): kernels must be a non-empty tuple of "
                         f"{', '.join(KERNELS)} or None (kernel-independent), got {kernels!r}")


def _check_ids(specs: list[CheckSpec], builtin: set[str], where: str) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.id in builtin:
            raise InputError(f"{where}: check id {spec.id!r} is a built-in check's id; rename it")
        if spec.id in seen:
            raise InputError(f"{where}: check id {spec.id!r} is defined twice")
        seen.add(spec.id)
