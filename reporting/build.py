"""Write a verification report (report.md, report.html, results.json, figures/*.png) atomically.

Everything is written into a temporary sibling folder first and then moved into
place, so an interrupted run leaves the previous report (or none), never half of one.
Only a previous report of ours is replaced, and only the files it lists are removed
(see :mod:`reporting.folder`): a user's folder or file at ``--out`` is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .figures import render_png
from .folder import previous_report_files, remove_report, swap_into_place, write_marker
from .htmldoc import render_html
from .markdown import render_markdown
from .pdf import html_to_pdf
from .text import counts_line, source_of, sources_json, verdict_counts

__all__ = ["counts_line", "render_html", "render_markdown", "verdict_counts", "verdict_table", "write_report"]


def write_report(results: list[dict[str, Any]], provenance: dict[str, Any], out_dir: str | Path,
                 pdf_with: str | None = None) -> Path:
    """Write the report for JSON-ready check results into ``out_dir`` (replaced atomically).

    With ``pdf_with`` (a Chromium executable, see :func:`reporting.pdf.find_chromium`) the
    report also gets ``report.pdf``, printed from report.html.

    Raises :class:`reporting.folder.ReportFolderRefused` (nothing written or removed) when
    ``out_dir`` is a file, or a non-empty folder that is not a previous report of ours.
    """
    out_dir = Path(out_dir).absolute()
    previous_report_files(out_dir)                 # refuse before writing anything
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        tmp.chmod(0o777 & ~_umask())                   # mkdtemp makes it private; a report is not
        _write_files(tmp, results, provenance, pdf_with)
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


def _write_files(folder: Path, results: list[dict[str, Any]], provenance: dict[str, Any],
                 pdf_with: str | None) -> None:
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
               "sources": sources_json(results), "checks": results}
    (folder / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    (folder / "report.md").write_text(render_markdown(results, provenance))
    (folder / "report.html").write_text(render_html(results, provenance, pngs))
    if pdf_with is not None:
        html_to_pdf(folder / "report.html", folder / "report.pdf", pdf_with)
    write_marker(folder)


def verdict_table(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": r["id"], "kernel": r["kernel"], "verdict": r["verdict"], "certificate": r["certificate"],
             "source": source_of(r)["id"]} for r in results]
