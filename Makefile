# Channels Academy: `make run` serves the site, `make test` runs every check. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench prod-local check-python migrate sandbox-env clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "Python's venv module is missing: sudo apt-get install python3-venv"; exit 1; }

$(VENV)/.run-installed: requirements.txt | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.run-installed

sandbox-env: $(VENV)/.run-installed
	$(PY) -m playground.sandbox.host.envbuild

migrate: $(VENV)/.run-installed sandbox-env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: migrate
	@echo "Channels Academy is starting at http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(PY) -m config.serve -b $(HOST) -p $(PORT) config.asgi:application

test: $(VENV)/.dev-installed sandbox-env
	bash scripts/test.sh

# Every benchmark, then bench/RESULTS.md (about 13 minutes on 2 cores; the full capacity search is run by hand, see README.md).
bench: $(VENV)/.dev-installed sandbox-env
	bash scripts/bench.sh

# The deploy/ layout on this machine: nginx on :8080, two Daphne processes, PostgreSQL, Redis (see deploy/README.md).
prod-local: $(VENV)/.run-installed sandbox-env
	bash scripts/prod-local.sh

clean:
	rm -rf $(VENV) data
