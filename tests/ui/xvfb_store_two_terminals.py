"""Two checkouts and one store database, by hand on a real X server (issue 16's "done when"):

    xvfb-run -a -s "-screen 0 2048x1536x24" .venv/bin/python tests/ui/xvfb_store_two_terminals.py

Starts a PostgreSQL (tests/pg_kit.py, Debian's binaries), two demo terminals CX01 and CX02 (each its
own data folder, SQLite and embedded sandbox) joined to it, and their cashier windows side by side.
The manager changes a price in CX01's Gerente > Loja dialog; CX02's window rings the item up at the new
price; each sells, CX02 with its internet down (contingency); CX01's store dashboard lists both. The
screens go to ``test-artifacts/ui/loja-*.png``. Not a test (no ``test_`` prefix): run it to look.
"""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "xcb"
os.environ.setdefault("POS_SECRETS", "arquivo")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pg_kit  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

OUT = ROOT / "test-artifacts" / "ui"
CODE = "1002"  # FEIJÃO CARIOCA


def main() -> int:
    server = pg_kit.start_postgres()
    app = QApplication(sys.argv)
    from pos_app.app import open_app
    from pos_app.core.services.cash import CashService
    from pos_app.core.storeserver import admin, pg
    from pos_app.ui.main import AppController, prepare_application

    prepare_application(app)
    folders = {}
    for terminal in ("CX01", "CX02"):
        folder = Path(tempfile.mkdtemp(prefix=f"pos-{terminal}-"))
        ctx = open_app(folder, start_sandbox=False)  # the demo data folder (catalog, users, company)
        ctx.config.set("terminal.id", terminal)
        ctx.config.set("loja.banco", server.url)
        ctx.config.set("loja.senha", pg_kit.PASSWORD)
        CashService(ctx).open(ctx.store.users.by_code("9"), Decimal("100.00"))
        ctx.close()
        folders[terminal] = folder
    controllers = {}
    for terminal, folder in folders.items():
        os.environ["POS_DATA_DIR"] = str(folder)
        controller = AppController(open_app(folder, start_sandbox=False))
        controller.start()
        controllers[terminal] = controller
    conn = pg.connect(server.url, pg_kit.PASSWORD)
    pg.migrate(conn)
    admin.publish_products(conn, controllers["CX01"].ctx.store.products.all())
    OUT.mkdir(parents=True, exist_ok=True)
    screen = app.primaryScreen()
    figures: dict[str, object] = {}

    def wait(cond: object, ms: int = 20_000) -> None:
        for _ in range(ms // 20):
            if cond():  # type: ignore[operator]
                return
            QTest.qWait(20)
        raise TimeoutError(str(cond))

    def login(controller: AppController, code: str, pin: str) -> object:
        wait(lambda: controller.login.isVisible() and controller.wait_ready(0))
        form = controller.login
        QTest.keyClicks(form.focusWidget(), code)
        QTest.keyClick(form.focusWidget(), Qt.Key.Key_Return)
        QTest.keyClicks(form.focusWidget(), pin)
        QTest.keyClick(form.focusWidget(), Qt.Key.Key_Return)
        wait(lambda: controller.window is not None and controller.window.isVisible())
        return controller.window

    def sell(window: object, amount: str) -> object:
        product = window.ctx.store.products.lookup(CODE)  # type: ignore[attr-defined]
        window.add_product(product, Decimal(2))  # type: ignore[attr-defined]
        window.open_payment()  # type: ignore[attr-defined]
        wait(
            lambda: getattr(window, "payment_dialog", None) is not None and window.payment_dialog.isVisible()
        )
        dialog = window.payment_dialog  # type: ignore[attr-defined]
        QTest.keyClicks(dialog.focusWidget(), amount)
        QTest.keyClick(dialog.focusWidget(), Qt.Key.Key_Return)
        wait(lambda: getattr(window, "result_dialog", None) is not None)
        return window.last_result  # type: ignore[attr-defined]

    def run() -> None:
        try:
            w1 = login(controllers["CX01"], "9", "9999")  # the manager at CX01
            w2 = login(controllers["CX02"], "1", "1111")  # Ana at CX02
            for w, x in ((w1, 0), (w2, 1024)):  # two 1024x768 counters side by side
                w.showNormal()
                w.setGeometry(x, 0, 1024, 768)
            QTest.qWait(500)
            from pos_app.ui.store.dialog import StoreDialog

            ctx1, ctx2 = controllers["CX01"].ctx, controllers["CX02"].ctx
            before = ctx2.store.products.lookup(CODE).preco
            dialog = StoreDialog(ctx1, ctx1.store.users.by_code("9"), w1)
            dialog.show()
            dialog.move(0, 780)
            wait(lambda: dialog.board.toPlainText().startswith("Loja —"))
            new_price = (before + Decimal("1.00")).quantize(Decimal("0.01"))
            dialog.code.setText(CODE)
            dialog.price.setText(f"{new_price}".replace(".", ","))
            dialog.apply.click()
            import time

            start = time.monotonic()
            wait(lambda: ctx2.store.products.lookup(CODE).preco == new_price)
            figures["preco"] = f"{before} -> {new_price} em CX02 após {time.monotonic() - start:.2f} s"
            r1 = sell(w1, "50")
            ctx2.sandbox.faults.set("unreachable")  # CX02: internet down (Treinamento > queda da internet)
            r2 = sell(w2, "50")
            figures["CX01"] = f"{r1.status} série {r1.serie} nº {r1.numero} total {r1.total}"
            figures["CX02"] = f"{r2.status} série {r2.serie} nº {r2.numero} total {r2.total}"
            QTest.qWait(800)
            screen.grabWindow(0, 0, 0, 2048, 768).save(str(OUT / "loja-01-dois-caixas.png"))
            for w in (w1, w2):
                if getattr(w, "result_dialog", None) is not None:
                    w.result_dialog.close()
            day = ctx1.now().date().isoformat()
            from pos_app.core.storeserver import views

            wait(lambda: len(views.dashboard(conn, day=day)["por_terminal"]) == 2)
            dialog.close()
            dialog = StoreDialog(ctx1, ctx1.store.users.by_code("9"), w1)
            dialog.show()
            dialog.move(0, 0)
            wait(lambda: "CX02" in dialog.board.toPlainText())
            QTest.qWait(500)
            dialog.grab().save(str(OUT / "loja-02-painel.png"))
            figures["painel"] = dialog.board.toPlainText()
        finally:
            app.quit()

    QTimer.singleShot(0, run)
    app.exec()
    for controller in controllers.values():
        controller.shutdown()
    conn.close()
    server.stop(remove=True)
    for key, value in figures.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
