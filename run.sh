#!/usr/bin/env bash
# Sets up a virtual environment (first time, or when pyproject.toml changed) and runs dsbot.
# With no token in the environment or .env this opens the console; with tokens, the bots.
# Any arguments are passed to dsbot instead of "run", e.g. ./run.sh ask "/cost".
set -euo pipefail
cd "$(dirname "$0")"
source ./scripts/venv.sh ""
if [ "$#" -eq 0 ]; then set -- run; fi
exec .venv/bin/dsbot "$@"
