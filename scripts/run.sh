#!/usr/bin/env bash
# make run: install, train if needed, seed the demo shop, start the processes under supervisord.
set -euo pipefail
cd "$(dirname "$0")/.."
# A shop of its own (python -m bot init DIR): make run SHOP=DIR. Its profile, FAQ, model and data
# live in DIR; this repository's code and dialogue data serve every shop.
if [ -n "${SHOP_DIR:-}" ]; then
  [ -f "$SHOP_DIR/shop.yml" ] || { echo "no shop.yml in $SHOP_DIR (make one with: python -m bot init $SHOP_DIR)" >&2; exit 2; }
  SHOP_DIR=$(cd "$SHOP_DIR" && pwd); export SHOP_DIR
fi
shop="${SHOP_DIR:-$(pwd)}"
var="$shop/var"
tracker_db="${RASA_TRACKER_DB:-$var/rasa_tracker.db}"  # before env.sh gives it the repo's default
bash scripts/bootstrap.sh
bash scripts/train.sh
source scripts/env.sh
mkdir -p "$var"
export GATEWAY_PORT="${GATEWAY_PORT:-8000}" RASA_PORT="${RASA_PORT:-5005}" ACTION_PORT="${ACTION_PORT:-5055}"
export RASA_URL="http://127.0.0.1:$RASA_PORT" ACTION_SERVER_URL="http://127.0.0.1:$ACTION_PORT"
export ACTION_ENDPOINT_URL="$ACTION_SERVER_URL/webhook"
export RASA_MODEL="$shop/models/current.tar.gz"
export RASA_TRACKER_DB="$tracker_db"
export RASA_ENDPOINTS="${RASA_ENDPOINTS:-endpoints.yml}"
# Development: without a mail server, supervisors read the mail on the console's Outbox page.
export MAIL_DEV_OUTBOX="${MAIL_DEV_OUTBOX:-1}"
if [ -z "${RASA_TOKEN:-}" ]; then
  [ -f "$var/rasa_token" ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_hex(24))" > "$var/rasa_token")
  RASA_TOKEN=$(cat "$var/rasa_token"); export RASA_TOKEN
fi
.venv/bin/python -m bot seed
name=$(.venv/bin/python -c "from bot.settings import load_settings; print(load_settings().shop.name)")
cat <<MSG

  The support desk of $name is starting (Rasa takes about a minute to load).
  Shop profile:  $shop/shop.yml
  Widget:        http://localhost:$GATEWAY_PORT/
  Demo shop:     http://localhost:$GATEWAY_PORT/demo
  Agent console: http://localhost:$GATEWAY_PORT/agent   (create a login: .venv/bin/python -m bot agents add NAME)
  Health:        http://localhost:$GATEWAY_PORT/health
  Logs:          $var/log/ (rasa.log, actions.log, gateway.log); a program that dies is restarted.
  Stop with Ctrl-C.
MSG
.venv/bin/python -m bot embed --gateway "http://localhost:$GATEWAY_PORT"
if [ -n "${SMTP_HOST:-}" ]; then
  echo "  Mail:          sent over SMTP via $SMTP_HOST"
else
  echo "  Mail:          NOT configured (SMTP_HOST is not set): no mail is sent and the bot promises none."
  echo "                 Read what would be sent at http://localhost:$GATEWAY_PORT/agent/outbox (supervisors)."
fi
echo
conf=$(.venv/bin/python -m bot supervisor-config --var "$var" \
  --rasa-port "$RASA_PORT" --action-port "$ACTION_PORT" --gateway-port "$GATEWAY_PORT")
.venv/bin/supervisord -c "$conf" &
supervisor=$!
tail -n0 -F "$var/log/rasa.log" "$var/log/actions.log" "$var/log/gateway.log" 2>/dev/null &
follower=$!
trap 'kill -TERM "$supervisor" 2>/dev/null; wait "$supervisor"; kill "$follower" 2>/dev/null' INT TERM
status=0
wait "$supervisor" || status=$?  # e.g. make run is already running here
kill "$follower" 2>/dev/null || true
exit "$status"
