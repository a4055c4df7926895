"""XMLDSig (enveloped, RSA-SHA1, inclusive C14N) with a throw-away sandbox certificate.

The signature is real: it verifies with the public key of the embedded ``X509Certificate``. The
certificate is self-signed and generated once per process, so it proves nothing beyond "made by the
sandbox" — exactly what a homologation document needs.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
C14N_ALG = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED_ALG = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA1_ALG = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
SHA1_ALG = "http://www.w3.org/2000/09/xmldsig#sha1"


class _SandboxKey:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "BR"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sandbox Focus NFC-e"),
                x509.NameAttribute(NameOID.COMMON_NAME, "SANDBOX NFC-E HOMOLOGACAO - SEM VALOR FISCAL"),
            ]
        )
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .sign(self.key, hashes.SHA256())
        )
        self.cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")


_key: _SandboxKey | None = None
_key_lock = threading.Lock()


def sandbox_key() -> _SandboxKey:
    global _key
    with _key_lock:
        if _key is None:
            _key = _SandboxKey()
        return _key


def c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=False, with_comments=False)


def sign_enveloped(signed: etree._Element, parent: etree._Element) -> str:
    """Sign ``signed`` (which has an ``Id``) and append ``<Signature>`` to ``parent``.

    Returns the base64 DigestValue (the ``digVal`` of the protocol and the offline QR code).
    """
    signer = sandbox_key()
    digest = base64.b64encode(hashlib.sha1(c14n(signed)).digest()).decode("ascii")
    signature = etree.SubElement(parent, f"{{{DS_NS}}}Signature", nsmap={None: DS_NS})
    signed_info = etree.SubElement(signature, f"{{{DS_NS}}}SignedInfo")
    etree.SubElement(signed_info, f"{{{DS_NS}}}CanonicalizationMethod", Algorithm=C14N_ALG)
    etree.SubElement(signed_info, f"{{{DS_NS}}}SignatureMethod", Algorithm=RSA_SHA1_ALG)
    reference = etree.SubElement(signed_info, f"{{{DS_NS}}}Reference", URI="#" + signed.get("Id", ""))
    transforms = etree.SubElement(reference, f"{{{DS_NS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=ENVELOPED_ALG)
    etree.SubElement(transforms, f"{{{DS_NS}}}Transform", Algorithm=C14N_ALG)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestMethod", Algorithm=SHA1_ALG)
    etree.SubElement(reference, f"{{{DS_NS}}}DigestValue").text = digest
    raw_signature = signer.key.sign(c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())
    etree.SubElement(signature, f"{{{DS_NS}}}SignatureValue").text = base64.b64encode(raw_signature).decode()
    key_info = etree.SubElement(signature, f"{{{DS_NS}}}KeyInfo")
    x509_data = etree.SubElement(key_info, f"{{{DS_NS}}}X509Data")
    etree.SubElement(x509_data, f"{{{DS_NS}}}X509Certificate").text = signer.cert_b64
    return digest


def verify_enveloped(signed: etree._Element, signature: etree._Element) -> bool:
    """Check digest and RSA-SHA1 signature with the embedded certificate (used by tests)."""
    ns = {"ds": DS_NS}
    digest = signature.findtext("ds:SignedInfo/ds:Reference/ds:DigestValue", namespaces=ns)
    if digest != base64.b64encode(hashlib.sha1(c14n(signed)).digest()).decode("ascii"):
        return False
    cert_b64 = signature.findtext("ds:KeyInfo/ds:X509Data/ds:X509Certificate", namespaces=ns) or ""
    cert = x509.load_der_x509_certificate(base64.b64decode(cert_b64))
    public_key = cert.public_key()
    signed_info = signature.find("ds:SignedInfo", namespaces=ns)
    value = base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=ns) or "")
    if signed_info is None or not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(value, c14n(signed_info), padding.PKCS1v15(), hashes.SHA1())
    except Exception:
        return False
    return True
