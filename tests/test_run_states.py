"""Runs in every state on every page and command (issue 21): a runs folder of real, tiny runs, edited into
each state a run folder can be in, opened on every page of the app (each run picked in every run picker)
and given to every command that takes runs. Nothing may end in a traceback: a page shows at most a one-line
error, a command exits 0, or 2 with one `error: …` line.

The states, for an autoencoder and a classifier each: finished; stopped in its first epoch (no epoch
saved) and in its second (one saved); interrupted (status "running", no live trainer); being trained (its
lock held here); diverged (null losses; no weights, or the last finite epoch's); failed; results-only
(strip-weights); from before the fixed held-out split (no data.split_id, no test figure); a classifier
whose encoder run was deleted; and damaged in the ways a hand edit or a crash leaves a folder. The
classifiers and the autoencoder are study A5's runs at 2 epochs on 300 images, so the Studies page and
`study a5` read them too.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_cli_many
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

import app_support as ui
from fmnist_core import Registry, RunSpec, latent, train_run
from fmnist_core.cli import main as cli_main
from fmnist_core.evalcache import EvalCache
from fmnist_core.registry import EPOCH_KEY, LOCK
from fmnist_core.studies import get_study, plan_study

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
TIMEOUT = 300  # seconds per script run: a cold evaluation on a busy 2-core machine
STUDY = dict(seeds=1, epochs=2, limit=300)  # study A5 at 2 epochs on 300 images: the runs below

AE, CLF = "study-a5-ae-base-s0-e2-l300", "study-a5-clf-pretrained-s0-e2-l300"
A5_DIVERGED = "study-a5-clf-random-s0-e2-l300"  # diverged in epoch 2: keeps epoch 1's weights
A5_BEFORE_SPLIT = "study-a5-clf-pretrained-norelu-s0-e2-l300"
A5_RESULTS_ONLY = "study-a5-clf-random-norelu-s0-e2-l300"

# run id -> the status the registry should give it
STATES = {
    AE: "completed",
    CLF: "completed",
    A5_DIVERGED: "diverged",
    A5_BEFORE_SPLIT: "completed",
    A5_RESULTS_ONLY: "completed",
    "ae-stopped-e1": "stopped",  # stopped in its first epoch: no epoch saved, its weights as they were
    "ae-stopped-e2": "stopped",  # stopped in its second: one epoch saved
    "clf-stopped-e1": "stopped",
    "clf-stopped-e2": "stopped",
    "ae-interrupted": "interrupted",
    "clf-interrupted": "interrupted",
    "ae-training": "running",
    "clf-training": "running",
    "ae-diverged": "diverged",  # in epoch 1: no weights at all
    "ae-failed": "failed",
    "clf-failed": "failed",
    "ae-results-only": "completed",
    "clf-encoder-deleted": "completed",  # its encoder's run is gone (Compare's Delete allows it)
    "ae-before-split": "completed",
    "ae-bad-config-type": "damaged",
    "ae-bad-config-kind": "damaged",
    "clf-no-config": "damaged",
    "clf-history-not-list": "damaged",
    "clf-history-bad-row": "damaged",
    "ae-summary-not-json": "damaged",
    "clf-summary-bad-type": "damaged",
    "ae-weights-garbage": "damaged",
    "clf-weights-empty": "damaged",
    "ae-weights-nan": "damaged",
    "ae-weights-misfit": "damaged",
    "clf-weights-missing": "damaged",
    "empty-folder": "damaged",
    "not a run id": "damaged",
}
BEFORE_SPLIT = {A5_BEFORE_SPLIT, "ae-before-split"}
RESULTS_ONLY = {A5_RESULTS_ONLY, "ae-results-only"}


# -- building the folder ---------------------------------------------------------------------------
def read(path: Path):
    return json.loads(path.read_text())


def write(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1))


def edit(folder: Path, name: str, change) -> None:
    """Apply `change` to the JSON in folder/name: it edits the object in place, or returns a new list or dict."""
    obj = read(folder / name)
    new = change(obj)
    write(folder / name, new if isinstance(new, (dict, list)) else obj)


def clone(root: Path, src: str, dst: str) -> Path:
    """A copy of run `src`'s record and weights as run `dst` (no lock, no evaluation cache)."""
    shutil.copytree(root / src, root / dst, ignore=shutil.ignore_patterns(LOCK, "eval"))
    return root / dst


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def stopped_run(spec: RunSpec, ds, reg: Registry, name: str, in_epoch: int) -> None:
    """Train `spec` as run `name` and press Stop during epoch `in_epoch`, as the Train page's button does."""
    stop = threading.Event()

    def on_batch(pr) -> None:
        if pr.epoch == in_epoch:
            stop.set()

    train_run(RunSpec(spec.model, spec.train, name), ds, reg, on_batch, stop_event=stop)


def diverge(folder: Path, in_epoch: int) -> None:
    """Make a finished run one whose loss went NaN in epoch `in_epoch`, as fit() and summarize() leave it: that
    epoch's losses null (strict JSON), its accuracies those of a network that answers one class; the
    weights of the last finite epoch, or none if it diverged in epoch 1."""
    history = read(folder / "history.json")[:in_epoch]
    last = history[-1]
    last.update({k: None for k in last if k.endswith("_loss")})
    if "val_acc" in last:
        last.update(train_acc=0.1, val_acc=0.1, val_pred_counts=[sum(last["val_pred_counts"])] + [0] * 9)
    write(folder / "history.json", history)
    best = in_epoch - 1  # the last finite epoch (a run this short improves at every one)
    summary = {
        **{k: v for k, v in read(folder / "summary.json").items() if not k.startswith(("best_", "final_"))},
        "status": "diverged",
        "epochs_done": in_epoch,
        "best_epoch": best,
        "weights_epoch": best,
    }
    for k in ("train_loss", "val_loss", "train_acc", "val_acc"):
        if k in last:
            summary[f"final_{k}"] = last[k]
            summary[f"best_{k}"] = history[best - 1 if best else -1][k]
    if best:  # the weights file says which epoch it holds
        state = torch.load(folder / "weights.pt", weights_only=True)
        torch.save({**state, EPOCH_KEY: torch.tensor(best)}, folder / "weights.pt")
    else:
        (folder / "weights.pt").unlink()
        shutil.rmtree(folder / "eval", ignore_errors=True)
        summary = without_test(summary)
    write(folder / "summary.json", summary)


def without_test(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if not k.startswith("test_")}


def before_split(folder: Path) -> None:
    edit(folder, "config.json", lambda c: c["data"].pop("split_id") and None)
    edit(folder, "summary.json", without_test)


@pytest.fixture(scope="module", autouse=True)
def _quick_maps():
    """The Latent space page's t-SNE (~25 s for each run's 3,000 codes on a busy 2-core machine) replaced
    by the PCA map: these tests are about the runs' states, not the map."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(latent, "tsne_map", lambda z, seed=0: latent.pca_map(z)["xy"].astype(np.float32))
        yield


@pytest.fixture(scope="module")
def state_runs(ds, tmp_path_factory):
    """The runs folder with a run in every state; yields it while "ae-training" and "clf-training" are held
    as being trained by this process."""
    root = tmp_path_factory.mktemp("state-runs") / "runs"
    reg = Registry(root)
    plan = plan_study(get_study("a5"), reg, **STUDY)
    specs = {r.run_id: r.spec for r in plan.runs}
    assert set(specs) == {AE, CLF, A5_DIVERGED, A5_BEFORE_SPLIT, A5_RESULTS_ONLY}
    for run_id, spec in specs.items():  # the autoencoder first: the pretrained classifiers copy its encoder
        train_run(spec, ds, reg, command=f"test {run_id}")
    stopped_run(specs[AE], ds, reg, "ae-stopped-e1", 1)
    stopped_run(specs[AE], ds, reg, "ae-stopped-e2", 2)
    stopped_run(specs[CLF], ds, reg, "clf-stopped-e1", 1)
    stopped_run(specs[CLF], ds, reg, "clf-stopped-e2", 2)

    held = []
    for src, kind in ((AE, "ae"), (CLF, "clf")):
        # interrupted: killed after its last epoch was saved, before the final summary; its trainer's pid
        # is dead and its lock file is held by no one. Being trained: this process holds its lock.
        for state, pid in (("interrupted", dead_pid()), ("training", os.getpid())):
            folder = clone(root, src, f"{kind}-{state}")
            edit(folder, "summary.json", lambda s: {**without_test(s), "status": "running", "pid": pid})
            lock = open(folder / LOCK, "w")  # noqa: SIM115  (held until the module's tests end)
            if state == "training":
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(lock)
        folder = clone(root, src, f"{kind}-failed")
        edit(folder, "summary.json", lambda s: s.update(status="failed", error="RuntimeError: out of memory"))

    edit(
        clone(root, CLF, "clf-encoder-deleted"),
        "config.json",
        lambda c: c["model"].update(encoder_run="gone"),
    )
    diverge(root / A5_DIVERGED, 2)
    diverge(clone(root, AE, "ae-diverged"), 1)
    before_split(root / A5_BEFORE_SPLIT)
    before_split(clone(root, AE, "ae-before-split"))
    clone(root, AE, "ae-results-only")
    with contextlib.redirect_stderr(io.StringIO()):
        assert cli_main(["strip-weights", A5_RESULTS_ONLY, "ae-results-only", "--runs-dir", str(root)]) == 0

    # damaged, as a hand edit or a crash leaves a folder
    edit(clone(root, AE, "ae-bad-config-type"), "config.json", lambda c: c["model"].update(latent_dim="64"))
    edit(clone(root, AE, "ae-bad-config-kind"), "config.json", lambda c: c["model"].update(kind="vae"))
    (clone(root, CLF, "clf-no-config") / "config.json").unlink()
    write(clone(root, CLF, "clf-history-not-list") / "history.json", {"epoch": 1, "val_loss": 0.5})
    edit(clone(root, CLF, "clf-history-bad-row"), "history.json", lambda h: h[0].update(val_acc="90%"))
    (clone(root, AE, "ae-summary-not-json") / "summary.json").write_text('{"status": "completed", ')
    edit(clone(root, CLF, "clf-summary-bad-type"), "summary.json", lambda s: s.update(epochs_done="2"))
    (clone(root, AE, "ae-weights-garbage") / "weights.pt").write_bytes(b"not a torch file\n" * 10)
    (clone(root, CLF, "clf-weights-empty") / "weights.pt").write_bytes(b"")
    nan = {k: torch.full_like(v, float("nan")) for k, v in reg.load_state(AE).items()}
    torch.save(nan, clone(root, AE, "ae-weights-nan") / "weights.pt")
    shutil.copy(root / CLF / "weights.pt", clone(root, AE, "ae-weights-misfit") / "weights.pt")
    (clone(root, CLF, "clf-weights-missing") / "weights.pt").unlink()
    (root / "empty-folder").mkdir()
    clone(root, AE, "not a run id")

    got = {r.run_id: r.status for r in Registry(root).list_runs()}
    assert got == STATES
    # what the pages read of each usable run, computed once here; the `cache` command then finds it all
    cache = EvalCache(reg, lambda: ds)
    for run_id in usable("ae") + usable("clf") + ["ae-failed", "clf-failed", A5_DIVERGED]:
        cache.precompute(run_id)
        cache.latent(run_id)
    for run_id in usable("ae"):
        cache.denoise(CLF, run_id, "gaussian")
    yield root
    for fd in held:
        fd.close()


@pytest.fixture
def runs(state_runs, monkeypatch):
    monkeypatch.setenv("FMNIST_RUNS_DIR", str(state_runs))
    return state_runs


def usable(kinds: str) -> list[str]:
    """The runs a page's picker offers: with a saved epoch and weights, not damaged, failed or diverged."""
    return sorted(
        run_id
        for run_id, status in STATES.items()
        if run_id.startswith(("ae-", "study-a5-ae") if kinds == "ae" else ("clf-", "study-a5-clf"))
        and status in ("completed", "stopped", "interrupted", "running")
        and "-e1" not in run_id
        and run_id not in RESULTS_ONLY
    )


def test_every_state_is_what_it_says(runs):
    infos = {r.run_id: r for r in Registry(runs).list_runs()}
    assert {r: i.split_id is None for r, i in infos.items() if not i.damaged and r.startswith("study-")} == {
        AE: False,
        CLF: False,
        A5_DIVERGED: False,
        A5_BEFORE_SPLIT: True,
        A5_RESULTS_ONLY: False,
    }
    assert {r for r, i in infos.items() if i.results_only} == RESULTS_ONLY
    assert (
        infos["ae-stopped-e1"].summary["epochs_done"] == 0
        and infos["clf-stopped-e2"].summary["epochs_done"] == 1
    )
    assert not (runs / "ae-diverged" / "weights.pt").exists() and (runs / A5_DIVERGED / "weights.pt").exists()
    assert all(infos[r].damaged for r, s in STATES.items() if s == "damaged")


# -- every page, each run in every run picker --------------------------------------------------------
def problems(at: AppTest) -> list[str]:
    """Exceptions, and error lines that are not one clear line (a traceback in an st.error)."""
    out = [f"exception: {e.value}" for e in at.exception]
    texts = [e.value for e in (*at.error, *at.warning, *at.info, *at.markdown, *at.caption)]
    out += [t for t in texts if "Traceback" in t or 'File "' in t]
    out += [f"error: {e.value}" for e in at.error if "\n" in e.value.strip()]
    return out


def open_page(page: str, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page(ui.PAGES[page])
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not problems(at), problems(at)
    return at


def pick_each(at: AppTest, key: str, expected: list[str] | None = None, multi: bool = False) -> list[str]:
    """Pick each option of the run picker `key` in turn; returns the options."""
    ids = option_ids(at, key, multi)
    if expected is not None:
        assert sorted(ids) == expected, key
    for run_id in ids:
        box = at.multiselect(key=key) if multi else at.selectbox(key=key)
        box.set_value([run_id] if multi else run_id).run()
        assert not problems(at) and not at.error, (key, run_id, problems(at), [e.value for e in at.error])
    return ids


def option_ids(at: AppTest, key: str, multi: bool = False) -> list[str]:
    """A picker's run ids: its options are shown as labels ("run · kind · figure"), its values are ids."""
    box = at.multiselect(key=key) if multi else at.selectbox(key=key)
    return [o.split(" · ")[0] for o in box.options if not o.startswith("random init")]


def test_home(runs):
    at = open_page("home")
    table = at.dataframe[0].value
    assert len(table) == len(STATES)
    assert dict(zip(table["name"], table["status"])) == STATES


def test_compare(runs):
    at = open_page("compare")
    next(t for t in at.toggle if t.label == "Hide damaged and failed").set_value(False).run()
    at.segmented_control(key="cmp_view").set_value("all").run()
    assert not problems(at), problems(at)
    assert sorted(at.selectbox(key="cmp_manage").options) == sorted(f"{r} ({s})" for r, s in STATES.items())
    for run_id in STATES:  # each run alone in the table (so its curves are drawn) and picked to manage
        next(t for t in at.text_input if t.label == "Filter by name").set_value(run_id)
        at.selectbox(key="cmp_manage").set_value(run_id).run()
        assert not problems(at), (run_id, problems(at))
    next(t for t in at.text_input if t.label == "Filter by name").set_value("").run()
    pick_each(at, "cmp_twin_pick")


def test_studies(runs):
    at = open_page("studies", s_study="a5", s_seeds_a5=1, s_epochs=2, s_limit=300)
    table = at.dataframe[-1].value.set_index("run id")["status"]
    assert set(table.index) == {AE, CLF, A5_DIVERGED, A5_BEFORE_SPLIT, A5_RESULTS_ONLY}
    assert table[A5_DIVERGED] == "done (diverged)" and "before the fixed split" in table[A5_BEFORE_SPLIT]
    assert len(at.get("plotly_chart")) == 2  # the held-out accuracy and loss bands, a diverged epoch a gap


def test_reconstructions(runs):
    at = open_page("reconstructions")
    pick_each(at, "rc_runs", usable("ae"), multi=True)
    pick_each(at, "rc_clf", usable("clf"))


def test_confusion(runs):
    at = open_page("confusion", cf_n=1000)
    pick_each(at, "cf_run", usable("clf"))
    for run_id in usable("clf"):  # each classifier has its own "Compare with" box
        at.selectbox(key="cf_run").set_value(run_id).run()
        pick_each(at, f"cf_run_b_{run_id}", usable("clf"))


def test_classify(runs):
    at = open_page("classify", cl_source="Test image")
    pick_each(at, "cl_runs", usable("clf"), multi=True)
    pick_each(at, "cl_ae", usable("ae"))


def test_latent(runs):
    at = open_page("latent")
    pick_each(at, "lt_run", sorted(usable("ae") + usable("clf")))


def test_train(runs):
    at = open_page("train")
    at.segmented_control(key="t_kind").set_value("classifier").run()
    assert not problems(at), problems(at)
    pick_each(at, "t_encoder", usable("ae"))


# -- every command that takes runs ------------------------------------------------------------------
def one_line_error(code: int, err: str) -> bool:
    """Exit 0, or 2 with a single `error: …` line; never a traceback."""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    return "Traceback" not in err and (code == 0 or (code == 2 and len(lines) == 1))


def cli(*args: str) -> tuple[int, str, str]:
    """`python -m fmnist_core ARGS` in this interpreter (what __main__ calls): a traceback is an exception
    out of main(). The per-run matrix runs here: a fresh interpreter per call would cost it minutes."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(list(args))
        except SystemExit as e:  # argparse's own errors
            code = e.code if isinstance(e.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    """A drawing of trousers, dark on white, as a user would upload it."""
    path = tmp_path_factory.mktemp("image") / "trousers.png"
    img = Image.new("RGB", (120, 160), "white")
    ImageDraw.Draw(img).polygon(
        [(36, 16), (84, 16), (90, 144), (66, 144), (60, 64), (54, 144), (30, 144)], "black"
    )
    img.save(path)
    return path


def test_folder_commands(runs, tmp_path):
    """The commands that read the whole folder, each in a fresh interpreter as a user runs them."""
    study = ["study", "a5", "--seeds", "1", "--epochs", "2", "--limit", "300"]
    commands = [
        ["runs"],
        ["runs", "--json"],
        ["cache"],
        [*study, "--dry-run"],
        study,
        ["study", "a5", "--dry-run"],
    ]
    results = run_cli_many(commands, runs, tmp_path)
    for args, p in zip(commands, results):
        assert one_line_error(p.returncode, p.stderr), (args, p.returncode, p.stderr[-3000:])
        assert p.returncode == 0, (args, p.stderr[-3000:])
    listing, as_json, _, dry, shown, _ = results
    for run_id in STATES:
        assert run_id in listing.stdout
    assert {r["run_id"]: r["status"].split(" · ")[0] for r in json.loads(as_json.stdout)} == STATES
    assert "nothing to train" in shown.stderr and A5_DIVERGED in dry.stdout


@pytest.mark.parametrize("run_id", list(STATES))
def test_run_commands(runs, image, run_id):
    """evaluate, predict (as the classifier and as the familiarity autoencoder) and cache on each run."""
    for args in (
        ["evaluate", run_id, "--limit", "500"],
        ["evaluate", run_id, "--limit", "500", "--noise", "gaussian"],
        ["predict", run_id, str(image)],
        ["predict", CLF, str(image), "--autoencoder", run_id],
        ["cache", run_id, "--denoise-with", CLF]
        if run_id.startswith(("ae", "study-a5-ae"))
        else ["cache", run_id],
    ):
        code, out, err = cli(*args)
        assert one_line_error(code, err), (args, code, err)


@pytest.mark.parametrize("run_id", list(STATES))
def test_commands_that_change_runs(state_runs, tmp_path, run_id):
    """strip-weights on each run, and a classifier trained on each as its encoder, in a copy of the folder."""
    root = tmp_path / "runs"
    shutil.copytree(state_runs, root, ignore=shutil.ignore_patterns(LOCK))
    for args in (
        ["strip-weights", run_id],
        ["train", "classifier", "--encoder", run_id, "--limit", "300", "--epochs", "1", "--name", "new"],
    ):
        code, out, err = cli(*args, "--runs-dir", str(root))
        assert one_line_error(code, err), (args, code, err)
