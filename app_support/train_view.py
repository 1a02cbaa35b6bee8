"""The Train page's sections: the preset box and what it fills, the encoder of a classifier, the model's and
training's controls (built by app_support.controls from the settings schema), and the start button with
its time estimate. The page's session state (keys t_*) holds the controls' values between reruns."""

from __future__ import annotations

import streamlit as st

from app_support import controls
from app_support.data import fmt_seconds, registry, run_label, runs
from app_support.jobs import estimates_later, job_queue, submit_job
from app_support.sidebar import bf16_native, cuda_available
from fmnist_core.config import (
    ENCODER_ARCH,
    KIND_LABELS,
    ConvAEConfig,
    RunSpec,
    TrainConfig,
    encoder_arch,
    model_config,
)
from fmnist_core.errors import ConfigError, RunError
from fmnist_core.presets import presets
from fmnist_core.registry import validate_run_id
from fmnist_core.settings import LABELLED, lr_warning, setting

PRESETS = presets()  # by model kind, then label
KINDS = {k: label[0].upper() + label[1:] for k, label in KIND_LABELS.items()}  # "Conv autoencoder", ...
DEFAULTS = controls.defaults()
CUSTOM = "custom"
# how a run is made rather than what it is: presets leave them alone
RUN_KEYS = {"t_seed", "t_fraction", "t_precision"}
FIXED_BY_ENCODER = {k for k, (_, name) in controls.KEYS.items() if name in ENCODER_ARCH}


# -- presets --------------------------------------------------------------------------------
def preset_values(kind: str, name: str) -> dict:
    """Every control's value under a preset (the defaults where the preset says nothing)."""
    preset = PRESETS[kind][name]
    return {
        k: v
        for k, v in {**DEFAULTS, **controls.values_of(preset.model, preset.train)}.items()
        if k not in RUN_KEYS
    }


def chosen_preset(kind: str) -> str:
    return st.session_state.get(f"t_preset_{kind}") or next(iter(PRESETS[kind]))


def is_custom(kind: str) -> bool:
    """Whether the controls differ from the chosen preset (what a pretrained encoder fixes does not count)."""
    name = chosen_preset(kind)
    if name == CUSTOM:
        return True
    fixed = (
        FIXED_BY_ENCODER
        if kind == "classifier" and st.session_state.get("t_encoder", "random") != "random"
        else set()
    )
    return any(
        st.session_state.get(k, DEFAULTS.get(k)) != v
        for k, v in preset_values(kind, name).items()
        if k not in fixed
    )


def apply_preset() -> None:
    """The Preset box's callback: fill the controls with the chosen preset ("custom" leaves them as they are)."""
    kind = st.session_state["t_kind"]
    if chosen_preset(kind) != CUSTOM:
        st.session_state.update(preset_values(kind, chosen_preset(kind)))


def switch_kind() -> None:
    """The Model control's callback. Values the user changed are kept (the Preset box says "custom");
    an unchanged preset becomes the new kind's preset. Either way a toast says which."""
    kind = st.session_state["t_kind"]
    if st.session_state.get("t_was_custom"):
        st.session_state[f"t_preset_{kind}"] = CUSTOM
        st.session_state["t_notice"] = (
            f"{KINDS[kind]}: your settings are kept (preset: custom). Pick a preset "
            "to fill the controls with a report's configuration."
        )
    else:
        apply_preset()
        st.session_state["t_notice"] = (
            f"{KINDS[kind]}: the controls now hold the preset “{chosen_preset(kind)}”."
        )


def init_state() -> None:
    """The first visit's controls (the conv autoencoder's first preset); then, before the Preset box is
    drawn, a preset whose values were changed is marked "custom"."""
    if "t_kind" not in st.session_state:
        st.session_state["t_kind"] = "conv_ae"
        st.session_state.update(DEFAULTS)
        apply_preset()
    st.session_state["t_was_custom"] = is_custom(st.session_state["t_kind"])
    if st.session_state["t_was_custom"]:
        st.session_state[f"t_preset_{st.session_state['t_kind']}"] = CUSTOM


def preset_box(kind: str) -> None:
    st.selectbox(
        "Preset",
        [*PRESETS[kind], CUSTOM],
        key=f"t_preset_{kind}",
        on_change=apply_preset,
        format_func=lambda n: "custom (your own settings)" if n == CUSTOM else n,
        help="Fills the controls below with a configuration from the reports. Change anything after: "
        "the box then says custom.",
    )
    st.caption(
        "Your own settings. Pick a preset to fill the controls with one of the reports' configurations."
        if chosen_preset(kind) == CUSTOM
        else PRESETS[kind][chosen_preset(kind)].about
    )


# -- the controls ---------------------------------------------------------------------------
def encoder_controls() -> tuple[str, ConvAEConfig | None]:
    """A classifier's encoder (random init, or an autoencoder run's weights), frozen or not, final ReLU:
    the encoder run and, when pretrained, the autoencoder's config (it fixes the architecture)."""
    ae_runs = {r.run_id: run_label(r) for r in runs(["conv_ae"])}
    options = ["random"] + list(ae_runs)
    if st.session_state.get("t_encoder") not in options:
        st.session_state["t_encoder"] = options[1] if len(options) > 1 else "random"
    encoder_run = st.selectbox(
        "Encoder",
        options,
        key="t_encoder",
        format_func=lambda r: "random init (no pre-training)" if r == "random" else ae_runs[r],
        help="Copy the encoder weights of an autoencoder run, or start from random weights.",
    )
    encoder_cfg = None
    if encoder_run != "random":
        encoder_model = registry().info(encoder_run).spec().model
        assert isinstance(encoder_model, ConvAEConfig)  # the box offers conv_ae runs only
        encoder_cfg = encoder_model
        latents = controls.schema("t_latent").stops
        if encoder_cfg.latent_dim in latents:
            st.session_state["t_latent"] = encoder_cfg.latent_dim
    controls.toggle("t_freeze")
    controls.toggle("t_final_relu")
    return encoder_run, encoder_cfg


def model_controls(kind: str, encoder_cfg: ConvAEConfig | None) -> None:
    """The controls every run shows: code size or hidden units, dropout, learning rate, batch, epochs,
    optimizer, seed, patience and the share of the training images."""
    if kind in ("conv_ae", "dense_ae", "classifier"):
        controls.stops_slider(
            "t_latent",
            disabled=encoder_cfg is not None,
            help_extra=" Fixed by the chosen encoder." if encoder_cfg is not None else "",
        )
    if kind == "mlp":
        controls.stops_slider("t_hidden")
    controls.stops_slider(
        "t_dropout",
        help_extra=" May differ from the encoder's: report A raised it to 0.2 after inheriting."
        if kind == "classifier"
        else "",
    )
    controls.stops_slider(
        "t_lr",
        fmt=lambda v: f"{v:g}",
        help_extra=" The choices go up by about ×3 each (1e-4, 3e-4, 1e-3, …).",
    )
    if warning := lr_warning(st.session_state["t_lr"]):
        st.warning(warning, icon=":material/warning:")
    c1, c2 = st.columns(2)
    controls.stops_slider("t_batch", c1)
    controls.int_slider("t_epochs", 100, c2)
    c1, c2 = st.columns(2)
    controls.choice("t_optimizer", c1)
    seed = controls.schema("t_seed")
    c2.number_input(seed.label, 0, 2**31 - 1, key="t_seed", help=seed.help)
    c1, c2 = st.columns(2)
    controls.int_slider("t_patience", 20, c1)
    controls.stops_slider("t_fraction", c2, fmt=lambda v: f"{100 * v:g}%")


def more_options(kind: str, encoder_cfg: ConvAEConfig | None) -> None:
    """The "More options" expander: validation, architecture details, momentum, min delta, device,
    precision and the run's name."""
    controls.choice("t_validation", horizontal=False)
    if kind in ("conv_ae", "classifier"):
        dis = encoder_cfg is not None
        controls.stops_slider("t_channels", disabled=dis)
        controls.toggle("t_bn", disabled=dis)
        controls.choice("t_pool", disabled=dis)
        controls.choice("t_dmode")
    if kind == "conv_ae":  # with padded convs the decoder mirrors the encoder: no last-layer choice
        same = st.session_state.get("t_padding") == "same"
        if same:
            st.session_state["t_decoder"] = "output_padding"  # the only decoder that layout has
        controls.choice("t_decoder", disabled=same)
    if kind == "classifier":
        controls.stops_slider("t_head_hidden")
    beyond_the_reports(kind, encoder_cfg)
    if st.session_state["t_optimizer"] == "sgd":
        st.slider(controls.schema("t_momentum").label, 0.0, 0.99, key="t_momentum")
    delta = controls.schema("t_min_delta")
    st.number_input(delta.label, 0.0, 1.0, key="t_min_delta", format="%.5f", step=0.0001, help=delta.help)
    devices = ["auto", "cpu"] + (["cuda"] if cuda_available() else [])
    st.selectbox("Device", devices, key="t_device", help=setting("train", "device").help)
    precision = controls.schema("t_precision")
    st.radio(
        precision.label,
        list(precision.choices),
        key="t_precision",
        horizontal=True,
        format_func=precision.choices.get,
        help=precision.help
        + " "
        + (
            "This machine computes bf16 in hardware: a classifier step takes about 1.2-1.5x less time."
            if bf16_native()
            else "This machine has no bf16 hardware (AVX-512 BF16, AMX or a GPU): bf16 would be slower here."
        ),
    )
    st.text_input(
        "Run name (optional)",
        key="t_name",
        max_chars=80,
        help="Letters, digits, '.', '_' and '-'; default: kind and time.",
    )


# -- start ----------------------------------------------------------------------------------
def beyond_the_reports(kind: str, encoder_cfg: ConvAEConfig | None) -> None:
    """The design options the reports did not use (the beyond-pca study's levers, the classifier record's
    ingredients): their defaults are the reports' choices."""
    st.markdown("**Beyond the reports**")
    if kind in ("conv_ae", "classifier"):
        dis = encoder_cfg is not None  # a pretrained encoder fixes its layout
        controls.choice("t_padding", horizontal=False, disabled=dis)
        controls.choice("t_code_act", disabled=dis)
    controls.choice("t_schedule", horizontal=False)
    controls.stops_slider("t_wd", fmt=lambda v: f"{v:g}")
    if kind in LABELLED:
        controls.stops_slider("t_ls", fmt=lambda v: f"{v:g}")
        controls.choice("t_augment", horizontal=False)


def current_spec(kind: str, encoder_run: str, encoder_cfg: ConvAEConfig | None) -> RunSpec:
    # widgets not shown this run lose their state: fall back to the defaults
    s = {**DEFAULTS, "t_device": "auto", "t_name": "", **st.session_state.to_dict()}
    choices = controls.chosen(s, "model", kind)
    if kind == "classifier":
        choices["encoder_run"] = encoder_run
        if encoder_cfg is not None:  # a pretrained encoder fixes the architecture
            choices.update(encoder_arch(encoder_cfg))
    model = model_config(kind, **choices)
    given = {
        **controls.chosen(s, "train", kind),
        "seed": int(s["t_seed"]),
        "min_delta": float(s["t_min_delta"]),
    }
    train = TrainConfig(**given, device=s.get("t_device", "auto"))
    return RunSpec(model, train, (s.get("t_name") or "").strip() or None)


def checked_spec(kind: str, encoder_run: str, encoder_cfg: ConvAEConfig | None) -> RunSpec | None:
    """The run the controls describe, or None with an error line saying why it cannot start."""
    try:
        spec = current_spec(kind, encoder_run, encoder_cfg)
        if spec.name:
            validate_run_id(spec.name)
            if registry().path(spec.name).exists():
                raise ConfigError(f"a run named {spec.name!r} already exists; choose another name")
    except (ConfigError, RunError) as e:
        st.error(f"Cannot start: {e}")
        return None
    return spec


def start(kind: str, spec: RunSpec | None) -> None:
    """The Start button (it queues the run and the monitor below follows it) and the time estimate."""
    failed = job_queue().get(st.session_state.get("t_job", -1))
    if failed is not None and failed.status == "failed" and spec is not None and spec != failed.spec:
        del st.session_state["t_job"]  # its alert is about settings the user has since changed
    c1, c2 = st.columns([1, 2])
    if (
        c1.button(
            "Start training",
            type="primary",
            icon=":material/play_arrow:",
            disabled=spec is None,
            use_container_width=True,
        )
        and spec is not None
    ):
        job, new = submit_job(
            spec,
            spec.name
            or f"{KINDS[kind]} (n={getattr(spec.model, 'latent_dim', '–')}, "
            f"p={spec.model.dropout:g}, seed {spec.train.seed})",
        )
        if job is not None:
            st.session_state["t_job"] = job.job_id
        if job is not None and not new:
            st.toast("That exact job is already in the queue; showing it.", icon=":material/info:")
    if spec is not None:
        with c2:
            if estimates_later(spec) is not None:
                _estimate(spec)
            else:  # timed in the background: the page is drawn again when it is ready
                st.fragment(_estimate_when_ready, run_every=0.5)(spec)


def _estimate_when_ready(spec: RunSpec) -> None:
    if estimates_later(spec) is None:
        st.caption("Timing a few steps of this model on this device…")
    else:  # once, and the polling fragment is gone (a click during its reruns could be lost)
        st.rerun()


def _estimate(spec: RunSpec) -> None:
    est, after = estimates_later(spec) or (None, None)
    st.caption(
        f"About **{fmt_seconds(est + (after or 0))}** on this device: {fmt_seconds(est)} of "
        f"training, then {fmt_seconds(after or 0)} to evaluate the run for the pages (timed on a few "
        "steps of this model)."
        if est
        else "Time per epoch will show after the first epoch."
    )
