"""Is there a graphical display? Checked before QApplication exists (Qt aborts the process otherwise).

Without one, ``pos-app`` prints a Portuguese sentence pointing to the command line and exits with
:data:`EXIT_NO_DISPLAY` instead of Qt's "could not load the Qt platform plugin xcb" abort.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

EXIT_NO_DISPLAY = 3

NO_DISPLAY_MESSAGE = (
    "Não há tela gráfica disponível neste terminal (nenhum monitor ou sessão gráfica).\n"
    "A frente de caixa precisa de uma tela; sem ela, use a linha de comando:\n"
    "  pos-app --help        lista os comandos\n"
    "  pos-app sell ...      registra uma venda e emite a NFC-e\n"
    "  pos-app status        situação do terminal\n"
)

PLUGIN_FAILURE_MESSAGE = (
    "A tela gráfica não pôde ser aberta ({detalhe}).\n"
    "Confira a sessão gráfica do terminal ou use a linha de comando: pos-app --help, pos-app sell ...\n"
)

# Platforms that draw without a display server.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """A Portuguese explanation when no display can be used, else None."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux") and not platform.startswith("freebsd"):
        return None  # Windows and macOS always have their native platform
    qpa = (env.get("QT_QPA_PLATFORM") or "").split(":", 1)[0].split(";", 1)[0].strip().lower()
    if qpa in _HEADLESS_PLATFORMS:
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def report_no_display(message: str) -> int:
    sys.stderr.write(message)
    sys.stderr.flush()
    return EXIT_NO_DISPLAY
