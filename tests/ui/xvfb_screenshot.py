"""Real X server check: ``xvfb-run -a -s "-screen 0 1366x768x24" python tests/ui/xvfb_screenshot.py``.

Runs the cashier program on the xcb platform (not offscreen), logs in and rings up items by
synthesized key events, then grabs the whole X screen with ``QScreen.grabWindow(0)`` into
``test-artifacts/ui/xvfb-*.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "xcb"
os.environ.setdefault("POS_SECRETS", "arquivo")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OUT = ROOT / "test-artifacts" / "ui"


def main() -> int:
    app = QApplication(sys.argv)
    from pos_app.app import open_app
    from pos_app.ui.main import AppController, prepare_application

    prepare_application(app)
    tmp = tempfile.mkdtemp(prefix="pos-xvfb-")
    os.environ["POS_DATA_DIR"] = tmp
    ctx = open_app(Path(tmp), start_sandbox=False)
    controller = AppController(ctx)
    controller.start()
    OUT.mkdir(parents=True, exist_ok=True)
    screen = app.primaryScreen()
    print("plataforma:", app.platformName(), "tela:", screen.size().width(), "x", screen.size().height())

    def wait(cond: object, ms: int = 10_000) -> None:
        for _ in range(ms // 20):
            if cond():  # type: ignore[operator]
                return
            QTest.qWait(20)
        raise TimeoutError

    def focused() -> object:
        return QApplication.focusWidget()

    def run() -> None:
        try:
            wait(lambda: controller.login.isVisible() and controller.wait_ready(0))
            QTest.qWait(300)
            screen.grabWindow(0).save(str(OUT / "xvfb-01-login.png"))
            QTest.keyClicks(focused(), "1")
            QTest.keyClick(focused(), Qt.Key.Key_Return)
            QTest.keyClicks(focused(), "1111")
            QTest.keyClick(focused(), Qt.Key.Key_Return)
            wait(lambda: controller.window is not None and controller.window.code.hasFocus())
            window = controller.window
            for code in ("3*7891102100377", "7891245100746", "7891428101850"):
                QTest.keyClicks(focused(), code)
                QTest.keyClick(focused(), Qt.Key.Key_Return)
            wait(lambda: "Online" in window.status.link.text())
            QTest.qWait(500)
            screen.grabWindow(0).save(str(OUT / "xvfb-02-venda.png"))
            print("itens:", window.cart.rowCount(), "total:", window.total_label.text(), "foco:", focused())
        finally:
            app.quit()

    QTimer.singleShot(0, run)
    app.exec()
    controller.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
