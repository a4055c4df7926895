"""The "Treinamento" menu (demo mode only): make the embedded sandbox fail on purpose so a trainer
can show the contingency flow, then restore it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from pos_app.core.services.context import AppContext
from pos_app.ui.i18n import tr

SLOW_SECONDS = 8.0

# key -> (menu text, short text for the status bar, fault mode, fault params)
SCENARIOS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "internet": (tr("Simular queda da internet"), tr("sem internet"), "unreachable", {}),
    "sefaz": (tr("Simular SEFAZ fora do ar"), tr("SEFAZ fora"), "sefaz_down", {}),
    "lenta": (
        tr("Simular API lenta ({s:.0f} s)").format(s=SLOW_SECONDS),
        tr("API lenta"),
        "slow",
        {"seconds": SLOW_SECONDS},
    ),
}


def active_scenarios(ctx: AppContext) -> list[str]:
    """Short Portuguese names of the simulated failures now active."""
    if ctx.sandbox is None:
        return []
    return [
        short for _key, (_menu, short, mode, _p) in SCENARIOS.items() if ctx.sandbox.faults.is_active(mode)
    ]


class TrainingMenu(QMenu):
    def __init__(self, ctx: AppContext, on_change: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(tr("&Treinamento"), parent)
        self.setObjectName("trainingMenu")
        self.ctx = ctx
        self._on_change = on_change
        self.scenario_actions: dict[str, QAction] = {}
        for key, (text, _short, _mode, _params) in SCENARIOS.items():
            action = QAction(text, self)
            action.setCheckable(True)
            action.setObjectName(f"training_{key}")
            action.toggled.connect(lambda on, k=key: self.set_scenario(k, on))
            self.addAction(action)
            self.scenario_actions[key] = action
        self.addSeparator()
        self.company_menu = self.addMenu(tr("Empresa de demonstração"))
        self.company_menu.setObjectName("training_company")
        self.company_actions: dict[str, QAction] = {}
        from pos_app.demo import company as demo_company

        for key, label in demo_company.LABELS.items():
            action = QAction(label, self)
            action.setCheckable(True)
            action.setObjectName(f"training_company_{key}")
            action.triggered.connect(lambda _on=False, k=key: self.set_company(k))
            self.company_menu.addAction(action)
            self.company_actions[key] = action
        self.company_message: QWidget | None = None
        self._sync_company()
        from pos_app.demo.pix import demo_psp

        psp = demo_psp(ctx)
        if psp is not None:
            psp.auto_pay_after = None  # at the window the trainer decides when the customer pays
        self.pix_action = QAction(tr("Simular pagamento PIX (pagar agora)"), self)
        self.pix_action.setObjectName("training_pix_pay")
        self.pix_action.triggered.connect(self.pay_pix)
        self.pix_action.setEnabled(psp is not None)
        self.addAction(self.pix_action)
        self.last_pix_message = ""
        self.addSeparator()
        self.restore_action = QAction(tr("Restaurar tudo (conexão normal)"), self)
        self.restore_action.setObjectName("training_restore")
        self.restore_action.triggered.connect(self.restore)
        self.addAction(self.restore_action)

    def set_scenario(self, key: str, on: bool) -> None:
        sandbox = self.ctx.sandbox
        if sandbox is None:
            return
        _text, _short, mode, params = SCENARIOS[key]
        if on and not sandbox.faults.is_active(mode):
            sandbox.faults.set(mode, **params)
        elif not on and sandbox.faults.is_active(mode):
            sandbox.faults.clear(mode)
        self._on_change()

    def set_company(self, key: str) -> None:
        """Play another demo company (refused while its notes wait for the API)."""
        from pos_app.demo import company as demo_company
        from pos_app.ui.common import inform

        parent = self.parentWidget() or self
        try:
            result = demo_company.switch(self.ctx, key)
        except demo_company.DemoCompanyError as exc:
            self.company_message = inform(parent, tr("Empresa de demonstração"), str(exc), error=True)
        else:
            self.company_message = inform(parent, tr("Empresa de demonstração"), result.mensagem)
        self._sync_company()
        self._on_change()

    def _sync_company(self) -> None:
        from pos_app.demo import company as demo_company

        current = demo_company.current_key(self.ctx)
        for key, action in self.company_actions.items():
            action.setChecked(key == current)

    def pay_pix(self) -> str:
        """The customer pays the newest open PIX charge now (embedded PSP sandbox)."""
        from pos_app.demo.pix import demo_psp

        psp = demo_psp(self.ctx)
        txid = psp.pay_latest() if psp is not None else None
        self.last_pix_message = (
            tr("PIX pago pelo cliente simulado (cobrança {t}).").format(t=txid)
            if txid
            else tr("Nenhuma cobrança PIX aguardando pagamento.")
        )
        show = getattr(self.parent(), "show_message", None)
        if show is not None:
            show(self.last_pix_message, error=txid is None)
        return self.last_pix_message

    def restore(self) -> None:
        if self.ctx.sandbox is not None:
            self.ctx.sandbox.faults.clear()
        self.sync_checks()
        self._on_change()

    def sync_checks(self) -> None:
        """Reflect the sandbox's faults (a once-only fault may have expired)."""
        sandbox = self.ctx.sandbox
        for key, action in self.scenario_actions.items():
            active = sandbox is not None and sandbox.faults.is_active(SCENARIOS[key][2])
            if action.isChecked() != active:
                action.blockSignals(True)
                action.setChecked(active)
                action.blockSignals(False)
