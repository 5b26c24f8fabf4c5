#!/usr/bin/env bash
# Trains only when the training inputs changed: the model file is named after
# their hash, so an existing file means there is nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
hash=$(cat config.yml domain.yml $(find data -type f -name '*.yml' | sort) bot/nlu/*.py \
  | sha256sum | cut -c1-12)
model="models/voltmart-$hash.tar.gz"
if [ -f "$model" ]; then
  echo "==> model up to date: $model"
else
  echo "==> training (data or config changed): $model"
  start=$(date +%s)
  .venv/bin/rasa train --fixed-model-name "voltmart-$hash" --out models --quiet
  echo "==> trained in $(( $(date +%s) - start )) s"
fi
ln -sfn "voltmart-$hash.tar.gz" models/current.tar.gz
# The FAQ index is built here too, so the processes that start next load it instead
# of each embedding every phrasing at once (it only re-embeds what changed).
index=$(.venv/bin/python -m bot kb build)
echo "==> $index"
