"""The networks: output shapes for every option, gradients, the custom Dropout, build_model."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from fmnist_core import (
    MLP,
    Classifier,
    ClassifierConfig,
    CNNConfig,
    ConvAEConfig,
    ConvAutoencoder,
    DeepCNN,
    DenseAEConfig,
    DenseAutoencoder,
    MLPConfig,
    build_model,
    to_float,
)
from fmnist_core.models import Dropout, dropout_mask

AE_CONFIGS = {
    "baseline": ConvAEConfig(),
    "channels_64_96": ConvAEConfig(channels=(64, 96)),
    "batch_norm": ConvAEConfig(batch_norm=True),
    "avg_pool": ConvAEConfig(second_pool="avg"),
    "kernel_decoder": ConvAEConfig(decoder="kernel"),
    "channel_dropout": ConvAEConfig(dropout_mode="channel"),
    "everything": ConvAEConfig(
        latent_dim=128,
        dropout=0.3,
        channels=(64, 96),
        batch_norm=True,
        second_pool="avg",
        decoder="kernel",
        dropout_mode="channel",
    ),
    "no_dropout": ConvAEConfig(dropout=0.0),
    "tiny_code": ConvAEConfig(latent_dim=1),
}
CLASSIFIER_CONFIGS = {
    "baseline": ClassifierConfig(),
    "head_hidden": ClassifierConfig(head_hidden=32),
    "no_final_relu": ClassifierConfig(final_relu=False),
    "frozen": ClassifierConfig(freeze_encoder=True),
    "report_e": ClassifierConfig(
        latent_dim=128,
        channels=(64, 96),
        batch_norm=True,
        second_pool="avg",
        dropout_mode="channel",
        head_hidden=64,
        final_relu=False,
    ),
    "frozen_bn_hidden": ClassifierConfig(batch_norm=True, freeze_encoder=True, head_hidden=16),
}
# (a one-unit code can be ReLU-dead on a batch, so "tiny_code" is checked for shapes only)
ALL_CONFIGS = (
    [pytest.param(c, id=f"conv_ae-{k}") for k, c in AE_CONFIGS.items() if k != "tiny_code"]
    + [pytest.param(c, id=f"classifier-{k}") for k, c in CLASSIFIER_CONFIGS.items()]
    + [
        pytest.param(DenseAEConfig(), id="dense_ae"),
        pytest.param(DenseAEConfig(latent_dim=64, dropout=0.0), id="dense_ae-64"),
        pytest.param(CNNConfig(), id="cnn"),
        pytest.param(MLPConfig(), id="mlp"),
        pytest.param(MLPConfig(hidden=32, dropout=0.0), id="mlp-32"),
    ]
)


@pytest.fixture(scope="module")
def images(ds) -> torch.Tensor:
    return to_float(ds.train_images[:16])  # (16, 1, 28, 28) real images in [0, 1]


@pytest.fixture(scope="module")
def labels(ds) -> torch.Tensor:
    return ds.train_labels[:16]


def is_ae(cfg) -> bool:
    return cfg.kind in ("conv_ae", "dense_ae")


# -- shapes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", [pytest.param(c, id=k) for k, c in AE_CONFIGS.items()])
def test_conv_autoencoder_shapes(cfg, images):
    torch.manual_seed(0)
    model = build_model(cfg)
    assert isinstance(model, ConvAutoencoder)
    for mode in (True, False):
        model.train(mode)
        with torch.no_grad():
            z = model.encode(images)
            out = model.decode(z)
        assert z.shape == (16, cfg.latent_dim)
        assert out.shape == (16, 1, 28, 28)
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0  # sigmoid output
        assert model(images).shape == (16, 1, 28, 28)


def test_dense_autoencoder_shapes(images):
    model = build_model(DenseAEConfig(latent_dim=512))
    assert isinstance(model, DenseAutoencoder)
    with torch.no_grad():
        assert model.encode(images).shape == (16, 512)
        out = model(images)
    assert out.shape == (16, 1, 28, 28) and 0.0 <= float(out.min()) and float(out.max()) <= 1.0


@pytest.mark.parametrize("cfg", [pytest.param(c, id=k) for k, c in CLASSIFIER_CONFIGS.items()])
@torch.no_grad()
def test_classifier_shapes(cfg, images):
    torch.manual_seed(0)
    model = build_model(cfg)
    assert isinstance(model, Classifier)
    for mode in (True, False):
        model.train(mode)
        logits = model(images)
        assert logits.shape == (16, 10)
        assert model.encoder(images).shape == (16, cfg.latent_dim)
    if cfg.final_relu:
        assert float(logits.min()) >= 0.0  # ReLU before the softmax (reports A and C)
    else:
        assert float(logits.min()) < 0.0  # plain linear logits take both signs
    linears = [m for m in model.head if isinstance(m, nn.Linear)]
    assert len(linears) == (2 if cfg.head_hidden else 1)
    assert linears[0].in_features == cfg.latent_dim and linears[-1].out_features == 10
    if cfg.head_hidden:
        assert linears[0].out_features == cfg.head_hidden


@pytest.mark.parametrize(
    "cfg,cls",
    [
        (CNNConfig(), DeepCNN),
        (CNNConfig(dropout=0.0), DeepCNN),
        (MLPConfig(), MLP),
        (MLPConfig(hidden=8), MLP),
    ],
)
@torch.no_grad()
def test_cnn_and_mlp_shapes(cfg, cls, images):
    model = build_model(cfg)
    assert isinstance(model, cls)
    assert model.train()(images).shape == (16, 10)
    assert model.eval()(images).shape == (16, 10)


def test_report_a_autoencoder_layers():
    """Report A's shapes: conv 1->16 k3, conv 16->32 k3, 800 -> 64 code, 64 -> 800, convT 32->16 k5, 16->1 k3."""
    model = build_model(ConvAEConfig())
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [tuple(c.weight.shape) for c in convs] == [(16, 1, 3, 3), (32, 16, 3, 3)]
    enc_lin = [m for m in model.encoder.modules() if isinstance(m, nn.Linear)]
    dec_lin = [m for m in model.decoder.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in enc_lin] == [(800, 64)]
    assert [(m.in_features, m.out_features) for m in dec_lin] == [(64, 800)]
    tconvs = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [tuple(t.weight.shape) for t in tconvs] == [(32, 16, 5, 5), (16, 1, 3, 3)]
    assert tconvs[1].output_padding == (1, 1) and tconvs[1].stride == (2, 2)
    assert sum(isinstance(m, Dropout) for m in model.modules()) == 5  # after every ReLU
    assert sum(p.numel() for p in model.parameters()) == 121025
    kernel = build_model(ConvAEConfig(decoder="kernel"))
    last = [m for m in kernel.decoder.modules() if isinstance(m, nn.ConvTranspose2d)][-1]
    assert last.kernel_size == (4, 4) and last.output_padding == (0, 0)


def test_options_change_the_network():
    def kinds(model):
        return [type(m) for m in model.modules()]

    assert nn.BatchNorm2d not in kinds(build_model(ConvAEConfig()))
    assert kinds(build_model(ConvAEConfig(batch_norm=True))).count(nn.BatchNorm2d) == 2
    assert nn.AvgPool2d in kinds(build_model(ConvAEConfig(second_pool="avg")))
    assert nn.AvgPool2d not in kinds(build_model(ConvAEConfig()))
    wide = build_model(ConvAEConfig(channels=(64, 96)))
    assert [m.out_channels for m in wide.encoder.modules() if isinstance(m, nn.Conv2d)] == [64, 96]


def test_channel_dropout_zeroes_whole_feature_maps():
    torch.manual_seed(0)
    d = Dropout(0.5, "channel").train()
    x = torch.ones(8, 16, 13, 13)
    y = d(x)
    per_map = y.flatten(2)  # (8, 16, 169)
    dropped = (per_map == 0).all(2)
    kept = (per_map == 2.0).all(2)
    assert bool((dropped | kept).all())  # a map is all zero or all scaled
    assert 0 < int(dropped.sum()) < 128
    e = Dropout(0.5, "element").train()(x).flatten(2)
    assert not bool(((e == 0).all(2) | (e == 2.0).all(2)).all())  # element mode mixes within a map


# -- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg", ALL_CONFIGS)
def test_backward_reaches_every_trainable_parameter(cfg, images, labels):
    torch.manual_seed(0)
    model = build_model(cfg).train()
    out = model(images)
    loss = F.mse_loss(out, images) if is_ae(cfg) else F.cross_entropy(out, labels)
    loss.backward()
    frozen = cfg.kind == "classifier" and cfg.freeze_encoder
    trainable = 0
    for name, p in model.named_parameters():
        if frozen and name.startswith("encoder."):
            assert not p.requires_grad, name
            assert p.grad is None, f"{name} is frozen but got a gradient"
            continue
        trainable += 1
        assert p.requires_grad, name
        assert p.grad is not None, f"{name} got no gradient"
        assert torch.isfinite(p.grad).all(), name
        assert float(p.grad.abs().sum()) > 0, f"{name} has an all-zero gradient"
    assert trainable > 0


def test_frozen_encoder_is_not_trained(images, labels):
    torch.manual_seed(0)
    model = build_model(ClassifierConfig(freeze_encoder=True)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(model(images), labels).backward()
        opt.step()
    after = model.state_dict()
    for k in before:
        if k.startswith("encoder."):
            assert torch.equal(before[k], after[k]), k
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("head."))


def test_classifier_load_encoder_copies_weights():
    torch.manual_seed(0)
    ae = build_model(ConvAEConfig())
    torch.manual_seed(1)
    clf = build_model(ClassifierConfig())
    enc = {k[len("encoder.") :]: v for k, v in ae.state_dict().items() if k.startswith("encoder.")}
    assert not all(torch.equal(v, clf.encoder.state_dict()[k]) for k, v in enc.items())
    clf.load_encoder(enc)
    for k, v in enc.items():
        assert torch.equal(clf.encoder.state_dict()[k], v), k
    with pytest.raises(RuntimeError):  # an encoder of another size does not fit
        clf.load_encoder(
            {
                k[len("encoder.") :]: v
                for k, v in build_model(ConvAEConfig(latent_dim=32)).state_dict().items()
                if k.startswith("encoder.")
            }
        )


# -- the custom Dropout ---------------------------------------------------------------------
@pytest.mark.parametrize("p", [0.01, 0.2, 0.5, 0.9])
def test_dropout_drops_about_p_and_rescales(p):
    torch.manual_seed(0)
    d = Dropout(p).train()
    x = torch.rand(200, 1000) + 0.5  # no zeros in the input
    y = d(x)
    dropped = y == 0
    frac = float(dropped.float().mean())
    assert abs(frac - p) < 0.01, f"dropped {frac:.4f}, expected {p}"
    kept = ~dropped
    assert torch.allclose(y[kept], x[kept] / (1 - p), rtol=1e-6)  # inverted dropout: scale 1/(1-p)
    assert abs(float(y.mean()) - float(x.mean())) < 0.02  # expectation preserved


def test_dropout_mask_is_fair_in_every_lane():
    """dropout_mask packs four 15-bit draws in one 64-bit word: each of the four lanes must be uniform."""
    torch.manual_seed(0)
    x = torch.empty(800_000)
    for p in (0.1, 0.5):
        mask = dropout_mask(x, p)
        assert mask.dtype == x.dtype and mask.shape == x.shape
        assert set(mask.unique().tolist()) == {0.0, float(torch.tensor(1 / (1 - p)))}
        for lane in range(4):
            frac = float((mask[lane::4] == 0).float().mean())
            assert abs(frac - p) < 0.005, (p, lane, frac)
    assert bool((dropout_mask(x, 0.0) == 1).all())


@pytest.mark.parametrize("p", [0.2, 0.05, 1e-4, 1e-6])
def test_dropout_mask_is_the_one_every_shipped_run_was_trained_with(p):
    """The float mask draws the same random words and keeps the same elements as the bool mask of
    earlier versions (so `make reference` still retrains the shipped runs exactly), in x's layout."""
    x = torch.rand(8, 16, 26, 26).contiguous(memory_format=torch.channels_last)
    torch.manual_seed(5)
    mask = dropout_mask(x, p)
    torch.manual_seed(5)
    n = x.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_()
    bits = words.view(torch.int16)[:n].as_strided(x.shape, x.stride())
    before = ((bits & 0x7FFF) >= round(p * 32768)).to(x.dtype).mul_(1.0 / (1.0 - p))
    assert torch.equal(mask, before)
    assert mask.stride() == x.stride()


def test_dropout_masks_differ_between_calls_and_follow_the_seed():
    x = torch.ones(64, 64)
    d = Dropout(0.5).train()
    torch.manual_seed(3)
    a, b = d(x), d(x)
    assert not torch.equal(a, b)
    torch.manual_seed(3)
    assert torch.equal(d(x), a)


def test_dropout_is_identity_in_eval_and_at_p0():
    x = torch.rand(32, 50)
    assert torch.equal(Dropout(0.5).eval()(x), x)
    assert torch.equal(Dropout(0.0).train()(x), x)
    maps = torch.rand(2, 3, 4, 4)
    assert torch.equal(Dropout(0.5, "channel").eval()(maps), maps)
    assert not torch.equal(Dropout(0.5).train()(x), x)  # the same module does drop in train mode


def test_dropout_gradient_uses_the_forward_mask():
    torch.manual_seed(0)
    p = 0.3
    x = (torch.rand(100, 100) + 0.1).requires_grad_()
    y = Dropout(p).train()(x)
    upstream = torch.randn_like(y)
    y.backward(upstream)
    mask = (y.detach() != 0).float() / (1 - p)  # what forward did to each element
    assert torch.allclose(x.grad, upstream * mask)
    assert bool((x.grad[y.detach() == 0] == 0).all())


def test_model_eval_is_deterministic_train_is_not(images):
    torch.manual_seed(0)
    model = build_model(ConvAEConfig(dropout=0.2))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(images), model(images))
        model.train()
        assert not torch.equal(model(images), model(images))


def test_build_model_rebuilds_the_same_architecture():
    for cfg in (ConvAEConfig(), DenseAEConfig(), ClassifierConfig(head_hidden=8), CNNConfig(), MLPConfig()):
        a, b = build_model(cfg), build_model(cfg)
        assert a.cfg == cfg
        sa, sb = a.state_dict(), b.state_dict()
        assert sa.keys() == sb.keys()
        assert all(sa[k].shape == sb[k].shape for k in sa)
        b.load_state_dict(sa)  # strict: every key and shape fits


# -- configs --------------------------------------------------------------------------------
from fmnist_core import ConfigError, RunSpec, TrainConfig, model_config_from_dict  # noqa: E402

ABSURD = [
    (ConvAEConfig, {"latent_dim": 0}, "latent size"),
    (ConvAEConfig, {"latent_dim": 10**6}, "latent size"),
    (ConvAEConfig, {"dropout": 1.0}, "dropout"),
    (ConvAEConfig, {"dropout": -0.1}, "dropout"),
    (ConvAEConfig, {"dropout": float("nan")}, "dropout"),
    (ConvAEConfig, {"channels": (16,)}, "channels"),
    (ConvAEConfig, {"channels": (0, 32)}, "channels"),
    (ConvAEConfig, {"channels": (16, 10_000)}, "channels"),
    (ConvAEConfig, {"second_pool": "median"}, "second_pool"),
    (ConvAEConfig, {"decoder": "magic"}, "decoder"),
    (ConvAEConfig, {"dropout_mode": "spatial"}, "dropout_mode"),
    (DenseAEConfig, {"latent_dim": -5}, "latent size"),
    (DenseAEConfig, {"dropout": 2.0}, "dropout"),
    (ClassifierConfig, {"head_hidden": -1}, "head_hidden"),
    (ClassifierConfig, {"encoder_run": ""}, "encoder_run"),
    (ClassifierConfig, {"dropout": 1.5}, "dropout"),
    (ClassifierConfig, {"channels": (16, 0)}, "channels"),
    (CNNConfig, {"dropout": 1.0}, "dropout"),
    (MLPConfig, {"hidden": 0}, "hidden"),
    (TrainConfig, {"lr": 0}, "learning rate"),
    (TrainConfig, {"lr": -1}, "learning rate"),
    (TrainConfig, {"lr": float("inf")}, "learning rate"),
    (TrainConfig, {"lr": float("nan")}, "learning rate"),
    (TrainConfig, {"epochs": 0}, "epochs"),
    (TrainConfig, {"epochs": 10**6}, "epochs"),
    (TrainConfig, {"batch_size": 0}, "batch size"),
    (TrainConfig, {"optimizer": "rmsprop"}, "optimizer"),
    (TrainConfig, {"momentum": 1.0}, "momentum"),
    (TrainConfig, {"seed": -1}, "seed"),
    (TrainConfig, {"patience": -2}, "patience"),
    (TrainConfig, {"min_delta": -0.1}, "min_delta"),
    (TrainConfig, {"validation": "train"}, "validation"),
    (TrainConfig, {"val_fraction": 1.0}, "val_fraction"),
    (TrainConfig, {"limit": -1}, "limit"),
    (TrainConfig, {"limit": 70000}, "limit"),
    (TrainConfig, {"train_fraction": 0.0}, "train_fraction"),
    (TrainConfig, {"device": "tpu"}, "device"),
]


@pytest.mark.parametrize(
    "cls,kwargs,word",
    ABSURD,
    ids=[f"{c.__name__}-{next(iter(k))}={next(iter(k.values()))}" for c, k, _ in ABSURD],
)
def test_absurd_values_raise_config_error(cls, kwargs, word):
    with pytest.raises(ConfigError) as e:
        cls(**kwargs)
    msg = str(e.value)
    assert word in msg, msg
    if kwargs != {"encoder_run": ""}:
        assert "got" in msg, f"the message should echo the bad value: {msg}"
    assert isinstance(e.value, ValueError)
    with pytest.raises(ConfigError):  # the same check guards configs read back from JSON
        cls.from_dict({**cls().to_dict(), **kwargs})


@pytest.mark.parametrize(
    "cls,d",
    [
        (ConvAEConfig, {"latent_dim": "64"}),
        (ConvAEConfig, {"latent_dim": 64.5}),
        (ConvAEConfig, {"channels": 16}),
        (TrainConfig, {"epochs": 2.5}),
    ],
)
def test_wrongly_typed_values_raise_config_error(cls, d):
    """A hand-edited config.json with a string or a fraction where a count belongs is a ConfigError too."""
    with pytest.raises(ConfigError):
        cls.from_dict(d)


ROUND_TRIP = [
    ConvAEConfig(
        latent_dim=128,
        dropout=0.01,
        channels=(64, 96),
        batch_norm=True,
        second_pool="avg",
        decoder="kernel",
        dropout_mode="channel",
    ),
    DenseAEConfig(latent_dim=256, dropout=0.0),
    ClassifierConfig(
        latent_dim=128,
        encoder_run="ae-1",
        freeze_encoder=True,
        head_hidden=64,
        final_relu=False,
        channels=(64, 96),
    ),
    CNNConfig(dropout=0.3),
    MLPConfig(hidden=100, dropout=0.5),
    TrainConfig(
        optimizer="sgd",
        lr=0.1,
        momentum=0.9,
        batch_size=1000,
        epochs=40,
        seed=7,
        patience=5,
        min_delta=1e-3,
        restore_best=False,
        validation="holdout",
        val_fraction=0.2,
        limit=5000,
        train_fraction=0.5,
        device="cpu",
    ),
]


@pytest.mark.parametrize("cfg", ROUND_TRIP, ids=lambda c: c.kind)
def test_config_round_trip_through_json(cfg):
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["kind"] == cfg.kind
    back = type(cfg).from_dict(d)
    assert back == cfg and hash(back) == hash(cfg)
    if cfg.kind != "train":
        assert model_config_from_dict(d) == cfg


def test_run_spec_round_trip():
    spec = RunSpec(ROUND_TRIP[2], ROUND_TRIP[-1], "my-run")
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert RunSpec.from_dict({"model": {"kind": "mlp"}}) == RunSpec(MLPConfig(), TrainConfig())


def test_unknown_keys_and_kinds_are_rejected():
    with pytest.raises(ConfigError, match="unknown conv_ae config keys: latnet_dim"):
        ConvAEConfig.from_dict({"latnet_dim": 64})
    with pytest.raises(ConfigError, match="unknown train config keys: epoch"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="is not 'dense_ae'"):
        DenseAEConfig.from_dict({"kind": "conv_ae"})
    with pytest.raises(ConfigError, match="unknown model kind 'vae'"):
        model_config_from_dict({"kind": "vae"})
    with pytest.raises(ConfigError, match="unknown model kind"):
        model_config_from_dict({})
    with pytest.raises(ConfigError, match="unknown run spec keys: extra"):
        RunSpec.from_dict({"model": {"kind": "mlp"}, "extra": 1})


def test_configs_are_frozen_and_replace_validates():
    cfg = ConvAEConfig()
    with pytest.raises(AttributeError):
        cfg.latent_dim = 3  # type: ignore[misc]
    assert cfg.replace(latent_dim=128).latent_dim == 128 and cfg.latent_dim == 64
    with pytest.raises(ConfigError):
        cfg.replace(dropout=1.0)


def test_classifier_config_encoder_settings():
    c = ClassifierConfig(
        latent_dim=128, dropout=0.01, channels=(64, 96), batch_norm=True, second_pool="avg", encoder_run="ae"
    )
    assert c.pretrained and not ClassifierConfig().pretrained
    assert c.encoder_config() == ConvAEConfig(
        latent_dim=128, dropout=0.01, channels=(64, 96), batch_norm=True, second_pool="avg"
    )
