"""Find and validate the Fashion-MNIST IDX files and read them as numpy arrays.

No torch here: the app's first page shows sample images with this alone, before torch (2 s to
import) is loaded. fmnist_core.data turns the arrays into tensors for training.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import DataError  # noqa: F401  (re-exported)

CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"train": 60000, "test": 10000}


HOW_TO_GET = (
    "get Fashion-MNIST one of three ways: pass --data-dir or set FMNIST_DATA_DIR to a folder "
    "with the four IDX files; install Debian's package (apt-get install dataset-fashion-mnist); "
    "or allow torchvision to download it into ./data"
)


def read_idx(path: Path, expected_ndim: int) -> np.ndarray:
    """Read one IDX file (optionally gzip'd) into a uint8 array, validating its header."""
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
        raise DataError(
            f"{path} holds {len(raw) - header} bytes of data, its header promises {n}; re-download it"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


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
            raise DataError(
                f"Fashion-MNIST not found in ./data or {DEBIAN_DIR} and the download failed "
                f"({type(e).__name__}); {HOW_TO_GET}"
            ) from None
        files = _files_in(Path("data") / "FashionMNIST" / "raw")
        if files:
            return files
    raise DataError(f"Fashion-MNIST not found in ./data or {DEBIAN_DIR}; {HOW_TO_GET}")


def read_split(files: dict[str, Path], split: str) -> tuple[np.ndarray, np.ndarray]:
    """The images (N, 28, 28) and labels (N,) of "train" or "test", validated."""
    images = read_idx(files[f"{split}_images"], 3)
    labels = read_idx(files[f"{split}_labels"], 1)
    n = EXPECTED_COUNTS[split]
    if images.shape != (n, 28, 28):
        raise DataError(
            f"{files[f'{split}_images']} holds images of shape {tuple(images.shape)}, "
            f"expected ({n}, 28, 28); re-download the data"
        )
    if labels.shape != (n,):
        raise DataError(f"{files[f'{split}_labels']} holds {labels.shape[0]} labels, expected {n}")
    if int(labels.max()) > 9:
        raise DataError(f"{files[f'{split}_labels']} has labels above 9; re-download the data")
    return images, labels


def sample_per_class(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` seeded random images of each class, class by class."""
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(len(CLASS_NAMES))]
    )
