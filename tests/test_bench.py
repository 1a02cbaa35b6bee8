"""`python -m fmnist_core bench` on a tiny size: it runs both loops and returns sane figures (no timing
thresholds). `ds` is conftest's session-wide dataset."""

import io
import math

import pytest
import torch


def test_bench_tiny_autoencoder(ds):
    from fmnist_core.bench import run_bench

    threads = torch.get_num_threads()
    out = io.StringIO()
    r = run_bench(ds, images=300, rounds=1, which="autoencoder", out=out)
    assert torch.get_num_threads() == threads
    fig = r["autoencoder"]
    assert fig["reference_img_s"] > 0 and fig["project_img_s"] > 0
    assert math.isfinite(fig["ratio"]) and fig["ratio"] > 0
    # the figures agree with one another: medians of the rounds, the ratio of the medians, FLOPs x rate
    assert len(fig["reference_img_s_runs"]) == len(fig["project_img_s_runs"]) == 1
    assert fig["ratio"] == pytest.approx(fig["project_img_s"] / fig["reference_img_s"])
    assert fig["project_gflops"] == pytest.approx(fig["project_img_s"] * fig["flops_per_image"] / 1e9)
    assert fig["fraction_of_peak"] == pytest.approx(fig["project_gflops"] / r["matmul_gflops"])
    # report A's autoencoder: a few MFLOP per image forward + backward (not 0, not a classifier's count)
    assert 1e6 < fig["flops_per_image"] < 1e8 and 0 < fig["fraction_of_peak"] < 1
    assert "classifier" not in r
    text = out.getvalue()
    line = next(ln for ln in text.splitlines() if ln.startswith("autoencoder"))
    assert f"ratio {fig['ratio']:.2f}x" in line and f"project {fig['project_img_s']:6.0f} img/s" in line
    assert "300 training images" in text


def test_reference_models_match_report_a():
    from fmnist_core.bench import reference_autoencoder, reference_classifier

    x = torch.rand(2, 1, 28, 28)
    ae, clf = reference_autoencoder().eval(), reference_classifier().eval()
    assert ae(x).shape == (2, 1, 28, 28)
    assert clf(x).shape == (2, 10)
    assert sum(isinstance(m, torch.nn.Dropout) for m in ae.modules()) == 5


def test_bench_rejects_bad_arguments(ds):
    from fmnist_core.bench import run_bench

    with pytest.raises(ValueError):
        run_bench(ds, images=0)
    with pytest.raises(ValueError):
        run_bench(ds, images=300, which="cnn")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_sweep_bench_times_both_ways(ds):
    import io

    from fmnist_core.bench import sweep_bench

    out = io.StringIO()
    r = sweep_bench(ds, runs=2, images=300, epochs=1, workers=2, out=out)
    assert (
        r["queue_s"] > 0 and r["workers_s"] > 0 and r["ratio"] == pytest.approx(r["queue_s"] / r["workers_s"])
    )
    assert "throughput ratio" in out.getvalue()
