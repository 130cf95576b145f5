"""What a claim check is, what it returns, and how a verdict is reached.

A check evaluates one claim of the paper summary for one kernel (or for none,
when the claim is about a formula or about rho alone). It declares the claim as
stated, the hypotheses and parameterization it evaluates it under, the method,
the parameters and the evidence, and reaches a verdict by a computation that can
go either way: :func:`decide` is the only place a verdict is formed from findings.
A check that raised an unexpected exception has no findings to decide on: it gets the
verdict ``error`` from :meth:`CheckSpec.crashed`, never ``inconclusive``, so a bug reads
as a bug (in the report, its counts and the exit code of ``report`` and ``check``).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from verify import DEFAULT, Dataset, Parameterization
from verify.sources import load_dataset


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"                 # the check raised: no verdict on the claim, a bug to fix


@dataclass
class Table:
    """A table of evidence: every cell a string (decimals never pass through float64)."""

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Figure:
    """A figure to draw: named series of (x, y) points (best-effort floats, for plotting only)."""

    name: str
    title: str
    xlabel: str
    ylabel: str
    series: list[dict[str, Any]]           # {"label", "x": [...], "y": [...]}
    xscale: str = "linear"
    yscale: str = "linear"


@dataclass
class Evidence:
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)   # {"name": {"mid","rad","kind"}} etc.
    notes: list[str] = field(default_factory=list)


@dataclass
class Finding:
    """One test of the claim: did the evidence support it, contradict it, or neither?

    ``supports`` is True/False/None; ``certificate`` says why (the certified numbers
    behind a contradiction); ``guarantee`` is certified / validated / statistical.
    """

    name: str
    supports: bool | None
    certificate: str
    guarantee: str


def decide(findings: list[Finding]) -> tuple[Verdict, str]:
    """The verdict from findings: any contradiction refutes; all support confirms; else inconclusive."""
    against = [f for f in findings if f.supports is False]
    if against:
        return Verdict.REFUTED, "; ".join(f"{f.name}: {f.certificate} [{f.guarantee}]" for f in against)
    if findings and all(f.supports is True for f in findings):
        return Verdict.CONFIRMED, "; ".join(f"{f.name}: {f.certificate} [{f.guarantee}]" for f in findings)
    open_ = [f for f in findings if f.supports is None] or findings
    return Verdict.INCONCLUSIVE, "; ".join(f"{f.name}: {f.certificate}" for f in open_) or "no evidence"


@dataclass
class CheckContext:
    """Inputs shared by the checks of one run."""

    profile: str = "quick"
    data_spec: str = "builtin:sphere-10"
    digits: int = 30
    param: Parameterization = DEFAULT
    seed: int = 20261123
    progress: bool | None = False
    extras: dict[str, Any] = field(default_factory=dict)   # e.g. finite-width results if present
    _data: Dataset | None = None

    @property
    def quick(self) -> bool:
        return self.profile == "quick"

    @property
    def data(self) -> Dataset:
        if self._data is None:
            self._data = load_dataset(self.data_spec)
        return self._data

    def depth_ladder(self) -> list[int]:
        top = 5 if self.quick else 6
        return [1, 2, 3, 5, 10] + [10**k for k in range(2, top + 1)]


@dataclass
class CheckResult:
    id: str
    kernel: str | None
    title: str
    claim: str
    claim_latex: str
    hypotheses: str
    parameterization: dict[str, str]
    method: str
    parameters: dict[str, Any]
    evidence: Evidence
    findings: list[Finding]
    verdict: Verdict
    certificate: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict.value
        return out


@dataclass
class CheckSpec:
    """A registered check: ``run(ctx, kernel, claim)`` returns (findings, evidence, parameters)."""

    id: str
    title: str
    claim_text: str
    claim_latex: str
    hypotheses: str
    method: str
    kernels: tuple[str | None, ...]
    run: Callable[..., tuple[list[Finding], Evidence, dict[str, Any]]]
    stated_claim: Any = None
    false_claim: Any = None

    def evaluate(self, ctx: CheckContext, kernel: str | None, claim: Any = None) -> CheckResult:
        """Run the check for one kernel; ``claim`` defaults to the claim as the paper states it."""
        claim = self.stated_claim if claim is None else claim
        start = time.perf_counter()
        findings, evidence, parameters = self.run(ctx, kernel, claim)
        verdict, certificate = decide(findings)
        return CheckResult(
            id=self.id, kernel=kernel, title=self.title,
            claim=self.claim_text if claim is self.stated_claim else f"{self.claim_text} [variant: {claim}]",
            claim_latex=self.claim_latex, hypotheses=self.hypotheses,
            parameterization=ctx.param.describe(), method=self.method, parameters=parameters,
            evidence=evidence, findings=findings, verdict=verdict, certificate=certificate,
            seconds=round(time.perf_counter() - start, 2),
        )

    def crashed(self, ctx: CheckContext, kernel: str | None, exc: Exception, seconds: float) -> CheckResult:
        """The result of a check that raised ``exc``: verdict ERROR, the exception in one line."""
        text = exception_line(exc)
        finding = Finding("the check raised an exception", None, text, "none")
        return CheckResult(
            id=self.id, kernel=kernel, title=self.title, claim=self.claim_text, claim_latex=self.claim_latex,
            hypotheses=self.hypotheses, parameterization=ctx.param.describe(), method=self.method,
            parameters={}, evidence=Evidence(), findings=[finding], verdict=Verdict.ERROR,
            certificate=f"the check raised {text}", seconds=round(seconds, 2),
        )


def exception_line(exc: BaseException, limit: int = 300) -> str:
    """'ValueError: math domain error (at verify/conditioning.py:88)': type, first line, innermost frame."""
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > limit:
        message = message[:limit] + "…"
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if frames:
        parts = frames[-1].filename.replace("\\", "/").split("/")
        where = f" (at {'/'.join(parts[-2:])}:{frames[-1].lineno})"
    return f"{type(exc).__name__}: {message}{where}" if message else f"{type(exc).__name__}{where}"
