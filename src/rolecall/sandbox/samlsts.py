"""A strict AssumeRoleWithSAML for the sandbox STS, and the seeding of its SAML world.

moto's own AssumeRoleWithSAML trusts the request's RoleArn and fails on a Role attribute with several values
(the normal case), so the sandbox checks what STS checks, in order: the assertion is XML without a DTD; the IAM SAML
provider ``PrincipalArn`` exists; the assertion's one signature verifies against the certificate of that provider's
metadata (never the one the assertion carries) and its issuer is the metadata's entity id; the audience is AWS's
SAML endpoint; ``NotBefore`` / ``NotOnOrAfter`` hold on the sandbox clock; the ``RoleArn,PrincipalArn`` pair is one
of the Role attribute's values (either order); the role exists and trusts the provider (``Federated`` principal,
``sts:AssumeRoleWithSAML``); ``DurationSeconds`` is at most the role's maximum. ``check`` returns what to issue;
``SamlSts``, a router service in front of the STS app, issues real sandbox credentials (recorded in the
``SandboxState``, so GetCallerIdentity and AssumeRole work with them) and answers with ``response_xml``.

Time: the SAML side has its own offset on the sandbox clock (``IdpState.offset``, moved by
``Sandbox.advance_saml_clock``), so a test can be "an hour later" for the provider's session, the assertion and
the issued credentials while botocore still signs other calls with the real clock (the STS refuses signatures
15 minutes off).
"""

from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from rolecall.sandbox import awsxml, iamstate
from rolecall.sandbox.account import ACCOUNT_ID
from rolecall.sandbox.awsxml import STS_NAMESPACE, StsError
from rolecall.sandbox.router import Incoming, incoming
from rolecall.sandbox.samlidp import AWS_SAML_ENDPOINT, ROLE_ATTRIBUTE, IdpState, IdpUser
from rolecall.sandbox.samlsign import SAML, SigningKey, metadata_facts, verify
from rolecall.sandbox.state import (
    IssuedCredential,
    SandboxState,
    new_secret_access_key,
    new_session_access_key_id,
    new_session_token,
)
from rolecall.sandbox.wsgi import status_line
from rolecall.timefmt import format_iso_z, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

#: The audiences STS accepts.
AUDIENCES = (AWS_SAML_ENDPOINT, "urn:amazon:webservices")
#: The IAM SAML provider the sandbox account has, and the roles it grants.
PROVIDER_NAME = "sandbox-idp"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/{PROVIDER_NAME}"
SAML_ROLES = ("saml-admin", "saml-readonly")
IDP_USER = "alice"
IDP_PASSWORD = "sandbox-password"
SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class SamlGrant:
    """What a valid AssumeRoleWithSAML request gets: the role, the session, the SAML facts for the answer."""

    role: iamstate.RoleInfo
    session_name: str
    duration: int
    subject: str
    issuer: str
    audience: str


#: The sandbox provider's entity id (its metadata's ``entityID`` and the assertions' ``Issuer``).
ENTITY_ID = "urn:rolecall:sandbox:saml-idp"


class SamlSts:
    """The router service for unsigned AssumeRoleWithSAML requests (before ``app.StrictSts``)."""

    def __init__(self, state: SandboxState, idp: IdpState, clock: Callable[[], float]) -> None:
        """Check requests against ``idp``'s provider; record issued credentials in ``state``."""
        self.state = state
        self.idp = idp
        self.clock = clock

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for an unsigned AssumeRoleWithSAML."""
        unsigned = request.auth is None and "X-Amz-Credential" not in request.params
        return unsigned and request.action == "AssumeRoleWithSAML"

    def now(self) -> datetime:
        """The SAML side's time: the sandbox clock plus the provider's offset."""
        return datetime.fromtimestamp(self.clock(), timezone.utc).replace(microsecond=0) + self.idp.offset

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Check, issue, answer (AWS's error document when refused)."""
        request = incoming(environ)
        request_id = awsxml.new_request_id()
        self.state.count("AssumeRoleWithSAML")
        try:
            fault = self.state.take_fault("AssumeRoleWithSAML")
            if fault is not None and fault.kind in ("throttle", "error500"):
                raise awsxml.throttling() if fault.kind == "throttle" else awsxml.internal_failure()
            grant = check(dict(request.params), self.now())
            status, payload = 200, response_xml(self.issue(grant), grant, request_id)
        except StsError as error:
            status, payload = error.status, error.to_xml(request_id)
        start_response(status_line(status), [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id),
                                             ("Content-Length", str(len(payload)))])  # fmt: skip
        return [payload]

    def issue(self, grant: SamlGrant) -> IssuedCredential:
        """New role-session credentials for ``grant``, recorded so the STS authenticates them."""
        with self.state.lock:
            override = self.state.credential_lifetime
        lifetime = grant.duration if override is None else override
        role = grant.role
        issued = IssuedCredential(
            access_key_id=new_session_access_key_id(),
            secret_access_key=new_secret_access_key(),
            session_token=new_session_token(),
            expiration=self.now() + timedelta(seconds=lifetime),
            kind="assumed-role",
            account_id=role.account_id,
            arn=f"arn:aws:sts::{role.account_id}:assumed-role/{role.name}/{grant.session_name}",
            user_id=f"{role.role_id}:{grant.session_name}",
            role_arn=role.arn,
            role_name=role.name,
            session_name=grant.session_name,
        )
        self.state.record(issued)
        return issued


def seed(state: IdpState) -> None:
    """A fresh provider: a new key, the user alice granted both SAML roles, and in moto's IAM the SAML provider
    (its metadata) and the two roles trusting it."""
    from moto.iam.models import iam_backends

    state.entity_id = ENTITY_ID
    state.offset = timedelta(0)
    state.key = SigningKey.generate(state.entity_id)
    state.users = {IDP_USER: IdpUser(IDP_PASSWORD, [(_role_arn(name), PROVIDER_ARN) for name in SAML_ROLES])}
    state.sessions.clear()
    state.responses.clear()
    state.auto_login, state.issue_at, state.logins, state.assertions = None, None, 0, 0
    state.acs_url, state.acs_hits = AWS_SAML_ENDPOINT, 0
    state.session_lifetime = timedelta(hours=8)
    iam = iam_backends[ACCOUNT_ID]["aws"]
    from rolecall.sandbox.samlsign import metadata_xml

    iam.create_saml_provider(PROVIDER_NAME, metadata_xml(state.entity_id, state.key.certificate_b64))
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER_ARN}, "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": AWS_SAML_ENDPOINT}}}]})  # fmt: skip
    for name, hours in zip(SAML_ROLES, (4, 1), strict=True):
        iam.create_role(role_name=name, assume_role_policy_document=trust, path="/", permissions_boundary=None,
                        description="", tags=[], max_session_duration=str(hours * 3600))  # fmt: skip


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


def invalid_token(message: str) -> StsError:
    """400 InvalidIdentityToken (what STS answers for an assertion it cannot accept)."""
    return StsError("InvalidIdentityToken", message)


def check(params: dict[str, str], now: datetime) -> SamlGrant:
    """The grant for a valid request, else the ``StsError`` STS would answer."""
    for name in ("RoleArn", "PrincipalArn", "SAMLAssertion"):
        if not params.get(name):
            field = name[0].lower() + name[1:]
            raise awsxml.validation_error(
                f"1 validation error detected: Value null at '{field}' failed to satisfy constraint: "
                "Member must not be null"
            )
    response = _parse(params["SAMLAssertion"])
    assertions = [e for e in response.iter() if e.tag == f"{{{SAML}}}Assertion"]
    if len(assertions) != 1:
        raise invalid_token("Invalid SAML response: exactly one assertion is required")
    assertion = assertions[0]
    entity, certificate = _provider(params["PrincipalArn"])
    if not verify(assertion, certificate):
        raise invalid_token("Response signature invalid")
    issuer = assertion.findtext(f"{{{SAML}}}Issuer") or ""
    if issuer != entity:
        raise invalid_token("Issuer of the assertion does not match the SAML provider's metadata")
    audience = _audience(assertion)
    _check_times(assertion, now)
    values = _attribute(assertion, ROLE_ATTRIBUTE)
    pair = {params["RoleArn"], params["PrincipalArn"]}
    if not any({part.strip() for part in value.split(",")} == pair for value in values):
        raise awsxml.access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
    role = iamstate.find_role(params["RoleArn"])
    if role is None or not _trusts(role.trust_policy, params["PrincipalArn"], audience):
        raise awsxml.access_denied("Not authorized to perform sts:AssumeRoleWithSAML")
    duration = int(params.get("DurationSeconds") or 3600)
    if duration > role.max_session_duration:
        raise awsxml.validation_error("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    subject = assertion.findtext(f".//{{{SAML}}}NameID") or ""
    names = _attribute(assertion, "https://aws.amazon.com/SAML/Attributes/RoleSessionName")
    return SamlGrant(role, names[0] if names else subject, duration, subject, issuer, audience)


def _parse(encoded: str) -> ET.Element:
    try:
        document = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_token("Invalid base64 SAMLResponse") from None
    if b"<!doctype" in document.lower() or b"<!entity" in document.lower():
        raise invalid_token("Invalid SAML response: DTDs are not allowed")
    try:
        return ET.fromstring(document)
    except ET.ParseError:
        raise invalid_token("Invalid SAML response: not well-formed XML") from None


def _provider(arn: str) -> tuple[str, str]:
    from moto.iam.models import iam_backends

    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    try:
        provider: Any = iam_backends[account]["aws"].get_saml_provider(arn) if account in iam_backends else None
    except Exception:  # moto raises its NotFound for an unknown ARN
        provider = None
    facts = metadata_facts(str(provider.saml_metadata_document)) if provider is not None else None
    if facts is None:
        raise invalid_token(f"Specified provider doesn't exist or has no usable metadata: {arn}")
    return facts


def _audience(assertion: ET.Element) -> str:
    audiences = [(e.text or "").strip() for e in assertion.iter(f"{{{SAML}}}Audience")]
    for audience in audiences:
        if audience in AUDIENCES:
            return audience
    raise invalid_token("Invalid SAML response: the audience is not https://signin.aws.amazon.com/saml")


def _check_times(assertion: ET.Element, now: datetime) -> None:
    for tag in ("Conditions", "SubjectConfirmationData"):
        for element in assertion.iter(f"{{{SAML}}}{tag}"):
            try:
                before = element.get("NotBefore")
                after = element.get("NotOnOrAfter")
                if before and now + SKEW < parse_timestamp(before):
                    raise invalid_token("Invalid SAML response: the assertion is not yet valid")
                if after and now >= parse_timestamp(after):
                    raise StsError("ExpiredTokenException", "Token must be redeemed within 5 minutes of issuance")
            except ValueError:
                raise invalid_token("Invalid SAML response: a time that is not a date") from None


def _attribute(assertion: ET.Element, name: str) -> list[str]:
    found: list[str] = []
    for attribute in assertion.iter(f"{{{SAML}}}Attribute"):
        if attribute.get("Name") == name:
            found += [(v.text or "").strip() for v in attribute.iter(f"{{{SAML}}}AttributeValue")]
    return found


def _trusts(document: str, provider_arn: str, audience: str) -> bool:
    """The trust policy allows ``sts:AssumeRoleWithSAML`` for the provider (a Deny wins; conditions: ``SAML:aud``)."""
    try:
        statements = json.loads(document).get("Statement", [])
    except (ValueError, AttributeError):
        return False
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal") or {}
        federated = principal.get("Federated", []) if isinstance(principal, dict) else []
        actions = statement.get("Action", [])
        if provider_arn not in (federated if isinstance(federated, list) else [federated]):
            continue
        if not {"sts:AssumeRoleWithSAML", "sts:*", "*"} & set(actions if isinstance(actions, list) else [actions]):
            continue
        if not _conditions_hold(statement.get("Condition") or {}, audience):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _conditions_hold(conditions: dict[str, Any], audience: str) -> bool:
    for operator, pairs in conditions.items():
        for key, wanted in (pairs or {}).items():
            if operator != "StringEquals" or key.lower() != "saml:aud":
                return False  # a condition the sandbox does not know: fail closed
            if audience not in (wanted if isinstance(wanted, list) else [wanted]):
                return False
    return True


def response_xml(issued: IssuedCredential, grant: SamlGrant, request_id: str) -> bytes:
    """The AssumeRoleWithSAML success body."""
    def element(name: str, value: str) -> str:
        return f"<{name}>{escape(value)}</{name}>"

    return (
        f'<AssumeRoleWithSAMLResponse xmlns="{STS_NAMESPACE}"><AssumeRoleWithSAMLResult>'
        + element("Audience", grant.audience)
        + "<AssumedRoleUser>" + element("AssumedRoleId", issued.user_id) + element("Arn", issued.arn)
        + "</AssumedRoleUser><Credentials>"
        + element("AccessKeyId", issued.access_key_id) + element("SecretAccessKey", issued.secret_access_key)
        + element("SessionToken", issued.session_token) + element("Expiration", format_iso_z(issued.expiration))
        + "</Credentials>" + element("Issuer", grant.issuer) + element("NameQualifier", "sandbox")
        + element("Subject", grant.subject) + element("SubjectType", "transient")
        + "<PackedPolicySize>0</PackedPolicySize></AssumeRoleWithSAMLResult>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></AssumeRoleWithSAMLResponse>"
    ).encode()
