"""The networks of the five reports, each built from its config dataclass."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .config import ClassifierConfig, CNNConfig, ConvAEConfig, DenseAEConfig, MLPConfig, ModelConfig


class _ApplyMask(torch.autograd.Function):
    """y = x * mask with the mask saved for backward (one multiply each way, no where/scale pair)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


def dropout_mask(x: torch.Tensor, p: float) -> torch.Tensor:
    """A mask like x (same dtype and memory layout): 0 with probability p (resolved to 1/32768), else
    1/(1-p), so that x * mask is inverted dropout.

    One 64-bit random word gives four 15-bit uniforms: a quarter of the generator calls of
    rand_like and about a seventh of the time of bernoulli_ (nn.Dropout's draw) on the CPU. The
    threshold is applied in float32 (exact for 15-bit integers, and vectorized: a bool mask cast to
    float takes six times as long on the CPU).
    """
    n = x.numel()
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=x.device).random_()  # 63 random bits each
    bits = words.view(torch.int16)[:n]
    # lay the mask out in x's own memory order (x may be channels_last), so the multiply streams
    bits = bits.view(x.shape) if x.is_contiguous() else bits.as_strided(x.shape, x.stride())
    u = (bits & 0x7FFF).to(torch.float32)  # (x.shape) uniform integers in [0, 32768)
    mask = u.ge_(round(p * 32768)).mul_(1.0 / (1.0 - p))  # keep where u >= p * 32768
    return mask.to(x.dtype)


class Dropout(nn.Module):
    """Element-wise dropout with nn.Dropout's semantics and a cheaper mask (see dropout_mask).

    mode "channel" zeroes whole feature maps (nn.Dropout2d): a different model, not the reports'.
    """

    def __init__(self, p: float, mode: str = "element"):
        super().__init__()
        self.p, self.mode = float(p), mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.mode == "channel" and x.dim() == 4:
            return F.dropout2d(x, self.p, True)
        return _ApplyMask.apply(x, dropout_mask(x, self.p))

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"


def map_side(cfg: ConvAEConfig) -> int:
    """The side of the encoder's last feature map: unpadded 3x3 convs and two poolings take 28 to 13 to
    5 (the reports); padded ones take 28 to 14 to 7."""
    return 7 if cfg.padding == "same" else 5


class ConvEncoder(nn.Module):
    """(B, 1, 28, 28) -> (B, n): two conv blocks and a linear code layer."""

    def __init__(self, cfg: ConvAEConfig):
        super().__init__()
        c1, c2 = cfg.channels
        p, mode = cfg.dropout, cfg.dropout_mode
        pad, side = (1 if cfg.padding == "same" else 0), map_side(cfg)
        bn = (lambda c: nn.BatchNorm2d(c)) if cfg.batch_norm else (lambda c: nn.Identity())
        pool2 = nn.MaxPool2d(2) if cfg.second_pool == "max" else nn.AvgPool2d(2)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=pad),
            bn(c1),
            nn.ReLU(),
            Dropout(p, mode),
            nn.MaxPool2d(2),  # (B, c1, 26, 26) -> (B, c1, 13, 13); padded: 28 -> 14
            nn.Conv2d(c1, c2, 3, padding=pad),
            bn(c2),
            nn.ReLU(),
            Dropout(p, mode),
            pool2,  # (B, c2, 11, 11) -> (B, c2, 5, 5); padded: 14 -> 7
            nn.Flatten(),  # (B, c2 * side²)
            nn.Linear(c2 * side * side, cfg.latent_dim),
            nn.ReLU() if cfg.code_activation == "relu" else nn.Identity(),  # same indices either way
            Dropout(p),  # (B, n)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class ConvDecoder(nn.Module):
    """(B, n) -> (B, 1, 28, 28) in [0, 1]: the encoder's geometry in reverse."""

    def __init__(self, cfg: ConvAEConfig):
        super().__init__()
        c1, c2 = cfg.channels
        p, mode, side = cfg.dropout, cfg.dropout_mode, map_side(cfg)
        same = cfg.padding == "same"  # 7 -> 14 -> 28: kernel 4, stride 2, padding 1 doubles the side
        # Unpadded, 5 -> 13 -> 28. Report A: kernel 3 + output_padding 1 gives (13-1)*2+3+1 = 28. Report C's
        # AE 4 drops the output padding for a larger kernel, (13-1)*2+4 = 28, which removes the edge stripes.
        # (The layers are made in the order the reports' code made them: the same seed, the same weights.)
        if same:
            last: nn.Module = nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1)
        elif cfg.decoder == "output_padding":
            last = nn.ConvTranspose2d(c1, 1, 3, stride=2, output_padding=1)
        else:
            last = nn.ConvTranspose2d(c1, 1, 4, stride=2)
        code_in = nn.Linear(cfg.latent_dim, c2 * side * side)
        up = (
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1)
            if same
            else nn.ConvTranspose2d(c2, c1, 5, stride=2)
        )
        self.layers = nn.Sequential(
            code_in,
            nn.ReLU(),
            Dropout(p),  # (B, c2 * side²)
            nn.Unflatten(1, (c2, side, side)),  # (B, c2, side, side)
            up,
            nn.ReLU(),
            Dropout(p, mode),  # (B, c1, 13 or 14, 13 or 14)
            last,
            nn.Sigmoid(),  # (B, 1, 28, 28)
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)


class ConvAutoencoder(nn.Module):
    """Report A's convolutional autoencoder (and the variants of C and E)."""

    def __init__(self, cfg: ConvAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ConvEncoder(cfg)
        self.decoder = ConvDecoder(cfg)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class DenseAutoencoder(nn.Module):
    """Report B: 784 -> n -> 784 with ReLU, dropout and a sigmoid output."""

    def __init__(self, cfg: DenseAEConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = nn.Sequential(
            nn.Flatten(), nn.Linear(784, cfg.latent_dim), nn.ReLU(), Dropout(cfg.dropout)
        )
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latent_dim, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28))
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)  # (B, n)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # (B, 1, 28, 28)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class Classifier(nn.Module):
    """A conv encoder (pretrained or random init) and a linear head; returns logits (B, 10)."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        self.encoder = ConvEncoder(cfg.encoder_config())
        n, h = cfg.latent_dim, cfg.head_hidden
        layers: list[nn.Module] = (
            [nn.Linear(n, h), nn.ReLU(), Dropout(cfg.dropout), nn.Linear(h, 10)] if h else [nn.Linear(n, 10)]
        )
        if cfg.final_relu:  # reports A and C put a ReLU before the softmax
            layers.append(nn.ReLU())
        self.head = nn.Sequential(*layers)
        if cfg.freeze_encoder:
            self.encoder.requires_grad_(False)

    def load_encoder(self, encoder_state: dict[str, torch.Tensor]) -> None:
        """Copy an autoencoder's encoder weights (keys relative to its `encoder.` module)."""
        self.encoder.load_state_dict(encoder_state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


class DeepCNN(nn.Module):
    """Report D's CNN: two conv blocks with BatchNorm, then 864 -> 600 -> 100 -> 10."""

    def __init__(self, cfg: CNNConfig):
        super().__init__()
        self.cfg = cfg
        p = cfg.dropout
        self.features = nn.Sequential(
            nn.Conv2d(1, 12, 3, padding=1),
            nn.BatchNorm2d(12),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),  # (B, 12, 14, 14)
            nn.Conv2d(12, 24, 3),
            nn.BatchNorm2d(24),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),  # (B, 24, 6, 6)
            nn.Flatten(),  # (B, 864)
        )
        # The report lists the linear sizes only; a ReLU between them (else they collapse into one).
        self.head = nn.Sequential(
            nn.Linear(864, 600),
            nn.ReLU(),
            Dropout(p),
            nn.Linear(600, 100),
            nn.ReLU(),
            Dropout(p),
            nn.Linear(100, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class MLP(nn.Module):
    """Report D's baseline: one hidden layer, 784 -> h -> 10."""

    def __init__(self, cfg: MLPConfig):
        super().__init__()
        self.cfg = cfg
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, cfg.hidden),
            nn.ReLU(),
            Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


_BUILDERS = {
    "conv_ae": ConvAutoencoder,
    "dense_ae": DenseAutoencoder,
    "classifier": Classifier,
    "cnn": DeepCNN,
    "mlp": MLP,
}


def build_model(cfg: ModelConfig) -> nn.Module:
    """The network for a config (random init; load weights separately)."""
    return _BUILDERS[cfg.kind](cfg)


def config_of(model: nn.Module) -> ModelConfig:
    """The config a network of build_model() was built from (each keeps it as .cfg)."""
    return cast(ModelConfig, model.cfg)  # nn.Module's __getattr__ types any attribute as Tensor | Module
