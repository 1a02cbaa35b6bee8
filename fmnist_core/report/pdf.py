"""The report as a PDF, printed by headless Chromium (through Playwright) from the same HTML: one layout
for screen and paper, so the PDF cannot drift from the file it comes from.

The page is laid out at the A4 text width under the print stylesheet before plotly draws, so each figure
is drawn at the size it prints; once every figure has drawn, each is frozen into a vector image of itself
(static, legible, no toolbar) and the appendix is opened. No request leaves the file: anything that is
not file:// is refused.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
MARGIN_MM = {"top": 14, "bottom": 14, "left": 12, "right": 12}  # as the stylesheet's @page
TEXT_WIDTH_PX = round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)  # A4 less margins
HOW_TO_GET_ONE = "install it with `sudo apt-get install chromium`, or set CHROMIUM=/path/to/chromium"

# every figure's div has been drawn by plotly (it gets the class and an SVG)
ALL_DRAWN = """() => [...document.querySelectorAll('.report-figure .plotly-graph-div')]
    .every(d => d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg'))"""


# Each drawn figure becomes a vector image of itself at the width it was laid out at: printing lays the page
# out again and fires a resize that plotly would answer by redrawing at the paper's width in points, and a
# picture neither moves nor shows a toolbar. At 4/5 of its screen height (the text keeps its size) two
# figures share an A4 page.
FREEZE = """async () => {
  for (const gd of [...document.querySelectorAll('.report-figure .js-plotly-plot')]) {
    const size = {width: gd.clientWidth, height: Math.round(0.8 * gd.clientHeight)};
    const url = await Plotly.toImage(gd, {format: 'svg', ...size});
    const img = document.createElement('img');
    img.src = url;
    img.alt = gd.closest('figure').querySelector('figcaption').textContent;
    img.className = 'frozen-figure';
    const box = gd.parentElement.tagName === 'FIGURE' ? gd : gd.parentElement;  // plotly's sized wrapper
    Plotly.purge(gd);
    box.replaceWith(img);
    await img.decode();
  }
}"""


class PdfError(Exception):
    """The PDF could not be printed; the message is one line that says why."""


class ChromiumMissing(PdfError):
    """No Chromium (or no Playwright) to print with; the message says how to get one."""


def find_chromium() -> str:
    """CHROMIUM if set (it must exist), else Debian's /usr/bin/chromium or a browser on the PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        if Path(given).is_file():
            return given
        raise ChromiumMissing(f"CHROMIUM={given} is not a file; {HOW_TO_GET_ONE}")
    for c in CANDIDATES:
        found = c if Path(c).is_file() else shutil.which(c)
        if found:
            return found
    raise ChromiumMissing(f"no Chromium found to print the PDF with; {HOW_TO_GET_ONE}")


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:
        raise ChromiumMissing(
            "the PDF needs Playwright: `pip install playwright` (it drives the system's Chromium)"
        ) from e
    return sync_playwright


def _offline(route) -> None:
    """Let the file itself load; refuse anything else (the report must need no network)."""
    if route.request.url.startswith(("file:", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


def print_pdf(html: str, out: Path, chromium: str | None = None, timeout_s: float = 120) -> int:
    """Print the report's HTML to `out` as an A4 PDF; returns its size in bytes.

    Playwright runs in a thread of its own: its sync API refuses to start where an asyncio loop already
    runs (a caller's own Playwright session, a notebook, an app server)."""
    chromium = chromium or find_chromium()
    _playwright()  # refuse early, in one line, without Playwright
    with tempfile.TemporaryDirectory(prefix="fmnist-report-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(html, encoding="utf-8")
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(_browse, chromium, src, out, timeout_s).result()
    return out.stat().st_size


def _browse(chromium: str, src: Path, out: Path, timeout_s: float) -> None:
    """Start Chromium, print, close it; a browser that does not start or a page that never draws is a
    PdfError."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        with _playwright()() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": TEXT_WIDTH_PX, "height": 1100})
                _print(page, src, out, timeout_s)
            finally:
                browser.close()
    except PlaywrightError as e:
        first = (e.message or str(e)).splitlines()[0]
        raise PdfError(f"Chromium at {chromium} could not print the report: {first}") from e


def _print(page, src: Path, out: Path, timeout_s: float) -> None:
    """Lay the page out at the A4 text width under the print stylesheet, wait for every figure, open the
    appendix, print."""
    page.set_default_timeout(timeout_s * 1000)
    page.route("**/*", _offline)
    page.emulate_media(media="print", color_scheme="light")
    page.goto(src.as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN)
    page.evaluate(FREEZE)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    margin = {k: f"{v}mm" for k, v in MARGIN_MM.items()}
    page.pdf(path=str(out), format="A4", margin=margin, print_background=True)
