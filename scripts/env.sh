# Shared environment for make run / tests: sourced, not executed.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$(pwd)"
export PYTHONDONTWRITEBYTECODE=1
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export SANIC_HOST=127.0.0.1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
# Defaults for endpoints.yml, so every rasa command (train, test, validate) can read it.
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:${ACTION_PORT:-5055}/webhook}"
export RASA_TRACKER_DB="${RASA_TRACKER_DB:-var/rasa_tracker.db}"
