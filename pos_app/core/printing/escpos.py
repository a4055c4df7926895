"""DANFCe on thermal printers: ESC/POS bytes drawn from the same layout model as the PDF.

``render_receipts(copies, profile)`` turns one or more :class:`ReceiptData` copies (e.g. "Via
Consumidor" and "Via Estabelecimento" of an offline-contingency note) into one byte string, each
copy started with ``ESC @`` and ended with a cut, ready for any transport in
:mod:`pos_app.core.printing.printers` (or a python-escpos printer object through ``_raw``).

Commands emitted (Epson ESC/POS; the Brazilian families below accept them in ESC/POS mode):

=====================  =====================  ==========================================
``ESC @``              ``1B 40``              initialize (start of every copy)
``ESC t n``            ``1B 74 n``            code page: CP850 = 2, CP860 = 3
``ESC M 0``            ``1B 4D 00``           font A (12x24: 48 columns on 576 dots)
``ESC p m t1 t2``      ``1B 70 m 32 32``      drawer kick: pin 2 -> m = 0, pin 5 -> m = 1
``ESC E n``            ``1B 45 n``            bold on/off
``GS ! n``             ``1D 21 n``            size: 00 normal, 01 double height, 11 double
``ESC a n``            ``1B 61 n``            alignment (only around the QR code)
``GS ( k``             ``1D 28 6B ...``       native QR: model 2, module size, EC M, store, print
``GS v 0``             ``1D 76 30 00 ...``    raster image (QR fallback for models without GS ( k)
``GS V 66 0``          ``1D 56 42 00``        feed to the cutter and partial cut
``ESC d n``            ``1B 64 n``            feed n lines (models without a cutter)
``DLE EOT 4``          ``10 04 04``           roll paper sensor status (see printers.py)
=====================  =====================  ==========================================

The code page numbers are the Epson table (``ESC t 2`` PC850 Multilingual, ``ESC t 3`` PC860
Portuguese), the same as python-escpos' capability profiles for the TM-T20II and its ``default``
profile. Text is encoded here with Python's ``cp850``/``cp860`` codecs (never python-escpos'
"magic" encoder, which may switch code pages mid-line); a character the code page lacks is
transliterated (``—`` -> ``-``, accents dropped) instead of printing garbage.

Text is laid out by :func:`~pos_app.core.printing.receipt.build_layout`: every block is already
wrapped to the column count, alignment is done with spaces (so the column count is the only
geometry that matters), and ``GS !``/``ESC E`` only change how a line looks.
"""

from __future__ import annotations

import functools
import statistics
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import qrcode
import qrcode.constants
import qrcode.util

from .pdf import _qr_matrix as _pdf_qr_matrix
from .receipt import (
    Block,
    Columns,
    Cut,
    ItemLine,
    QRCode,
    ReceiptData,
    Separator,
    Size,
    Spacer,
    Text,
    block_lines,
    build_layout,
)

__all__ = [
    "BENCH_BUDGET_MS",
    "CODE_PAGES",
    "DEFAULT_PROFILE",
    "PROFILES",
    "PrinterProfile",
    "bench_render_ms",
    "drawer_kick",
    "encode_text",
    "qr_module_size",
    "render_layouts",
    "render_receipts",
    "resolve_profile",
]

ESC = b"\x1b"
GS = b"\x1d"
LF = b"\n"

INIT = ESC + b"@"
FONT_A = ESC + b"M\x00"
BOLD = {False: ESC + b"E\x00", True: ESC + b"E\x01"}
SIZE: dict[Size, bytes] = {"normal": GS + b"!\x00", "tall": GS + b"!\x01", "double": GS + b"!\x11"}
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
CUT = GS + b"VB\x00"  # GS V 66 0: function B, feed to the cutting position, partial cut
RASTER = GS + b"v0\x00"  # GS v 0, m = 0 (normal density)

# Epson "ESC t n" numbers; python-escpos capabilities.json: TM-T20II / default {2: CP850, 3: CP860}.
CODE_PAGES: dict[str, int] = {"cp850": 2, "cp860": 3}

# ESC p m t1 t2: python-escpos CD_KICK_2 / CD_KICK_5 (pulse on 100 ms, off 100 ms).
_DRAWER_PIN = {2: 0, 5: 1}
_DRAWER_ON, _DRAWER_OFF = 50, 50

_QR_EC = {"L": 48, "M": 49, "Q": 50, "H": 51}  # GS ( k fn 69 (n = '0'..'3')
_QR_TARGET_DOTS = 320  # ~40 mm at 203 dpi: the largest side we aim for
_QR_MIN_MODULE, _QR_MAX_MODULE = 3, 8  # dots per module (3 dots ~ 0.375 mm: still reads well)
_RASTER_BAND = 256  # rows per GS v 0 command (small buffers on cheap printers)
_TEAR_FEED = 4  # lines fed after a copy on printers without a cutter


@dataclass(frozen=True)
class PrinterProfile:
    """What the renderer needs to know about a printer family."""

    key: str
    name: str
    columns: int  # font A characters per line
    dots: int  # printable width in dots (203 dpi)
    native_qr: bool  # understands GS ( k; otherwise the QR code goes as a raster image
    cutter: bool = True  # has an autocutter (GS V); otherwise paper is fed to the tear bar
    paper_mm: int = 80
    code_pages: Mapping[str, int] = field(default_factory=lambda: dict(CODE_PAGES))

    def dots_for(self, columns: int) -> int:
        """Printable width used for ``columns`` characters (a 48-column printer set to 42 columns
        uses 42/48 of its width, never more), rounded down to whole bytes."""
        if columns >= self.columns:
            return self.dots - self.dots % 8
        dots = self.dots * columns // self.columns
        return dots - dots % 8


PROFILES: dict[str, PrinterProfile] = {
    p.key: p
    for p in [
        PrinterProfile("epson_tm_t20", "Epson TM-T20 (80 mm)", 48, 576, native_qr=True),
        PrinterProfile("elgin_i9", "Elgin i9 (80 mm)", 48, 576, native_qr=True),
        # ESC/POS mode (not the Bematech native "ESC/Bema" mode, whose ESC t numbers differ: 860 = 4)
        PrinterProfile("bematech_mp4200", "Bematech MP-4200 TH (modo ESC/POS)", 48, 576, native_qr=True),
        # Daruma's QR command is proprietary: send the QR code as an image
        PrinterProfile("daruma_dr800", "Daruma DR800 (modo ESC/POS)", 48, 576, native_qr=False),
        PrinterProfile("generico_80", "Genérica 80 mm, 48 colunas", 48, 576, native_qr=True),
        PrinterProfile("generico_80_42", "Genérica 80 mm, 42 colunas", 42, 512, native_qr=True),
        PrinterProfile(
            "generico_58", "Genérica 58 mm, 32 colunas", 32, 384, native_qr=False, cutter=False, paper_mm=58
        ),
    ]
}
DEFAULT_PROFILE = PROFILES["generico_80"]


def resolve_profile(
    modelo: str | None = None, columns: int | None = None, largura_mm: int | None = None
) -> tuple[PrinterProfile, int]:
    """(profile, columns) from the settings ``impressora.modelo``, ``impressora.colunas`` (only when
    set explicitly) and ``impressora.largura_mm``.

    ``modelo`` "auto"/None picks a generic profile from the width and columns. Explicit columns may
    only reduce the profile's (a 48-column printer can print 42-column receipts, not the reverse).
    """
    if modelo and modelo != "auto":
        if modelo not in PROFILES:
            raise ValueError(f"Modelo de impressora desconhecido: {modelo}")
        profile = PROFILES[modelo]
    elif largura_mm == 58 or columns == 32:
        profile = PROFILES["generico_58"]
    elif columns == 42:
        profile = PROFILES["generico_80_42"]
    else:
        profile = DEFAULT_PROFILE
    cols = profile.columns if columns is None else min(columns, profile.columns)
    return profile, cols


# --------------------------------------------------------------------------- text


_NBSP = "\u00a0"
_FALLBACK = {"—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "*", "€": "EUR"}


@functools.lru_cache(maxsize=4096)
def _fallback_char(ch: str, codec: str) -> bytes:
    try:
        return ch.encode(codec)
    except UnicodeEncodeError:
        pass
    if ch in _FALLBACK:
        return _FALLBACK[ch].encode(codec, errors="replace")
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base.encode(codec, errors="replace") if base else b"?"


def encode_text(text: str, code_page: str = "cp850") -> bytes:
    """``text`` in the printer's code page; characters it lacks are transliterated (``—`` -> ``-``)."""
    text = text.replace(_NBSP, " ")
    try:
        return text.encode(code_page)
    except UnicodeEncodeError:
        return b"".join(_fallback_char(ch, code_page) for ch in text)


def drawer_kick(pin: int) -> bytes:
    """``ESC p m t1 t2``: pulse on drawer connector pin 2 (m = 0) or pin 5 (m = 1)."""
    if pin not in _DRAWER_PIN:
        raise ValueError("Pino da gaveta deve ser 2 ou 5.")
    return ESC + b"p" + bytes((_DRAWER_PIN[pin], _DRAWER_ON, _DRAWER_OFF))


def select_code_page(code_page: str, profile: PrinterProfile = DEFAULT_PROFILE) -> bytes:
    try:
        return ESC + b"t" + bytes((profile.code_pages[code_page],))
    except KeyError:
        raise ValueError(f"Página de código não suportada: {code_page} (use cp850 ou cp860)") from None


# --------------------------------------------------------------------------- QR code

_EC_CONST = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


@functools.lru_cache(maxsize=256)
def qr_modules(data_len: int, ec: str = "M") -> int:
    """Modules per side of the smallest QR version holding ``data_len`` bytes (byte mode)."""
    limits = qrcode.util.BIT_LIMIT_TABLE[_EC_CONST[ec]]
    for version in range(1, 41):
        count_bits = 8 if version <= 9 else 16
        if 4 + count_bits + 8 * data_len <= limits[version]:
            return 17 + 4 * version
    raise ValueError("Conteúdo grande demais para um QR Code.")


def qr_module_size(modules: int, width_dots: int) -> int:
    """Dots per module: the QR code about 35-40 mm wide, never wider than the paper."""
    target = min(_QR_TARGET_DOTS, width_dots - 32)
    size = max(_QR_MIN_MODULE, min(_QR_MAX_MODULE, target // modules))
    while size > 1 and size * modules > width_dots:
        size -= 1
    return size


def _gs_k(fn: bytes, payload: bytes) -> bytes:
    """``GS ( k pL pH cn fn payload`` with cn = 49 ('1', QR code)."""
    n = len(payload) + 2
    return GS + b"(k" + bytes((n & 0xFF, n >> 8)) + b"1" + fn + payload


def qr_native(data: bytes, module: int, ec: str = "M") -> bytes:
    """Native QR: model 2 (fn 65), module size (fn 67), error correction (fn 69), store (fn 80), print (fn 81)."""
    return (
        _gs_k(b"A", b"2\x00")
        + _gs_k(b"C", bytes((module,)))
        + _gs_k(b"E", bytes((_QR_EC[ec],)))
        + _gs_k(b"P", b"0" + data)
        + _gs_k(b"Q", b"0")
    )


# The QR matrix (raster fallback) is shared with the PDF renderer: same content, same error correction,
# one cache. At checkout the PDF is drawn first, so the thermal copy finds the matrix ready.
_qr_matrix = _pdf_qr_matrix


def qr_raster(data: str, ec: str, width_dots: int) -> bytes:
    """The QR code as ``GS v 0`` raster bands, centred on a ``width_dots`` wide line."""
    matrix = _qr_matrix(data, ec)
    n = len(matrix)
    module = qr_module_size(n, width_dots)
    width_bytes = width_dots // 8
    left = (width_dots - n * module) // 2
    rows: list[bytes] = []
    block = (1 << module) - 1
    for row in matrix:
        bits = 0
        for col, dark in enumerate(row):
            if dark:
                # dot x is bit (width_dots - 1 - x) of a big-endian integer of width_dots bits
                bits |= block << (width_dots - left - (col + 1) * module)
        line = bits.to_bytes(width_bytes, "big")
        rows.extend([line] * module)
    out = bytearray()
    for start in range(0, len(rows), _RASTER_BAND):
        band = rows[start : start + _RASTER_BAND]
        out += RASTER + bytes((width_bytes & 0xFF, width_bytes >> 8, len(band) & 0xFF, len(band) >> 8))
        out += b"".join(band)
    return bytes(out)


# --------------------------------------------------------------------------- rendering


class _Writer:
    __slots__ = ("bold", "code_page", "columns", "out", "profile", "size", "width_dots")

    def __init__(self, profile: PrinterProfile, columns: int, code_page: str) -> None:
        self.profile = profile
        self.columns = columns
        self.code_page = code_page
        self.width_dots = profile.dots_for(columns)
        self.out = bytearray()
        self.bold = False
        self.size: Size = "normal"

    def start_copy(self, drawer_pin: int | None) -> None:
        self.out += INIT + select_code_page(self.code_page, self.profile) + FONT_A
        self.bold, self.size = False, "normal"
        if drawer_pin is not None:
            self.out += drawer_kick(drawer_pin)

    def style(self, bold: bool, size: Size) -> None:
        if bold != self.bold:
            self.out += BOLD[bold]
            self.bold = bold
        if size != self.size:
            self.out += SIZE[size]
            self.size = size

    def line(self, text: str, bold: bool = False, size: Size = "normal") -> None:
        self.style(bold, size)
        self.out += encode_text(text, self.code_page) + LF

    def block(self, block: Block) -> None:
        if isinstance(block, Text):
            self.line(block_lines(block, self.columns)[0], block.bold, block.size)
        elif isinstance(block, Columns):
            self.line(block.line(self.columns), block.bold, block.size)
        elif isinstance(block, ItemLine):
            for part in block.parts:
                self.block(part)
        elif isinstance(block, Separator):
            self.line(block.char * self.columns)
        elif isinstance(block, Spacer):
            self.style(False, "normal")
            self.out += LF * block.lines
        elif isinstance(block, QRCode):
            self.qr(block)
        elif isinstance(block, Cut):
            self.cut()

    def qr(self, block: QRCode) -> None:
        self.style(False, "normal")
        if self.profile.native_qr:
            data = block.data.encode("utf-8")
            module = qr_module_size(qr_modules(len(data), block.error_correction), self.width_dots)
            self.out += ALIGN_CENTER + qr_native(data, module, block.error_correction) + ALIGN_LEFT
        else:
            self.out += qr_raster(block.data, block.error_correction, self.width_dots)

    def cut(self) -> None:
        self.style(False, "normal")
        if self.profile.cutter:
            self.out += CUT
        else:
            self.out += ESC + b"d" + bytes((_TEAR_FEED,))


def render_layouts(
    pages: Sequence[Sequence[Block]],
    profile: PrinterProfile = DEFAULT_PROFILE,
    columns: int | None = None,
    code_page: str = "cp850",
    drawer_pin: int | None = None,
) -> bytes:
    """ESC/POS bytes of already built layouts (one per copy). ``columns`` must match the layouts."""
    w = _Writer(profile, columns or profile.columns, code_page)
    for i, blocks in enumerate(pages):
        w.start_copy(drawer_pin if i == 0 else None)
        for block in blocks:
            w.block(block)
        if not blocks or not isinstance(blocks[-1], Cut):
            w.cut()
    return bytes(w.out)


def render_receipts(
    copies: Sequence[ReceiptData],
    profile: PrinterProfile = DEFAULT_PROFILE,
    columns: int | None = None,
    code_page: str = "cp850",
    drawer_pin: int | None = None,
) -> bytes:
    """ESC/POS bytes of every copy, one after the other, a cut after each.

    ``drawer_pin`` (2 or 5) kicks the cash drawer at the start of the first copy, so it opens while
    the receipt prints.
    """
    if not copies:
        raise ValueError("Nenhuma via para imprimir.")
    cols = columns or profile.columns
    return render_layouts([build_layout(c, cols) for c in copies], profile, cols, code_page, drawer_pin)


# --------------------------------------------------------------------------- performance

BENCH_BUDGET_MS = 10.0


def bench_render_ms(runs: int = 30, profile: PrinterProfile = DEFAULT_PROFILE) -> float:
    """Median time (ms) to render one sample DANFCe (10 items, QR code) to ESC/POS bytes.

    Layout and encoding are measured every run; only the QR matrix of the raster fallback is cached
    per QR content (warmed by the first, unmeasured run).
    """
    from .sample import sample_receipt

    data = sample_receipt()
    render_receipts([data], profile)  # warm-up (imports, QR matrix cache for raster profiles)
    times: list[float] = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        render_receipts([data], profile)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
