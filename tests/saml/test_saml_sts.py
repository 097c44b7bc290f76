"""The sandbox's strict AssumeRoleWithSAML, called with real botocore (unsigned, as the SDKs call it): a signed
multi-role assertion works for each role it grants; a changed, re-signed, expired or DTD-bearing assertion, a role
it does not grant and a duration over the role's maximum are refused with STS's codes; the credentials work."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from rolecall.sandbox import Sandbox
from rolecall.sandbox.samlidp import SamlIdp
from rolecall.sandbox.samlsign import SAML, SigningKey, sign
from rolecall.sandbox.samlsts import IDP_USER, PROVIDER_ARN
from sandbox_helpers import from_credentials

ADMIN = "arn:aws:iam::123456789012:role/saml-admin"
READONLY = "arn:aws:iam::123456789012:role/saml-readonly"


def sts(sandbox: Sandbox) -> Any:
    """An unsigned STS client for the sandbox."""
    return boto3.client("sts", endpoint_url=sandbox.endpoint_url, region_name="us-east-1",
                        config=Config(signature_version=UNSIGNED))  # fmt: skip


def assertion(sandbox: Sandbox) -> bytes:
    """A fresh signed SAML Response for alice, as the provider's page would post it."""
    return SamlIdp(sandbox.saml, sandbox.clock).response_xml(IDP_USER)


def call(sandbox: Sandbox, xml: bytes, role: str = ADMIN, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = sts(sandbox).assume_role_with_saml(
        RoleArn=role, PrincipalArn=PROVIDER_ARN, SAMLAssertion=base64.b64encode(xml).decode(), **extra
    )
    return response


def refused(sandbox: Sandbox, xml: bytes, code: str, role: str = ADMIN, **extra: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(sandbox, xml, role, **extra)
    assert caught.value.response["Error"]["Code"] == code, caught.value.response
    return str(caught.value.response["Error"]["Message"])


@pytest.mark.parametrize("role", [ADMIN, READONLY])
def test_each_role_of_a_multi_role_assertion_can_be_assumed(sandbox: Sandbox, role: str) -> None:
    answer = call(sandbox, assertion(sandbox), role, DurationSeconds=3600)
    name = role.rsplit("/", 1)[-1]
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::123456789012:assumed-role/{name}/alice"
    assert answer["Subject"] == "alice"
    identity = from_credentials(sandbox.endpoint_url, answer["Credentials"]).get_caller_identity()
    assert identity["Arn"] == answer["AssumedRoleUser"]["Arn"]


def test_a_changed_assertion_is_refused(sandbox: Sandbox) -> None:
    # Granting oneself a role (or any other change) breaks the digest.
    xml = assertion(sandbox).replace(b"alice</saml:NameID>", b"mallory</saml:NameID>")
    assert b"mallory" in xml
    assert refused(sandbox, xml, "InvalidIdentityToken") == "Response signature invalid"


def test_an_assertion_signed_with_another_key_is_refused(sandbox: Sandbox) -> None:
    root = ET.fromstring(assertion(sandbox))
    inner = root.find(f"{{{SAML}}}Assertion")
    assert inner is not None
    inner.remove(inner[1])  # the provider's signature
    sign(inner, SigningKey.generate("urn:someone-else"))  # a valid signature, by the wrong key
    refused(sandbox, ET.tostring(root), "InvalidIdentityToken")


def test_an_expired_assertion_is_refused(sandbox: Sandbox) -> None:
    xml = assertion(sandbox)
    sandbox.advance_saml_clock(timedelta(minutes=6).total_seconds())
    message = refused(sandbox, xml, "ExpiredTokenException")
    assert "5 minutes" in message


def test_a_role_the_assertion_does_not_grant_is_refused(sandbox: Sandbox) -> None:
    sandbox.create_role("other")
    refused(sandbox, assertion(sandbox), "AccessDenied", role="arn:aws:iam::123456789012:role/other")


def test_a_duration_over_the_role_maximum_is_refused(sandbox: Sandbox) -> None:
    refused(sandbox, assertion(sandbox), "ValidationError", role=READONLY, DurationSeconds=7200)
    assert call(sandbox, assertion(sandbox), ADMIN, DurationSeconds=7200)["Credentials"]


def test_a_dtd_is_refused(sandbox: Sandbox) -> None:
    xml = b'<!DOCTYPE x [<!ENTITY e "alice">]>' + assertion(sandbox)
    refused(sandbox, xml, "InvalidIdentityToken")
