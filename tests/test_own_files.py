"""finite-width and bench write named files into --out: they replace only files they wrote themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from verify.cli import main
from verify.cli.output import OUTPUTS_MARKER, check_own_files, record_own_files
from verify.core.errors import InputError


def _must_not_run(*_a: object, **_k: object) -> None:
    raise AssertionError("work started although --out holds a user's file")


@pytest.mark.parametrize(("argv", "name", "target"), [
    (["bench", "--only", "kernel"], "kernel.json", ("verify.cli.cmd_bench", "bench_kernel")),
    (["finite-width"], "finite_width.json", ("verify.cli.cmd_finite_width", "run_study")),
    (["finite-width"], "finite_width_deviation_vs_width.png", ("verify.cli.cmd_finite_width", "run_study")),
])
def test_a_users_file_of_the_same_name_is_refused_before_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str], name: str, target: tuple[str, str]) -> None:
    import importlib

    monkeypatch.setattr(importlib.import_module(target[0]), target[1], _must_not_run)
    (tmp_path / name).write_text("my own results")
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not written by ntk-verify" in err and len(err.splitlines()) == 1
    assert (tmp_path / name).read_text() == "my own results"
    assert not (tmp_path / OUTPUTS_MARKER).exists()


def test_own_files_may_be_replaced_and_others_not(tmp_path: Path) -> None:
    (tmp_path / "kernel.json").write_text("{}")
    record_own_files(tmp_path, ["kernel.json"])
    check_own_files(tmp_path, ["kernel.json", "solve.json"])          # ours, and one not there yet
    (tmp_path / "solve.json").write_text("a user's file")
    with pytest.raises(InputError, match="solve.json"):
        check_own_files(tmp_path, ["kernel.json", "solve.json"])
    (tmp_path / OUTPUTS_MARKER).write_text("not json")                # a damaged marker lists nothing
    with pytest.raises(InputError, match="kernel.json"):
        check_own_files(tmp_path, ["kernel.json"])
    (tmp_path / "kernel.json").unlink()
    with pytest.raises(InputError, match=OUTPUTS_MARKER):               # and is never replaced
        check_own_files(tmp_path, ["kernel.json"])
