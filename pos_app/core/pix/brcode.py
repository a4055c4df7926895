"""BR Code (EMV QRCPS merchant-presented mode) for PIX: build, decode and check.

A static BR Code carries the store's key (ID 26, sub-ID 01) and, optionally, the amount; a
dynamic one (built by the PSP, read here) carries the charge's location URL (sub-ID 25). The last
field is always ``6304`` + CRC16-CCITT-FALSE (poly 0x1021, init 0xFFFF) over everything before
it, ``6304`` included, in 4 upper-case hex digits.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from pos_app.core.domain.validators import is_valid_cnpj, is_valid_cpf, only_digits

GUI = "br.gov.bcb.pix"
MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25


class BrCodeError(ValueError):
    """An invalid BR Code or key; the message is Portuguese."""


def crc16(data: str) -> str:
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise BrCodeError(f"campo {tag} com mais de 99 caracteres")
    return f"{tag}{len(value):02d}{value}"


def ascii_upper(text: str, limit: int) -> str:
    """Names and cities go without accents (the payer's app shows them as they are)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r"[^A-Za-z0-9 .,\-/&]", "", " ".join(plain.split()))
    return plain[:limit].strip().upper()


# -- PIX keys -------------------------------------------------------------------------------
def normalize_key(value: str) -> str:
    """A PIX key as the DICT stores it: CPF/CNPJ digits, e-mail lower case, ``+55...``, EVP UUID."""
    v = value.strip()
    if not v:
        raise BrCodeError("chave PIX em branco")
    if "@" in v:
        if len(v) > 77 or not re.fullmatch(
            r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+", v
        ):
            raise BrCodeError(f"e-mail inválido como chave PIX: {value}")
        return v.lower()
    if v.startswith("+"):
        digits = only_digits(v)
        if not re.fullmatch(r"\+[\d ()\-]+", v) or not re.fullmatch(r"55\d{10,11}", digits):
            raise BrCodeError(f"telefone inválido como chave PIX (use +55 DDD número): {value}")
        return "+" + digits
    if not re.fullmatch(r"[0-9a-fA-F-]{32,36}", v):
        return _doc_key(v)
    try:
        return str(uuid.UUID(v))
    except ValueError as exc:
        raise BrCodeError(f"chave aleatória (EVP) inválida: {value}") from exc


def _doc_key(v: str) -> str:
    if not re.fullmatch(r"[\d.\-/ ]+", v):
        raise BrCodeError(f"chave PIX inválida: {v} (use CPF, CNPJ, e-mail, +55 telefone ou chave aleatória)")
    digits = only_digits(v)
    if len(digits) == 11 and is_valid_cpf(digits):
        return digits
    if len(digits) == 14 and is_valid_cnpj(digits):
        return digits
    if len(digits) in (10, 11):
        raise BrCodeError(f"CPF inválido como chave PIX: {v} (telefone: use +55 DDD número)")
    raise BrCodeError(f"CPF/CNPJ inválido como chave PIX: {v}")


# -- build ----------------------------------------------------------------------------------
def build_static(
    chave: str,
    nome: str,
    cidade: str,
    valor: Decimal | None = None,
    txid: str = "***",
    descricao: str | None = None,
) -> str:
    """The static BR Code of the store's key, with the sale's amount when given."""
    key = normalize_key(chave)
    if txid != "***" and not re.fullmatch(r"[A-Za-z0-9]{1,25}", txid):
        raise BrCodeError("txid do QR estático: de 1 a 25 letras ou dígitos")
    account = _field("00", GUI) + _field("01", key)
    if descricao:
        account += _field("02", ascii_upper(descricao, 99 - len(account) - 4))
    return _assemble(account, nome, cidade, valor, txid, "11")


def build_dynamic(location: str, nome: str, cidade: str, valor: Decimal | None = None) -> str:
    """The BR Code of a charge (what a PSP answers as ``pixCopiaECola``)."""
    account = _field("00", GUI) + _field("25", location)
    return _assemble(account, nome, cidade, valor, "***", "12")


def _assemble(account: str, nome: str, cidade: str, valor: Decimal | None, txid: str, initiation: str) -> str:
    name = ascii_upper(nome, MAX_NAME)
    city = ascii_upper(cidade, MAX_CITY)
    if not name or not city:
        raise BrCodeError("nome e cidade do recebedor são obrigatórios no QR PIX")
    parts = [
        _field("00", "01"),
        _field("01", initiation),
        _field("26", account),
        _field("52", "0000"),
        _field("53", "986"),
    ]
    if valor is not None:
        if valor <= 0 or valor.as_tuple().exponent < -2:  # type: ignore[operator]
            raise BrCodeError("valor do QR PIX deve ser positivo, com até 2 casas")
        parts.append(_field("54", f"{valor:.2f}"))
    parts += [_field("58", "BR"), _field("59", name), _field("60", city), _field("62", _field("05", txid))]
    body = "".join(parts) + "6304"
    return body + crc16(body)


# -- decode ---------------------------------------------------------------------------------
@dataclass
class BrCode:
    fields: dict[str, str]
    account: dict[str, str] = field(default_factory=dict)
    additional: dict[str, str] = field(default_factory=dict)

    @property
    def chave(self) -> str | None:
        return self.account.get("01")

    @property
    def location(self) -> str | None:
        return self.account.get("25")

    @property
    def valor(self) -> Decimal | None:
        return Decimal(self.fields["54"]) if "54" in self.fields else None

    @property
    def nome(self) -> str:
        return self.fields.get("59", "")

    @property
    def cidade(self) -> str:
        return self.fields.get("60", "")

    @property
    def txid(self) -> str | None:
        return self.additional.get("05")

    @property
    def dinamico(self) -> bool:
        return self.location is not None


def _tlv(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        if i + 4 > len(text) or not text[i : i + 4].isdigit():
            raise BrCodeError(f"BR Code malformado em {where} (posição {i})")
        tag, size = text[i : i + 2], int(text[i + 2 : i + 4])
        value = text[i + 4 : i + 4 + size]
        if len(value) != size:
            raise BrCodeError(f"campo {where}{tag}: tamanho declarado {size}, encontrado {len(value)}")
        out[tag] = value
        i += 4 + size
    return out


def decode(code: str) -> BrCode:
    """Parse and check a BR Code: CRC, lengths and the fields PIX requires."""
    code = code.strip()
    if len(code) < 8 or code[-8:-4] != "6304":
        raise BrCodeError("BR Code sem CRC (campo 63) no final")
    if crc16(code[:-4]) != code[-4:].upper():
        raise BrCodeError(f"CRC do BR Code não confere (esperado {crc16(code[:-4])}, lido {code[-4:]})")
    fields = _tlv(code, "")
    if fields.get("00") != "01":
        raise BrCodeError("campo 00 (formato do payload) deve ser 01")
    account = _tlv(fields.get("26", ""), "26.")
    if account.get("00", "").lower() != GUI:
        raise BrCodeError("campo 26 sem o GUI br.gov.bcb.pix")
    if ("01" in account) == ("25" in account):
        raise BrCodeError("campo 26 deve ter a chave (01) ou a URL da cobrança (25)")
    if "01" in account:
        normalize_key(account["01"])
    if fields.get("52") is None or fields.get("53") != "986" or fields.get("58") != "BR":
        raise BrCodeError("campos 52, 53 (986) e 58 (BR) são obrigatórios")
    if not 0 < len(fields.get("59", "")) <= MAX_NAME:
        raise BrCodeError(f"nome do recebedor (59) deve ter de 1 a {MAX_NAME} caracteres")
    if not 0 < len(fields.get("60", "")) <= MAX_CITY:
        raise BrCodeError(f"cidade (60) deve ter de 1 a {MAX_CITY} caracteres")
    if "54" in fields and not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", fields["54"]):
        raise BrCodeError(f"valor (54) inválido: {fields['54']}")
    additional = _tlv(fields.get("62", ""), "62.")
    txid = additional.get("05")
    if txid is None or not (txid == "***" or re.fullmatch(r"[A-Za-z0-9]{1,25}", txid)):
        raise BrCodeError("campo 62.05 (txid) deve ser *** ou de 1 a 25 letras/dígitos")
    return BrCode(fields, account, additional)
