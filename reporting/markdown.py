"""report.md: the report as CommonMark + GitHub tables (every cell escaped, explicit anchors).

>>> md_cell("max |diff|")
'max \\\\|diff\\\\|'
>>> md_table(["a|b"], [["1 | 2"]]).splitlines()[0]
'| a\\\\|b |'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import text as doc


def md_cell(text: Any) -> str:
    """A table cell: pipes escaped, line breaks folded (a cell is one line)."""
    return doc.display_cell(text).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def md_table(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub table; every row gets as many cells as the header."""
    width = len(columns)
    lines = ["| " + " | ".join(md_cell(c) for c in columns) + " |", "|" + " --- |" * width]
    for row in rows:
        cells = [md_cell(c) for c in row][:width] + [""] * max(0, width - len(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _intro() -> list[str]:
    lines = [f"# {doc.TITLE}", "", doc.ABOUT, "", "**Kinds of evidence.**", ""]
    lines += [f"- *{word}*: {meaning}" for word, meaning in doc.GUARANTEES]
    lines += ["", "**Verdict rule.**", ""]
    lines += [f"- **{word}**: {meaning}" for word, meaning in doc.VERDICT_RULE]
    return lines + ["", doc.DIGITS_NOTE, "", doc.DATA_NOTE, ""]


def _source_lines(source: dict[str, Any]) -> list[str]:
    return [f"*Source.* {source['title']}. *Version.* {source['version']}.", ""]


def _summary(results: list[dict[str, Any]]) -> list[str]:
    lines = ["## Verdicts", ""]
    for source, group in doc.by_source(results):
        rows = [[f"[{r['id']}](#{doc.anchor(r)})", r["kernel"] or "-", f"**{r['verdict']}**"] for r in group]
        lines += [f"### [{source['short']}](#{doc.source_anchor(source)})", "", *_source_lines(source),
                  md_table(["claim", "kernel", "verdict"], rows), ""]
    lines += [f"Counts: {doc.counts_line(results)}.", "", "## The summary's experiments and next checks", ""]
    for title, prefix, check_id in doc.SUMMARY_EXPERIMENTS:
        shown = [f"![{n}](figures/{n}.png)" for n in doc.figures_by_prefix(results, prefix)]
        shown += [f"[{r['id']} ({doc.kernel_label(r)})](#{doc.anchor(r)})" for r in doc.sections_of(results, check_id)]
        lines.append(f"- {title}: " + (", ".join(shown) or "not produced"))
    return lines + [""]


def _check_section(r: dict[str, Any]) -> list[str]:
    lines = [f'<a id="{doc.anchor(r)}"></a>', "", f"## {r['id']} ({doc.kernel_label(r)}): {r['verdict'].upper()}", "",
             f"**{r['title']}**", "", f"*Claim.* {r['claim']}", "", f"`{r['claim_latex']}`", "",
             f"*Hypotheses.* {r['hypotheses']}", "", f"*Parameterization.* {r['parameterization']['name']}", ""]
    data = doc.data_used(r)
    if data:
        lines += [f"*Data.* {data}", ""]
    lines += [f"*Method.* {r['method']}", "", f"*Parameters.* `{doc.parameters_text(r['parameters'])}`", "",
              f"*Certificate.* {r['certificate']}", "", "*Findings.*", ""]
    lines += [f"- {f['name']} ({doc.MARKS[f['supports']]}; {f['guarantee']}): {f['certificate']}"
              for f in r["findings"]]
    lines.append("")
    for t in r["evidence"]["tables"]:
        lines += [f"*{t['title']}*", "", md_table(t["columns"], t["rows"]), ""]
        if t["note"]:
            lines += [f"_{t['note']}_", ""]
    for f in r["evidence"]["figures"]:
        lines += [f"![{f['title']}](figures/{f['name']}.png)", ""]
    for note in r["evidence"]["notes"]:
        lines += [f"> {note}", ""]
    return lines + [f"_time: {doc.time_text(r)}_", ""]


def render_markdown(results: list[dict[str, Any]], prov: dict[str, Any]) -> str:
    """The whole report.md."""
    lines = _intro() + _summary(results)
    for source, group in doc.by_source(results):
        lines += [f'<a id="{doc.source_anchor(source)}"></a>', "", f"## Claims from {source['short']}", "",
                  *_source_lines(source)]
        for r in group:
            lines += _check_section(r)
    lines += ['<a id="provenance"></a>', "", "## Provenance", "", "```json", json.dumps(prov, indent=1), "```", ""]
    return "\n".join(lines)
