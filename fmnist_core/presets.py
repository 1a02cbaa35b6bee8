"""The Train page's ready-made choices: the reports' configurations (each a run of the study catalog),
the words for the validation choice, and the published accuracies drawn on accuracy charts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from .config import OPTIMIZER_LABELS, ModelConfig, TrainConfig
from .settings import setting


@dataclass(frozen=True)
class Preset:
    """A study catalog run offered on the Train page: the catalog's configs, the preset's own words."""

    label: str
    about: str
    study: str  # the catalog study and run it is
    run: str
    model: ModelConfig
    train: TrainConfig


# (study, run key, label, about). Label and about are format strings over the catalog, so a number they
# quote is the catalog's and cannot drift from it: {m} the run's model config, {t} its TrainConfig,
# {o} its optimizer as shown, {r} its report numbers, {s} the study's numbers. Each model kind's first
# preset is the one the Train page opens with.
_CHOSEN = (
    ("a1", "n64", "Report A baseline (n={m.latent_dim}, p={m.dropout:g})",
     "Report A's baseline autoencoder: validation MSE {r[final_val_loss]} after {t.epochs} epochs."),
    ("a3", "ae-improved", "Report A improved (n={m.latent_dim}, p={m.dropout:g})",
     "Report A's improved autoencoder: validation MSE {r[final_val_loss]}, sharper reconstructions."),
    ("c", "ae1", "Report C AE 1 (n={m.latent_dim}, p={m.dropout:g}, batch {t.batch_size})",
     "Report C: early stopping (patience {t.patience}), best weights restored."),
    ("c", "ae2", "Report C AE 2 (n={m.latent_dim}, p={m.dropout:g}, batch {t.batch_size})",
     "Report C: early stopping (patience {t.patience}), best weights restored."),
    ("c", "ae3", "Report C AE 3 ({o}, lr {t.lr:g})",
     "Report C's worst autoencoder: {o} with lr {t.lr:g}, n={m.latent_dim}, p={m.dropout:g}."),
    ("c", "ae4", "Report C AE 4 (kernel-4 decoder, no stripes)",
     "Report C's best: the last layer uses a larger kernel instead of output padding, removing edge "
     "stripes."),
    ("e", "wide", "Report E tuned ({m.channels[0]}/{m.channels[1]} filters, BatchNorm, {m.second_pool} "
     "pool, p={m.dropout:g})",
     "Report E's final autoencoder: validation MSE {r[final_val_loss]} after {t.epochs} epochs "
     "(slow on a CPU: many more filters)."),
    ("beyond-pca", "b64-n64", "Beats PCA (n={m.latent_dim}: padded convs, linear code, one cycle)",
     "The beyond-PCA study's last step, at the reports' widths: {t.epochs} epochs at batch {t.batch_size}, "
     "one cycle up to lr {t.lr:g}, no dropout, batch norm; its goal is a test MSE of {s[goals][64]} or "
     "less, below PCA with {m.latent_dim} components."),
    ("b", "adam-lr0.001-n512", "Report B {o} (n={m.latent_dim}, lr {t.lr:g})",
     "Report B's best with {o}: 784 → {m.latent_dim} → 784."),
    ("b", "sgd-lr0.1-n512", "Report B {o} (n={m.latent_dim}, lr {t.lr:g})",
     "Report B's best with {o}; its smaller learning rates barely move."),
    ("a4", "clf-base", "Report A base (fine-tune, p={m.dropout:g})",
     "Report A: the baseline encoder + Linear({m.latent_dim}→10) + ReLU; {s[30][0]:.1%} ± "
     "{s[30][1]:.1%} at epoch 30 across seeds."),
    ("record", "10min",
     "Record: {s[goals][10min]:.0%} within {s[minutes][10min]} minutes ({m.channels[0]}/{m.channels[1]} filters)",
     "This machine's classifier record: padded convs, batch norm, augmentation, label smoothing and a one-cycle "
     "schedule, {t.epochs} epochs; within {s[minutes][10min]} minutes on a 2-core CPU (both cores, nothing else "
     "running)."),
    ("record", "2min", "Record in {s[minutes][2min]} minutes ({m.channels[0]}/{m.channels[1]} filters, "
     "{t.epochs} epochs)", "The same recipe, narrower and shorter: within {s[minutes][2min]} minutes on a "
     "2-core CPU."),
    ("a3", "clf-improved", "Report A improved encoder, p={m.dropout:g}",
     "The improved autoencoder as encoder; report A: it {r[says]}."),
    ("a3", "clf-improved-p0.2", "Report A improved encoder, p raised to {m.dropout:g}",
     "The improved encoder with dropout raised after inheriting; report A: it {r[says]}."),
    ("c", "c5", "Report C C5 (early stopping)",
     "Report C's C5: best epoch {r[best_epoch]}, validation accuracy {r[val_acc]:.1%}."),
    ("c", "c8", "Report C C8 (frozen encoder)",
     "Report C's C8: encoder frozen, no final ReLU; under-fits ({r[val_acc]:.1%})."),
    ("e", "clf-fc", "Report E (hidden layer in the head)",
     "Report E: a fully connected hidden layer before the output; {o} over-fits (final validation "
     "accuracy {r[final_val_acc]:.2%})."),
    ("d", "cnn", "Report D deep CNN",
     "Report D: accuracy {r[accuracy]:.2%}; over-fits after epoch {s[overfit_epoch]}."),
    ("d", "mlp", "Report D MLP",
     "Report D's baseline: one hidden layer of {m.hidden} units; accuracy {r[accuracy]:.2%}."),
)  # fmt: skip


@cache
def presets() -> dict[str, dict[str, Preset]]:
    """The presets by model kind, then label. Built on first use: importing the catalog (the studies
    package) loads torch, which the Compare page, importing REFERENCE_ACCURACY, does without."""
    from .studies.catalog import get_study

    made = []  # (preset, the catalog run whose encoder it copies, or None)
    for study_name, key, label, about in _CHOSEN:
        study = get_study(study_name)
        run = study.template(key)
        o = OPTIMIZER_LABELS[run.train.optimizer]
        words = dict(m=run.model, t=run.train, o=o, r=run.report, s=study.numbers)
        preset = Preset(label.format(**words), about.format(**words), study_name, key, run.model, run.train)
        made.append((preset, study.template(run.encoder) if run.encoder else None))
    # a classifier's caption names the autoencoder preset that trains its encoder (the Encoder box picks
    # among the autoencoder runs on disk; the preset leaves that choice to the user)
    autoencoders = {(p.model, p.train): p.label for p, _ in made if p.model.kind == "conv_ae"}
    out: dict[str, dict[str, Preset]] = {}
    for preset, encoder in made:
        if encoder and (name := autoencoders.get((encoder.model, encoder.train))):
            preset = replace(preset, about=f"{preset.about} Its encoder: a run of the preset “{name}”.")
        out.setdefault(preset.model.kind, {})[preset.label] = preset
    return out


# TrainConfig.validation's choices as the Train page and the command line word them (the settings schema's)
VALIDATION_LABELS = setting("train", "validation").choices
VALIDATION_HELP = setting("train", "validation").help

# Published accuracy reference points (REPORTS.md), drawn on accuracy charts. Written out rather than read
# from the catalog, which would load torch into the Compare page; tests/test_presets.py checks they agree.
REFERENCE_ACCURACY: list[tuple[str, float]] = [
    ("A: base classifier, 30 epochs (91.1%)", 0.911),
    ("D: deep CNN (89.78%)", 0.8978),
    ("Zalando: best scikit-learn, SVC (89.7%)", 0.897),
    ("D: MLP (87.99%)", 0.8799),
    ("human (83.5%)", 0.835),
]
