"""Regenerating the committed reference report gives the same verdicts and numbers, on any machine.

Dates, timings, the command line and the git commit aside, every verdict, finding
and table cell of ``reports/reference/results.json`` must come out again, each by
the rule its kind allows:

* **certified and exact** cells (Arb enclosures, exact counts, depths, labels):
  identical strings. Arb is deterministic for a given python-flint version. A certified
  ball cell is a ``{text, mid, rad}`` object (display text and enclosure): identical objects.
* **statistical** cells (checks whose findings are statistical, i.e. the Monte Carlo
  study of theorem-1): the seeded draws do not go through LAPACK's choices
  (``verify.finite_width.network``), but a numpy release may change a generator's
  stream, so a statistical estimate is compared *within its stated interval*: each
  run's estimate lies in the other run's 95% interval, and the intervals overlap.
  A real change (a wrong scaling, a bug in the sampler) moves the estimate out of
  the interval and fails. Cells without an interval (widths, depths, network
  counts) are compared exactly; words around the numbers exactly.
* **best effort** float64 cells (numpy/LAPACK results shown beside the certified
  ones, in columns named ``float64 ...``): they may differ between BLAS builds in
  their last bits, which their relative errors magnify, so they must agree to
  within a factor of 100 (two decades) - enough to catch "float64 fails here"
  turning into "float64 is fine".
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reports" / "reference" / "results.json"
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
ESTIMATE_CI = re.compile(r"(?P<est>[-+]?\d+\.\d+(?:e[-+]?\d+)?),? 95% CI \[(?P<lo>[^,\]]+), (?P<hi>[^\]]+)\]")
INTERVAL = re.compile(r"^\[(?P<lo>[^,\]]+), (?P<hi>[^\]]+)\]$")
BEST_EFFORT_FACTOR = 100.0


def _is_statistical(check: dict[str, Any]) -> bool:
    return any(str(f.get("guarantee", "")).startswith("statistical") for f in check["findings"])


def _interval(cell: str) -> tuple[float, float]:
    m = INTERVAL.match(cell.strip())
    assert m, f"not an interval: {cell!r}"
    return float(m["lo"]), float(m["hi"])


def _inside(x: float, lo_hi: tuple[float, float]) -> bool:
    return lo_hi[0] <= x <= lo_hi[1]


def _same_words(a: str, b: str, path: str) -> None:
    assert NUMBER.sub("#", a) == NUMBER.sub("#", b), (path, a, b)


def _settings(text: str) -> list[str]:
    """The integers of a statistical text that are settings (depths, widths, counts of networks).

    Decimals are estimates; ``k/N`` counts (k of N intervals ...) keep only N.
    """
    text = ESTIMATE_CI.sub("#", text).replace("..", " .. ")
    text = re.sub(r"\b\d+/(\d+)", r"#/\1", text)
    return re.findall(r"(?<![\d.e-])\d+(?![\d.e])", text)


def _compare_statistical_text(a: str, b: str, path: str) -> None:
    """Estimates with a stated 95% interval: each inside the other's interval; words and settings identical."""
    _same_words(a, b, path)
    assert _settings(a) == _settings(b), (path, a, b)
    for ma, mb in zip(ESTIMATE_CI.finditer(a), ESTIMATE_CI.finditer(b), strict=True):
        ia, ib = (float(ma["lo"]), float(ma["hi"])), (float(mb["lo"]), float(mb["hi"]))
        assert _inside(float(ma["est"]), ib) and _inside(float(mb["est"]), ia), (path, a, b)


def _compare_statistical_table(ref: dict[str, Any], new: dict[str, Any], path: str) -> None:
    assert ref["columns"] == new["columns"] and len(ref["rows"]) == len(new["rows"]), path
    ci = [i for i, c in enumerate(ref["columns"]) if "CI" in c]
    estimate_of = {i: i - 1 for i in ci}          # the column before an interval is its estimate
    for r, (a, b) in enumerate(zip(ref["rows"], new["rows"], strict=True)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            where = f"{path}.rows[{r}][{i}]"
            if i in ci:
                (lo1, hi1), (lo2, hi2) = _interval(x), _interval(y)
                assert max(lo1, lo2) <= min(hi1, hi2), (where, x, y)
            elif i in estimate_of.values():
                j = next(k for k, v in estimate_of.items() if v == i)
                assert _inside(float(x), _interval(b[j])) and _inside(float(y), _interval(a[j])), (where, x, y)
            else:
                assert x == y, (where, x, y)


def _compare_best_effort(x: str, y: str, where: str) -> None:
    _same_words(x, y, where)
    for u, v in zip(NUMBER.findall(x), NUMBER.findall(y), strict=True):
        fu, fv = abs(float(u)), abs(float(v))
        assert fu == fv or (min(fu, fv) > 0 and max(fu, fv) / min(fu, fv) <= BEST_EFFORT_FACTOR), (where, x, y)


def _compare_table(ref: dict[str, Any], new: dict[str, Any], path: str, statistical: bool) -> None:
    if statistical:
        _compare_statistical_table(ref, new, path)
        return
    assert ref["columns"] == new["columns"] and len(ref["rows"]) == len(new["rows"]), path
    best_effort = {i for i, c in enumerate(ref["columns"]) if "float64" in c}
    for r, (a, b) in enumerate(zip(ref["rows"], new["rows"], strict=True)):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if i in best_effort and not isinstance(x, dict):      # a ball cell is certified: exact below
                _compare_best_effort(x, y, f"{path}.rows[{r}][{i}]")
            else:
                assert x == y, (f"{path}.rows[{r}][{i}]", x, y)


def _compare(ref: Any, new: Any, path: str, statistical: bool) -> None:
    if isinstance(ref, dict) and "columns" in ref and "rows" in ref:
        _compare_table(ref, new, path, statistical)
    elif isinstance(ref, dict):
        assert set(ref) == set(new), path
        for k in ref:
            _compare(ref[k], new[k], f"{path}.{k}", statistical)
    elif isinstance(ref, list):
        assert len(ref) == len(new), path
        for i, (a, b) in enumerate(zip(ref, new, strict=True)):
            _compare(a, b, f"{path}[{i}]", statistical)
    elif statistical and isinstance(ref, str):
        _compare_statistical_text(ref, new, path)
    elif statistical and isinstance(ref, float):
        pass                     # figure coordinates of Monte Carlo means: their tables carry the intervals
    else:
        assert ref == new, (path, ref, new)


def _strip(check: dict[str, Any]) -> dict[str, Any]:
    check = dict(check)
    check.pop("seconds", None)
    return check


# ------------------------------------------------------------------ the comparison rules themselves

def _stat_table(mean: str, ci: str) -> dict[str, Any]:
    return {"columns": ["width", "mean deviation", "95% CI"], "rows": [["64", mean, ci]]}


def test_statistical_rule_accepts_other_draws_and_catches_a_real_change() -> None:
    ref = _stat_table("0.2223", "[0.1982, 0.2465]")
    _compare_statistical_table(ref, _stat_table("0.2220", "[0.1979, 0.2461]"), "t")   # another machine's draws
    with pytest.raises(AssertionError):                                                # a real change
        _compare_statistical_table(ref, _stat_table("0.3100", "[0.2800, 0.3400]"), "t")
    with pytest.raises(AssertionError):                                                # an exact column changed
        _compare_statistical_table(ref, {"columns": ref["columns"], "rows": [["128", "0.2223", "[0.1982, 0.2465]"]]},
                                   "t")
    a = "b = -0.510, 95% CI [-0.542, -0.478] at depth 3"
    _compare_statistical_text(a, "b = -0.500, 95% CI [-0.531, -0.470] at depth 3", "t")
    with pytest.raises(AssertionError):
        _compare_statistical_text(a, "b = -0.300, 95% CI [-0.331, -0.270] at depth 3", "t")
    with pytest.raises(AssertionError):
        _compare_statistical_text(a, "b = -0.510, 95% CI [-0.542, -0.478] at depth 4", "t")


def test_best_effort_rule() -> None:
    _compare_best_effort("1.9e-15", "8.0e-15", "t")
    with pytest.raises(AssertionError):
        _compare_best_effort("1.9e-15", "3.0e-10", "t")


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
        _compare(_strip(ref), _strip(cur), f"{ref['id']}/{ref['kernel']}", statistical=_is_statistical(ref))
