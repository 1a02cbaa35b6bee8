"""The design options beyond the reports (issue "models worth studying"): padded geometry, a linear code,
a one-cycle schedule, weight decay, label smoothing and augmentation. The reports' defaults stay as they
were; each option changes what it says and nothing else."""

from __future__ import annotations

import pytest
import torch
from conftest import small_split
from torch import nn

from fmnist_core import ClassifierConfig, ConfigError, ConvAEConfig, RunSpec, TrainConfig, build_model
from fmnist_core.augment import shift_flip
from fmnist_core.train import fit, make_optimizer, make_schedule


def test_same_padding_keeps_a_7x7_map_and_the_decoder_mirrors_it():
    model = build_model(ConvAEConfig(padding="same"))
    x = torch.rand(3, 1, 28, 28)
    maps = model.encoder.features[:10](x)  # up to the second pooling
    assert maps.shape == (3, 32, 7, 7)
    tconvs = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [(t.kernel_size, t.stride, t.padding) for t in tconvs] == [((4, 4), (2, 2), (1, 1))] * 2
    assert model(x).shape == (3, 1, 28, 28)
    # the widths of the reports (16/32 filters, n=64): about 216k parameters against 121k unpadded (batch norm adds 96)
    assert sum(p.numel() for p in model.parameters()) == 215601


def test_a_linear_code_keeps_negative_coordinates():
    x = torch.rand(64, 1, 28, 28)
    relu = build_model(ConvAEConfig(dropout=0.0)).eval()
    linear = build_model(ConvAEConfig(dropout=0.0, code_activation="linear")).eval()
    with torch.no_grad():
        assert float(relu.encode(x).min()) >= 0.0
        assert float(linear.encode(x).min()) < 0.0


def test_a_classifier_takes_the_geometry_of_the_encoder_it_copies():
    cfg = ClassifierConfig(padding="same", code_activation="linear", final_relu=False)
    enc = cfg.encoder_config()
    assert (enc.padding, enc.code_activation) == ("same", "linear")
    ae = build_model(ConvAEConfig(padding="same", code_activation="linear"))
    clf = build_model(cfg)
    clf.load_encoder(ae.encoder.state_dict())  # the same shapes, layer for layer
    assert clf(torch.rand(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize(
    "make,word",
    [
        (lambda: ConvAEConfig(padding="same", decoder="kernel"), "unpadded layout only"),
        (lambda: ConvAEConfig(padding="full"), "padding"),
        (lambda: ConvAEConfig(code_activation="tanh"), "code"),
        (lambda: TrainConfig(schedule="cosine"), "schedule"),
        (lambda: TrainConfig(label_smoothing=0.5), "label smoothing"),
        (lambda: TrainConfig(weight_decay=-1.0), "weight decay"),
        (lambda: RunSpec(ConvAEConfig(), TrainConfig(label_smoothing=0.1)), "classifier"),
        (lambda: RunSpec(ConvAEConfig(), TrainConfig(augment="shift_flip")), "classifier"),
    ],
)
def test_bad_design_options_are_refused_with_what_to_do(make, word):
    with pytest.raises(ConfigError, match=word):
        make()


def test_shift_flip_moves_and_mirrors_each_image_by_its_own_draw():
    x = torch.zeros(256, 1, 28, 28)
    x[:, :, 10:14, 6:9] = 1.0  # an off-centre block: its mirror image is somewhere else
    out = shift_flip(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    assert torch.equal(out.sum((1, 2, 3)), x.sum((1, 2, 3)))  # moved, never cut (2 px of room)
    cols = out.sum((1, 2)).argmax(1)  # the block's first column in each image
    assert len(set(cols.tolist())) > 4  # shifts and mirror images differ from image to image
    again = shift_flip(x, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # the seed decides


def test_one_cycle_warms_up_to_the_learning_rate_then_anneals():
    model = build_model(ClassifierConfig())
    cfg = TrainConfig(lr=3e-3, epochs=2, schedule="onecycle")
    opt = make_optimizer(model, cfg)
    sched = make_schedule(opt, cfg, steps_per_epoch=50)
    rates = []
    for _ in range(100):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[0] < 3e-3 / 10 and max(rates) == pytest.approx(3e-3) and rates[-1] < 1e-5
    assert rates.index(max(rates)) in range(25, 35)  # the peak 30% of the way in
    assert make_schedule(opt, TrainConfig(), 50) is None  # the reports: constant


def test_weight_decay_makes_adam_adamw():
    model = build_model(ClassifierConfig())
    assert type(make_optimizer(model, TrainConfig())) is torch.optim.Adam
    assert type(make_optimizer(model, TrainConfig(weight_decay=5e-4))) is torch.optim.AdamW


@pytest.mark.slow
def test_the_modern_options_train_a_classifier_and_keep_held_out_losses_plain(ds):
    """Label smoothing changes the training loss only: the held-out loss stays plain cross-entropy, so
    it can be compared with runs without it (the train loss carries the smoothing's floor)."""
    split = small_split(ds, 2000, 500)
    cfg = ClassifierConfig(padding="same", code_activation="linear", batch_norm=True, final_relu=False)
    torch.manual_seed(0)
    state = fit(
        build_model(cfg),
        split,
        TrainConfig(
            lr=3e-3,
            epochs=2,
            batch_size=128,
            schedule="onecycle",
            weight_decay=5e-4,
            label_smoothing=0.2,
            augment="shift_flip",
        ),
    )
    h = state.history
    assert state.status == "completed" and h[-1]["val_acc"] > 0.6
    assert h[-1]["train_loss"] > h[-1]["val_loss"]  # smoothing's floor is in the training loss only
