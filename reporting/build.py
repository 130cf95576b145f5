"""Write a verification report (report.md, report.html, results.json, figures/*.png) atomically.

Everything is written into a temporary sibling folder first and then moved into
place, so an interrupted run leaves the previous report (or none), never half of one.
Only a previous report of ours is replaced, and only the files it lists are removed
(see :mod:`reporting.folder`): a user's folder or file at ``--out`` is refused.
"""

from __future__ import annotations

import base64
import html
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from .figures import render_png
from .folder import previous_report_files, remove_report, swap_into_place, write_marker

VERDICT_COLOURS = {"confirmed": "#1a7f37", "refuted": "#cf222e", "inconclusive": "#9a6700", "error": "#6e40c9"}
OTHER_COLOUR = "#57606a"
SUMMARY_EXPERIMENTS = [
    ("Experiment 1 (kernel convergence)", "experiment1_"),
    ("Experiment 2 (correlation tracking through L = 50)", "experiment2_"),
    ("Experiment 3 (solution stability: kappa_x kappa^-1 and det along depth)", "experiment3_"),
    ("Next check 1 (convergence rate of rho^(L))", "lemma1_gap"),
    ("Next check 2 (invertibility on small datasets)", "invertibility_"),
    ("Next check 3 (closed-form stability with synthetic labels)", "theorem3_"),
]


def write_report(results: list[dict[str, Any]], provenance: dict[str, Any], out_dir: str | Path) -> Path:
    """Write the report for JSON-ready check results into ``out_dir`` (replaced atomically).

    Raises :class:`reporting.folder.ReportFolderRefused` (nothing written or removed) when
    ``out_dir`` is a file, or a non-empty folder that is not a previous report of ours.
    """
    out_dir = Path(out_dir).absolute()
    previous_report_files(out_dir)                 # refuse before writing anything
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        tmp.chmod(0o777 & ~_umask())                   # mkdtemp makes it private; a report is not
        _write_files(tmp, results, provenance)
        previous = previous_report_files(out_dir) or []   # again: the user may have changed it meanwhile
        old = swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)         # not swapped: tmp holds only what this run wrote
        raise
    if old is not None and not remove_report(old, previous):
        print(f"ntk-verify: warning: files that ntk-verify did not write appeared in the old report; "
              f"they were left in {old}", file=sys.stderr)
    return out_dir


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_files(folder: Path, results: list[dict[str, Any]], provenance: dict[str, Any]) -> None:
    """The report's files, then the marker that lists them."""
    (folder / "figures").mkdir()
    pngs: dict[str, bytes] = {}
    for res in results:
        for fig in res["evidence"]["figures"]:
            name = f"{fig['name']}.png"
            if name not in pngs:
                pngs[name] = render_png(fig)
                (folder / "figures" / name).write_bytes(pngs[name])
    payload = {"provenance": provenance, "summary": verdict_table(results), "counts": verdict_counts(results),
               "checks": results}
    (folder / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    (folder / "report.md").write_text(render_markdown(results, provenance))
    (folder / "report.html").write_text(render_html(results, provenance, pngs))
    write_marker(folder)


def verdict_table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "kernel": r["kernel"], "verdict": r["verdict"], "certificate": r["certificate"]}
            for r in results]


def verdict_counts(results: list[dict[str, Any]]) -> dict[str, int]:
    """How many results have each verdict (verdict words as the checks gave them, sorted)."""
    return dict(sorted(Counter(r["verdict"] for r in results).items()))


def counts_line(results: list[dict[str, Any]]) -> str:
    """'12 confirmed, 1 error, 2 refuted' for the summary."""
    return ", ".join(f"{n} {verdict}" for verdict, n in verdict_counts(results).items()) or "no checks"


def _figures_by_prefix(results: list[dict[str, Any]], prefix: str) -> list[str]:
    return sorted({f["name"] for r in results for f in r["evidence"]["figures"] if f["name"].startswith(prefix)})


def render_markdown(results: list[dict[str, Any]], prov: dict[str, Any]) -> str:
    lines = ["# Verification report: depth in the NTK of deep ReLU networks", "",
             "Claims of the summary of arXiv 2511.07272, checked with certified (Arb), validated and "
             "statistical evidence. Verdicts are computed, never written by hand.", "",
             "## Verdicts", "", "| claim | kernel | verdict |", "| --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r['id']} | {r['kernel'] or '-'} | **{r['verdict']}** |")
    lines += ["", f"Counts: {counts_line(results)}.", "", "## The summary's experiments and next checks", ""]
    for title, prefix in SUMMARY_EXPERIMENTS:
        names = _figures_by_prefix(results, prefix)
        lines.append(f"- {title}: " + (", ".join(f"![{n}](figures/{n}.png)" for n in names) or "not produced"))
    lines.append("")
    for r in results:
        lines += [f"## {r['id']} ({r['kernel'] or 'kernel-independent'}): {r['verdict'].upper()}", "",
                  f"**{r['title']}**", "", f"*Claim.* {r['claim']}", "", f"`{r['claim_latex']}`", "",
                  f"*Hypotheses.* {r['hypotheses']}", "",
                  f"*Parameterization.* {r['parameterization']['name']}", "",
                  f"*Method.* {r['method']}", "", f"*Parameters.* `{json.dumps(r['parameters'])}`", "",
                  f"*Certificate.* {r['certificate']}", "", "*Findings.*", ""]
        for f in r["findings"]:
            mark = {True: "supports", False: "contradicts", None: "open"}[f["supports"]]
            lines.append(f"- {f['name']} ({mark}; {f['guarantee']}): {f['certificate']}")
        lines.append("")
        for t in r["evidence"]["tables"]:
            lines += [f"*{t['title']}*", "", "| " + " | ".join(t["columns"]) + " |",
                      "|" + " --- |" * len(t["columns"])]
            lines += ["| " + " | ".join(row) + " |" for row in t["rows"]]
            if t["note"]:
                lines += ["", f"_{t['note']}_"]
            lines.append("")
        for f in r["evidence"]["figures"]:
            lines += [f"![{f['title']}](figures/{f['name']}.png)", ""]
        for note in r["evidence"]["notes"]:
            lines += [f"> {note}", ""]
        lines.append(f"_time: {r['seconds']} s_")
        lines.append("")
    lines += ["## Provenance", "", "```json", json.dumps(prov, indent=1), "```", ""]
    return "\n".join(lines)


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1f2328;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.85em}td,th{border:1px solid #d0d7de;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f6f8fa}
.badge{display:inline-block;padding:1px 9px;border-radius:10px;color:#fff;font-weight:600;font-size:.85em}
code,pre{background:#f6f8fa;border-radius:4px;padding:1px 4px;font-size:.85em}pre{padding:.6em;overflow-x:auto}
.cert{font-size:.9em;color:#444}.fig{max-width:100%;border:1px solid #eee;margin:.4em 0}
.check{margin-bottom:2.5em}.meta td:first-child{font-weight:600;white-space:nowrap}
"""


def _clip(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _badge(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict, OTHER_COLOUR)
    return f'<span class="badge" style="background:{colour}">{html.escape(verdict)}</span>'


def _img(pngs: dict[str, bytes], name: str, title: str) -> str:
    data = base64.b64encode(pngs[f"{name}.png"]).decode()
    return f'<img class="fig" alt="{html.escape(title)}" src="data:image/png;base64,{data}">'


def render_html(results: list[dict[str, Any]], prov: dict[str, Any], pngs: dict[str, bytes]) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<title>Verification report: depth in the NTK</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Verification report: depth in the neural tangent kernel of deep ReLU networks</h1>",
             "<p>Claims of the summary of arXiv 2511.07272, each checked per kernel. <b>Certified</b>: Arb "
             "enclosures that provably contain the exact value. <b>Validated</b>: agreement of independent "
             "routes. <b>Statistical</b>: Monte Carlo with confidence intervals. Verdicts are computed from "
             "findings, never written by hand.</p>",
             "<h2>Verdicts</h2><table><tr><th>claim</th><th>kernel</th><th>verdict</th><th>certificate</th></tr>"]
    for r in results:
        parts.append(f"<tr><td><a href='#{e(r['id'])}-{r['kernel']}'>{e(r['id'])}</a></td>"
                     f"<td>{e(r['kernel'] or '-')}</td><td>{_badge(r['verdict'])}</td>"
                     f"<td class='cert'>{e(_clip(r['certificate']))}</td></tr>")
    parts.append(f"</table><p>Counts: {e(counts_line(results))}.</p>")
    parts.append("<p class='cert'>Provenance (versions, commit, command line, settings, timings): "
                 "<a href='#provenance'>at the end</a>.</p>")
    parts.append("<h2>The summary's experiments and next checks</h2><ul>")
    for title, prefix in SUMMARY_EXPERIMENTS:
        names = _figures_by_prefix(results, prefix)
        parts.append(f"<li>{e(title)}: " + (", ".join(f"<a href='#fig-{e(n)}'>{e(n)}</a>" for n in names)
                                            or "not produced") + "</li>")
    parts.append("</ul>")
    for r in results:
        parts += [f"<div class='check' id='{e(r['id'])}-{r['kernel']}'>",
                  f"<h2>{e(r['id'])} · {e(r['kernel'] or 'kernel-independent')} {_badge(r['verdict'])}</h2>",
                  f"<p><b>{e(r['title'])}</b></p><table class='meta'>",
                  f"<tr><td>claim</td><td>{e(r['claim'])}<br><code>{e(r['claim_latex'])}</code></td></tr>",
                  f"<tr><td>hypotheses</td><td>{e(r['hypotheses'])}</td></tr>",
                  f"<tr><td>parameterization</td><td>{e(r['parameterization']['name'])}</td></tr>",
                  f"<tr><td>method</td><td>{e(r['method'])}</td></tr>",
                  f"<tr><td>parameters</td><td><code>{e(json.dumps(r['parameters']))}</code></td></tr>",
                  f"<tr><td>certificate</td><td class='cert'>{e(r['certificate'])}</td></tr>",
                  f"<tr><td>time</td><td>{r['seconds']} s</td></tr></table><ul>"]
        for f in r["findings"]:
            mark = {True: "supports", False: "contradicts", None: "open"}[f["supports"]]
            parts.append(f"<li><b>{e(f['name'])}</b> ({mark}; {e(f['guarantee'])}): {e(f['certificate'])}</li>")
        parts.append("</ul>")
        for t in r["evidence"]["tables"]:
            parts.append(f"<p><i>{e(t['title'])}</i></p><table><tr>"
                         + "".join(f"<th>{e(c)}</th>" for c in t["columns"]) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in t["rows"]]
            parts.append("</table>" + (f"<p class='cert'>{e(t['note'])}</p>" if t["note"] else ""))
        for f in r["evidence"]["figures"]:
            parts.append(f"<div id='fig-{e(f['name'])}'>{_img(pngs, f['name'], f['title'])}</div>")
        for note in r["evidence"]["notes"]:
            parts.append(f"<p class='cert'>{e(note)}</p>")
        parts.append("</div>")
    parts.append("<h2 id='provenance'>Provenance</h2><pre>" + e(json.dumps(prov, indent=1)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
