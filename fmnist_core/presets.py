"""The reports' configurations as ready-made (model, train) pairs for the Train page and studies."""

from __future__ import annotations

from .config import ClassifierConfig, CNNConfig, ConvAEConfig, DenseAEConfig, MLPConfig, TrainConfig


def _p(about: str, model, **train) -> dict:
    return {"about": about, "model": model, "train": TrainConfig(**train)}


PRESETS: dict[str, dict[str, dict]] = {
    "conv_ae": {
        "Report A baseline (n=64, p=0.2)": _p(
            "Report A: Adam 1e-3, batch 100, 20 epochs; validation MSE 0.037 at epoch 20.",
            ConvAEConfig(latent_dim=64, dropout=0.2),
            epochs=20,
        ),
        "Report A improved (n=128, p=0.01)": _p(
            "Report A's improved autoencoder: MSE 0.021, sharper reconstructions.",
            ConvAEConfig(latent_dim=128, dropout=0.01),
            epochs=20,
        ),
        "Report C AE 2 (n=256, p=0.3, batch 1000)": _p(
            "Report C: early stopping (patience 5), best weights restored.",
            ConvAEConfig(latent_dim=256, dropout=0.3),
            batch_size=1000,
            epochs=40,
            patience=5,
        ),
        "Report C AE 3 (SGD, lr 0.01)": _p(
            "Report C's worst autoencoder: SGD with lr 1e-2, n=64, p=0.3, batch 1000.",
            ConvAEConfig(latent_dim=64, dropout=0.3),
            optimizer="sgd",
            lr=1e-2,
            batch_size=1000,
            epochs=40,
            patience=5,
        ),
        "Report C AE 4 (kernel-4 decoder, no stripes)": _p(
            "Report C's best: the last layer uses a larger kernel instead of output padding, removing edge stripes.",
            ConvAEConfig(latent_dim=128, dropout=0.3, decoder="kernel"),
            batch_size=1000,
            epochs=40,
            patience=5,
        ),
        "Report E tuned (64/96 filters, BatchNorm, avg pool, p=0)": _p(
            "Report E's final autoencoder: validation MSE 1.75% after 30 epochs (slow on a CPU: 10x the filters).",
            ConvAEConfig(latent_dim=64, dropout=0.0, channels=(64, 96), batch_norm=True, second_pool="avg"),
            epochs=30,
        ),
    },
    "dense_ae": {
        "Report B Adam (n=512, lr 1e-3)": _p(
            "Report B's best: 784 -> 512 -> 784, dropout 0.1, batch 1000; loss flat after epoch 30.",
            DenseAEConfig(latent_dim=512, dropout=0.1),
            batch_size=1000,
            epochs=100,
        ),
        "Report B SGD (n=512, lr 0.1)": _p(
            "Report B's best SGD: lr 0.1 (lr 0.001 barely moves).",
            DenseAEConfig(latent_dim=512, dropout=0.1),
            optimizer="sgd",
            lr=0.1,
            batch_size=1000,
            epochs=100,
        ),
    },
    "classifier": {
        "Report A base (fine-tune, p=0.2)": _p(
            "Report A: the baseline encoder (n=64) + Linear(64->10) + ReLU; 91.1% ± 0.3 at epoch 30.",
            ClassifierConfig(latent_dim=64, dropout=0.2),
            epochs=30,
        ),
        "Report A improved encoder, p=0.01": _p(
            "Pick the improved (n=128, p=0.01) autoencoder as encoder; report A: it barely improved.",
            ClassifierConfig(latent_dim=128, dropout=0.01),
            epochs=30,
        ),
        "Report A improved encoder, p raised to 0.2": _p(
            "The improved encoder with dropout raised to 0.2 after inheriting: recovers fast, over-fits more.",
            ClassifierConfig(latent_dim=128, dropout=0.2),
            epochs=30,
        ),
        "Report C C5 (early stopping)": _p(
            "Report C's C5: best epoch 15, validation accuracy 90.0%.",
            ClassifierConfig(latent_dim=64, dropout=0.2),
            epochs=40,
            patience=5,
        ),
        "Report C C8 (frozen encoder)": _p(
            "Report C's C8: encoder frozen, no final ReLU, batch 1000; under-fits (79.3%).",
            ClassifierConfig(latent_dim=64, dropout=0.2, freeze_encoder=True, final_relu=False),
            batch_size=1000,
            epochs=40,
            patience=5,
        ),
        "Report E (hidden layer in the head)": _p(
            "Report E: a fully connected hidden layer before the output; Adam over-fits after half the epochs.",
            ClassifierConfig(latent_dim=64, dropout=0.2, head_hidden=128, final_relu=False),
            epochs=30,
        ),
    },
    "cnn": {
        "Report D deep CNN": _p(
            "Report D: 10 epochs, held-out validation; accuracy 0.8978, over-fits after epoch 4.",
            CNNConfig(dropout=0.4),
            epochs=10,
            validation="holdout",
        ),
    },
    "mlp": {
        "Report D MLP": _p(
            "Report D's baseline: one hidden layer; accuracy 0.8799.",
            MLPConfig(hidden=256, dropout=0.2),
            epochs=10,
            validation="holdout",
        ),
    },
}

# Published accuracy reference points (REPORTS.md), drawn on accuracy charts.
REFERENCE_ACCURACY: list[tuple[str, float]] = [
    ("A: base classifier, 30 epochs (91.1%)", 0.911),
    ("D: deep CNN (89.78%)", 0.8978),
    ("Zalando: best scikit-learn, SVC (89.7%)", 0.897),
    ("D: MLP (87.99%)", 0.8799),
    ("human (83.5%)", 0.835),
]
