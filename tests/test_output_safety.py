"""No command loses a user's data, bad output paths fail before any work, a crashed check reads as an error.

The checks themselves are replaced by two tiny fake ones (``proofs_checks.all_checks`` is
monkeypatched), so ``report`` and ``check`` run their real code paths in about a second;
the long computations of ``finite-width`` and ``bench`` are replaced by functions that
fail the test if they are ever reached before the path check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import proofs_checks
from proofs_checks.base import CheckSpec, Evidence, Figure, Finding, Verdict
from reporting import folder as report_folder
from reporting.folder import MARKER
from verify.cli import cmd_bench, main
from verify.core.errors import InputError, PrecisionNotReached
from verify.finite_width import montecarlo

ROOT = Path(__file__).resolve().parents[1]
FAST = 20.0        # seconds: a path check never waits for the computation (which takes minutes)


# ---------------------------------------------------------------- helpers

def _fake_spec(check_id: str, run) -> CheckSpec:
    return CheckSpec(id=check_id, title=f"fake {check_id}", claim_text="a claim", claim_latex="x = x",
                     hypotheses="none", method="fake", kernels=(None,), run=run)


def _confirms(label: str):
    def run(ctx, kernel, claim) -> tuple[list[Finding], Evidence, dict[str, Any]]:
        fig = Figure("fake_figure", "fake", "x", "y", [{"label": label, "x": [1, 2], "y": [1, 4]}])
        return [Finding("holds", True, f"checked ({label})", "certified")], Evidence(figures=[fig]), {"run": label}
    return run


def _raises(exc: BaseException):
    def run(ctx, kernel, claim):
        raise exc
    return run


def _use_checks(monkeypatch: pytest.MonkeyPatch, *specs: CheckSpec) -> None:
    monkeypatch.setattr(proofs_checks, "all_checks", lambda: list(specs))


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    """(exit code, stdout, stderr, seconds) of one ``ntk-verify`` call in this process."""
    start = time.perf_counter()
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code)
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - start


def _tree(path: Path) -> dict[str, Any]:
    """Everything below ``path`` (hidden files included): name -> bytes, or None for a folder."""
    if path.is_file():
        return {".": path.read_bytes()}
    snap: dict[str, Any] = {}
    for root, dirs, files in os.walk(path):
        rel = Path(root).relative_to(path)
        snap.update({(rel / d).as_posix(): None for d in dirs})
        snap.update({(rel / f).as_posix(): (Path(root) / f).read_bytes() for f in files})
    return snap


def _report(out: Path | str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str, float]:
    return _cli(["report", "--out", str(out), "--quiet", "--data", "builtin:sphere-4", *extra], capsys)


def _assert_refused(code: int, out: str, err: str, seconds: float) -> None:
    assert code == 2, err
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("ntk-verify: error: "), err
    assert "Traceback" not in err
    assert seconds < FAST


def _report_refused(target: Path | str, watched: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``report --out target``: refused (exit 2, one line) and ``watched`` unchanged; return stderr."""
    before = _tree(watched)
    code, out, err, seconds = _report(target, capsys)
    _assert_refused(code, out, err, seconds)
    assert _tree(watched) == before                  # nothing removed, renamed, hidden or left behind
    return err


@pytest.fixture
def fake_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_checks(monkeypatch, _fake_spec("fake-a", _confirms("first")))


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "important.txt").write_text("my thesis\n")
    (folder / "sub" / "data.csv").write_text("1,2\n")
    return folder


# ---------------------------------------------------------------- report --out never removes what it did not write

def test_report_refuses_a_user_folder_and_leaves_it_untouched(fake_checks, user_folder: Path, capsys) -> None:
    assert "not a report written by ntk-verify" in _report_refused(user_folder, user_folder.parent, capsys)


def test_report_refuses_an_existing_file_and_leaves_it_untouched(fake_checks, tmp_path: Path, capsys) -> None:
    target = tmp_path / "notes.md"
    target.write_text("do not rename me\n")
    assert "not a folder" in _report_refused(target, tmp_path, capsys)


def test_report_writes_a_marked_report_and_replaces_only_its_own(monkeypatch, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    _use_checks(monkeypatch, _fake_spec("fake-a", _confirms("first")))
    code, _, err, _ = _report(out, capsys)
    assert code == 0, err
    marker = json.loads((out / MARKER).read_text())
    written = sorted(p for p in _tree(out) if _tree(out)[p] is not None and p != MARKER)
    assert marker["tool"] == "ntk-verify" and marker["files"] == written
    assert {"report.md", "report.html", "results.json", "figures/fake_figure.png"} <= set(written)

    _use_checks(monkeypatch, _fake_spec("fake-b", _confirms("second")))
    code, _, err, _ = _report(out, capsys)
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert [c["id"] for c in results["checks"]] == ["fake-b"]
    assert sorted(os.listdir(tmp_path)) == ["report"]      # no hidden old or temporary folder left


def test_report_refuses_a_previous_report_that_now_holds_a_user_file(fake_checks, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    assert _report(out, capsys)[0] == 0
    (out / "figures" / "my_plot.png").write_bytes(b"mine")
    assert "figures/my_plot.png" in _report_refused(out, tmp_path, capsys)


def test_report_writes_into_an_empty_folder(fake_checks, tmp_path: Path, capsys) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert _report(out, capsys)[0] == 0
    assert (out / "report.md").is_file() and (out / MARKER).is_file()


def test_a_forged_marker_cannot_point_outside_the_folder(fake_checks, tmp_path: Path, capsys) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (tmp_path / "precious.txt").write_text("keep\n")
    (out / MARKER).write_text(json.dumps({"tool": "ntk-verify", "files": ["../precious.txt"]}))
    _report_refused(out, tmp_path, capsys)


def test_an_interrupted_report_leaves_the_previous_one(monkeypatch, fake_checks, tmp_path: Path, capsys) -> None:
    from reporting import build

    out = tmp_path / "report"
    assert _report(out, capsys)[0] == 0
    before = _tree(tmp_path)

    def crash(*args: Any) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "render_html", crash)
    code, _, err, _ = _report(out, capsys)
    assert code == 130, err
    assert _tree(tmp_path) == before                     # the old report, whole; no temporary folder


def test_replacing_without_an_atomic_exchange(monkeypatch, fake_checks, tmp_path: Path, capsys) -> None:
    """Where renameat2 is missing: two renames, the second undone if it fails, nothing left over."""
    out = tmp_path / "report"
    assert _report(out, capsys)[0] == 0
    monkeypatch.setattr(report_folder, "_exchange", lambda a, b: False)
    assert _report(out, capsys)[0] == 0
    assert sorted(os.listdir(tmp_path)) == ["report"]

    new = tmp_path / "new"
    new.mkdir()
    real_rename = os.rename

    def second_rename_fails(src, dst):
        if Path(src) == new:
            raise OSError("disk gone")
        real_rename(src, dst)

    before = _tree(out)
    monkeypatch.setattr(report_folder.os, "rename", second_rename_fails)
    with pytest.raises(OSError):
        report_folder.swap_into_place(new, out)
    assert _tree(out) == before


def test_removing_an_old_report_spares_files_that_appeared_since_the_check(fake_checks, tmp_path: Path,
                                                                           capsys) -> None:
    out = tmp_path / "report"
    assert _report(out, capsys)[0] == 0
    listed = report_folder.previous_report_files(out)
    assert listed is not None
    (out / "figures" / "late.txt").write_text("written by the user during the run\n")
    assert report_folder.remove_report(out, listed) is False
    assert _tree(out) == {"figures": None, "figures/late.txt": b"written by the user during the run\n"}


# ---------------------------------------------------------------- bad output paths fail before any work

def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the computation started before the output path was checked")


@pytest.fixture
def no_computation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proofs_checks, "run_checks", _never)
    monkeypatch.setattr(montecarlo, "run_study", _never)
    monkeypatch.setattr("verify.cli.cmd_finite_width.run_study", _never)
    monkeypatch.setattr(cmd_bench, "bench_kernel", _never)
    monkeypatch.setattr("verify.bench.solve.bench_solve", _never)


def _bad_paths(tmp_path: Path) -> dict[str, str]:
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    paths = {"under a file": str(a_file / "out"), "deep under a file": str(a_file / "x" / "y"), "empty": ""}
    if sys.platform.startswith("linux") and Path("/proc/self").exists():
        paths["/proc"] = "/proc/x"          # not writable even for root
    return paths


COMMANDS = {
    "report": ["report", "--quiet"],
    "finite-width": ["finite-width", "--quiet"],
    "bench": ["bench", "--quiet"],
    "bench solve": ["bench", "--only", "solve", "--quiet"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_unwritable_out_fails_fast_with_one_line(command: str, no_computation, tmp_path: Path, capsys) -> None:
    for why, path in _bad_paths(tmp_path).items():
        before = _tree(tmp_path)
        code, out, err, seconds = _cli([*COMMANDS[command], "--out", path], capsys)
        assert code == 2, (why, err)
        _assert_refused(code, out, err, seconds)
        assert _tree(tmp_path) == before, why


def test_report_out_dot_in_a_working_folder_is_refused(no_computation, user_folder: Path, monkeypatch,
                                                        capsys) -> None:
    monkeypatch.chdir(user_folder)
    _report_refused(".", user_folder.parent, capsys)


def test_unwritable_folder_is_refused(no_computation, tmp_path: Path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running with permissions that ignore the folder's mode (root)")
        code, out, err, seconds = _cli(["finite-width", "--out", str(locked / "new"), "--quiet"], capsys)
        _assert_refused(code, out, err, seconds)
        assert "cannot write" in err
    finally:
        locked.chmod(0o700)


def test_path_check_creates_nothing(tmp_path: Path) -> None:
    from verify.cli.output import check_output_path

    target = tmp_path / "a" / "b" / "c"
    assert check_output_path(target, "folder") == target.resolve()
    assert check_output_path(target, "report-folder") == target.resolve()
    assert os.listdir(tmp_path) == []


def test_bench_writes_only_into_out(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(cmd_bench, "bench_kernel", lambda progress=None: {"cases": {"fake": {"seconds": 1}}})
    monkeypatch.setattr("verify.bench.solve.bench_solve", lambda progress=None: {"certified_seconds": 2})
    monkeypatch.chdir(tmp_path)
    code, _, err, _ = _cli(["bench", "--out", "mine", "--quiet"], capsys)
    assert code == 0, err
    assert _tree(tmp_path) == {"mine": None, "mine/kernel.json": (tmp_path / "mine/kernel.json").read_bytes(),
                               "mine/solve.json": (tmp_path / "mine/solve.json").read_bytes(),
                               "mine/.ntk-verify-outputs": (tmp_path / "mine/.ntk-verify-outputs").read_bytes()}
    assert json.loads((tmp_path / "mine/.ntk-verify-outputs").read_text())["files"] == ["kernel.json", "solve.json"]
    assert json.loads((tmp_path / "mine/solve.json").read_text()) == {"certified_seconds": 2}


def test_bench_default_folder_holds_no_committed_file() -> None:
    """The default ``bench --out`` must not overwrite tracked files (the committed measurements live elsewhere)."""
    try:
        proc = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--", cmd_bench.DEFAULT_OUT],
                              capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        pytest.skip("git is not available")
    if proc.returncode != 0:
        pytest.skip("not a git checkout")
    assert proc.stdout.strip() == ""


# ---------------------------------------------------------------- a crashed check reads as an error

def _crashing_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    _use_checks(monkeypatch, _fake_spec("fake-ok", _confirms("ok")),
                _fake_spec("fake-crash", _raises(ArithmeticError("no switch point found"))))


def test_a_check_that_raises_is_an_error_in_the_report(monkeypatch, tmp_path: Path, capsys) -> None:
    _crashing_checks(monkeypatch)
    out = tmp_path / "report"
    code, stdout, err, _ = _report(out, capsys, "--format", "json")
    assert code not in (0, 2, 3)
    assert "fake-crash" in err and len(err.strip().splitlines()) == 1
    results = json.loads((out / "results.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in results["checks"]}
    assert verdicts == {"fake-ok": "confirmed", "fake-crash": "error"}
    assert results["counts"] == {"confirmed": 1, "error": 1}
    crashed = next(c for c in results["checks"] if c["id"] == "fake-crash")
    assert "ArithmeticError: no switch point found" in crashed["certificate"]
    assert "\n" not in crashed["certificate"]
    markdown = (out / "report.md").read_text()
    assert "**error**" in markdown and "1 error" in markdown and "no switch point found" in markdown
    assert json.loads(stdout)["counts"] == {"confirmed": 1, "error": 1}


def test_a_check_that_raises_is_an_error_in_check(monkeypatch, capsys) -> None:
    _crashing_checks(monkeypatch)
    code, stdout, err, _ = _cli(["check", "--quiet", "--data", "builtin:sphere-4"], capsys)
    assert code not in (0, 2, 3)
    assert "fake-crash" in stdout and "error" in stdout and "no switch point found" in stdout
    code, _, _, _ = _cli(["check", "fake-ok", "--quiet", "--data", "builtin:sphere-4"], capsys)
    assert code == 0


def test_run_checks_gives_the_error_verdict() -> None:
    specs = [_fake_spec("fake-crash", _raises(ZeroDivisionError("division by zero")))]
    ctx = proofs_checks.CheckContext(data_spec="builtin:sphere-4")
    original = proofs_checks.all_checks
    try:
        proofs_checks.all_checks = lambda: specs
        [result] = proofs_checks.run_checks(ctx)
    finally:
        proofs_checks.all_checks = original
    assert result.verdict is Verdict.ERROR
    assert result.certificate.startswith("the check raised ZeroDivisionError: division by zero")


@pytest.mark.parametrize(("exc", "code"), [(InputError("kappa is singular: points 1 and 2 coincide"), 2),
                                           (PrecisionNotReached(400, 65536, "kernel"), 3)])
def test_a_users_mistake_inside_a_check_still_exits_2_or_3(monkeypatch, tmp_path: Path, capsys,
                                                           exc: Exception, code: int) -> None:
    _use_checks(monkeypatch, _fake_spec("fake-ok", _confirms("ok")), _fake_spec("fake-input", _raises(exc)))
    out = tmp_path / "report"
    got, stdout, err, _ = _report(out, capsys)
    assert got == code and stdout == "" and len(err.strip().splitlines()) == 1
    assert not out.exists() and os.listdir(tmp_path) == []
