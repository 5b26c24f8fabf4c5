#!/usr/bin/env bash
# Trains only when the training inputs changed: the model file is named after
# their hash, so an existing file means there is nothing to do.
# SHOP_DIR (python -m bot init, make run SHOP=DIR): the model and the FAQ index go to that
# shop's folder. The dialogue model is trained on this repository's data, the same for every
# shop, so a model already trained here is copied instead of trained again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
shop="${SHOP_DIR:-.}"
hash=$(cat config.yml domain.yml $(find data -type f -name '*.yml' | sort) bot/nlu/*.py \
  | sha256sum | cut -c1-12)
name="voltmart-$hash.tar.gz"
mkdir -p "$shop/models"
model="$shop/models/$name"
if [ -f "$model" ]; then
  echo "==> model up to date: $model"
elif [ "$shop" != "." ] && [ -f "models/$name" ]; then
  cp "models/$name" "$model"
  echo "==> model copied from models/$name (same training data): $model"
else
  echo "==> training (data or config changed): $model"
  start=$(date +%s)
  .venv/bin/rasa train --fixed-model-name "voltmart-$hash" --out "$shop/models" --quiet
  echo "==> trained in $(( $(date +%s) - start )) s"
fi
ln -sfn "$name" "$shop/models/current.tar.gz"
# The FAQ index is built here too, so the processes that start next load it instead
# of each embedding every phrasing at once (it only re-embeds what changed).
index=$(.venv/bin/python -m bot kb build)
echo "==> $index"
