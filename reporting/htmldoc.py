"""report.html: one self-contained page (inline CSS, formulas as inline SVG, figures as data: URIs).

Nothing is fetched: no script, no external stylesheet, font or image. The page reads on a
narrow screen: each table scrolls inside its own box, numbers never break inside.

>>> nowrap_numbers("3.43e-18 ± 1.2e-31 and [0.1, 0.2]")
'<span class="n">3.43e-18 ± 1.2e-31</span> and [<span class="n">0.1</span>, <span class="n">0.2</span>]'
"""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

from . import text as doc
from .mathsvg import formula_html

VERDICT_COLOURS = {"confirmed": "#1a7f37", "refuted": "#cf222e", "inconclusive": "#9a6700", "error": "#6e40c9"}
OTHER_COLOUR = "#57606a"
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
NUMBER_RUN = re.compile(rf"(?<![\w.]){_NUM}(?:\s*±\s*{_NUM})?(?![\w.])")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
.tbl{overflow-x:auto;max-width:100%;margin:.6em 0}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #d0d7de;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f6f8fa}
.n{white-space:nowrap}td.num{white-space:nowrap}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-weight:600;font-size:.85em}
code,pre{background:#f6f8fa;border-radius:4px;padding:1px 4px;font-size:.85em}code{overflow-wrap:anywhere}
pre{padding:.6em;overflow-x:auto;max-width:100%}
.cert{font-size:.9em;color:#444}.fig{max-width:100%;height:auto;border:1px solid #eee;margin:.4em 0}
.check{margin-bottom:2.5em}.meta td:first-child{font-weight:600;white-space:nowrap}
.formula{display:inline-block;max-width:100%;overflow-x:auto;vertical-align:middle}
.formula svg{max-width:100%;height:auto}
th.src{background:#eaeef2}h2.source{border-bottom:3px solid #57606a}
"""


def nowrap_numbers(escaped: str) -> str:
    """Wrap every number (and every 'mid ± rad') of escaped text in a span that does not break."""
    return NUMBER_RUN.sub(lambda m: f'<span class="n">{m.group(0)}</span>', escaped)


def _cell(cell: Any, tag: str = "td") -> str:
    text = html.escape(doc.display_cell(cell))
    return f"<{tag}>{nowrap_numbers(text)}</{tag}>"


def html_table(columns: list[Any], rows: list[list[Any]], css_class: str = "") -> str:
    """A table inside its own horizontally scrolling box."""
    cls = f" class='{css_class}'" if css_class else ""
    head = "<tr>" + "".join(_cell(c, "th") for c in columns) + "</tr>"
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<div class='tbl'><table{cls}>{head}{body}</table></div>"


def _badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, OTHER_COLOUR)
    return f'<span class="badge" style="background:{colour}">{html.escape(verdict)}</span>'


def _img(pngs: dict[str, bytes], name: str, title: str) -> str:
    data = base64.b64encode(pngs[f"{name}.png"]).decode()
    return f'<img class="fig" alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def _intro() -> list[str]:
    e = html.escape
    parts = [f"<h1>{e(doc.TITLE)}</h1>", f"<p>{e(doc.ABOUT)}</p>", "<p><b>Kinds of evidence.</b></p><ul>"]
    parts += [f"<li><b>{e(w)}</b>: {e(m)}</li>" for w, m in doc.GUARANTEES]
    parts.append("</ul><p><b>Verdict rule.</b></p><ul>")
    parts += [f"<li>{_badge(w)} {e(m)}</li>" for w, m in doc.VERDICT_RULE]
    return [*parts, "</ul>", f"<p class='cert'>{e(doc.DIGITS_NOTE)}</p>", f"<p class='cert'>{e(doc.DATA_NOTE)}</p>"]


def _summary(results: list[dict[str, Any]]) -> list[str]:
    e = html.escape
    parts = ["<h2>Verdicts</h2><div class='tbl'><table><tr><th>claim</th><th>kernel</th><th>verdict</th>"
             "<th>certificate</th></tr>"]
    for source, group in doc.by_source(results):
        parts.append(f"<tr><th colspan='4' class='src'><a href='#{e(doc.source_anchor(source))}'>"
                     f"{e(source['short'])}</a> <span class='cert'>(version: {e(source['version'])})</span></th></tr>")
        parts += [f"<tr><td class='num'><a href='#{e(doc.anchor(r))}'>{e(r['id'])}</a></td>"
                  f"<td>{e(r['kernel'] or '-')}</td><td>{_badge(r['verdict'])}</td>"
                  f"<td class='cert'>{nowrap_numbers(e(r['certificate']))}</td></tr>" for r in group]
    parts += [f"</table></div><p>Counts: {e(doc.counts_line(results))}.</p>",
              "<p class='cert'>Provenance (versions, commit, command line, settings, timings): "
              "<a href='#provenance'>at the end</a>.</p>", "<h2>The summary's experiments and next checks</h2><ul>"]
    for title, prefix, check_id in doc.SUMMARY_EXPERIMENTS:
        links = [f"<a href='#fig-{e(n)}'>{e(n)}</a>" for n in doc.figures_by_prefix(results, prefix)]
        links += [f"<a href='#{e(doc.anchor(r))}'>{e(r['id'])} ({e(doc.kernel_label(r))})</a>"
                  for r in doc.sections_of(results, check_id)]
        parts.append(f"<li>{e(title)}: " + (", ".join(links) or "not produced") + "</li>")
    return [*parts, "</ul>"]


def _meta(r: dict[str, Any]) -> str:
    e = html.escape
    rows = [("claim", f"{e(r['claim'])}<br>{formula_html(r['claim_latex'], 'f-' + doc.anchor(r))}"),
            ("hypotheses", e(r["hypotheses"])), ("parameterization", e(r["parameterization"]["name"]))]
    data = doc.data_used(r)
    if data:
        rows.append(("data", e(data)))
    rows += [("method", e(r["method"])), ("parameters", f"<code>{e(doc.parameters_text(r['parameters']))}</code>"),
             ("certificate", f"<span class='cert'>{nowrap_numbers(e(r['certificate']))}</span>"),
             ("time", e(doc.time_text(r)))]
    return "<table class='meta'>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _check_section(r: dict[str, Any], pngs: dict[str, bytes]) -> list[str]:
    e = html.escape
    parts = [f"<div class='check' id='{e(doc.anchor(r))}'>",
             f"<h2>{e(r['id'])} · {e(doc.kernel_label(r))} {_badge(r['verdict'])}</h2>",
             f"<p><b>{e(r['title'])}</b></p>", _meta(r), "<ul>"]
    parts += [f"<li><b>{e(f['name'])}</b> ({doc.MARKS[f['supports']]}; {e(f['guarantee'])}): "
              f"{nowrap_numbers(e(f['certificate']))}</li>" for f in r["findings"]]
    parts.append("</ul>")
    for t in r["evidence"]["tables"]:
        parts += [f"<p><i>{e(t['title'])}</i></p>", html_table(t["columns"], t["rows"])]
        if t["note"]:
            parts.append(f"<p class='cert'>{e(t['note'])}</p>")
    parts += [f"<div id='fig-{e(f['name'])}'>{_img(pngs, f['name'], f['title'])}</div>"
              for f in r["evidence"]["figures"]]
    parts += [f"<p class='cert'>{e(note)}</p>" for note in r["evidence"]["notes"]]
    return [*parts, "</div>"]


def render_html(results: list[dict[str, Any]], prov: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """The whole report.html (``pngs``: figure file name -> PNG bytes, embedded as data: URIs)."""
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             f"<title>{html.escape(doc.TITLE)}</title>", f"<style>{CSS}</style></head><body>",
             *_intro(), *_summary(results)]
    for source, group in doc.by_source(results):
        parts += [f"<h2 class='source' id='{html.escape(doc.source_anchor(source))}'>Claims from "
                  f"{html.escape(source['short'])}</h2>",
                  f"<p class='cert'>Source: {html.escape(source['title'])}. Version: "
                  f"{html.escape(source['version'])}.</p>"]
        for r in group:
            parts += _check_section(r, pngs)
    parts += ["<h2 id='provenance'>Provenance</h2><pre>" + html.escape(json.dumps(prov, indent=1)) + "</pre>",
              "</body></html>"]
    return "\n".join(parts)
