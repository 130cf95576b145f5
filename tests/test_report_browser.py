"""report.html in a real browser (Chromium via playwright, an optional test extra): 1400 px and 600 px wide.

Asserts no horizontal overflow of the page (tables scroll inside their own boxes) and that
every image loaded. Skips, saying why, when playwright or a Chromium is not installed.
Full-page screenshots (``report-1400.png``, ``report-600.png``) are saved in the test's tmp_path.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import pytest

from reporting import write_report

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reports" / "reference" / "results.json"
WIDTHS = (1400, 600)


def _chromium() -> str | None:
    """A Chromium to drive: $CHROMIUM, /usr/bin/chromium, or None (then playwright's own, if installed)."""
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    payload = json.loads(REFERENCE.read_text())
    out = write_report(copy.deepcopy(payload["checks"]), payload["provenance"], tmp_path_factory.mktemp("b") / "r")
    return (out / "report.html").as_uri()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (optional test extra)")
    executable = _chromium()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable) if executable else p.chromium.launch()
        except Exception as exc:  # no browser binary: say so, do not fail
            pytest.skip(f"no Chromium to run (set $CHROMIUM, install /usr/bin/chromium or "
                        f"`playwright install chromium`): {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_page_fits_and_images_load(browser, page_url: str, width: int, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith(("file:", "data:"))
               else route.continue_())                          # nothing may come from the network
    page.goto(page_url)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow} px at {width} px"
    broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
                           ".map(i => i.alt)")
    assert broken == [], broken
    assert page.evaluate("document.images.length") > 5
    page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
    page.close()
