"""Looking inside the networks: the map of the codes, decoding from it, feature maps, attributions."""

from __future__ import annotations

import numpy as np
import pytest

from fmnist_core import (
    ClassifierConfig,
    CNNConfig,
    ConvAEConfig,
    DenseAEConfig,
    MLPConfig,
    Registry,
    RunSpec,
    TrainConfig,
    latent,
    train_run,
)
from fmnist_core.evalcache import EvalCache


@pytest.fixture(scope="module")
def runs(ds, tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("latent"))
    quick = TrainConfig(epochs=1, limit=500, batch_size=50, device="cpu")
    for spec in (
        RunSpec(ConvAEConfig(latent_dim=16), quick, "ae"),
        RunSpec(DenseAEConfig(latent_dim=32), quick, "dense"),
        RunSpec(ClassifierConfig(latent_dim=16, encoder_run="ae"), quick, "clf"),
        RunSpec(CNNConfig(), quick, "cnn"),
        RunSpec(MLPConfig(), quick, "mlp"),
    ):
        train_run(spec, ds, reg, command="test")
    return reg


@pytest.mark.parametrize("run_id,dim", [("ae", 16), ("dense", 32), ("clf", 16), ("cnn", 864), ("mlp", 256)])
def test_codes_of_every_kind(runs, ds, run_id, dim):
    z = latent.codes(runs.load_model(run_id), ds.test_images[:20])
    assert z.shape == (20, dim) and np.isfinite(z).all()


def test_the_pca_map_and_decoding_from_it(runs, ds):
    model = runs.load_model("ae")
    z = latent.codes(model, ds.test_images[:300])
    pca = latent.pca_map(z)
    assert pca["xy"].shape == (300, 2) and pca["components"].shape == (2, 16)
    assert pca["explained"][0] >= pca["explained"][1] > 0
    assert abs(pca["xy"][:, 0].mean()) < 1e-4  # centred
    img = latent.from_map(model, pca, np.array([0.0, 0.0]))
    assert img.shape == (1, 28, 28) and (0 <= img).all() and (img <= 1).all()
    steps = latent.interpolate(model, ds.test_images[0], ds.test_images[1], steps=9)
    assert steps.shape == (9, 28, 28)
    ends = latent.decode(model, z[:2])
    assert np.allclose(steps[0], ends[0], atol=1e-5) and np.allclose(steps[-1], ends[1], atol=1e-5)


@pytest.mark.slow
def test_the_map_is_computed_once_with_tsne(runs, ds):
    cache = EvalCache(runs, lambda: ds)
    m = cache.latent("clf")
    n = latent.MAP_IMAGES
    assert m["tsne"].shape == (n, 2) and m["pca"].shape == (n, 2) and len(np.unique(m["index"])) == n
    assert (runs.path("clf") / "eval" / "latent.npz").exists()
    again = EvalCache(runs, lambda: ds, lambda r: (_ for _ in ()).throw(AssertionError("recomputed"))).latent(
        "clf"
    )
    assert np.array_equal(again["tsne"], m["tsne"])


def test_feature_maps_filters_and_attributions(runs, ds):
    clf = runs.load_model("clf")
    maps = latent.feature_maps(clf, ds.test_images[0])
    assert [m.shape for _, m in maps] == [(16, 26, 26), (32, 11, 11)] and all((m >= 0).all() for _, m in maps)
    assert latent.first_filters(clf).shape == (16, 3, 3)
    assert latent.feature_maps(runs.load_model("mlp"), ds.test_images[0]) == []
    assert latent.first_filters(runs.load_model("mlp")) is None
    a = latent.attributions(runs.load_model("cnn"), ds.test_images[0], target=int(ds.test_labels[0]))
    assert a["occlusion"].shape == (28, 28) and a["integrated_gradients"].shape == (28, 28)
    assert np.isfinite(a["integrated_gradients"]).all() and np.abs(a["occlusion"]).sum() > 0
