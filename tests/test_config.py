"""Building model configs from a user's choices: one function for the Train page and the command line."""

from __future__ import annotations

import pytest

from fmnist_core.config import (
    ENCODER_ARCH,
    KIND_LABELS,
    MODEL_CONFIGS,
    ClassifierConfig,
    ConfigError,
    ConvAEConfig,
    encoder_arch,
    model_config,
)
from fmnist_core.errors import USER_ERRORS

CHOICES = {
    "latent_dim": 128,
    "dropout": 0.3,
    "channels": (64, 96),
    "batch_norm": True,
    "second_pool": "avg",
    "decoder": "kernel",
    "dropout_mode": "channel",
    "encoder_run": "ae-1",
    "freeze_encoder": True,
    "head_hidden": 32,
    "final_relu": False,
    "hidden": 64,
}


def test_every_kind_has_a_label():
    assert set(KIND_LABELS) == set(MODEL_CONFIGS)


@pytest.mark.parametrize("kind", sorted(MODEL_CONFIGS))
def test_a_kind_takes_the_choices_it_has_and_ignores_the_rest(kind):
    cfg = model_config(kind, **CHOICES)
    assert cfg.kind == kind
    for key, value in cfg.to_dict().items():
        if key in CHOICES:
            assert value == (list(CHOICES[key]) if isinstance(CHOICES[key], tuple) else CHOICES[key]), key


def test_left_out_or_none_takes_the_default():
    assert model_config("conv_ae") == ConvAEConfig()
    assert model_config("classifier", latent_dim=None, channels=None) == ClassifierConfig()


def test_bad_choices_are_a_config_error_a_user_can_read():
    with pytest.raises(ConfigError, match="unknown model kind 'gan'"):
        model_config("gan")
    with pytest.raises(ConfigError, match="dropout"):
        model_config("mlp", dropout=1.5)
    with pytest.raises(ConfigError, match="unknown model option.*dropuot"):
        model_config("conv_ae", dropuot=0.5)  # a typo never falls back to the default silently
    assert issubclass(ConfigError, USER_ERRORS)


def test_encoder_arch_is_what_a_classifier_shares_with_its_autoencoder():
    ae = ConvAEConfig(latent_dim=32, channels=(64, 96), batch_norm=True, second_pool="avg")
    clf = model_config("classifier", **encoder_arch(ae), encoder_run="ae")
    assert encoder_arch(clf) == encoder_arch(ae) and set(encoder_arch(ae)) == set(ENCODER_ARCH)
