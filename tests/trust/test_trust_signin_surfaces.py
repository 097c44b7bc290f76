"""Hostile input on the sign-in surfaces of issue 18: the SAML assertion (a DTD in any encoding, entities, deep
nesting, huge input) and what a ``credential_process`` or ``rolecall process-cache`` tool prints.

No mocks: the assertion parser is given the bytes a hostile identity provider would post; the tools are real
programs run by the real ``rolecall`` command.
"""

from __future__ import annotations

import base64
import time

import pytest

from rolecall.errors import LoginError
from rolecall.saml.assertion import parse_response

ROLE = "arn:aws:iam::111122223333:role/Admin,arn:aws:iam::111122223333:saml-provider/Corp"
_DTD = (
    '<!DOCTYPE r [<!ENTITY a "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
)


def _response(body: str, *, encoding: str = "utf-8", dtd: str = "") -> str:
    declaration = f'<?xml version="1.0" encoding="{encoding.upper()}"?>'
    document = (
        f'{declaration}{dtd}<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion><saml:AttributeStatement>'
        f'<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role">'
        f"<saml:AttributeValue>{body}</saml:AttributeValue></saml:Attribute>"
        f"</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(document.encode(encoding)).decode()


def test_a_plain_assertion_is_read() -> None:
    assert [role.role_arn for role in parse_response(_response(ROLE)).roles] == [ROLE.split(",")[0]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_dtd_is_refused_in_every_encoding(encoding: str) -> None:
    """``<!DOCTYPE`` in UTF-16 is not the bytes ``<!doctype``: before the fix such a document was parsed and its
    entities expanded (an internal entity reached the role ARN)."""
    try:
        encoded = _response(ROLE.replace("Admin", "Admin&c;"), encoding=encoding, dtd=_DTD)
    except LookupError:
        pytest.skip(f"no codec {encoding}")
    with pytest.raises(LoginError) as caught:
        parse_response(encoded)
    assert "DTD" in caught.value.message or "XML" in caught.value.message
    assert "AAAA" not in str(caught.value) and encoded[:40] not in str(caught.value)


def test_deep_nesting_is_one_clear_error_not_a_crash() -> None:
    deep = "<x>" * 20000 + "</x>" * 20000
    encoded = base64.b64encode(f"<r>{deep}</r>".encode()).decode()[:99_000]
    with pytest.raises(LoginError):
        parse_response(encoded)


def test_huge_assertion_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(LoginError) as caught:
        parse_response("QUFB" * 5_000_000)
    assert "larger" in caught.value.message
    assert time.monotonic() - started < 5
