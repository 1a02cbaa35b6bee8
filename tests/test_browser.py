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


def test_draw_a_stroke_and_see_probabilities(page):
    goto(page, "Classify your image")
    canvas = page.locator("canvas.upper-canvas").first   # fabric.js draws on its upper canvas
    canvas.wait_for()
    box = canvas.bounding_box()
    # a rough T-shirt: shoulders, body, sleeves
    strokes = [[(80, 60), (200, 60)], [(80, 60), (40, 110)], [(200, 60), (240, 110)],
               [(100, 65), (100, 230), (180, 230), (180, 65)]]
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()
    page.get_by_text(re.compile(r" says ")).first.wait_for(timeout=60_000)
    wait_idle(page)
    no_exception(page)
    assert page.get_by_text("What the models receive, 28×28").is_visible()
    screenshot(page, "classify-drawn")


def test_upload_an_image_and_a_bad_file(page, tmp_path):
    from PIL import Image, ImageDraw
    img = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(img).rectangle([120, 40, 280, 260], fill=(30, 30, 30))   # a dark bag-like block on white
    good = tmp_path / "photo.jpg"
    img.save(good)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not a picture")
    goto(page, "Classify your image")
    page.locator("[data-testid=stButtonGroup] button").filter(has_text="Upload").click()
    wait_idle(page)
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_text(re.compile(r" says ")).first.wait_for(timeout=60_000)
    assert page.get_by_text(re.compile("inverted a light background")).first.is_visible()
    no_exception(page)
    screenshot(page, "classify-uploaded")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_text(re.compile(r"notes\.png: this file is not an image")).first.wait_for(timeout=60_000)
    no_exception(page)


def test_noise_slider_changes_the_reconstructions(page):
    goto(page, "Reconstructions & denoising")
    no_exception(page)
    level = page.locator('[data-testid="stSlider"]', has_text="Level")
    slider = level.get_by_role("slider")
    before = level.get_by_test_id("stSliderThumbValue").inner_text()
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    wait_idle(page, settle=2)
    after = level.get_by_test_id("stSliderThumbValue").inner_text()
    assert float(after) > float(before)
    no_exception(page)
    assert page.locator(".js-plotly-plot").count() >= 3
    screenshot(page, "reconstructions-noisier")
