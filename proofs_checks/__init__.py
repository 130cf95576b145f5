"""Claim checks: one module per claim of the paper summary, each a :class:`~proofs_checks.base.CheckSpec`.

They use only the engine's public functions (``verify``) and never write a
verdict by hand: :func:`proofs_checks.base.decide` forms it from findings.
"""

from __future__ import annotations

import importlib

from .base import CheckContext, CheckResult, CheckSpec, Verdict

MODULES = [
    "proposition_1", "proposition_2", "proposition_3", "lemma_1", "theorem_1", "theorem_2",
    "theorem_3", "det_to_zero", "invertibility", "slow_convergence",
]


def all_checks() -> list[CheckSpec]:
    """Every registered check, in report order (modules not yet present are skipped)."""
    out = []
    for name in MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        out.append(mod.CHECK)
    return out


def check_by_id(check_id: str) -> CheckSpec:
    for spec in all_checks():
        if spec.id == check_id:
            return spec
    raise KeyError(check_id)


__all__ = ["CheckContext", "CheckResult", "CheckSpec", "Verdict", "all_checks", "check_by_id"]
