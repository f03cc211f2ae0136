# Sourced by run.sh and test.sh: make .venv and install the project when it is missing or stale.
# $1 is the extras to install, e.g. "[test]".
extras="$1"
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "dsbot needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
stamp=".venv/.installed${extras}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "Installing dsbot${extras} into .venv (first run, or pyproject.toml changed)..." >&2
  # The build backend's warnings are noise on success; the log is shown when it fails.
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
         .venv/bin/python -m pip install --quiet -e ".${extras}"; } > .venv/install.log 2>&1; then
    cat .venv/install.log >&2
    echo "Installing failed; the log above is also in .venv/install.log" >&2
    exit 1
  fi
  touch "$stamp"
fi
