# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := source scripts/env.sh &&

.PHONY: reset-db run test install train seed lint kb-check validate pytest rasa-test browser bench-kb bench-nlu bench-dialogue clean bench-stack bench-load

run:  ## install what is missing, train if data changed, start everything
	@bash scripts/run.sh

install:
	@bash scripts/bootstrap.sh

train: install
	@bash scripts/train.sh

seed: install
	@$(ENV) $(PY) -m bot seed

browser:  ## Debian's chromium for the browser tests (no browser download)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: install
	@$(ENV) .venv/bin/ruff check bot actions tests bench

kb-check: install
	@$(ENV) $(PY) -m bot kb check --strict

validate: install
	@$(ENV) .venv/bin/rasa data validate --quiet

pytest: install browser train
	@$(ENV) .venv/bin/pytest -q

rasa-test: train
	@$(ENV) .venv/bin/rasa test core --stories tests/stories --model models/current.tar.gz \
		--fail-on-prediction-errors --out results/core --quiet

test: install lint kb-check validate pytest rasa-test  ## everything CI checks
	@echo "make test: all checks passed"

bench-kb: install
	@$(ENV) $(PY) -m bench.kb

bench-stack: train
	@$(ENV) $(PY) -m bench.stack

bench-load: train  ## 500 open widgets + 50 chatting customers + an agent, embedded stack
	@$(ENV) $(PY) -m bench.load --saturate

bench-nlu: train
	@$(ENV) $(PY) -m bench.nlu

bench-dialogue: train  ## scripted multi-turn conversations in 4 languages on the real stack
	@$(ENV) $(PY) -m bench.dialogue

reset-db:  ## drop the local SQLite databases (demo data is seeded again by make run)
	rm -f var/app.db var/app.db-wal var/app.db-shm var/rasa_tracker.db

clean:
	rm -rf .cache models results var
