#!/usr/bin/env bash
# Creates .venv and installs the pinned stack. Idempotent: a stamp keyed by the
# requirement files' hash skips the work when nothing changed.
# Rasa 3.6 declares Requires-Python <3.11; it runs on 3.11 when installed with
# --no-deps and its dependencies come from requirements.txt
# (see ../shared/setup/RASA-ON-PY311.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false PIP_DISABLE_PIP_VERSION_CHECK=1

VENV=.venv
REQS="requirements.txt requirements-dev.txt"
want=$(cat $REQS scripts/bootstrap.sh | sha256sum | cut -c1-16)
stamp="$VENV/.installed-$want"
if [ -f "$stamp" ]; then exit 0; fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
PY="$VENV/bin/python"
# The machine's pip config lists optional local indexes; their "ignored" warnings are noise.
pip_install() {
  "$PY" -m pip install -q "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }
}
echo "==> installing pinned dependencies into $VENV (first run takes a few minutes)"
pip_install --upgrade "pip==24.3.1"
pip_install -r requirements-dev.txt
pip_install --no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2
rm -f "$VENV"/.installed-*
touch "$stamp"
echo "==> dependencies ready"
