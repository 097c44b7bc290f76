"""IAM Identity Center in the sandbox: sso-oidc, the portal and the browser pages, strict like AWS, through
real botocore clients (and the real AWS CLI for botocore's own SSO provider), never mocks."""

from __future__ import annotations

import base64
import configparser
import hashlib
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import AwsHome, run_aws
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

pytest_plugins = ["sandbox_fixtures"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REDIRECT = "http://127.0.0.1/oauth/callback"


def sso_client(sb: Sandbox, service: str, **config: Any) -> Any:
    """A real botocore client for ``sso-oidc`` or ``sso``, unsigned as the AWS CLI makes them."""
    return botocore.session.Session().create_client(
        service,
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, **config),
    )


def sts_from(sb: Sandbox, role_credentials: dict[str, Any]) -> Any:
    """An STS client with role credentials from the portal."""
    return botocore.session.Session().create_client(
        "sts",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=role_credentials["accessKeyId"],
        aws_secret_access_key=role_credentials["secretAccessKey"],
        aws_session_token=role_credentials["sessionToken"],
    )


def fails(call: Callable[[], Any], code: str, status: int) -> dict[str, Any]:
    """``call`` fails with this error code and HTTP status; returns botocore's parsed error response."""
    with pytest.raises(ClientError) as caught:
        call()
    response: dict[str, Any] = caught.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    return response


class DeviceLogin:
    """A registration and a device authorization, polled like the AWS CLI polls."""

    def __init__(self, sb: Sandbox) -> None:
        self.oidc = sso_client(sb, "sso-oidc")
        self.registration = self.oidc.register_client(clientName="botocore-client-sandbox", clientType="public")
        self.authorization = self.oidc.start_device_authorization(
            clientId=self.registration["clientId"],
            clientSecret=self.registration["clientSecret"],
            startUrl=sb.sso_start_url,
        )

    @property
    def user_code(self) -> str:
        return str(self.authorization["userCode"])

    def poll(self, **overrides: str) -> dict[str, Any]:
        arguments = {
            "grantType": DEVICE_GRANT,
            "clientId": self.registration["clientId"],
            "clientSecret": self.registration["clientSecret"],
            "deviceCode": self.authorization["deviceCode"],
            **overrides,
        }
        response: dict[str, Any] = self.oidc.create_token(**arguments)
        return response


def signed_in(sb: Sandbox) -> dict[str, Any]:
    """A completed device login: the CreateToken response."""
    login = DeviceLogin(sb)
    sb.sso_approve(login.user_code)
    return login.poll()


# ---------------------------------------------------------------------- seeded data and files


def test_seeded_instance_and_profiles(sandbox: Sandbox) -> None:
    assert (sandbox.sso_start_url, sandbox.sso_region, sandbox.sso_user) == (
        "https://d-90sandbox01.awsapps.com/start",
        "us-east-1",
        "alice@example.com",
    )
    assert [(a.account_id, a.name, a.roles) for a in sandbox.sso_accounts] == [
        ("123456789012", "sandbox-main", ("AdministratorAccess", "ReadOnlyAccess")),
        ("210987654321", "sandbox-partner", ("ReadOnlyAccess",)),
    ]
    config = configparser.ConfigParser()
    config.read_string(sandbox.profiles_config())
    assert dict(config["sso-session sandbox"]) == {
        "sso_start_url": sandbox.sso_start_url,
        "sso_region": "us-east-1",
        "sso_registration_scopes": "sso:account:access",
    }
    common = {"region": "us-east-1", "endpoint_url": sandbox.endpoint_url,
              "console_federation_endpoint": sandbox.federation_endpoint}
    assert dict(config["profile sso-admin"]) == {
        "sso_session": "sandbox",
        "sso_account_id": "123456789012",
        "sso_role_name": "AdministratorAccess",
        **common,
    }
    assert dict(config["profile sso-readonly"])["sso_role_name"] == "ReadOnlyAccess"
    assert dict(config["profile sso-legacy"]) == {
        "sso_start_url": sandbox.sso_start_url,
        "sso_region": "us-east-1",
        "sso_account_id": "123456789012",
        "sso_role_name": "ReadOnlyAccess",
        **common,
    }
    assert dict(config["profile sso-chained"]) == {
        "role_arn": sandbox.role_arn("readonly"),
        "source_profile": "sso-admin",
        **common,
    }
    # The STS profiles come first, in their old order.
    assert config.sections()[:6] == [
        "default",
        "profile readonly",
        "profile admin",
        "profile partner",
        "profile deploy",
        "profile ops",
    ]


# ---------------------------------------------------------------------- the device flow


def test_device_flow_pending_then_approved(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    registration, authorization = login.registration, login.authorization
    assert registration["clientSecretExpiresAt"] - registration["clientIdIssuedAt"] == 90 * 86400
    assert "authorizationEndpoint" not in registration  # only for authorization_code registrations
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", login.user_code)
    assert authorization["verificationUri"] == f"{sandbox.endpoint_url}/device"
    assert authorization["verificationUriComplete"] == f"{sandbox.endpoint_url}/device?user_code={login.user_code}"
    assert (authorization["expiresIn"], authorization["interval"]) == (600, 1)
    assert len(authorization["deviceCode"]) >= 64

    pending = fails(login.poll, "AuthorizationPendingException", 400)
    assert pending["error"] == "authorization_pending"
    assert pending["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "AuthorizationPendingException"
    sandbox.sso_approve(login.user_code.lower().replace("-", ""))  # as a person may type it
    token = login.poll()
    assert token["tokenType"] == "Bearer" and token["expiresIn"] == 3600
    assert token["accessToken"] and token["refreshToken"]  # refresh tokens for every flow, as AWS does now
    assert sandbox.calls("sso-oidc:CreateToken") == 2
    assert sandbox.calls("sso-oidc:RegisterClient") == sandbox.calls("sso-oidc:StartDeviceAuthorization") == 1
    # The device code is spent, and the approval cannot be given twice.
    assert fails(login.poll, "InvalidGrantException", 400)["error"] == "invalid_grant"
    with pytest.raises(ValueError, match="No pending request"):
        sandbox.sso_approve(login.user_code)


def test_polling_faster_than_the_interval_is_told_to_slow_down(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    fails(login.poll, "AuthorizationPendingException", 400)
    slow = fails(login.poll, "SlowDownException", 400)
    assert slow["error"] == "slow_down"
    time.sleep(1.05)
    fails(login.poll, "AuthorizationPendingException", 400)
    # With the interval at 0 nothing is too fast.
    sandbox.set_sso_lifetimes(interval=0)
    quick = DeviceLogin(sandbox)
    assert quick.authorization["interval"] == 0
    for _ in range(3):
        fails(quick.poll, "AuthorizationPendingException", 400)


def test_denied_request(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    sandbox.sso_deny(login.user_code)
    assert fails(login.poll, "AccessDeniedException", 400)["error"] == "access_denied"
    fails(login.poll, "AccessDeniedException", 400)


def test_expired_device_code(sandbox: Sandbox) -> None:
    sandbox.set_sso_lifetimes(device_code=1)
    login = DeviceLogin(sandbox)
    assert login.authorization["expiresIn"] == 1
    time.sleep(1.1)
    assert fails(login.poll, "ExpiredTokenException", 400)["error"] == "expired_token"
    with pytest.raises(ValueError):
        sandbox.sso_approve(login.user_code)


def test_wrong_client_and_unknown_device_code(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    other = login.oidc.register_client(clientName="other", clientType="public")
    invalid = fails(lambda: login.poll(clientSecret="not-the-secret"), "InvalidClientException", 401)
    assert invalid["error"] == "invalid_client"
    fails(lambda: login.poll(clientId="no-such-client"), "InvalidClientException", 401)
    # Another client's code, or a made-up one, is not a grant.
    fails(
        lambda: login.poll(clientId=other["clientId"], clientSecret=other["clientSecret"]), "InvalidGrantException", 400
    )
    fails(lambda: login.poll(deviceCode="made-up"), "InvalidGrantException", 400)
    fails(lambda: login.poll(grantType="password"), "UnsupportedGrantTypeException", 400)


def test_expired_registration_is_refused(sandbox: Sandbox) -> None:
    sandbox.set_sso_lifetimes(registration=1)
    oidc = sso_client(sandbox, "sso-oidc")
    registration = oidc.register_client(clientName="short", clientType="public")
    assert registration["clientSecretExpiresAt"] - registration["clientIdIssuedAt"] == 1
    time.sleep(1.1)
    refused = fails(
        lambda: oidc.start_device_authorization(
            clientId=registration["clientId"], clientSecret=registration["clientSecret"], startUrl=sandbox.sso_start_url
        ),
        "InvalidClientException",
        401,
    )
    assert "expired" in refused["error_description"]


def test_registration_and_start_url_checks(sandbox: Sandbox) -> None:
    oidc = sso_client(sandbox, "sso-oidc")
    fails(
        lambda: oidc.register_client(clientName="x", clientType="confidential"), "InvalidClientMetadataException", 400
    )
    for uri in ("https://127.0.0.1/cb", "http://localhost/cb", "http://example.com/cb"):
        fails(
            lambda uri=uri: oidc.register_client(
                clientName="x",
                clientType="public",
                grantTypes=["authorization_code"],
                redirectUris=[uri],
                issuerUrl=sandbox.sso_start_url,
            ),
            "InvalidRedirectUriException",
            400,
        )
    fails(
        lambda: oidc.register_client(clientName="x", clientType="public", grantTypes=["password"]),
        "UnsupportedGrantTypeException",
        400,
    )
    registration = oidc.register_client(clientName="x", clientType="public")
    start = oidc.start_device_authorization
    keys = {"clientId": registration["clientId"], "clientSecret": registration["clientSecret"]}
    wrong = fails(
        lambda: start(**keys, startUrl="https://d-0000000000.awsapps.com/start"), "InvalidRequestException", 400
    )
    assert wrong["error_description"] == "Invalid start URL"
    start(**keys, startUrl=sandbox.sso_start_url + "/#/")  # the forms people copy from the browser work


# ---------------------------------------------------------------------- the authorization-code flow (PKCE)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(sb: Sandbox, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """GET ``path`` (or POST ``form`` to it) with urllib, redirects not followed: status, headers, text."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(sb.endpoint_url + path, data=data, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match is not None, page
    return match[1]


class CodeLogin:
    """The AWS CLI v2's authorization-code flow: registration, the URL it opens, the exchange."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.oidc = sso_client(sb, "sso-oidc")
        self.registration = self.oidc.register_client(
            clientName="botocore-client-sandbox",
            clientType="public",
            grantTypes=["authorization_code", "refresh_token"],
            redirectUris=[REDIRECT],
            issuerUrl=sb.sso_start_url,
            scopes=["sso:account:access"],
        )
        self.redirect_uri = "http://127.0.0.1:48123/oauth/callback"  # the CLI's callback server, any port

    def authorize_url(self, verifier: str, state: str, **changes: str) -> str:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode()
        query = {
            "response_type": "code",
            "client_id": self.registration["clientId"],
            "redirect_uri": self.redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "scopes": "sso:account:access",
            **changes,
        }
        # As the CLI does: the challenge appended unencoded, its final '=' trimmed.
        return (
            f"/authorize?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}&code_challenge={challenge[:-1]}"
        )

    def consent(self, verifier: str, state: str, decision: str = "allow") -> str:
        """Open the page, press a button; returns the Location the browser is sent to."""
        status, _, page = http(self.sb, self.authorize_url(verifier, state))
        assert status == 200, page
        assert 'id="allow"' in page and 'id="deny"' in page and self.sb.sso_user in page
        status, headers, _ = http(
            self.sb, "/authorize/decision", {"request": hidden(page, "request"), "decision": decision}
        )
        assert status == 302
        return headers["Location"]

    def exchange(self, code: str, verifier: str, **overrides: str) -> dict[str, Any]:
        arguments = {
            "grantType": "authorization_code",
            "clientId": self.registration["clientId"],
            "clientSecret": self.registration["clientSecret"],
            "redirectUri": self.redirect_uri,
            "codeVerifier": verifier,
            "code": code,
            **overrides,
        }
        response: dict[str, Any] = self.oidc.create_token(**arguments)
        return response


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def redirected(location: str) -> dict[str, str]:
    parts = urllib.parse.urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://127.0.0.1:48123/oauth/callback"
    return dict(urllib.parse.parse_qsl(parts.query))


def test_pkce_flow_exchange_and_replay(sandbox: Sandbox) -> None:
    login = CodeLogin(sandbox)
    assert login.registration["authorizationEndpoint"] == f"{sandbox.endpoint_url}/authorize"
    assert login.registration["tokenEndpoint"] == f"{sandbox.endpoint_url}/token"
    verifier = new_verifier()
    query = redirected(login.consent(verifier, "state-1"))
    assert query["state"] == "state-1" and query["code"]
    token = login.exchange(query["code"], verifier)
    assert token["tokenType"] == "Bearer" and token["refreshToken"]
    portal = sso_client(sandbox, "sso")
    portal.list_accounts(accessToken=token["accessToken"])
    # A code works once; its replay revokes what it was exchanged for (RFC 6749 10.5).
    fails(lambda: login.exchange(query["code"], verifier), "InvalidGrantException", 400)
    fails(lambda: portal.list_accounts(accessToken=token["accessToken"]), "UnauthorizedException", 401)


def test_pkce_wrong_verifier_burns_the_code(sandbox: Sandbox) -> None:
    login = CodeLogin(sandbox)
    verifier = new_verifier()
    code = redirected(login.consent(verifier, "s"))["code"]
    fails(lambda: login.exchange(code, new_verifier()), "InvalidGrantException", 400)
    fails(lambda: login.exchange(code, verifier), "InvalidGrantException", 400)
    # The redirect URI and the client must be the ones of the authorization.
    code = redirected(login.consent(verifier, "s"))["code"]
    fails(
        lambda: login.exchange(code, verifier, redirectUri="http://127.0.0.1:1/oauth/callback"),
        "InvalidGrantException",
        400,
    )
    other = CodeLogin(sandbox)
    code = redirected(login.consent(verifier, "s"))["code"]
    fails(
        lambda: other.exchange(code, verifier),
        "InvalidGrantException",
        400,
    )


def test_pkce_deny_and_invalid_requests(sandbox: Sandbox) -> None:
    login = CodeLogin(sandbox)
    query = redirected(login.consent(new_verifier(), "st", decision="deny"))
    assert query["error"] == "access_denied" and query["state"] == "st" and query["error_description"]
    verifier = new_verifier()
    for changes in (
        {"redirect_uri": "http://127.0.0.1:48123/elsewhere"},
        {"redirect_uri": "http://localhost:48123/oauth/callback"},
        {"client_id": "unknown"},
        {"code_challenge_method": "plain"},
        {"response_type": "token"},
    ):
        status, headers, page = http(sandbox, login.authorize_url(verifier, "s", **changes))
        assert status == 400 and 'id="error"' in page and "Location" not in headers, changes
    # A device-flow registration cannot use /authorize.
    device = DeviceLogin(sandbox)
    status, _, page = http(sandbox, login.authorize_url(verifier, "s", client_id=device.registration["clientId"]))
    assert status == 400 and 'id="error"' in page


def test_authorization_code_expires_after_five_minutes() -> None:
    # Five minutes are not waited for over HTTP: the same rules, driven by explicit times.
    from rolecall.sandbox.ssomodel import SsoError, pkce_challenge
    from rolecall.sandbox.ssostate import SsoState

    state = SsoState()
    state.reset("https://d-90sandbox01.awsapps.com/start", "us-east-1", "alice@example.com", [])
    registered = state.register_client(
        0,
        {
            "clientName": "c",
            "clientType": "public",
            "grantTypes": ["authorization_code", "refresh_token"],
            "redirectUris": [REDIRECT],
            "issuerUrl": "https://d-90sandbox01.awsapps.com/start",
        },
        "http://127.0.0.1:1",
    )
    verifier = new_verifier()
    redirect = "http://127.0.0.1:5000/oauth/callback"
    query = {
        "response_type": "code",
        "client_id": registered["clientId"],
        "redirect_uri": redirect,
        "code_challenge_method": "S256",
        "code_challenge": pkce_challenge(verifier),
    }
    codes = []
    for _ in range(2):
        request, _ = state.begin_authorization(0, query)
        codes.append(redirected_code(state.decide_authorization(0, request.request_id, True)))
    exchange = {
        "grantType": "authorization_code",
        "clientId": registered["clientId"],
        "clientSecret": registered["clientSecret"],
        "redirectUri": redirect,
        "codeVerifier": verifier,
    }
    assert state.create_token(299, {**exchange, "code": codes[0]})["accessToken"]
    with pytest.raises(SsoError) as caught:
        state.create_token(300, {**exchange, "code": codes[1]})
    assert caught.value.code == "ExpiredTokenException"  # what the AWS CLI catches as an expired login


def redirected_code(location: str) -> str:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]


# ---------------------------------------------------------------------- refresh, logout, revocation


def test_refresh_rotates_tokens(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    sandbox.sso_approve(login.user_code)
    first = login.poll()

    def refresh(token: str) -> dict[str, Any]:
        response: dict[str, Any] = login.oidc.create_token(
            grantType="refresh_token",
            clientId=login.registration["clientId"],
            clientSecret=login.registration["clientSecret"],
            refreshToken=token,
        )
        return response

    second = refresh(first["refreshToken"])
    assert second["accessToken"] != first["accessToken"] and second["refreshToken"] != first["refreshToken"]
    fails(lambda: refresh(first["refreshToken"]), "InvalidGrantException", 400)  # each works once
    portal = sso_client(sandbox, "sso")
    portal.list_accounts(accessToken=second["accessToken"])
    portal.logout(accessToken=second["accessToken"])
    fails(lambda: refresh(second["refreshToken"]), "InvalidGrantException", 400)
    fails(lambda: portal.list_accounts(accessToken=second["accessToken"]), "UnauthorizedException", 401)
    fails(lambda: refresh("made-up"), "InvalidGrantException", 400)


def test_refresh_token_ends_with_the_sign_in_session(sandbox: Sandbox) -> None:
    sandbox.set_sso_lifetimes(refresh_token=1)
    login = DeviceLogin(sandbox)
    sandbox.sso_approve(login.user_code)
    token = login.poll()
    assert token["expiresIn"] == 1  # an access token does not outlive its session
    time.sleep(1.1)
    fails(
        lambda: login.oidc.create_token(
            grantType="refresh_token",
            clientId=login.registration["clientId"],
            clientSecret=login.registration["clientSecret"],
            refreshToken=token["refreshToken"],
        ),
        "InvalidGrantException",
        400,
    )


def test_logout_then_get_role_credentials_is_unauthorized(sandbox: Sandbox) -> None:
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")
    portal.logout(accessToken=token)
    refused = fails(
        lambda: portal.get_role_credentials(roleName="ReadOnlyAccess", accountId="123456789012", accessToken=token),
        "UnauthorizedException",
        401,
    )
    assert refused["Error"]["Message"] == "Session token not found or invalid"
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.logout(accessToken=token)


def test_expired_and_revoked_access_tokens(sandbox: Sandbox) -> None:
    portal = sso_client(sandbox, "sso")
    kept = signed_in(sandbox)["accessToken"]
    sandbox.set_sso_lifetimes(access_token=1)
    short = signed_in(sandbox)["accessToken"]
    time.sleep(1.1)
    fails(lambda: portal.list_accounts(accessToken=short), "UnauthorizedException", 401)
    portal.list_accounts(accessToken=kept)
    sandbox.sso_revoke_all()
    fails(lambda: portal.list_accounts(accessToken=kept), "UnauthorizedException", 401)
    fails(lambda: portal.list_accounts(accessToken="made-up"), "UnauthorizedException", 401)


# ---------------------------------------------------------------------- role credentials and STS


def test_role_credentials_are_an_sso_role_session_for_sts(sandbox: Sandbox) -> None:
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")
    before = time.time()
    credentials = portal.get_role_credentials(
        roleName="AdministratorAccess", accountId="123456789012", accessToken=token
    )["roleCredentials"]
    assert credentials["accessKeyId"].startswith("ASIA")
    assert before + 3590 < credentials["expiration"] / 1000 < before + 3610  # epoch milliseconds
    sts = sts_from(sandbox, credentials)
    identity = sts.get_caller_identity()
    arn = identity["Arn"]
    assert re.fullmatch(
        r"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_[0-9a-f]{16}/alice@example\.com",
        arn,
    )
    assert arn == sandbox.sso_assumed_role_arn("AdministratorAccess")
    assert re.fullmatch(r"AROA[A-Z2-7]{17}:alice@example\.com", identity["UserId"])
    # The reserved role's name is stable per account and role.
    again = portal.get_role_credentials(roleName="AdministratorAccess", accountId="123456789012", accessToken=token)
    assert sts_from(sandbox, again["roleCredentials"]).get_caller_identity()["Arn"] == arn

    # Role chaining: the seeded roles trusting the account root accept them, capped at 1 h, without MFA.
    chained = sts.assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="from-sso")
    assert chained["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/readonly/from-sso"
    fails(
        lambda: sts.assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="s2", DurationSeconds=7200),
        "ValidationError",
        400,
    )
    fails(lambda: sts.assume_role(RoleArn=sandbox.role_arn("admin"), RoleSessionName="s3"), "AccessDenied", 403)
    assert sandbox.calls("sso:GetRoleCredentials") == 2


def test_unassigned_role_is_forbidden_and_the_partner_account_works(sandbox: Sandbox) -> None:
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")
    for role, account in (("Billing", "123456789012"), ("AdministratorAccess", "210987654321"), ("X", "999999999999")):
        refused = fails(
            lambda role=role, account=account: portal.get_role_credentials(
                roleName=role, accountId=account, accessToken=token
            ),
            "ForbiddenException",
            403,
        )
        assert refused["Error"]["Message"] == "No access"
    partner = portal.get_role_credentials(roleName="ReadOnlyAccess", accountId="210987654321", accessToken=token)
    sts = sts_from(sandbox, partner["roleCredentials"])
    assert sts.get_caller_identity()["Account"] == "210987654321"
    # The seeded "denied" role trusts only 210987654321: the partner's SSO session may assume it.
    sts.assume_role(RoleArn=sandbox.role_arn("denied"), RoleSessionName="cross")
    fails(lambda: sts.assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="no"), "AccessDenied", 403)


def test_role_credential_lifetimes(sandbox: Sandbox) -> None:
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")

    def seconds_left() -> float:
        response = portal.get_role_credentials(roleName="ReadOnlyAccess", accountId="123456789012", accessToken=token)
        return float(response["roleCredentials"]["expiration"]) / 1000 - time.time()

    sandbox.set_credential_lifetime(30)
    assert 28 < seconds_left() <= 31
    sandbox.set_sso_lifetimes(role_credentials=2)  # the SSO setting wins over the general one
    assert 0 < seconds_left() <= 3
    credentials = portal.get_role_credentials(roleName="ReadOnlyAccess", accountId="123456789012", accessToken=token)
    time.sleep(2.1)
    fails(lambda: sts_from(sandbox, credentials["roleCredentials"]).get_caller_identity(), "ExpiredToken", 403)


# ---------------------------------------------------------------------- listings


def test_pagination_over_250_accounts(sandbox: Sandbox) -> None:
    generated = sandbox.seed_sso_organization(250)
    assert len({a.account_id for a in generated}) == 250 and generated[0].name == "acct-0001"
    assert all(re.fullmatch(r"\d{12}", a.account_id) for a in generated)
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")
    accounts = portal.get_paginator("list_accounts").paginate(accessToken=token).build_full_result()["accountList"]
    assert [a["accountId"] for a in accounts] == [a.account_id for a in generated]
    assert sandbox.calls("sso:ListAccounts") == 13  # 20 a page
    pairs = []
    for account in accounts:
        pages = portal.get_paginator("list_account_roles").paginate(
            accessToken=token, accountId=account["accountId"], PaginationConfig={"PageSize": 2}
        )
        pairs += [(role["accountId"], role["roleName"]) for role in pages.build_full_result()["roleList"]]
    assert len(pairs) == len(set(pairs)) == 750
    assert {name for _, name in pairs} == {"AdministratorAccess", "ReadOnlyAccess", "Billing"}
    first = portal.list_accounts(accessToken=token, maxResults=100)
    assert len(first["accountList"]) == 100 and first["nextToken"]
    # A next token is opaque and bound to its listing.
    fails(lambda: portal.list_accounts(accessToken=token, nextToken="bm90LWEtdG9rZW4="), "InvalidRequestException", 400)
    fails(
        lambda: portal.list_account_roles(
            accessToken=token, accountId=generated[0].account_id, nextToken=first["nextToken"]
        ),
        "InvalidRequestException",
        400,
    )
    assert portal.list_account_roles(accessToken=token, accountId="000000000000")["roleList"] == []


def test_seeding_two_thousand_accounts_is_fast(sandbox: Sandbox) -> None:
    started = time.perf_counter()
    sandbox.seed_sso_organization(2000, roles=("ReadOnlyAccess",))
    assert time.perf_counter() - started < 1
    assert len(sandbox.sso_accounts) == 2000


def test_throttle_and_server_errors_are_retried(sandbox: Sandbox) -> None:
    token = signed_in(sandbox)["accessToken"]
    portal = sso_client(sandbox, "sso")
    sandbox.inject_fault("ListAccountRoles", "throttle")
    roles = portal.list_account_roles(accessToken=token, accountId="123456789012")
    assert len(roles["roleList"]) == 2 and roles["ResponseMetadata"]["RetryAttempts"] == 1
    assert sandbox.calls("sso:ListAccountRoles") == 2
    sandbox.inject_fault("sso:GetRoleCredentials", "error500")
    portal.get_role_credentials(roleName="ReadOnlyAccess", accountId="123456789012", accessToken=token)
    assert sandbox.calls("sso:GetRoleCredentials") == 2
    # Without retries the fault shows as it is answered.
    once = sso_client(sandbox, "sso", retries={"total_max_attempts": 1, "mode": "standard"})
    sandbox.inject_fault("ListAccounts", "throttle")
    refused = fails(lambda: once.list_accounts(accessToken=token), "TooManyRequestsException", 429)
    assert refused["Error"]["Message"] == "Rate exceeded"
    oidc = sso_client(sandbox, "sso-oidc", retries={"total_max_attempts": 1, "mode": "standard"})
    sandbox.inject_fault("RegisterClient", "error500")
    fails(lambda: oidc.register_client(clientName="x", clientType="public"), "InternalServerException", 500)
    # "*" stays the STS wildcard.
    sandbox.inject_fault("*", "throttle")
    portal.list_accounts(accessToken=token)
    sandbox.clear_faults()


# ---------------------------------------------------------------------- the verification page


def test_device_page_and_decision(sandbox: Sandbox) -> None:
    login = DeviceLogin(sandbox)
    status, _, page = http(sandbox, "/device")
    assert status == 200 and 'name="user_code"' in page
    status, _, page = http(sandbox, "/device?user_code=BBBB-CCCC")
    assert status == 400 and 'id="error"' in page
    path = urllib.parse.urlsplit(login.authorization["verificationUriComplete"])
    status, _, page = http(sandbox, f"{path.path}?{path.query}")
    assert status == 200
    for text in (sandbox.sso_start_url, "botocore-client-sandbox", login.user_code):
        assert text in page
    assert "Signed in as alice@example.com (sandbox directory)" in page
    assert '<button id="allow" name="decision" value="allow">Allow</button>' in page
    assert '<button id="deny" name="decision" value="deny">Deny</button>' in page
    form = {"user_code": hidden(page, "user_code"), "decision": "allow"}
    status, _, page = http(sandbox, "/device/decision", form)
    assert status == 200 and re.search(r'<p id="result">Request approved</p>', page)
    assert login.poll()["accessToken"]
    status, _, page = http(sandbox, "/device/decision", form)  # decided already
    assert status == 400 and 'id="error"' in page

    denied = DeviceLogin(sandbox)
    status, _, page = http(sandbox, "/device/decision", {"user_code": denied.user_code, "decision": "deny"})
    assert status == 200 and "Request denied" in page
    fails(denied.poll, "AccessDeniedException", 400)


# ---------------------------------------------------------------------- botocore's own SSO provider


def arn_of(profile: str, env: dict[str, str]) -> str:
    result = run_aws(["--profile", profile, "sts", "get-caller-identity", "--query", "Arn", "--output", "text"], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_botocore_sso_provider_through_the_aws_cli(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    cache = Path(sandbox.write_sso_token_cache(aws_home.root))
    assert cache.name == hashlib.sha1(b"sandbox").hexdigest() + ".json" and cache.stat().st_mode & 0o777 == 0o600
    assert arn_of("sso-admin", env) == sandbox.sso_assumed_role_arn("AdministratorAccess")
    assert arn_of("sso-readonly", env) == sandbox.sso_assumed_role_arn("ReadOnlyAccess")
    assert arn_of("sso-chained", env).startswith("arn:aws:sts::123456789012:assumed-role/readonly/")
    sandbox.write_sso_token_cache(aws_home.root, legacy=True)
    assert arn_of("sso-legacy", env) == sandbox.sso_assumed_role_arn("ReadOnlyAccess")
    assert sandbox.calls("sso-oidc:CreateToken") == 0  # fresh tokens: nothing to refresh


def test_botocore_refreshes_a_token_about_to_expire(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    # Within botocore's 15-minute refresh window: it refreshes through CreateToken and rewrites the cache.
    sandbox.set_sso_lifetimes(access_token=120)
    cache = Path(sandbox.write_sso_token_cache(aws_home.root))
    before = json.loads(cache.read_text())
    assert arn_of("sso-admin", env) == sandbox.sso_assumed_role_arn("AdministratorAccess")
    after = json.loads(cache.read_text())
    assert sandbox.calls("sso-oidc:CreateToken") == 1
    assert after["accessToken"] != before["accessToken"] and after["refreshToken"] != before["refreshToken"]
    # Revoked sessions: the refresh fails, the cached token is refused, the CLI says to log in again.
    sandbox.sso_revoke_all()
    result = run_aws(["--profile", "sso-admin", "sts", "get-caller-identity"], env)
    assert result.returncode != 0 and "sso login" in result.stderr.lower()
