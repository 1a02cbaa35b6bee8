"""How long a new user waits in a real browser: a freshly started server with every shipped run, Home, then
each page of the sidebar opened for the first time, its first slider moved and its first select box changed.

    .venv/bin/python scripts/bench_first_open.py

Each figure runs from the click (or key press) until Streamlit's own script state (the `data-test-script-
state` attribute its app element carries) says the run is over; "no rerun" where the widget starts none
(it sits in a form). The shipped runs are copied to a temporary folder first. A benchmark, not a test: it
prints figures and sets no limits.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import CHROMIUM_ARGS, StreamlitServer, nav_links, require_chromium  # noqa: E402

import app_support as ui  # noqa: E402

# Every change of Streamlit's script state, with the page's clock: a run that is over within one poll
# is still seen, and an action that starts no run (a widget inside a form) is told from a slow one.
WATCH = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window._states = [];
  window._watch?.disconnect();
  window._watch = new MutationObserver(() =>
    window._states.push([performance.now(), app.getAttribute('data-test-script-state')]));
  window._watch.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  return performance.now();
}"""
NO_RUN = "no rerun"
STATE = "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')"


def run_over(page, started: float, timeout: float = 120) -> float | str:
    """Seconds from `started` (the page's clock, from WATCH) until the script run that the action began is
    over; NO_RUN if no run began within 1.5 s."""
    first = f"window._states.find(s => s[0] >= {started} && s[1] === 'running')"
    try:
        page.wait_for_function(f"!!{first}", timeout=1500, polling=20)
    except Exception:  # noqa: BLE001 — Playwright's timeout: the action started no run
        return NO_RUN
    over = f"window._states.find(s => s[0] >= {first}[0] && s[1] === 'notRunning')"
    page.wait_for_function(f"!!{over}", timeout=timeout * 1000, polling=20)
    return (page.evaluate(f"{over}[0]") - started) / 1000


def visible(locator):
    """The first visible element of a locator (a slider in a closed tab or expander is not), or None."""
    return next((locator.nth(i) for i in range(locator.count()) if locator.nth(i).is_visible()), None)


def first_slider(page) -> float | str | None:
    s = visible(page.get_by_test_id("stMainBlockContainer").get_by_role("slider"))
    if s is None:
        return None
    s.focus()
    at_max = s.get_attribute("aria-valuenow") == s.get_attribute("aria-valuemax")
    t = page.evaluate(WATCH)
    s.press(
        "ArrowLeft" if at_max else "ArrowRight"
    )  # a move that changes the value (one at its end would not)
    return run_over(page, t)


def first_select(page) -> float | str | None:
    box = visible(page.get_by_test_id("stMainBlockContainer").locator('[data-testid="stSelectbox"]'))
    if box is None:
        return None
    box.locator("input, [role=combobox]").first.click()
    options = page.locator('[role="option"]')
    try:
        options.first.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 — a disabled box opens no list
        return None
    if options.count() < 2:
        page.keyboard.press("Escape")
        return None
    t = page.evaluate(WATCH)
    options.nth(1).click()
    return run_over(page, t)


def fmt(v: float | str | None) -> str:
    return "–" if v is None else v if isinstance(v, str) else f"{v:.1f} s"


def main() -> None:
    from playwright.sync_api import sync_playwright

    runs = Path(tempfile.mkdtemp(prefix="bench-first-")) / "runs"
    shutil.copytree(ROOT / "saved_models", runs)
    print(f"# {os.cpu_count()} CPUs, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    server = StreamlitServer(runs, runs.parent / "streamlit.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            t = time.perf_counter()
            page.goto(server.url)
            nav_links(page).first.wait_for(timeout=120_000)
            page.wait_for_function(f"{STATE} === 'notRunning'", timeout=120_000, polling=20)
            print(f"Home, first open: {fmt(time.perf_counter() - t)}")
            print("| page (first open after Home) | open | first slider moved | first select box changed |")
            print("|---|---|---|---|")
            for site in ui.SITE:
                if site.key == "home":
                    continue
                t = page.evaluate(WATCH)
                nav_links(page).filter(has_text=site.title).first.click()
                page.locator("h1", has_text=site.title).first.wait_for(timeout=120_000)
                opened = run_over(page, t)
                slider, select = first_slider(page), first_select(page)
                print(f"| {site.title} | {fmt(opened)} | {fmt(slider)} | {fmt(select)} |", flush=True)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(runs.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
