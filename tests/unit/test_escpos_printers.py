"""Printer transports: network (a fake printer on loopback), file, Windows/USB guards, addresses."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.core.printing.printers import (
    DLE_EOT_PAPER,
    FilePrinter,
    NetworkPrinter,
    PdfOnlyPrinter,
    PrinterError,
    SerialPrinter,
    UsbPrinter,
    WindowsPrinter,
    open_printer,
    paper_state,
)


class FakePrinter:
    """A TCP "printer": answers DLE EOT 4 with ``paper_byte`` (None: never answers) and keeps the rest."""

    def __init__(self, paper_byte: int | None = 0x12) -> None:
        self.paper_byte = paper_byte
        self.received = bytearray()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                buf = bytearray()
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    buf += chunk
                    if buf.startswith(DLE_EOT_PAPER):
                        del buf[:3]
                        if self.paper_byte is not None:
                            conn.sendall(bytes([self.paper_byte]))
                self.received += buf

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self.thread.join(2)


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(predicate, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_paper_status_bits() -> None:
    assert paper_state(0x12) == "ok"
    assert paper_state(0x1E) == "pouco"  # near-end bits 2-3
    assert paper_state(0x72) == "sem"  # paper-end bits 5-6
    assert paper_state(0x7E) == "sem"


def test_network_printer_receives_the_job(fake_printer: FakePrinter) -> None:
    printer = NetworkPrinter("127.0.0.1", fake_printer.port)
    printer.send(b"\x1b@hello\n\x1dVB\x00")
    assert wait_for(lambda: bytes(fake_printer.received) == b"\x1b@hello\n\x1dVB\x00")
    status = printer.status()
    assert status.ok and status.paper == "ok"
    assert "conectada" in status.message and "papel ok" in status.message


def test_network_printer_out_of_paper_refuses_the_job() -> None:
    fake = FakePrinter(paper_byte=0x72)
    try:
        printer = NetworkPrinter("127.0.0.1", fake.port)
        with pytest.raises(PrinterError, match="sem papel"):
            printer.send(b"job")
        st = printer.status()
        assert not st.ok and st.paper == "sem" and "SEM PAPEL" in st.message
        time.sleep(0.1)
        assert bytes(fake.received) == b""
    finally:
        fake.close()


def test_network_printer_without_status_answer_still_prints() -> None:
    fake = FakePrinter(paper_byte=None)
    try:
        printer = NetworkPrinter("127.0.0.1", fake.port, status_timeout=0.1)
        printer.send(b"job")
        assert wait_for(lambda: bytes(fake.received) == b"job")
        st = printer.status()
        assert st.ok and st.paper == "desconhecido" and "sem informação de papel" in st.message
    finally:
        fake.close()


def test_network_printer_offline_fails_fast_in_portuguese() -> None:
    printer = NetworkPrinter("127.0.0.1", closed_port(), connect_timeout=1.0)
    start = time.monotonic()
    with pytest.raises(PrinterError, match="recusou a conexão"):
        printer.send(b"job")
    st = printer.status()
    assert not st.ok and "recusou a conexão" in st.message
    assert time.monotonic() - start < 2


def test_file_printer_writes_the_bytes(tmp_path: Path) -> None:
    path = tmp_path / "impressora.bin"
    printer = FilePrinter(path)
    printer.send(b"\x1b@abc")
    assert path.read_bytes() == b"\x1b@abc"
    assert printer.status().ok
    bad = FilePrinter(tmp_path / "nao" / "existe.bin")
    assert not bad.status().ok
    with pytest.raises(PrinterError):
        bad.send(b"x")


@pytest.mark.skipif(sys.platform == "win32", reason="checks the guard on machines without pywin32")
def test_windows_spooler_is_guarded_off_windows() -> None:
    printer = WindowsPrinter("EPSON TM-T20")
    with pytest.raises(PrinterError, match="Windows"):
        printer.send(b"x")
    st = printer.status()
    assert not st.ok and "Windows" in st.message


def test_usb_and_serial_report_missing_libraries_or_devices() -> None:
    for printer in (UsbPrinter(0x04B8, 0x0E15), SerialPrinter("/dev/nao-existe-ttyUSB9", 9600)):
        with pytest.raises(PrinterError):
            printer.send(b"x")
        assert not printer.status().ok


def test_pdf_only() -> None:
    printer = PdfOnlyPrinter()
    assert printer.status().ok
    with pytest.raises(PrinterError):
        printer.send(b"x")


def test_open_printer_addresses(tmp_path: Path) -> None:
    net = open_printer("rede", "192.168.0.50:9100")
    assert isinstance(net, NetworkPrinter) and (net.host, net.port) == ("192.168.0.50", 9100)
    assert open_printer("rede", "impressora.local").port == 9100  # type: ignore[attr-defined]
    usb = open_printer("usb", "04b8:0e15")
    assert isinstance(usb, UsbPrinter) and (usb.vendor_id, usb.product_id) == (0x04B8, 0x0E15)
    assert isinstance(open_printer("usb", "0x0fe6:0x811e"), UsbPrinter)
    serial = open_printer("serial", "COM3:115200")
    assert isinstance(serial, SerialPrinter) and (serial.port, serial.baudrate) == ("COM3", 115200)
    assert open_printer("serial", "/dev/ttyUSB0").baudrate == 9600  # type: ignore[attr-defined]
    assert isinstance(open_printer("windows", "EPSON TM-T20"), WindowsPrinter)
    assert isinstance(open_printer("arquivo", str(tmp_path / "x.bin")), FilePrinter)
    assert isinstance(open_printer("pdf", None), PdfOnlyPrinter)
    assert isinstance(open_printer(None), PdfOnlyPrinter)
    for kind, address in [("rede", ""), ("usb", "epson"), ("rede", "1.2.3.4:99999"), ("fax", "x")]:
        with pytest.raises(PrinterError):
            open_printer(kind, address)
