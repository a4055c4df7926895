"""PIX at the payment screen: the dynamic charge's QR (followed in a worker) and the static QR.

Dynamic (forma 17): the charge is created and polled in the worker pool; the window never waits.
The QR is shown large with the amount and a countdown; when the PSP says CONCLUIDA the payment
(PSP CNPJ + endToEndId) is added to the sale. "Cancelar" removes the charge at the PSP (PATCH); a
payment arriving after that is detected by the sync and offered to a manager for refund.
Static (forma 20): the store key's BR Code with the amount; the cashier confirms by hand.
With a customer display (``tela.cliente``) the same QR is shown there, large, while it can be paid;
the display goes back to the cart as soon as the charge is paid, expires, fails or the dialog closes.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pos_app.core.domain.money import format_brl
from pos_app.core.domain.payments import Payment
from pos_app.ui import theme
from pos_app.ui.i18n import tr
from pos_app.ui.worker import run_in_worker

QR_PIXELS = 360


def _alive(widget: QWidget) -> bool:
    """False once Qt deleted the dialog (its parent went away) while a worker was still on it."""
    import shiboken6

    return bool(shiboken6.isValid(widget))


def qr_pixmap(text: str, size: int = QR_PIXELS) -> QPixmap:
    import qrcode
    import qrcode.constants

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, box_size=8)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf, format="PNG")
    pixmap = QPixmap()
    pixmap.loadFromData(buf.getvalue(), "PNG")
    return pixmap.scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class _PixBase(QDialog):
    def __init__(
        self, title: str, valor: Decimal, parent: QWidget | None, customer_display: Any = None
    ) -> None:
        super().__init__(parent)
        self.valor = valor
        self.payment: Payment | None = None
        self.customer_display = customer_display
        self.finished.connect(lambda _r: self.end_display())
        self.setWindowTitle(title)
        self.resize(560, 680)
        root = QVBoxLayout(self)
        self.root = root
        root.setSpacing(10)
        head = QLabel(title)
        theme.set_role(head, "title")
        root.addWidget(head)
        self.amount_label = QLabel(format_brl(valor))
        self.amount_label.setObjectName("pixAmount")
        self.amount_label.setFont(theme.big_font(30))
        self.amount_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.amount_label)
        self.qr_label = QLabel(tr("Gerando o QR Code..."))
        self.qr_label.setObjectName("pixQr")
        self.qr_label.setMinimumSize(QR_PIXELS, QR_PIXELS)
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.qr_label, 1)
        self.status = QLabel()
        self.status.setObjectName("pixStatus")
        self.status.setFont(theme.big_font(15))
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        root.addWidget(self.status)
        self.buttons = QHBoxLayout()
        root.addLayout(self.buttons)
        self.copia_e_cola = ""

    def show_qr(self, code: str, expires_at: Any = None) -> None:
        self.copia_e_cola = code
        self.qr_label.setPixmap(qr_pixmap(code))
        self.qr_label.setToolTip(code)
        if self.customer_display is not None:
            self.customer_display.show_pix(code, self.valor, expires_at)

    def end_display(self) -> None:
        """The QR can no longer be paid here: the customer display goes back to the cart."""
        if self.customer_display is not None and self.customer_display.showing_pix():
            self.customer_display.end_pix()


class PixDynamicDialog(_PixBase):
    """Creates the charge, shows its QR, waits for the PSP; ``payment`` is set when paid."""

    state_changed = Signal(str)

    def __init__(
        self,
        ctx: Any,
        valor: Decimal,
        operador: Any,
        parent: QWidget | None = None,
        customer_display: Any = None,
    ) -> None:
        super().__init__(tr("PIX — QR Code dinâmico"), valor, parent, customer_display)
        self.setObjectName("pixDynamicDialog")
        self.ctx = ctx
        self.operador = operador
        self.charge: Any = None
        self._stop = threading.Event()
        self._closing = False
        self.countdown = QLabel()
        self.countdown.setObjectName("pixCountdown")
        self.countdown.setFont(theme.big_font(18))
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.root.insertWidget(3, self.countdown)
        self.cancel_button = QPushButton(tr("Cancelar cobrança (Esc)"))
        self.cancel_button.setObjectName("pixCancel")
        self.cancel_button.setAutoDefault(False)
        theme.set_role(self.cancel_button, "danger")
        self.cancel_button.clicked.connect(self.cancel_charge)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.cancel_button)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.status.setText(tr("Criando a cobrança no PSP..."))
        from pos_app.core.pix.service import pix_service

        self.service = pix_service(ctx)
        stop = self._stop  # the dialog deleted with its parent: its wait ends with it
        self.destroyed.connect(lambda *_: stop.set())
        run_in_worker(
            self.service.create,
            valor,
            getattr(operador, "id", None),
            on_result=self._created,
            on_error=self._create_failed,
        )

    # -- worker results (GUI thread) -------------------------------------------------------
    def _created(self, charge: Any) -> None:
        if not _alive(self):
            return
        self.charge = charge
        if self._closing:  # cancelled while the PUT was on its way
            run_in_worker(
                self.service.cancel,
                charge.id,
                self.operador,
                on_result=lambda _c: None,
                on_error=lambda _e: None,
            )
            return
        if charge.status == "falhou" or not charge.copia_e_cola:
            self._create_failed(RuntimeError(charge.last_error or tr("cobrança não criada")))
            return
        self.show_qr(charge.copia_e_cola, charge.expires_at())
        self.status.setText(tr("Aguardando o pagamento — peça ao cliente para ler o QR Code."))
        self._tick()
        self._timer.start()
        run_in_worker(
            self.service.wait,
            charge.id,
            cancel=self._stop,
            on_update=self._update_from_worker,
            on_result=self._settled,
            on_error=self._wait_failed,
        )

    def _update_from_worker(self, charge: Any) -> None:  # worker thread: only a queued signal
        if _alive(self):
            self.state_changed.emit(charge.status)

    def _create_failed(self, exc: BaseException) -> None:
        if not _alive(self):
            return
        self.qr_label.setText(tr("PIX dinâmico indisponível"))
        self.status.setText(
            tr(
                "Não foi possível criar a cobrança: {e}\nUse PIX estático (o celular do cliente "
                "tem conexão própria) ou outra forma."
            ).format(e=exc)
        )
        theme.set_role(self.status, "error")
        self.cancel_button.setText(tr("Voltar (Esc)"))
        self.charge = None

    def _settled(self, charge: Any) -> None:
        if not _alive(self):
            return
        self.charge = charge
        self._timer.stop()
        self.end_display()
        if charge.status == "paga":
            self.payment = self.service.payment_for(charge)
            self.status.setText(tr("PIX recebido ✔  {e2e}").format(e2e=charge.e2eid))
            self.countdown.setText("")
            QTimer.singleShot(600, self.accept)
            return
        if self._stop.is_set():
            return  # cancelled by the cashier: cancel_charge handles it
        text = {
            "expirada": tr("A cobrança expirou sem pagamento."),
            "removida_psp": tr("O PSP removeu a cobrança."),
            "cancelada": tr("Cobrança cancelada."),
            "ativa": tr(
                "Sem resposta do PSP até o fim da validade: a cobrança será consultada em segundo plano "
                "e um PIX que chegar será oferecido para devolução."
            ),
        }.get(charge.status, charge.status)
        self.status.setText(text + " " + tr("Tente de novo ou use outra forma."))
        self.countdown.setText("")
        self.cancel_button.setText(tr("Voltar (Esc)"))

    def _wait_failed(self, exc: BaseException) -> None:
        if not _alive(self):
            return
        self.status.setText(tr("Falha ao consultar o PSP: {e}").format(e=exc))

    def _tick(self) -> None:
        if self.charge is None:
            return
        left = max(int(self.charge.seconds_left()), 0)
        self.countdown.setText(tr("Expira em {m:d}:{s:02d}").format(m=left // 60, s=left % 60))

    # -- cashier ---------------------------------------------------------------------------
    def cancel_charge(self) -> None:
        if self.payment is not None:
            return
        self._closing = True
        self._stop.set()
        self._timer.stop()
        self.end_display()
        charge = self.charge
        if charge is not None and not charge.final:
            self.status.setText(tr("Cancelando a cobrança no PSP..."))
            self.cancel_button.setEnabled(False)
            run_in_worker(
                self.service.cancel,
                charge.id,
                self.operador,
                on_result=self._cancelled,
                on_error=lambda e: self._cancelled(None),
            )
            return
        self.reject()

    def abandon(self) -> None:
        """Closed without the cashier's "Cancelar" (the payment screen or the window went away): the
        wait stops at once and the charge is removed at the PSP in the background; a Pix paid anyway
        is caught by the late-payment watcher and offered for refund."""
        if self.payment is not None or self._closing:
            return
        self._closing = True
        self._stop.set()
        self._timer.stop()
        self.end_display()
        charge = self.charge
        if charge is not None and not charge.final:
            run_in_worker(
                self.service.cancel,
                charge.id,
                self.operador,
                on_result=lambda _c: None,
                on_error=lambda _e: None,
            )

    def done(self, result: int) -> None:
        self.abandon()  # whatever closes the dialog, no wait is left polling for it
        super().done(result)

    def _cancelled(self, charge: Any) -> None:
        if not _alive(self):
            return
        if charge is not None and charge.status == "paga":  # paid in the last second: keep it
            self._settled(charge)
            return
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.cancel_charge()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        if self.payment is None and not self._closing:
            event.ignore()
            self.cancel_charge()
            return
        super().closeEvent(event)


class PixStaticDialog(_PixBase):
    """The store key's QR with the amount; the cashier confirms the Pix arrived (recorded with them)."""

    def __init__(
        self,
        ctx: Any,
        valor: Decimal,
        operador: Any,
        parent: QWidget | None = None,
        customer_display: Any = None,
    ) -> None:
        super().__init__(tr("PIX — QR Code estático (chave da loja)"), valor, parent, customer_display)
        self.setObjectName("pixStaticDialog")
        from pos_app.core.pix.service import pix_service

        self.ctx, self.operador = ctx, operador
        self.service = pix_service(ctx)
        self.confirm_button = QPushButton(tr("Confirmo: o PIX chegou (Enter)"))
        self.confirm_button.setObjectName("pixStaticConfirm")
        self.confirm_button.setAutoDefault(False)
        theme.set_role(self.confirm_button, "primary")
        back = QPushButton(tr("Voltar (Esc)"))
        back.setAutoDefault(False)
        back.clicked.connect(self.reject)
        self.buttons.addWidget(back)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.confirm_button)
        try:
            code = self.service.static_brcode(valor)
        except Exception as exc:  # noqa: BLE001 - no key configured, bad emitter name: say it
            self.qr_label.setText(tr("QR estático indisponível"))
            self.status.setText(str(exc))
            self.confirm_button.setEnabled(False)
            return
        self.show_qr(code)
        self.status.setText(
            tr("Confira no aplicativo do banco da loja que o PIX de {v} chegou antes de confirmar.").format(
                v=format_brl(valor)
            )
        )
        self.confirm_button.clicked.connect(self.confirm)

    def confirm(self) -> None:
        if not self.confirm_button.isEnabled():
            return
        self.payment = self.service.record_static(self.valor, self.operador)
        self.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
            return
        super().keyPressEvent(event)
