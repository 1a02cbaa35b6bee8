"""A user's image (drawn or uploaded) -> the 28x28 tensor the models expect.

Fashion-MNIST items are light objects on a black background, trimmed and scaled so the
longer side fills the 28x28 frame, centred. We do the same: grayscale (transparency
flattened onto white), invert a light background, crop to the object, scale, centre.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageError  # noqa: F401  (re-exported)

MAX_BYTES = 30 * 1024 * 1024  # 30 MB per file
MAX_PIXELS = 50_000_000  # e.g. 7000 x 7000; a 20000 x 20000 image is refused before decoding
SUPPORTED = "PNG, JPEG, WebP, BMP or GIF"


@dataclass
class Prepared:
    original: Image.Image  # what the user gave, as RGB (first frame), for display
    image28: np.ndarray  # (28, 28) uint8, light object on black
    tensor: torch.Tensor  # (1, 1, 28, 28) float in [0, 1]
    notes: list[str]  # what preprocessing did, for the user (e.g. "inverted a light background")


def open_image(data: bytes) -> tuple[Image.Image, list[str]]:
    """Decode bytes into a PIL image (first frame), refusing what is not safe or not an image."""
    notes: list[str] = []
    if not data:
        raise ImageError(f"the file is empty; use a {SUPPORTED} image")
    if len(data) > MAX_BYTES:
        raise ImageError(f"the file is {len(data) / 1e6:.0f} MB; use an image under {MAX_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageError(
                    f"the image is {w}x{h} pixels; use one under {MAX_PIXELS // 1_000_000} megapixels"
                )
            frames = getattr(img, "n_frames", 1)  # only multi-frame formats (GIF, APNG, TIFF) have it
            if frames > 1:
                notes.append(f"animated image: used the first of its {frames} frames")
            img.seek(0)
            img.load()
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(
            f"the image has too many pixels; use one under {MAX_PIXELS // 1_000_000} megapixels"
        ) from None
    except UnidentifiedImageError:
        raise ImageError(f"this file is not an image we can read; use a {SUPPORTED} file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise ImageError(f"the image is damaged or truncated ({str(e)[:60]}); use another file") from None
    return img, notes


def to_gray(img: Image.Image) -> np.ndarray:
    """Any PIL mode -> (H, W) float in [0, 1]; transparency flattened onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float64) / 255.0
        lum, alpha = rgba[..., :3] @ np.array([0.299, 0.587, 0.114]), rgba[..., 3]
        # flatten onto the backdrop that contrasts with what is visible: a light object (white strokes
        # on a clear canvas) goes on black, a dark one on white
        backdrop = 0.0 if (lum * alpha).sum() > 0.5 * alpha.sum() else 1.0
        return lum * alpha + backdrop * (1.0 - alpha)
    return np.asarray(img.convert("L"), dtype=np.float64) / 255.0


def prepare_array(gray: np.ndarray, notes: list[str] | None = None) -> Prepared | None:
    """(H, W) float in [0, 1] -> Prepared (without `original`), or None for a blank image."""
    notes = [] if notes is None else notes
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:
        gray = 1.0 - gray
        notes.append("inverted a light background (Fashion-MNIST objects are light on black)")
    gray = gray - np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]]))
    gray = np.clip(gray, 0.0, None)
    peak = gray.max()
    if peak < 0.05:
        return None
    gray = gray / peak
    ys, xs = np.nonzero(gray > 0.1)
    crop = gray[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    h, w = crop.shape
    scale = 28.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((crop * 255).astype(np.uint8)).resize((nw, nh), Image.Resampling.LANCZOS)
    canvas = Image.new("L", (28, 28), 0)
    canvas.paste(small, ((28 - nw) // 2, (28 - nh) // 2))
    arr = np.asarray(canvas, dtype=np.uint8)
    tensor = torch.from_numpy(arr.astype(np.float32) / 255.0).view(1, 1, 28, 28)
    return Prepared(Image.new("RGB", (1, 1)), arr, tensor, notes)


def prepare_image(data: bytes | Image.Image) -> Prepared:
    """Bytes of an image file (or a PIL image) -> the model's 28x28 input; ImageError if unusable."""
    notes: list[str]
    if isinstance(data, Image.Image):
        img, notes = data, []
    else:
        img, notes = open_image(data)
    img = ImageOps.exif_transpose(img) if img.mode not in ("I;16", "I;16B", "I;16L", "I", "F") else img
    if min(img.size) < 1:
        raise ImageError("the image has no pixels; use another file")
    if max(img.size) > 2048:  # downscale huge inputs first: preprocessing does not need them big
        img = img.copy()
        img.thumbnail((2048, 2048))
    prepared = prepare_array(to_gray(img), notes)
    if prepared is None:
        raise ImageError(
            "the image is blank (nothing stands out from the background); "
            "use an image of one piece of clothing"
        )
    prepared.original = (
        img.convert("RGBA").convert("RGB")
        if img.mode not in ("I;16", "I;16B", "I;16L", "I", "F")
        else Image.fromarray((to_gray(img) * 255).astype(np.uint8)).convert("RGB")
    )
    return prepared


def canvas_image(rgba: np.ndarray, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """A drawing canvas's RGBA array (H, W, 4) uint8 -> an RGB image flattened onto `background` (the
    canvas is black: transparent parts must stay black, where prepare_image would flatten onto white)."""
    a = np.asarray(rgba, dtype=np.float32)
    alpha = a[..., 3:4] / 255.0
    rgb = a[..., :3] * alpha + np.asarray(background, dtype=np.float32) * (1.0 - alpha)
    return Image.fromarray(rgb.round().clip(0, 255).astype(np.uint8), "RGB")
