#!/usr/bin/env bash
# Sets up the virtual environment with the test extras and runs lint, types and the tests.
# Arguments go to pytest, e.g. ./test.sh tests/handlers -k cost.
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/venv.sh "[test]"
.venv/bin/ruff check bot handlers storage tests bench
.venv/bin/ruff format --check bot handlers storage tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -q "$@"
