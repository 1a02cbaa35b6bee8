"""Fashion-MNIST as uint8 tensors (the files are read by fmnist_core.files); splits; noise for denoising."""

from __future__ import annotations

import hashlib
import os
import weakref
from dataclasses import dataclass

import numpy as np
import torch

from .files import CLASS_NAMES, DEBIAN_DIR, FILES, DataError, candidate_dirs, find_data, read_idx, read_split  # noqa: F401


@dataclass(frozen=True)
class Noise:
    """A kind of noise: how it is named and what its level means, the level a page starts at, and the
    levels whose figures are cached (0 to `top` in steps of `step`)."""

    label: str
    level: str  # what the level measures
    about: str
    start: float
    top: float
    step: float

    def grid(self) -> tuple[float, ...]:
        return tuple(round(i * self.step, 4) for i in range(int(round(self.top / self.step)) + 1))


NOISES = {
    "gaussian": Noise("Gaussian", "σ", "Gaussian, std = level", 0.3, 1.0, 0.1),
    "gaussian_image": Noise(
        "Gaussian per image (report B)",
        "intensity",
        "Gaussian with each image's own mean and std, times level (report B)",
        0.5,
        2.0,
        0.1,
    ),
    "salt_pepper": Noise(
        "Salt and pepper", "fraction of pixels", "salt and pepper, fraction of pixels = level", 0.1, 0.5, 0.05
    ),
    "mask": Noise(
        "Masking (a blank square)",
        "fraction of the area",
        "a random square covering a fraction = level of the image is blanked",
        0.15,
        0.5,
        0.05,
    ),
}
NOISE_KINDS = {kind: n.about for kind, n in NOISES.items()}


@dataclass(frozen=True)
class FashionMNIST:
    """The whole dataset in memory: images (N, 1, 28, 28) uint8, labels (N,) int64."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, download: bool = True) -> FashionMNIST:
    """Load and validate the four files (60,000 train and 10,000 test images)."""
    files = find_data(data_dir, download)
    arrays = {}
    for split in ("train", "test"):
        images, labels = read_split(files, split)
        arrays[f"{split}_images"] = torch.from_numpy(images.copy()).unsqueeze(1)  # (N, 1, 28, 28)
        arrays[f"{split}_labels"] = torch.from_numpy(labels.astype(np.int64))
    return FashionMNIST(**arrays, source=str(files["train_images"].parent.resolve()))


@dataclass(frozen=True)
class Split:
    """The tensors one run trains and validates on (uint8 images, int64 labels)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    validation: str  # "test" | "holdout"
    split_id: str  # the held-out split's fingerprint (holdout_id), or "test"
    val_of: int = 0  # the size of the validation set the sample was drawn from (0: not a sample)

    def describe(self) -> dict:
        d = {
            "validation": self.validation,
            "split_id": self.split_id,
            "n_train": len(self.y_train),
            "n_val": len(self.y_val),
        }
        if self.val_of:
            d["n_val_of"] = self.val_of
        return d


# The held-out split never depends on a run's seed: every run (any seed, any study, the Train page, a
# search) selects its epoch on the same images, so their held-out figures compare and pair.
HOLDOUT_SEED = 20261207
HOLDOUT_FRACTION = 0.1  # 600 images of each class: 6,000 held out, 54,000 to train on


def stratified(labels: torch.Tensor, fraction: float, seed: int) -> torch.Tensor:
    """Sorted indices of a seeded `fraction` of each class's images (at least one of each present class)."""
    g = torch.Generator().manual_seed(seed)
    picked = []
    for c in range(int(labels.max()) + 1 if len(labels) else 0):
        pool = (labels == c).nonzero().flatten()
        if len(pool):
            k = max(1, int(round(len(pool) * fraction)))
            picked.append(pool[torch.randperm(len(pool), generator=g)[:k]])
    return torch.cat(picked).sort().values if picked else torch.empty(0, dtype=torch.long)


def fingerprint(indices: torch.Tensor) -> str:
    """A short hash of a set of image indices: two runs with equal fingerprints validated on the same images."""
    data = indices.sort().values.to(torch.int64).numpy().astype("<i8").tobytes()
    return hashlib.sha256(data).hexdigest()[:12]


_DIGESTS: dict[int, tuple[weakref.ref, str]] = {}


def data_digest(ds: FashionMNIST) -> str:
    """A short hash of the images themselves (what a figure computed from the data alone is keyed by);
    about 0.1 s, once per loaded dataset."""
    held = _DIGESTS.get(id(ds))
    if held is None or held[0]() is not ds:
        h = hashlib.blake2b(digest_size=8)
        for t in (ds.train_images, ds.test_images):
            h.update(t.contiguous().numpy().tobytes())
        held = _DIGESTS[id(ds)] = (weakref.ref(ds), h.hexdigest())
    return held[1]


def holdout_indices(labels: torch.Tensor, val_fraction: float = HOLDOUT_FRACTION) -> torch.Tensor:
    """The held-out part of the training set: a stratified `val_fraction`, chosen by HOLDOUT_SEED."""
    return stratified(labels, val_fraction, HOLDOUT_SEED)


def holdout_id(ds: FashionMNIST, val_fraction: float = HOLDOUT_FRACTION) -> str:
    """The fingerprint of the held-out split (what a run's config.json records as data.split_id)."""
    return fingerprint(holdout_indices(ds.train_labels, val_fraction))


def _sample(n: int, k: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k].sort().values


def make_split(
    ds: FashionMNIST,
    validation: str = "holdout",
    val_fraction: float = HOLDOUT_FRACTION,
    seed: int = 0,
    limit: int = 0,
    train_fraction: float = 1.0,
    val_images: int = 0,
) -> Split:
    """Validation on the fixed held-out split of train (the default) or on the official test set (the
    reports' method, which selects on the figure it reports).

    limit keeps the first N training images (and at most N validation images, for quick looks);
    train_fraction then keeps a `seed`-ed random fraction of the training images: a run that sees that
    fraction of the labels validates on the same fraction of the held-out images (stratified, the same
    images for every seed), as someone with that many labels would set them aside; 1% = 60 images.
    val_images: validate on a fixed stratified sample of about that many images instead (0 = auto).
    """
    x, y = ds.train_images, ds.train_labels
    if validation == "holdout":
        val_idx = holdout_indices(y, val_fraction)
        keep = torch.ones(len(y), dtype=torch.bool)
        keep[val_idx] = False
        x_val, y_val, x, y = x[val_idx], y[val_idx], x[keep], y[keep]
        split_id = fingerprint(val_idx)
    else:
        x_val, y_val, split_id = ds.test_images, ds.test_labels, "test"
    if limit:
        x, y = x[:limit], y[:limit]
        x_val, y_val = x_val[: max(limit, 200)], y_val[: max(limit, 200)]
    if train_fraction < 1.0:
        idx = _sample(len(y), max(10, int(round(len(y) * train_fraction))), seed + 104729)
        x, y = x[idx], y[idx]
        if not val_images:
            val_images = int(round(len(y_val) * train_fraction))
    if 0 < val_images < len(y_val):
        idx = stratified(y_val, val_images / len(y_val), HOLDOUT_SEED + 1)
        return Split(x, y, x_val[idx], y_val[idx], validation, split_id, val_of=len(y_val))
    return Split(x, y, x_val, y_val, validation, split_id)


def sample_of_class(labels: torch.Tensor, cls: int, k: int, seed: int) -> torch.Tensor:
    """Indices of k seeded random images of class `cls`."""
    pool = (labels == cls).nonzero().flatten()
    return pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:k]]


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 1, 28, 28) -> float32 in [0, 1]."""
    return images.float().div_(255.0)


def add_noise(x: torch.Tensor, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """Seeded noise on float images in [0, 1]; the result is clipped to [0, 1]."""
    if kind not in NOISE_KINDS:
        raise ValueError(f"unknown noise kind {kind!r}; choose one of {', '.join(NOISE_KINDS)}")
    if not 0 <= level <= 10:
        raise ValueError(f"noise level must be between 0 and 10 (got {level})")
    if level == 0:
        return x.clone()
    g = torch.Generator(device="cpu").manual_seed(seed)
    shape = x.shape
    if kind == "gaussian":
        noisy = x + level * torch.randn(shape, generator=g).to(x.device)
    elif kind == "gaussian_image":
        flat = x.flatten(1)
        mean = flat.mean(1).view(-1, *([1] * (x.dim() - 1)))
        std = flat.std(1).view(-1, *([1] * (x.dim() - 1)))
        noisy = x + level * (mean + std * torch.randn(shape, generator=g).to(x.device))
    elif kind == "salt_pepper":
        u = torch.rand(shape, generator=g).to(x.device)
        noisy = x.clone()
        noisy[u < level / 2] = 0.0
        noisy[(u >= level / 2) & (u < level)] = 1.0
    else:  # mask: a random square of side sqrt(level) * 28 per image
        n, h, w = shape[0], shape[-2], shape[-1]
        side = int(round(min(level, 1.0) ** 0.5 * h))
        noisy = x.clone()
        if side > 0:
            tops = torch.randint(0, h - side + 1, (n,), generator=g)
            lefts = torch.randint(0, w - side + 1, (n,), generator=g)
            rows = torch.arange(h).view(1, h, 1)
            cols = torch.arange(w).view(1, 1, w)
            m = (
                (rows >= tops.view(n, 1, 1))
                & (rows < (tops + side).view(n, 1, 1))
                & (cols >= lefts.view(n, 1, 1))
                & (cols < (lefts + side).view(n, 1, 1))
            )
            noisy[m.view(n, 1, h, w).expand_as(noisy).to(x.device)] = 0.0
    return noisy.clamp_(0.0, 1.0)
