"""Where a training step's time goes: torch.profiler over fit()'s own train_step, grouped by what the ops do.

    .venv/bin/python scripts/profile_step.py [autoencoder|classifier] [--threads 1] [--steps 20] [--precision bf16]

Prints the share of the step's CPU time per group (convolutions, dropout, pooling, ...) and the
step's FLOP rate against this CPU's one-thread matmul rate.
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", nargs="?", default="autoencoder", choices=("autoencoder", "classifier"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    cfg = ConvAEConfig() if a.model == "autoencoder" else ClassifierConfig()
    model = prepare_model(build_model(cfg), torch.device("cpu"))
    opt = make_optimizer(model, TrainConfig())
    x, y = torch.rand(100, 1, 28, 28), torch.randint(0, 10, (100,))
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
