"""Users' claim files: ``check --claims`` and ``report --claims`` on examples/my_claims.py, and bad files.

The example's claims are about rho^(10) of two orthogonal inputs, whose value is checked
here by an independent route (MATH.md's raw recursion in plain mpmath, ``tests/reference.py``).
A bad claim file gives exit 2, one line on stderr, and nothing computed or written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mpmath
import pytest
from reference import reference_normalized

import proofs_checks
from proofs_checks import check_by_id
from verify.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = "examples/my_claims.py"
FAST_BUILTIN = "proposition-1"


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_example_claim_is_true_by_an_independent_route() -> None:
    rho = reference_normalized("0", [10], 40)[10][0]       # SigmaBar^(10) of orthogonal inputs
    assert mpmath.mpf("0.5") < rho < mpmath.mpf("0.9")


def test_check_claims_runs_the_file_from_the_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "verify", "check", "--claims", EXAMPLE, "--quiet", "--format",
                           "json"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert [(c["id"], c["verdict"]) for c in payload["checks"]] == \
        [("my-rho-below-0.9", "confirmed"), ("my-rho-below-0.5", "refuted")]
    [source] = payload["sources"]
    assert source["id"] == f"user-file:{EXAMPLE}" and source["version"].startswith("sha256 ")
    assert all(c["source"] == source["id"] for c in payload["checks"])


def test_check_claims_table_names_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["check", "--claims", EXAMPLE, "my-rho-below-0.5", "--quiet"], capsys)
    assert code == 0
    assert f"== User file {EXAMPLE}: sha256 " in out and "my-rho-below-0.5" in out and "refuted" in out
    assert "my-rho-below-0.9" not in out


def test_report_claims_groups_the_user_source(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fast = check_by_id(FAST_BUILTIN)
    monkeypatch.setattr(proofs_checks, "all_checks", lambda: [fast])   # one quick built-in beside the file
    out = tmp_path / "report"
    code, _, err = _cli(["report", "--claims", EXAMPLE, "--out", str(out), "--quiet", "--data",
                         "builtin:sphere-4", "--digits", "20", "--format", "json"], capsys)
    assert code == 0, err
    results = json.loads((out / "results.json").read_text())
    assert [(c["id"], c["verdict"], c["source"]["id"]) for c in results["checks"]] == [
        (FAST_BUILTIN, "confirmed", "arxiv-2511.07272"),
        ("my-rho-below-0.9", "confirmed", f"user-file:{EXAMPLE}"),
        ("my-rho-below-0.5", "refuted", f"user-file:{EXAMPLE}")]
    assert [s["id"] for s in results["sources"]] == ["arxiv-2511.07272", f"user-file:{EXAMPLE}"]
    assert "v1, the version the summary describes" in results["sources"][0]["version"]
    assert "Revisiting the Neural Tangent Kernel" in results["sources"][0]["version"]
    assert results["provenance"]["settings"]["claims_files"] == [EXAMPLE]
    md = (out / "report.md").read_text()
    assert f"## Claims from User file {EXAMPLE}" in md and "## Claims from Seed summary (arXiv 2511.07272)" in md
    assert md.index("## Claims from Seed summary") < md.index(FAST_BUILTIN + " (") < \
        md.index(f"## Claims from User file {EXAMPLE}") < md.index("## my-rho-below-0.9")
    html = (out / "report.html").read_text()
    assert f"Claims from User file {EXAMPLE}" in html and "sha256 " in html


BAD_FILES = {
    "raises.py": ("import math\nraise RuntimeError('my file is broken')\n", "importing it raised RuntimeError"),
    "empty.py": ("X = 1\n", "exposes no checks"),
    "notalist.py": ("CHECKS = 'lemma-1'\n", "CHECKS must be a list"),
    "notaspec.py": ("CHECKS = [42]\n", "not a proofs_checks.base.CheckSpec"),
    "clash.py": ("from proofs_checks import check_by_id\nCHECKS = [check_by_id('lemma-1')]\n",
                 "is a built-in check's id"),
    "twice.py": ("import importlib.util, pathlib\n"
                 f"spec = importlib.util.spec_from_file_location('ex', {str(ROOT / EXAMPLE)!r})\n"
                 "ex = importlib.util.module_from_spec(spec)\nimport sys; sys.modules['ex'] = ex\n"
                 "spec.loader.exec_module(ex)\nCHECKS = [ex.CHECKS[0], ex.CHECKS[0]]\n", "is defined twice"),
    "badid.py": ("from dataclasses import replace\nfrom proofs_checks import check_by_id\n"
                 "CHECKS = [replace(check_by_id('lemma-1'), id='Bad Id')]\n", "must be 1-64 lower-case"),
    "notes.txt": ("CHECKS = []\n", "must be a Python file ending in .py"),
}


@pytest.mark.parametrize("command", ["check", "report"])
@pytest.mark.parametrize("name", [*BAD_FILES, "missing.py"])
def test_a_bad_claim_file_is_refused_before_any_work(name: str, command: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("checks ran although the claim file is bad")

    monkeypatch.setattr(proofs_checks, "run_checks", never)
    path = tmp_path / name
    expected = "no such file"
    if name in BAD_FILES:
        text, expected = BAD_FILES[name]
        path.write_text(text)
    out = tmp_path / "report"
    extra = ["--out", str(out)] if command == "report" else []
    code, stdout, err = _cli([command, "--claims", str(path), "--quiet", *extra], capsys)
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith(f"ntk-verify: error: --claims {path}: ") and expected in err
    assert not out.exists()


def test_a_claim_that_crashes_is_a_bug_in_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "crash.py"
    path.write_text("from dataclasses import replace\nfrom proofs_checks import check_by_id\n"
                    "def run(ctx, kernel, claim):\n    return 1 / 0\n"
                    "CHECKS = [replace(check_by_id('lemma-1'), id='my-crash', run=run)]\n")
    code, out, err = _cli(["check", "--claims", str(path), "--quiet"], capsys)
    assert code == 4 and "my-crash" in out and "ZeroDivisionError" in out
    assert "a bug in your claim file" in err


def test_help_says_that_loading_a_claim_file_runs_it(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("check", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--claims FILE.py" in text and "RUNS ITS CODE" in text
