"""Start of the cashier program: login window first, everything else in the background.

Order (the login window must be usable fast): QApplication -> open the data folder (no
network) -> login window shown -> in a worker: start the demo sandbox -> connectivity monitor,
contingency replay (every ~30 s with backlog, and when the link comes back), status polling.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from pos_app.core.services.context import AppContext
from pos_app.core.store.users import User
from pos_app.ui.background import Bridge, ReplayScheduler, backlog_poller, printer_poller
from pos_app.ui.i18n import install_translators, tr
from pos_app.ui.login import LoginWindow
from pos_app.ui.theme import apply_theme
from pos_app.ui.worker import run_in_worker, wait_idle

log = logging.getLogger("pos_app.ui")

PROBE_ENV = "POS_UI_STARTUP_PROBE"
START_SERVICES_DELAY_MS = 200


def _start_sandbox(ctx: AppContext) -> None:
    from pos_app.demo import start_demo_sandbox

    start_demo_sandbox(ctx)


def _prewarm() -> None:
    """Import what the first sale needs (PDF, emission) while the cashier types the PIN."""
    import pos_app.core.services.emission  # noqa: F401
    import pos_app.core.services.replay  # noqa: F401


class AppController(QObject):
    """Owns the context, the background services and the two top-level windows."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.bridge = Bridge()
        self.replay = ReplayScheduler(ctx)
        self.backlog = backlog_poller(ctx)
        self.printer = printer_poller(ctx)
        self._ready = threading.Event()
        self.login: LoginWindow | None = None
        self.window: Any = None  # SaleWindow, imported after the login window is up
        self.operator: User | None = None
        self.startup_error: str | None = None
        self.bridge.link_changed.connect(self._link_changed)
        self.bridge.faults_changed.connect(self.faults_changed)
        self.backlog.updated.connect(self._backlog_updated)
        self.printer.updated.connect(self._printer_updated)
        self.replay.progress.connect(self._replay_progress)
        self.replay.finished.connect(self._replay_finished)

    # -- start and stop --------------------------------------------------------------------
    def start(self) -> LoginWindow:
        login = self.show_login()
        # After the login window is painted: the sandbox import would compete for the GIL.
        QTimer.singleShot(START_SERVICES_DELAY_MS, self._start_services)
        return login

    def _start_services(self) -> None:
        if self.ctx.config.demo and self.ctx.sandbox is None:
            run_in_worker(
                _start_sandbox,
                self.ctx,
                on_result=lambda _r: self._services_ready(),
                on_error=self._sandbox_failed,
            )
        else:
            self._services_ready()

    def _sandbox_failed(self, exc: BaseException) -> None:
        self.startup_error = tr("O simulador de demonstração não iniciou: {erro}").format(erro=exc)
        log.error("%s", self.startup_error)
        parent = self.window or self.login
        if parent is not None:
            QMessageBox.warning(parent, tr("Demonstração"), self.startup_error)

    def _services_ready(self) -> None:
        from pos_app.core.services.monitor import ConnectivityMonitor

        ctx = self.ctx
        if ctx.sandbox is not None:
            ctx.sandbox.faults.subscribe(lambda _mode, _active: self.bridge.faults_changed.emit())
        if ctx.monitor is None:
            monitor = ConnectivityMonitor(ctx.base_url)
            monitor.listeners.append(lambda online: self.bridge.link_changed.emit(online))
            ctx.monitor = monitor
            monitor.start()
        self._ready.set()
        self.replay.start()
        self.backlog.start()
        self.printer.start()
        run_in_worker(_prewarm)

    def wait_ready(self, timeout: float) -> bool:
        """Worker side: block until the sandbox/monitor are up (the first sale may be quick)."""
        return self._ready.wait(timeout)

    def shutdown(self) -> None:
        self.replay.stop()
        self.backlog.stop()
        self.printer.stop()
        if self.ctx.monitor is not None:
            self.ctx.monitor.stop()
        if "_pix_service" in self.ctx.__dict__:  # a PIX wait left polling ends now, not at its expiry
            self.ctx.__dict__["_pix_service"].stop_waits()
        wait_idle(15_000)
        self.ctx.close()

    # -- windows ---------------------------------------------------------------------------
    def show_login(self) -> LoginWindow:
        if self.login is None:
            self.login = LoginWindow(self.ctx)
            self.login.logged_in.connect(self._logged_in)
            self.login.rejected.connect(self._login_closed)
        self.login.reset()
        self.login.show()
        self.login.raise_()
        self.login.activateWindow()
        return self.login

    def _login_closed(self) -> None:
        if self.window is None or not self.window.isVisible():
            QApplication.quit()

    def _logged_in(self, user: User) -> None:
        from pos_app.ui.sale_window import SaleWindow

        self.operator = user
        window = SaleWindow(self.ctx, user, self)
        window.logout_requested.connect(self._logout)
        self.window = window
        monitor = self.ctx.monitor
        window.status.set_link(monitor.online if monitor is not None else None)
        if self.backlog.last is not None:
            window.status.set_backlog(self.backlog.last)
        if self.printer.last is not None:
            window.status.set_printer(*self.printer.last)
        self.faults_changed(check_link=False)
        if os.environ.get("POS_UI_MAXIMIZED", "1") == "1":
            window.showMaximized()
        else:
            window.show()
        window.activateWindow()
        window.code.setFocus()
        if self.login is not None:
            self.login.hide()

    def _logout(self) -> None:
        window, self.window = self.window, None
        self.show_login()
        if window is not None:
            window.close()
            window.deleteLater()

    # -- background signals ----------------------------------------------------------------
    def _link_changed(self, online: bool) -> None:
        if self.window is not None:
            self.window.status.set_link(online)
        if online:
            self.replay.trigger(force=True, ignore_backoff=True)
        self.backlog.refresh()

    def _backlog_updated(self, data: dict[str, Any]) -> None:
        if self.window is not None:
            self.window.status.set_backlog(data)

    def _printer_updated(self, value: tuple[bool | None, str, str]) -> None:
        if self.window is not None:
            self.window.status.set_printer(*value)

    def _replay_progress(self, n: int, total: int) -> None:
        if self.window is not None:
            self.window.status.set_replay((n, total))

    def _replay_finished(self, _outcome: Any) -> None:
        if self.window is not None:
            self.window.status.set_replay(None)
        self.backlog.refresh()

    def faults_changed(self, check_link: bool = True) -> None:
        """A training fault started/stopped: update the screen and re-check the link now."""
        from pos_app.ui.training import active_scenarios

        if self.window is not None:
            self.window.status.set_training(active_scenarios(self.ctx))
            if self.window.training_menu is not None:
                self.window.training_menu.sync_checks()
        monitor = self.ctx.monitor
        if check_link and monitor is not None:
            run_in_worker(monitor.check)


def _probe_hook(app: QApplication, login: LoginWindow, started: float) -> None:
    """``POS_UI_STARTUP_PROBE=1``: report when the login window is on screen, then quit."""
    import time

    def report() -> None:
        login.repaint()
        print(f"POS_UI_READY {time.time() - started:.3f}", flush=True)
        QTimer.singleShot(0, app.quit)

    if login.isVisible():
        QTimer.singleShot(0, report)
    else:
        login.shown.connect(lambda: QTimer.singleShot(0, report))


def prepare_application(app: QApplication) -> None:
    """Name, Portuguese Qt strings and the counter theme (also used by the UI tests)."""
    app.setApplicationName("pos-app")
    app.setApplicationDisplayName(tr("Frente de Caixa"))
    install_translators(app)
    apply_theme(app)
    from pos_app.ui.counter_policy import install

    install(app)  # every window inside the screen; Tab and Enter behave the same everywhere


def _platform_loads() -> bool:
    """Qt aborts the process (not an exception) when the platform plugin fails (e.g. missing
    libxcb-cursor0): try it in a child process first on Linux; Windows/macOS always load."""
    qpa = (os.environ.get("QT_QPA_PLATFORM") or "xcb").split(":", 1)[0]
    if (
        not sys.platform.startswith("linux")
        or qpa != "xcb"
        or getattr(sys, "frozen", False)
        or os.environ.get("POS_UI_SKIP_PLATFORM_CHECK")
    ):
        return True
    import subprocess

    code = "from PySide6.QtGui import QGuiApplication; QGuiApplication([])"
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot tell: let Qt try
    if done.returncode != 0:
        log.warning("plataforma gráfica do Qt falhou: %s", done.stderr.decode(errors="replace")[-2000:])
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Open the cashier program; returns the process exit code."""
    import time

    started = float(os.environ.get("POS_UI_T0") or time.time())
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        from pos_app.ui.display_check import PLUGIN_FAILURE_MESSAGE, report_no_display

        if not _platform_loads():
            return report_no_display(
                PLUGIN_FAILURE_MESSAGE.format(detalhe=os.environ.get("QT_QPA_PLATFORM") or "xcb")
            )
        app = QApplication(list(sys.argv if argv is None else argv))
    prepare_application(app)
    try:
        from pos_app.app import open_app

        ctx = open_app(start_sandbox=False)
    except Exception as exc:  # noqa: BLE001 - the cashier gets a sentence, not a traceback
        log.exception("falha ao abrir os dados do terminal")
        QMessageBox.critical(
            None,
            tr("Frente de Caixa"),
            tr("Não foi possível abrir os dados do terminal: {erro}").format(erro=exc),
        )
        return 1
    controller = AppController(ctx)
    login = controller.start()
    if os.environ.get(PROBE_ENV):
        _probe_hook(app, login, started)
    try:
        return int(app.exec())
    finally:
        controller.shutdown()
