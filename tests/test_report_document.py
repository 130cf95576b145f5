"""The report as a document: report.md parsed by a CommonMark parser, report.html by an HTML parser.

The report is written by :func:`reporting.write_report` from the committed reference results
(no checks run) plus a hand-made check holding what broke the report before: pipes in
headers and cells, a formula mathtext cannot parse, a ball cell, a 16-digit depth.
"""

from __future__ import annotations

import copy
import json
import re
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reporting import write_report
from reporting.text import GUARANTEES, VERDICT_RULE

markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py (test extra) parses report.md")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reports" / "reference" / "results.json"
UNPARSABLE = r"\unknownmacro{x} \le 1"


def _awkward_check() -> dict[str, Any]:
    table = {"title": "pipes | and balls", "columns": ["rho", "|difference|", "max |diff|", "L"],
             "rows": [["0.5", "1.0e-30 | x", {"text": "0.25 ± 1.6e-14", "mid": "0.25", "rad": "1.1e-31"},
                       "1000000000000000"]], "note": "a | note"}
    return {"id": "awkward", "kernel": None, "title": "A | check", "claim": "a claim", "claim_latex": UNPARSABLE,
            "hypotheses": "none", "parameterization": {"name": "p"}, "method": "m",
            "parameters": {"depths": [1, 1000000000000000]},
            "evidence": {"tables": [table], "figures": [], "numbers": {}, "notes": []},
            "findings": [{"name": "f", "supports": None, "certificate": "c", "guarantee": "certified"}],
            "verdict": "inconclusive", "certificate": "x" * 900, "seconds": 0.1}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    payload = json.loads(REFERENCE.read_text())
    results = copy.deepcopy(payload["checks"]) + [_awkward_check()]
    return write_report(results, payload["provenance"], tmp_path_factory.mktemp("doc") / "report")


def _tables_in_source(md: str) -> int:
    """Tables as written: a header line followed by a '| --- |' delimiter line."""
    lines = md.splitlines()
    return sum(1 for a, b in zip(lines, lines[1:], strict=False)
               if a.startswith("|") and re.fullmatch(r"\|( --- \|)+", b))


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_every_markdown_table_is_a_table(report: Path) -> None:
    md = (report / "report.md").read_text()
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(md)
    tables = [t for t in tokens if t.type == "table_open"]
    assert len(tables) == _tables_in_source(md) > 20
    covered = {i for t in tables for i in range(*t.map)}
    lines = md.splitlines()
    stray = [line for i, line in enumerate(lines) if line.startswith("|") and i not in covered]
    assert not stray, stray[:3]                               # no table row left as a paragraph
    for t in tables:
        start, end = t.map
        widths = {_cells(line) for line in lines[start:end]}
        assert len(widths) == 1, lines[start:end]            # every row as wide as its header


def test_markdown_escapes_pipes_and_has_plain_anchors(report: Path) -> None:
    md = (report / "report.md").read_text()
    assert r"\|difference\|" in md and r"max \|diff\|" in md
    assert "-None" not in md
    assert re.search(r"\(#theorem-1-ntk\)", md) and '<a id="theorem-1-ntk"></a>' in md
    assert "| 1e15 |" in md and "1000000000000000" not in md.split("## Provenance")[0]


def test_markdown_intro_defines_evidence_and_verdict_rule(report: Path) -> None:
    intro = (report / "report.md").read_text().split("## Verdicts")[0]
    for word, _ in GUARANTEES + VERDICT_RULE:
        assert word in intro
    assert "contradicts" in intro and "crashed" in intro


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.stack: list[str] = []
        self.svg_in_check: dict[str, int] = {}
        self._check: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        self._in_style = tag == "style"
        if tag == "div" and a.get("class") == "check":
            self._check = a.get("id")
        if tag == "svg" and self._check:
            self.svg_in_check[self._check] = self.svg_in_check.get(self._check, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def page(report: Path) -> _Page:
    parser = _Page()
    parser.feed((report / "report.html").read_text())
    return parser


def test_html_is_self_contained(page: _Page) -> None:
    for tag, attrs in page.tags:
        for key in ("src", "href", "xlink:href", "action", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "file:")), (tag, key, value[:80])
        if tag == "img":
            assert (attrs.get("src") or "").startswith("data:image/"), attrs.get("src", "")[:40]
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert tag != "script"
    assert not any("@import" in s or "url(http" in s for s in page.styles)


def test_html_renders_formulas_and_says_when_it_cannot(report: Path, page: _Page) -> None:
    reference = json.loads(REFERENCE.read_text())["checks"]
    for r in reference:
        key = f"{r['id']}-{r['kernel']}" if r["kernel"] else r["id"]
        assert page.svg_in_check.get(key, 0) >= 1, key       # each claim_latex drawn as an inline SVG
    fallbacks = [a for t, a in page.tags if t == "code" and a.get("class") == "tex"]
    assert len(fallbacks) == 1 and "cannot render" in (fallbacks[0].get("title") or "")
    ids = [a["id"] for _, a in page.tags if a.get("id")]
    assert len(ids) == len(set(ids))                         # glyph ids of different formulas do not clash


def test_html_reads_on_a_narrow_screen(report: Path, page: _Page) -> None:
    text = (report / "report.html").read_text()
    css = "".join(page.styles)
    assert "overflow-x:auto" in css and "white-space:nowrap" in css and "viewport" in text
    tables = sum(1 for t, _ in page.tags if t == "table")
    boxed = sum(1 for t, a in page.tags if t == "div" and a.get("class") == "tbl")
    meta = sum(1 for t, a in page.tags if t == "table" and a.get("class") == "meta")   # text that wraps
    assert boxed == tables - meta                            # every data table scrolls in its own box
    assert '<span class="n">0.25 ± 1.6e-14</span>' in text  # a number never breaks inside
    verdicts = text.split("<h2>Verdicts</h2>")[1].split("</table>")[0]
    assert "x" * 900 in verdicts                             # certificates are not cut
    body = text.split("<h2 id='provenance'>")[0]
    assert "1000000000000000" not in body and "1e15" in body


def test_report_files_have_ordinary_permissions(report: Path) -> None:
    import os
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(report.stat().st_mode) == 0o777 & ~mask
    for name in ("report.md", "report.html", "results.json"):
        assert stat.S_IMODE((report / name).stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((report / "figures").stat().st_mode) == 0o777 & ~mask


def test_every_built_in_claim_formula_renders() -> None:
    """mathtext knows a subset of LaTeX: each built-in claim's formula must be in it (no fallback to code)."""
    from proofs_checks import all_checks
    from reporting.mathsvg import formula_svg

    for spec in all_checks():
        assert formula_svg(spec.claim_latex).startswith("<svg"), spec.id
