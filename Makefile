# The two commands a new user needs: `make run` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
ENV := source scripts/env.sh &&

.PHONY: reset-db run init test install train seed lint kb-check validate pytest rasa-test js-test browser dovecot bench-kb bench-nlu bench-faq-foreign bench-dialogue clean bench-stack bench-load
.PHONY: run-prod nginx bench-load-prod bench-faults db-upgrade db-revision db-check i18n-extract

# SHOP=DIR: a shop made by `python -m bot init DIR` (its profile, FAQ, model and data); default: the demo.
SHOP ?=
export SHOP_DIR := $(if $(SHOP),$(abspath $(SHOP)),$(SHOP_DIR))

run:  ## install what is missing, train if data changed, start everything (make run SHOP=DIR for your shop)
	@bash scripts/run.sh

init: install  ## a new shop: make init SHOP=DIR (asks a few questions; flags: python -m bot init --help)
	@test -n "$(SHOP)" || (echo 'usage: make init SHOP=../my-shop' >&2; exit 2)
	@$(ENV) SHOP_DIR= $(PY) -m bot init "$(SHOP)"

run-prod:  ## the production topology: nginx, 2 gateways, 2 Rasa, 2 action servers, PostgreSQL, Redis
	@bash scripts/run_prod.sh

install:
	@bash scripts/bootstrap.sh

train: install
	@bash scripts/train.sh

seed: install
	@$(ENV) $(PY) -m bot seed

browser:  ## Debian's chromium for the browser tests (no browser download)
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

js-test:  ## the widget's headless client, in Node's built-in test runner
	@node --test tests/js/

dovecot:  ## Debian's Dovecot IMAP server for the email channel's tests (started by the tests themselves)
	@command -v dovecot >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null)

nginx:  ## Debian's nginx for the production topology (make run-prod, stack tests)
	@bash scripts/install_nginx.sh

lint: install
	@$(ENV) .venv/bin/ruff check bot actions tests bench
	@$(ENV) .venv/bin/lint-imports --no-cache >/dev/null || .venv/bin/lint-imports --no-cache

kb-check: install
	@$(ENV) $(PY) -m bot kb check --strict

validate: install
	@$(ENV) .venv/bin/rasa data validate --quiet

pytest: install browser nginx dovecot train
	@$(ENV) .venv/bin/pytest -q

rasa-test: train
	@$(ENV) .venv/bin/rasa test core --stories tests/stories --model models/current.tar.gz \
		--fail-on-prediction-errors --out results/core --quiet

test: install lint js-test kb-check validate pytest rasa-test  ## everything CI checks
	@echo "make test: all checks passed"

bench-kb: install
	@$(ENV) $(PY) -m bench.kb

bench-stack: train
	@$(ENV) $(PY) -m bench.stack

bench-load: train  ## 500 open widgets + 50 chatting customers + an agent, embedded stack
	@$(ENV) $(PY) -m bench.load --saturate

bench-gaps: install  ## cluster 10,000 collected unanswered messages and print the time
	@$(ENV) $(PY) -m bench.gaps

bench-load-prod: train nginx  ## the same load through nginx on the production topology
	@$(ENV) $(PY) -m bench.load --prod --saturate

bench-faults: train nginx  ## kill -9 each process kind under load on the production topology
	@$(ENV) $(PY) -m bench.faults

bench-nlu: train
	@$(ENV) $(PY) -m bench.nlu
	@$(ENV) $(PY) -m bench.foreign_faq
	@$(ENV) $(PY) -m bench.language

bench-language: install  ## reply language on Tatoeba: as written, without diacritics, transliterated, first 2-4 words
	@$(ENV) $(PY) -m bench.language

bench-faq-foreign: install  ## the FAQ gate on another domain's FAQ (one phrasing per entry)
	@$(ENV) $(PY) -m bench.foreign_faq

db-upgrade: install  ## migrate DATABASE_URL (default var/app.db) to the newest schema
	@$(ENV) $(PY) -m bot db upgrade

db-revision: install  ## after a model change: make db-revision m="add x to y", then review the file
	@test -n "$(m)" || (echo 'usage: make db-revision m="what changed"' >&2; exit 2)
	@$(ENV) $(PY) -m bot db revision -m "$(m)"

db-check: install  ## fail if a model changed without a revision
	@$(ENV) $(PY) -m bot db check

bench-dialogue: train  ## scripted multi-turn conversations in 4 languages on the real stack
	@$(ENV) $(PY) -m bench.dialogue

i18n-extract: install  ## after adding console strings: refresh the template and each catalogue, then translate
	.venv/bin/pybabel extract -F babel.cfg -k lazy_gettext -o bot/web/translations/messages.pot bot/web
	.venv/bin/pybabel update -i bot/web/translations/messages.pot -d bot/web/translations --width 100

reset-db:  ## drop the local SQLite databases (demo data is seeded again by make run)
	rm -f var/app.db var/app.db-wal var/app.db-shm var/rasa_tracker.db

clean:
	rm -rf .cache models results var
