"""A1 certificate (PKCS#12 .pfx/.p12) of the company: load it, read who it belongs to, sign with it.

The terminal needs it only to sign the QR code v3 of offline contingency notes. The password is
never stored in an attribute, logged or put in an exception message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from pos_app.core.errors import PosError

# ICP-Brasil otherName carrying the CNPJ of a legal-entity certificate (DOC-ICP-04).
OID_ICP_CNPJ = x509.ObjectIdentifier("2.16.76.1.3.3")

# DER prefix of every PKCS#12 PFX: SEQUENCE { INTEGER 3, SEQUENCE { OID pkcs7-data ...
_PFX_VERSION = bytes.fromhex("020103")
_PKCS7_DATA_OID = bytes.fromhex("06092a864886f70d010701")


class CertificateError(PosError):
    """A certificate problem, with a Portuguese message for the operator."""

    kind = "certificado"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class A1Certificate:
    subject_cn: str
    holder: str
    cnpj: str | None
    not_before: datetime
    not_after: datetime
    issuer: str
    serial_number: int
    certificate: x509.Certificate = field(repr=False, compare=False)
    _private_key: rsa.RSAPrivateKey = field(repr=False, compare=False)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._private_key.public_key()

    def days_left(self, now: datetime) -> int:
        """Whole days until expiry (negative once expired)."""
        return (self.not_after - _aware(now)) // timedelta(days=1)

    def expired(self, now: datetime) -> bool:
        return _aware(now) >= self.not_after

    def not_yet_valid(self, now: datetime) -> bool:
        return _aware(now) < self.not_before

    def sign_sha1(self, data: bytes) -> bytes:
        """RSA-SHA1 PKCS#1 v1.5 signature, as the NFC-e QR code v3 offline requires."""
        return self._private_key.sign(data, padding.PKCS1v15(), hashes.SHA1())


def load_a1(path: str | os.PathLike[str], password: str | bytes | None) -> A1Certificate:
    """Load an A1 certificate. Raises CertificateError (Portuguese message) when it cannot be used.

    An expired certificate loads fine: check ``expired(now)`` and warn the operator.
    """
    file_path = Path(path)
    try:
        data = file_path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"Arquivo do certificado não encontrado: {file_path}") from None
    except OSError as exc:
        # A folder: IsADirectoryError on Linux/macOS, PermissionError (access denied) on Windows.
        if isinstance(exc, IsADirectoryError) or file_path.is_dir():
            raise CertificateError(
                f"O caminho do certificado é uma pasta, não um arquivo: {file_path}"
            ) from None
        raise CertificateError(
            f"Não foi possível ler o arquivo do certificado: {file_path} ({exc.strerror or exc})"
        ) from None
    if not _looks_like_pkcs12(data):
        raise CertificateError(
            f"O arquivo não é um certificado A1 válido (PKCS#12, .pfx ou .p12): {file_path}"
        )
    key, cert = _decrypt(data, password, file_path)
    return _build(key, cert)


def _decrypt(
    data: bytes, password: str | bytes | None, file_path: Path
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    secret = password.encode("utf-8") if isinstance(password, str) else password
    # A PFX exported without password may be protected by an empty one or by none at all.
    attempts: list[bytes | None] = [secret] if secret else [None, b""]
    loaded = None
    for attempt in attempts:
        try:
            loaded = pkcs12.load_key_and_certificates(data, attempt)
            break
        except ValueError:
            continue
        except Exception:
            # Unsupported algorithms and the like: never echo the underlying text, it is not
            # for the operator, and say what to do.
            raise CertificateError(
                f"Não foi possível abrir o certificado {file_path}: formato não suportado. "
                "Exporte-o novamente como .pfx."
            ) from None
    if loaded is None:
        raise CertificateError("Senha do certificado incorreta")
    key, cert, _extra = loaded
    if key is None or cert is None:
        raise CertificateError(
            f"O arquivo do certificado não contém a chave privada e o certificado: {file_path}"
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("A chave do certificado não é RSA; o certificado A1 da ICP-Brasil usa RSA")
    return key, cert


def _build(key: rsa.RSAPrivateKey, cert: x509.Certificate) -> A1Certificate:
    subject_cn = _common_name(cert.subject)
    holder, cn_cnpj = _split_cn(subject_cn)
    cnpj = cn_cnpj or _cnpj_from_san(cert)
    return A1Certificate(
        subject_cn=subject_cn,
        holder=holder,
        cnpj=cnpj,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issuer=_common_name(cert.issuer) or cert.issuer.rfc4514_string(),
        serial_number=cert.serial_number,
        certificate=cert,
        _private_key=key,
    )


def _looks_like_pkcs12(data: bytes) -> bool:
    """Check the DER header of a PFX, to tell "not a PKCS#12" apart from "wrong password"."""
    if len(data) < 4 or data[0] != 0x30:
        return False
    length_byte = data[1]
    if length_byte <= 0x80:
        offset = 2  # short form, or BER indefinite length (0x80) used by some old exporters
    else:
        count = length_byte & 0x7F
        if count > 4:
            return False
        offset = 2 + count
    if data[offset : offset + 3] != _PFX_VERSION:
        return False
    content_info = data[offset + 3 :]
    if not content_info or content_info[0] != 0x30:
        return False
    return _PKCS7_DATA_OID in content_info[:16]


def _common_name(name: x509.Name) -> str:
    attributes = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attributes:
        return ""
    value = attributes[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _split_cn(common_name: str) -> tuple[str, str | None]:
    """ICP-Brasil e-CNPJ: ``"RAZAO SOCIAL:12345678000195"`` -> (razão social, CNPJ)."""
    name, sep, tail = common_name.rpartition(":")
    if sep:
        candidate = tail.strip()
        if _is_cnpj_shape(candidate):
            return name.strip(), candidate.upper()
    return common_name.strip(), None


def _cnpj_from_san(cert: x509.Certificate) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        return None  # malformed extension: the CN is the only source left
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == OID_ICP_CNPJ:
            text = _der_string(other.value)
            if text is not None and _is_cnpj_shape(text.strip()):
                return text.strip().upper()
    return None


def _der_string(der: bytes) -> str | None:
    """Content of a DER string (OCTET/Printable/UTF8/IA5), unwrapping one explicit [0] tag."""
    if len(der) < 2:
        return None
    tag, length_byte = der[0], der[1]
    if length_byte < 0x80:
        start, length = 2, length_byte
    else:
        count = length_byte & 0x7F
        if count == 0 or count > 2 or len(der) < 2 + count:
            return None
        start, length = 2 + count, int.from_bytes(der[2 : 2 + count], "big")
    content = der[start : start + length]
    if tag == 0xA0:
        return _der_string(content)
    if tag in (0x04, 0x0C, 0x13, 0x16):
        return content.decode("latin-1")
    return None


def _is_cnpj_shape(text: str) -> bool:
    # 14 characters; the alphanumeric CNPJ (from 2026) keeps the two check digits numeric.
    return len(text) == 14 and text.isascii() and text.isalnum() and text[-2:].isdigit()


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("Use uma data/hora com fuso horário (timezone-aware)")
    return now


def create_demo_certificate(
    path: str | os.PathLike[str],
    password: str,
    cnpj: str,
    razao_social: str,
    valid_days: int = 365,
    *,
    not_before: datetime | None = None,
) -> Path:
    """Write a self-signed RSA 2048 PKCS#12 with CN ``"RAZAO:CNPJ"`` (demo mode and tests only).

    It carries the CNPJ also in the ICP-Brasil otherName, as real e-CNPJ certificates do. SEFAZ
    will not accept it: it is not issued by ICP-Brasil.
    """
    cnpj_text = "".join(char for char in cnpj if char not in ". /-").upper()
    if not _is_cnpj_shape(cnpj_text):
        raise ValueError("CNPJ deve ter 14 caracteres")
    start = _aware(not_before) if not_before is not None else datetime.now(UTC) - timedelta(minutes=5)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ICP-Brasil (DEMONSTRAÇÃO)"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{razao_social}:{cnpj_text}"),
        ]
    )
    cnpj_der = b"\x04" + bytes([len(cnpj_text)]) + cnpj_text.encode("ascii")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=valid_days))
        .add_extension(
            x509.SubjectAlternativeName([x509.OtherName(OID_ICP_CNPJ, cnpj_der)]),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(password.encode("utf-8"))
        if password
        else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(
        name=razao_social.encode("utf-8"), key=key, cert=cert, cas=None, encryption_algorithm=encryption
    )
    target = Path(path)
    target.write_bytes(data)
    return target
