#!/usr/bin/env bash
# README command 1: set up, then run the demo compound on embedded defaults.
# Extra arguments go to `hub demo` (e.g. --port 8080 --data-dir /tmp/hubdemo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/hub demo "$@"
