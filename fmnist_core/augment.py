"""Training-time augmentation of classifier batches: random shifts and mirror images.

Fashion-MNIST's items are centred and upright, so small shifts and left-right mirroring make images the
test set could hold; vertical flips or rotations would not (a shoe upside down is not a shoe photo)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

MAX_SHIFT = 2  # pixels in each direction


def shift_flip(x: torch.Tensor, gen: torch.Generator, max_shift: int = MAX_SHIFT) -> torch.Tensor:
    """x (B, 1, H, W) with each image mirrored left-right with probability 1/2 and moved by up to
    `max_shift` pixels in x and y (the uncovered border is 0, the background). Draws from `gen` (on the
    CPU), so a seeded run augments the same way every time."""
    b, _, h, w = x.shape
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    dy, dx = (torch.randint(0, 2 * max_shift + 1, (2, b), generator=gen)).to(x.device)
    x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    padded = F.pad(x, (max_shift,) * 4)  # (B, 1, H + 2s, W + 2s)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, :]  # (B, 1, W)
    batch = torch.arange(b, device=x.device)[:, None, None]
    return padded[batch, 0, rows, cols].unsqueeze(1).contiguous(memory_format=torch.channels_last)
