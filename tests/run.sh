#!/usr/bin/env bash
# Set up and run civicbot's checks on a fresh machine: venv, install, Chromium for the browser tests,
# lint, types, the test suite and the eval gate. Usage: bash tests/run.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

.venv/bin/ruff check bot evals tests benchmarks
.venv/bin/ruff format --check bot evals tests benchmarks
.venv/bin/mypy bot
.venv/bin/python -m pytest "$@"
if [ -f evals/run.py ]; then
  .venv/bin/civicbot eval --out "${EVAL_OUT:-eval-report}"
fi
