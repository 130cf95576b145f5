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
    """Evaluate the checks (all, or those in ``ids``) for each of their kernels, with a progress bar."""
    import sys

    from tqdm import tqdm

    from verify.parallel import show_progress

    from .base import Finding, decide

    specs = all_checks()
    if ids:
        known = {s.id for s in specs}
        unknown = [i for i in ids if i not in known]
        if unknown:
            from verify.errors import InputError

            raise InputError(f"unknown check id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [s for s in specs if s.id in ids]
    jobs = [(s, k) for s in specs for k in s.kernels]
    results = []
    bar = tqdm(jobs, desc="checks", unit="check", file=sys.stderr, disable=not show_progress(ctx.progress))
    for spec, kernel in bar:
        bar.set_postfix_str(f"{spec.id} {kernel or ''}")
        try:
            results.append(spec.evaluate(ctx, kernel))
        except Exception as exc:  # a failing check is reported, not hidden
            from .base import CheckResult, Evidence

            finding = Finding("check failed", None, f"{type(exc).__name__}: {exc}", "none")
            verdict, certificate = decide([finding])
            results.append(CheckResult(spec.id, kernel, spec.title, spec.claim_text, spec.claim_latex,
                                       spec.hypotheses, ctx.param.describe(), spec.method, {}, Evidence(),
                                       [finding], verdict, certificate, 0.0))
    return results
