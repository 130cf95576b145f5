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
    "hanin_nica",                          # Hanin and Nica (2019): NTK fluctuations when depth ~ width
    "lazy_training", "feature_learning",   # Chizat, Oyallon and Bach (2019): lazy vs feature learning
    "residual_ntk",                        # Huang et al. (2020): residual kernels do not degenerate (open question 1)
    "trainability",                        # Xiao, Pennington and Schoenholz (2020): cond_2 along depth by phase
    "other_kernels",                       # open question 3: the summary's criteria against every model
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


def load_user_checks(paths: list[str] | None) -> list[CheckSpec]:
    """The checks of users' claim files (``--claims``), in order; InputError (one line) for a bad file.

    Importing a claim file runs its code (see :mod:`proofs_checks.user_claims`).
    """
    from .user_claims import load_claims_file

    taken = {s.id for s in all_checks()}
    out: list[CheckSpec] = []
    for path in paths or []:
        specs = load_claims_file(path, taken)
        taken |= {s.id for s in specs}
        out += specs
    return out


def check_by_id(check_id: str) -> CheckSpec:
    for spec in all_checks():
        if spec.id == check_id:
            return spec
    raise KeyError(check_id)


__all__ = ["CheckContext", "CheckResult", "CheckSpec", "Verdict", "all_checks", "check", "check_by_id",
           "load_user_checks", "progress_line", "progress_mode", "run_checks"]


def run_checks(ctx: CheckContext, ids: list[str] | None = None,
               extra: list[CheckSpec] | None = None) -> list[CheckResult]:
    """Evaluate the checks (all, or those in ``ids``) for each of their kernels, showing progress per check.

    ``extra`` are users' checks (:func:`load_user_checks`), run after the built-in ones; ``ids``
    may name either.

    Progress follows ``ctx.progress`` (None: by the terminal): on a terminal one bar that
    advances one check at a time; in a log one line per finished check; nothing with False.
    The engine's inner bars (pairs, depths) are silenced inside the checks.

    A check that raises is reported with the verdict ``error`` (and the exception in its
    certificate), never hidden; the user's own mistakes still stop the run: an
    :class:`~verify.core.errors.InputError` (exit 2) or :class:`~verify.core.errors.PrecisionNotReached`
    (exit 3) propagates.
    """
    import dataclasses
    import sys
    import time

    from tqdm import tqdm

    from verify.core.errors import InputError, PrecisionNotReached

    from .sources import report_rank

    specs = sorted(all_checks() + list(extra or []), key=lambda s: report_rank(s.source))   # grouped by source
    if ids:
        known = {s.id for s in specs}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise InputError(f"unknown check id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        specs = [s for s in specs if s.id in ids]
    jobs = [(s, k) for s in specs for k in s.kernels]
    mode = progress_mode(ctx.progress, sys.stderr.isatty())
    quiet_ctx = dataclasses.replace(ctx, progress=False)       # shares extras (the Monte Carlo study cache)
    results = []
    bar = tqdm(jobs, desc="checks", unit="check", file=sys.stderr, disable=mode != "bar")
    for n, (spec, kernel) in enumerate(bar, start=1):
        bar.set_postfix_str(f"{spec.id} {kernel or ''}")
        start = time.perf_counter()
        try:
            results.append(spec.evaluate(quiet_ctx, kernel))
        except (InputError, PrecisionNotReached):
            raise
        except Exception as exc:  # a failing check is reported as an error, not hidden
            results.append(spec.crashed(quiet_ctx, kernel, exc, time.perf_counter() - start))
        if mode == "lines":
            print(progress_line(n, len(jobs), results[-1]), file=sys.stderr, flush=True)
    return results


def progress_mode(requested: bool | None, terminal: bool) -> str:
    """'bar', 'lines' or 'off': asked for (True: bar, False: off), else a bar on a terminal and lines in a log.

    >>> progress_mode(None, False), progress_mode(None, True), progress_mode(False, True), progress_mode(True, False)
    ('lines', 'bar', 'off', 'bar')
    """
    if requested is False:
        return "off"
    return "bar" if requested or terminal else "lines"


def progress_line(n: int, total: int, result: CheckResult) -> str:
    """One line for a log: 'ntk-verify: check 3/16 proposition-3 ntk: confirmed (5.21 s)'."""
    kernel = f" {result.kernel}" if result.kernel else ""
    return f"ntk-verify: check {n}/{total} {result.id}{kernel}: {result.verdict.value} ({result.seconds} s)"


from .api import check  # noqa: E402  (api uses all_checks, defined above)
