"""How long a user waits: each page action of issue 8's table, timed on the shipped runs.

    .venv/bin/python scripts/bench_pages.py [--full] [--skip-startup]

Prints one line per action with the seconds it took and the budget. Pages are driven by Streamlit's
AppTest in this process (one script run per action, as a browser's rerun); start-up is a real
`streamlit run` opened in Chromium. The shipped runs are copied to a temporary runs folder first, so
nothing in saved_models/ changes. A benchmark, not a test: it prints figures and sets no limits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def line(what: str, seconds: float, budget: str, note: str = "") -> None:
    print(f"{what:<58} {seconds:7.2f} s   budget {budget:<8} {note}", flush=True)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def startup(runs: Path) -> None:
    """Seconds from `make run`'s command (`streamlit run app.py`) to Home drawn, its sample images visible,
    in a browser that was already open (as a user's is)."""
    import subprocess
    import urllib.request

    from browser_util import CHROMIUM, CHROMIUM_ARGS, free_port
    from playwright.sync_api import sync_playwright

    port = free_port()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        t0 = time.perf_counter()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.headless",
                "true",
            ],
            cwd=ROOT,
            env={**os.environ, "FMNIST_RUNS_DIR": str(runs)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                    break
                except OSError:
                    time.sleep(0.05)
            up = time.perf_counter() - t0
            page.goto(f"http://127.0.0.1:{port}")
            page.locator('[data-testid="stImage"]').first.wait_for(timeout=120_000)
            drawn = time.perf_counter() - t0
        finally:
            server.terminate()
            server.wait(10)
            browser.close()
    line(
        "start the app until Home is usable (sample images drawn)",
        drawn,
        "< 5 s",
        f"server up after {up:.2f} s",
    )


def pages() -> None:
    from streamlit.testing.v1 import AppTest

    import app_support as ui

    app = str(ROOT / "app.py")

    def page(name: str, **state) -> tuple[AppTest, float]:
        at = AppTest.from_file(app, default_timeout=600)
        at.switch_page(ui.PAGES[name])
        for k, v in state.items():
            at.session_state[k] = v
        return at, timed(at.run)

    def check(at: AppTest) -> None:
        problems = [e.value for e in at.exception] + [e.value for e in at.error]
        if problems:
            raise SystemExit(f"the page failed: {problems[0]}")

    at, s = page("home")
    check(at)
    line("open Home in a fresh process (imports, dataset)", s, "")
    at, s = page("reconstructions")
    check(at)
    line("open Reconstructions & denoising (first time)", s, "< 3 s")
    at, s = page("reconstructions")
    line("open Reconstructions & denoising (again, new session)", s, "< 3 s")
    slider = at.slider(key="rc_level_gaussian")
    moves = []
    for v in (0.4, 0.5, 0.35):
        slider = at.slider(key="rc_level_gaussian")
        moves.append(timed(lambda: slider.set_value(v).run()))
        check(at)
    line(
        "move the noise-level slider (mean of 3 moves)",
        sum(moves) / len(moves),
        "< 1 s",
        "each: " + ", ".join(f"{m:.2f}" for m in moves),
    )
    aes = [r.run_id for r in ui.runs(ui.AUTOENCODERS)][:3]
    at.multiselect(key="rc_runs").set_value(aes).run()
    check(at)
    kinds = []
    for kind in ("salt_pepper", "mask", "gaussian_image"):
        box = at.selectbox(key="rc_noise")
        kinds.append(timed(lambda: box.set_value(kind).run()))
        check(at)
    line(
        f"change the noise kind with {len(aes)} autoencoders picked (mean of 3)",
        sum(kinds) / len(kinds),
        "< 1 s",
        "each: " + ", ".join(f"{m:.2f}" for m in kinds),
    )
    at, s = page("confusion")
    check(at)
    line("open Confusion & errors (first time)", s, "< 3 s")
    at, s = page("confusion")
    line("open Confusion & errors (again, new session)", s, "< 3 s")
    cells = []
    for t, p in (("Shirt", "T-shirt/top"), ("Coat", "Pullover"), ("Trouser", "Trouser")):
        at.session_state["cf_true"], at.session_state["cf_pred"] = t, p
        cells.append(timed(at.run))
        check(at)
    line(
        "pick another cell of the matrix (mean of 3)",
        sum(cells) / len(cells),
        "< 1 s",
        "each: " + ", ".join(f"{m:.2f}" for m in cells),
    )


BEYOND_PCA = [f"study-beyond-pca-b64-n{n}-s0" for n in (32, 64, 128)]  # shipped with weights


def beyond_pca() -> None:
    """The inspect pages with the autoencoders that beat PCA picked (padded, 216k-parameter networks: more
    to compute per image than the reports')."""
    from streamlit.testing.v1 import AppTest

    import app_support as ui

    have = [r for r in BEYOND_PCA if (ui.registry().path(r) / "weights.pt").exists()]
    if not have:
        print("# no beyond-pca autoencoders with weights in saved_models: section left out")
        return
    n64 = next((r for r in have if "-n64-" in r), have[0])

    def run(page: str, **state) -> tuple[AppTest, float]:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.switch_page(ui.PAGES[page])
        for k, v in state.items():
            at.session_state[k] = v
        return at, timed(at.run)

    at, s = run("reconstructions", rc_runs=have)
    line(f"open Reconstructions with the {len(have)} beats-PCA autoencoders", s, "< 3 s")
    moves = [
        timed(lambda v=v: at.slider(key="rc_level_gaussian").set_value(v).run()) for v in (0.4, 0.5, 0.35)
    ]
    line("  move the noise level (mean of 3)", sum(moves) / 3, "< 1 s", ", ".join(f"{m:.2f}" for m in moves))
    at, s = run("latent", lt_run=n64)
    line(f"open Latent space with {n64}", s, "< 3 s")
    at, s = run("classify", cl_ae=n64, cl_source="Test image")
    line(f"open Classify (a test image) with {n64} judging familiarity", s, "< 3 s")


def quick_run(full: bool) -> None:
    """The Train page's promise for a run, then the run itself through the page's job queue."""
    from streamlit.testing.v1 import AppTest

    import app_support as ui

    cases = [("conv autoencoder, 1% of the data (600 images), 3 epochs", {"t_fraction": 0.01, "t_epochs": 3})]
    if full:
        cases.append(("conv autoencoder, all 60,000 images, 2 epochs", {"t_fraction": 1.0, "t_epochs": 2}))
    for what, state in cases:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        at.switch_page(ui.PAGES["train"])
        at.run()
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        promise, deadline = None, time.monotonic() + 60
        while promise is None and time.monotonic() < deadline:  # timed in the background, shown when ready
            promise = next((c.value for c in at.caption if "About **" in c.value), None)
            if promise is None:
                time.sleep(0.2)
                at.run()
        promise = promise or "no estimate shown"
        at.button[0].click().run()
        job = ui.job_queue().get(at.session_state["t_job"])
        ui.job_queue().wait([job.job_id], evaluated=True)
        took = job.finished - job.started
        per_epoch = [h["epoch_seconds"] for h in job.history]
        line(
            f"{what}: per epoch",
            sum(per_epoch) / max(len(per_epoch), 1),
            "< 1 s" if not full or "1%" in what else "",
            "epochs: " + ", ".join(f"{e:.2f}" for e in per_epoch),
        )
        line(
            f"  the job from start to end ({job.status})",
            took,
            "",
            f"the page promised: {promise.strip('*')}",
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--full", action="store_true", help="also time a 2-epoch run on all 60,000 images (~1-2 min)"
    )
    p.add_argument("--skip-startup", action="store_true", help="leave out the browser start-up figure")
    a = p.parse_args()
    runs = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    for d in [*(ROOT / "saved_models").glob("ref-*"), *((ROOT / "saved_models" / r) for r in BEYOND_PCA)]:
        if d.exists():
            shutil.copytree(d, runs / d.name)
    os.environ["FMNIST_RUNS_DIR"] = str(runs)
    import torch

    print(
        f"# {os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} torch threads, "
        f"load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}; runs copied to {runs}"
    )
    try:
        if not a.skip_startup:
            startup(runs)
        pages()
        beyond_pca()
        quick_run(a.full)
    finally:
        shutil.rmtree(runs, ignore_errors=True)


if __name__ == "__main__":
    main()
