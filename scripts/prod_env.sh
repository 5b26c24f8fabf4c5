# Environment of the production topology on this machine (sourced by run_prod.sh and the tests'
# harness reads the same names). Connections default to the machine's PostgreSQL and Redis.
export POSTGRES_HOST="${POSTGRES_HOST:-127.0.0.1}" POSTGRES_PORT="${POSTGRES_PORT:-5432}"
export POSTGRES_USER="${POSTGRES_USER:-postgres}" POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-}"
export POSTGRES_DB="${POSTGRES_DB:-voltmart}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}"
if [ -z "${DATABASE_URL:-}" ]; then
  credentials="$POSTGRES_USER${POSTGRES_PASSWORD:+:$POSTGRES_PASSWORD}"
  export DATABASE_URL="postgresql://$credentials@$POSTGRES_HOST:$POSTGRES_PORT/$POSTGRES_DB"
fi
export REDIS_URL="${REDIS_URL:-redis://$REDIS_HOST:$REDIS_PORT/0}"
# Every gateway must sign cookies and CSRF tokens with the same key, and talk to Rasa with one token.
mkdir -p var
for name in secret_key rasa_token; do
  [ -f "var/$name" ] || (umask 077; .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > "var/$name")
done
export SECRET_KEY="${SECRET_KEY:-$(cat var/secret_key)}" RASA_TOKEN="${RASA_TOKEN:-$(cat var/rasa_token)}"
