#!/usr/bin/env bash
# make run-prod: the production topology on this machine under supervisord:
# nginx (:8080) -> 2 gateways -> 2 Rasa servers (PostgreSQL tracker store, Redis lock store)
# -> nginx -> 2 action servers. A process that dies is restarted; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/train.sh
bash scripts/install_nginx.sh
source scripts/env.sh
source scripts/prod_env.sh
PROD_PORT="${PROD_PORT:-8080}"
.venv/bin/python -m bot db upgrade --create-database >/dev/null
.venv/bin/python -m bot seed
.venv/bin/python -m bot kb build >/dev/null
conf=$(.venv/bin/python -m bot deploy production --run-dir var/prod --port "$PROD_PORT")
cat <<MSG

  VoltMart support bot, production topology (Rasa servers take about a minute to load).
  Widget:        http://localhost:$PROD_PORT/         (nginx -> gateway-1, gateway-2)
  Agent console: http://localhost:$PROD_PORT/agent    (create a login: DATABASE_URL=$DATABASE_URL .venv/bin/python -m bot agents add NAME)
  Processes:     .venv/bin/supervisorctl -c $conf status
  Logs:          var/prod/log/
  Stop with Ctrl-C.

MSG
exec .venv/bin/supervisord -n -c "$conf"
