"""A real browser (Debian's Chromium via Playwright) against `streamlit run app.py`."""
from __future__ import annotations

import re

import pytest

from browser_util import (CHROMIUM_ARGS, SHOTS, StreamlitServer, copy_shipped_runs, goto, no_exception,
                          require_chromium, screenshot, wait_idle)

pytestmark = pytest.mark.browser

PAGES = ["Home", "Train", "Compare runs", "Studies", "Reconstructions & denoising", "Confusion & errors",
         "Classify your image"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    chromium = require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    srv = StreamlitServer(copy_shipped_runs(tmp / "runs"), tmp / "streamlit.log")
    srv.chromium = chromium
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=server.chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server.url)
    pg.wait_for_selector('[data-testid="stSidebarNav"]')
    wait_idle(pg)
    yield pg
    ctx.close()


def test_every_page_renders_and_is_screenshotted(page):
    for label in PAGES:
        goto(page, label)
        no_exception(page)
        assert page.locator("h1").first.is_visible()
        path = screenshot(page, "page-" + re.sub(r"[^a-z]+", "-", label.lower()).strip("-"))
        assert path.stat().st_size > 10_000
    print(f"\nscreenshots in {SHOTS}")


def test_train_watch_stop_and_compare(page):
    goto(page, "Train")
    # 1% of the training set for a quick run: the select-slider's thumb, then Home = first option
    fraction = page.locator('[data-testid="stSlider"]', has_text="Training-set fraction").get_by_role("slider")
    fraction.focus()
    fraction.press("Home")
    wait_idle(page)
    assert "1%" in page.locator('[data-testid="stSlider"]', has_text="Training-set fraction").inner_text()
    page.get_by_role("button", name="Start training").click()
    page.get_by_text(re.compile(r"epoch \d+/20 · batch")).first.wait_for(timeout=120_000)
    # the curves appear after the first epoch, without any reload
    page.get_by_text(re.compile(r"Epoch 1 · train loss")).first.wait_for(timeout=180_000)
    page.locator('.js-plotly-plot').first.wait_for()
    screenshot(page, "train-running")
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop", exact=True).click()
    done = page.get_by_text(re.compile(r"Run .* was stopped; its best weights are saved"))
    done.wait_for(timeout=120_000)
    run_id = re.search(r"Run (\S+) was stopped", done.inner_text()).group(1)
    screenshot(page, "train-stopped")
    goto(page, "Compare runs")
    no_exception(page)
    # the newest run is plotted by default: its name is in the legend
    page.locator("g.legend text", has_text=run_id).first.wait_for(timeout=60_000)
    screenshot(page, "compare-after-training")
