"""Every model and training setting, defined once: its type, range or choices, label, unit, help text,
command-line flag, the Train page's stops, and which model kinds have it.

The config dataclasses (config.py) hold the defaults and check their values against this schema; the
command line's flags (cli/args.py) and the Train page's controls are built from it, so a setting's range,
choices and words live here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

CONV = ("conv_ae", "classifier")  # the kinds with report A's conv encoder
CODED = ("conv_ae", "dense_ae", "classifier")  # the kinds with a code of size n
LABELLED = ("classifier", "cnn", "mlp")  # the kinds trained on labels
MODEL_KINDS = ("conv_ae", "dense_ae", "classifier", "cnn", "mlp")


@dataclass(frozen=True)
class Setting:
    """One setting of a model config (section "model") or of TrainConfig (section "train")."""

    name: str  # the config field
    section: str  # "model" | "train"
    label: str  # how the Train page and tables name it
    help: str
    kinds: tuple[str, ...] = MODEL_KINDS  # the model kinds that have it (or, for training, use it)
    low: float | None = None  # numbers: the allowed range
    high: float | None = None
    open_low: bool = False  # low itself excluded (a learning rate of 0)
    open_high: bool = False
    choices: dict[Any, str] = field(default_factory=dict)  # value -> how it is shown; empty: not a choice
    flag: str | None = None  # the command line's option (None: none)
    invert_flag: bool = False  # a store_false flag (--no-final-relu, --keep-last) for a True default
    flag_help: str = ""  # the flag's own words where they differ from the setting's (an inverted flag)
    stops: tuple = ()  # the Train page's slider positions
    unit: str = ""
    example: str = ""  # a sensible value, named in the error for a bad one

    def applies(self, kind: str) -> bool:
        return kind in self.kinds

    def bounds(self) -> str:
        lo = "(" if self.open_low else "["
        hi = ")" if self.open_high else "]"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"

    @property
    def words(self) -> str:
        """How an error names it: 'learning rate (lr)'."""
        label = self.label[0].lower() + self.label[1:]
        return label if label.replace(" ", "_") == self.name else f"{label} ({self.name})"

    def check(self, value: Any) -> None:
        """ConfigError with a message that says what to change, for a value outside the schema."""
        if self.choices and value not in self.choices:
            raise ConfigError(
                f"{self.words} must be one of {', '.join(repr(c) for c in self.choices)} (got {value!r})"
            )
        if self.low is None or self.high is None or isinstance(value, (str, bool)):
            return
        for v in value if isinstance(value, (tuple, list)) else (value,):
            ok = (
                isinstance(v, (int, float))
                and math.isfinite(v)
                and (v > self.low if self.open_low else v >= self.low)
                and (v < self.high if self.open_high else v <= self.high)
            )
            if not ok:
                hint = f"; e.g. {self.example}" if self.example else ""
                raise ConfigError(f"{self.words} must be in {self.bounds()} (got {value!r}){hint}")


def _model(name: str, label: str, help: str, kinds: tuple[str, ...], **kw: Any) -> Setting:
    return Setting(name, "model", label, help, kinds, **kw)


def _train(name: str, label: str, help: str, **kw: Any) -> Setting:
    return Setting(name, "train", label, help, **kw)


SETTINGS: tuple[Setting, ...] = (
    # -- the model ---------------------------------------------------------------------------------
    _model("latent_dim", "Latent size n", "Size of the code between encoder and decoder.", CODED,
           low=1, high=4096, flag="--latent", stops=(2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)),
    _model("dropout", "Dropout p", "Probability of zeroing each activation after every ReLU during training.",
           MODEL_KINDS, low=0, high=1, open_high=True, flag="--dropout", example="0.2",
           stops=(0.0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)),
    _model("channels", "Conv filters", "Filters of the two conv layers (report E's best: 64, 96).", CONV,
           low=1, high=512, flag="--channels", stops=((16, 32), (32, 64), (64, 96))),
    _model("batch_norm", "BatchNorm before pooling", "BatchNorm before each pooling (report E).", CONV,
           flag="--batch-norm"),
    _model("second_pool", "Second pooling", "The second pooling layer (report E: average).", CONV,
           choices={"max": "max", "avg": "avg"}, flag="--second-pool"),
    _model("dropout_mode", "Dropout on conv maps", "Element-wise as in the reports, or whole channels "
           "(Dropout2d: faster, but a different model).", CONV,
           choices={"element": "element-wise (the reports)",
                    "channel": "channel-wise (Dropout2d: faster, a different model)"},
           flag="--dropout-mode"),
    _model("decoder", "Decoder's last layer", "Kernel 3 with output padding (report A) or kernel 4 "
           "(report C's AE 4, no edge stripes).", ("conv_ae",),
           choices={"output_padding": "kernel 3 + output padding (A)", "kernel": "kernel 4, no padding (C's AE 4)"},
           flag="--decoder"),
    _model("padding", "Conv padding", "No padding shrinks the maps 28→26→13→11→5 as in the reports; "
           "'same' padding keeps 28→14→7, and the decoder mirrors it with two stride-2 upsamplings (kernel 4): "
           "a cleaner geometry that needs no output padding.", CONV,
           choices={"valid": "none: 28→13→5 (the reports)", "same": "same: 28→14→7, mirrored decoder"},
           flag="--padding"),
    _model("code_activation", "Activation on the code", "The reports put a ReLU (and dropout) on the code, "
           "which zeroes every negative coordinate; a linear code keeps them, as PCA's does.", CONV,
           choices={"relu": "ReLU (the reports)", "linear": "none (a linear code)"}, flag="--code-activation"),
    _model("encoder_run", "Encoder", "Copy the encoder weights of an autoencoder run, or start from random "
           "weights.", ("classifier",), flag="--encoder"),
    _model("freeze_encoder", "Freeze the encoder", "Train the head only (report C's C8).", ("classifier",),
           flag="--freeze-encoder"),
    _model("head_hidden", "Hidden units in the head", "0 = one linear layer n→10 (report A); report E "
           "added a hidden layer.", ("classifier",), low=0, high=4096, flag="--head-hidden",
           stops=(0, 32, 64, 128, 256, 512)),
    _model("final_relu", "ReLU before softmax", "Reports A and C put a ReLU on the logits: a class whose "
           "logit it switches off for every image is never predicted again.", ("classifier",),
           flag="--no-final-relu", invert_flag=True,
           flag_help="no ReLU before the softmax (reports A and C use one)"),
    _model("hidden", "Hidden units", "Units of the MLP's hidden layer.", ("mlp",), low=1, high=8192,
           flag="--hidden", stops=(32, 64, 128, 256, 512, 1024)),
    # -- training -----------------------------------------------------------------------------------
    _train("optimizer", "Optimizer", "Adam (eps 1e-8) or plain SGD.", choices={"adam": "Adam", "sgd": "SGD"},
           flag="--optimizer"),
    _train("lr", "Learning rate", "The optimizer's step size. The reports used 1e-3 with Adam and 0.01 to "
           "0.1 with SGD; too high and the loss diverges.", low=0, high=10, open_low=True, flag="--lr",
           example="1e-3", stops=(1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)),
    _train("schedule", "Learning-rate schedule", "Constant as in the reports, or one cycle: the rate "
           "warms up to the learning rate over the first 30% of the steps, then anneals to almost 0.",
           choices={"constant": "constant (the reports)", "onecycle": "one cycle (warm-up, then anneal)"},
           flag="--schedule"),
    _train("weight_decay", "Weight decay", "Decoupled weight decay (AdamW with Adam); 0 = off, as in the "
           "reports.", low=0, high=1, flag="--weight-decay", example="5e-4", stops=(0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2)),
    _train("label_smoothing", "Label smoothing", "Train towards 1 − ε on the true class and ε/10 spread over "
           "all; 0 = off (the reports).", kinds=LABELLED, low=0, high=0.5, open_high=True,
           flag="--label-smoothing", example="0.1", stops=(0.0, 0.05, 0.1, 0.2, 0.3)),
    _train("augment", "Augmentation", "Each training image shifted by up to 2 pixels and mirrored left to "
           "right at random (a new draw every epoch), or none as in the reports.", kinds=LABELLED,
           choices={"none": "none (the reports)", "shift_flip": "random shifts and mirror images"},
           flag="--augment"),
    _train("momentum", "SGD momentum", "SGD only.", low=0, high=1, open_high=True, flag="--momentum"),
    _train("batch_size", "Batch size", "Images per step.", low=1, high=60000, flag="--batch-size",
           unit="images", stops=(16, 32, 64, 100, 128, 256, 500, 1000, 2000, 5000)),
    _train("epochs", "Epochs", "Maximum number of passes over the training set.", low=1, high=1000,
           flag="--epochs"),
    _train("seed", "Seed", "Weights, batch order and dropout masks.", low=0, high=2**31 - 1, flag="--seed"),
    _train("patience", "Early-stopping patience", "Epochs without a held-out loss improvement before "
           "stopping; 0 = off.", low=0, high=1000, flag="--patience"),
    _train("min_delta", "Early-stopping min delta", "The smallest held-out loss improvement that counts.",
           low=0, high=math.inf, flag="--min-delta"),
    _train("restore_best", "Keep the best epoch", "Keep the weights of the epoch with the lowest held-out "
           "loss (else the last epoch's).", flag="--keep-last", invert_flag=True,
           flag_help="keep the last epoch's weights, not the best"),
    _train("validation", "Validate on", "The images that pick the best epoch and stop early. By default a "
           "fixed, stratified 10% of the training images, held out of training and the same for every run, "
           "so the test set is read once, for the figure reported. The reports validated on the test set, "
           "which picks the epoch on the very images whose score is then reported, and so flatters it.",
           choices={"holdout": "held-out split of train (default)",
                    "test": "test set — the reports' method (selects on the figure it reports)"},
           flag="--validation"),
    _train("val_fraction", "Held-out fraction", "Stratified fraction of the training set held out.",
           low=0, high=1, open_low=True, open_high=True),
    _train("limit", "Training images", "Train on the first N images only; 0 = all.", low=0, high=60000,
           flag="--limit"),
    _train("train_fraction", "Training-set fraction", "Train on a seeded part of the training images (a "
           "fraction of the labels).", low=0, high=1, open_low=True, flag="--train-fraction",
           stops=(0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)),
    _train("val_images", "Validation images", "Validation images per epoch; 0 = auto.", low=0, high=60000),
    _train("device", "Device", "auto picks a GPU when there is one.", flag="--device"),
    _train("precision", "Precision", "bf16 runs each training step under bfloat16 autocast; the weights "
           "stay float32: faster on CPUs with AVX-512 BF16 or AMX and on GPUs, but not the reports' "
           "float32 computation (labelled in the run).",
           choices={"fp32": "float32 (the reports)", "bf16": "bfloat16 (faster, a different computation)"},
           flag="--precision"),
)  # fmt: skip

BY_NAME: dict[tuple[str, str], Setting] = {(s.section, s.name): s for s in SETTINGS}


def setting(section: str, name: str) -> Setting:
    return BY_NAME[(section, name)]


def settings_of(section: str, kind: str | None = None) -> Iterator[Setting]:
    """The settings of a section ("model" or "train"), or those one model kind has or uses."""
    return (s for s in SETTINGS if s.section == section and (kind is None or s.applies(kind)))


def check_config(section: str, kind: str, config: Any) -> None:
    """Check every field of a config that the schema describes (ConfigError naming the first bad one)."""
    for s in settings_of(section, None if section == "train" else kind):
        if hasattr(config, s.name):
            s.check(getattr(config, s.name))


# The learning rates the reports trained with (A, C, E: Adam 1e-3; B's grids: 1e-3 to 0.1 for Adam and SGD;
# C: SGD 0.01): a value far outside is worth a word before a run spends its epochs on it.
REPORT_LRS = (1e-3, 0.1)
LR_MARGIN = (10.0, 3.0)  # how far below and above the reports' range a learning rate may go unwarned


def lr_warning(lr: float) -> str | None:
    """A one-line warning for a learning rate far outside the reports' range, else None."""
    low, high = REPORT_LRS
    if lr > high * LR_MARGIN[1]:
        return (
            f"Learning rate {lr:g} is {lr / high:.0f}× the largest the reports used ({high:g}): "
            "the loss is likely to diverge or stall."
        )
    if lr < low / LR_MARGIN[0]:
        return (
            f"Learning rate {lr:g} is {low / lr:.0f}× below the smallest the reports used ({low:g}): "
            "training will barely move."
        )
    return None
