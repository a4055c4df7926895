"""QR code content of the DANFCe (NFC-e): version 2 (CSC hash) and version 3 (NT 2025.001).

Which one to print:
- online note authorized through Focus: the ``qrcode_url`` the API returns;
- offline contingency note (tpEmis 9) printed by this terminal: :func:`qr_v3_offline`, signed with
  the company's A1 certificate. v2 offline needs the DigestValue of the signed XML, which only Focus
  has (it generates the XML on replay), so this terminal cannot print a valid v2 offline QR.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from pos_app.core.fiscal.chave import TP_EMIS_OFFLINE, is_chave_like, normalize_chave
from pos_app.core.fiscal.states import TP_AMB

Signer = Callable[[bytes], bytes]

TP_ID_DEST_CNPJ = "1"
TP_ID_DEST_CPF = "2"
TP_ID_DEST_ESTRANGEIRO = "3"

_TP_EMIS_INDEX = 34  # position of tpEmis in the 44-digit key


def qr_url(base_url: str, p: str) -> str:
    """``base_url?p=...``; ``&p=`` when the base URL already has a query string."""
    base = base_url.strip()
    if not base:
        raise ValueError("URL base do QR code não informada")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}p={p}"


def parse_qr_p(url: str) -> list[str]:
    """Fields of the ``p`` parameter of a QR code URL (or of a bare ``p`` value).

    Split by hand rather than with ``parse_qs``: base64 ``+`` must not turn into a space.
    """
    text = url.strip()
    value = text
    for marker in ("?p=", "&p="):
        position = text.find(marker)
        if position >= 0:
            value = text[position + len(marker) :]
            break
    value = value.split("&", 1)[0].split("#", 1)[0]
    return unquote(value).split("|")


def qr_hash_v2(p_without_hash: str, csc: str) -> str:
    """Uppercase hex SHA-1 of the v2 parameter (without its last field) followed by the CSC."""
    return hashlib.sha1((p_without_hash + csc).encode("utf-8")).hexdigest().upper()


def qr_v2_online(base_url: str, chave: str, tp_amb: int | str, id_csc: int | str, csc: str) -> str:
    """QR code v2 of an online note: ``chave|2|tpAmb|idCSC|HASH`` (idCSC without leading zeros)."""
    key = _chave(chave)
    csc_text = csc.strip()
    if not csc_text:
        raise ValueError("CSC não informado")
    p = f"{key}|2|{_tp_amb(tp_amb)}|{_id_csc(id_csc)}"
    return qr_url(base_url, f"{p}|{qr_hash_v2(p, csc_text)}")


def qr_v3_online(base_url: str, chave: str, tp_amb: int | str) -> str:
    """QR code v3 of an online note: ``chave|3|tpAmb`` (no CSC, no hash)."""
    return qr_url(base_url, f"{_chave(chave)}|3|{_tp_amb(tp_amb)}")


def qr_v3_offline(
    base_url: str,
    chave: str,
    tp_amb: int | str,
    data_emissao: date,
    valor_total: Decimal | int | str,
    dest_doc: str | None,
    signer: Signer,
    *,
    dest_estrangeiro: bool = False,
) -> str:
    """QR code v3 of an offline contingency note (tpEmis 9):
    ``chave|3|tpAmb|DD|vNF|tp_idDest|cDest|assinatura``.

    - ``data_emissao``: in the issuer's local time (DD is its day, as in dhEmi);
    - ``dest_doc``: consumer CPF (11 digits) or CNPJ (14), punctuation allowed; None when the
      consumer is not identified (both fields then stay empty, pipes kept);
    - ``dest_estrangeiro``: foreign consumer: tp_idDest 3 and an empty cDest (DANFCe/QR code
      manual 6.00, p. 30, as quoted by sped-nfe);
    - ``signer``: RSA-SHA1 PKCS#1 v1.5 with the company's A1 certificate, e.g.
      ``A1Certificate.sign_sha1``; it signs fields 1 to 7 joined by ``|``.
    """
    key = _chave(chave)
    if key[_TP_EMIS_INDEX] != str(TP_EMIS_OFFLINE):
        raise ValueError("QR code v3 offline é só para NFC-e emitida em contingência offline (tpEmis 9)")
    tp_id_dest, c_dest = _destinatario(dest_doc, dest_estrangeiro)
    fields = [
        key,
        "3",
        _tp_amb(tp_amb),
        f"{data_emissao.day:02d}",
        _valor(valor_total),
        tp_id_dest,
        c_dest,
    ]
    message = "|".join(fields)
    signature = base64.b64encode(signer(message.encode("ascii"))).decode("ascii")
    return qr_url(base_url, f"{message}|{signature}")


def verify_qr_v3_offline(url: str, public_key: rsa.RSAPublicKey) -> bool:
    """Re-check the signature of a v3 offline QR code against the certificate's public key."""
    fields = parse_qr_p(url)
    if len(fields) != 8 or fields[1] != "3":
        return False
    try:
        signature = base64.b64decode(fields[7], validate=True)
    except (binascii.Error, ValueError):
        return False
    message = "|".join(fields[:7]).encode("utf-8")
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA1())
    except InvalidSignature:
        return False
    return True


def _chave(chave: str) -> str:
    key = normalize_chave(chave)
    if not is_chave_like(key):
        raise ValueError("Chave de acesso deve ter 44 caracteres (letras só no CNPJ do emitente)")
    return key


def _tp_amb(tp_amb: int | str) -> str:
    if isinstance(tp_amb, str):
        text = tp_amb.strip()
        if text in TP_AMB:
            return str(TP_AMB[text])
        if text in ("1", "2"):
            return text
    elif not isinstance(tp_amb, bool) and tp_amb in (1, 2):
        return str(tp_amb)
    raise ValueError(f"tpAmb inválido: {tp_amb!r} (1 produção, 2 homologação)")


def _id_csc(id_csc: int | str) -> str:
    text = str(id_csc).strip()
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise ValueError(f"Identificador do CSC inválido: {id_csc!r}")
    return str(int(text))


def _valor(valor: Decimal | int | str) -> str:
    if isinstance(valor, float | bool):
        raise TypeError("Valor da nota deve ser Decimal, não float")
    try:
        amount = Decimal(valor).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        raise ValueError(f"Valor da nota inválido: {valor!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"Valor da nota inválido: {valor!r}")
    return f"{amount:.2f}"


def _destinatario(dest_doc: str | None, estrangeiro: bool) -> tuple[str, str]:
    if estrangeiro:
        return TP_ID_DEST_ESTRANGEIRO, ""
    if dest_doc is None or not dest_doc.strip():
        return "", ""
    document = "".join(char for char in dest_doc if char not in ". /-").upper()
    if len(document) == 11 and document.isascii() and document.isdigit():
        return TP_ID_DEST_CPF, document
    # 14 characters; the alphanumeric CNPJ (from 2026) keeps the two check digits numeric.
    if len(document) == 14 and document.isascii() and document.isalnum() and document[-2:].isdigit():
        return TP_ID_DEST_CNPJ, document
    raise ValueError("Documento do consumidor deve ser CPF (11 dígitos) ou CNPJ (14 caracteres)")
