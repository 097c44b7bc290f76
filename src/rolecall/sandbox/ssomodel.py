"""IAM Identity Center's records and rules in the sandbox: errors, accounts, registrations, pending
authorizations, sign-in sessions, the reserved-role names, and the checks on request parameters.

``ssostate.SsoState`` keeps these records and applies the operations; this module holds no state.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AUTH_CODE_GRANT = "authorization_code"
REFRESH_GRANT = "refresh_token"
GRANT_TYPES = (AUTH_CODE_GRANT, DEVICE_GRANT, REFRESH_GRANT)
#: How long an authorization code can wait for its exchange (AWS: 5 minutes).
AUTH_CODE_LIFETIME = 300
#: Consonants only: no ambiguous letters (I, O) and no words.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_ROLE_CREDENTIALS_LIFETIME = 3600
UNAUTHORIZED = "Session token not found or invalid"
NO_ACCESS = "No access"
ACCOUNT_ACCESS_SCOPE = "sso:account:access"

_STATUS = {
    "InvalidClientException": 401,
    "UnauthorizedException": 401,
    "ForbiddenException": 403,
    "ResourceNotFoundException": 404,
    "TooManyRequestsException": 429,
    "InternalServerException": 500,
}
VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
# base64url of a SHA-256 digest: 43 characters, the CLI trims the one '=' of padding.
CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}=?")
_ROLE_NAME_RE = re.compile(r"[\w+=,.@-]{1,32}", re.ASCII)
_ACCOUNT_ID_RE = re.compile(r"\d{12}")


@dataclass(frozen=True)
class SsoError(Exception):
    """An IAM Identity Center error answer: AWS's exception ``code``, a description and the HTTP status."""

    code: str
    description: str
    status: int = 400

    def __str__(self) -> str:
        """``Code: description``."""
        return f"{self.code}: {self.description}"

    @property
    def oauth_error(self) -> str:
        """The OAuth 2.0 ``error`` of the OIDC body: ``AuthorizationPendingException`` → ``authorization_pending``."""
        if self.code == "InternalServerException":
            return "server_error"
        stem = self.code.removesuffix("Exception")
        return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


def sso_error(code: str, description: str) -> SsoError:
    """``SsoError`` with the status the service models give ``code`` (400 unless listed)."""
    return SsoError(code, description, _STATUS.get(code, 400))


@dataclass(frozen=True)
class SsoAccount:
    """An AWS account of the organization and the permission sets the directory user holds in it."""

    account_id: str
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass
class SsoLifetimes:
    """Lifetimes in seconds. ``role_credentials`` None: the sandbox's credential lifetime if set, else 3600."""

    access_token: int = 3600
    #: The sign-in session (AWS's "session duration"): refresh tokens stop working when it ends.
    refresh_token: int = 8 * 3600
    role_credentials: int | None = None
    device_code: int = 600
    registration: int = 90 * 86400
    interval: int = 1


@dataclass
class Client:
    """A registered public OIDC client."""

    client_id: str
    client_secret: str
    name: str
    scopes: tuple[str, ...]
    #: Empty when the registration named none (the AWS CLI's device-flow registrations): any grant goes.
    grant_types: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    issued_at: int
    expires_at: int


@dataclass
class DeviceAuthorization:
    """A device-code request waiting for the user's decision, then for its one exchange."""

    device_code: str
    user_code: str
    client_id: str
    start_url: str
    expires_at: float
    interval: int
    decision: Literal["pending", "approved", "denied"] = "pending"
    last_poll: float | None = None
    exchanged: bool = False


@dataclass
class AuthorizationRequest:
    """An /authorize request shown on the consent page, waiting for the user's decision."""

    request_id: str
    client_id: str
    redirect_uri: str
    state: str | None
    challenge: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass
class AuthorizationCode:
    """A code the consent page issued: one exchange, by its client, with the same redirect URI and PKCE."""

    code: str
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: tuple[str, ...]
    expires_at: float
    used: bool = False
    session_id: str | None = None


@dataclass
class SignIn:
    """One sign-in session of the directory user: its access and refresh tokens live and die with it."""

    session_id: str
    client_id: str
    scopes: tuple[str, ...]
    ends_at: float
    revoked: bool = False


@dataclass
class AccessToken:
    """An access token's sign-in session and expiry."""

    session_id: str
    expires_at: float


@dataclass
class RefreshToken:
    """A refresh token's sign-in session and client; used once (it is rotated)."""

    session_id: str
    client_id: str
    used: bool = False


def reserved_role_name(account_id: str, permission_set: str) -> str:
    """``AWSReservedSSO_<PermissionSet>_<16 hex>``: the IAM role Identity Center makes in the account."""
    suffix = hashlib.sha256(f"{account_id}/{permission_set}".encode()).hexdigest()[:16]
    return f"AWSReservedSSO_{permission_set}_{suffix}"


def reserved_role_arn(account_id: str, permission_set: str) -> str:
    """The reserved role's ARN (path ``/aws-reserved/sso.amazonaws.com/``)."""
    name = reserved_role_name(account_id, permission_set)
    return f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/{name}"


def assumed_role_arn(account_id: str, permission_set: str, user: str) -> str:
    """What GetCallerIdentity answers for role credentials from the portal."""
    return f"arn:aws:sts::{account_id}:assumed-role/{reserved_role_name(account_id, permission_set)}/{user}"


def role_id(account_id: str, permission_set: str) -> str:
    """``AROA…``: the reserved role's id."""
    # Stable per account and role, as a real role's id is: AROA and 17 characters of IAM's alphabet.
    digest = hashlib.sha256(f"role-id/{account_id}/{permission_set}".encode()).digest()
    return "AROA" + base64.b32encode(digest).decode()[:17]


def generated_accounts(count: int, roles: Sequence[str]) -> list[SsoAccount]:
    """``count`` accounts ``acct-0001``…, every role in each; ids are 12 digits, unique and deterministic."""
    # i -> (offset + i * stride) mod 10**12 is a bijection (stride is prime to 10), so ids never repeat.
    offset, stride = 314_159_265_358, 48_271_000_003
    assigned = tuple(roles)
    return [
        SsoAccount(
            account_id=f"{(offset + i * stride) % 10**12:012d}",
            name=f"acct-{i + 1:04d}",
            email=f"acct-{i + 1:04d}@example.com",
            roles=assigned,
        )
        for i in range(count)
    ]


def check_accounts(accounts: Sequence[SsoAccount]) -> None:
    """Refuse account ids and role names that AWS would not have (ValueError)."""
    seen: set[str] = set()
    for account in accounts:
        if not _ACCOUNT_ID_RE.fullmatch(account.account_id) or account.account_id in seen:
            raise ValueError(f"account ids must be 12 digits and unique: {account.account_id!r}")
        seen.add(account.account_id)
        for role in account.roles:
            if not _ROLE_NAME_RE.fullmatch(role):
                raise ValueError(f"not a permission set name: {role!r}")


def normalize_user_code(text: str) -> str:
    """What a person may type for ``ABCD-EFGH``: any case, spaces, the hyphen left out."""
    code = "".join(text.split()).upper()
    if len(code) == 8 and "-" not in code:
        code = f"{code[:4]}-{code[4:]}"
    return code


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def loopback_redirect(uri: str) -> urllib.parse.SplitResult | None:
    """``uri`` parsed when it is ``http://127.0.0.1[:port]/path`` (RFC 8252 loopback redirect), else None."""
    try:
        parts = urllib.parse.urlsplit(uri)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.username or parts.fragment:
        return None
    return parts


def strings_param(params: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """The list of strings ``params[name]`` (empty when absent); InvalidRequestException otherwise."""
    value = params.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise sso_error("InvalidRequestException", f"{name} must be a list of strings")
    return tuple(value)


def string_param(params: Mapping[str, Any], name: str) -> str | None:
    """The string ``params[name]`` (None when absent); InvalidRequestException otherwise."""
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise sso_error("InvalidRequestException", f"{name} must be a string")
    return value


def required_param(params: Mapping[str, Any], name: str, why: str) -> str:
    """The non-empty string ``params[name]``; InvalidRequestException "NAME is required WHY" otherwise."""
    value = string_param(params, name)
    if not value:
        raise sso_error("InvalidRequestException", f"{name} is required {why}")
    return value


def with_query(uri: str, values: Mapping[str, str]) -> str:
    """``uri`` with ``values`` added to its query string."""
    separator = "&" if urllib.parse.urlsplit(uri).query else "?"
    return uri + separator + urllib.parse.urlencode(values, quote_via=urllib.parse.quote)


def redirect_matches(uri: str, registered: Sequence[str]) -> bool:
    """A loopback redirect matches a registered one by path and query; the port may differ (RFC 8252 7.3)."""
    parts = loopback_redirect(uri)
    if parts is None:
        return False
    for candidate in registered:
        known = loopback_redirect(candidate)
        if known is not None and (known.path or "/") == (parts.path or "/") and known.query == parts.query:
            return True
    return False
