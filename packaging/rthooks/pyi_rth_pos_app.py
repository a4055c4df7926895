"""PyInstaller runtime hook of the frozen pos-app (runs before pos_app.cli.main).

Windows: holds the named mutex the installer watches (``AppMutex`` in
packaging/windows/pos-app.iss), so an upgrade or uninstall never replaces files under a running
terminal (a sale in flight). The handle lives as long as the process; Windows releases it on exit.
It lives here, not in pos_app, because only the installed (frozen) program has an installer to
talk to.
"""

import contextlib
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


if sys.platform == "win32":
    with contextlib.suppress(Exception):  # never stop the program for this
        _hold_installer_mutex()
