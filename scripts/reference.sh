#!/usr/bin/env bash
# Rebuild the shipped reference runs in saved_models/ with the project's own command.
# Each run folder records the exact command in its config.json. Existing ref-* runs are kept
# unless FORCE=1. Each is seed 0 of a study's run (the studies reuse them by config, so train these
# first); every run selects its epoch on the fixed held-out split. About 20 minutes on a 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export FMNIST_RUNS_DIR=${FMNIST_RUNS_DIR:-saved_models}

train() {  # train NAME KIND ARGS...
  local name=$1; shift
  if [ -d "$FMNIST_RUNS_DIR/$name" ]; then
    if [ "${FORCE:-0}" = 1 ]; then rm -rf "${FMNIST_RUNS_DIR:?}/$name"; else echo "keep $name"; return; fi
  fi
  echo "== $name"
  "$PY" -m fmnist_core train "$@" --name "$name" --seed 0
}

# Report A: baseline autoencoder, its classifier, the random-init twin
train ref-a-ae-base      autoencoder --latent 64 --dropout 0.2 --epochs 20
train ref-a-clf-base     classifier --encoder ref-a-ae-base --latent 64 --dropout 0.2 --epochs 30
train ref-a-clf-random   classifier --encoder random --latent 64 --dropout 0.2 --epochs 30
# Report D: deep CNN and MLP
train ref-d-mlp          mlp --epochs 10
train ref-d-cnn          cnn --epochs 10
# Report B: a dense autoencoder of its Adam grid (n=256: the best, n=512, makes a weights file over 3 MB)
train ref-b-dense-adam   dense-autoencoder --latent 256 --dropout 0.1 --batch-size 1000 --epochs 30
# Report A: the improved autoencoder (report C's AE 4 ships as study-c-ae4-s0: `study c`)
train ref-a-ae-improved  autoencoder --latent 128 --dropout 0.01 --epochs 20
echo "reference runs ready in $FMNIST_RUNS_DIR"
