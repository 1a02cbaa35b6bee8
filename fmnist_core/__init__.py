"""Fashion-MNIST Lab core: data, models, training, metrics and runs on disk. No streamlit here.

The names below load their module on first use (PEP 562), so `import fmnist_core` is instant and
code that only lists runs or reads the IDX files never pays for importing torch.
"""

import importlib

_API = {
    "config": (
        "AUTOENCODER_KINDS",
        "CLASSIFIER_KINDS",
        "ClassifierConfig",
        "CNNConfig",
        "ConfigError",
        "ConvAEConfig",
        "DenseAEConfig",
        "MLPConfig",
        "RunSpec",
        "TrainConfig",
        "model_config_from_dict",
    ),
    "files": ("CLASS_NAMES", "DataError", "find_data"),
    "data": (
        "NOISE_KINDS",
        "FashionMNIST",
        "Split",
        "add_noise",
        "load_fashion_mnist",
        "make_split",
        "to_float",
    ),
    "evaluate": (
        "evaluate_autoencoder",
        "evaluate_classifier",
        "evaluate_run",
        "predict_proba",
        "reconstruct",
    ),
    "models": ("Classifier", "ConvAutoencoder", "DeepCNN", "DenseAutoencoder", "MLP", "build_model"),
    "preprocess": ("ImageError", "Prepared", "prepare_image"),
    "registry": ("Registry", "RunError", "RunInfo", "validate_run_id"),
    # train.loss_and_accuracy (the validation pass) is not here: fmnist_core.evaluate evaluates runs
    "train": ("BatchProgress", "EarlyStopping", "FitState", "fit", "resolve_device", "train_run"),
}
_WHERE = {name: module for module, names in _API.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'fmnist_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


def __dir__() -> list[str]:
    return __all__
