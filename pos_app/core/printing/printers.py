"""Where ESC/POS bytes go: network (IP:9100), USB, serial, Windows spooler (raw), a file, or nowhere
("PDF only").

Every printer has ``send(data)`` (raises :class:`PrinterError`, Portuguese message, on any failure)
and ``status()`` (never raises; a :class:`PrinterStatus` with a Portuguese message for the status bar).
Timeouts are short: a dead printer must never hold the counter for long.

The device classes of python-escpos are used for USB, serial, the Windows spooler and files; the
network printer uses a plain socket so the connect/read timeouts and the paper check
(``DLE EOT 4`` before the job) are under our control. Optional dependencies (pyusb, pyserial,
pywin32) are imported lazily by python-escpos: on a machine without them the printer reports a clear
message instead of failing at import.
"""

from __future__ import annotations

import contextlib
import re
import socket
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pos_app.core.errors import PosError

__all__ = [
    "PRINTER_KINDS",
    "FilePrinter",
    "NetworkPrinter",
    "PaperState",
    "PdfOnlyPrinter",
    "Printer",
    "PrinterError",
    "PrinterStatus",
    "SerialPrinter",
    "UsbPrinter",
    "WindowsPrinter",
    "open_printer",
    "paper_state",
]

PRINTER_KINDS = ("pdf", "rede", "usb", "serial", "windows", "arquivo")
DLE_EOT_PAPER = b"\x10\x04\x04"  # real-time status, n = 4: roll paper sensor

PaperState = Literal["ok", "pouco", "sem", "desconhecido"]


class PrinterError(PosError):
    """The job did not reach the printer (or the printer refused it). ``str(err)`` is Portuguese."""

    kind = "impressora"


@dataclass(frozen=True)
class PrinterStatus:
    ok: bool
    message: str
    paper: PaperState = "desconhecido"


def paper_state(status_byte: int) -> PaperState:
    """Decode the ``DLE EOT 4`` answer (Epson): bits 5-6 paper end, bits 2-3 paper near end."""
    if status_byte & 0x60 == 0x60:
        return "sem"
    if status_byte & 0x0C == 0x0C:
        return "pouco"
    return "ok"


_PAPER_MESSAGES: dict[PaperState, str] = {
    "ok": "papel ok",
    "pouco": "papel acabando: troque a bobina",
    "sem": "SEM PAPEL: troque a bobina",
    "desconhecido": "sem informação de papel",
}


class Printer(ABC):
    kind: str = ""

    @property
    @abstractmethod
    def description(self) -> str:
        """Human description, e.g. "rede 192.168.0.50:9100"."""

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Deliver the job; raise :class:`PrinterError` when it could not be delivered."""

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Reachable? Paper? Never raises."""


class PdfOnlyPrinter(Printer):
    """No thermal printer: the DANFCe exists only as the PDF saved with the sale."""

    kind = "pdf"

    @property
    def description(self) -> str:
        return "somente PDF"

    def send(self, data: bytes) -> None:
        raise PrinterError("Nenhuma impressora térmica configurada (somente PDF).")

    def status(self) -> PrinterStatus:
        return PrinterStatus(True, "Somente PDF: o DANFCe é salvo em arquivo com a venda.", "desconhecido")


# --------------------------------------------------------------------------- network


class NetworkPrinter(Printer):
    """A printer listening on a raw TCP port (JetDirect, 9100)."""

    kind = "rede"

    def __init__(
        self,
        host: str,
        port: int = 9100,
        *,
        connect_timeout: float = 2.0,
        io_timeout: float = 10.0,
        status_timeout: float = 0.4,
    ) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.status_timeout = status_timeout

    @property
    def description(self) -> str:
        return f"rede {self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise PrinterError(
                f"Impressora {self.host}:{self.port} não respondeu (desligada ou fora da rede)"
            ) from exc
        except ConnectionRefusedError as exc:
            raise PrinterError(
                f"Impressora {self.host}:{self.port} recusou a conexão (desligada, porta errada ou ocupada)"
            ) from exc
        except OSError as exc:
            raise PrinterError(
                f"Impressora {self.host}:{self.port} inacessível: {exc.strerror or exc}"
            ) from exc
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _paper(self, sock: socket.socket) -> PaperState:
        """Ask DLE EOT 4; printers that do not answer on the data port give "desconhecido"."""
        try:
            sock.settimeout(self.status_timeout)
            sock.sendall(DLE_EOT_PAPER)
            answer = sock.recv(1)
        except OSError:
            return "desconhecido"
        return paper_state(answer[0]) if answer else "desconhecido"

    def send(self, data: bytes) -> None:
        sock = self._connect()
        try:
            if self._paper(sock) == "sem":
                raise PrinterError("Impressora sem papel: troque a bobina")
            sock.settimeout(self.io_timeout)
            sock.sendall(data)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
        except PrinterError:
            raise
        except OSError as exc:
            raise PrinterError(f"Falha ao enviar para a impressora {self.host}:{self.port}: {exc}") from exc
        finally:
            sock.close()

    def status(self) -> PrinterStatus:
        try:
            sock = self._connect()
        except PrinterError as exc:
            return PrinterStatus(False, str(exc) + ".", "desconhecido")
        try:
            paper = self._paper(sock)
        finally:
            sock.close()
        return PrinterStatus(
            paper != "sem", f"Impressora {self.host}:{self.port} conectada, {_PAPER_MESSAGES[paper]}.", paper
        )


# --------------------------------------------------------------------------- python-escpos devices


class _EscposDevice(Printer):
    """Common code for the python-escpos device classes (open, _raw, close)."""

    def _device(self) -> Any:
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        device = self._device()
        try:
            device.open()
            device._raw(data)
        except PrinterError:
            raise
        except Exception as exc:  # noqa: BLE001 - every device error becomes one Portuguese sentence
            raise PrinterError(f"Falha ao imprimir em {self.description}: {exc}") from exc
        finally:
            with contextlib.suppress(Exception):
                device.close()

    def status(self) -> PrinterStatus:
        try:
            device = self._device()
            device.open()
        except Exception as exc:  # noqa: BLE001
            return PrinterStatus(False, f"Impressora {self.description} indisponível: {exc}.", "desconhecido")
        try:
            paper: PaperState = "desconhecido"
            with contextlib.suppress(Exception):
                paper = {0: "sem", 1: "pouco", 2: "ok"}.get(device.paper_status(), "desconhecido")  # type: ignore[assignment]
            return PrinterStatus(
                paper != "sem", f"Impressora {self.description} conectada, {_PAPER_MESSAGES[paper]}.", paper
            )
        finally:
            with contextlib.suppress(Exception):
                device.close()


class FilePrinter(_EscposDevice):
    """Bytes written to a path: a device file (``/dev/usb/lp0``), a shared LPT port, or a plain file."""

    kind = "arquivo"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def description(self) -> str:
        return f"arquivo {self.path}"

    def _device(self) -> Any:
        from escpos.printer import File

        return File(str(self.path), auto_flush=False)

    def status(self) -> PrinterStatus:
        folder = self.path.parent
        if self.path.exists() or folder.is_dir():
            return PrinterStatus(True, f"Impressão em arquivo: {self.path}.", "desconhecido")
        return PrinterStatus(
            False, f"Pasta inexistente para o arquivo de impressão: {folder}.", "desconhecido"
        )


class UsbPrinter(_EscposDevice):
    kind = "usb"

    def __init__(self, vendor_id: int, product_id: int, timeout_ms: int = 3000) -> None:
        self.vendor_id = vendor_id
        self.product_id = product_id
        self.timeout_ms = timeout_ms

    @property
    def description(self) -> str:
        return f"USB {self.vendor_id:04x}:{self.product_id:04x}"

    def _device(self) -> Any:
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise PrinterError("Impressão USB requer o pacote pyusb (e libusb/driver WinUSB no Windows).")
        usb_args: dict[str, Any] = {}
        backend = usb_backend()
        if backend is not None:
            usb_args["backend"] = backend
        return Usb(self.vendor_id, self.product_id, timeout=self.timeout_ms, usb_args=usb_args)

    def _not_found(self) -> str:
        return (
            f"Impressora {self.description} não encontrada: confira o cabo e se está ligada. No Windows, "
            "o modo USB direto exige o driver WinUSB; com o driver do fabricante use o modo "
            "'Impressora instalada no Windows (spooler)'"
        )

    def send(self, data: bytes) -> None:
        try:
            super().send(data)
        except PrinterError as exc:
            from escpos.exceptions import DeviceNotFoundError

            if isinstance(exc.__cause__, DeviceNotFoundError):
                raise PrinterError(self._not_found()) from exc
            raise

    def status(self) -> PrinterStatus:
        status = super().status()
        if not status.ok and "not found" in status.message:  # escpos DeviceNotFoundError
            return PrinterStatus(False, self._not_found() + ".", status.paper)
        return status


def usb_backend() -> Any:
    """pyusb's libusb-1.0 backend. On Windows the DLL ships in the program (PyPI ``libusb-package``,
    bundled by its PyInstaller hook); elsewhere, or without that package, pyusb's own library search.
    None when no libusb library can be loaded (USB printing then reports pyusb's "no backend")."""
    try:
        import libusb_package
    except ImportError:
        return None
    return libusb_package.get_libusb1_backend()


class SerialPrinter(_EscposDevice):
    kind = "serial"

    def __init__(self, port: str, baudrate: int = 9600, timeout: float = 2.0) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout

    @property
    def description(self) -> str:
        return f"serial {self.port} {self.baudrate} bps"

    def _device(self) -> Any:
        from escpos.printer import Serial

        if not Serial.is_usable():
            raise PrinterError("Impressão serial requer o pacote pyserial.")
        return Serial(self.port, baudrate=self.baudrate, timeout=self.timeout)


class WindowsPrinter(_EscposDevice):
    """A printer installed in Windows, fed through the spooler in RAW mode (no driver rendering)."""

    kind = "windows"

    # winspool PRINTER_STATUS_* bits that mean the job would only wait in the queue
    _BAD_STATUS = {
        0x2: "com erro",
        0x8: "com papel enroscado",
        0x10: "sem papel",
        0x40: "sem papel",
        0x80: "desligada (offline)",
        0x400000: "com a tampa aberta",
    }

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def description(self) -> str:
        return f'Windows "{self.name}"' if self.name else "Windows (impressora padrão)"

    def _device(self) -> Any:
        from escpos.printer import Win32Raw

        if not Win32Raw.is_usable():
            raise PrinterError("A impressão pelo spooler do Windows só funciona no Windows (pywin32).")
        return Win32Raw(self.name)

    def _spooler_problem(self) -> str | None:
        try:
            import win32print
        except ImportError:
            return None  # not Windows: _device() says so
        try:
            name = self.name or win32print.GetDefaultPrinter()
        except Exception:  # noqa: BLE001 - pywintypes.error: no default printer
            return "não encontrada: não há impressora padrão no Windows"
        try:
            handle = win32print.OpenPrinter(name)
        except Exception:  # noqa: BLE001 - ERROR_INVALID_PRINTER_NAME and friends
            return "não encontrada no Windows (confira o nome em Configurações > Impressoras)"
        try:
            flags = int(win32print.GetPrinter(handle, 2)["Status"])
        except Exception:  # noqa: BLE001 - no spooler information: let the job go
            return None
        finally:
            with contextlib.suppress(Exception):
                win32print.ClosePrinter(handle)
        for bit, text in self._BAD_STATUS.items():
            if flags & bit:
                return text
        return None

    def send(self, data: bytes) -> None:
        problem = self._spooler_problem()
        if problem:
            raise PrinterError(f"Impressora {self.description} {problem}")
        super().send(data)

    def status(self) -> PrinterStatus:
        problem = self._spooler_problem()
        if problem:
            return PrinterStatus(
                False,
                f"Impressora {self.description} {problem}.",
                "sem" if "papel" in problem and "enroscado" not in problem else "desconhecido",
            )
        try:
            self._device()
        except PrinterError as exc:
            return PrinterStatus(False, str(exc), "desconhecido")
        return PrinterStatus(True, f"Impressora {self.description} pronta (spooler).", "desconhecido")


# --------------------------------------------------------------------------- factory


def _parse_host_port(address: str) -> tuple[str, int]:
    address = address.strip()
    m = re.fullmatch(r"\[?([^\]\s]+?)\]?(?::(\d{1,5}))?", address)
    if not m or not m.group(1):
        raise PrinterError(f"Endereço de rede inválido: {address!r} (use IP:porta, ex.: 192.168.0.50:9100)")
    port = int(m.group(2) or 9100)
    if not 0 < port < 65536:
        raise PrinterError(f"Porta inválida: {port}")
    return m.group(1), port


def _parse_usb(address: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(?:0x)?([0-9a-fA-F]{1,4})\s*[:,]\s*(?:0x)?([0-9a-fA-F]{1,4})\s*", address)
    if not m:
        raise PrinterError(
            f"Endereço USB inválido: {address!r} (use fabricante:produto em hexadecimal, ex.: 04b8:0e15)"
        )
    return int(m.group(1), 16), int(m.group(2), 16)


def _parse_serial(address: str) -> tuple[str, int]:
    address = address.strip()
    m = re.fullmatch(r"(.+?)(?:[:,@](\d{3,7}))?", address)
    if not m or not m.group(1):
        raise PrinterError(f"Porta serial inválida: {address!r} (ex.: COM3:9600 ou /dev/ttyUSB0:115200)")
    return m.group(1), int(m.group(2) or 9600)


def open_printer(kind: str | None, address: str | None = None, *, timeout: float = 2.0) -> Printer:
    """The printer for the settings ``impressora.tipo`` / ``impressora.endereco``.

    Raises :class:`PrinterError` when the address does not fit the kind.
    """
    kind = (kind or "pdf").strip().lower()
    address = (address or "").strip()
    if kind == "pdf":
        return PdfOnlyPrinter()
    if kind == "windows":
        return WindowsPrinter(address)
    if not address:
        raise PrinterError(f"Informe o endereço da impressora ({kind}) em impressora.endereco.")
    if kind == "rede":
        host, port = _parse_host_port(address)
        return NetworkPrinter(host, port, connect_timeout=timeout)
    if kind == "usb":
        return UsbPrinter(*_parse_usb(address))
    if kind == "serial":
        port_name, baud = _parse_serial(address)
        return SerialPrinter(port_name, baud)
    if kind == "arquivo":
        return FilePrinter(Path(address).expanduser())
    raise PrinterError(f"Tipo de impressora desconhecido: {kind} (use {' | '.join(PRINTER_KINDS)})")
