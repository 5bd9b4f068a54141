# The README's two commands: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck check-migrations unit clean

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
	PORT=$(PORT) PY=$(PY) deploy/run-local.sh

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

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
