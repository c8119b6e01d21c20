#!/usr/bin/env bash
# `make bench`: the tools and services the benchmarks use, then every benchmark (bench/run_all.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-packages.sh wrk
eval "$(bash scripts/test-services.sh)"
trap 'bash scripts/stop-test-services.sh' EXIT
.venv/bin/python bench/run_all.py
