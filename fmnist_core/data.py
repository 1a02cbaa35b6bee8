"""Find, validate and load Fashion-MNIST into uint8 tensors; splits; noise for denoising."""
from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import torch

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"train": 60000, "test": 10000}
NOISE_KINDS = {
    "gaussian": "Gaussian, std = level",
    "gaussian_image": "Gaussian with each image's own mean and std, times level (report B)",
    "salt_pepper": "salt and pepper, fraction of pixels = level",
    "mask": "a random square covering a fraction = level of the image is blanked",
}


class DataError(RuntimeError):
    """The dataset cannot be found or its files are damaged."""


HOW_TO_GET = ("get Fashion-MNIST one of three ways: pass --data-dir or set FMNIST_DATA_DIR to a folder "
              "with the four IDX files; install Debian's package (apt-get install dataset-fashion-mnist); "
              "or allow torchvision to download it into ./data")


def read_idx(path: Path, expected_ndim: int) -> torch.Tensor:
    """Read one IDX file (optionally gzip'd) into a uint8 tensor, validating its header."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path}: {e}; re-install or re-download the data") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (bad magic number); re-download it")
    ndim = raw[3]
    if ndim != expected_ndim:
        raise DataError(f"{path} has {ndim} dimensions, expected {expected_ndim}; is it the right file?")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated (header); re-download it")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    n = 1
    for d in dims:
        n *= d
    if len(raw) - header != n:
        raise DataError(f"{path} holds {len(raw) - header} bytes of data, its header promises {n}; re-download it")
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8).reshape(dims)


def _files_in(folder: Path) -> dict[str, Path] | None:
    found = {}
    for key, stem in FILES.items():
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                found[key] = folder / name
                break
        else:
            return None
    return found


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Where the data is looked for, in order."""
    if data_dir is None:
        data_dir = os.environ.get("FMNIST_DATA_DIR") or None
    if data_dir is not None:
        return [Path(data_dir), Path(data_dir) / "FashionMNIST" / "raw"]
    local = Path("data")
    return [local, local / "FashionMNIST" / "raw", DEBIAN_DIR]


def find_data(data_dir: str | os.PathLike | None = None, download: bool = True) -> dict[str, Path]:
    """Return the paths of the four IDX files; download with torchvision as a last resort."""
    dirs = candidate_dirs(data_dir)
    for d in dirs:
        files = _files_in(d)
        if files:
            return files
    if data_dir is not None or os.environ.get("FMNIST_DATA_DIR"):
        raise DataError(f"no Fashion-MNIST IDX files in {dirs[0]}; {HOW_TO_GET}")
    if download:
        try:
            from torchvision.datasets import FashionMNIST
            FashionMNIST("data", train=True, download=True)
            FashionMNIST("data", train=False, download=True)
        except Exception as e:  # network errors come in many types
            raise DataError(f"Fashion-MNIST not found in ./data or {DEBIAN_DIR} and the download failed "
                            f"({type(e).__name__}); {HOW_TO_GET}") from None
        files = _files_in(Path("data") / "FashionMNIST" / "raw")
        if files:
            return files
    raise DataError(f"Fashion-MNIST not found in ./data or {DEBIAN_DIR}; {HOW_TO_GET}")


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
        images = read_idx(files[f"{split}_images"], 3)
        labels = read_idx(files[f"{split}_labels"], 1)
        n = EXPECTED_COUNTS[split]
        if images.shape != (n, 28, 28):
            raise DataError(f"{files[f'{split}_images']} holds images of shape {tuple(images.shape)}, "
                            f"expected ({n}, 28, 28); re-download the data")
        if labels.shape != (n,):
            raise DataError(f"{files[f'{split}_labels']} holds {labels.shape[0]} labels, expected {n}")
        if int(labels.max()) > 9:
            raise DataError(f"{files[f'{split}_labels']} has labels above 9; re-download the data")
        arrays[f"{split}_images"] = images.unsqueeze(1)  # (N, 1, 28, 28)
        arrays[f"{split}_labels"] = labels.long()
    return FashionMNIST(**arrays, source=str(files["train_images"].parent.resolve()))


@dataclass(frozen=True)
class Split:
    """The tensors one run trains and validates on (uint8 images, int64 labels)."""
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    validation: str   # "test" | "holdout"
    val_of: int = 0   # the size of the validation set the sample was drawn from (0: not a sample)

    def describe(self) -> dict:
        d = {"validation": self.validation, "n_train": len(self.y_train), "n_val": len(self.y_val)}
        if self.val_of:
            d["n_val_of"] = self.val_of
        return d


MIN_VAL_SAMPLE = 1000    # validation images of a run on a fraction of the data (its loss still reads to ~1%)


def _sample(n: int, k: int, seed: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:k].sort().values


def make_split(ds: FashionMNIST, validation: str = "test", val_fraction: float = 0.1, seed: int = 0,
               limit: int = 0, train_fraction: float = 1.0, val_images: int = 0) -> Split:
    """Validation on the official test set (as the reports did) or on a seeded held-out part of train.

    limit keeps the first N training images (and at most N validation images, for quick looks);
    train_fraction then keeps a seeded random fraction of the training images.
    val_images: validate on a seeded sample of that many images; 0 = the whole validation set, except
    for a fraction of the data, which validates on a sample in proportion (at least MIN_VAL_SAMPLE):
    a 1% run then spends its epoch training, not validating on 10,000 images.
    """
    x, y = ds.train_images, ds.train_labels
    if validation == "holdout":
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed + 7919))
        n_val = int(round(len(y) * val_fraction))
        val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
        x_val, y_val, x, y = x[val_idx], y[val_idx], x[train_idx], y[train_idx]
    else:
        x_val, y_val = ds.test_images, ds.test_labels
    if limit:
        x, y = x[:limit], y[:limit]
        x_val, y_val = x_val[:max(limit, 200)], y_val[:max(limit, 200)]
    if train_fraction < 1.0:
        keep = max(10, int(round(len(y) * train_fraction)))
        idx = _sample(len(y), keep, seed + 104729)
        x, y = x[idx], y[idx]
        if not val_images:
            val_images = max(MIN_VAL_SAMPLE, round(len(y_val) * train_fraction))
    if 0 < val_images < len(y_val):
        of = len(y_val)
        idx = _sample(of, val_images, seed + 15485863)
        return Split(x, y, x_val[idx], y_val[idx], validation, val_of=of)
    return Split(x, y, x_val, y_val, validation)


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
            m = ((rows >= tops.view(n, 1, 1)) & (rows < (tops + side).view(n, 1, 1))
                 & (cols >= lefts.view(n, 1, 1)) & (cols < (lefts + side).view(n, 1, 1)))
            noisy[m.view(n, 1, h, w).expand_as(noisy).to(x.device)] = 0.0
    return noisy.clamp_(0.0, 1.0)
