# Agora — two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS ?= redis://127.0.0.1:6379/0
# pytest-xdist workers per pass (docs/performance.md, "Test parallelism"); PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist worksteal)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run lint test test-embedded test-production install install-test translations bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements-test.txt $(VENV)/.installed
	$(PIP) install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: install
	$(PY) manage.py compile_translations

run: install translations
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	AGORA_STATIC_MANIFEST=1 $(PY) manage.py collectstatic --noinput -v0
	@echo ""
	@echo "Agora runs at http://$(HOST):$(PORT)/  (demo logins: moderator, observer, resident01 … resident40; password agora-demo)"
	$(PY) -m agora.server -b $(HOST) -p $(PORT)

# Lint first, so `make test` fails fast: ruff (ruff.toml), mypy with django-stubs (mypy.ini),
# and the import directions (.importlinter; docs/architecture.md).
lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

# The whole suite twice: on the embedded default (SQLite, in-memory layer), then on the
# production configuration (PostgreSQL + Redis). Tests marked redis/postgres/browser skip
# with a reason on a machine without them; in CI (CI=true) they fail instead.
# Both passes run at the same time, each on PYTEST_WORKERS pytest-xdist workers: the tests wait
# (servers starting, browsers, timeouts) more than they compute, so 2 + 2 workers keep 2 cores busy.
# Each pass's output is printed whole when it ends (--output-sync). TEST_PASSES_AT_ONCE=1 runs them
# one after the other; PYTEST_WORKERS=0 runs each pass serially.
TEST_PASSES_AT_ONCE ?= 2
test: lint translations
	$(MAKE) --no-print-directory -j$(TEST_PASSES_AT_ONCE) --output-sync=target test-embedded test-production

test-embedded:
	@echo "== Embedded default: SQLite + in-memory channel layer =="
	env -u DATABASE_URL -u REDIS_URL AGORA_TEST_PASS=embedded $(PY) -m pytest -q $(XDIST) $(PYTEST_ARGS)

test-production:
	@echo "== Production configuration: PostgreSQL + Redis channel layer =="
	@if $(PY) -c "import socket,sys; [socket.create_connection(a, 1).close() for a in (('127.0.0.1',5432),('127.0.0.1',6379))]" 2>/dev/null; then \
		AGORA_TEST_PASS=production DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS) AGORA_REDIS_PREFIX=agora-test-$$$$ $(PY) -m pytest -q $(XDIST) $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL or Redis is not reachable on 127.0.0.1 — CI needs both." && exit 1; \
	else echo "SKIPPED: PostgreSQL (127.0.0.1:5432) or Redis (127.0.0.1:6379) is not running here."; fi

bench: install-test
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles test-artifacts
