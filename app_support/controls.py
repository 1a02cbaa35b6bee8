"""The Train page's controls, built from the settings schema (fmnist_core/settings.py): each control is one
setting under a widget key; its label, help, stops and choices are the schema's, its default the config's."""

from __future__ import annotations

from typing import Any

import streamlit as st

from fmnist_core.config import MODEL_CONFIGS, ModelConfig, TrainConfig
from fmnist_core.settings import Setting, setting

# widget key -> (section, config field)
KEYS: dict[str, tuple[str, str]] = {
    "t_latent": ("model", "latent_dim"),
    "t_dropout": ("model", "dropout"),
    "t_channels": ("model", "channels"),
    "t_bn": ("model", "batch_norm"),
    "t_pool": ("model", "second_pool"),
    "t_decoder": ("model", "decoder"),
    "t_dmode": ("model", "dropout_mode"),
    "t_freeze": ("model", "freeze_encoder"),
    "t_head_hidden": ("model", "head_hidden"),
    "t_final_relu": ("model", "final_relu"),
    "t_hidden": ("model", "hidden"),
    "t_optimizer": ("train", "optimizer"),
    "t_lr": ("train", "lr"),
    "t_momentum": ("train", "momentum"),
    "t_batch": ("train", "batch_size"),
    "t_epochs": ("train", "epochs"),
    "t_seed": ("train", "seed"),
    "t_patience": ("train", "patience"),
    "t_min_delta": ("train", "min_delta"),
    "t_validation": ("train", "validation"),
    "t_fraction": ("train", "train_fraction"),
    "t_precision": ("train", "precision"),
    "t_padding": ("model", "padding"),
    "t_code_act": ("model", "code_activation"),
    "t_schedule": ("train", "schedule"),
    "t_wd": ("train", "weight_decay"),
    "t_ls": ("train", "label_smoothing"),
    "t_augment": ("train", "augment"),
}


def schema(key: str) -> Setting:
    return setting(*KEYS[key])


def _to_widget(name: str, value: Any) -> Any:
    return ", ".join(map(str, value)) if name == "channels" else value  # the filters box shows "16, 32"


def _from_widget(name: str, value: Any) -> Any:
    return tuple(int(c) for c in value.split(",")) if name == "channels" else value


def defaults() -> dict[str, Any]:
    """Each control's value before any preset: the config's default (for a model setting, the first kind's
    that has it: the conv autoencoder's where it has one)."""
    out = {}
    for key, (section, name) in KEYS.items():
        if section == "train":
            value = getattr(TrainConfig(), name)
        else:
            value = next(getattr(c(), name) for c in MODEL_CONFIGS.values() if hasattr(c(), name))
        out[key] = _to_widget(name, value)
    return out


def values_of(model: ModelConfig, train: TrainConfig) -> dict[str, Any]:
    """The controls' values that show a model config and a TrainConfig (the settings the model has)."""
    configs = {"model": model, "train": train}
    return {
        key: _to_widget(name, getattr(configs[section], name))
        for key, (section, name) in KEYS.items()
        if hasattr(configs[section], name)
    }


def chosen(state: dict[str, Any], section: str, kind: str | None = None) -> dict[str, Any]:
    """The config fields of one section as the controls hold them; with a model kind, only the settings
    that kind has or uses (label smoothing set for a classifier does not follow the user to an autoencoder)."""
    return {
        name: _from_widget(name, state[key])
        for key, (sec, name) in KEYS.items()
        if sec == section and (kind is None or setting(sec, name).applies(kind))
    }


# -- widgets: the schema's words, the page's layout ----------------------------------------------------
def stops_slider(key: str, where: Any = st, fmt=None, help_extra: str = "", **kw: Any) -> Any:
    s = schema(key)
    stops = [_to_widget(s.name, v) for v in s.stops]
    return where.select_slider(
        s.label, stops, key=key, help=s.help + help_extra, format_func=fmt or str, **kw
    )


def choice(key: str, where: Any = st, horizontal: bool = True, **kw: Any) -> Any:
    s = schema(key)
    return where.radio(
        s.label, list(s.choices), key=key, format_func=s.choices.get, help=s.help, horizontal=horizontal, **kw
    )


def toggle(key: str, where: Any = st, **kw: Any) -> Any:
    s = schema(key)
    return where.toggle(s.label, key=key, help=s.help, **kw)


def int_slider(key: str, high: int, where: Any = st, **kw: Any) -> Any:
    """A slider from the setting's lower bound to `high` (the page's reach; the schema allows more)."""
    s = schema(key)
    return where.slider(s.label, int(s.low or 0), high, key=key, help=s.help, **kw)
