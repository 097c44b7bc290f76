"""What a SAMLResponse grants: the roles of its ``https://aws.amazon.com/SAML/Attributes/Role`` attribute, its
SessionDuration and RoleSessionName, and when it stops being valid.

rolecall reads the assertion only to choose a role and a duration; STS checks the signature. The XML comes from
the network, so it is read defensively with the standard library: a document with a DTD (``<!DOCTYPE``) or an
entity declaration is refused before it is parsed (no entity expansion, no external entities), and its size is
capped. The base64 text is a secret for a few minutes: it never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from typing import NamedTuple

from rolecall.errors import LoginError

ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration"
SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
#: STS refuses assertions larger than this (its SAMLAssertion limit is 100,000 characters of base64).
MAX_ASSERTION_CHARS = 100_000


class SamlRole(NamedTuple):
    """One role the assertion grants, and the IAM SAML provider that vouches for it."""

    role_arn: str
    principal_arn: str


class Assertion(NamedTuple):
    """The parts of a SAMLResponse rolecall uses (``encoded`` is the base64 text sent to STS)."""

    encoded: str
    roles: tuple[SamlRole, ...]
    session_duration: int | None
    session_name: str | None
    not_on_or_after: str | None


def parse_response(encoded: str) -> Assertion:
    """Read a base64 SAMLResponse; ``LoginError`` when it is not one rolecall can use."""
    encoded = "".join(encoded.split())
    if len(encoded) > MAX_ASSERTION_CHARS:
        raise LoginError(
            f"the SAML response is larger than STS accepts ({MAX_ASSERTION_CHARS} characters)",
            hint="ask the provider's administrator to send fewer attributes to AWS",
        )
    try:
        xml = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise LoginError("the SAML response is not base64", hint="check saml_url is the provider's AWS app") from None
    root = parse_xml(xml)
    values = attribute_values(root)
    roles = tuple(role for value in values.get(ROLE_ATTRIBUTE, []) if (role := split_role(value)) is not None)
    if not roles:
        raise LoginError(
            "the SAML assertion grants no AWS role (no https://aws.amazon.com/SAML/Attributes/Role value)",
            hint="ask the provider's administrator to map you to a role in the AWS application",
        )
    duration = next(iter(values.get(DURATION_ATTRIBUTE, [])), None)
    name = next(iter(values.get(SESSION_NAME_ATTRIBUTE, [])), None)
    return Assertion(
        encoded,
        roles,
        int(duration) if duration is not None and duration.strip().isdigit() else None,
        name.strip() if name else None,
        not_on_or_after(root),
    )


def parse_xml(xml: bytes) -> ET.Element:
    """The document's root, refusing DTDs and entity declarations before parsing (``LoginError``).

    The refusal is expat's own view of the document, whatever its encoding: in UTF-16, ``<!DOCTYPE`` is not the
    bytes ``<!doctype``, and a byte search let such a document through with its entities expanded.
    """
    _refuse_dtd(xml)
    try:
        return ET.fromstring(xml)
    except (ET.ParseError, ValueError, RecursionError):
        raise LoginError("the SAML response is not well-formed XML", hint="check saml_url") from None


class _DtdFound(Exception):
    """Raised from expat's handlers at the first DTD or entity declaration."""


def _refuse_dtd(xml: bytes) -> None:
    """A first pass with expat that stops at a ``<!DOCTYPE`` (before any entity is declared or expanded)."""
    import pyexpat

    def found(*_: object) -> None:
        raise _DtdFound

    parser = pyexpat.ParserCreate()
    parser.StartDoctypeDeclHandler = found
    parser.EntityDeclHandler = found
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(xml, True)
    except _DtdFound:
        raise LoginError(
            "the SAML response declares a DTD or entities, which rolecall refuses to read",
            hint="an identity provider never sends one; check saml_url",
        ) from None
    except (pyexpat.ExpatError, ValueError, RecursionError):
        raise LoginError("the SAML response is not well-formed XML", hint="check saml_url") from None


def local_name(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rsplit("}", 1)[-1]


def attribute_values(root: ET.Element) -> dict[str, list[str]]:
    """Every ``Attribute`` of the document: name -> its ``AttributeValue`` texts."""
    found: dict[str, list[str]] = {}
    for element in root.iter():
        if local_name(element.tag) != "Attribute":
            continue
        texts = [(value.text or "").strip() for value in element if local_name(value.tag) == "AttributeValue"]
        found.setdefault(element.get("Name", ""), []).extend(texts)
    return found


def split_role(value: str) -> SamlRole | None:
    """``role_arn,principal_arn`` in either order (providers write both), or None when it is neither."""
    parts = [part.strip() for part in value.split(",")]
    if len(parts) != 2:
        return None
    roles = [part for part in parts if ":role/" in part]
    providers = [part for part in parts if ":saml-provider/" in part]
    if len(roles) != 1 or len(providers) != 1:
        return None
    return SamlRole(roles[0], providers[0])


def not_on_or_after(root: ET.Element) -> str | None:
    """The assertion's ``SubjectConfirmationData/@NotOnOrAfter`` (else ``Conditions/@NotOnOrAfter``), or None."""
    for wanted in ("SubjectConfirmationData", "Conditions"):
        for element in root.iter():
            if local_name(element.tag) == wanted and element.get("NotOnOrAfter"):
                return element.get("NotOnOrAfter")
    return None
