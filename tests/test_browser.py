"""A real browser (Debian's Chromium via Playwright) against `streamlit run app.py`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_util import (
    CHROMIUM_ARGS,
    SHOTS,
    StreamlitServer,
    check_frame,
    copy_shipped_runs,
    goto,
    nav_links,
    no_exception,
    require_chromium,
    screenshot,
    url_path,
    wait_idle,
)

import app_support as ui

pytestmark = pytest.mark.browser

TAB_TITLE = {p.key: ui.APP_TITLE if p.key == "home" else f"{p.title} · {ui.APP_TITLE}" for p in ui.SITE}
H1 = {p.key: ui.APP_TITLE if p.key == "home" else p.title for p in ui.SITE}


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
    nav_links(pg).first.wait_for()
    wait_idle(pg)
    yield pg
    ctx.close()


@pytest.mark.parametrize("site_page", ui.SITE, ids=[p.key for p in ui.SITE])
def test_a_cold_deep_link_shows_the_frame(tmp_path, site_page):
    """Each page opened by its URL (/compare, ...) as the first request to a freshly started server: the
    page file runs without app.py, and still has the sidebar, its title and the wide layout."""
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    srv = StreamlitServer(copy_shipped_runs(tmp_path / "runs"), tmp_path / "streamlit.log")
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            pg = b.new_page(viewport={"width": 1280, "height": 800})
            pg.set_default_timeout(120_000)
            pg.goto(f"{srv.url}/{url_path(site_page.path)}")
            pg.locator("h1").first.wait_for()
            wait_idle(pg)
            no_exception(pg)
            check_frame(pg, TAB_TITLE[site_page.key], H1[site_page.key])
            b.close()
    finally:
        srv.stop()


def test_every_page_renders_from_the_sidebar_and_is_screenshotted(page):
    for p in ui.SITE:
        goto(page, p.title)
        no_exception(page)
        check_frame(page, TAB_TITLE[p.key], H1[p.key])
        path = screenshot(page, f"page-{p.key}-light-1280")
        assert path.stat().st_size > 10_000
    print(f"\nscreenshots in {SHOTS}")


@pytest.mark.parametrize("scheme,width", [("dark", 1280), ("light", 390), ("dark", 390)])
def test_every_page_in_dark_and_on_a_phone(browser, server, scheme, width):
    """The app follows the system's light or dark setting; every page drawn at 1280 px and at a phone's
    390 px, each kept as a screenshot (test-artifacts/screenshots/page-KEY-SCHEME-WIDTH.png) to look at."""
    ctx = browser.new_context(
        viewport={"width": width, "height": 800 if width > 500 else 844}, color_scheme=scheme
    )
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    try:
        for p in ui.SITE:
            pg.goto(f"{server.url}/{url_path(p.path)}")
            pg.locator("h1").first.wait_for()
            wait_idle(pg)
            no_exception(pg)
            assert pg.locator("h1").first.inner_text().strip() == H1[p.key]
            background = pg.evaluate(
                "() => getComputedStyle(document.querySelector('[data-testid=\"stApp\"]')).backgroundColor"
            )
            rgb = [int(v) for v in re.findall(r"\d+", background)[:3]]
            assert (sum(rgb) / 3 < 100) == (scheme == "dark"), (scheme, background)
            screenshot(pg, f"page-{p.key}-{scheme}-{width}")
    finally:
        ctx.close()


def start_and_see_the_job(page, server) -> None:
    """Press Start training and wait for the live epoch line; on failure say what the page and server showed.

    A click that lands while the job monitor's one-second fragment is rerunning can be dropped by Streamlit
    (the page then still says "No job yet"); a person clicks again, and so does this test: the queue returns
    the job already queued for an identical spec, so a second click never starts a second run."""
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_role("button", name="Start training").click()
    try:
        page.get_by_text("No job yet").first.wait_for(state="hidden", timeout=20_000)
    except Exception:
        main.get_by_role("button", name="Start training").click()
    try:
        page.get_by_text(re.compile(r"epoch \d+/100 · batch")).first.wait_for(timeout=180_000)
    except Exception as e:
        log = Path(server.log.name).read_text()[-3000:]
        shown = main.inner_text()[:3000]
        raise AssertionError(f"no live epoch line; the page showed:\n{shown}\n--- server log:\n{log}") from e


def test_train_watch_stop_and_compare(page, server):
    goto(page, "Train")
    # 10% of the training set (the fourth option) for 100 epochs: long enough to be stopped by hand on any
    # machine (1% for 20 epochs could finish before the page showed its first epoch)
    fraction = page.locator('[data-testid="stSlider"]', has_text="Training-set fraction").get_by_role(
        "slider"
    )
    fraction.focus()
    fraction.press("Home")
    for _ in range(3):
        fraction.press("ArrowRight")
    epochs = page.locator('[data-testid="stSlider"]', has_text="Epochs").get_by_role("slider")
    epochs.focus()
    epochs.press("End")
    wait_idle(page)
    assert "10%" in page.locator('[data-testid="stSlider"]', has_text="Training-set fraction").inner_text()
    start_and_see_the_job(page, server)
    # the curves appear after the first epoch, without any reload
    page.get_by_text(re.compile(r"Epoch \d+ · train loss")).first.wait_for(timeout=180_000)
    page.locator(".js-plotly-plot").first.wait_for()
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
    canvas = page.locator("canvas.upper-canvas").first  # fabric.js draws on its upper canvas
    canvas.wait_for()
    box = canvas.bounding_box()
    # a rough T-shirt: shoulders, body, sleeves
    strokes = [
        [(80, 60), (200, 60)],
        [(80, 60), (40, 110)],
        [(200, 60), (240, 110)],
        [(100, 65), (100, 230), (180, 230), (180, 65)],
    ]
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
    ImageDraw.Draw(img).rectangle([120, 40, 280, 260], fill=(30, 30, 30))  # a dark bag-like block on white
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


def _picked(page, label: str) -> str:
    """The run id a run picker shows (its label starts with the run's name)."""
    return page.get_by_role("combobox", name=label).first.input_value().split(" · ")[0].strip()


def _metric_run(page, prefix: str) -> str:
    text = page.locator('[data-testid="stMetric"]', has_text=f"{prefix} · ").first.inner_text()
    return re.search(rf"{prefix} · (\S+)", text).group(1)


def test_confusion_compare_names_the_runs_it_shows(page):
    """The partner box names the run whose numbers stand beside it, also after the classifier changes
    (a box kept across classifiers once showed its old choice's name beside another run's figures)."""
    goto(page, "Confusion & errors")
    page.get_by_role("tab", name="Compare two runs").click()
    wait_idle(page)
    first = _picked(page, "Classifier")
    assert _metric_run(page, "A") == first
    assert _metric_run(page, "B") == _picked(page, "Compare with") != first
    page.locator('[data-testid="stSelectbox"]', has_text="Classifier").first.get_by_role("button").click()
    options = page.get_by_role("option")
    other = next(t for t in options.all_inner_texts() if not t.startswith(first + " "))
    options.filter(has_text=other).first.click()
    wait_idle(page)
    second = _picked(page, "Classifier")
    assert second != first
    page.get_by_role("tab", name="Compare two runs").click()
    wait_idle(page)
    no_exception(page)
    assert _metric_run(page, "A") == second
    assert _metric_run(page, "B") == _picked(page, "Compare with") != second
    screenshot(page, "confusion-compare")


def test_a_click_on_the_latent_map_shows_the_image_and_moves_the_decoder(page):
    goto(page, "Latent space")
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    wait_idle(page)
    x_value = page.locator('[data-testid="stSlider"]', has_text="PC 1").get_by_test_id("stSliderThumbValue")
    before = x_value.inner_text()
    point = chart.locator("g.scatterlayer path.point").nth(100)
    point.click(force=True)
    page.get_by_text(re.compile(r"Test image #\d+")).first.wait_for(timeout=60_000)
    wait_idle(page)
    no_exception(page)
    assert x_value.inner_text() != before
    screenshot(page, "latent-clicked")
