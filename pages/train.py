"""Train: pick a model and its hyperparameters, queue a job, watch live curves, stop it."""

import streamlit as st

import app_support as ui
from fmnist_core.config import KIND_LABELS, OPTIMIZER_LABELS, RunSpec, TrainConfig, encoder_arch, model_config
from fmnist_core.errors import ConfigError
from fmnist_core.presets import VALIDATION_HELP, VALIDATION_LABELS, Preset, presets
from fmnist_core.registry import validate_run_id

ui.frame("train")

PRESETS = presets()  # by model kind, then label
KINDS = {k: label[0].upper() + label[1:] for k, label in KIND_LABELS.items()}  # "Conv autoencoder", ...
LATENTS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
DROPOUTS = [0.0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
LRS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]
BATCHES = [16, 32, 64, 100, 128, 256, 500, 1000, 2000, 5000]
FRACTIONS = [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0]
DEFAULTS = {
    "t_latent": 64,
    "t_dropout": 0.2,
    "t_lr": 1e-3,
    "t_batch": 100,
    "t_epochs": 20,
    "t_optimizer": "adam",
    "t_momentum": 0.0,
    "t_seed": 0,
    "t_patience": 0,
    "t_fraction": 1.0,
    "t_validation": TrainConfig().validation,
    "t_channels": "16, 32",
    "t_bn": False,
    "t_pool": "max",
    "t_decoder": "output_padding",
    "t_dmode": "element",
    "t_freeze": False,
    "t_head_hidden": 0,
    "t_final_relu": True,
    "t_hidden": 256,
    "t_min_delta": 0.0,
    "t_precision": "fp32",
}


def preset_widgets(preset: Preset) -> dict:
    """The widget values that show a preset's model and training configs."""
    m, t = preset.model, preset.train
    w = {
        "t_lr": t.lr,
        "t_batch": t.batch_size,
        "t_epochs": t.epochs,
        "t_optimizer": t.optimizer,
        "t_momentum": t.momentum,
        "t_patience": t.patience,
        "t_validation": t.validation,
        "t_dropout": m.dropout,
    }
    if hasattr(m, "latent_dim"):
        w["t_latent"] = m.latent_dim
    if hasattr(m, "channels"):
        w.update(
            t_channels=", ".join(map(str, m.channels)),
            t_bn=m.batch_norm,
            t_pool=m.second_pool,
            t_dmode=m.dropout_mode,
        )
    if hasattr(m, "decoder"):
        w["t_decoder"] = m.decoder
    if hasattr(m, "freeze_encoder"):
        w.update(t_freeze=m.freeze_encoder, t_head_hidden=m.head_hidden, t_final_relu=m.final_relu)
    if hasattr(m, "hidden"):
        w["t_hidden"] = m.hidden
    return w


CUSTOM = "custom"
# how a run is made rather than what it is: presets leave them alone
RUN_KEYS = {"t_seed", "t_fraction", "t_precision"}
FIXED_BY_ENCODER = {"t_latent", "t_channels", "t_bn", "t_pool"}


def preset_values(kind: str, name: str) -> dict:
    """Every control's value under a preset (the defaults where the preset says nothing)."""
    return {**{k: v for k, v in DEFAULTS.items() if k not in RUN_KEYS}, **preset_widgets(PRESETS[kind][name])}


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


def snap(value, options):
    return min(options, key=lambda o: abs(o - value))


if "t_kind" not in st.session_state:
    st.session_state["t_kind"] = "conv_ae"
    st.session_state.update(DEFAULTS)
    apply_preset()
# before the Preset box is drawn: a preset whose values were changed is shown as "custom"
st.session_state["t_was_custom"] = is_custom(st.session_state["t_kind"])
if st.session_state["t_was_custom"]:
    st.session_state[f"t_preset_{st.session_state['t_kind']}"] = CUSTOM

st.title("Train")
st.caption(
    "Pick a model, set its hyperparameters (or a report's preset) and start. Jobs run one at a time on "
    f"this machine's {ui.device_line()}; every epoch is saved, so Stop keeps what was learned."
)

if notice := st.session_state.pop("t_notice", None):
    st.toast(notice, icon=":material/tune:")
kind = st.segmented_control(
    "Model", list(KINDS), format_func=KINDS.get, key="t_kind", on_change=switch_kind, required=True
)
left, right = st.columns([5, 7], gap="large")
with left:
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

    encoder_run, encoder_cfg = "random", None
    if kind == "classifier":
        ae_runs = {r.run_id: ui.run_label(r) for r in ui.runs(["conv_ae"])}
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
        if encoder_run != "random":
            encoder_cfg = ui.registry().info(encoder_run).spec().model
            st.session_state["t_latent"] = (
                snap(encoder_cfg.latent_dim, LATENTS)
                if encoder_cfg.latent_dim in LATENTS
                else st.session_state["t_latent"]
            )
        st.toggle("Freeze the encoder", key="t_freeze", help="Train the head only (report C's C8).")
        st.toggle("ReLU before softmax", key="t_final_relu", help="Reports A and C put a ReLU on the logits.")

    if kind in ("conv_ae", "dense_ae", "classifier"):
        st.select_slider(
            "Latent size n",
            LATENTS,
            key="t_latent",
            disabled=encoder_cfg is not None,
            help="Size of the code between encoder and decoder."
            + (" Fixed by the chosen encoder." if encoder_cfg is not None else ""),
        )
    if kind == "mlp":
        st.select_slider("Hidden units", [32, 64, 128, 256, 512, 1024], key="t_hidden")
    st.select_slider(
        "Dropout p",
        DROPOUTS,
        key="t_dropout",
        help="Probability of zeroing each activation after every ReLU during training."
        + (
            " May differ from the encoder's: report A raised it to 0.2 after inheriting."
            if kind == "classifier"
            else ""
        ),
    )
    st.select_slider(
        "Learning rate",
        LRS,
        key="t_lr",
        format_func=lambda v: f"{v:g}",
        help="The optimizer's step size. The choices go up by about ×3 each (1e-4, 3e-4, 1e-3, …). "
        "The reports used 1e-3 with Adam and 0.01 to 0.1 with SGD; too high and the loss diverges.",
    )
    c1, c2 = st.columns(2)
    c1.select_slider("Batch size", BATCHES, key="t_batch")
    c2.slider("Epochs", 1, 100, key="t_epochs")
    c1, c2 = st.columns(2)
    c1.radio(
        "Optimizer",
        list(OPTIMIZER_LABELS),
        key="t_optimizer",
        horizontal=True,
        format_func=OPTIMIZER_LABELS.get,
    )
    c2.number_input("Seed", 0, 2**31 - 1, key="t_seed", help="Weights, batch order and dropout masks.")
    c1, c2 = st.columns(2)
    c1.slider(
        "Early-stopping patience",
        0,
        20,
        key="t_patience",
        help="0 = off. Epochs without a val-loss improvement.",
    )
    c2.select_slider(
        "Training-set fraction",
        FRACTIONS,
        key="t_fraction",
        format_func=lambda v: f"{100 * v:g}%",
        help="Train on a seeded part of the 60,000 images for a quick look.",
    )

    with st.expander("More options"):
        st.radio(
            "Validate on",
            list(VALIDATION_LABELS),
            key="t_validation",
            format_func=VALIDATION_LABELS.get,
            help=VALIDATION_HELP,
        )
        if kind in ("conv_ae", "classifier"):
            dis = encoder_cfg is not None
            st.selectbox("Conv filters", ["16, 32", "32, 64", "64, 96"], key="t_channels", disabled=dis)
            st.toggle("BatchNorm before pooling", key="t_bn", disabled=dis)
            st.radio("Second pooling", ["max", "avg"], key="t_pool", horizontal=True, disabled=dis)
            st.radio(
                "Dropout on conv maps",
                ["element", "channel"],
                key="t_dmode",
                horizontal=True,
                format_func={
                    "element": "element-wise (the reports)",
                    "channel": "channel-wise (Dropout2d: faster, a different model)",
                }.get,
            )
        if kind == "conv_ae":
            st.radio(
                "Decoder's last layer",
                ["output_padding", "kernel"],
                key="t_decoder",
                horizontal=True,
                format_func={
                    "output_padding": "kernel 3 + output padding (A)",
                    "kernel": "kernel 4, no padding (C's AE 4)",
                }.get,
            )
        if kind == "classifier":
            st.select_slider(
                "Hidden units in the head",
                [0, 32, 64, 128, 256, 512],
                key="t_head_hidden",
                help="0 = one linear layer n→10 (report A); report E added a hidden layer.",
            )
        if st.session_state["t_optimizer"] == "sgd":
            st.slider("SGD momentum", 0.0, 0.99, key="t_momentum")
        st.number_input("Early-stopping min delta", 0.0, 1.0, key="t_min_delta", format="%.5f", step=0.0001)
        devices = ["auto", "cpu"] + (["cuda"] if ui.cuda_available() else [])
        st.selectbox("Device", devices, key="t_device", help="auto picks a GPU when there is one.")
        st.radio(
            "Precision",
            ["fp32", "bf16"],
            key="t_precision",
            horizontal=True,
            format_func={
                "fp32": "float32 (the reports)",
                "bf16": "bfloat16 (faster, a different computation)",
            }.get,
            help="bf16 runs each training step under bfloat16 autocast; the weights stay float32. "
            + (
                "This machine computes bf16 in hardware: a classifier step takes about 1.2-1.5x less time."
                if ui.bf16_native()
                else "This machine has no bf16 hardware (AVX-512 BF16, AMX or a GPU): bf16 would be slower here."
            ),
        )
        st.text_input(
            "Run name (optional)",
            key="t_name",
            max_chars=80,
            help="Letters, digits, '.', '_' and '-'; default: kind and time.",
        )


def current_spec() -> RunSpec:
    # widgets not shown this run lose their state: fall back to the defaults
    s = {**DEFAULTS, "t_device": "auto", "t_name": "", **st.session_state.to_dict()}
    channels = tuple(int(c) for c in s["t_channels"].split(","))
    choices = {
        "latent_dim": s["t_latent"],
        "channels": channels,
        "batch_norm": s["t_bn"],
        "second_pool": s["t_pool"],
        "dropout": s["t_dropout"],
        "dropout_mode": s["t_dmode"],
        "decoder": s["t_decoder"],
        "freeze_encoder": s["t_freeze"],
        "head_hidden": s["t_head_hidden"],
        "final_relu": s["t_final_relu"],
        "hidden": s["t_hidden"],
    }
    if kind == "classifier":
        choices["encoder_run"] = encoder_run
        if encoder_cfg is not None:  # a pretrained encoder fixes the architecture
            choices.update(encoder_arch(encoder_cfg))
    model = model_config(kind, **choices)
    train = TrainConfig(
        optimizer=s["t_optimizer"],
        lr=s["t_lr"],
        momentum=s["t_momentum"],
        batch_size=s["t_batch"],
        epochs=s["t_epochs"],
        seed=int(s["t_seed"]),
        patience=s["t_patience"],
        min_delta=float(s["t_min_delta"]),
        validation=s["t_validation"],
        train_fraction=s["t_fraction"],
        device=s.get("t_device", "auto"),
        precision=s["t_precision"],
    )
    return RunSpec(model, train, (s.get("t_name") or "").strip() or None)


with right:
    try:
        spec = current_spec()
        if spec.name:
            validate_run_id(spec.name)
    except (ConfigError, ui.RunError) as e:
        spec = None
        st.error(f"Cannot start: {e}")
    queue = ui.job_queue()
    c1, c2 = st.columns([1, 2])
    if c1.button(
        "Start training",
        type="primary",
        icon=":material/play_arrow:",
        disabled=spec is None,
        use_container_width=True,
    ):
        job, new = ui.submit_job(
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
        est = ui.estimate_seconds(spec)
        c2.caption(
            f"About **{ui.fmt_seconds(est)}** on this device (timed on a few steps of this model)."
            if est
            else "Time per epoch will show after the first epoch."
        )
    ui.job_monitor("t_job")
