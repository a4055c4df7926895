#!/usr/bin/env bash
# Build the frozen Linux bundle and smoke-test it (issue 7). Documented in packaging/README.md.
#
#   packaging/smoke.sh                  build dist/pos-app/ (about 1-2 min on 2 cores), then smoke it
#   packaging/smoke.sh --no-build       smoke the bundle already in dist/pos-app/
#   packaging/smoke.sh --strict         timing/size targets also fail the run
#   packaging/smoke.sh --keyring-session  second pass with a real OS credential store: a throwaway
#                                       D-Bus session + gnome-keyring (apt: gnome-keyring), where
#                                       the frozen program must pick keyring (Secret Service)
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
keyring_session=0
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --keyring-session) keyring_session=1 ;;
    *) args+=("$a") ;;
  esac
done

if [ "$build" = 1 ]; then
  started=$(date +%s)
  "$PY" packaging/build.py
  echo "build: $(( $(date +%s) - started )) s"
fi
"$PY" packaging/smoke.py "${args[@]+"${args[@]}"}"

if [ "$keyring_session" = 1 ]; then
  if ! command -v gnome-keyring-daemon >/dev/null || ! command -v dbus-run-session >/dev/null; then
    echo "--keyring-session precisa de gnome-keyring e dbus (apt-get install gnome-keyring)" >&2
    exit 2
  fi
  echo "== segunda passada: cofre do sistema (Secret Service numa sessão D-Bus descartável)"
  # HOME points to a temporary folder: the login keyring created here is nobody's real one.
  dbus-run-session -- bash -c '
    export HOME="$(mktemp -d)"
    trap "rm -rf \"\$HOME\"" EXIT
    echo -n smoke | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    "$0" packaging/smoke.py --keyring --no-window "$@"' "$PY" "${args[@]+"${args[@]}"}"
fi
