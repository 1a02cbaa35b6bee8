"""A user's image -> the 28x28 model input: odd formats, refusals, centring."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from fmnist_core import ImageError, Prepared, prepare_image


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def shirt(size=(200, 160), fg=0, bg=255, mode="L", box=(40, 30, 120, 140)) -> Image.Image:
    """A dark T-shirt-like shape on a light background (what people draw or photograph)."""
    img = Image.new(mode, size, bg)
    d = ImageDraw.Draw(img)
    x0, y0, x1, y1 = box
    d.rectangle((x0 + 15, y0, x1 - 15, y1), fill=fg)  # body
    d.polygon([(x0, y0 + 10), (x0 + 15, y0), (x0 + 15, y0 + 35), (x0, y0 + 40)], fill=fg)  # sleeves
    d.polygon([(x1, y0 + 10), (x1 - 15, y0), (x1 - 15, y0 + 35), (x1, y0 + 40)], fill=fg)
    return img


def centre_of_mass(a: np.ndarray) -> tuple[float, float]:
    a = a.astype(np.float64)
    ys, xs = np.mgrid[: a.shape[0], : a.shape[1]]
    return float((ys * a).sum() / a.sum()), float((xs * a).sum() / a.sum())


def check_output(p: Prepared) -> None:
    assert isinstance(p, Prepared)
    assert p.tensor.shape == (1, 1, 28, 28) and p.tensor.dtype == torch.float32
    assert float(p.tensor.min()) >= 0.0 and float(p.tensor.max()) <= 1.0
    assert p.image28.shape == (28, 28) and p.image28.dtype == np.uint8
    assert np.array_equal((p.tensor[0, 0].numpy() * 255).round().astype(np.uint8), p.image28)
    assert p.image28.max() > 200  # the object is normalised to full brightness
    cy, cx = centre_of_mass(p.image28)
    assert abs(cy - 13.5) < 3 and abs(cx - 13.5) < 3, (cy, cx)  # roughly centred
    border = np.concatenate([p.image28[0], p.image28[-1], p.image28[:, 0], p.image28[:, -1]])
    assert np.median(border) < 20  # dark background, like Fashion-MNIST
    assert p.original.mode == "RGB"


def test_light_background_is_inverted_and_object_centred():
    img = shirt(box=(5, 5, 85, 115))  # the object sits in the top-left corner
    p = prepare_image(encode(img))
    check_output(p)
    assert any("inverted" in n for n in p.notes)
    assert p.image28[14, 14] > 200  # the shirt's body is bright now
    assert p.original.size == img.size
    # the longer side fills the frame (Fashion-MNIST items are scaled to 28 px)
    rows = np.nonzero(p.image28.max(1) > 25)[0]
    assert rows.max() - rows.min() >= 25


def test_dark_background_is_kept():
    p = prepare_image(encode(shirt(fg=230, bg=10)))
    check_output(p)
    assert not any("inverted" in n for n in p.notes)


def test_same_object_either_polarity_gives_the_same_input():
    a = prepare_image(encode(shirt(fg=0, bg=255))).image28.astype(int)
    b = prepare_image(encode(shirt(fg=255, bg=0))).image28.astype(int)
    assert np.abs(a - b).max() <= 2


def test_pil_image_input_and_jpeg_webp_bmp():
    check_output(prepare_image(shirt()))
    for fmt in ("JPEG", "WEBP", "BMP"):
        check_output(prepare_image(encode(shirt().convert("RGB"), fmt)))


def test_rgba_with_transparency_dark_object():
    """A dark object on a transparent canvas: transparency is treated as background."""
    rgba = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse((30, 20, 90, 100), fill=(20, 20, 20, 255))
    p = prepare_image(encode(rgba))
    check_output(p)


def test_rgba_with_transparency_light_object():
    """A white object on a transparent background (a cut-out product photo, or strokes on a clear canvas)."""
    rgba = Image.new("RGBA", (120, 120), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).ellipse((30, 20, 90, 100), fill=(255, 255, 255, 255))
    p = prepare_image(encode(rgba))
    check_output(p)


def test_rgba_semi_transparent_strokes():
    rgba = Image.new("RGBA", (100, 100), (255, 255, 255, 0))
    ImageDraw.Draw(rgba).ellipse((20, 10, 80, 90), fill=(0, 0, 0, 160))
    check_output(prepare_image(encode(rgba)))


def test_16_bit_grayscale_png():
    a = np.full((64, 48), 60000, dtype=np.uint16)
    a[10:54, 12:36] = 1000  # a dark object on a light 16-bit background
    img = Image.fromarray(a)
    data = encode(img)
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    p = prepare_image(data)
    check_output(p)
    assert any("inverted" in n for n in p.notes)


def test_palette_gif_with_transparency():
    img = shirt(size=(90, 90), box=(10, 5, 80, 85)).convert("P")
    data = encode(img, "GIF", transparency=int(img.getpixel((0, 0))))
    assert Image.open(io.BytesIO(data)).mode == "P"
    check_output(prepare_image(data))


def test_animated_gif_uses_the_first_frame():
    first = shirt(size=(80, 80), box=(10, 5, 70, 75)).convert("P")
    second = Image.new("L", (80, 80), 255).convert("P")  # blank
    third = Image.new("L", (80, 80), 0).convert("P")
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second, third], duration=100, loop=0)
    p = prepare_image(buf.getvalue())
    check_output(p)
    assert any("first" in n and "3 frames" in n for n in p.notes), p.notes


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_images_are_refused(value):
    with pytest.raises(ImageError, match="blank"):
        prepare_image(encode(Image.new("L", (50, 50), value)))


def test_faint_noise_is_blank():
    rng = np.random.default_rng(0)
    a = (200 + rng.integers(0, 5, (60, 60))).astype(np.uint8)  # a light page with slight grain
    with pytest.raises(ImageError, match="blank"):
        prepare_image(encode(Image.fromarray(a)))


@pytest.mark.parametrize(
    "data",
    [b"hello, this is a text file\n" * 20, b"\x00" * 100, b"%PDF-1.4 not an image", b"GIF89a"],
    ids=["text", "zeros", "pdf", "gif-header-only"],
)
def test_non_images_are_refused(data):
    with pytest.raises(ImageError):
        prepare_image(data)


def test_empty_bytes_are_refused():
    with pytest.raises(ImageError, match="empty"):
        prepare_image(b"")


def test_truncated_png_is_refused():
    data = encode(shirt())
    with pytest.raises(ImageError, match="damaged or truncated"):
        prepare_image(data[: len(data) // 2])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no pixel data (decoding it would fail)."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("side", [8000, 10000, 20000])
def test_huge_images_are_refused_before_decoding(side):
    data = png_header_only(side, side)
    assert len(data) < 200
    with pytest.raises(ImageError) as e:
        prepare_image(data)
    msg = str(e.value)
    # the refusal says why (too many pixels) and what to do; not "not an image" or "damaged"
    assert "megapixels" in msg and "not an image" not in msg and "damaged" not in msg, msg


def test_oversized_file_is_refused():
    from fmnist_core.preprocess import MAX_BYTES

    with pytest.raises(ImageError, match="MB"):
        prepare_image(b"\x89PNG" + b"\x00" * MAX_BYTES)


def test_large_but_allowed_image_is_downscaled():
    img = shirt(size=(3000, 2400), box=(600, 450, 1800, 2100))
    p = prepare_image(encode(img))
    check_output(p)
    assert max(p.original.size) <= 2048


def test_tiny_images():
    with pytest.raises(ImageError, match="blank"):  # a single pixel is its own background
        prepare_image(encode(Image.new("L", (1, 1), 255)))
    dot = Image.new("L", (5, 5), 0)
    dot.putpixel((2, 2), 255)
    p = prepare_image(encode(dot))
    assert p.tensor.shape == (1, 1, 28, 28) and float(p.tensor.max()) == 1.0
    bar = Image.new("L", (3, 40), 0)
    ImageDraw.Draw(bar).line((1, 5, 1, 34), fill=255)
    p = prepare_image(encode(bar))
    assert p.tensor.shape == (1, 1, 28, 28)
    cols = np.nonzero(p.image28.max(0) > 100)[0]
    assert p.image28[:, 13:15].max() > 200 and cols.max() - cols.min() <= 2  # a thin vertical bar, centred


def test_exif_rotation_is_applied():
    wide = Image.new("L", (120, 60), 0)
    ImageDraw.Draw(wide).rectangle((10, 20, 110, 40), fill=255)  # a horizontal bar
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees" on display
    p = prepare_image(encode(wide.convert("RGB"), "JPEG", exif=exif.tobytes()))
    cols = np.nonzero(p.image28.max(0) > 100)[0]
    rows = np.nonzero(p.image28.max(1) > 100)[0]
    assert (rows.max() - rows.min()) > (cols.max() - cols.min())  # displayed upright: a vertical bar
