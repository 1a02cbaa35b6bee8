"""fit(), EarlyStopping and train_run on real data subsets: learning, determinism, Stop, encoder copy."""

from __future__ import annotations

import math
import threading

import pytest
import torch
from conftest import small_split

from fmnist_core import (
    ClassifierConfig,
    ConfigError,
    ConvAEConfig,
    EarlyStopping,
    MLPConfig,
    Registry,
    RunError,
    RunSpec,
    TrainConfig,
    build_model,
    fit,
    resolve_device,
    train_run,
)
from fmnist_core.data import holdout_id
from fmnist_core.train import build_for_spec, loss_and_accuracy


# -- EarlyStopping on scripted sequences ----------------------------------------------------
def run_stopper(values, **kw):
    es = EarlyStopping(**kw)
    stopped_at = None
    for epoch, v in enumerate(values, 1):
        es.step(v, epoch)
        if es.should_stop:
            stopped_at = epoch
            break
    return es, stopped_at


def test_early_stopping_patience():
    es, stopped = run_stopper([1.0, 0.8, 0.9, 0.85, 0.95, 0.7], patience=3)
    assert stopped == 5 and es.best_epoch == 2 and es.best == pytest.approx(0.8)


def test_early_stopping_resets_wait_on_improvement():
    es, stopped = run_stopper([1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.86], patience=2)
    assert stopped == 7 and es.best_epoch == 5


def test_early_stopping_min_delta_is_measured_from_the_best():
    # 0.97 and 0.955 improve on 1.0 but by less than 0.05: they do not count
    es, stopped = run_stopper([1.0, 0.97, 0.955, 0.94], patience=3, min_delta=0.05)
    assert stopped is None and es.best_epoch == 4 and es.wait == 0
    es, stopped = run_stopper([1.0, 0.97, 0.955, 0.96], patience=3, min_delta=0.05)
    assert stopped == 4 and es.best_epoch == 1 and es.best == pytest.approx(1.0)


def test_early_stopping_patience_zero_never_stops():
    es, stopped = run_stopper([1.0] + [2.0] * 50, patience=0)
    assert stopped is None and es.best_epoch == 1 and es.wait == 50


def test_early_stopping_step_reports_new_best_and_max_mode():
    es = EarlyStopping(patience=1)
    assert es.step(0.5, 1) is True
    assert es.step(0.6, 2) is False and es.should_stop
    es = EarlyStopping(patience=2, mode="max")
    assert [es.step(v, e) for e, v in enumerate([0.5, 0.7, 0.6, 0.65], 1)] == [True, True, False, False]
    assert es.best_epoch == 2 and es.should_stop


def test_early_stopping_skips_non_finite_values():
    es, stopped = run_stopper([math.nan, math.inf, 0.9, 0.8], patience=3)
    assert stopped is None and es.best_epoch == 4 and es.best == pytest.approx(0.8)


# -- devices ---------------------------------------------------------------------------------
def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            resolve_device("cuda")
    else:
        assert resolve_device("cuda").type == "cuda"


# -- evaluate -----------------------------------------------------------------------------
def test_evaluate_averages_over_samples_not_batches(ds):
    torch.manual_seed(0)
    model = build_model(MLPConfig())
    x, y = ds.test_images[:250], ds.test_labels[:250]
    whole = loss_and_accuracy(model, x, y, batch_size=250)
    uneven = loss_and_accuracy(model, x, y, batch_size=100)  # batches of 100, 100, 50
    assert whole["loss"] == pytest.approx(uneven["loss"], rel=1e-5)
    assert whole["acc"] == uneven["acc"]
    logits = model.eval()(x.float() / 255)
    assert whole["acc"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    ae = build_model(ConvAEConfig())
    m = loss_and_accuracy(ae, x, y)
    assert set(m) == {"loss"} and 0 < m["loss"] < 1


# -- learning on real data --------------------------------------------------------------------
@pytest.mark.slow
def test_conv_autoencoder_learns(ds):
    """Report A's baseline (n=64, p=0.2), 200 steps of 32 images: validation MSE falls clearly."""
    torch.manual_seed(0)
    model = build_model(ConvAEConfig(latent_dim=64, dropout=0.2))
    split = small_split(ds, 3200, 1000)
    untrained = loss_and_accuracy(model, split.x_val, split.y_val)["loss"]
    epochs_seen = []
    state = fit(
        model,
        split,
        TrainConfig(batch_size=32, epochs=2, device="cpu"),
        on_epoch=lambda s: epochs_seen.append(s.history[-1]["epoch"]),
    )
    h = state.history
    assert state.status == "completed" and epochs_seen == [1, 2] and len(h) == 2
    assert set(h[0]) == {"epoch", "train_loss", "val_loss", "epoch_seconds"}
    assert h[-1]["val_loss"] < 0.5 * untrained, (untrained, h)
    assert h[-1]["val_loss"] < 0.9 * h[0]["val_loss"], h
    assert h[-1]["train_loss"] < h[0]["train_loss"]
    # the returned model holds the best epoch's weights and is in eval mode
    assert not model.training
    assert loss_and_accuracy(model, split.x_val, split.y_val)["loss"] == pytest.approx(
        h[state.best_epoch - 1]["val_loss"], rel=1e-5
    )


@pytest.mark.slow
def test_small_classifier_beats_70_percent_on_held_out_images(ds):
    """A conv classifier on 3,000 images for 3 epochs; judged on test images it never saw."""
    torch.manual_seed(0)
    model = build_model(ClassifierConfig(final_relu=False, dropout=0.1))
    split = small_split(ds, 3000, 1000)
    batches = []
    state = fit(
        model, split, TrainConfig(lr=2e-3, batch_size=32, epochs=3, device="cpu"), on_batch=batches.append
    )
    assert len(batches) == 3 * math.ceil(3000 / 32)
    assert batches[-1].epoch == 3 and batches[-1].batch == batches[-1].batches and batches[-1].eta >= 0
    h = state.history
    assert all(0 <= r["train_acc"] <= 1 and 0 <= r["val_acc"] <= 1 for r in h)
    held_out = loss_and_accuracy(model, ds.test_images[5000:7000], ds.test_labels[5000:7000])
    assert held_out["acc"] > 0.70, (held_out, h)
    assert loss_and_accuracy(model, split.x_val, split.y_val)["acc"] == pytest.approx(
        h[state.best_epoch - 1]["val_acc"]
    )


def test_same_seed_same_history(ds, registry):
    """train_run twice with one seed on the CPU: identical histories and weights."""
    spec = RunSpec(ConvAEConfig(), TrainConfig(batch_size=50, epochs=2, limit=300, seed=5, device="cpu"))
    a = train_run(RunSpec(spec.model, spec.train, "seed-a"), ds, registry)
    b = train_run(RunSpec(spec.model, spec.train, "seed-b"), ds, registry)
    ha, hb = registry.get(a).history, registry.get(b).history
    strip = lambda h: [{k: v for k, v in r.items() if k != "epoch_seconds"} for r in h]  # noqa: E731
    assert len(ha) == 2 and strip(ha) == strip(hb)
    wa, wb = registry.load_state(a), registry.load_state(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = train_run(RunSpec(spec.model, spec.train.replace(seed=6), "seed-c"), ds, registry)
    assert strip(registry.get(c).history) != strip(ha)


def test_stop_event_mid_epoch_keeps_a_loadable_run(ds, registry):
    stop = threading.Event()
    saved = {}

    def on_batch(pr):
        if pr.epoch == 2 and pr.batch == 3:
            stop.set()

    def on_epoch(run_id, state):
        saved[state.history[-1]["epoch"]] = {k: v.clone() for k, v in state.best_state.items()}

    spec = RunSpec(
        ConvAEConfig(), TrainConfig(batch_size=50, epochs=3, limit=400, device="cpu"), "stopped-run"
    )
    run_id = train_run(spec, ds, registry, on_batch=on_batch, on_epoch=on_epoch, stop_event=stop)
    assert run_id == "stopped-run"
    info = registry.get(run_id)
    assert info.status == "stopped"
    assert info.summary["epochs_done"] == 1 and len(info.history) == 1 and list(saved) == [1]
    assert info.summary["best_epoch"] == 1 and info.summary["weights_epoch"] == 1
    model = registry.load_model(run_id)
    assert not model.training
    # the half-trained second epoch is discarded: the saved weights are epoch 1's
    for k, v in model.state_dict().items():
        assert torch.equal(v, saved[1][k]), k
    with torch.no_grad():
        assert model(torch.rand(2, 1, 28, 28)).shape == (2, 1, 28, 28)


def test_train_run_records_config_data_and_summary(ds, registry):
    spec = RunSpec(
        MLPConfig(hidden=32), TrainConfig(batch_size=100, epochs=2, limit=500, device="cpu"), "mlp-run"
    )
    seen = []
    run_id = train_run(spec, ds, registry, on_created=seen.append, command="python -m fmnist_core train mlp")
    assert seen == ["mlp-run"]
    info = registry.get(run_id)
    assert info.spec() == RunSpec(spec.model, spec.train)
    assert info.config["data"]["n_train"] == 500 and info.config["data"]["n_val"] == 500
    assert info.config["data"]["validation"] == "holdout"
    assert info.config["data"]["split_id"] == holdout_id(ds) and info.split_id == holdout_id(ds)
    assert info.config["command"] == "python -m fmnist_core train mlp"
    s = info.summary
    assert s["status"] == "completed" and s["epochs_done"] == 2
    assert s["best_val_loss"] == min(r["val_loss"] for r in info.history)
    assert s["final_val_acc"] == info.history[-1]["val_acc"]
    # each epoch counts the held-out images predicted as each class
    assert all(sum(r["val_pred_counts"]) == 500 and len(r["val_pred_counts"]) == 10 for r in info.history)
    # the test set, read once after training, for the saved weights (a limited run reads as many images)
    assert s["test_n"] == 500 and 0 <= s["test_acc"] <= 1 and s["test_loss"] > 0
    model = registry.load_model(run_id)
    again = loss_and_accuracy(model, ds.test_images[:500], ds.test_labels[:500])
    assert again["acc"] == s["test_acc"] and again["loss"] == pytest.approx(s["test_loss"])


# -- an encoder copied from an autoencoder run ----------------------------------------------
@pytest.fixture(scope="module")
def ae_run(ds, tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("ae-runs"))
    spec = RunSpec(ConvAEConfig(), TrainConfig(batch_size=50, epochs=1, limit=300, device="cpu"), "ae-src")
    return reg, train_run(spec, ds, reg)


def test_classifier_gets_the_autoencoders_encoder_exactly(ae_run):
    reg, ae_id = ae_run
    ae_state = reg.load_state(ae_id)
    torch.manual_seed(123)
    clf = build_for_spec(RunSpec(ClassifierConfig(encoder_run=ae_id), TrainConfig()), reg)
    enc = clf.encoder.state_dict()
    assert len(enc) > 0
    for k, v in enc.items():
        assert torch.equal(v, ae_state["encoder." + k]), k
    # and a random-init twin does not have them
    torch.manual_seed(123)
    rnd = build_for_spec(RunSpec(ClassifierConfig(), TrainConfig()), reg)
    assert not all(torch.equal(v, ae_state["encoder." + k]) for k, v in rnd.encoder.state_dict().items())
    # the copied encoder may use another dropout (report A's third variant)
    other = build_for_spec(RunSpec(ClassifierConfig(encoder_run=ae_id, dropout=0.01), TrainConfig()), reg)
    assert torch.equal(other.encoder.state_dict()["features.0.weight"], ae_state["encoder.features.0.weight"])


def test_classifier_refuses_an_encoder_that_does_not_fit(ae_run):
    reg, ae_id = ae_run
    with pytest.raises(RunError, match="latent_dim"):
        build_for_spec(RunSpec(ClassifierConfig(encoder_run=ae_id, latent_dim=128), TrainConfig()), reg)
    with pytest.raises(RunError, match="channels"):
        build_for_spec(RunSpec(ClassifierConfig(encoder_run=ae_id, channels=(64, 96)), TrainConfig()), reg)
    with pytest.raises(RunError, match="no run"):
        build_for_spec(RunSpec(ClassifierConfig(encoder_run="missing-run"), TrainConfig()), reg)


def test_pretrained_classifier_run_records_its_encoder(ae_run, ds):
    reg, ae_id = ae_run
    spec = RunSpec(
        ClassifierConfig(encoder_run=ae_id, freeze_encoder=True),
        TrainConfig(batch_size=100, epochs=1, limit=200, device="cpu"),
        "clf-from-ae",
    )
    run_id = train_run(spec, ds, reg)
    info = reg.get(run_id)
    assert info.encoder_run == ae_id and reg.dependents(ae_id) == [run_id]
    # a frozen encoder leaves the training with exactly the autoencoder's weights
    ae_state, clf_state = reg.load_state(ae_id), reg.load_state(run_id)
    enc_keys = [k for k in clf_state if k.startswith("encoder.")]
    assert enc_keys and all(torch.equal(clf_state[k], ae_state[k]) for k in enc_keys)
    with pytest.raises(RunError, match="not a convolutional autoencoder"):
        build_for_spec(RunSpec(ClassifierConfig(encoder_run=run_id), TrainConfig()), reg)


def test_the_estimate_comes_from_a_calibration_of_the_runs_own_model(ds):
    from fmnist_core.estimate import calibrate, estimate_seconds

    spec = RunSpec(ConvAEConfig(), TrainConfig(epochs=2, train_fraction=0.01, device="cpu"))
    t = calibrate(spec, budget=0.05)
    # both measured, nothing more: which is faster is a timing of 0.05 s that a busy core can flip
    assert t.eval_image > 0 and t.train_image > 0
    two = estimate_seconds(spec, ds)
    four = estimate_seconds(RunSpec(spec.model, spec.train.replace(epochs=4)), ds)
    full = estimate_seconds(RunSpec(spec.model, spec.train.replace(train_fraction=1.0)), ds)
    assert two < four < 2.5 * two and full > 20 * two  # epochs and images scale it; overheads don't dominate


def test_bf16_precision_trains_as_well_as_float32_and_keeps_float32_weights(ds):
    """The opt-in bf16 mode runs the forward pass under bfloat16 autocast: the weights stay float32,
    the loss is a float32 figure, and a short run learns about as well as the float32 run."""
    split = small_split(ds, 2000, 500)
    results = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = build_model(ClassifierConfig(final_relu=False))
        cfg = TrainConfig(epochs=2, seed=0, device="cpu", precision=precision)
        state = fit(model, split, cfg)
        assert all(p.dtype == torch.float32 for p in model.parameters())
        results[precision] = state.history[-1]
    fp32, bf16 = results["fp32"], results["bf16"]
    assert fp32 != bf16  # a different computation, not a label on the same one
    assert bf16["val_acc"] > 0.6 and abs(bf16["val_acc"] - fp32["val_acc"]) < 0.05, results
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="fp16")


def test_freed_activations_are_reused_not_faulted_in_again():
    """After keep_freed_memory() a training step maps no new memory: the step's activations reuse the
    blocks the last step freed (without it, about 5,000 page faults per autoencoder step)."""
    import resource

    from fmnist_core.allocator import keep_freed_memory
    from fmnist_core.train import make_optimizer, prepare_model, train_step

    model = prepare_model(build_model(ConvAEConfig()), torch.device("cpu"))  # sets the thresholds
    assert keep_freed_memory()  # glibc, as on every machine this lab runs on
    opt = make_optimizer(model, TrainConfig())
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
    for _ in range(3):
        train_step(model, opt, x, y)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        train_step(model, opt, x, y)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    assert faults < 500, f"{faults:.0f} page faults per step"
