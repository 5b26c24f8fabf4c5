#!/usr/bin/env bash
# make run: install, train if needed, seed the demo shop, start the processes under supervisord.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/train.sh
source scripts/env.sh
mkdir -p var
export GATEWAY_PORT="${GATEWAY_PORT:-8000}" RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
export RASA_URL="http://127.0.0.1:$RASA_PORT" ACTION_SERVER_URL="http://127.0.0.1:$ACTION_PORT"
export ACTION_ENDPOINT_URL="$ACTION_SERVER_URL/webhook"
export RASA_MODEL="models/current.tar.gz"
export RASA_TRACKER_DB="${RASA_TRACKER_DB:-var/rasa_tracker.db}"
export RASA_ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"
if [ -z "${RASA_TOKEN:-}" ]; then
  [ -f var/rasa_token ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_hex(24))" > var/rasa_token)
  RASA_TOKEN=$(cat var/rasa_token); export RASA_TOKEN
fi
.venv/bin/python -m bot seed
cat <<MSG

  VoltMart support bot is starting (Rasa takes about a minute to load).
  Widget:        http://localhost:$GATEWAY_PORT/
  Demo shop:     http://localhost:$GATEWAY_PORT/demo
  Agent console: http://localhost:$GATEWAY_PORT/agent   (create a login: .venv/bin/python -m bot agents add NAME)
  Health:        http://localhost:$GATEWAY_PORT/health
  Logs:          var/log/ (rasa.log, actions.log, gateway.log); a program that dies is restarted.
  Stop with Ctrl-C.

MSG
conf=$(.venv/bin/python -m bot supervisor-config --var var \
  --rasa-port "$RASA_PORT" --action-port "$ACTION_PORT" --gateway-port "$GATEWAY_PORT")
.venv/bin/supervisord -c "$conf" &
supervisor=$!
tail -n0 -F var/log/rasa.log var/log/actions.log var/log/gateway.log 2>/dev/null &
follower=$!
trap 'kill -TERM "$supervisor" 2>/dev/null; wait "$supervisor"; kill "$follower" 2>/dev/null' INT TERM
status=0
wait "$supervisor" || status=$?  # e.g. make run is already running here
kill "$follower" 2>/dev/null || true
exit "$status"
