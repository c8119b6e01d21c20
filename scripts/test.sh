#!/usr/bin/env bash
# `make test`: every check the project has, against real services. Non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

bash scripts/system-packages.sh
eval "$(bash scripts/test-services.sh)"
trap 'bash scripts/stop-test-services.sh' EXIT
echo "Redis: $REDIS_URL"
echo "PostgreSQL: $DATABASE_URL"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
# Settings and the checked packages are in pyproject.toml; the cache in .mypy_cache makes a re-run take seconds.
.venv/bin/mypy --config-file pyproject.toml
echo "== manage.py check"
$PY manage.py check --fail-level WARNING
$PY manage.py makemigrations --check --dry-run
echo "== pytest"
# pytest exits 5 when it collected no tests; that is a failure here like any other non-zero code.
# pytest-xdist runs the tests in ACADEMY_PYTEST_WORKERS processes (much of the suite waits on servers, sandboxes and
# browsers, so more workers than the 2 cores pay off). loadgroup keeps tests marked with one xdist_group on one worker;
# --no-loadscope-reorder hands tests out in collection order (tests/conftest.py: long ones first, browser tests last).
# The whole suite takes 10½ to 17 minutes on a quiet 2-core machine, by the machine, bound by CPU (2,178 tests,
# 2026-12-07; see docs/architecture.md, section 8); the outer limit turns any stall into a report well inside CI's 90.
timeout --signal=INT --kill-after=60 "${ACADEMY_PYTEST_LIMIT:-45m}" \
  $PY -m pytest -n "${ACADEMY_PYTEST_WORKERS:-3}" --dist loadgroup --no-loadscope-reorder "$@"
