"""Fixtures for the cashier window tests: offscreen Qt, a demo data folder per test, its own sandbox.

Seeding a demo folder (certificate, users with scrypt PINs, catalog) takes most of a second, so it
is done once per session and copied into each test's ``POS_DATA_DIR``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("POS_UI_MAXIMIZED", "0")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pos_app.app import open_app

    folder = tmp_path_factory.mktemp("seed")
    os.environ["POS_SECRETS"] = "arquivo"
    ctx = open_app(folder, start_sandbox=False)
    ctx.close()
    return folder


@pytest.fixture
def ui_data_dir(tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "dados"
    shutil.copytree(
        seeded_template,
        folder,
        ignore=shutil.ignore_patterns("*.sqlite3-wal", "*.sqlite3-shm", "backups", "logs"),
    )
    monkeypatch.setenv("POS_DATA_DIR", str(folder))
    monkeypatch.setenv("POS_SECRETS", "arquivo")
    return folder


@pytest.fixture
def ctx(ui_data_dir: Path) -> Iterator[Any]:
    from pos_app.app import open_app

    context = open_app(ui_data_dir, start_sandbox=False)
    context.config.set("certificado.arquivo", str(ui_data_dir / "certificado-demo.pfx"))
    yield context
    context.close()


@pytest.fixture
def cash_open(ctx: Any) -> bool:
    """Tests sell: the manager opened the cash session (R$ 100,00 float) before the first sale."""
    from decimal import Decimal

    from pos_app.core.services.cash import CashService

    CashService(ctx).open(ctx.store.users.by_code("9"), Decimal("100.00"))
    return True


@pytest.fixture
def controller(qtbot: Any, ctx: Any, cash_open: bool) -> Iterator[Any]:
    """The whole program as ``pos-app`` starts it: login window, sandbox, monitor, replay."""
    from pos_app.ui.main import AppController, prepare_application
    from pos_app.ui.worker import wait_idle

    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    prepare_application(qapp)
    app = AppController(ctx)
    app.start()
    qtbot.waitUntil(lambda: app.wait_ready(0), timeout=15_000)
    yield app
    for widget in QApplication.topLevelWidgets():
        widget.hide()
    app.replay.stop()
    app.backlog.stop()
    app.printer.stop()
    if ctx.monitor is not None:
        ctx.monitor.stop()
    wait_idle(20_000)
    QApplication.processEvents()
    if ctx.sandbox is not None:
        ctx.sandbox.stop()
        ctx.sandbox = None
    for widget in QApplication.topLevelWidgets():
        widget.deleteLater()
    QApplication.processEvents()


# -- keyboard helpers ---------------------------------------------------------------------------
def focused() -> QWidget:
    widget = QApplication.focusWidget() or QApplication.activeModalWidget() or QApplication.activeWindow()
    assert widget is not None, "nenhum widget com foco"
    return widget


@pytest.fixture
def keys(qtbot: Any) -> Callable[..., None]:
    """``keys("texto")`` types into the focused widget; ``keys(Qt.Key.Key_F2)`` presses a key."""

    def send(*items: str | Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        for item in items:
            if isinstance(item, str):
                qtbot.keyClicks(focused(), item)
            else:
                qtbot.keyClick(focused(), item, modifier)
            QApplication.processEvents()

    return send


@pytest.fixture
def shot() -> Callable[[QWidget, str], Path]:
    """Save a screenshot of a widget under test-artifacts/ui/ (looked at by a person)."""

    def save(widget: QWidget, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        QApplication.processEvents()
        path = ARTIFACTS / f"{name}.png"
        assert widget.grab().save(str(path)), f"falha ao salvar {path}"
        return path

    return save


def login(qtbot: Any, app: Any, keys: Callable[..., None], code: str = "1", pin: str = "1111") -> Any:
    login_window = app.login
    qtbot.waitUntil(lambda: login_window.isVisible() and login_window.form.code.hasFocus(), timeout=5_000)
    keys(code, Qt.Key.Key_Return, pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.window is not None and app.window.isVisible(), timeout=10_000)
    window = app.window
    qtbot.waitUntil(lambda: window.code.hasFocus(), timeout=5_000)
    return window
