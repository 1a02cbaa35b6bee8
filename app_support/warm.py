"""What a new server loads in the background, so that no page's first open waits for it.

The first page a server draws starts one thread (start()); that page's run ends without waiting. In the
gaps between page runs the thread imports torch and names the device (the sidebar's line), loads the
dataset (every inspect page and Train need it), imports torch._dynamo, which the first optimizer torch
builds imports (about 1 s: the Train page's time estimate builds one), and last fits the PCA baselines
the Studies page shows where the user's cache folder has not kept them yet (1-3 s, once per machine).
A page that needs one of these before the thread is done waits for the thread, which then stops giving
way, rather than loading it a second time.
"""

from __future__ import annotations

import atexit
import gc
import math
import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from fmnist_core.data import FashionMNIST

_DONE: dict = {}  # "device": the device in words; "dataset": the loaded dataset (or the DataError)
_NEEDED = threading.Event()  # a page waits for the thread: it no longer gives way to pages


def pages_idle(until: threading.Event | None = None, timeout: float = math.inf) -> None:
    """Give way to the pages: wait while a page's script runs (threads share one interpreter lock, so
    work beside a page slows it, and a timing taken beside it is off), for at most `timeout` seconds or
    until `until` is set."""
    deadline = time.monotonic() + timeout
    while not (until is not None and until.is_set()) and time.monotonic() < deadline and _page_running():
        time.sleep(0.05)


def _page_running() -> bool:
    return any(t.name == "ScriptRunner.scriptThread" for t in threading.enumerate())


def _idle() -> None:
    pages_idle(until=_NEEDED)  # unless a page waits for this thread


def _work() -> None:
    _idle()
    from fmnist_core.data import load_fashion_mnist
    from fmnist_core.errors import DataError
    from fmnist_core.train import device_description, resolve_device

    _DONE["device"] = device_description(resolve_device("auto"))
    _idle()
    try:
        _DONE["dataset"] = load_fashion_mnist(download=False)
    except DataError as e:  # the page that needs the data says what to do
        _DONE["dataset"] = e
    _idle()
    import torch._dynamo  # noqa: F401

    # Never beside a page, even one that waits for this thread: a collection holds the interpreter lock
    # for 0.2-0.5 s, and freezing would make a running page's objects (figures, frames) permanent.
    pages_idle(timeout=30)
    gc.collect()  # the garbage of the imports and of the pages so far: not to be frozen with the rest
    if not _page_running():
        gc.freeze()  # what is loaded by now lives as long as the server: no full collection walks it again
    _idle()
    if isinstance(_DONE["dataset"], DataError):
        return
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    from fmnist_core.studies import STUDIES, pca_baselines, pca_sizes

    # one core: a page opened meanwhile keeps the other (the limit is the process's: numpy in a page
    # thread runs on one core too until the fit ends, a second or two once per machine)
    with threadpool_limits(1):
        pca_baselines(_DONE["dataset"], sorted({n for s in STUDIES.values() for n in pca_sizes(s)}))


@st.cache_resource
def start() -> threading.Thread:
    thread = threading.Thread(target=_work, name="fmnist-warm-up", daemon=True)
    thread.start()
    # a process that ends while the thread is inside a torch call aborts: let it finish first (AppTest)
    atexit.register(thread.join, 60)
    return thread


def device() -> str | None:
    """The device in words once the thread has found it, else None (the sidebar says "detecting…")."""
    return _DONE.get("device")


def device_now() -> str:
    """The device in words, waiting for the thread where a page needs the words now."""
    if "device" not in _DONE:
        _wait_for("device")
    if "device" not in _DONE:  # the thread failed: find it here, where an error shows on the page
        from fmnist_core.train import device_description, resolve_device

        _DONE["device"] = device_description(resolve_device("auto"))
    return _DONE["device"]


def dataset() -> FashionMNIST | None:
    """The dataset the thread loaded (waiting for it if it is loading now); None if it could not."""
    from fmnist_core.data import FashionMNIST

    if "dataset" not in _DONE:
        _wait_for("dataset")
    ds = _DONE.get("dataset")
    return ds if isinstance(ds, FashionMNIST) else None


def settled(timeout: float = 60) -> None:
    """Wait until the warm-up is over (it stops giving way to pages meanwhile): before timing training
    steps, which work beside it would slow, and before fitting the PCA baselines it may be fitting."""
    thread = start()
    if thread.is_alive():
        _NEEDED.set()
        thread.join(timeout)


def _wait_for(key: str, timeout: float = 60) -> None:
    """Wait for the thread to have `key`, for at most `timeout` seconds: a thread stuck (a device that
    hangs, a stalled network folder) leaves the page to load it itself."""
    thread, deadline = start(), time.monotonic() + timeout
    _NEEDED.set()
    while key not in _DONE and thread.is_alive() and time.monotonic() < deadline:
        thread.join(0.05)
