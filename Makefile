# The two set-up commands (README): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PORT   ?= 5000
PYTEST_ARGS ?=

.PHONY: run test install install-test vendor system-deps migrate demo lint test-sqlite test-postgres bench bench-deps bench-postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamps keep re-runs quick; a changed pyproject.toml reinstalls.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed vendor

install-test: $(VENV)/.installed-test vendor

vendor:
	scripts/vendor.sh

system-deps:
	scripts/system-deps.sh

migrate: install
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo-data

## make run — install everything, migrate, load demo data, serve with the scheduler in-process.
run: demo
	@echo "Portal: http://127.0.0.1:$(PORT)/  (demo logins above; Ctrl-C stops)"
	SCHEDULER_IN_PROCESS=1 $(FLASK) run --host 127.0.0.1 --port $(PORT) --no-reload

lint: install-test
	$(BIN)/ruff check .

test-sqlite: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

# The same suite again on a private PostgreSQL server started and stopped by the script.
test-postgres: install-test
	scripts/with-postgres.sh $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

## make test — system packages, Python and npm dependencies, ruff, the suite on SQLite and PostgreSQL
## (the two databases' quick tests side by side, then browser and fault tests alone: scripts/test-suite.sh).
test: system-deps install-test
	$(BIN)/ruff check .
	scripts/test-suite.sh $(PYTEST_ARGS)

## make bench — issue 20's figures in one run (mixed load and floors at 100k, floors and aggregates at 1M rows
## copied in SQL); writes bench/RESULTS.md. ~7 min on the shared 2-core machine with the data sets cached
## (bench/datasets.py, /work/benchdata); generating them first takes ~20 min more (`python -m bench.run --prepare`).
bench: install-test bench-deps
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) frontend/node_modules portal/static/vendor/htmx.min.js

# A Debian package the benchmarks need: apt-get as root, otherwise say what to install.
apt_install = { [ "$$(id -u)" = 0 ] || { echo "missing $(1): apt-get install $(1) (or run make as root)" >&2; exit 1; }; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(1); }

bench-deps:
	@command -v wrk >/dev/null || $(call apt_install,wrk)

## make bench-postgres — the same, with the data sets in a private PostgreSQL server (~11 min with them cached,
## restored with pg_restore; ~15 min more to generate them); writes bench/RESULTS-postgresql.md.
bench-postgres: install-test bench-deps
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || $(call apt_install,postgresql)
	scripts/with-postgres.sh sh -c 'BENCH_DATABASE_URL=$$DATABASE_URL $(BIN)/python -m bench.run'
