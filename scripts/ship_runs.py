"""Ship the runs a study sweep trained into a staging folder: copy the finished ones into saved_models/
(replacing a stale run of the same name), make them results-only except the few the app's pages need
with weights, then delete the stale runs that no study uses any more. A search that has finished in the
staging folder ships too: its journal and its trials (finished or pruned), results-only.

    python scripts/ship_runs.py /path/to/staging/runs [--to saved_models] [--dry-run]

Why a staging folder: re-training a study under the names its stale runs hold would either collide with
them or delete them hours before their replacements exist; the sweep trains elsewhere (FMNIST_RUNS_DIR)
and this script swaps each run in when it is finished.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmnist_core.evalcache import weights_digest  # noqa: E402
from fmnist_core.registry import Registry, atomic_write_json  # noqa: E402
from fmnist_core.search import store  # noqa: E402
from fmnist_core.studies import STUDIES, plan_study  # noqa: E402
from fmnist_core.studies.catalog import DONE  # noqa: E402

# Seed-0 runs shipped with their weights, beside every ref-* run: what Reconstructions, Latent space,
# Confusion and Classify offer besides the reference runs (report C's kernel decoder and its classifier,
# report E's tuned autoencoder and its classifier, and beyond-pca's last step at each n: the autoencoders
# that beat PCA; the 2-minute classifier record: the 10-minute one's 3.4 MB of weights would break the
# 3 MB file limit, and its preset retrains it in 7 minutes). Everything else ships results-only.
WITH_WEIGHTS = (
    "study-c-ae4-s0",
    "study-c-c7-s0",
    "study-e-wide-s0",
    "study-e-clf-s0",
    *(f"study-beyond-pca-b64-n{n}-s0" for n in (32, 64, 128)),
    "study-record-2min-s0",
)
SKIP = {".training.lock"}


def keeps_weights(run_id: str) -> bool:
    return run_id.startswith("ref-") or run_id in WITH_WEIGHTS


def copy_finished(staging: Registry, shipped: Registry, dry: bool) -> list[str]:
    """Copy each finished staging run on the fixed split into saved_models/; returns their ids."""
    copied = []
    for info in staging.list_runs():
        if (
            info.damaged
            or info.status not in DONE
            or info.split_id is None
            or info.run_id.startswith("search-")
        ):
            continue  # a search's trials ship with its journal (copy_searches)
        dest = shipped.path(info.run_id)
        if dest.exists():
            old = shipped.info(info.run_id)
            if old.split_id is not None:
                continue  # already shipped on the fixed split
        print(f"ship {info.run_id}" + (" (replaces a stale run)" if dest.exists() else ""))
        copied.append(info.run_id)
        if dry:
            continue
        copy_run(info.path, dest)
    return copied


def copy_run(src: Path, dest: Path) -> None:
    """Copy a run folder (without its lock) over `dest`, swapped in whole: a kill leaves the old or the new."""
    tmp = dest.with_name(f".shipping-{dest.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, ignore=lambda d, names: [n for n in names if n in SKIP])
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)


def copy_searches(staging: Registry, shipped: Registry, dry: bool) -> list[str]:
    """Copy each search no process is running, journal and trials (finished or pruned); the trials' ids."""
    copied, runs = [], staging.list_runs()
    for journal in sorted((staging.root / store.SEARCHES).glob(f"*/{store.JOURNAL}")):
        name = journal.parent.name
        if store.running_search(staging, name):
            print(f"skip search {name}: still running")
            continue
        trials = [r for r in runs if r.run_id.startswith(store.trial_prefix(name)) and not r.damaged]
        done = [r for r in trials if r.status in (*DONE, "pruned")]
        print(f"ship search {name}: {len(done)} of {len(trials)} trials")
        copied += [r.run_id for r in done]
        if dry:
            continue
        dest = store.folder(shipped, name)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(journal, dest / store.JOURNAL)
        for r in done:
            copy_run(r.path, shipped.path(r.run_id))
    return copied


def restore_weights(staging: Registry, shipped: Registry, dry: bool) -> None:
    """Give a results-only shipped run of WITH_WEIGHTS its weights back where the staging folder retrained
    it bit for bit: the same SHA-256 as the weights it shipped without (another CPU may differ)."""
    for run_id in WITH_WEIGHTS:
        new = staging.path(run_id) / "weights.pt"
        if not new.is_file() or not shipped.path(run_id).is_dir():
            continue
        gone = shipped.info(run_id).results_only
        if not gone or staging.info(run_id).status not in DONE:
            continue
        if weights_digest(new) != gone.get("weights_sha256"):
            print(f"keep {run_id} results-only: its retrained weights differ from those it shipped without")
            continue
        print(f"restore the weights of {run_id} (retrained bit for bit)")
        if dry:
            continue
        shutil.copyfile(new, shipped.path(run_id) / "weights.pt")
        meta = {k: v for k, v in shipped.info(run_id).meta.items() if k != "results_only"}
        if meta:
            atomic_write_json(shipped.path(run_id) / "meta.json", meta)
        else:
            (shipped.path(run_id) / "meta.json").unlink()


def strip(shipped: Registry, run_ids: list[str], dry: bool) -> None:
    """Results-only for the runs that need no weights, through the project's own command."""
    drop = [r for r in run_ids if not keeps_weights(r) and (shipped.path(r) / "weights.pt").exists()]
    if drop and not dry:
        env = {**os.environ, "FMNIST_RUNS_DIR": str(shipped.root)}
        subprocess.run(
            [sys.executable, "-m", "fmnist_core", "strip-weights", *drop], cwd=ROOT, env=env, check=True
        )


def stale_unused(shipped: Registry) -> list[str]:
    """Stale shipped runs that no study plans to use and no other shipped run names as its encoder."""
    used = {r.run_id for s in STUDIES.values() for r in plan_study(s, shipped).runs if r.run_id}
    runs = shipped.list_runs()
    encoders = {r.encoder_run for r in runs if r.split_id is not None}
    return [
        r.run_id
        for r in runs
        if r.split_id is None and not r.damaged and r.run_id not in used and r.run_id not in encoders
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("staging", type=Path)
    p.add_argument("--to", type=Path, default=ROOT / "saved_models", help="the shipped runs' folder")
    p.add_argument("--dry-run", action="store_true")
    a = p.parse_args()
    staging, shipped = Registry(a.staging), Registry(a.to)
    copied = copy_finished(staging, shipped, a.dry_run)
    copied += copy_searches(staging, shipped, a.dry_run)
    restore_weights(staging, shipped, a.dry_run)
    strip(shipped, copied, a.dry_run)
    # deleting one stale run can free another (a stale classifier held its stale encoder): repeat
    while gone := stale_unused(shipped):
        for run_id in gone:
            print(f"delete stale {run_id}")
            if not a.dry_run:
                shutil.rmtree(shipped.path(run_id))
        if a.dry_run:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
