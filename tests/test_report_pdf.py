"""report --pdf: refused before any work without a Chromium; with one, report.html prints to a PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporting.pdf import find_chromium, html_to_pdf
from verify.cli import main


def test_pdf_without_chromium_is_refused_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    import proofs_checks

    def must_not_run(*_a: object, **_k: object) -> None:
        raise AssertionError("checks ran although --pdf cannot be honoured")

    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setattr(proofs_checks, "run_checks", must_not_run)
    out = tmp_path / "r"
    assert main(["report", "--pdf", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ntk-verify: error: --pdf needs a Chromium") and len(err.splitlines()) == 1
    assert not out.exists()


def test_chromium_prints_html_to_pdf(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium installed (set $CHROMIUM or install chromium): report --pdf is optional")
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><title>t</title><h1>kernel</h1><svg width='20' height='20'>"
                    "<circle cx='10' cy='10' r='5'/></svg>")
    pdf = tmp_path / "page.pdf"
    html_to_pdf(html, pdf, chromium)
    assert pdf.read_bytes()[:5] == b"%PDF-"
