"""PyInstaller runtime hook of the frozen pos-app (runs before pos_app.cli.main).

1. Windows: holds the named mutex the installer watches (``AppMutex`` in
   packaging/windows/pos-app.iss), so an upgrade or uninstall never replaces files under a running
   terminal (a sale in flight). The handle lives as long as the process; Windows releases it on exit.
2. ``POS_STARTUP_PROBE=1`` (measurement only, inert otherwise): as soon as a top-level window is
   visible and the Qt event loop answers, prints ``POS_STARTUP_PROBE ...`` and exits, so
   packaging/smoke.sh can time "frozen program to first window" without knowing the UI's code.
"""

import os
import sys

MUTEX_NAMES = ("PosAppCaixa", "Global\\PosAppCaixa")  # keep in sync with AppMutex in pos-app.iss


def _hold_installer_mutex() -> None:
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateMutexW.restype = ctypes.c_void_p
    handles = []
    for name in MUTEX_NAMES:
        handle = kernel32.CreateMutexW(None, False, name)  # opens it when another instance made it
        if handle:
            handles.append(handle)
    sys._pos_app_mutex_handles = handles  # type: ignore[attr-defined]  # keep them open


def _install_startup_probe() -> None:
    import threading
    import time

    started = time.perf_counter()

    def watch() -> None:
        deadline = started + float(os.environ.get("POS_STARTUP_PROBE_TIMEOUT", "60"))
        app = None
        while time.perf_counter() < deadline:
            widgets = sys.modules.get("PySide6.QtWidgets")
            app = widgets.QApplication.instance() if widgets else None
            if app is not None:
                break
            time.sleep(0.01)
        if app is None:
            return
        from PySide6.QtCore import QMetaObject, QObject, Qt, Slot

        done = threading.Event()

        class Probe(QObject):
            @Slot()
            def check(self) -> None:  # runs on the GUI thread, inside whatever event loop is spinning
                for widget in widgets.QApplication.topLevelWidgets():
                    if widget.isVisible() and not widget.isMinimized():
                        elapsed = time.perf_counter() - started
                        title = widget.windowTitle() or type(widget).__name__
                        if sys.stdout is not None:
                            sys.stdout.write(f"POS_STARTUP_PROBE janela={title!r} apos_runtime_hook_s={elapsed:.3f}\n")
                            sys.stdout.flush()
                        os._exit(0)
                done.set()

        probe = Probe()
        probe.moveToThread(app.thread())
        while time.perf_counter() < deadline:
            done.clear()
            QMetaObject.invokeMethod(probe, "check", Qt.ConnectionType.QueuedConnection)
            done.wait(max(0.0, deadline - time.perf_counter()))
            time.sleep(0.02)

    threading.Thread(target=watch, name="pos-startup-probe", daemon=True).start()


if sys.platform == "win32":
    try:
        _hold_installer_mutex()
    except Exception:  # never stop the program for this
        pass

if os.environ.get("POS_STARTUP_PROBE"):
    _install_startup_probe()
