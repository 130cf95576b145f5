"""``check``: run one built-in claim check from a notebook and get its result object.

The engine (``verify``) knows nothing of claims, so this entry point lives with the
claims: ``from proofs_checks.api import check``. It runs the same evaluation as
``ntk-verify check ID`` for one kernel and returns the
:class:`~proofs_checks.base.CheckResult` (verdict, findings, certificate, evidence
tables and figures' data) instead of printing it.

>>> r = check("det-to-zero", kernel="nngp", data="builtin:sphere-4", digits=15)
>>> r.id, r.kernel, r.verdict.value in ("confirmed", "refuted", "inconclusive")
('det-to-zero', 'nngp', True)
"""

from __future__ import annotations

from verify.core.errors import InputError
from verify.core.params import DEFAULT, Parameterization
from verify.core.precision import check_digits

from . import all_checks
from .base import CheckContext, CheckResult, CheckSpec

PROFILES = ("quick", "full")


def _spec(claim_id: str) -> CheckSpec:
    specs = {s.id: s for s in all_checks()}
    if claim_id not in specs:
        raise InputError(f"unknown check id {claim_id!r}; known: {', '.join(sorted(specs))}")
    return specs[claim_id]


def _kernel(spec: CheckSpec, kernel: str | None) -> str | None:
    """The kernel to check: ``kernel`` if the check runs for it; None only for kernel-independent checks."""
    if kernel is None and spec.kernels != (None,):
        raise InputError(f"check {spec.id} runs per kernel: pass kernel= one of "
                         f"{', '.join(k for k in spec.kernels if k)}")
    if kernel not in spec.kernels:
        runs = ", ".join(k for k in spec.kernels if k) or "no particular kernel (kernel=None)"
        raise InputError(f"check {spec.id} does not run for kernel {kernel!r}; it runs for {runs}")
    return kernel


def check(claim_id: str, *, kernel: str | None = None, data: str = "builtin:sphere-10", digits: int = 30,
          profile: str = "quick", param: Parameterization = DEFAULT, seed: int = 20261123,
          progress: bool | None = False) -> CheckResult:
    """Run the built-in check ``claim_id`` (e.g. ``"theorem-2"``) for ``kernel`` and return its result.

    ``kernel`` is ``"ntk"`` or ``"nngp"`` for the checks that run per kernel and None for
    the others (``ntk-verify check --help`` lists them). ``data`` is the dataset of the
    matrix claims (a path or ``builtin:NAME``), ``digits`` the certified digits of the
    kernel values, ``profile`` ``"quick"`` or ``"full"`` (more depths and samples). The
    verdict is formed from the findings by :func:`proofs_checks.base.decide`; a check
    that raises propagates its exception (``ntk-verify check`` reports it as ``error``).
    """
    spec = _spec(claim_id)
    chosen = _kernel(spec, kernel)
    if profile not in PROFILES:
        raise InputError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    ctx = CheckContext(profile=profile, data_spec=data, digits=check_digits(digits), param=param, seed=seed,
                       progress=progress)
    ctx.load_data()                          # bad data fails before any computing
    return spec.evaluate(ctx, chosen)
