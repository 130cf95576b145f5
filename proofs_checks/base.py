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

import math
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from verify import DEFAULT, Dataset, Parameterization
from verify.data.sources import load_dataset

from .sources import SEED, Source


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REFUTED = "refuted"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"                 # the check raised: no verdict on the claim, a bug to fix


class BallCell(str):
    """A table cell showing a certified ball: its display text (a ``str``) plus the enclosure itself.

    The text rounds the midpoint to ``shown_digits`` significant digits and its ± includes that
    rounding (still an enclosure); ``enclosure`` ({mid, rad} decimal strings) keeps the digits
    that were certified, and goes to results.json. ``certified_digits`` is the relative accuracy
    of the ball (None when the ball contains 0: then only its radius says what was certified).
    """

    enclosure: dict[str, str]
    shown_digits: int
    certified_digits: float | None

    def __new__(cls, text: str, enclosure: dict[str, str], shown_digits: int,
                certified_digits: float | None) -> BallCell:
        cell = super().__new__(cls, text)
        cell.enclosure, cell.shown_digits, cell.certified_digits = enclosure, shown_digits, certified_digits
        return cell

    def __deepcopy__(self, memo: dict[int, Any]) -> BallCell:
        return self                       # immutable

    def to_json(self) -> dict[str, str]:
        return {"text": str(self), **self.enclosure}


def rounding_note(columns: list[str], rows: list[list[str]]) -> str:
    """What a table's ball cells round, and how many digits each column had certified.

    >>> cell = BallCell("0.25 ± 1.6e-14", {"mid": "0.25", "rad": "1e-31"}, 13, 30.2)
    >>> rounding_note(["L", "value"], [["1", cell]])
    "Cells 'mid ± rad' show 13 significant digits and their ± includes this rounding. Significant digits \
certified (at least): value: 30. Full enclosures in results.json."
    """
    shown: set[int] = set()
    certified = []
    for i, name in enumerate(columns):
        cells = [cell for row in rows if i < len(row) and isinstance(cell := row[i], BallCell)]
        if not cells:
            continue
        shown |= {c.shown_digits for c in cells}
        relative = [c.certified_digits for c in cells if c.certified_digits is not None]
        absolute = [c.enclosure["rad"] for c in cells if c.certified_digits is None]
        parts = [f"{math.floor(min(relative))}"] if relative else []
        parts += [f"radius {max(absolute, key=float)} where the ball contains 0"] if absolute else []
        certified.append(f"{name}: {' and '.join(parts)}")
    if not certified:
        return ""
    digits = str(min(shown)) if len(shown) == 1 else f"{min(shown)} to {max(shown)}"
    return (f"Cells 'mid ± rad' show {digits} significant digits and their ± includes this rounding. "
            f"Significant digits certified (at least): {'; '.join(certified)}. Full enclosures in results.json.")


@dataclass
class Table:
    """A table of evidence: every cell a string (decimals never pass through float64).

    Cells made by :func:`proofs_checks.common.ball_text` are :class:`BallCell` strings: the
    note then says what the table rounds and what was certified, and results.json gets the
    enclosure as a ``{text, mid, rad}`` object.
    """

    title: str
    columns: list[str]
    rows: list[list[str]]
    note: str = ""

    def __post_init__(self) -> None:
        extra = rounding_note(self.columns, self.rows)
        if extra and extra not in self.note:
            sep = " " if not self.note or self.note.rstrip().endswith((".", ")")) else ". "
            self.note = f"{self.note}{sep}{extra}".strip()


def json_cell(cell: Any) -> Any:
    """A table cell for results.json: a ball cell as its {text, mid, rad} object, anything else as is."""
    return cell.to_json() if isinstance(cell, BallCell) else cell


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
        """The dataset of ``data_spec``, loaded once (see :meth:`load_data`)."""
        return self.load_data()

    def load_data(self) -> Dataset:
        """Load (once) and return the dataset: call it early so bad data fails before any check runs."""
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
    source: dict[str, Any] = field(default_factory=SEED.to_json)    # the Source the claim comes from

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["verdict"] = self.verdict.value
        for table in out["evidence"]["tables"]:
            table["rows"] = [[json_cell(c) for c in row] for row in table["rows"]]
        return out


@dataclass
class CheckSpec:
    """A registered check: ``run(ctx, kernel, claim)`` returns (findings, evidence, parameters).

    This is also the public interface for users' own claims (``ntk-verify check --claims FILE.py``,
    see :mod:`proofs_checks.user_claims`): the same fields, the same findings, the same :func:`decide`.
    """

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
    per_kernel: dict[str, dict[str, str]] = field(default_factory=dict)   # kernel -> {title, claim_text, ...}
    source: Source = SEED                  # where the claim comes from (the report groups claims by it)

    def text_for(self, kernel: str | None) -> dict[str, str]:
        """The declared texts (title, claim_text, claim_latex, hypotheses, method) as they read for ``kernel``."""
        texts = {"title": self.title, "claim_text": self.claim_text, "claim_latex": self.claim_latex,
                 "hypotheses": self.hypotheses, "method": self.method}
        return {**texts, **self.per_kernel.get(kernel or "", {})}

    def evaluate(self, ctx: CheckContext, kernel: str | None, claim: Any = None) -> CheckResult:
        """Run the check for one kernel; ``claim`` defaults to the claim as the paper states it."""
        claim = self.stated_claim if claim is None else claim
        start = time.perf_counter()
        findings, evidence, parameters = self.run(ctx, kernel, claim)
        verdict, certificate = decide(findings)
        text = self.text_for(kernel)
        return CheckResult(
            id=self.id, kernel=kernel, title=text["title"],
            claim=text["claim_text"] if claim is self.stated_claim else f"{text['claim_text']} [variant: {claim}]",
            claim_latex=text["claim_latex"], hypotheses=text["hypotheses"],
            parameterization=ctx.param.describe(), method=text["method"], parameters=parameters,
            evidence=evidence, findings=findings, verdict=verdict, certificate=certificate,
            seconds=round(time.perf_counter() - start, 2), source=self.source.to_json(),
        )

    def crashed(self, ctx: CheckContext, kernel: str | None, exc: Exception, seconds: float) -> CheckResult:
        """The result of a check that raised ``exc``: verdict ERROR, the exception in one line."""
        line = exception_line(exc)
        finding = Finding("the check raised an exception", None, line, "none")
        text = self.text_for(kernel)
        return CheckResult(
            id=self.id, kernel=kernel, title=text["title"], claim=text["claim_text"], claim_latex=text["claim_latex"],
            hypotheses=text["hypotheses"], parameterization=ctx.param.describe(), method=text["method"],
            parameters={}, evidence=Evidence(), findings=[finding], verdict=Verdict.ERROR,
            certificate=f"the check raised {line}", seconds=round(seconds, 2), source=self.source.to_json(),
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
