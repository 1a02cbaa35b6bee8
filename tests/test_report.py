"""A study as a report (issue 24): the HTML of a shipped study is one self-contained file under 8 MB that
draws every figure with the network cut off and shows the Studies view's numbers; run-folder strings are
escaped; the PDF holds the tables' numbers; the command line refuses bad input in one line."""

from __future__ import annotations

import json
import re
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from browser_util import CHROMIUM_ARGS, SHOTS, require_chromium
from pdf_text import pdf_text

from fmnist_core import Registry
from fmnist_core.cli import main
from fmnist_core.report import ChromiumMissing, find_chromium, print_pdf, report_html
from fmnist_core.report.html import columns, esc, plotly_js
from fmnist_core.selection import figure_label
from fmnist_core.studies import STUDIES, build_view, compute_extras, get_study, plan_study

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "saved_models"
STUDY = "c"  # 24 runs, two tables and two figures; label-norelu is the largest (61 runs, 100-epoch histories)
LIMIT = 8_000_000
HOSTILE = "<script>window.pwned=1</script>"


def copy_study(name: str, dst: Path) -> Path:
    """The shipped runs a study reads (its own and the reference runs), copied: saved_models stays as it is."""
    dst.mkdir(parents=True, exist_ok=True)
    for p in [*SHIPPED.glob(f"study-{name}-*"), *SHIPPED.glob("ref-*")]:
        shutil.copytree(p, dst / p.name)
    return dst


def study_report(name: str, runs: Path, ds):
    """The study's view as the Studies page builds it, and its report."""
    study, registry = get_study(name), Registry(runs)
    plan = plan_study(study, registry)
    view = build_view(study, plan, compute_extras(study, plan, registry, lambda: ds))
    return plan, view, report_html(study, plan, view)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, ds):
    runs = copy_study(STUDY, tmp_path_factory.mktemp("report") / "runs")
    plan, view, html = study_report(STUDY, runs, ds)
    path = runs.parent / f"report-{STUDY}.html"
    path.write_text(html, encoding="utf-8")
    return plan, view, html, path


def norm(text: str) -> str:
    """Text as compared across HTML, browser and PDF: ligatures unfolded, no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# -- the file -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [STUDY, "label-norelu"])
def test_the_html_is_self_contained_and_under_8_mb(name, tmp_path, ds):
    plan, view, html = study_report(name, copy_study(name, tmp_path / "runs"), ds)
    assert plan.count("done") == len(plan.runs) > 20
    size = len(html.encode("utf-8"))
    assert size < LIMIT, f"{name}: {size / 1e6:.1f} MB"
    assert html.count(plotly_js()) == 1, "plotly.js is inlined exactly once"
    rest = html.replace(plotly_js(), "")  # plotly.js's own code names URLs it never fetches here
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.I), "a link out of the file"
    assert not re.search(r"<link\b|@import|url\(\s*['\"]?https?:", rest, re.I)
    assert all(src.startswith("data:") for src in re.findall(r"<img[^>]*\ssrc=\"([^\"]*)\"", rest))
    assert rest.count('class="report-figure"') == len(view.figures) > 0
    assert all(esc(t.title) in rest for t in view.tables)


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_reports_before_any_run_exists(name, tmp_path):
    """The method (each architecture, training setup and seed count) comes from the study's plan alone."""
    study = get_study(name)
    plan = plan_study(study, Registry(tmp_path / "runs"))
    html = report_html(study, plan, build_view(study, plan))
    assert "Model 1" in html and "Setup 1" in html and "No finished runs" in html
    assert f"0 of {len(plan.runs)} runs done" in html


def test_the_method_comes_from_the_runs_records(shipped):
    plan, _, html, _ = shipped
    split = {r.info.config["data"]["split_id"] for r in plan.runs if r.info is not None}
    assert split == {"7b66f1e6b2f9"}
    for words in (
        "7b66f1e6b2f9",
        "54,000 training / 6,000 held-out images",
        "lowest held-out loss",
        "read once",
        "3 seeds (0–2)",
        "Latent size n",  # the settings schema's labels
        "Early-stopping patience",
        "Code commit",
        "Runs trained on",
    ):
        assert words in html, words
    for r in plan.runs:  # the appendix: every run's id and its history
        assert f"· {r.run_id} ·" in html, r.run_id


def test_run_folder_strings_are_escaped(tmp_path, ds):
    runs = copy_study(STUDY, tmp_path / "runs")
    reg = Registry(runs)
    reg.rename("study-c-ae1-s0", HOSTILE)
    cfg_path = runs / "study-c-c5-s0" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["command"] = '"><img src=x onerror="window.pwned=2">'
    cfg_path.write_text(json.dumps(cfg))
    _, _, html = study_report(STUDY, runs, ds)
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=&quot;window.pwned=2&quot;&gt;" in html
    (tmp_path / "hostile.html").write_text(html, encoding="utf-8")


# -- in a browser, offline ------------------------------------------------------------------------------
def _open_offline(browser, path: Path, width: int):
    """The file in a fresh page with every request outside file:// refused; what went wrong, counted."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: dict[str, list[str]] = {"blocked": [], "failed": [], "console": []}

    def route(r):
        if r.request.url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            problems["blocked"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda req: problems["failed"].append(req.url))
    page.on("console", lambda m: problems["console"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems["console"].append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.browser
def test_offline_it_draws_every_figure_and_shows_the_views_numbers(shipped, browser):
    _, view, _, path = shipped
    for width in (1280, 390):
        page, problems = _open_offline(browser, path, width)
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(view.figures)}"
        )
        assert page.locator(".js-plotly-plot").count() == len(view.figures)
        shown = page.evaluate(
            """() => [...document.querySelectorAll('table.result')].map(t => ({
                head: [...t.querySelectorAll('thead th')].map(th => th.textContent),
                rows: [...t.querySelectorAll('tbody tr')].map(tr => [...tr.cells].map(td => td.textContent)),
            }))"""
        )
        assert shown == [
            {"head": columns(t.rows), "rows": [[r.get(c, "") for c in columns(t.rows)] for r in t.rows]}
            for t in view.tables
        ]
        # at phone width the page itself does not scroll sideways: wide tables scroll in their own box
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"report-{STUDY}-{width}.png"), full_page=True)
        assert problems == {"blocked": [], "failed": [], "console": []}
        page.close()


@pytest.mark.browser
def test_a_hostile_run_name_does_not_run(tmp_path, ds, browser):
    test_run_folder_strings_are_escaped(tmp_path, ds)
    page, problems = _open_offline(browser, tmp_path / "hostile.html", 1280)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert page.evaluate("window.pwned") is None
    assert page.get_by_text(HOSTILE).count() >= 1  # shown as text
    assert problems["console"] == []
    page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_pdf_holds_the_tables_numbers(shipped, tmp_path):
    _, view, html, _ = shipped
    out = tmp_path / "report.pdf"
    size = print_pdf(html, out, require_chromium())
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and size == len(data) < LIMIT
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert boxes and all(round(float(w)) == 596 and round(float(h)) == 843 for w, h in boxes)  # A4 in points
    text = norm(pdf_text(out))
    for t in view.tables:
        for row in t.rows:
            for value in row.values():
                assert norm(value) in text, (t.title, value)
    assert norm("Appendix: the runs") in text and norm("study-c-c8-s2") in text


# -- the command line -----------------------------------------------------------------------------------
def _one_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_the_cli_refuses_bad_input_in_one_line(tmp_path, capsys, monkeypatch):
    runs = ["--runs-dir", str(tmp_path / "runs")]
    assert "unknown study 'nope'" in _one_error(capsys, ["report", "nope", *runs])
    assert "does not exist" in _one_error(
        capsys, ["report", "c", "--out", str(tmp_path / "no" / "r.html"), *runs]
    )
    a_file = tmp_path / "file"
    a_file.write_text("")
    assert "does not exist" in _one_error(capsys, ["report", "c", "--out", str(a_file / "r.html"), *runs])
    assert "is a folder" in _one_error(capsys, ["report", "c", "--out", str(tmp_path), *runs])
    assert "--pdf" in _one_error(capsys, ["report", "c", "--pdf", str(tmp_path / "no" / "r.pdf"), *runs])
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    err = _one_error(capsys, ["report", "c", "--pdf", str(tmp_path / "r.pdf"), *runs])
    assert "sudo apt-get install chromium" in err and "CHROMIUM=" in err
    assert not (tmp_path / "r.pdf").exists() and not list(tmp_path.glob("*.html"))


def test_chromium_missing_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "none"))
    with pytest.raises(ChromiumMissing, match="apt-get install chromium"):
        find_chromium()


def test_the_cli_writes_the_report(tmp_path, capsys, monkeypatch):
    runs = copy_study(STUDY, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    assert main(["report", STUDY, "--runs-dir", str(runs)]) == 0
    out = tmp_path / f"report-{STUDY}.html"
    assert f"wrote report-{STUDY}.html" in capsys.readouterr().out
    assert out.stat().st_size < LIMIT and "Table 2." in out.read_text()


# -- the Studies page ----------------------------------------------------------------------------------
def open_page(page: str, tmp_path: Path, monkeypatch):
    """The app in AppTest on a copy of the study's runs, switched to `page`."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT))
    import app_support as ui

    monkeypatch.setenv("FMNIST_RUNS_DIR", str(copy_study(STUDY, tmp_path / "runs")))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(ui.PAGES[page])
    at.run(timeout=120)
    return at


@pytest.mark.slow
def test_the_studies_page_offers_the_report(tmp_path, monkeypatch):
    at = open_page("studies", tmp_path, monkeypatch)
    at.selectbox(key="s_study").set_value(STUDY).run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    buttons = [b for b in at.get("download_button") if b.proto.label == "Download report"]
    assert len(buttons) == 1


@pytest.mark.browser
@pytest.mark.slow
def test_the_download_button_gives_the_report(tmp_path, browser):
    """On the running app: the button writes the report when clicked, and the browser saves it."""
    from browser_util import StreamlitServer, wait_idle

    srv = StreamlitServer(copy_study("a1", tmp_path / "runs"), tmp_path / "streamlit.log")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        page.set_default_timeout(180_000)
        page.goto(f"{srv.url}/studies")
        button = page.get_by_role("button", name="Download report")
        button.wait_for()
        wait_idle(page)
        with page.expect_download() as download:
            button.click()
        assert download.value.suggested_filename == "report-a1.html"
        html = Path(download.value.path()).read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and "study a1" in html and html.count(plotly_js()) == 1
        page.close()
    finally:
        srv.stop()


# -- a selection of runs (Compare) -------------------------------------------------------------------------
PICKED = ["ref-a-clf-base", "ref-a-clf-random", "study-c-ae1-s1", "study-c-ae1-s2"]


def test_the_cli_reports_runs_picked_by_name(tmp_path, capsys, monkeypatch):
    runs = copy_study(STUDY, tmp_path / "runs")
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--runs", *PICKED, "--runs-dir", str(runs)]) == 0
    assert "wrote report-runs.html" in capsys.readouterr().out
    html = (tmp_path / "report-runs.html").read_text()
    assert "runs picked on Compare" in html and html.count(plotly_js()) == 1
    reg = Registry(runs)
    for run_id in PICKED:  # each run's test figure, as its summary has it, in Table 1
        assert run_id in html and figure_label(reg.info(run_id), digits=2) in html
    assert "Runs that differ only in their seed" in html  # AE 1's two seeds: a mean ± CI
    argv = ["--runs-dir", str(runs)]
    assert "not both" in _one_error(capsys, ["report", STUDY, "--runs", PICKED[0], *argv])
    assert "not both" in _one_error(capsys, ["report", *argv])
    assert "no run 'nope'" in _one_error(capsys, ["report", "--runs", PICKED[0], "nope", *argv])


@pytest.mark.browser
def test_a_selection_report_draws_offline(tmp_path, ds, browser):
    from fmnist_core.report.selection import selection_plan, selection_report, selection_view

    reg = Registry(copy_study(STUDY, tmp_path / "runs"))
    picked = [reg.info(r) for r in PICKED]
    path = tmp_path / "report-runs.html"
    path.write_text(selection_report(picked), encoding="utf-8")
    view = selection_view(selection_plan(picked))
    page, problems = _open_offline(browser, path, 1280)
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {len(view.figures)}"
    )
    assert len(view.figures) == 2 and page.locator("table.result").count() == len(view.tables) == 2
    assert problems == {"blocked": [], "failed": [], "console": []}
    page.close()


def test_compare_offers_a_report_of_the_plotted_runs(tmp_path, monkeypatch):
    at = open_page("compare", tmp_path, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    (button,) = [b for b in at.get("download_button") if b.proto.label.startswith("Download a report of th")]
    assert button.proto.label == "Download a report of these 2 runs"  # the default pair is plotted
