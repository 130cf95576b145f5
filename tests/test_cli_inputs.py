"""Bad input: one line on stderr, exit code 2, no traceback, nothing on stdout."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from verify.cli import main


def _write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def _bad_files(tmp_path: Path) -> dict[str, str]:
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    raw_pickle = _write(tmp_path, "raw.npy", pickle.dumps([1, 2, 3]))
    return {
        "nan": _write(tmp_path, "nan.csv", "1,0\nnan,1\n"),
        "inf": _write(tmp_path, "inf.csv", "1,0\n0,inf\n"),
        "zero": _write(tmp_path, "zero.csv", "1,0\n0,0\n"),
        "ragged": _write(tmp_path, "ragged.csv", "1,0,0\n0,1\n"),
        "text": _write(tmp_path, "text.csv", "1,0\nabc,1\n"),
        "empty": _write(tmp_path, "empty.csv", ""),
        "binary": _write(tmp_path, "binary.csv", b"\x00\x01\x02\xff"),
        "pickled": str(pickled),
        "raw_pickle": raw_pickle,
        "missing": str(tmp_path / "nope.csv"),
        "nan_npy": str(_npy(tmp_path, np.array([[1.0, np.nan], [0.0, 1.0]]))),
        "off_sphere": _write(tmp_path, "off.csv", "2,0\n0,1\n"),
    }


def _npy(tmp_path: Path, arr: np.ndarray) -> Path:
    path = tmp_path / "nan.npy"
    np.save(path, arr)
    return path


CASES = [
    ("nan", []), ("inf", []), ("zero", []), ("ragged", []), ("text", []), ("empty", []),
    ("binary", []), ("pickled", []), ("raw_pickle", []), ("missing", []), ("nan_npy", []),
    ("off_sphere", ["--project", "none"]),
]
ARG_CASES = [
    ["--depth", "0"], ["--depth", "-3"], ["--depth", "abc"], ["--depth", "1.5"],
    ["--depth", "5", "--digits", "0"], ["--depth", "5", "--digits", "1000000"],
    ["--depth", "5", "--digits", "x"], ["--depth", "5", "--kernel", "rbf"],
    ["--depth", "5", "--route", "fast"], ["--depth", "5", "--sigma-w2", "-1"],
    ["--depth", "5", "--sigma-b2", "nan"],
]


def _assert_clean_failure(code: int, capsys: pytest.CaptureFixture[str]) -> None:
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("ntk-verify: error:")


@pytest.mark.parametrize(("name", "extra"), CASES)
def test_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, extra: list[str]) -> None:
    path = _bad_files(tmp_path)[name]
    _assert_clean_failure(main(["kernel", "--data", path, "--depth", "3", *extra]), capsys)


@pytest.mark.parametrize("args", ARG_CASES)
def test_bad_arguments(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    _assert_clean_failure(main(["kernel", "--data", "builtin:sphere-3", *args]), capsys)


def test_unknown_builtin_and_command(capsys: pytest.CaptureFixture[str]) -> None:
    _assert_clean_failure(main(["kernel", "--data", "builtin:iris-x", "--depth", "2"]), capsys)
    _assert_clean_failure(main(["frobnicate"]), capsys)


def test_decimal_strings_parsed_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two points whose cosines differ beyond float64 give different certified kernels."""
    a = _write(tmp_path, "a.csv", "1,0\n0.8,0.6000000000000000000001\n")
    b = _write(tmp_path, "b.csv", "1,0\n0.8,0.6000000000000000000002\n")
    outs = []
    for path in (a, b):
        assert main(["kernel", "--data", path, "--depth", "3", "--kernel", "nngp", "--format", "json"]) == 0
        outs.append(json.loads(capsys.readouterr().out)["matrix"][0][1])
    assert outs[0]["mid"] != outs[1]["mid"]


def test_json_output_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kernel", "--data", "builtin:sphere-3", "--depth", "7", "--digits", "25",
                 "--format", "json", "--quiet"]) == 0
    payload = json.loads(capsys.readouterr().out)
    for key in ("kernel", "depth", "digits", "route", "parameterization", "working_precision_bits", "n",
                "matrix"):
        assert key in payload
    entry = payload["matrix"][0][1]
    assert len(entry["mid"].replace("0.", "").lstrip("0")) >= 25
    assert float(entry["rad"]) <= 1e-25


def test_float64_route_says_best_effort(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kernel", "--data", "builtin:sphere-3", "--depth", "7", "--route", "float64"]) == 0
    out = capsys.readouterr().out
    assert "BEST EFFORT" in out


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run([sys.executable, "-m", "verify", "kernel", "--data", "builtin:sphere-2",
                           "--depth", "0"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
