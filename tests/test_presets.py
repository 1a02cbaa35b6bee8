"""The Train page's presets are study catalog runs; the validation choice is worded in one place."""

from __future__ import annotations

import pytest

from fmnist_core.cli.args import build_parser
from fmnist_core.config import KIND_LABELS, ConfigError, TrainConfig
from fmnist_core.presets import REFERENCE_ACCURACY, VALIDATION_HELP, VALIDATION_LABELS, presets
from fmnist_core.studies.catalog import get_study

PRESETS = [(kind, p) for kind, ps in presets().items() for p in ps.values()]


def catalog_run(preset):
    return get_study(preset.study).template(preset.run)


@pytest.mark.parametrize("kind, preset", PRESETS, ids=[p.label for _, p in PRESETS])
def test_every_preset_is_its_catalog_run(kind, preset):
    run = catalog_run(preset)
    assert (preset.model, preset.train) == (run.model, run.train)
    assert preset.model.kind == kind
    assert "{" not in preset.label + preset.about  # every template field was filled


def test_every_model_kind_has_presets():
    assert set(presets()) == set(KIND_LABELS)


def test_a_classifier_preset_names_the_autoencoder_preset_of_its_encoder():
    autoencoders = presets()["conv_ae"]
    for preset in presets()["classifier"].values():
        if catalog_run(preset).encoder is None:  # random init (the classifier records): no encoder to name
            assert "Its encoder" not in preset.about
            continue
        encoder = get_study(preset.study).template(catalog_run(preset).encoder)
        named = preset.about.split("Its encoder: a run of the preset “")[1].rstrip("”.")
        assert (autoencoders[named].model, autoencoders[named].train) == (encoder.model, encoder.train)


def test_preset_words_quote_the_catalog():
    c8 = presets()["classifier"]["Report C C8 (frozen encoder)"]
    assert f"{catalog_run(c8).report['val_acc']:.1%}" in c8.about
    assert c8.model.latent_dim == 128 and c8.train.epochs == 40  # the catalog's, which the old preset lacked


def test_reference_accuracies_agree_with_the_catalog():
    ref = dict(REFERENCE_ACCURACY)
    assert ref["A: base classifier, 30 epochs (91.1%)"] == get_study("a4").numbers[30][0]
    assert ref["D: deep CNN (89.78%)"] == get_study("d").template("cnn").report["accuracy"]
    assert ref["D: MLP (87.99%)"] == get_study("d").template("mlp").report["accuracy"]


def test_validation_labels_cover_trainconfigs_choices_default_first():
    for choice in VALIDATION_LABELS:
        TrainConfig(validation=choice)
    with pytest.raises(ConfigError):
        TrainConfig(validation="train")
    default = TrainConfig().validation
    assert list(VALIDATION_LABELS)[0] == default
    assert [c for c, label in VALIDATION_LABELS.items() if "(default)" in label] == [default]
    assert "held" in VALIDATION_HELP and "test set" in VALIDATION_HELP


def test_cli_validation_flag_uses_the_same_words(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "mlp", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    assert "--validation {" + ",".join(VALIDATION_LABELS) + "}" in help_text
    assert all(label in help_text for label in VALIDATION_LABELS.values())
