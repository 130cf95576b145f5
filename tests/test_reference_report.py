"""Regenerating the committed reference report gives the same verdicts and numbers.

Dates, timings, the command line and the git commit aside, every verdict, finding
and table cell of ``reports/reference/results.json`` must come out again. The
Monte Carlo numbers of theorem-1 are seeded; they are compared to 1e-9 relative
(BLAS summation order may differ in the last bits between machines).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reports" / "reference" / "results.json"
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _strip(check: dict) -> dict:
    check = dict(check)
    check.pop("seconds", None)
    return check


def _numbers_close(a: str, b: str, rel: float) -> bool:
    if NUMBER.sub("#", a) != NUMBER.sub("#", b):
        return False
    for x, y in zip(NUMBER.findall(a), NUMBER.findall(b), strict=True):
        fx, fy = float(x), float(y)
        if abs(fx - fy) > rel * max(abs(fx), abs(fy), 1e-300):
            return False
    return True


def _compare(ref, new, path: str, statistical: bool) -> None:
    if isinstance(ref, dict):
        assert set(ref) == set(new), path
        for k in ref:
            _compare(ref[k], new[k], f"{path}.{k}", statistical)
    elif isinstance(ref, list):
        assert len(ref) == len(new), path
        for i, (a, b) in enumerate(zip(ref, new, strict=True)):
            _compare(a, b, f"{path}[{i}]", statistical)
    elif statistical and isinstance(ref, str):
        assert _numbers_close(ref, new, 1e-9), (path, ref, new)
    elif statistical and isinstance(ref, float):
        assert abs(ref - new) <= 1e-9 * max(abs(ref), abs(new), 1e-300), (path, ref, new)
    else:
        assert ref == new, (path, ref, new)


@pytest.mark.slow
def test_regenerated_quick_report_matches_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = json.loads(REFERENCE.read_text())
    settings = reference["provenance"]["settings"]
    out = tmp_path / "report"
    code = main(["report", "--profile", settings["profile"], "--data", settings["data"], "--digits",
                 str(settings["digits"]), "--out", str(out), "--quiet", "--format", "json"])
    capsys.readouterr()
    assert code == 0
    new = json.loads((out / "results.json").read_text())
    for name in ("report.md", "report.html"):
        assert (out / name).stat().st_size > 1000
    assert [(c["id"], c["kernel"], c["verdict"]) for c in new["checks"]] == \
        [(c["id"], c["kernel"], c["verdict"]) for c in reference["checks"]]
    for ref, cur in zip(reference["checks"], new["checks"], strict=True):
        _compare(_strip(ref), _strip(cur), f"{ref['id']}/{ref['kernel']}", statistical=ref["id"] == "theorem-1")
