#!/usr/bin/env bash
# Set up and run civicbot's checks on a fresh machine: venv, install, Chromium for the browser tests,
# lint, types, the test suite and the eval gates. Usage: bash tests/run.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

PY=${PYTHON:-python3}
step "installing civicbot and its test tools into .venv (the first time takes a few minutes)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

if [ ! -x /usr/bin/chromium ]; then
  step "installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "the browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

step "lint and types"
.venv/bin/ruff check bot evals tests benchmarks
.venv/bin/ruff format --check bot evals tests benchmarks
.venv/bin/mypy bot evals
step "tests"
.venv/bin/python -m pytest "$@"
OUT=${EVAL_OUT:-eval-report}
step "eval gate: the staff questions on the project's corpus"
.venv/bin/civicbot eval --out "$OUT"
step "eval gate: every suite, leave-one-suite-out, with the corpora's word hints"
.venv/bin/civicbot eval --suite all --out "$OUT/suites"
step "eval gate: every suite, leave-one-suite-out, without word hints"
.venv/bin/civicbot eval --suite all --no-hints --out "$OUT/suites-no-hints"
# Only `civicbot eval --suite all --fit` may rewrite the shipped scorer; the gates must score what ships.
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- bot/scorer.json; then
  echo "the eval changed bot/scorer.json; only --fit may" >&2
  exit 1
fi
