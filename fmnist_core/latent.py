"""Looking inside a network: its codes of the test images mapped to 2-D, decoding from that map,
what each conv layer sees of one image, and why a class was chosen (Captum's attributions).

"Code" means the vector a model hands its last stage: an autoencoder's latent code (size n), a
classifier's encoder output before its head, the deep CNN's flattened conv features, the MLP's hidden
layer. Only autoencoders can decode a code back into an image.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import torch
from torch import nn

from .config import AUTOENCODER_KINDS
from .data import to_float
from .models import ConvAutoencoder, DenseAutoencoder, config_of

MAP_IMAGES = 3000  # a seeded sample of the test set for the map: t-SNE of 3,000 codes takes ~15 s here
MAP_SEED = 0


def _float(images: torch.Tensor) -> torch.Tensor:
    return to_float(images) if images.dtype == torch.uint8 else images.float()


def code_layer(model: nn.Module) -> nn.Module:
    """The module whose output is the model's code."""
    kind = config_of(model).kind
    if kind in AUTOENCODER_KINDS or kind == "classifier":
        return model.get_submodule("encoder")
    if kind == "cnn":
        return model.get_submodule("features")
    return cast(nn.Sequential, model.get_submodule("net"))[:3]  # MLP: flatten, hidden linear, ReLU


@torch.inference_mode()
def codes(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> np.ndarray:
    """(N, 1, 28, 28) images -> (N, d) codes, in eval mode."""
    model.eval()
    layer = code_layer(model)
    out = [layer(_float(images[i : i + batch_size])).flatten(1) for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()


def sample_indices(n_test: int, n: int = MAP_IMAGES, seed: int = MAP_SEED) -> np.ndarray:
    """A seeded sample of test-image indices, sorted."""
    return np.sort(np.random.default_rng(seed).permutation(n_test)[: min(n, n_test)])


def pca_map(z: np.ndarray) -> dict[str, np.ndarray]:
    """The codes' first two principal components: coordinates (N, 2), mean (d,), components (2, d) and the
    share of the variance each explains."""
    mean = z.mean(0)
    _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
    comps = vt[:2]
    var = s**2
    return {
        "xy": (z - mean) @ comps.T,
        "mean": mean,
        "components": comps,
        "explained": var[:2] / max(var.sum(), 1e-12),
    }


def tsne_map(z: np.ndarray, seed: int = MAP_SEED) -> np.ndarray:
    """t-SNE of the codes to (N, 2) (scikit-learn; PCA initialisation, seeded)."""
    from sklearn.manifold import TSNE

    return (
        TSNE(n_components=2, init="pca", random_state=seed, perplexity=30.0)
        .fit_transform(z.astype(np.float32))
        .astype(np.float32)
    )


@torch.inference_mode()
def decode(model: nn.Module, z: np.ndarray) -> np.ndarray:
    """Codes (k, n) -> images (k, 28, 28) in [0, 1]. The code layer ends in a ReLU, so negative entries
    (a point of the map no image reaches) are clipped to 0 first, as the encoder itself would."""
    model.eval()
    zt = torch.as_tensor(np.maximum(z, 0.0), dtype=torch.float32)
    return cast(ConvAutoencoder | DenseAutoencoder, model).decode(zt)[:, 0].numpy()


def from_map(model: nn.Module, pca: dict[str, np.ndarray], xy: np.ndarray) -> np.ndarray:
    """Images (k, 28, 28) the decoder makes of points (k, 2) of the PCA map."""
    return decode(model, pca["mean"] + np.atleast_2d(xy) @ pca["components"])


def map_axes(method: str, explained: np.ndarray) -> tuple[str, str]:
    """The map's axis titles: the principal components with their share of the variance, or t-SNE's."""
    if method != "PCA":
        return "t-SNE 1", "t-SNE 2"
    ex = 100 * explained
    return f"PC 1 ({ex[0]:.0f}% of the variance)", f"PC 2 ({ex[1]:.0f}%)"


def principal_walk(xy: np.ndarray, pc: int, reach: float, steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Points (steps, 2) of the PCA map from -reach to +reach standard deviations of the codes along
    principal component pc (1 or 2), and each point's distance in those standard deviations."""
    spread = float(xy[:, pc - 1].std())
    ts = np.linspace(-reach, reach, steps) * spread
    points = np.stack([ts, np.zeros_like(ts)], 1) if pc == 1 else np.stack([np.zeros_like(ts), ts], 1)
    return points, ts / spread


def interpolate(model: nn.Module, a: torch.Tensor, b: torch.Tensor, steps: int = 9) -> np.ndarray:
    """Decoded images (steps, 28, 28) along the straight line between the codes of images a and b."""
    za, zb = codes(model, torch.stack([a, b]))
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return decode(model, (1 - t) * za + t * zb)


@torch.inference_mode()
def feature_maps(model: nn.Module, image: torch.Tensor) -> list[tuple[str, np.ndarray]]:
    """What each conv layer sees of one image (1, 28, 28): its output maps (C, H, W) after the
    activation that follows it, in order; empty for a model without conv layers."""
    model.eval()
    convs = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        m.register_forward_hook(lambda mod, inp, out, name=name: seen.__setitem__(name, out.relu()))
        for name, m in convs
    ]
    try:
        model(_float(image[None]))
    finally:
        for h in hooks:
            h.remove()
    return [(name, seen[name][0].contiguous().numpy()) for name, _ in convs if name in seen]


def first_filters(model: nn.Module) -> np.ndarray | None:
    """The first conv layer's kernels (C, kh, kw), or None without conv layers."""
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    return None if conv is None else conv.weight.detach()[:, 0].numpy()


def attributions(
    model: nn.Module, image: torch.Tensor, target: int, progress: Callable[[float], None] | None = None
) -> dict[str, np.ndarray]:
    """Why `target` was chosen for one image (1, 28, 28), two ways (Captum), each (28, 28):

    occlusion: how much the class's probability drops when a 4x4 patch is greyed out (positive: the
    patch supported the class); integrated_gradients: each pixel's contribution along the path from a
    black image to this one (positive: pushed toward the class).
    """
    from captum.attr import IntegratedGradients, Occlusion

    model.eval()
    x = _float(image[None]).clone().requires_grad_(True)

    def prob(inp: torch.Tensor) -> torch.Tensor:
        return model(inp).softmax(1)

    occ = Occlusion(prob).attribute(
        x,
        target=target,
        sliding_window_shapes=(1, 4, 4),
        strides=(1, 2, 2),
        perturbations_per_eval=64,
        baselines=0.5,
    )
    if progress is not None:
        progress(0.5)
    ig = IntegratedGradients(prob).attribute(x, target=target, baselines=torch.zeros_like(x), n_steps=32)
    if progress is not None:
        progress(1.0)
    return {"occlusion": occ.detach()[0, 0].numpy(), "integrated_gradients": ig.detach()[0, 0].numpy()}
