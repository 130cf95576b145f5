"""``ntk-verify diff``: two hand-made results.json files, the differences found by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reporting.diff import balls_apart, diff_results
from verify.cli import main


def _check(cid: str, kernel: str | None, verdict: str, cert: str, cells: list[Any], det: dict[str, str]) -> dict:
    table = {"title": "values", "columns": ["L", "value", "float64"], "rows": [["1", cells[0], "0.5"],
                                                                             ["10", cells[1], "0.7"]], "note": ""}
    return {"id": cid, "kernel": kernel, "verdict": verdict, "certificate": cert,
            "evidence": {"tables": [table], "figures": [], "notes": [], "numbers": {"det_L10": det}}}


OLD = {"checks": [
    _check("theorem-2", "ntk", "confirmed", "increases", [{"text": "0.25 ± 1e-14", "mid": "0.25", "rad": "1e-30"},
                                                          "0.5 ± 1e-10"], {"mid": "0.1", "rad": "1e-20"}),
    _check("lemma-1", None, "confirmed", "ok", ["1 ± 0", "2 ± 0"], {"mid": "1", "rad": "0"}),
]}
NEW = {"checks": [
    # value L=1 moves by 1e-29 > 1e-30 + 1e-30 (apart); L=10 moves by 1e-11 < 1e-10 + 1e-10 (same);
    # det moves by 5e-21 < 2e-20 (same); the verdict and the certificate change
    _check("theorem-2", "ntk", "refuted", "decreases at L = 10",
           [{"text": "0.25 ± 1e-14", "mid": "0.25000000000000000000000000001", "rad": "1e-30"},
            "0.50000000001 ± 1e-10"],
           {"mid": "0.100000000000000000005", "rad": "1e-20"}),
    _check("det-to-zero", "nngp", "confirmed", "det -> 0", ["1 ± 0", "2 ± 0"], {"mid": "1", "rad": "0"}),
]}


def _write(folder: Path, payload: dict[str, Any]) -> Path:
    folder.mkdir()
    (folder / "results.json").write_text(json.dumps(payload))
    return folder / "results.json"


def test_balls_overlap_rule() -> None:
    assert not balls_apart({"mid": "1", "rad": "0.5"}, {"mid": "2", "rad": "0.5"})      # touching: same
    assert balls_apart({"mid": "1", "rad": "0.4"}, {"mid": "2", "rad": "0.5"})


def test_diff_finds_each_kind_of_change() -> None:
    d = diff_results(OLD, NEW)
    assert d["added"] == ["det-to-zero (nngp)"] and d["removed"] == ["lemma-1"]
    assert d["verdicts"] == [{"check": "theorem-2 (ntk)", "old": "confirmed", "new": "refuted"}]
    assert [c["new"] for c in d["certificates"]] == ["decreases at L = 10"]
    assert [(n["where"], n["new"]["mid"]) for n in d["numbers"]] == \
        [("values / row 1 (#1) / value", "0.25000000000000000000000000001")]
    assert not d["unchanged"]
    same = diff_results(OLD, OLD)
    assert same["unchanged"] and not same["numbers"]


def test_diff_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _write(tmp_path / "a", OLD), _write(tmp_path / "b", NEW)
    assert main(["diff", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "verdict theorem-2 (ntk): confirmed -> refuted" in out and "added check: det-to-zero (nngp)" in out
    assert "row 1 (#1) / value: balls do not overlap" in out and "row 10" not in out
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "a"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["unchanged"] is True


def test_diff_refuses_what_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text("[1, 2]")
    assert main(["diff", str(tmp_path / "x.json"), str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "not a report's results.json" in err and "Traceback" not in err
