# The README's two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: setup run test test-scaleout lint typecheck check-migrations unit clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "imgserv needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V)"; exit 1; }
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || deploy/system-packages.sh deploy/venv-packages.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)
	$(PY) manage.py migrate --noinput -v0

run: setup
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py ensure_admin
	$(PY) manage.py demo
	PORT=$(PORT) PY=$(PY) $(PY) deploy/run-local.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy .

check-migrations: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

unit: $(STAMP)
	$(PY) -m pytest

test: setup lint typecheck check-migrations
	deploy/system-packages.sh deploy/system-packages.txt
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m pytest
	@$(MAKE) --no-print-directory test-scaleout

# The integration tests again in scale-out mode (PostgreSQL + Redis). The database named here
# is never created: pytest-django makes test_<name>, and tests that start processes make their
# own throwaway ones (tests/processes.py); the per-run name keeps parallel runs apart.
SCALEOUT_POSTGRES ?= postgres://postgres@127.0.0.1:5432
SCALEOUT_REDIS ?= redis://127.0.0.1:6379/1
test-scaleout: $(STAMP)
	@database="$(SCALEOUT_POSTGRES)/imgserv_make_$$$$"; \
	if reason=$$($(PY) -m tests.processes "$$database" "$(SCALEOUT_REDIS)"); then \
		echo "Scale-out mode: integration tests on PostgreSQL and Redis"; \
		DATABASE_URL="$$database" REDIS_URL="$(SCALEOUT_REDIS)" $(PY) -m pytest -m integration; \
	else \
		echo "################################################################################"; \
		echo "## SCALE-OUT TESTS SKIPPED: $$reason"; \
		echo "################################################################################"; \
		if [ "$${CI:-}" = true ]; then echo "CI has PostgreSQL and Redis: failing."; exit 1; fi; \
	fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
