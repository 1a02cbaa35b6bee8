"""The frame every page draws first (frame()): the page config, the sidebar's navigation, the password
gate of a shared lab, then the sidebar's device, data and live queue lines (sidebar_status)."""

from __future__ import annotations

import streamlit as st

from app_support import warm
from app_support.data import fmt_seconds
from app_support.jobs import queue_if_any
from app_support.site import APP_TITLE, SITE
from fmnist_core.errors import DataError
from fmnist_core.files import find_data


# -- sidebar ------------------------------------------------------------------------------
def device_line() -> str:
    """The device training runs on, in words (a GPU's name, or the CPU and its thread count); waits for
    the background warm-up where a page needs the words now (Train's introduction)."""
    return warm.device_now()


def _device_caption() -> None:
    st.caption(f"**Device** · {warm.device() or 'detecting…'}")


@st.cache_resource
def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


@st.cache_resource
def bf16_native() -> bool:
    """Whether the device `auto` picks computes bfloat16 in hardware (the Train page's precision help)."""
    from fmnist_core.train import bf16_native, resolve_device

    return bf16_native(resolve_device("auto"))


def frame(key: str, status: bool = True) -> None:
    """The top of every page: the page config (title, icon, wide layout) and the sidebar: the navigation,
    then, unless `status` is False, the device, data and queue lines (see sidebar_status).

    Every page calls it first, so a page opened by its URL on a fresh server (which runs the page file
    without app.py) looks the same as one reached from the sidebar."""
    page = next(p for p in SITE if p.key == key)
    st.set_page_config(
        page_title=APP_TITLE if key == "home" else f"{page.title} · {APP_TITLE}",
        page_icon=":material/checkroom:",
        layout="wide",
    )
    with st.sidebar:
        section = None
        for p in SITE:
            if p.section != section:
                section = p.section
                st.caption(f"**{section}**")
            st.page_link(p.path, label=p.title, icon=p.icon)
        st.divider()
    _require_password()
    if status:
        sidebar_status()


def _password() -> str | None:
    try:
        return st.secrets.get("password") or None
    except FileNotFoundError:  # no secrets file: a private (localhost) lab
        return None


def _require_password() -> None:
    """Sharing the lab on a network (`make share`) needs `password = "..."` in .streamlit/secrets.toml;
    every page then asks for it once per browser session."""
    import hmac

    expected = _password()
    if expected is None or st.session_state.get("signed_in"):
        return
    given = st.text_input(
        "Password",
        type="password",
        key="password_try",
        help="This lab is shared on the network; ask whoever runs it for the password.",
    )
    if given and hmac.compare_digest(given.encode(), str(expected).encode()):
        st.session_state["signed_in"] = True
        st.rerun()
    if given:
        st.error("That is not the password.")
    st.stop()


def sidebar_status() -> None:
    """The sidebar's device, data and queue lines. The device is found in the background (torch's import):
    until it is, the line says "detecting…" and refreshes itself. Home draws these lines after its sample
    images (frame(status=False), then this), the other pages in frame()."""
    warm.start()
    with st.sidebar:
        if warm.device():
            _device_caption()
        else:  # redrawn every second until the background thread has named the device
            st.fragment(_device_caption, run_every=1.0)()
        try:
            source = find_data()["train_images"].parent.resolve()
            st.caption(f"**Data** · `{source}`")
        except DataError:
            st.caption("**Data** · not found (see the page for how to get it)")
        _queue_panel()


@st.fragment(run_every=2.0)
def _queue_panel() -> None:
    # one slot, replaced whole at each refresh: drawn element by element, a finished job's progress bar
    # could stay under "idle" after a Stop
    slot = st.empty()
    q = queue_if_any()
    jobs = q.jobs() if q is not None else []
    running = next((j for j in jobs if j.status == "running"), None)
    queued = [j for j in jobs if j.status == "queued"]
    if running is None and not queued:
        slot.caption("**Training queue** · idle")
        return
    with slot.container():
        _queue_lines(running, queued)


def _queue_lines(running, queued) -> None:
    st.caption("**Training queue**")
    if running is not None:
        p = running.progress
        if p is not None:
            st.progress(
                p.fraction,
                text=f"{running.label}: epoch {p.epoch}/{p.epochs} · ETA {fmt_seconds(p.eta)}",
            )
        else:
            st.caption(f"{running.label}: starting…")
    for i, j in enumerate(queued, 1):
        st.caption(f"{i}. {j.label} (waiting)")
