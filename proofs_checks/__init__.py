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


__all__ = ["CheckContext", "CheckResult", "CheckSpec", "Verdict", "all_checks", "check_by_id", "run_checks"]


def run_checks(ctx: CheckContext, ids: list[str] | None = None) -> list[CheckResult]:
    """Evaluate the checks (all, or those in ``ids``) for each of their kernels, with a progress bar.

    A check that raises is reported with the verdict ``error`` (and the exception in its
    certificate), never hidden; the user's own mistakes still stop the run: an
    :class:`~verify.errors.InputError` (exit 2) or :class:`~verify.errors.PrecisionNotReached`
    (exit 3) propagates.
    """
    import sys
    import time

    from tqdm import tqdm

    from verify.errors import InputError, PrecisionNotReached
    from verify.parallel import show_progress

    specs = all_checks()
    if ids:
        known = {s.id for s in specs}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"unknown check id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [s for s in specs if s.id in ids]
    jobs = [(s, k) for s in specs for k in s.kernels]
    results = []
    bar = tqdm(jobs, desc="checks", unit="check", file=sys.stderr, disable=not show_progress(ctx.progress))
    for spec, kernel in bar:
        bar.set_postfix_str(f"{spec.id} {kernel or ''}")
        start = time.perf_counter()
        try:
            results.append(spec.evaluate(ctx, kernel))
        except (InputError, PrecisionNotReached):
            raise
        except Exception as exc:  # a failing check is reported as an error, not hidden
            results.append(spec.crashed(ctx, kernel, exc, time.perf_counter() - start))
    return results
