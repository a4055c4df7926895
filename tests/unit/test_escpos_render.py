"""ESC/POS renderer: every kind of DANFCe, every printer family, commands asserted byte by byte.

The bytes are captured through python-escpos' ``Dummy`` printer and decoded by an independent
little ESC/POS interpreter below (printed lines with their size, QR payloads, cuts...), so the
assertions are about what the printer would do, not about how the renderer builds its output.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from escpos.printer import Dummy

from pos_app.core.printing import escpos
from pos_app.core.printing.escpos import PROFILES, PrinterProfile, render_receipts, resolve_profile
from pos_app.core.printing.receipt import ReceiptData, ReceiptPayment
from pos_app.core.printing.sample import sample_receipt

ESC, GS = 0x1B, 0x1D
INIT = b"\x1b@"
CUT = b"\x1dVB\x00"
QR_MODEL2 = b"\x1d(k\x04\x001A2\x00"
QR_EC_M = b"\x1d(k\x03\x001E1"
QR_PRINT = b"\x1d(k\x03\x001Q0"
RASTER = b"\x1dv0\x00"
KICK_PIN2 = b"\x1bp\x00\x32\x32"
KICK_PIN5 = b"\x1bp\x01\x32\x32"
CPF = "CPF 123.456.789-09"


# --------------------------------------------------------------------------- a tiny ESC/POS interpreter


@dataclass
class Line:
    raw: bytes
    bold: bool
    width: int  # GS ! width factor
    height: int

    def text(self, code_page: str) -> str:
        return self.raw.decode(code_page)

    @property
    def cells(self) -> int:
        return len(self.raw.rstrip(b" ")) * self.width


@dataclass
class Job:
    lines: list[Line] = field(default_factory=list)
    events: list[tuple[str, object]] = field(
        default_factory=list
    )  # ("init"|"codepage"|"qr"|"raster"|"cut"|...)

    def kinds(self) -> list[str]:
        return [k for k, _ in self.events]

    def texts(self, code_page: str = "cp850") -> list[str]:
        return [line.text(code_page) for line in self.lines]


def decode(data: bytes) -> Job:
    """Interpret the subset of ESC/POS our renderer may emit; fail on anything else."""
    job = Job()
    bold, width, height = False, 1, 1
    current = bytearray()
    qr_store: bytes | None = None
    qr_module = None
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0x0A:
            job.events.append(("line", len(job.lines)))
            job.lines.append(Line(bytes(current), bold, width, height))
            current.clear()
            i += 1
        elif b == ESC:
            cmd = data[i + 1]
            if cmd == ord("@"):
                job.events.append(("init", None))
                bold, width, height = False, 1, 1
                i += 2
            elif cmd == ord("t"):
                job.events.append(("codepage", data[i + 2]))
                i += 3
            elif cmd == ord("M"):
                job.events.append(("font", data[i + 2]))
                i += 3
            elif cmd == ord("E"):
                bold = bool(data[i + 2])
                i += 3
            elif cmd == ord("a"):
                job.events.append(("align", data[i + 2]))
                i += 3
            elif cmd == ord("d"):
                job.events.append(("feed", data[i + 2]))
                i += 3
            elif cmd == ord("p"):
                job.events.append(("drawer", tuple(data[i + 2 : i + 5])))
                i += 5
            else:
                raise AssertionError(f"unexpected ESC {cmd:#x} at {i}")
        elif b == GS:
            cmd = data[i + 1]
            if cmd == ord("!"):
                n = data[i + 2]
                width, height = (n >> 4) + 1, (n & 0x0F) + 1
                i += 3
            elif cmd == ord("V"):
                job.events.append(("cut", data[i + 2 : i + 4]))
                i += 4
            elif cmd == ord("(") and data[i + 2] == ord("k"):
                n = data[i + 3] | data[i + 4] << 8
                body = data[i + 5 : i + 5 + n]
                assert body[0:1] == b"1", "cn must be 49 (QR)"
                fn = body[1:2]
                if fn == b"C":
                    qr_module = body[2]
                elif fn == b"P":
                    assert body[2:3] == b"0"
                    qr_store = bytes(body[3:])
                elif fn == b"Q":
                    job.events.append(("qr", (qr_store, qr_module)))
                i += 5 + n
            elif cmd == ord("v") and data[i + 2] == ord("0"):
                xb = data[i + 4] | data[i + 5] << 8
                rows = data[i + 6] | data[i + 7] << 8
                job.events.append(("raster", (xb, rows, bytes(data[i + 8 : i + 8 + xb * rows]))))
                i += 8 + xb * rows
            else:
                raise AssertionError(f"unexpected GS {cmd:#x} at {i}")
        elif b < 0x20:
            raise AssertionError(f"unexpected control byte {b:#x} at {i}")
        else:
            current.append(b)
            i += 1
    assert not current, "text left without a line feed"
    return job


def through_dummy(data: bytes) -> bytes:
    """What a python-escpos printer object receives (the transport path used by printers.py)."""
    printer = Dummy()
    printer._raw(data)
    return printer.output


def render(
    copies: list[ReceiptData], profile: PrinterProfile = escpos.DEFAULT_PROFILE, **kw: object
) -> bytes:
    return through_dummy(render_receipts(copies, profile, **kw))  # type: ignore[arg-type]


def contingency_copies(**kw: object) -> list[ReceiptData]:
    consumer = sample_receipt(contingencia=True, via="Via Consumidor", **kw)  # type: ignore[arg-type]
    return [consumer, dataclasses.replace(consumer, via="Via Estabelecimento")]


def focus_contingency() -> ReceiptData:
    data = sample_receipt()
    return dataclasses.replace(
        data, focus_contingencia=True, pendente_autorizacao=True, protocolo=None, data_autorizacao=None
    )


def several_payments() -> ReceiptData:
    data = sample_receipt(consumidor_doc=CPF)
    pays = [
        ReceiptPayment("PIX", Decimal("30.00")),
        ReceiptPayment("Cartão de crédito", Decimal("50.00")),
        ReceiptPayment("Dinheiro", Decimal("200.00")),
    ]
    total = sum((p.valor for p in pays), Decimal(0))
    return dataclasses.replace(data, pagamentos=pays, troco=total - data.valor_total)


KINDS = {
    "online": lambda: [sample_receipt()],
    "contingencia_2_vias": contingency_copies,
    "contingencia_focus": lambda: [focus_contingency()],
    "com_cpf": lambda: [sample_receipt(consumidor_doc=CPF)],
    "pagamentos_e_troco": lambda: [several_payments()],
    "sem_qrcode": lambda: [sample_receipt(contingencia=True, with_qrcode=False)],
    "desconto": lambda: [sample_receipt(desconto_item=Decimal("2.50"))],
}


# --------------------------------------------------------------------------- commands


def test_command_bytes_are_the_documented_ones() -> None:
    assert escpos.INIT == b"\x1b\x40"
    assert escpos.select_code_page("cp850") == b"\x1b\x74\x02"
    assert escpos.select_code_page("cp860") == b"\x1b\x74\x03"
    assert escpos.drawer_kick(2) == KICK_PIN2 == b"\x1b\x70\x00\x32\x32"
    assert escpos.drawer_kick(5) == KICK_PIN5 == b"\x1b\x70\x01\x32\x32"
    assert escpos.SIZE == {"normal": b"\x1d\x21\x00", "tall": b"\x1d\x21\x01", "double": b"\x1d\x21\x11"}
    assert escpos.CUT == b"\x1d\x56\x42\x00"
    with pytest.raises(ValueError):
        escpos.drawer_kick(3)
    with pytest.raises(ValueError):
        escpos.select_code_page("cp1252")


def test_code_page_numbers_match_python_escpos_capabilities() -> None:
    """ESC t n numbers against python-escpos' capability database (Epson TM-T20II and default)."""
    from escpos.capabilities import get_profile

    for name in ("TM-T20II", "default"):
        pages = get_profile(name).profile_data["codePages"]
        assert pages[str(escpos.CODE_PAGES["cp850"])] == "CP850"
        assert pages[str(escpos.CODE_PAGES["cp860"])] == "CP860"


def test_native_qr_sequence_matches_python_escpos() -> None:
    """Our GS ( k sequence is byte-identical to python-escpos' native QR (model 2, EC M)."""
    from escpos.constants import QR_ECLEVEL_M

    url = "http://www.fazenda.pr.gov.br/nfce/qrcode?p=41250307504505000132650010000013051518178224|3|2"
    ref = Dummy()
    ref.qr(url, ec=QR_ECLEVEL_M, size=5, native=True)
    assert escpos.qr_native(url.encode(), 5, "M") == ref.output


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("profile_key", sorted(PROFILES))
def test_every_receipt_on_every_family(kind: str, profile_key: str) -> None:
    profile = PROFILES[profile_key]
    copies = KINDS[kind]()
    data = render(copies, profile, drawer_pin=2)
    job = decode(data)
    kinds = job.kinds()
    # one initialization (ESC @ + ESC t 2 + ESC M 0) per copy, the drawer kick only once
    assert data.startswith(INIT + b"\x1bt\x02\x1bM\x00" + KICK_PIN2)
    assert kinds.count("init") == len(copies)
    assert [v for k, v in job.events if k == "codepage"] == [2] * len(copies)
    assert kinds.count("drawer") == 1
    # a cut (or a tear-off feed) closes every copy, and nothing is printed after the last one
    closing = "cut" if profile.cutter else "feed"
    assert kinds.count(closing) == len(copies)
    assert kinds[-1] == closing
    if profile.cutter:
        assert data.endswith(CUT)
        assert data.count(CUT) == len(copies)
    else:
        assert CUT not in data and data.endswith(b"\x1bd\x04")
    # QR: native GS ( k where supported, raster GS v 0 otherwise
    with_qr = sum(1 for c in copies if c.qrcode_url)
    if profile.native_qr:
        assert kinds.count("qr") == with_qr and RASTER not in data
        if with_qr:
            assert QR_MODEL2 in data and QR_EC_M in data and QR_PRINT in data
    else:
        assert "qr" not in kinds and b"\x1d(k" not in data
        assert (kinds.count("raster") > 0) == bool(with_qr)
    # no printed line wider than the paper
    for line in job.lines:
        assert line.cells <= profile.columns, line


@pytest.mark.parametrize("columns", [48, 42, 32])
def test_no_line_exceeds_the_columns(columns: int) -> None:
    profile, cols = resolve_profile("generico_80", columns)
    assert cols == columns
    long_name = dataclasses.replace(
        sample_receipt(consumidor_doc=CPF, n_items=25),
        mensagem_extra="Troca somente com este cupom em até 30 dias — obrigado pela preferência!",
    )
    for copies in ([long_name], contingency_copies(consumidor_doc=CPF)):
        job = decode(render(copies, profile, columns=columns))
        assert job.lines
        widest = max(line.cells for line in job.lines)
        assert widest <= columns
        assert widest >= columns - 2  # separators use the whole width


def test_contingency_prints_two_copies_with_a_cut_between() -> None:
    data = render(contingency_copies())
    first, second = data.split(CUT)[:2]
    assert first.startswith(INIT) and second.startswith(INIT)
    t1 = " ".join(" ".join(decode(first + CUT).texts()).split())
    t2 = " ".join(" ".join(decode(second + CUT).texts()).split())
    assert "Via Consumidor" in t1 and "Via Estabelecimento" not in t1
    assert "Via Estabelecimento" in t2 and "Via Consumidor" not in t2
    for text in (t1, t2):
        assert "EMITIDA EM CONTINGÊNCIA" in text
        assert "Pendente de autorização" in text


def test_focus_side_contingency_is_marked() -> None:
    text = " ".join(decode(render([focus_contingency()])).texts())
    assert "EMITIDA EM CONTINGÊNCIA" in text
    assert "Protocolo de autorização" not in text


def test_cpf_payments_and_troco() -> None:
    data = several_payments()
    text = "\n".join(decode(render([data])).texts())
    assert "CONSUMIDOR - CPF 123.456.789-09" in text
    for label in ("PIX", "Cartão de crédito", "Dinheiro", "Troco R$"):
        assert label in text
    assert escpos.encode_text("Cartão de crédito") in render([data])


def test_bold_and_tall_totals() -> None:
    job = decode(render([sample_receipt()]))
    total = next(line for line in job.lines if line.text("cp850").startswith("Valor a pagar"))
    assert total.bold and total.height == 2 and total.width == 1
    assert b"\x1bE\x01" in render([sample_receipt()]) and b"\x1d!\x01" in render([sample_receipt()])
    # "double" (GS ! 0x11): twice as wide, so half as many characters fit
    double_line = escpos._Writer(escpos.DEFAULT_PROFILE, 48, "cp850")
    double_line.line("TOTAL", bold=True, size="double")
    assert bytes(double_line.out) == b"\x1bE\x01\x1d!\x11TOTAL\n"


# --------------------------------------------------------------------------- accents


@pytest.mark.parametrize(
    ("code_page", "expected"),
    [
        ("cp850", {"Ç": 0x80, "Ã": 0xC7, "Ê": 0xD2, "Õ": 0xE5, "ç": 0x87, "ã": 0xC6, "é": 0x82, "º": 0xA7}),
        ("cp860", {"Ç": 0x80, "Ã": 0x8E, "Ê": 0x89, "Õ": 0x99, "ç": 0x87, "ã": 0x84, "é": 0x82, "º": 0xA7}),
    ],
)
def test_accents_through_the_code_page(code_page: str, expected: dict[str, int]) -> None:
    for ch, byte in expected.items():
        assert escpos.encode_text(ch, code_page) == bytes([byte]), ch
    data = render([sample_receipt()], code_page=code_page)
    assert data.startswith(INIT + bytes([0x1B, 0x74, escpos.CODE_PAGES[code_page]]))
    text = "\n".join(decode(data).texts(code_page))
    for word in (
        "FEIJÃO",
        "AÇÚCAR",
        "PÃO FRANCÊS",
        "Eletrônica",
        "crédito",
        "NFC-e nº",
        "Série",
        "HOMOLOGAÇÃO",
    ):
        assert word in text, word
    assert "?" not in text.replace("?p=", "")


def test_characters_missing_from_the_code_page_are_transliterated() -> None:
    assert escpos.encode_text("A — B “c” …", "cp850") == b'A - B "c" ...'
    assert escpos.encode_text("Ŵ€", "cp850") == b"WEUR"
    assert escpos.encode_text("a\u00a0b") == b"a b"


# --------------------------------------------------------------------------- drawer


def test_drawer_kick_pins() -> None:
    assert KICK_PIN2 in render([sample_receipt()], drawer_pin=2)
    assert KICK_PIN5 in render([sample_receipt()], drawer_pin=5)
    assert b"\x1bp" not in render([sample_receipt()])
    assert render(contingency_copies(), drawer_pin=5).count(KICK_PIN5) == 1


# --------------------------------------------------------------------------- QR


def test_native_qr_carries_the_url_with_a_readable_module_size() -> None:
    data = sample_receipt(contingencia=True)
    job = decode(render([data]))
    ((stored, module),) = [v for k, v in job.events if k == "qr"]  # type: ignore[misc]
    assert stored == data.qrcode_url.encode()  # type: ignore[union-attr]
    assert 3 <= module <= 8
    # centred, then back to the left
    i = job.kinds().index("qr")
    assert job.events[i - 1] == ("align", 1) or ("align", 1) in job.events[:i]
    assert ("align", 0) in job.events[i:]


@pytest.mark.parametrize("length", [60, 120, 420, 900])
def test_qr_module_estimate_matches_the_real_symbol(length: int) -> None:
    """Byte mode (what the estimate assumes) is exact for text; digit runs may make the real symbol
    smaller (mixed modes), never larger: the module size chosen always fits."""
    text = ("http://www.fazenda.pr.gov.br/nfce/qrcode?p=" + "abc|" * length)[:length]
    assert escpos.qr_modules(len(text)) == len(escpos._qr_matrix(text, "M"))
    digits = ("http://www.fazenda.pr.gov.br/nfce/qrcode?p=" + "9" * length)[:length]
    assert escpos.qr_modules(len(digits)) >= len(escpos._qr_matrix(digits, "M"))


@pytest.mark.parametrize("contingencia", [False, True])
def test_qr_module_estimate_for_real_danfce_urls(contingencia: bool) -> None:
    url = sample_receipt(contingencia=contingencia).qrcode_url
    assert url is not None
    assert 0 <= escpos.qr_modules(len(url)) - len(escpos._qr_matrix(url, "M")) <= 8  # at most 2 versions


def _raster_image(job: Job) -> tuple[int, list[bytes]]:
    bands = [v for k, v in job.events if k == "raster"]
    width_bytes = bands[0][0]  # type: ignore[index]
    rows: list[bytes] = []
    for xb, n, payload in bands:  # type: ignore[misc]
        assert xb == width_bytes
        rows += [payload[r * xb : (r + 1) * xb] for r in range(n)]
    return width_bytes, rows


@pytest.mark.parametrize("profile_key", ["generico_58", "daruma_dr800"])
def test_raster_fallback_fits_the_paper_and_decodes(profile_key: str, tmp_path: Path) -> None:
    profile = PROFILES[profile_key]
    data = sample_receipt(contingencia=True)  # the long v3 offline URL: the largest symbol
    width_bytes, rows = _raster_image(decode(render([data], profile)))
    assert width_bytes * 8 == profile.dots_for(profile.columns) <= profile.dots
    assert 200 <= len(rows) <= 400  # about 25-50 mm tall
    if shutil.which("zbarimg") is None:
        pytest.skip("zbarimg (zbar-tools) missing: raster QR not decoded")
    from PIL import Image

    img = Image.new("1", (width_bytes * 8 + 64, len(rows) + 64), 1)
    for y, row in enumerate(rows):
        bits = int.from_bytes(row, "big")
        for x in range(width_bytes * 8):
            if bits >> (width_bytes * 8 - 1 - x) & 1:
                img.putpixel((x + 32, y + 32), 0)
    png = tmp_path / "raster.png"
    img.save(png)
    out = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True).stdout.decode().strip()
    assert out == data.qrcode_url


# --------------------------------------------------------------------------- profiles and speed


def test_profiles_of_the_families() -> None:
    assert {"epson_tm_t20", "elgin_i9", "bematech_mp4200", "daruma_dr800", "generico_58"} <= set(PROFILES)
    assert PROFILES["epson_tm_t20"].native_qr and PROFILES["epson_tm_t20"].columns == 48
    assert PROFILES["generico_58"].columns == 32 and not PROFILES["generico_58"].native_qr
    assert PROFILES["generico_80_42"].columns == 42
    assert resolve_profile("auto", None, 58)[0].key == "generico_58"
    assert resolve_profile("auto", 42, 80) == (PROFILES["generico_80_42"], 42)
    assert resolve_profile(None, None, 80) == (PROFILES["generico_80"], 48)
    assert resolve_profile("epson_tm_t20", 42, 80) == (PROFILES["epson_tm_t20"], 42)
    assert resolve_profile("generico_58", 48, 58) == (PROFILES["generico_58"], 32)  # never wider
    with pytest.raises(ValueError):
        resolve_profile("nao_existe")


def test_config_choices_match_the_profiles() -> None:
    from pos_app.core.config import KEYS

    KEYS["impressora.modelo"].check("auto")
    for key in PROFILES:
        assert KEYS["impressora.modelo"].check(key) == key


def test_escpos_ms_budget() -> None:
    ms = escpos.bench_render_ms(runs=15)
    assert ms <= escpos.BENCH_BUDGET_MS, f"{ms:.2f} ms"


def test_alphanumeric_cnpj_key_and_qr_on_the_thermal_receipt() -> None:
    """Emitter and consumer with alphanumeric CNPJs, a key with letters: printed as they are."""
    from pos_app.core.fiscal.chave import build_chave, format_chave

    key = build_chave("SP", sample_receipt().data_emissao, "A1B2C3D4000193", 600, 3, 9, 12345678)
    base = sample_receipt(contingencia=True, consumidor_doc="CNPJ 12.ABC.345/01DE-35")
    data = dataclasses.replace(
        base,
        chave=key,
        emitente=dataclasses.replace(base.emitente, cnpj="A1B2C3D4000193"),
        qrcode_url=f"https://www.homologacao.nfce.fazenda.sp.gov.br/qrcode?p={key}|3|2|02|10.00|1|12ABC34501DE35|c2ln",
    )
    job = decode(render([data]))
    text = "\n".join(job.texts())
    assert "CNPJ: A1.B2C.3D4/0001-93" in text
    assert format_chave(key) in text.replace("\n", " ") or all(g in text for g in format_chave(key).split())
    assert "CONSUMIDOR - CNPJ 12.ABC.345/01DE-35" in text.replace("\xa0", " ")
    ((stored, _module),) = [v for k, v in job.events if k == "qr"]  # type: ignore[misc]
    assert stored == data.qrcode_url.encode()
