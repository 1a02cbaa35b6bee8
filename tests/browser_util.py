"""Helpers for the Playwright browser tests: a real `streamlit run app.py` on a free port and Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHOTS = ROOT / "test-artifacts" / "screenshots"


def require_chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    msg = f"Chromium not found at {CHROMIUM}: install Debian's chromium package (make test does)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_shipped_runs(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for p in (ROOT / "saved_models").glob("ref-*"):
        shutil.copytree(p, dst / p.name)
    return dst


class StreamlitServer:
    def __init__(self, runs_dir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FMNIST_RUNS_DIR": str(runs_dir)}
        self.log = open(log, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(self.port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"streamlit did not start; see {log}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wait_idle(page, settle: float = 1.0, timeout: float = 120) -> None:
    """Wait until Streamlit has finished running the script (the status widget is gone)."""
    deadline = time.time() + timeout
    time.sleep(0.5)
    while time.time() < deadline:
        running = page.locator('[data-testid="stStatusWidget"]').count()
        if not running:
            time.sleep(settle)
            if not page.locator('[data-testid="stStatusWidget"]').count():
                return
        time.sleep(0.3)


def nav_links(page):
    """The app's own navigation: the st.page_link list that app_support.frame() draws in the sidebar."""
    return page.locator('[data-testid="stSidebar"] [data-testid="stPageLink"]')


def goto(page, label: str) -> None:
    """Open a page from the sidebar, as a user would."""
    nav_links(page).get_by_text(label, exact=True).click()
    page.wait_for_timeout(500)
    wait_idle(page)


def url_path(path: str) -> str:
    """The URL path Streamlit gives a page file: "" for app.py (Home), the file name for pages/NAME.py."""
    return "" if path == "app.py" else Path(path).stem


def check_frame(page, title: str, h1: str) -> None:
    """What every page shows however it was opened: the sidebar with the app's own navigation (and
    not Streamlit's list of files), the device line, the page's title, and the wide layout."""
    import app_support as ui

    assert page.locator('[data-testid="stSidebarNav"]').count() == 0, "Streamlit's own page list is shown"
    links = nav_links(page)
    for p in ui.SITE:
        assert links.get_by_text(p.title, exact=True).is_visible(), f"no sidebar link to {p.title}"
    page.locator('[data-testid="stSidebar"]').get_by_text("Device").first.wait_for(timeout=60_000)
    assert page.locator("h1").first.inner_text().strip() == h1
    assert page.title() == title
    assert page.locator('[data-testid="stAppViewContainer"]').get_attribute("data-layout") == "wide"


def no_exception(page) -> None:
    errs = page.locator('[data-testid="stException"]')
    assert errs.count() == 0, errs.first.inner_text()[:500]


def screenshot(page, name: str) -> Path:
    """A full-height screenshot (Streamlit scrolls inside its main element, so grow the viewport)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    h = page.evaluate(
        "() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
        " return m ? m.scrollHeight : 800; }"
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(800, min(int(h) + 40, 8000))})
    page.wait_for_timeout(1500)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
