#!/usr/bin/env bash
# Build the frozen Linux bundle and smoke-test it (issue 7). Documented in packaging/README.md.
#
#   packaging/smoke.sh                  build dist/pos-app/ (about 1-2 min on 2 cores), then smoke it
#   packaging/smoke.sh --no-build       smoke the bundle already in dist/pos-app/
#   packaging/smoke.sh --strict         timing/size targets also fail the run
#
# The smoke itself is packaging/smoke.py (the same one the Windows workflow runs on the installed
# program): --version, catalog list --json, a demo sale that must come back "autorizado", doctor,
# the secret store, --version and first-window timings, bundle size. Temporary POS_DATA_DIR,
# POS_SECRETS=arquivo, QT_QPA_PLATFORM=offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3

build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

if [ "$build" = 1 ]; then
  started=$(date +%s)
  "$PY" packaging/build.py
  echo "build: $(( $(date +%s) - started )) s"
fi
exec "$PY" packaging/smoke.py "${args[@]+"${args[@]}"}"
