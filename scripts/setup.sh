#!/usr/bin/env bash
# Set up dayuan hub on a Debian 12 machine: system packages (only when missing), a virtualenv
# in .venv and the project installed into it. Idempotent and quick on a warm machine.
#   scripts/setup.sh          what the demo needs (Python packages, Leaflet from npm, a CJK font)
#   scripts/setup.sh --test   plus the servers the tests start (Mosquitto, InfluxDB, PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

apt_updated=0
apt_install() {
  # Install the named Debian packages, running apt-get update once per setup.
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages ($*) and not root; install them with apt-get" >&2
    exit 1
  fi
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need=()
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then need+=(python3); fi
if command -v "$PY" >/dev/null 2>&1 && ! "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need+=(python3-venv)
fi
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)  # Leaflet for the map, from npm
[ -d /usr/share/fonts/truetype/wqy ] || need+=(fonts-wqy-zenhei)  # Chinese in energy reports' PDFs
if [ $want_test -eq 1 ]; then
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
  command -v mosquitto_sub >/dev/null 2>&1 || need+=(mosquitto-clients)  # compose's broker check
  command -v influxd >/dev/null 2>&1 || [ -x /usr/bin/influxd ] || need+=(influxdb)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  [ -x /usr/bin/chromium ] || need+=(chromium)  # browser tests (Playwright drives it)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)  # the TLS proxy
fi
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "setup: Python 3.11 or newer is required (found $("$PY" --version))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi

# Reinstall only when the project's dependency list changed.
extras="."
[ $want_test -eq 1 ] && extras=".[dev]"
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-$want_test"
if [ ! -f "$stamp" ]; then
  log "installing the project into .venv ($extras)"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e "$extras"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The map's browser libraries (Leaflet), served by the hub from /vendor/: no CDN at run time.
vstamp="web/vendor/node_modules/.installed-$(sha256sum web/vendor/package-lock.json | cut -c1-16)"
if [ ! -f "$vstamp" ]; then
  log "installing the web pages' libraries (npm ci in web/vendor)"
  npm ci --prefix web/vendor --no-audit --no-fund --loglevel=error >/dev/null
  touch "$vstamp"
fi
# The tests' OpenID Connect provider (the certified oidc-provider, run by node).
if [ $want_test -eq 1 ]; then
  ostamp="tests/support/oidc/node_modules/.installed-$(sha256sum tests/support/oidc/package-lock.json | cut -c1-16)"
  if [ ! -f "$ostamp" ]; then
    log "installing the tests' OpenID Connect provider (npm ci in tests/support/oidc)"
    npm ci --prefix tests/support/oidc --no-audit --no-fund --loglevel=error >/dev/null
    touch "$ostamp"
  fi
  # axe-core: the accessibility checks the browser tests run on every page
  astamp="tests/support/axe/node_modules/.installed-$(sha256sum tests/support/axe/package-lock.json | cut -c1-16)"
  if [ ! -f "$astamp" ]; then
    log "installing axe-core for the accessibility tests (npm ci in tests/support/axe)"
    npm ci --prefix tests/support/axe --no-audit --no-fund --loglevel=error >/dev/null
    touch "$astamp"
  fi
fi
log "ready"
