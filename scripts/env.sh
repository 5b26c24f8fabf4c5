# Shared environment for make run / tests: sourced, not executed.
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYTHONPATH="${PYTHONPATH:+$PYTHONPATH:}$(pwd)"
export PYTHONDONTWRITEBYTECODE=1
export SANIC_HOST=127.0.0.1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
