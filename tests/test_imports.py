"""The library stands alone: no streamlit, no work at import time, the public API in one place."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import cli_env

CHECK = r"""
import importlib, json, os, pkgutil, sys
import fmnist_core
after_package = sorted(m for m in ("streamlit", "plotly", "sklearn", "torchvision", "PIL") if m in sys.modules)
names = [m.name for m in pkgutil.iter_modules(fmnist_core.__path__) if m.name != "__main__"]
for name in names:
    importlib.import_module("fmnist_core." + name)
print(json.dumps({"after_package": after_package, "modules": names,
                  "streamlit_after_all": "streamlit" in sys.modules,
                  "cwd_after": sorted(os.listdir("."))}))
"""


def test_import_fmnist_core_does_not_load_streamlit(tmp_path):
    p = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=tmp_path,
        env=cli_env(tmp_path / "runs"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "streamlit" not in out["after_package"]
    assert "sklearn" not in out["after_package"]  # scikit-learn loads only for a classification report
    assert {
        "config",
        "data",
        "models",
        "train",
        "registry",
        "metrics",
        "evaluate",
        "preprocess",
        "cli",
    } <= set(out["modules"])
    assert out["streamlit_after_all"] is False, "a module of fmnist_core imports streamlit"
    assert out["cwd_after"] == []  # importing wrote nothing (no data/, no saved_models/)
    assert not (tmp_path / "runs").exists()


def test_public_api():
    import fmnist_core

    for name in (
        "load_fashion_mnist",
        "make_split",
        "add_noise",
        "build_model",
        "fit",
        "train_run",
        "EarlyStopping",
        "Registry",
        "RunError",
        "ConfigError",
        "DataError",
        "ImageError",
        "prepare_image",
        "evaluate_run",
        "ConvAEConfig",
        "ClassifierConfig",
        "TrainConfig",
        "RunSpec",
        "CLASS_NAMES",
    ):
        assert name in fmnist_core.__all__ and hasattr(fmnist_core, name), name
    # every user-facing error is a ValueError or RuntimeError, so callers can catch them broadly
    assert issubclass(fmnist_core.ConfigError, ValueError) and issubclass(fmnist_core.ImageError, ValueError)
    assert issubclass(fmnist_core.RunError, RuntimeError) and issubclass(fmnist_core.DataError, RuntimeError)


def test_listing_runs_and_reading_the_files_need_no_torch(tmp_path):
    """The Home and Compare pages draw from these before torch (seconds to import) is loaded."""
    code = (
        "import sys, fmnist_core\nfrom fmnist_core.registry import Registry\n"
        "from fmnist_core.files import find_data, read_split, CLASS_NAMES\n"
        "Registry('runs').list_runs(); read_split(find_data(download=False), 'test')\n"
        "from fmnist_core.run_groups import groups; groups([])  # Compare's groups read the study catalogue\n"
        "print(fmnist_core.TrainConfig().epochs, 'torch' in sys.modules)"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=cli_env(tmp_path / "runs"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["20", "False"]
