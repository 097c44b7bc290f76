"""rolecall's reading of a SAMLResponse (roles in either order, SessionDuration, refusals) and of which URLs are
AWS's SAML endpoint; the assertion comes from the sandbox provider, signed as a real one."""

from __future__ import annotations

import base64

import pytest

from rolecall.errors import LoginError
from rolecall.saml.assertion import SamlRole, parse_response, split_role
from rolecall.saml.capture import is_saml_endpoint, saml_response_of
from rolecall.sandbox import Sandbox
from rolecall.sandbox.samlidp import SamlIdp
from rolecall.sandbox.samlsts import IDP_USER, PROVIDER_ARN


def encoded(sandbox: Sandbox) -> str:
    return base64.b64encode(SamlIdp(sandbox.saml, sandbox.clock).response_xml(IDP_USER)).decode()


def test_roles_duration_and_session_name_are_read(sandbox: Sandbox) -> None:
    found = parse_response(encoded(sandbox))
    assert [role.role_arn.rsplit("/", 1)[-1] for role in found.roles] == ["saml-admin", "saml-readonly"]
    assert {role.principal_arn for role in found.roles} == {PROVIDER_ARN}
    assert found.session_duration == 3600 and found.session_name == "alice"
    assert found.not_on_or_after is not None


def test_a_role_value_may_name_the_provider_first() -> None:
    role, provider = "arn:aws:iam::1:role/r", "arn:aws:iam::1:saml-provider/p"
    assert split_role(f"{provider}, {role}") == SamlRole(role, provider) == split_role(f"{role},{provider}")
    assert split_role(role) is None and split_role(f"{role},{role}") is None


def test_a_dtd_is_refused_before_parsing(sandbox: Sandbox) -> None:
    xml = base64.b64decode(encoded(sandbox))
    hostile = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + xml
    with pytest.raises(LoginError, match="DTD"):
        parse_response(base64.b64encode(hostile).decode())


@pytest.mark.parametrize("text", ["not base64!", base64.b64encode(b"<a/>").decode()])
def test_what_is_no_usable_assertion_is_a_login_error(text: str) -> None:
    with pytest.raises(LoginError):
        parse_response(text)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://signin.aws.amazon.com/saml", True),
        ("https://us-east-2.signin.aws.amazon.com/saml", True),
        ("https://signin.amazonaws-us-gov.com/saml", True),
        ("https://signin.amazonaws.cn/saml", True),
        ("http://signin.aws.amazon.com/saml", False),
        ("https://signin.aws.amazon.com.evil.example/saml", False),
        ("https://signin.aws.amazon.com/federation", False),
    ],
)
def test_the_saml_endpoints(url: str, expected: bool) -> None:
    assert is_saml_endpoint(url) is expected


def test_the_form_field_is_read_from_post_data_or_its_entries() -> None:
    body = "RelayState=&SAMLResponse=PHNhbWw%2BPC9zYW1sPg%3D%3D"
    assert saml_response_of({"postData": body}) == "PHNhbWw+PC9zYW1sPg=="
    entries = [{"bytes": base64.b64encode(body.encode()).decode()}]
    assert saml_response_of({"postDataEntries": entries}) == "PHNhbWw+PC9zYW1sPg=="
    assert saml_response_of({"postData": "RelayState=x"}) is None
