"""Finding, validating and loading Fashion-MNIST; splits; noise."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from fmnist_core import (
    CLASS_NAMES,
    NOISE_KINDS,
    DataError,
    add_noise,
    find_data,
    load_fashion_mnist,
    make_split,
    to_float,
)
from fmnist_core.data import FILES, fingerprint, holdout_id, read_idx


# -- the real dataset -----------------------------------------------------------------------
def test_real_dataset_shapes_and_balance(ds):
    assert ds.train_images.shape == (60000, 1, 28, 28) and ds.train_images.dtype == torch.uint8
    assert ds.test_images.shape == (10000, 1, 28, 28) and ds.test_images.dtype == torch.uint8
    assert ds.train_labels.dtype == torch.int64 and ds.test_labels.dtype == torch.int64
    assert torch.bincount(ds.train_labels).tolist() == [6000] * 10
    assert torch.bincount(ds.test_labels).tolist() == [1000] * 10
    assert int(ds.train_images.max()) == 255 and int(ds.train_images.min()) == 0
    # Fashion-MNIST, not MNIST: the first training image is an ankle boot, the first test image too
    assert (
        CLASS_NAMES[int(ds.train_labels[0])] == "Ankle boot"
        and CLASS_NAMES[int(ds.test_labels[0])] == "Ankle boot"
    )
    assert len(CLASS_NAMES) == 10 and CLASS_NAMES[0] == "T-shirt/top"


def test_to_float():
    x = torch.tensor([[0, 51, 255]], dtype=torch.uint8)
    y = to_float(x)
    assert y.dtype == torch.float32 and y[0].tolist() == pytest.approx([0.0, 0.2, 1.0])
    assert x.tolist() == [[0, 51, 255]]  # the uint8 input is untouched


# -- IDX validation -----------------------------------------------------------------------
def idx_bytes(dims, data: bytes | None = None, magic=b"\x00\x00\x08") -> bytes:
    n = 1
    for d in dims:
        n *= d
    return (
        magic + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + (bytes(range(256)) * 64)[:n]
        if data is None
        else magic + bytes([len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data
    )


def test_read_idx_valid_plain_and_gzip(tmp_path):
    raw = idx_bytes((3, 2, 2))
    (tmp_path / "a").write_bytes(raw)
    (tmp_path / "a.gz").write_bytes(gzip.compress(raw))
    for name in ("a", "a.gz"):
        t = read_idx(tmp_path / name, 3)
        assert t.shape == (3, 2, 2) and t.dtype == np.uint8
        assert t.flatten().tolist() == list(range(12))


def corrupt_files():
    good = idx_bytes((5, 2, 2))
    good_gz = gzip.compress(good)
    body_flipped = good_gz[:10] + bytes(b ^ 0xFF for b in good_gz[10:-8]) + good_gz[-8:]
    return {
        "bad-magic": ("x", b"\x12\x34\x56\x78" + good[4:]),
        "float-type": ("x", idx_bytes((5, 2, 2), magic=b"\x00\x00\x0d")),
        "too-short": ("x", b"\x00\x00"),
        "empty": ("x", b""),
        "truncated-header": ("x", good[:9]),
        "truncated-data": ("x", good[:-3]),
        "extra-data": ("x", good + b"\x00"),
        "wrong-ndim": ("x", idx_bytes((20,))),
        "gz-garbage": ("x.gz", b"this is not gzip at all"),
        "gz-truncated": ("x.gz", good_gz[: len(good_gz) // 2]),
        "gz-corrupt-body": ("x.gz", body_flipped),
        "gz-bad-magic": ("x.gz", gzip.compress(b"\xff\xff\xff\xff" + good[4:])),
    }


@pytest.mark.parametrize("case", list(corrupt_files()))
def test_corrupt_idx_files_raise_data_error(tmp_path, case):
    name, data = corrupt_files()[case]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError) as e:
        read_idx(tmp_path / name, 3)
    assert name in str(e.value)  # the message names the file


def test_missing_idx_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "nope.gz", 1)


# -- finding the data -----------------------------------------------------------------------
def test_find_data_in_an_empty_dir_names_the_three_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as e:
        find_data()  # never downloads when a folder was named
    msg = str(e.value)
    assert str(tmp_path) in msg and "three ways" in msg
    assert "FMNIST_DATA_DIR" in msg and "--data-dir" in msg
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "torchvision" in msg
    with pytest.raises(DataError, match="three ways"):
        load_fashion_mnist(tmp_path / "also-missing")
    assert list(tmp_path.iterdir()) == []  # nothing was downloaded into it


def link_real_files(dst, swap: dict[str, str] | None = None):
    """A data folder of symlinks to the real files (optionally with some swapped)."""
    src = find_data(download=False)
    dst.mkdir(exist_ok=True)
    for key in src:
        target = src[(swap or {}).get(key, key)]
        (dst / (FILES[key] + target.suffix if target.suffix == ".gz" else FILES[key])).symlink_to(target)
    return dst


def test_data_dir_env_and_torchvision_layout(ds, tmp_path, monkeypatch):
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.parent.mkdir()
    link_real_files(raw)
    monkeypatch.setenv("FMNIST_DATA_DIR", str(tmp_path))  # torchvision's layout below the named folder
    files = find_data()
    assert files["train_images"].parent == raw
    again = load_fashion_mnist()
    assert torch.equal(again.test_images, ds.test_images) and torch.equal(again.train_labels, ds.train_labels)


def test_swapped_files_are_refused(ds, tmp_path):
    d = link_real_files(tmp_path / "swapped", {"train_labels": "test_labels"})
    with pytest.raises(DataError, match="10000 labels, expected 60000"):
        load_fashion_mnist(d)


# -- splits ---------------------------------------------------------------------------------
def test_split_on_the_test_set_is_the_explicit_choice(ds):
    s = make_split(ds, "test")
    assert (len(s.y_train), len(s.y_val)) == (60000, 10000) and s.validation == "test"
    assert s.x_val is ds.test_images or torch.equal(s.x_val, ds.test_images)
    assert s.describe() == {"validation": "test", "split_id": "test", "n_train": 60000, "n_val": 10000}


def test_the_default_holdout_split_is_stratified_fixed_and_complete(ds):
    s = make_split(ds)
    assert (len(s.y_train), len(s.y_val)) == (54000, 6000) and s.validation == "holdout"
    assert torch.bincount(s.y_val, minlength=10).tolist() == [600] * 10  # stratified
    # together they are exactly the training set
    assert int(s.x_train.sum(dtype=torch.int64)) + int(s.x_val.sum(dtype=torch.int64)) == int(
        ds.train_images.sum(dtype=torch.int64)
    )
    # the same images whatever the run's seed: runs of every seed select on one split, and say so
    other = make_split(ds, seed=1)
    assert torch.equal(other.x_val, s.x_val) and torch.equal(other.x_train, s.x_train)
    assert s.describe()["split_id"] == other.describe()["split_id"] == holdout_id(ds)
    assert len(holdout_id(ds)) == 12
    wider = make_split(ds, val_fraction=0.25)
    assert len(wider.y_val) == 15000 and wider.split_id != s.split_id


def test_the_fingerprint_names_the_images():
    a = torch.tensor([3, 1, 2])
    assert fingerprint(a) == fingerprint(torch.tensor([1, 2, 3]))  # a set: order does not matter
    assert fingerprint(a) != fingerprint(torch.tensor([1, 2, 4]))


@pytest.mark.parametrize(
    "kw,sizes",
    [
        ({"validation": "test", "limit": 500}, (500, 500)),
        ({"validation": "test", "limit": 50}, (50, 200)),  # at least 200 validation images
        ({"validation": "test", "limit": 60000}, (60000, 10000)),
        ({"validation": "test", "train_fraction": 0.1}, (6000, 1000)),  # a sample in proportion
        ({"validation": "test", "train_fraction": 0.1, "val_images": 10000}, (6000, 10000)),
        ({"validation": "test", "limit": 1000, "train_fraction": 0.25}, (250, 251)),  # rounded per class
        ({"limit": 100, "train_fraction": 0.01}, (10, 10)),  # never fewer than 10 training images
        ({"limit": 3000}, (3000, 3000)),
        ({"train_fraction": 0.5}, (27000, 3000)),
        ({"train_fraction": 0.01}, (540, 60)),
    ],
)
def test_split_sizes(ds, kw, sizes):
    s = make_split(ds, **kw)
    assert (len(s.y_train), len(s.y_val)) == sizes
    assert len(s.x_train) == len(s.y_train) and len(s.x_val) == len(s.y_val)


def test_limit_keeps_the_first_images_and_fraction_is_seeded(ds):
    s = make_split(ds, "test", limit=300)
    assert torch.equal(s.x_train, ds.train_images[:300]) and torch.equal(s.y_val, ds.test_labels[:300])
    a = make_split(ds, train_fraction=0.01, seed=3)
    b = make_split(ds, train_fraction=0.01, seed=3)
    c = make_split(ds, train_fraction=0.01, seed=4)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


# -- noise ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def clean(ds):
    return to_float(ds.test_images[:200])


@pytest.mark.parametrize("kind", list(NOISE_KINDS))
def test_noise_is_seeded_clipped_and_grows_with_level(clean, kind):
    before = clean.clone()
    a = add_noise(clean, kind, 0.3, seed=1)
    assert torch.equal(clean, before)  # the input is not modified
    assert a.shape == clean.shape and a.dtype == clean.dtype
    assert torch.equal(a, add_noise(clean, kind, 0.3, seed=1))  # reproducible
    assert not torch.equal(a, add_noise(clean, kind, 0.3, seed=2))  # the seed matters
    assert not torch.equal(a, clean)
    for level in (0.1, 0.5, 1.0, 3.0):
        y = add_noise(clean, kind, level, seed=0)
        assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0  # clipped to [0, 1]
    assert torch.equal(add_noise(clean, kind, 0.0), clean)  # level 0 changes nothing
    change = [
        float((add_noise(clean, kind, lv, seed=0) - clean).abs().mean()) for lv in (0.05, 0.2, 0.5, 0.9)
    ]
    assert change == sorted(change) and change[0] > 0 and change[-1] > 2 * change[0], change


def test_noise_kinds_behave_as_described(clean):
    sp = add_noise(clean, "salt_pepper", 0.2, seed=0)
    changed = sp != clean
    assert bool(((sp[changed] == 0) | (sp[changed] == 1)).all())  # only black or white pixels
    assert 0.1 < float(changed.float().mean()) < 0.2  # about 20%, minus pixels already 0 or 1
    mask = add_noise(clean, "mask", 0.25, seed=0)
    blanked = ((mask == 0) & (clean > 0)).flatten(1).sum(1)
    assert int(blanked.max()) <= 14 * 14 and int(blanked.sum()) > 0  # a 14 x 14 square at most per image
    g = add_noise(torch.full((50, 1, 28, 28), 0.5), "gaussian", 0.1, seed=0)
    assert float(g.std()) == pytest.approx(0.1, rel=0.05) and float(g.mean()) == pytest.approx(0.5, abs=0.01)
    # report B's noise: each image's own mean and std, scaled by the level
    gi = add_noise(clean, "gaussian_image", 0.5, seed=0)
    assert float((gi - clean).mean()) > 0  # the image mean is added: brighter


def test_noise_rejects_bad_arguments(clean):
    with pytest.raises(ValueError, match="unknown noise kind"):
        add_noise(clean, "poisson", 0.1)
    with pytest.raises(ValueError, match="between 0 and 10"):
        add_noise(clean, "gaussian", -0.1)
    with pytest.raises(ValueError, match="between 0 and 10"):
        add_noise(clean, "gaussian", 11)


def test_a_fraction_of_the_labels_validates_on_the_same_fraction_of_the_held_out_images(ds):
    full = make_split(ds)
    assert len(full.y_val) == 6000 and "n_val_of" not in full.describe()
    quick = make_split(ds, train_fraction=0.01, seed=3)
    assert len(quick.y_train) == 540 and len(quick.y_val) == 60
    assert torch.bincount(quick.y_val, minlength=10).tolist() == [6] * 10  # stratified
    assert quick.describe()["n_val_of"] == 6000 and quick.split_id == full.split_id
    # every seed validates on the same images (the runs pair), but trains on its own labels
    other = make_split(ds, train_fraction=0.01, seed=4)
    assert torch.equal(quick.x_val, other.x_val) and not torch.equal(quick.x_train, other.x_train)
    assert len(make_split(ds, val_images=1000).y_val) == 1000
