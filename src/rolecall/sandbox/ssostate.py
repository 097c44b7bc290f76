"""IAM Identity Center in the sandbox: the directory, client registrations, pending authorizations, sign-in
sessions and their tokens, and the rules AWS applies to each (``rolecall.sandbox.sso`` speaks HTTP for it).

Every operation takes ``now`` (Unix time, from the strictness layer's clock) and raises ``SsoError`` with
the code, description and HTTP status AWS answers with. One ``SsoState`` per sandbox; every method takes
its lock, because werkzeug serves each request on its own thread.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rolecall.sandbox.ssomodel import (
    ACCOUNT_ACCESS_SCOPE,
    AUTH_CODE_GRANT,
    AUTH_CODE_LIFETIME,
    CHALLENGE_RE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_ROLE_CREDENTIALS_LIFETIME,
    DEVICE_GRANT,
    GRANT_TYPES,
    MAX_PAGE_SIZE,
    NO_ACCESS,
    REFRESH_GRANT,
    UNAUTHORIZED,
    USER_CODE_ALPHABET,
    VERIFIER_RE,
    AccessToken,
    AuthorizationCode,
    AuthorizationRequest,
    Client,
    DeviceAuthorization,
    RefreshToken,
    SignIn,
    SsoAccount,
    SsoLifetimes,
    assumed_role_arn,
    check_accounts,
    loopback_redirect,
    normalize_user_code,
    pkce_challenge,
    redirect_matches,
    required_param,
    reserved_role_arn,
    reserved_role_name,
    role_id,
    sso_error,
    string_param,
    strings_param,
    with_query,
)
from rolecall.sandbox.state import (
    IssuedCredential,
    new_secret_access_key,
    new_session_access_key_id,
    new_session_token,
)


@dataclass
class SsoState:
    """The Identity Center instance: directory, organization, registrations, authorizations and sessions."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    start_url: str = ""
    region: str = ""
    user: str = ""
    accounts: list[SsoAccount] = field(default_factory=list)
    lifetimes: SsoLifetimes = field(default_factory=SsoLifetimes)
    clients: dict[str, Client] = field(default_factory=dict)
    devices: dict[str, DeviceAuthorization] = field(default_factory=dict)
    user_codes: dict[str, str] = field(default_factory=dict)
    requests: dict[str, AuthorizationRequest] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    sessions: dict[str, SignIn] = field(default_factory=dict)
    _by_id: dict[str, SsoAccount] = field(default_factory=dict)
    _access: dict[str, AccessToken] = field(default_factory=dict)
    _refresh: dict[str, RefreshToken] = field(default_factory=dict)
    #: Signs pagination tokens, so that a made-up or altered token is refused like AWS refuses one.
    _page_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    # ------------------------------------------------------------------ set-up

    def reset(self, start_url: str, region: str, user: str, accounts: Sequence[SsoAccount]) -> None:
        """Forget every registration, authorization and session; serve ``start_url`` for ``user``."""
        with self.lock:
            self.start_url, self.region, self.user = start_url, region, user
            self.lifetimes = SsoLifetimes()
            for table in (self.clients, self.devices, self.user_codes, self.requests, self.codes, self.sessions):
                table.clear()
            self._access.clear()
            self._refresh.clear()
            self._page_key = secrets.token_bytes(32)
            self.set_accounts(accounts)

    def set_accounts(self, accounts: Sequence[SsoAccount]) -> None:
        """Replace the organization's accounts (and the user's assignments in them)."""
        check_accounts(accounts)
        with self.lock:
            self.accounts = list(accounts)
            self._by_id = {account.account_id: account for account in self.accounts}

    def is_start_url(self, url: str) -> bool:
        """True for the instance's start URL, also written with a trailing ``/``, ``#`` or ``#/``."""
        trimmed = url.removesuffix("#/").removesuffix("#").removesuffix("/")
        return trimmed == self.start_url.removesuffix("/")

    # ------------------------------------------------------------------ sso-oidc

    def register_client(self, now: float, params: Mapping[str, Any], base_url: str) -> dict[str, Any]:
        """RegisterClient."""
        name, client_type = string_param(params, "clientName"), string_param(params, "clientType")
        if not name or not client_type:
            raise sso_error("InvalidRequestException", "clientName and clientType are required")
        if client_type != "public":
            raise sso_error("InvalidClientMetadataException", f"Invalid client type {client_type!r}: use 'public'")
        grant_types = strings_param(params, "grantTypes")
        for grant in grant_types:
            if grant not in GRANT_TYPES:
                raise sso_error("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
        scopes = strings_param(params, "scopes")
        redirect_uris = strings_param(params, "redirectUris")
        for uri in redirect_uris:
            if loopback_redirect(uri) is None:
                raise sso_error(
                    "InvalidRedirectUriException", f"Invalid redirect URI {uri!r}: use http://127.0.0.1/PATH (any port)"
                )
        if AUTH_CODE_GRANT in grant_types:
            if not redirect_uris:
                raise sso_error("InvalidRedirectUriException", "The authorization_code grant needs a redirect URI")
            issuer = string_param(params, "issuerUrl")
            if issuer is None or not self.is_start_url(issuer):
                raise sso_error("InvalidRequestException", "Invalid issuer URL: use the start URL of the instance")
        with self.lock:
            client = Client(
                client_id=secrets.token_urlsafe(16),
                client_secret="aoc" + secrets.token_urlsafe(240),
                name=name,
                scopes=scopes,
                grant_types=grant_types,
                redirect_uris=redirect_uris,
                issued_at=int(now),
                expires_at=int(now) + self.lifetimes.registration,
            )
            self.clients[client.client_id] = client
        result: dict[str, Any] = {
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
            "clientIdIssuedAt": client.issued_at,
            "clientSecretExpiresAt": client.expires_at,
        }
        if AUTH_CODE_GRANT in grant_types:
            result["authorizationEndpoint"] = f"{base_url}/authorize"
            result["tokenEndpoint"] = f"{base_url}/token"
        return result

    def _client(self, now: float, params: Mapping[str, Any]) -> Client:
        client_id, secret = string_param(params, "clientId"), string_param(params, "clientSecret")
        client = self.clients.get(client_id or "")
        if client is None or secret is None or not hmac.compare_digest(secret, client.client_secret):
            raise sso_error("InvalidClientException", "Client authentication failed: unknown clientId or wrong secret")
        if now >= client.expires_at:
            raise sso_error("InvalidClientException", "The client registration has expired: register the client again")
        return client

    def start_device_authorization(self, now: float, params: Mapping[str, Any], base_url: str) -> dict[str, Any]:
        """StartDeviceAuthorization."""
        with self.lock:
            client = self._client(now, params)
            if client.grant_types and DEVICE_GRANT not in client.grant_types:
                raise sso_error("UnauthorizedClientException", "The client is not registered for the device_code grant")
            start_url = string_param(params, "startUrl")
            if start_url is None or not self.is_start_url(start_url):
                raise sso_error("InvalidRequestException", "Invalid start URL")
            user_code = ""
            while not user_code or user_code in self.user_codes:
                letters = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(8))
                user_code = f"{letters[:4]}-{letters[4:]}"
            device = DeviceAuthorization(
                device_code=secrets.token_urlsafe(96),
                user_code=user_code,
                client_id=client.client_id,
                start_url=start_url,
                expires_at=now + self.lifetimes.device_code,
                interval=self.lifetimes.interval,
            )
            self.devices[device.device_code] = device
            self.user_codes[user_code] = device.device_code
            expires_in = self.lifetimes.device_code
        return {
            "deviceCode": device.device_code,
            "userCode": user_code,
            "verificationUri": f"{base_url}/device",
            "verificationUriComplete": f"{base_url}/device?user_code={user_code}",
            "expiresIn": expires_in,
            "interval": device.interval,
        }

    def create_token(self, now: float, params: Mapping[str, Any]) -> dict[str, Any]:
        """CreateToken: the device-code, authorization-code (PKCE) and refresh-token grants."""
        with self.lock:
            client = self._client(now, params)
            grant = string_param(params, "grantType")
            if grant not in GRANT_TYPES:
                raise sso_error("UnsupportedGrantTypeException", f"Unsupported grant type: {grant}")
            # A client holding a refresh token may always use it (AWS issues refresh tokens for every flow).
            if client.grant_types and grant != REFRESH_GRANT and grant not in client.grant_types:
                raise sso_error("UnauthorizedClientException", f"The client is not registered for the {grant} grant")
            if grant == DEVICE_GRANT:
                return self._device_grant(now, client, params)
            if grant == AUTH_CODE_GRANT:
                return self._code_grant(now, client, params)
            return self._refresh_grant(now, client, params)

    def _device_grant(self, now: float, client: Client, params: Mapping[str, Any]) -> dict[str, Any]:
        device = self.devices.get(required_param(params, "deviceCode", "for the device_code grant"))
        if device is None or device.client_id != client.client_id:
            raise sso_error("InvalidGrantException", "Invalid device code provided")
        if device.exchanged:
            raise sso_error("InvalidGrantException", "The device code was already exchanged for a token")
        if now >= device.expires_at:
            raise sso_error("ExpiredTokenException", "The device code has expired")
        if device.decision == "denied":
            raise sso_error("AccessDeniedException", "The user denied the authorization request")
        if device.decision == "pending":
            # RFC 8628 3.5: a poll sooner than the interval after the previous one is told to slow down.
            too_soon = device.last_poll is not None and now - device.last_poll < device.interval
            device.last_poll = now
            if too_soon:
                raise sso_error(
                    "SlowDownException", f"Polling faster than the interval of {device.interval} s: slow down"
                )
            raise sso_error("AuthorizationPendingException", "The user has not approved the request yet")
        device.exchanged = True
        response, _ = self._sign_in(now, client)
        return response

    def _code_grant(self, now: float, client: Client, params: Mapping[str, Any]) -> dict[str, Any]:
        why = "for the authorization_code grant"
        code = required_param(params, "code", why)
        redirect_uri = required_param(params, "redirectUri", why)
        verifier = required_param(params, "codeVerifier", why)
        if not VERIFIER_RE.fullmatch(verifier):
            raise sso_error("InvalidRequestException", "codeVerifier must be 43-128 characters of [A-Za-z0-9._~-]")
        record = self.codes.get(code)
        if record is None:
            raise sso_error("InvalidGrantException", "Invalid authorization code provided")
        if record.client_id != client.client_id:
            raise sso_error("InvalidGrantException", "The authorization code was issued to another client")
        if record.used:
            # RFC 6749 10.5: a code used twice was stolen; what it was exchanged for is revoked.
            if record.session_id is not None and record.session_id in self.sessions:
                self.sessions[record.session_id].revoked = True
            raise sso_error("InvalidGrantException", "The authorization code was already used")
        # One attempt per code, successful or not, so a stolen code cannot be tried against verifiers.
        record.used = True
        if now >= record.expires_at:
            raise sso_error("ExpiredTokenException", "The authorization code has expired")
        if redirect_uri != record.redirect_uri:
            raise sso_error("InvalidGrantException", "redirectUri differs from the redirect_uri of the authorization")
        if not hmac.compare_digest(pkce_challenge(verifier), record.challenge):
            raise sso_error("InvalidGrantException", "The code verifier does not match the code challenge")
        response, session = self._sign_in(now, client, record.scopes)
        record.session_id = session.session_id
        return response

    def _refresh_grant(self, now: float, client: Client, params: Mapping[str, Any]) -> dict[str, Any]:
        token = self._refresh.get(required_param(params, "refreshToken", "for the refresh_token grant"))
        if token is None or token.client_id != client.client_id:
            raise sso_error("InvalidGrantException", "Invalid refresh token provided")
        if token.used:
            raise sso_error("InvalidGrantException", "The refresh token was already used: use the one issued with it")
        session = self.sessions[token.session_id]
        if session.revoked:
            raise sso_error("InvalidGrantException", "The sign-in session has ended (logged out or revoked)")
        if now >= session.ends_at:
            raise sso_error("InvalidGrantException", "The refresh token has expired: sign in again")
        # Rotation: each refresh token works once and comes back replaced.
        token.used = True
        return self._issue(now, session)

    def _sign_in(self, now: float, client: Client, scopes: tuple[str, ...] = ()) -> tuple[dict[str, Any], SignIn]:
        session = SignIn(
            session_id=secrets.token_urlsafe(16),
            client_id=client.client_id,
            scopes=scopes or client.scopes,
            ends_at=now + self.lifetimes.refresh_token,
        )
        self.sessions[session.session_id] = session
        return self._issue(now, session), session

    def _issue(self, now: float, session: SignIn) -> dict[str, Any]:
        # An access token does not outlive its sign-in session.
        expires_in = max(1, min(self.lifetimes.access_token, int(session.ends_at - now)))
        access, refresh = "aoa" + secrets.token_urlsafe(180), "aor" + secrets.token_urlsafe(240)
        self._access[access] = AccessToken(session.session_id, now + expires_in)
        self._refresh[refresh] = RefreshToken(session.session_id, session.client_id)
        return {"accessToken": access, "tokenType": "Bearer", "expiresIn": expires_in, "refreshToken": refresh}

    # ------------------------------------------------------------------ the browser's side

    def pending_device(self, now: float, user_code: str) -> tuple[DeviceAuthorization, Client]:
        """The pending device request of ``user_code`` and its client, for the verification page."""
        with self.lock:
            code = normalize_user_code(user_code)
            device = self.devices.get(self.user_codes.get(code, ""))
            if device is None or device.decision != "pending" or now >= device.expires_at:
                raise sso_error("InvalidRequestException", f"No pending request has the code {code!r}")
            return device, self.clients[device.client_id]

    def decide_device(self, now: float, user_code: str, allow: bool) -> None:
        """The user's Allow or Deny on the verification page."""
        with self.lock:
            device, _ = self.pending_device(now, user_code)
            device.decision = "approved" if allow else "denied"

    def begin_authorization(self, now: float, query: Mapping[str, str]) -> tuple[AuthorizationRequest, Client]:
        """Validate an /authorize request (what the AWS CLI opens) and keep it for the consent page."""
        with self.lock:
            if query.get("response_type") != "code":
                raise sso_error("InvalidRequestException", "response_type must be code")
            client = self.clients.get(query.get("client_id", ""))
            if client is None:
                raise sso_error("InvalidClientException", "Unknown client_id")
            if now >= client.expires_at:
                raise sso_error("InvalidClientException", "The client registration has expired")
            if AUTH_CODE_GRANT not in client.grant_types:
                raise sso_error("UnauthorizedClientException", "The client is not registered for authorization_code")
            redirect_uri = query.get("redirect_uri", "")
            if not redirect_matches(redirect_uri, client.redirect_uris):
                raise sso_error("InvalidRedirectUriException", "redirect_uri does not match a registered redirect URI")
            if query.get("code_challenge_method") != "S256":
                raise sso_error("InvalidRequestException", "code_challenge_method must be S256")
            challenge = query.get("code_challenge", "")
            if not CHALLENGE_RE.fullmatch(challenge):
                raise sso_error("InvalidRequestException", "code_challenge must be base64url(SHA-256(verifier))")
            scopes = tuple(query.get("scopes", "").split())
            if client.scopes and not set(scopes) <= set(client.scopes):
                raise sso_error("InvalidScopeException", "scopes must be among the scopes the client registered")
            request = AuthorizationRequest(
                request_id=secrets.token_urlsafe(24),
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                state=query.get("state"),
                challenge=challenge.rstrip("="),
                scopes=scopes,
                expires_at=now + self.lifetimes.device_code,
            )
            self.requests[request.request_id] = request
            return request, client

    def decide_authorization(self, now: float, request_id: str, allow: bool) -> str:
        """The user's decision on the consent page; returns where to redirect the browser."""
        with self.lock:
            request = self.requests.pop(request_id, None)
            if request is None or now >= request.expires_at:
                raise sso_error("InvalidRequestException", "This authorization request is unknown, expired or decided")
            values: dict[str, str]
            if allow:
                code = AuthorizationCode(
                    code=secrets.token_urlsafe(48),
                    client_id=request.client_id,
                    redirect_uri=request.redirect_uri,
                    challenge=request.challenge,
                    scopes=request.scopes,
                    expires_at=now + AUTH_CODE_LIFETIME,
                )
                self.codes[code.code] = code
                values = {"code": code.code}
            else:
                values = {"error": "access_denied", "error_description": "The user denied the authorization request"}
            if request.state is not None:
                values["state"] = request.state
            return with_query(request.redirect_uri, values)

    # ------------------------------------------------------------------ the portal

    def _session(self, now: float, access_token: str | None) -> SignIn:
        token = self._access.get(access_token or "")
        session = self.sessions.get(token.session_id) if token is not None else None
        if token is None or session is None or session.revoked or now >= token.expires_at:
            raise sso_error("UnauthorizedException", UNAUTHORIZED)
        return session

    def role_credentials(
        self, now: float, access_token: str | None, account_id: str, role_name: str, fallback: int | None
    ) -> IssuedCredential:
        """GetRoleCredentials: temporary credentials of the reserved role (``fallback``: the sandbox's lifetime)."""
        with self.lock:
            self._session(now, access_token)
            if not account_id or not role_name:
                raise sso_error("InvalidRequestException", "role_name and account_id are required")
            account = self._by_id.get(account_id)
            if account is None or role_name not in account.roles:
                raise sso_error("ForbiddenException", NO_ACCESS)
            lifetime = self.lifetimes.role_credentials or fallback or DEFAULT_ROLE_CREDENTIALS_LIFETIME
            user = self.user
        return IssuedCredential(
            access_key_id=new_session_access_key_id(),
            secret_access_key=new_secret_access_key(),
            session_token=new_session_token(),
            expiration=datetime.fromtimestamp(int(now) + lifetime, timezone.utc),
            kind="assumed-role",
            account_id=account_id,
            arn=assumed_role_arn(account_id, role_name, user),
            user_id=f"{role_id(account_id, role_name)}:{user}",
            role_arn=reserved_role_arn(account_id, role_name),
            role_name=reserved_role_name(account_id, role_name),
            session_name=user,
        )

    def list_accounts(
        self, now: float, access_token: str | None, next_token: str | None, max_result: str | None
    ) -> dict[str, Any]:
        """ListAccounts: the accounts where the user holds at least one permission set."""
        with self.lock:
            self._session(now, access_token)
            visible = [a for a in self.accounts if a.roles]
            page, following = self._page(len(visible), "accounts", next_token, max_result)
            listed = [
                {"accountId": a.account_id, "accountName": a.name, "emailAddress": a.email} for a in visible[page]
            ]
        return {"accountList": listed, **({"nextToken": following} if following else {})}

    def list_account_roles(
        self, now: float, access_token: str | None, account_id: str, next_token: str | None, max_result: str | None
    ) -> dict[str, Any]:
        """ListAccountRoles: the user's permission sets in ``account_id`` (none for an account not assigned)."""
        with self.lock:
            self._session(now, access_token)
            if not account_id:
                raise sso_error("InvalidRequestException", "account_id is required")
            account = self._by_id.get(account_id)
            roles = account.roles if account is not None else ()
            page, following = self._page(len(roles), f"roles/{account_id}", next_token, max_result)
            listed = [{"roleName": role, "accountId": account_id} for role in roles[page]]
        return {"roleList": listed, **({"nextToken": following} if following else {})}

    def _page(self, total: int, scope: str, next_token: str | None, max_result: str | None) -> tuple[slice, str | None]:
        size = DEFAULT_PAGE_SIZE
        if max_result:
            try:
                size = int(max_result)
            except ValueError:
                size = 0
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise sso_error("InvalidRequestException", f"max_result must be between 1 and {MAX_PAGE_SIZE}")
        start = self._offset(next_token, scope) if next_token else 0
        end = start + size
        return slice(start, end), (self._token(end, scope) if end < total else None)

    def _token(self, offset: int, scope: str) -> str:
        payload = f"{scope}|{offset}"
        signature = hmac.new(self._page_key, payload.encode(), "sha256").hexdigest()[:32]
        return base64.urlsafe_b64encode(f"{payload}|{signature}".encode()).decode()

    def _offset(self, token: str, scope: str) -> int:
        try:
            payload, _, signature = base64.urlsafe_b64decode(token.encode()).decode().rpartition("|")
            token_scope, _, offset = payload.rpartition("|")
            expected = hmac.new(self._page_key, payload.encode(), "sha256").hexdigest()[:32]
            if token_scope == scope and hmac.compare_digest(signature, expected):
                return int(offset)
        except (ValueError, UnicodeDecodeError):
            pass
        raise sso_error("InvalidRequestException", "Invalid next_token")

    def logout(self, now: float, access_token: str | None) -> None:
        """Logout: end the sign-in session of ``access_token`` (all its access and refresh tokens)."""
        with self.lock:
            self._session(now, access_token).revoked = True

    def revoke_all(self) -> None:
        """End every sign-in session, as an administrator revoking them all."""
        with self.lock:
            for session in self.sessions.values():
                session.revoked = True

    def issue_session(self, now: float, client_name: str) -> tuple[Client, dict[str, Any]]:
        """A registration and a token as if the device flow had just completed (the control API's shortcut)."""
        with self.lock:
            registered = self.register_client(now, {"clientName": client_name, "clientType": "public"}, "")
            client = self.clients[registered["clientId"]]
            response, _ = self._sign_in(now, client, (ACCOUNT_ACCESS_SCOPE,))
            return client, response
