#!/usr/bin/env bash
# README command 2: set up (with the servers the tests start), then lint, type-check, check the
# dependency direction and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH"
echo "[test] ruff";          ruff check .
echo "[test] ruff format";   ruff format --check .
echo "[test] mypy";          mypy
echo "[test] import-linter"; lint-imports
echo "[test] pytest";        pytest "$@"
