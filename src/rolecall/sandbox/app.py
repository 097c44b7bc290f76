"""The strictness layer: the sandbox's STS app, in front of moto's server, that makes STS behave like AWS.

The router (``rolecall.sandbox.router``) hands it the requests it ``serves``: STS only. For each one it
counts the call, applies queued faults, authenticates the caller (unknown key, wrong secret, bad or
expired session token), refuses disabled regions, then checks AssumeRole and GetSessionToken the way STS
does (input constraints, MFA codes against the device seed and replay, trust policies, session-duration
limits and role chaining). AssumeRole that passes is answered by moto (whose credentials the layer then
records); GetSessionToken and GetCallerIdentity are answered here, because moto's versions return fixed
or wrong identities.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from rolecall.sandbox import awsxml, iamstate, policy, totp, validation
from rolecall.sandbox.awsxml import StsError
from rolecall.sandbox.router import Incoming, incoming
from rolecall.sandbox.sigv4 import SignedRequestInfo, presigned_matches, signature_matches
from rolecall.sandbox.state import (
    IssuedCredential,
    SandboxState,
    new_secret_access_key,
    new_session_access_key_id,
    new_session_token,
)
from rolecall.sandbox.wsgi import status_line, with_body
from rolecall.timefmt import format_iso_z, parse_timestamp

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

_log = logging.getLogger("rolecall.sandbox")

STS_ACTIONS = frozenset(
    {
        "AssumeRole",
        "AssumeRoleWithSAML",
        "AssumeRoleWithWebIdentity",
        "AssumeRoot",
        "DecodeAuthorizationMessage",
        "GetAccessKeyInfo",
        "GetCallerIdentity",
        "GetDelegatedAccessToken",
        "GetFederationToken",
        "GetSessionToken",
        "GetWebIdentityToken",
    }
)
#: Actions AWS accepts without a signature (the token in the request is the credential).
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"})

#: The most a role session can last when the caller already holds temporary credentials.
ROLE_CHAINING_LIMIT = 3600

MFA_BOTH_REQUIRED = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
MFA_UNKNOWN_DEVICE = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
MFA_INVALID_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code."
CHAINING_EXCEEDED = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
MAX_SESSION_EXCEEDED = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
#: How far a request's X-Amz-Date may be from the server's clock.
SIGNATURE_SKEW = timedelta(minutes=15)
SESSION_CREDENTIALS_GST = "Cannot call GetSessionToken with session credentials"
SESSION_CREDENTIALS_GFT = "Cannot call GetFederationToken with session credentials"


@dataclass(frozen=True)
class Caller:
    """The authenticated identity behind a request."""

    account_id: str
    arn: str
    user_id: str
    temporary: bool
    user_name: str | None
    #: Set for temporary credentials: what the sandbox recorded when it issued them.
    issued: IssuedCredential | None

    @property
    def principal(self) -> policy.Principal:
        """How trust policies see this caller."""
        if self.issued is not None and self.issued.kind == "assumed-role" and self.issued.role_arn:
            return policy.Principal(self.account_id, (self.arn, self.issued.role_arn))
        return policy.Principal(self.account_id, (self.arn,))


@dataclass
class _Request:
    environ: WSGIEnvironment
    body: bytes
    params: dict[str, str]
    action: str
    auth: SignedRequestInfo | None
    request_id: str


class StrictSts:
    """WSGI app for STS: requests are checked against ``state`` and moto's IAM; moto answers what passes."""

    def __init__(self, moto: WSGIApplication, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        """Check STS requests in front of moto's WSGI ``moto``; ``clock`` (Unix time) drives expiry, MFA codes
        and signature dates (the other services must share it, so that all agree on what has expired)."""
        self.moto = moto
        self.state = state
        self.clock = clock

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for STS: signed for ``sts``, or unsigned with an STS action (and not a presigned URL or moto's own
        API); a request signed for another service is not STS, whatever its action."""
        if request.auth is not None:
            return request.auth.service == "sts"
        presigned = "X-Amz-Credential" in request.params
        if presigned:
            return request.action == "GetCallerIdentity"  # EKS tokens (rolecall eks token): checked strictly below
        return request.action in STS_ACTIONS and not request.path.startswith("/moto-api")

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one STS request."""
        seen = incoming(environ)
        request = _Request(seen.environ, seen.body, seen.params, seen.action, seen.auth, awsxml.new_request_id())
        try:
            status, headers, payload = self._handle(request)
        except Exception as caught:
            if not isinstance(caught, StsError):
                # A bug in the layer: answer as AWS answers its own failures, keep the traceback in the log.
                _log.exception("sandbox: unexpected error handling %s", request.action or "a request")
            error = caught if isinstance(caught, StsError) else awsxml.internal_failure()
            status, headers, payload = error.status, [("Content-Type", "text/xml")], error.to_xml(request.request_id)
            headers.append(("x-amzn-RequestId", request.request_id))
        start_response(status_line(status), [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _moto(self, request: _Request, body: bytes | None = None) -> tuple[int, list[tuple[str, str]], bytes]:
        """Let moto answer ``request`` (optionally with a rewritten body) and capture its response."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return chunks.append

        result = self.moto(with_body(request.environ, request.body if body is None else body), start_response)
        try:
            chunks.extend(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        return captured["status"], headers, b"".join(chunks)

    # ------------------------------------------------------------------ the checks

    def _handle(self, request: _Request) -> tuple[int, list[tuple[str, str]], bytes]:
        state = self.state
        state.count(request.action or "(none)")
        fault = state.take_fault(request.action)
        if fault is not None:
            if fault.kind == "throttle":
                raise awsxml.throttling()
            if fault.kind == "error500":
                raise awsxml.internal_failure()
            time.sleep(fault.delay)  # "slow": answer normally, late
        if request.action in UNSIGNED_ACTIONS:
            return self._moto(request)
        if request.auth is None and "X-Amz-Credential" in request.params:
            return self._presigned_caller_identity(request)
        if request.auth is None:
            raise awsxml.missing_authentication_token()
        caller = self._authenticate(request, request.auth)
        with state.lock:
            disabled = request.auth.region in state.disabled_regions
        if disabled:
            raise awsxml.region_disabled(caller.account_id)
        if request.action == "GetCallerIdentity":
            return _ok(awsxml.caller_identity_xml(caller.arn, caller.user_id, caller.account_id, request.request_id))
        if request.action == "GetSessionToken":
            return self._get_session_token(request, caller)
        if request.action == "AssumeRole":
            return self._assume_role(request, caller)
        if request.action == "GetFederationToken":
            return self._get_federation_token(request, caller)
        return self._moto(request)

    def _presigned_caller_identity(self, request: _Request) -> tuple[int, list[tuple[str, str]], bytes]:
        """A presigned GET GetCallerIdentity (an EKS token): signature, session token and X-Amz-Expires enforced."""
        params = request.params
        if request.environ["REQUEST_METHOD"] != "GET" or params.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise awsxml.incomplete_signature("Only a GET presigned with AWS4-HMAC-SHA256 is accepted.")
        stamp, expires = params.get("X-Amz-Date", ""), params.get("X-Amz-Expires", "")
        try:
            signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
            lifetime = int(expires)
        except ValueError:
            raise awsxml.incomplete_signature("X-Amz-Date and X-Amz-Expires are required.") from None
        if not 1 <= lifetime <= 604800 or self._now() > signed_at + timedelta(seconds=lifetime):
            raise awsxml.access_denied("Request has expired")
        akid = params.get("X-Amz-Credential", "").partition("/")[0]
        headers = _lower_headers(request.environ)
        token = params.get("X-Amz-Security-Token")
        issued = self.state.lookup(akid)
        key = None if issued is not None else iamstate.find_user_key(akid)
        secret = issued.secret_access_key if issued is not None else (key.secret_access_key if key else None)
        if secret is None or (issued is not None and token != issued.session_token) or (key and token):
            raise awsxml.invalid_client_token_id()
        if issued is not None and self._now() >= issued.expiration:
            raise awsxml.expired_token()
        url = f"http://{headers.get('host', '')}{request.environ.get('RAW_URI') or request.environ.get('REQUEST_URI')}"
        if not presigned_matches("GET", url, headers, params, secret, token):
            raise awsxml.signature_does_not_match()
        arn, user_id, account = (issued.arn, issued.user_id, issued.account_id) if issued else (
            key.user_arn, key.user_id, key.account_id)  # type: ignore[union-attr]
        return _ok(awsxml.caller_identity_xml(arn, user_id, account, request.request_id))

    def _authenticate(self, request: _Request, auth: SignedRequestInfo) -> Caller:
        headers = _lower_headers(request.environ)
        token = headers.get("x-amz-security-token")
        issued = self.state.lookup(auth.access_key_id)
        if issued is not None:
            if token != issued.session_token:
                raise awsxml.invalid_client_token_id()
            if self._now() >= issued.expiration:
                raise awsxml.expired_token()
            if not self._signature_ok(request, auth, headers, issued.secret_access_key, token):
                raise awsxml.signature_does_not_match()
            return Caller(
                account_id=issued.account_id,
                arn=issued.arn,
                user_id=issued.user_id,
                temporary=True,
                user_name=issued.user_name,
                issued=issued,
            )
        key = iamstate.find_user_key(auth.access_key_id)
        # A long-term key sent with a session token, an inactive key or an unknown one: all "invalid".
        if key is None or not key.active or token is not None:
            raise awsxml.invalid_client_token_id()
        if not self._signature_ok(request, auth, headers, key.secret_access_key, None):
            raise awsxml.signature_does_not_match()
        return Caller(
            account_id=key.account_id,
            arn=key.user_arn,
            user_id=key.user_id,
            temporary=False,
            user_name=key.user_name,
            issued=None,
        )

    def _signature_ok(
        self, request: _Request, auth: SignedRequestInfo, headers: dict[str, str], secret: str, token: str | None
    ) -> bool:
        self._check_request_time(headers.get("x-amz-date", ""))
        environ = request.environ
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if not raw:
            raw = urllib.parse.quote(environ.get("PATH_INFO", "/"))
            if environ.get("QUERY_STRING"):
                raw += "?" + environ["QUERY_STRING"]
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{headers.get('host', '')}{raw}"
        return signature_matches(auth, environ["REQUEST_METHOD"], url, headers, request.body, secret, token)

    def _check_request_time(self, stamp: str) -> None:
        """AWS refuses signatures made more than 15 minutes before or after its own clock."""
        try:
            signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return  # no usable date: the signature check fails on its own
        now = self._now().replace(microsecond=0)
        if signed_at < now - SIGNATURE_SKEW:
            raise awsxml.signature_does_not_match(
                f"Signature expired: {stamp} is now earlier than {_stamp(now - SIGNATURE_SKEW)} "
                f"({_stamp(now)} - 15 min.)"
            )
        if signed_at > now + SIGNATURE_SKEW:
            raise awsxml.signature_does_not_match(
                f"Signature not yet current: {stamp} is still later than {_stamp(now + SIGNATURE_SKEW)} "
                f"({_stamp(now)} + 15 min.)"
            )

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def _check_mfa(self, caller: Caller, params: dict[str, str]) -> datetime | None:
        """Validate SerialNumber/TokenCode; return when MFA was proven, or None when none was offered."""
        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if serial is None and code is None:
            return None
        if serial is None or code is None:
            raise awsxml.access_denied(MFA_BOTH_REQUIRED)
        device = iamstate.find_mfa_device(serial)
        if (
            device is None
            or device.user_name is None
            or device.account_id != caller.account_id
            or (caller.user_name is not None and device.user_name != caller.user_name)
        ):
            raise awsxml.access_denied(MFA_UNKNOWN_DEVICE)
        now = self.clock()
        if self.state.mfa_locked(device.serial, now):
            # As AWS does after MFA_LOCK_AFTER refused codes in a row: any code, good or bad, gets the words of an
            # unknown device until the lock passes.
            raise awsxml.access_denied(MFA_UNKNOWN_DEVICE)
        step = totp.matching_step(device.seed, code, now)
        # A code works once per device, as on AWS: a replay is refused even inside its window.
        if step is None or not self.state.use_code(device.serial, step):
            self.state.mfa_refused(device.serial, now)
            raise awsxml.access_denied(MFA_INVALID_CODE)
        self.state.mfa_accepted(device.serial)
        return datetime.fromtimestamp(now, timezone.utc)

    def _lifetime(self, requested: int) -> int:
        with self.state.lock:
            override = self.state.credential_lifetime
        return requested if override is None else override

    def _issue(self, request: _Request, **identity: Any) -> IssuedCredential:
        """New temporary credentials for ``identity`` (kind, account, ARN...), living as DurationSeconds asks
        (default 12 h, as GetSessionToken and GetFederationToken have it), recorded for authentication."""
        duration = int(request.params.get("DurationSeconds", "43200"))
        issued = IssuedCredential(
            access_key_id=new_session_access_key_id(),
            secret_access_key=new_secret_access_key(),
            session_token=new_session_token(),
            expiration=self._now().replace(microsecond=0) + timedelta(seconds=self._lifetime(duration)),
            **identity,
        )
        self.state.record(issued)
        return issued

    def _get_session_token(self, request: _Request, caller: Caller) -> tuple[int, list[tuple[str, str]], bytes]:
        problem = validation.check(request.params, validation.GET_SESSION_TOKEN)
        if problem is not None:
            raise problem
        if caller.temporary:
            raise awsxml.access_denied(SESSION_CREDENTIALS_GST)
        mfa_at = self._check_mfa(caller, request.params)
        issued = self._issue(
            request,
            kind="session",
            account_id=caller.account_id,
            arn=caller.arn,
            user_id=caller.user_id,
            user_name=caller.user_name,
            mfa_authenticated_at=mfa_at,
        )
        return _ok(
            awsxml.session_token_xml(
                issued.access_key_id,
                issued.secret_access_key,
                issued.session_token,
                format_iso_z(issued.expiration),
                request.request_id,
            )
        )

    def _get_federation_token(self, request: _Request, caller: Caller) -> tuple[int, list[tuple[str, str]], bytes]:
        """GetFederationToken: an IAM user's long-term keys only (as on AWS), a federated-user session."""
        problem = validation.check(request.params, validation.GET_FEDERATION_TOKEN)
        if problem is not None:
            raise problem
        if caller.temporary:
            raise awsxml.access_denied(SESSION_CREDENTIALS_GFT)
        if "Policy" in request.params:
            try:
                json.loads(request.params["Policy"])
            except ValueError:
                raise awsxml.StsError(
                    "MalformedPolicyDocument", "The policy is not in the valid JSON format.", 400
                ) from None
        name = request.params["Name"]
        issued = self._issue(
            request,
            kind="federated-user",
            account_id=caller.account_id,
            arn=f"arn:aws:sts::{caller.account_id}:federated-user/{name}",
            user_id=f"{caller.account_id}:{name}",
            session_name=name,
        )
        return _ok(
            awsxml.federation_token_xml(
                issued.access_key_id,
                issued.secret_access_key,
                issued.session_token,
                format_iso_z(issued.expiration),
                issued.user_id,
                issued.arn,
                request.request_id,
            )
        )

    def _context(self, caller: Caller, params: dict[str, str], mfa_at: datetime | None) -> policy.RequestContext:
        now = self._now()
        values: dict[str, tuple[str, ...]] = {
            "aws:principalaccount": (caller.account_id,),
            "aws:userid": (caller.user_id,),
            "aws:currenttime": (format_iso_z(now),),
            "aws:epochtime": (str(int(now.timestamp())),),
            "sts:rolesessionname": (params.get("RoleSessionName", ""),),
        }
        issued = caller.issued
        if issued is not None and issued.kind == "assumed-role":
            values["aws:principalarn"] = (issued.role_arn or caller.arn,)
            values["aws:principaltype"] = ("AssumedRole",)
        else:
            values["aws:principalarn"] = (caller.arn,)
            values["aws:principaltype"] = ("User",)
        if caller.user_name is not None:
            values["aws:username"] = (caller.user_name,)
        if "ExternalId" in params:
            values["sts:externalid"] = (params["ExternalId"],)
        if mfa_at is not None:
            values["aws:multifactorauthpresent"] = ("true",)
            values["aws:multifactorauthage"] = (str(int((now - mfa_at).total_seconds())),)
        elif caller.temporary:
            # Temporary credentials made without MFA carry the key as false; long-term keys do not carry it.
            values["aws:multifactorauthpresent"] = ("false",)
        return policy.RequestContext(values)

    def _assume_role(self, request: _Request, caller: Caller) -> tuple[int, list[tuple[str, str]], bytes]:
        params = request.params
        problem = validation.check(params, validation.ASSUME_ROLE)
        if problem is not None:
            raise problem
        mfa_at = self._check_mfa(caller, params)
        if mfa_at is None and caller.issued is not None:
            mfa_at = caller.issued.mfa_authenticated_at
        role_arn = params["RoleArn"]
        role = iamstate.find_role(role_arn)
        context = self._context(caller, params, mfa_at)
        # AWS answers an unknown role exactly like a refused one, so nobody can probe for role names.
        if role is None or not policy.is_allowed(role.trust_policy, caller.principal, "sts:AssumeRole", context):
            raise awsxml.not_authorized(caller.arn, "sts:AssumeRole", role_arn)
        duration = int(params.get("DurationSeconds", "3600"))
        if duration > role.max_session_duration:
            raise awsxml.validation_error(MAX_SESSION_EXCEEDED)
        if caller.temporary and duration > ROLE_CHAINING_LIMIT:
            raise awsxml.validation_error(CHAINING_EXCEEDED)
        lifetime = self._lifetime(duration)
        body = request.body
        if lifetime != duration or "DurationSeconds" not in params:
            # moto takes the expiry from DurationSeconds: hand it the lifetime the sandbox wants.
            body = urllib.parse.urlencode({**params, "DurationSeconds": str(lifetime)}).encode()
        status, headers, payload = self._moto(request, body)
        if status == 200:
            payload = _aws_shaped(payload, request.request_id)
            headers = [(k, v) for k, v in headers if k.lower() != "x-amzn-requestid"]
            headers.append(("x-amzn-RequestId", request.request_id))
            self._record_assumed_role(payload, caller, role, params["RoleSessionName"], mfa_at)
        return status, headers, payload

    def _record_assumed_role(
        self, payload: bytes, caller: Caller, role: iamstate.RoleInfo, session_name: str, mfa_at: datetime | None
    ) -> None:
        root = ET.fromstring(payload)

        def text(name: str) -> str:
            for element in root.iter():
                if element.tag.rsplit("}", 1)[-1] == name and element.text:
                    return element.text
            raise ValueError(f"moto's AssumeRole response has no {name}")

        self.state.record(
            IssuedCredential(
                access_key_id=text("AccessKeyId"),
                secret_access_key=text("SecretAccessKey"),
                session_token=text("SessionToken"),
                expiration=parse_timestamp(text("Expiration")),
                kind="assumed-role",
                account_id=role.account_id,
                arn=text("Arn"),
                user_id=text("AssumedRoleId"),
                role_arn=role.arn,
                role_name=role.name,
                session_name=session_name,
                mfa_authenticated_at=mfa_at,
                chained=caller.temporary,
            )
        )


# ---------------------------------------------------------------------- helpers


_EXPIRATION_RE = re.compile(rb"<Expiration>(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+Z</Expiration>")
_REQUEST_ID_RE = re.compile(rb"<RequestId>[^<]*</RequestId>")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _aws_shaped(payload: bytes, request_id: str) -> bytes:
    """moto's answer as AWS writes it: whole-second expirations, a UUID request id."""
    payload = _EXPIRATION_RE.sub(rb"<Expiration>\1Z</Expiration>", payload)
    return _REQUEST_ID_RE.sub(b"<RequestId>" + request_id.encode() + b"</RequestId>", payload)


def _ok(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    return 200, [("Content-Type", "text/xml")], payload


def _lower_headers(environ: WSGIEnvironment) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = environ["CONTENT_LENGTH"]
    return headers
