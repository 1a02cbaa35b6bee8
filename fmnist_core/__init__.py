"""Fashion-MNIST Lab core: data, models, training, metrics and runs on disk. No streamlit here."""
from .config import (AUTOENCODER_KINDS, CLASSIFIER_KINDS, ClassifierConfig, CNNConfig, ConfigError,
                     ConvAEConfig, DenseAEConfig, MLPConfig, RunSpec, TrainConfig, model_config_from_dict)
from .data import (CLASS_NAMES, NOISE_KINDS, DataError, FashionMNIST, Split, add_noise, find_data,
                   load_fashion_mnist, make_split, to_float)
from .evaluate import evaluate_autoencoder, evaluate_classifier, evaluate_run, predict_proba, reconstruct
from .models import (Classifier, ConvAutoencoder, DeepCNN, DenseAutoencoder, MLP, build_model)
from .preprocess import ImageError, Prepared, prepare_image
from .registry import Registry, RunError, RunInfo, validate_run_id
from .train import (BatchProgress, EarlyStopping, FitState, evaluate, fit, resolve_device, train_run)

__all__ = [n for n in dir() if not n.startswith("_")]
