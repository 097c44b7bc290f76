"""The sandbox SAML provider's signatures: an RSA key and certificate, signed assertions, and their check.

A real XML signature, kept simple and honest: the ``ds:Signature`` inside the ``saml:Assertion`` has a
``SignedInfo`` whose one ``Reference`` (``URI="#<assertion ID>"``) carries the SHA-256 digest of the assertion
without its signature, in the C14N 2.0 canonical form (``http://www.w3.org/2010/xml-c14n2``, the standard
library's ``xml.etree.ElementTree.canonicalize``); the ``SignatureValue`` is RSA-SHA256 (PKCS#1 v1.5) over the
canonical ``SignedInfo``. Real providers use exclusive C14N 1.0, which the standard library lacks; the structure
and the checks are the same. The check (``verify``) uses the certificate of the IAM SAML provider's metadata,
never the one the assertion carries, so a re-signed or changed assertion fails.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
DS = "http://www.w3.org/2000/09/xmldsig#"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
C14N2 = "http://www.w3.org/2010/xml-c14n2"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

for _prefix, _uri in (("saml", SAML), ("samlp", SAMLP), ("ds", DS), ("md", MD)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class SigningKey:
    """The provider's private key and its self-signed certificate (PEM body, base64 DER)."""

    private_key: rsa.RSAPrivateKey
    certificate_b64: str

    @classmethod
    def generate(cls, entity_id: str) -> SigningKey:
        """A new 2048-bit key and a certificate for ``entity_id`` valid for ten years."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rolecall sandbox SAML provider")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        return cls(key, base64.b64encode(der).decode("ascii"))


def canonical(element: ET.Element) -> bytes:
    """``element`` in C14N 2.0 form, as bytes."""
    return ET.canonicalize(ET.tostring(element, encoding="unicode")).encode("utf-8")


def unsigned_copy(assertion: ET.Element) -> ET.Element:
    """A copy of ``assertion`` without its ``ds:Signature`` children (the enveloped-signature transform)."""
    copy = ET.fromstring(ET.tostring(assertion))
    for signature in copy.findall(f"{{{DS}}}Signature"):
        copy.remove(signature)
    return copy


def sign(assertion: ET.Element, key: SigningKey) -> None:
    """Insert a ``ds:Signature`` after the assertion's ``Issuer`` (where SAML puts it)."""
    digest = base64.b64encode(hashlib.sha256(canonical(unsigned_copy(assertion))).digest()).decode()
    signature = ET.Element(f"{{{DS}}}Signature")
    info = ET.SubElement(signature, f"{{{DS}}}SignedInfo")
    ET.SubElement(info, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N2)
    ET.SubElement(info, f"{{{DS}}}SignatureMethod", Algorithm=RSA_SHA256)
    reference = ET.SubElement(info, f"{{{DS}}}Reference", URI="#" + assertion.get("ID", ""))
    transforms = ET.SubElement(reference, f"{{{DS}}}Transforms")
    ET.SubElement(transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    ET.SubElement(transforms, f"{{{DS}}}Transform", Algorithm=C14N2)
    ET.SubElement(reference, f"{{{DS}}}DigestMethod", Algorithm=SHA256)
    ET.SubElement(reference, f"{{{DS}}}DigestValue").text = digest
    value = key.private_key.sign(canonical(info), padding.PKCS1v15(), hashes.SHA256())
    ET.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(value).decode()
    key_info = ET.SubElement(signature, f"{{{DS}}}KeyInfo")
    data = ET.SubElement(key_info, f"{{{DS}}}X509Data")
    ET.SubElement(data, f"{{{DS}}}X509Certificate").text = key.certificate_b64
    assertion.insert(1, signature)


def verify(assertion: ET.Element, certificate_b64: str) -> bool:
    """True when ``assertion`` carries one signature, over itself, that ``certificate_b64``'s key made."""
    signatures = assertion.findall(f"{{{DS}}}Signature")
    if len(signatures) != 1:
        return False
    info = signatures[0].find(f"{{{DS}}}SignedInfo")
    value = signatures[0].findtext(f"{{{DS}}}SignatureValue")
    references = info.findall(f"{{{DS}}}Reference") if info is not None else []
    if info is None or value is None or len(references) != 1:
        return False
    if references[0].get("URI") != "#" + assertion.get("ID", "\0"):
        return False  # a signature over another element (signature wrapping)
    digest = base64.b64encode(hashlib.sha256(canonical(unsigned_copy(assertion))).digest()).decode()
    if references[0].findtext(f"{{{DS}}}DigestValue") != digest:
        return False
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(certificate_b64))
        public = certificate.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            return False
        public.verify(base64.b64decode(value), canonical(info), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def metadata_xml(entity_id: str, certificate_b64: str) -> str:
    """The provider's SAML metadata (what an IAM SAML provider is created with)."""
    return (
        f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>'
        f"<ds:X509Certificate>{certificate_b64}</ds:X509Certificate>"
        "</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )


def metadata_facts(document: str) -> tuple[str, str] | None:
    """``(entityID, signing certificate)`` of a metadata document, or None."""
    if "<!DOCTYPE" in document.upper() or "<!ENTITY" in document.upper():
        return None
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None
    certificate = root.find(f".//{{{DS}}}X509Certificate")
    entity = root.get("entityID")
    if certificate is None or not certificate.text or not entity:
        return None
    return entity, "".join(certificate.text.split())
