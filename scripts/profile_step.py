"""Where a training step's time goes: torch.profiler over fit()'s own train_step, grouped by what the ops do.

    .venv/bin/python scripts/profile_step.py [autoencoder|classifier] [--threads 1] [--steps 20] [--precision bf16]
    .venv/bin/python scripts/profile_step.py autoencoder --layers

Prints the share of the step's CPU time per group (convolutions, dropout, pooling, ...) and the
step's FLOP rate against this CPU's one-thread matmul rate. --layers instead times each convolution
alone, forward and backward, at the shapes and memory layout the step gives it (the part of the step
that oneDNN's kernels decide, and with them the step's bits), and the dropout masks' random words
drawn one mask at a time against all of eight steps' words in one draw.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fmnist_core import ClassifierConfig, ConvAEConfig, TrainConfig, build_model  # noqa: E402
from fmnist_core.bench import matmul_gflops, train_flops_per_image  # noqa: E402
from fmnist_core.models import Dropout  # noqa: E402
from fmnist_core.train import make_optimizer, prepare_model, train_step  # noqa: E402

GROUPS = {  # op name fragment -> group, first match wins
    "convolution_backward": "convolutions, backward",
    "convolution": "convolutions, forward",
    "random_": "dropout: drawing the mask",
    "bitwise_and": "dropout: drawing the mask",
    "aten::ge": "dropout: drawing the mask",
    "_ApplyMask": "dropout: applying the mask",
    "aten::mul": "dropout: applying the mask",
    "max_pool2d": "max pooling",
    "threshold_backward": "ReLU",
    "clamp_min": "ReLU",
    "relu": "ReLU",
    "Adam": "Adam step",
    "sqrt": "Adam step",
    "addcdiv": "Adam step",
    "lerp": "Adam step",
    "aten::mm": "linear layers",
    "addmm": "linear layers",
    "copy_": "copies and casts",
    "_to_copy": "copies and casts",
    "fill_": "zeroing",
    "zero_": "zeroing",
    "mse_loss": "loss",
    "cross_entropy": "loss",
    "log_softmax": "loss",
    "nll_loss": "loss",
    "sigmoid": "sigmoid",
}


def _ms(f, n: int = 100) -> float:
    for _ in range(5):
        f()
    t = time.perf_counter()
    for _ in range(n):
        f()
    return 1000 * (time.perf_counter() - t) / n


def layer_times(model, opt, x, y) -> None:
    """Each convolution's forward and backward alone, and the masks' draws, in ms."""
    seen: list[tuple[str, torch.nn.Module, torch.Tensor]] = []
    words: list[int] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o, name=name: seen.append((name, m, i[0].detach())))
        for name, m in model.named_modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))
    ]
    hooks += [
        m.register_forward_hook(lambda m, i, o: words.append((i[0].numel() + 3) // 4))
        for m in model.modules()
        if isinstance(m, Dropout) and m.p > 0
    ]
    train_step(model, opt, x, y, "fp32")
    for h in hooks:
        h.remove()
    print("| layer | input | forward | backward |\n|---|---|---|---|")
    total = 0.0
    for name, m, inp in seen:
        inp = inp.clone().requires_grad_(name != seen[0][0])  # the first layer's input needs no gradient
        out = m(inp)
        g = torch.randn_like(out)
        wanted = [q for q in (inp, *m.parameters()) if q.requires_grad]
        fwd = _ms(lambda: m(inp))
        bwd = _ms(lambda: torch.autograd.grad(m(inp), wanted, g)) - fwd
        total += fwd + bwd
        print(f"| {name} ({type(m).__name__}) | {tuple(inp.shape)} | {fwd:.2f} ms | {bwd:.2f} ms |")
    print(f"convolutions alone: {total:.1f} ms a step")
    gen = torch.Generator().manual_seed(0)
    apart = _ms(lambda: [torch.empty(n, dtype=torch.int64).random_(generator=gen) for n in words])
    together = _ms(lambda: torch.empty(8 * sum(words), dtype=torch.int64).random_(generator=gen)) / 8
    print(
        f"mask words ({sum(words)} a step): {apart:.2f} ms drawn mask by mask, {together:.2f} ms in one draw a step"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", default="autoencoder", choices=("autoencoder", "classifier"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    p.add_argument("--layers", action="store_true", help="time each convolution and the mask draws alone")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg = ConvAEConfig() if a.model == "autoencoder" else ClassifierConfig()
    model = prepare_model(build_model(cfg), torch.device("cpu"))
    opt = make_optimizer(model, TrainConfig())
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
    if a.layers:
        return layer_times(model, opt, x, y)
    for _ in range(5):
        train_step(model, opt, x, y, a.precision)
    t = time.perf_counter()
    for _ in range(a.steps):
        train_step(model, opt, x, y, a.precision)
    step = (time.perf_counter() - t) / a.steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(a.steps):
            train_step(model, opt, x, y, a.precision)
    shares: dict[str, float] = {}
    for e in prof.key_averages():
        group = next((g for frag, g in GROUPS.items() if frag in e.key), "other")
        shares[group] = shares.get(group, 0.0) + e.self_cpu_time_total
    total = sum(shares.values())
    rate = train_flops_per_image(a.model) * 100 / step / 1e9
    peak = matmul_gflops()
    print(
        f"{a.model} ({a.precision}), batch 100, {a.threads} thread(s): {1000 * step:.1f} ms per step, "
        f"{rate:.1f} GFLOP/s = "
        f"{100 * rate / peak:.0f}% of this CPU's matmul rate ({peak:.1f} GFLOP/s)"
    )
    print("| where the time goes | share |\n|---|---|")
    for group, v in sorted(shares.items(), key=lambda kv: -kv[1]):
        print(f"| {group} | {100 * v / total:.0f}% |")


if __name__ == "__main__":
    main()
