"""Studies: definitions, planning and reuse of existing runs, the views, the CLI end to end on a tiny
subset, the Studies page, and the shipped reference runs against their summaries."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import app_support as ui  # noqa: E402
from fmnist_core import CLASS_NAMES, Registry, build_model, evaluate_run, load_fashion_mnist  # noqa: E402
from fmnist_core.cli import build_parser, spec_from_args, text_table  # noqa: E402
from fmnist_core.config import ConfigError, RunSpec  # noqa: E402
from fmnist_core.data import FashionMNIST  # noqa: E402
from fmnist_core.registry import validate_run_id  # noqa: E402
from fmnist_core.studies import (  # noqa: E402
    DENOISE_LEVELS,
    DONE,
    STUDIES,
    Extras,
    build_view,
    check_study,
    extras_needed,
    get_study,
    pca_baseline_mses,
    pca_baselines,
    plan_study,
    runs_table,
    spec_key,
)

PY = ROOT / ".venv" / "bin" / "python"
PYTHON = str(PY) if PY.exists() else sys.executable


# -- helpers ----------------------------------------------------------------------------------
def fake_history(kind: str, epochs: int, seed: int = 0) -> list[dict]:
    h = []
    for e in range(1, epochs + 1):
        r = {"epoch": e, "train_loss": 0.05 / e + 0.001 * seed, "val_loss": 0.04 / e + 0.01 + 0.001 * seed}
        if kind not in ("conv_ae", "dense_ae"):
            r = {
                "epoch": e,
                "train_loss": 1.0 / e,
                "train_acc": 0.8 + 0.01 * e,
                "val_loss": 0.9 / e + 0.2,
                "val_acc": 0.78 + 0.01 * e + 0.002 * seed,
            }
        r["epoch_seconds"] = 1.0
        h.append(r)
    return h


FAKE_SPLIT = "0123456789ab"


def fake_run(
    reg: Registry,
    spec: RunSpec,
    name: str,
    status: str = "completed",
    epochs: int | None = None,
    pid: int | None = None,
    split_id: str | None = FAKE_SPLIT,
) -> str:
    """A run folder as train_run leaves it, without training: config, history, summary, a weights file.
    split_id None: a run from before the fixed held-out split."""
    epochs = spec.train.epochs if epochs is None else epochs
    data = {"source": "fake", "validation": spec.train.validation, "n_train": 54000, "n_val": 6000}
    run_id = reg.create(spec, {"data": data if split_id is None else {**data, "split_id": split_id}}, name)
    h = fake_history(spec.model.kind, epochs, spec.train.seed)
    best = min(range(len(h)), key=lambda i: h[i]["val_loss"]) + 1 if h else 0
    summary = {
        "status": status,
        "epochs_done": len(h),
        "best_epoch": best,
        "weights_epoch": best,
        "seconds_per_epoch": 1.0,
    }
    for k in ("train_loss", "val_loss", "train_acc", "val_acc"):
        if h and k in h[-1]:
            summary[f"final_{k}"], summary[f"best_{k}"] = h[-1][k], h[best - 1][k]
            if k.startswith("val_"):  # the test figure: the held-out one's, a little lower
                summary[k.replace("val_", "test_")] = h[best - 1][k] * 0.99
    reg.save_epoch(run_id, h, summary, build_model(spec.model).state_dict())  # untrained weights that fit
    if pid is not None:  # pretend another live process is training it
        import json

        path = reg.path(run_id) / "summary.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), "pid": pid}))
    return run_id


def reference_specs() -> dict[str, RunSpec]:
    """The runs scripts/reference.sh trains, parsed with the CLI's own parser."""
    text = (ROOT / "scripts" / "reference.sh").read_text().replace("\\\n", " ")
    specs = {}
    for line in text.splitlines():
        m = re.match(r"^train\s+(ref-\S+)\s+(.*)$", line.strip())
        if m:
            name, rest = m.groups()
            specs[name] = spec_from_args(
                build_parser().parse_args(["train", *shlex.split(rest), "--name", name, "--seed", "0"])
            )
    assert specs, "no train lines found in scripts/reference.sh"
    return specs


def fill_study(reg: Registry, name: str, seeds: int | None = 2, **kw) -> None:
    """Fake every run of a study under its planned name (encoders first, so classifiers can name them)."""
    for _ in range(3):  # each pass resolves one more level of dependencies
        plan = plan_study(get_study(name), reg, seeds, **kw)
        for r in plan.missing:
            fake_run(reg, r.spec, r.spec.name)


def fake_extras(study, plan) -> Extras:
    need = extras_needed(study, plan)
    ex = Extras(pca={n: 0.01 * 64 / n for n in need["pca"]})
    names = CLASS_NAMES
    for i, run_id in enumerate(need["tests"]):
        ex.tests[run_id] = {
            "test_accuracy": 0.88 + 0.01 * i,
            "macro_precision": 0.88,
            "macro_recall": 0.88,
            "macro_f1": 0.87,
            "per_class": {n: {"precision": 0.9, "recall": 0.8, "f1": 0.85, "support": 1000} for n in names},
        }
    if need["denoise"]:
        ex.denoise["noisy input"] = [0.01 * (1 + i) for i in range(len(DENOISE_LEVELS))]
        for j, run_id in enumerate(need["denoise"]):
            ex.denoise[run_id] = [0.005 * (1 + i) + 0.001 * j for i in range(len(DENOISE_LEVELS))]
    return ex


# -- definitions --------------------------------------------------------------------------------
def test_the_issue_studies_are_defined():
    assert {"a1", "a2", "a3", "a4", "a5", "b", "c", "d", "e", "label"} <= set(STUDIES)
    assert [t.params["n"] for t in STUDIES["a1"].runs] == [64, 128, 256, 512]
    assert [t.params["p"] for t in STUDIES["a2"].runs] == [0.2, 0.05, 0.01, 0.0001]
    assert STUDIES["a4"].seeds == 15
    fractions = {t.params["fraction"] for t in STUDIES["label"].runs if "fraction" in t.params}
    assert fractions == {0.01, 0.05, 0.1, 0.5, 1.0}
    with pytest.raises(ConfigError, match="unknown study"):
        get_study("nope")


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_definition_is_valid(name, tmp_path):
    study = STUDIES[name]
    check_study(study)
    assert study.question.endswith("?") or study.question.endswith(".")
    plan = plan_study(study, Registry(tmp_path), seeds=max(study.seeds, 2), epochs=3, limit=300)
    ids = [r.run_id for r in plan.runs]
    assert len(set(ids)) == len(ids), "planned run ids collide"
    keys = [spec_key(r.spec) for r in plan.runs]
    assert len(set(keys)) == len(keys), "two planned runs have the same config"
    for r in plan.runs:
        validate_run_id(r.run_id)
        assert RunSpec.from_dict(r.spec.to_dict()) == r.spec  # every config valid, round-trips
        assert r.status == "missing"
        assert r.spec.train.epochs == 3 and r.spec.train.limit == 300
        if r.template.encoder:  # the dependency resolves to a run of the same plan, planned before it
            dep = r.depends_on
            assert dep is not None and r.spec.model.encoder_run == dep.run_id
            assert plan.runs.index(dep) < plan.runs.index(r)
            assert dep.spec.model.kind == "conv_ae"
        elif r.spec.model.kind == "classifier":
            assert r.spec.model.encoder_run == "random"


def test_check_study_rejects_a_dangling_dependency():
    from dataclasses import replace

    study = STUDIES["a5"]
    bad = replace(study, runs=study.runs[1:])  # the classifier's encoder is gone
    with pytest.raises(ConfigError, match="not an earlier run"):
        check_study(bad)


# -- planning and reuse ------------------------------------------------------------------------
def test_reference_runs_are_reused_by_config(tmp_path):
    reg = Registry(tmp_path)
    for name, spec in reference_specs().items():
        fake_run(reg, spec, name)
    used: dict[str, set] = {}
    for study in STUDIES.values():
        for r in plan_study(study, reg).runs:
            if r.run_id.startswith("ref-"):
                assert r.status == "done" and r.note == f"reuses {r.run_id}"
                used.setdefault(r.run_id, set()).add(study.name)
    # every shipped run is used by a study, except report C's simplified C8 (frozen encoder on AE 1:
    # study C follows the report, which froze AE 4)
    assert set(reference_specs()) - set(used) <= {"ref-c-clf-frozen"}
    plan = plan_study(STUDIES["a5"], reg)
    seed0 = [plan.by(k)[0].run_id for k in ("ae-base", "clf-pretrained", "clf-random")]
    assert seed0 == ["ref-a-ae-base", "ref-a-clf-base", "ref-a-clf-random"]
    assert {r.spec.model.encoder_run for r in plan.by("clf-pretrained-norelu")} == {"ref-a-ae-base"}
    assert len(plan.missing) == len(plan.runs) - 3
    # the same study with overrides is a different set of runs
    quick = plan_study(STUDIES["a5"], reg, epochs=1, limit=300)
    assert {r.status for r in quick.runs} == {"missing"}
    pre = quick.by("clf-pretrained")[0]
    assert pre.spec.model.encoder_run == quick.runs[0].run_id == "study-a5-ae-base-s0-e1-l300"


def test_runs_from_before_the_fixed_split_are_stale_and_give_way(tmp_path):
    """A finished run without a split fingerprint still shows (flagged stale); a run on the fixed split with
    the same config is preferred to it."""
    reg = Registry(tmp_path)
    study = STUDIES["d"]
    spec = plan_study(study, reg, seeds=1).by("cnn")[0].spec
    fake_run(reg, spec, "old-cnn", split_id=None)
    plan = plan_study(study, reg, seeds=1)
    old = plan.by("cnn")[0]
    assert old.run_id == "old-cnn" and old.finished and old.stale and plan.stale == [old]
    assert "Partly re-trained" in build_view(study, plan, fake_extras(study, plan)).reading[0]
    fake_run(reg, spec, "new-cnn")
    plan = plan_study(study, reg, seeds=1)
    assert plan.by("cnn")[0].run_id == "new-cnn" and not plan.stale
    # a run that validated on the test set (the old default) stands in too, flagged, until replaced
    mlp = plan.by("mlp")[0].spec
    fake_run(reg, RunSpec(mlp.model, mlp.train.replace(validation="test")), "old-mlp", split_id=None)
    old = plan_study(study, reg, seeds=1).by("mlp")[0]
    assert old.run_id == "old-mlp" and old.stale
    # but not a run of today validated on the test set: that is another experiment
    fake_run(
        reg, RunSpec(mlp.model, mlp.train.replace(validation="test", seed=0)), "test-mlp", split_id="test"
    )
    assert plan_study(study, reg, seeds=1).by("mlp")[0].run_id == "old-mlp"


def test_plan_dependencies_blocking_and_names(tmp_path):
    reg = Registry(tmp_path)
    study = STUDIES["a5"]
    plan = plan_study(study, reg, seeds=1)
    ae, pre, rnd = plan.runs[:3]
    assert (ae.run_id, pre.run_id, rnd.run_id) == (
        "study-a5-ae-base-s0",
        "study-a5-clf-pretrained-s0",
        "study-a5-clf-random-s0",
    )
    assert pre.spec.model.encoder_run == "study-a5-ae-base-s0" and pre.status == "missing"
    # the encoder is being trained by another live process: its dependents wait
    fake_run(reg, ae.spec, "ae-elsewhere", status="running", epochs=2, pid=os.getpid())
    plan = plan_study(study, reg, seeds=1)
    assert plan.runs[0].status == "running" and plan.runs[0].run_id == "ae-elsewhere"
    assert plan.runs[1].status == "blocked" and "ae-elsewhere" in plan.runs[1].note
    assert plan.runs[2].status == "missing"
    # finished: the classifier names it as its encoder
    reg.write_summary("ae-elsewhere", {**reg.info("ae-elsewhere").summary, "status": "completed"})
    # a stopped run with the classifier's config is not reused; a folder holding the planned name
    # with another config pushes the new run to a free name
    fake_run(reg, RunSpec(rnd.spec.model, rnd.spec.train), "stopped-random", status="stopped", epochs=3)
    fake_run(reg, RunSpec(rnd.spec.model, rnd.spec.train.replace(epochs=3)), "study-a5-clf-random-s0")
    plan = plan_study(study, reg, seeds=1)
    assert plan.runs[1].status == "missing" and plan.runs[1].spec.model.encoder_run == "ae-elsewhere"
    assert plan.runs[2].status == "missing" and plan.runs[2].run_id == "study-a5-clf-random-s0-2"
    assert "stopped-random" in plan.runs[2].note
    # more seeds: the encoder is shared, the classifiers repeat
    plan = plan_study(study, reg, seeds=3)
    assert len(plan.runs) == 1 + 4 * 3
    assert {r.spec.model.encoder_run for r in plan.by("clf-pretrained")} == {"ae-elsewhere"}
    assert [r.spec.train.seed for r in plan.by("clf-random")] == [0, 1, 2]
    with pytest.raises(ConfigError):
        plan_study(study, reg, seeds=0)


def test_plan_sees_the_job_queue(tmp_path):
    from fmnist_core.job_queue import JobQueue

    reg = Registry(tmp_path)
    q = JobQueue(reg, load_fashion_mnist)
    q._ensure_worker = lambda: None  # keep the jobs queued: no worker thread
    plan = plan_study(STUDIES["a5"], reg, seeds=1, queue=q)
    jobs = [q.submit(r.spec, group="a5")[0] for r in plan.missing]
    assert [j.spec.name for j in jobs] == [r.run_id for r in plan.runs]
    assert all(j.group == "a5" for j in jobs)
    again = plan_study(STUDIES["a5"], reg, seeds=1, queue=q)
    assert [r.status for r in again.runs] == ["queued"] * 5 and not again.missing
    assert again.runs[1].spec.model.encoder_run == again.runs[0].run_id


# -- views ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(STUDIES))
def test_views_with_and_without_runs(name, tmp_path):
    study = STUDIES[name]
    reg = Registry(tmp_path)
    empty = plan_study(study, reg, seeds=2)
    view = build_view(study, empty, fake_extras(study, empty))
    assert view.tables and view.reading
    fill_study(reg, name, seeds=2)
    plan = plan_study(study, reg, seeds=2)
    assert plan.count("done") == len(plan.runs)
    view = build_view(study, plan, fake_extras(study, plan))
    assert view.figures and view.tables and len(view.reading) >= 1
    for t in view.tables:
        assert t.rows and text_table(t.rows)
    assert "No finished runs" not in " ".join(view.reading)
    for _, fig in view.figures:
        fig.to_dict()
    assert len(runs_table(plan)) == len(plan.runs)


def test_ae_sweep_reading_calls_steps_by_their_ci(tmp_path):
    """A2 with three seeds a cell: a step whose CI excludes zero is called, one inside the seed noise is not,
    and each p is set against PCA-64 (the test MSE against the baseline, with its CI)."""
    study, reg = STUDIES["a2"], Registry(tmp_path)
    plan = plan_study(study, reg)
    means = {"p0.2": 0.037, "p0.05": 0.025, "p0.01": 0.0249, "p0.0001": 0.015}  # p=0.01 ties p=0.05
    for r in plan.runs:
        fake_run(reg, r.spec, r.run_id)
        mse = means[r.template.key] + 0.0002 * (r.seed - 1)  # seeds 0-2: ±0.0002
        h = [{"epoch": e, "train_loss": mse, "val_loss": mse, "epoch_seconds": 1.0} for e in (1, 2)]
        summary = {"status": "completed", "epochs_done": 2, "best_epoch": 2, "weights_epoch": 2}
        reg.save_epoch(r.run_id, h, {**summary, "test_loss": mse}, None)
    plan = plan_study(study, reg)
    view = build_view(study, plan, Extras(pca={64: 0.0098}))
    text = " ".join(view.reading)
    assert "0.2 → 0.05: lower by 0.0120 (95% CI" in text
    assert "0.05 → 0.01: within seed noise (-0.0001, ±0.0005)" in text
    assert "p = 0.0001: 1.53× PCA (above by 0.0052 (95% CI" in text
    row = view.tables[0].rows[0]
    assert row["held-out MSE, epoch 20"] == "0.0370 ± 0.0005" and row["PCA, same n (test)"] == "0.0098"


def confusion_figures(acc_per_class: float, dead: int | None = None) -> dict:
    """Test figures from a confusion matrix where every class but `dead` is right `acc_per_class` of the
    time (its errors counted as class 0, class 0's as class 2) and `dead` is never predicted."""
    from fmnist_core.evaluate import classifier_figures

    cm = torch.zeros(10, 10, dtype=torch.long)
    for c in range(10):
        right = 0 if c == dead else round(1000 * acc_per_class)
        cm[c, c], cm[c, 0 if c != 0 else 2] = right, 1000 - right
    return classifier_figures(cm)


def test_label_reading_pairs_seeds_and_rates_lost_classes(tmp_path):
    """Pre-training's gain is a paired difference with its CI, a label multiple is given only where the gain
    is more than seed noise, and the runs that never predict a class are counted per arm as a rate."""
    study, reg = STUDIES["label-norelu"], Registry(tmp_path)
    fill_study(reg, "label-norelu", seeds=3)
    plan = plan_study(study, reg, seeds=3)
    acc = {0.01: (0.70, 0.60), 0.05: (0.80, 0.75), 0.1: (0.83, 0.80), 0.5: (0.88, 0.8801), 1.0: (0.90, 0.90)}
    tests = {}
    for r in plan.runs:
        if r.template.role != "main":
            continue
        f, pre = r.template.params["fraction"], r.template.params["init"] == "pretrained"
        a = acc[f][0 if pre else 1] + 0.001 * r.seed * (1 if pre else -1)
        dead = 1 if (not pre and f == 0.01 and r.seed == 0) else None
        tests[r.run_id] = confusion_figures(a, dead)
        summary = {**r.info.summary, "test_acc": a}
        reg.write_summary(r.run_id, summary)
    plan = plan_study(study, reg, seeds=3)
    text = " ".join(build_view(study, plan, Extras(tests=tests)).reading)
    assert "1% of the labels: pre-training is better by 10.20 pts (95% CI +9.70 pts to +10.70 pts" in text
    assert "50% of the labels: pre-training is within seed noise" in text
    assert "pretrained at 1% ≈ random init at" in text and "pretrained at 50%" not in text
    assert (
        "Runs that never predict at least one class: pretrained 0 of 15 (0%, 95% CI 0%–20%), random init 1 of 15"
        in text
    )


def test_a4_reading_leaves_out_the_seeds_that_lose_a_class(tmp_path):
    study, reg = STUDIES["a4"], Registry(tmp_path)
    fill_study(reg, "a4", seeds=3)
    plan = plan_study(study, reg, seeds=3)
    seeds = [r for r in plan.runs if r.template.role == "main"]
    assert extras_needed(study, plan)["tests"] == [r.run_id for r in seeds]
    tests = {r.run_id: confusion_figures(0.9, 4 if i == 0 else None) for i, r in enumerate(seeds)}
    text = " ".join(build_view(study, plan, Extras(tests=tests)).reading)
    assert "1 of 3 (33%, 95% CI 6%–79%) seeds never predict at least one class" in text
    assert "Epoch 30, 2 seeds that predict every class, held-out:" in text


def test_b_reading_says_from_which_noise_level_denoising_helps():
    from fmnist_core.studies.views.view_b import _denoise_onset

    noisy = [0.0, 0.002, 0.007, 0.015, 0.0375]
    text = _denoise_onset("adam", [0.005, 0.0054, 0.0068, 0.0089, 0.0155], noisy)
    assert "from level 0.2 on (0.0068 vs 0.0070); at 0.1 it adds error (0.0054 vs 0.0020)" in text
    assert "never beats the noisy input up to level 0.5" in _denoise_onset("sgd", [0.085] * 5, noisy)


# -- the linear baseline ---------------------------------------------------------------------------
def test_pca_baseline_on_synthetic_data():
    g = torch.Generator().manual_seed(0)
    basis = torch.rand(8, 784, generator=g)

    def images(n):  # rank-8 images in [0, 255]
        w = torch.rand(n, 8, generator=g)
        return (w @ basis / 8 * 255).clamp(0, 255).to(torch.uint8).reshape(n, 1, 28, 28)

    no_labels = torch.zeros(400, dtype=torch.long)
    ds = FashionMNIST(images(400), no_labels, images(100), no_labels[:100], "synthetic")
    mses = pca_baseline_mses(ds, [1, 2, 4, 8, 16])
    values = [mses[n] for n in (1, 2, 4, 8, 16)]
    assert all(b <= a + 1e-9 for a, b in zip(values, values[1:]))
    assert mses[8] < 1e-4 < mses[1]  # eight components hold rank-8 data (up to uint8 rounding)
    assert pca_baseline_mses(ds, [4])[4] == pytest.approx(mses[4])


def test_pca_baselines_are_kept_for_the_next_process(ds, tmp_path, monkeypatch):
    """Fitted once per machine and data: the second call reads the cache file; a damaged file, or sizes it
    lacks, are computed again; other data has its own file."""
    from fmnist_core.studies import extras

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = pca_baselines(ds, [32, 64])
    (cached,) = (tmp_path / "fmnist-lab").glob("pca-baselines-v*.json")
    assert json.loads(cached.read_text()) == {"32": first[32], "64": first[64]}
    fits = []
    monkeypatch.setattr(extras, "pca_baseline_mses", lambda d, ns: fits.append(ns) or {n: 0.5 for n in ns})
    assert pca_baselines(ds, [64, 32]) == {64: first[64], 32: first[32]} and fits == []
    assert pca_baselines(ds, [16, 64])[16] == 0.5 and fits == [[16]]  # only what the file lacks
    cached.write_text("{not json")
    assert pca_baselines(ds, [64]) == {64: 0.5} and fits[-1] == [64]
    other = FashionMNIST(
        ds.train_images[:100], ds.train_labels[:100], ds.test_images[:50], ds.test_labels[:50], "x"
    )
    pca_baselines(other, [8])
    assert len(list((tmp_path / "fmnist-lab").glob("pca-baselines-v*.json"))) == 2


# -- the command line, end to end on a tiny subset --------------------------------------------------
def _cli(args: list[str], runs_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FMNIST_RUNS_DIR": str(runs_dir), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [PYTHON, "-m", "fmnist_core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_study_cli_end_to_end(tmp_path):
    runs = tmp_path / "runs"
    listing = _cli(["study"], runs)
    assert listing.returncode == 0 and "a5" in listing.stdout and "label" in listing.stdout
    bad = _cli(["study", "nope"], runs)
    assert bad.returncode == 2 and "unknown study" in bad.stderr
    args = ["study", "a5", "--limit", "300", "--epochs", "1", "--seeds", "1"]
    first = _cli(args, runs)
    assert first.returncode == 0, first.stderr[-2000:]
    names = sorted(p.name for p in runs.iterdir() if not p.name.startswith("."))
    assert names == [
        "study-a5-ae-base-s0-e1-l300",
        "study-a5-clf-pretrained-norelu-s0-e1-l300",
        "study-a5-clf-pretrained-s0-e1-l300",
        "study-a5-clf-random-norelu-s0-e1-l300",
        "study-a5-clf-random-s0-e1-l300",
    ]
    assert "study-a5-clf-random-s0-e1-l300: completed" in first.stderr
    # progress read from the folders; a run's last epoch is printed before its end line, even between polls
    err = first.stderr
    assert err.index("study-a5-clf-pretrained-s0-e1-l300: epoch 1") < err.index(
        "study-a5-clf-pretrained-s0-e1-l300: completed"
    )
    assert "## runs" in first.stdout and "## reading" in first.stdout
    reg = Registry(runs)
    assert reg.get("study-a5-clf-pretrained-s0-e1-l300").encoder_run == "study-a5-ae-base-s0-e1-l300"
    stamps = {n: (runs / n / "weights.pt").stat().st_mtime_ns for n in names}
    second = _cli(args, runs)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "nothing to train" in second.stderr and "started" not in second.stderr
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == names
    assert {n: (runs / n / "weights.pt").stat().st_mtime_ns for n in names} == stamps
    dry = _cli(args[:2] + ["--seeds", "2", "--limit", "300", "--epochs", "1", "--dry-run"], runs)
    assert dry.returncode == 0 and "missing" in dry.stdout and "study-a5-clf-random-s1-e1-l300" in dry.stdout


# -- the page ----------------------------------------------------------------------------------------
def _page(runs_dir: Path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("FMNIST_RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(ui.PAGES["studies"])
    at.run(timeout=120)
    return at


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_studies_page_renders_without_runs(tmp_path, monkeypatch):
    at = _page(tmp_path / "empty", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Studies"
    for name in STUDIES:
        at.selectbox(key="s_study").set_value(name).run(timeout=120)
        assert not at.exception, (name, [e.value for e in at.exception])
        assert any("No finished runs" in m.value for m in at.markdown), name
        assert any(b.label.startswith("Train ") and not b.disabled for b in at.button), name


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_studies_page_renders_with_runs(tmp_path, monkeypatch):
    reg = Registry(tmp_path / "runs")
    for name in STUDIES:
        fill_study(reg, name, seeds=None if name != "a4" else 3)  # None: the catalogue's seeds
    at = _page(reg.root, monkeypatch)
    for name in STUDIES:
        at.selectbox(key="s_study").set_value(name).run(timeout=120)
        if name == "a4":
            at.number_input(key="s_seeds_a4").set_value(3).run(timeout=120)
        assert not at.exception, (name, [e.value for e in at.exception])
        assert not any("No finished runs" in m.value for m in at.markdown), name
        assert any(b.label == "Nothing to train" and b.disabled for b in at.button), name


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_studies_page_trains_the_missing_runs_in_a_background_sweep(tmp_path, monkeypatch):
    import time

    from fmnist_core.background_sweep import running_sweep

    runs = tmp_path / "runs"
    at = _page(runs, monkeypatch)
    at.selectbox(key="s_study").set_value("a5").run()
    at.number_input(key="s_seeds_a5").set_value(1).run()
    at.number_input(key="s_epochs").set_value(1).run()
    at.selectbox(key="s_limit").set_value(300).run()
    at.number_input(key="s_workers").set_value(1).run()
    button = next(b for b in at.button if b.label == "Train 5 missing runs")
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    reg = Registry(runs)
    deadline = time.time() + 600
    while time.time() < deadline and (
        running_sweep(reg, "a5") is not None or len([p for p in runs.glob("study-a5-*")]) < 5
    ):
        time.sleep(1)
    assert running_sweep(reg, "a5") is None
    assert sorted(reg.info(p.name).status for p in runs.glob("study-a5-*")) == ["completed"] * 5, (
        runs / ".sweeps" / "a5.log"
    ).read_text()[-2000:]
    command = reg.info("study-a5-ae-base-s0-e1-l300").config["command"]
    assert "--workers 1" in command and "--seeds 1" in command
    at.run()
    assert any(b.label == "Nothing to train" for b in at.button)


# -- the shipped reference runs -------------------------------------------------------------------------
def test_reference_runs_match_summary():
    """Each shipped ref-* classifier scores, re-evaluated from its weights on the test set, the test figure its
    summary recorded after training, and its weights are those of its held-out-selected epoch."""
    reg = Registry(ROOT / "saved_models")
    refs = [
        r
        for r in reg.list_runs()
        if r.run_id.startswith("ref-") and r.kind in ("classifier", "cnn", "mlp") and r.status in DONE
    ]
    assert refs, "no finished ref-* classifier in saved_models/ (run `make reference`)"
    ds = load_fashion_mnist()
    for r in refs:
        s = r.summary
        assert r.split_id is not None, f"{r.run_id}: selected before the fixed held-out split"
        assert s["weights_epoch"] == s["best_epoch"], f"{r.run_id}: saved weights are not the best epoch's"
        out = evaluate_run(reg, r.run_id, ds)
        # another CPU may round a borderline image the other way
        assert abs(out["test_accuracy"] - s["test_acc"]) <= 2e-4, (
            f"{r.run_id}: test accuracy {out['test_accuracy']:.6f} but summary says {s['test_acc']:.6f}"
        )


def test_study_all_plans_every_study_in_order(tmp_path):
    """`study --all` (what rebuilds every study from nothing) walks the catalogue; --dry-run trains nothing."""
    p = subprocess.run(
        [sys.executable, "-m", "fmnist_core", "study", "--all", "--dry-run", "--limit", "300"],
        cwd=ROOT,
        env={**os.environ, "FMNIST_RUNS_DIR": str(tmp_path / "runs"), "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    order = re.findall(r"^study (\S+) \(report", p.stderr, flags=re.M)
    assert order == list(STUDIES)
    assert "study-a1-n128-s0-l300" in p.stdout and "study-label-rnd-f1-s2-l300" in p.stdout
    assert not (tmp_path / "runs").exists()


def test_beyond_pca_ranks_the_levers_and_reads_the_goals(tmp_path):
    """Beyond PCA with three seeds a cell: the levers come out largest first as after ÷ before ratios, a
    step inside the seed noise is not called, and the last step is read against PCA and its goal."""
    study, reg = STUDIES["beyond-pca"], Registry(tmp_path)
    plan = plan_study(study, reg)
    ratio = {
        "reports": 1.0,
        "geometry": 0.5,
        "p0": 0.4,
        "linear": 0.4,
        "bn": 0.36,
        "onecycle": 0.33,
        "b64": 0.32,
    }
    pca = {32: 0.0146, 64: 0.0098, 128: 0.0059}
    for r in plan.runs:
        n, step = r.template.params["n"], r.template.params["step"]
        fake_run(reg, r.spec, r.run_id)
        mse = 3 * pca[n] * ratio[step] + 0.00002 * (r.seed - 1)
        h = [{"epoch": e, "train_loss": mse, "val_loss": mse, "epoch_seconds": 1.0} for e in (1, 2)]
        summary = {"status": "completed", "epochs_done": 2, "best_epoch": 2, "weights_epoch": 2}
        reg.save_epoch(r.run_id, h, {**summary, "test_loss": mse}, None)
    view = build_view(study, plan_study(study, reg), Extras(pca=pca))
    text = "\n".join(view.reading)
    levers = [line for line in view.reading if line[:2] in ("1.", "2.", "3.", "4.", "5.", "6.")]
    assert levers[0].startswith("1. + padded convs") and "× 0.50" in levers[0]
    assert levers[-1].startswith("6. + linear code") and "within seed noise" in levers[-1]
    assert (
        "n = 64: the modern layout reaches 0.0094 ± 5.0e-05 on test, 0.96× PCA-64 (0.0098): below PCA" in text
    )
    assert "it misses the goal of 0.0065" in text
    row = view.tables[0].rows[-1]
    assert row["step"] == "PCA, same n" and row["n=32 (× PCA)"] == "0.0146"
    assert view.tables[0].rows[1]["runs"] == "9/9" and view.tables[0].rows[1]["n=64 (× PCA)"].endswith(
        "(1.50×)"
    )


def test_an_interval_end_just_off_zero_keeps_its_sign_and_size():
    from fmnist_core.stats import signed_mse

    assert signed_mse(-0.0030) == "-0.0030" and signed_mse(0.0) == "+0.0000"
    assert signed_mse(-0.000048) == "-4.8e-05"  # not "-0.0000", which reads as touching zero
    from fmnist_core.stats import Estimate
    from fmnist_core.studies.views.common import fmt_mse

    assert Estimate(0.0092, 0.000044, 2).fmt(fmt_mse) == "0.0092 ± 4.4e-05"  # not "± 0.0000": no noise
    from fmnist_core.stats import verdict

    assert verdict(Estimate(-0.0064, 0.000036, 2), signed_mse).endswith("(95% CI ±3.6e-05, 2 seeds)")


def test_ours_against_a_reports_figure_is_called_only_outside_our_interval():
    """A report gives one figure; ours is a mean over seeds. The reading calls a difference only where our
    95% interval leaves the report's figure out, and never from one seed."""
    from fmnist_core.stats import Estimate, estimate
    from fmnist_core.studies.views.common import compare

    near, far = estimate([0.915, 0.925, 0.921]), estimate([0.851, 0.861, 0.852])
    assert "within seed noise" in compare(near, 0.9127, pct=True)
    assert "91.48%: lower by 6.01 pts (95% CI -7.38" in compare(far, 0.9148, pct=True)  # called
    assert "from one seed" in compare(Estimate(0.95, None, 1), 0.90, pct=True)
    assert compare(estimate([0.0272, 0.025, 0.029]), 0.037).split(": ")[1].startswith("lower, 0.73×")
    assert "within seed noise" in compare(estimate([0.030, 0.036, 0.040]), 0.037)
    assert compare(None, 0.037) == "" and compare(near, None) == ""
