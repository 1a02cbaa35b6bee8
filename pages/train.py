"""Train: pick a model and its hyperparameters, queue a job, watch live curves, stop it.

The presets, controls and start button are drawn by app_support/train_view.py; each control is built from
the settings schema by app_support/controls.py.
"""

import streamlit as st

import app_support as ui
from app_support import train_view as view

ui.frame("train")

view.init_state()  # the first visit's preset; a preset whose values were changed shows as "custom"

st.title("Train")
st.caption(
    "Pick a model, set its hyperparameters (or a report's preset) and start. Jobs run one at a time on "
    f"this machine's {ui.device_line()}; every epoch is saved, so Stop keeps what was learned."
)

if notice := st.session_state.pop("t_notice", None):
    st.toast(notice, icon=":material/tune:")
kind: str = st.segmented_control(  # type: ignore[assignment]  # required=True: never None
    "Model",
    list(view.KINDS),
    format_func=lambda k: view.KINDS[k],
    key="t_kind",
    on_change=view.switch_kind,
    required=True,
)
left, right = st.columns([5, 7], gap="large")
with left:
    view.preset_box(kind)
    encoder_run, encoder_cfg = view.encoder_controls() if kind == "classifier" else ("random", None)
    view.model_controls(kind, encoder_cfg)
    with st.expander("More options"):
        view.more_options(kind, encoder_cfg)

with right:
    spec = view.checked_spec(kind, encoder_run, encoder_cfg)
    view.start(kind, spec)
    ui.job_monitor("t_job")
