"""What the pages show about a run on the test set, computed once and kept in the run's folder.

Each entry is `<run>/eval/<name>.npz`: arrays plus a JSON header naming the SHA-256 of every weights
file it was computed from and the settings it used. Retraining or replacing a run's weights makes
its entries stale; an entry that is stale, unreadable or malformed is computed again, never shown.
Entries are written atomically (a killed process leaves the old file or none) and read with
allow_pickle=False.

Entries (all on the official test set):
    test            classifier: probs (10000, 10), pred (10000,) uint8
                    autoencoder: mse_per_image (10000,), pixel_mse (28, 28), psnr ()
    confusion       classifier: its (10, 10) confusion matrix (what a study reads; kept when shipped results-only)
    noise-KIND      autoencoder: MSE/PSNR of the reconstruction and of the noisy input itself at
                    every level of NOISE_GRID[KIND], on the first NOISE_IMAGES images
    latent          the map of the run's codes: a seeded sample of test images, PCA and t-SNE of their codes
    denoise-CLF-KIND  in the autoencoder's folder: classifier CLF's accuracy on noisy images, raw
                    and denoised by the autoencoder, at denoise_levels(KIND)
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import AUTOENCODER_KINDS
from .data import NOISES, FashionMNIST
from .errors import RunError
from .evaluate import autoencoder_figures, denoise_classify_sweep, noise_sweep, predict_proba
from .registry import Registry, atomic_write_bytes

VERSION = 1
NOISE_IMAGES = 1000  # the first test images, per point of a noise curve (a whole grid: ~7 s per conv AE)
NOISE_SEED = 0  # the noise the cached figures use; another seed is computed on the spot


# kind -> the noise levels cached (and offered by the Reconstructions page's slider)
NOISE_GRID: dict[str, tuple[float, ...]] = {kind: n.grid() for kind, n in NOISES.items()}

Progress = Callable[[float, str], None]  # (fraction done, what is being computed)


def denoise_levels(kind: str) -> tuple[float, ...]:
    """Six levels from 0 to the top of the grid: a denoise-then-classify curve runs two models per level."""
    grid = NOISE_GRID[kind]
    return tuple(grid[round(i * (len(grid) - 1) / 5)] for i in range(6))


_DIGESTS: dict[tuple, str] = {}
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def weights_digest(path: Path) -> str:
    """SHA-256 of a weights file, remembered while its size and mtime stay the same."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return _DIGESTS[key]


def _lock(path: Path) -> threading.Lock:
    with _LOCKS_LOCK:
        return _LOCKS.setdefault(str(path.resolve()), threading.Lock())


@contextlib.contextmanager
def _held(lock: threading.Lock):
    """Release an already acquired lock on the way out."""
    try:
        yield
    finally:
        lock.release()


def _read(path: Path, header: dict, shapes: dict[str, tuple]) -> dict[str, np.ndarray] | None:
    """The arrays of an entry if it exists, matches `header` and has the expected shapes; else None."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if json.loads(str(z["__header__"])) != header:
                return None
            out = {k: z[k] for k in shapes}
    except Exception:  # missing, truncated, not a zip, no header, wrong dtype: all mean "compute it"
        return None
    for k, shape in shapes.items():
        a = out[k]
        if a.ndim != len(shape) or any(s != -1 and s != n for s, n in zip(shape, a.shape)):
            return None
        if a.dtype.kind == "f" and np.isnan(a).any():
            return None
    return out


def _write(path: Path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(exist_ok=True)
    buf = io.BytesIO()
    # numpy's stub reads **arrays as possibly holding its allow_pickle flag; our keys are array names
    np.savez_compressed(buf, __header__=np.array(json.dumps(header, sort_keys=True)), **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(path, buf.getvalue())


class EvalCache:
    """Cached test-set evaluations of the runs of one registry.

    load_model: how to get a run's model (the app passes its cached loader); load_data: the dataset.
    """

    def __init__(
        self,
        registry: Registry,
        load_data: Callable[[], FashionMNIST],
        load_model: Callable[[str], nn.Module] | None = None,
    ):
        self.registry = registry
        self.load_data = load_data
        self.load_model = load_model or registry.load_model

    # -- the entries ------------------------------------------------------------------------
    def test(self, run_id: str, progress: Progress | None = None) -> dict[str, np.ndarray]:
        """Classifier: probs and pred; autoencoder: per-image MSE, per-pixel MSE map and PSNR."""
        if self._is_ae(run_id):
            shapes = {"mse_per_image": (-1,), "pixel_mse": (28, 28), "psnr": ()}

            def compute(p):
                p(0.0, f"reconstructing the 10,000 test images with {run_id}")
                r = autoencoder_figures(self.load_model(run_id), self.load_data().test_images)
                return {
                    "mse_per_image": r["mse_per_image"].astype(np.float32),
                    "pixel_mse": r["pixel_mse"].astype(np.float32),
                    "psnr": np.array(r["psnr"]),
                }
        else:
            shapes = {"probs": (-1, 10), "pred": (-1,)}

            def compute(p):
                p(0.0, f"classifying the 10,000 test images with {run_id}")
                probs = predict_proba(self.load_model(run_id), self.load_data().test_images)
                return {
                    "probs": probs.numpy().astype(np.float32),
                    "pred": probs.argmax(1).numpy().astype(np.uint8),
                }

        return self._entry(run_id, "test", [run_id], {}, shapes, compute, progress)

    def confusion(self, run_id: str, progress: Progress | None = None) -> np.ndarray:
        """A classifier's (10, 10) confusion matrix on the test set: all a study needs of it, so it is kept
        when the run ships without its weights."""

        def compute(p):
            from . import metrics

            pred = torch.as_tensor(self.test(run_id, p)["pred"].astype(np.int64))
            return {"cm": metrics.confusion_matrix(pred, self.load_data().test_labels).numpy()}

        return self._entry(run_id, "confusion", [run_id], {}, {"cm": (10, 10)}, compute, progress)["cm"]

    def noise(self, run_id: str, kind: str, progress: Progress | None = None) -> dict[str, np.ndarray]:
        """An autoencoder's MSE and PSNR at every level of NOISE_GRID[kind] (and the noisy input's own)."""
        levels = NOISE_GRID[kind]
        params = {"kind": kind, "levels": list(levels), "images": NOISE_IMAGES, "seed": NOISE_SEED}
        keys = ("mse", "psnr", "input_mse", "input_psnr")

        def compute(p):
            p(0.0, f"{run_id}: {len(levels)} levels of {kind.replace('_', ' ')} noise")
            sweep = noise_sweep(
                self.load_model(run_id),
                self.load_data().test_images[:NOISE_IMAGES],
                kind,
                list(levels),
                NOISE_SEED,
                progress=lambda f: p(f, f"{run_id}: {kind} noise"),
            )
            return {"level": np.array(levels)} | {k: np.array([s[k] for s in sweep]) for k in keys}

        shapes = {k: (len(levels),) for k in ("level", *keys)}
        return self._entry(run_id, f"noise-{kind}", [run_id], params, shapes, compute, progress)

    def denoise(
        self, clf_id: str, ae_id: str, kind: str, progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """A classifier's accuracy on noisy test images, raw and denoised by the autoencoder first."""
        levels = denoise_levels(kind)
        params = {"kind": kind, "levels": list(levels), "images": NOISE_IMAGES, "seed": NOISE_SEED}

        def compute(p):
            p(0.0, f"classifying noisy and denoised images ({ae_id} → {clf_id})")
            ds = self.load_data()
            sweep = denoise_classify_sweep(
                self.load_model(clf_id),
                self.load_model(ae_id),
                ds.test_images[:NOISE_IMAGES],
                ds.test_labels[:NOISE_IMAGES],
                kind,
                list(levels),
                NOISE_SEED,
                progress=lambda f: p(f, f"denoise {kind}"),
            )
            return {
                "level": np.array(levels),
                "raw_acc": np.array([s["raw_acc"] for s in sweep]),
                "denoised_acc": np.array([s["denoised_acc"] for s in sweep]),
            }

        shapes = {k: (len(levels),) for k in ("level", "raw_acc", "denoised_acc")}
        return self._entry(
            ae_id, f"denoise-{clf_id}-{kind}", [ae_id, clf_id], params, shapes, compute, progress
        )

    def curve(
        self, run_id: str, kind: str, levels: tuple[float, ...], images: int, progress: Progress | None = None
    ) -> dict[str, np.ndarray]:
        """An autoencoder's MSE against the clean image at `levels` of one noise on the first `images` test
        images (a study's denoising comparison; kept when the run ships without its weights)."""
        params = {"kind": kind, "levels": list(levels), "images": images, "seed": NOISE_SEED}

        def compute(p):
            p(0.0, f"{run_id}: {kind} noise at {len(levels)} levels")
            sweep = noise_sweep(
                self.load_model(run_id), self.load_data().test_images[:images], kind, list(levels), NOISE_SEED
            )
            return {"level": np.array(levels), "mse": np.array([s["mse"] for s in sweep])}

        shapes = {"level": (len(levels),), "mse": (len(levels),)}
        return self._entry(run_id, f"curve-{kind}-{images}", [run_id], params, shapes, compute, progress)

    def latent(self, run_id: str, progress: Progress | None = None) -> dict[str, np.ndarray]:
        """The map of a run's codes: a seeded sample of test images, their codes' PCA (coordinates, mean,
        components, variance explained) and t-SNE coordinates."""
        from . import latent

        n_test = 10000

        def compute(p):
            idx = latent.sample_indices(n_test)
            p(0.05, f"{run_id}: codes of {len(idx):,} test images")
            z = latent.codes(self.load_model(run_id), self.load_data().test_images[torch.as_tensor(idx)])
            pca = latent.pca_map(z)
            p(0.15, f"{run_id}: t-SNE of {len(idx):,} codes (about 15 s on a small CPU)")
            tsne = latent.tsne_map(z)
            return {
                "index": idx,
                "pca": pca["xy"].astype(np.float32),
                "mean": pca["mean"],
                "components": pca["components"],
                "explained": pca["explained"],
                "tsne": tsne,
            }

        n = min(latent.MAP_IMAGES, n_test)
        shapes = {
            "index": (n,),
            "pca": (n, 2),
            "mean": (-1,),
            "components": (2, -1),
            "explained": (2,),
            "tsne": (n, 2),
        }
        return self._entry(
            run_id, "latent", [run_id], {"images": n, "seed": latent.MAP_SEED}, shapes, compute, progress
        )

    def precompute(self, run_id: str, progress: Progress | None = None) -> None:
        """Everything the pages read about one run: its test entry and, for autoencoders, every noise kind."""
        ae = self._is_ae(run_id)
        names = ["test"] + ([f"noise-{k}" for k in NOISE_GRID] if ae else ["confusion"])
        for i, name in enumerate(names):
            sub = None if progress is None else (lambda f, what, i=i: progress((i + f) / len(names), what))
            if name == "test":
                self.test(run_id, sub)
            elif name == "confusion":
                self.confusion(run_id, sub)
            else:
                self.noise(run_id, name[len("noise-") :], sub)

    # -- storage ----------------------------------------------------------------------------
    def _is_ae(self, run_id: str) -> bool:
        return self.registry.get(run_id).kind in AUTOENCODER_KINDS

    def _header(self, deps: list[str], params: dict) -> dict:
        weights = {}
        for run_id in deps:
            path = self.registry.path(run_id) / "weights.pt"
            shipped = None if path.exists() else self.registry.info(run_id).results_only
            if shipped is not None:  # shipped without weights: its kept entries stay valid
                weights[run_id] = shipped.get("weights_sha256")
            elif not path.exists():
                raise RunError(f"run {run_id!r} has no weights on disk; pick another run or train it again")
            else:
                weights[run_id] = weights_digest(path)
        return {"version": VERSION, "weights": weights, "params": params}

    def _entry(
        self,
        owner: str,
        name: str,
        deps: list[str],
        params: dict,
        shapes: dict,
        compute: Callable[[Progress], dict[str, np.ndarray]],
        progress: Progress | None,
    ) -> dict:
        path = self.registry.path(owner) / "eval" / f"{name}.npz"
        header = self._header(deps, params)
        found = _read(path, header, shapes)
        if found is not None:
            return found
        lock = _lock(path)
        if not lock.acquire(blocking=False):  # another session is computing it: say so, then wait
            if progress is not None:
                progress(0.0, f"{owner}: {name}, being computed for another page or session")
            lock.acquire()
        with _held(lock):  # two sessions asking at once compute it once
            found = _read(path, header, shapes)
            if found is not None:
                return found
            # no inference_mode here: the evaluations use it themselves, and a model converted to NHWC
            # inside it would get inference-mode parameters that a later backward (Captum) cannot use
            arrays = compute(progress or (lambda f, what: None))
            try:
                _write(path, header, arrays)
            except OSError:  # a read-only runs folder: still show the figures
                pass
            if progress is not None:
                progress(1.0, "done")
            return arrays


def summarize_test(entry: dict[str, np.ndarray], labels: torch.Tensor) -> dict:
    """Accuracy, confusion matrix and scikit-learn's report from a classifier's cached test entry."""
    from . import metrics

    pred = torch.as_tensor(entry["pred"].astype(np.int64))
    labels = labels[: len(pred)]
    cm = metrics.confusion_matrix(pred, labels)
    return {
        "accuracy": metrics.accuracy(pred, labels),
        "correct": int((pred == labels).sum()),
        "n": len(labels),
        "confusion_matrix": cm.numpy(),
        "report": metrics.classification_report(pred, labels),
    }
