"""report.pdf from report.html through a headless Chromium (optional: ``report --pdf``).

The PDF is the browser's print of the self-contained HTML (formulas are inline SVG, figures
embedded), so it reads exactly as the page does. Chromium is not a dependency of the
toolkit: ``--pdf`` looks for one (``$CHROMIUM``, then ``chromium``, ``chromium-browser``,
``google-chrome`` on the PATH) before any work and refuses, exit 2, if there is none.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_SECONDS = 180


class PdfUnavailable(RuntimeError):
    """No Chromium to print with, or it failed: the message says which."""


def find_chromium() -> str | None:
    """The Chromium to print with: ``$CHROMIUM`` if set, else the first of :data:`BROWSERS` on the PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: Path, pdf: Path, chromium: str) -> None:
    """Print ``html`` to ``pdf`` (A4, no header or footer) with a headless ``chromium``."""
    argv = [chromium, "--headless", "--disable-gpu", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
            html.absolute().as_uri()]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.insert(1, "--no-sandbox")          # Chromium refuses to run its sandbox as root
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=PDF_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PdfUnavailable(f"{chromium} could not print the report: {exc}") from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        raise PdfUnavailable(f"{chromium} could not print the report (exit {done.returncode}): {tail}")
