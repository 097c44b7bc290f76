"""The one line a person reads after credentials went into a shell (``assume``, ``eval "$(rolecall env ...)"``).

    [ops] 123456789012 role/ops, 58 min left (cached)
    [admin] 123456789012 role/admin, 60 min left (new session)
    [sso-admin] 123456789012 AdministratorAccess via SSO, 8 h left (cached)
    [default] long-term keys AKIAIOSFODNN7EXAMPLE, no expiry (from the credentials file)

Profile in brackets, then the account and the role (or the user, or the keys), the time left, and where the
credentials came from: ``cached`` (an entry of the AWS CLI cache served them, no call was made) or ``new session``
(a call to STS or IAM Identity Center just now). No ``rolecall:`` prefix: that is how rolecall's errors and
warnings begin.

Everything it says is already at hand: the assumed-role ARN of the cache entry or STS answer and the origin travel
with the credentials (``providers.result.Retrieved``); the profile's own ``role_arn`` or ``sso_*`` keys when the
answer names no ARN; GetCallerIdentity's answer when ``--verify`` made that call. No call is made for the line.
On the fast path (the cached ``rolecall env``): imports nothing but what is loaded there already.

``ROLECALL_QUIET`` (``1``, ``true``, ``yes``, ``on``) or ``--quiet`` silences it (``quiet``).
"""

from __future__ import annotations

from rolecall.providers.result import Retrieved, origin_of
from rolecall.replay import left_text
from rolecall.replayrecord import note_time_left

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from rolecall.credentials import Credentials

#: The environment variable that silences the line for good (``export ROLECALL_QUIET=1``).
QUIET_VARIABLE = "ROLECALL_QUIET"

#: Where the credentials came from, for sources that do not say it themselves (keys in a file, a helper...).
_FROM_METHOD = {
    "shared-credentials-file": "from the credentials file",
    "rolecall-keystore": "from the key store",
    "env": "from the environment",
    "custom-process": "from credential_process",
    "mfa-session": "MFA session",
}


def quiet(env: Mapping[str, str], flag: bool = False) -> bool:
    """True when the line must not be printed: ``--quiet`` (``flag``), or ``ROLECALL_QUIET`` set to a true value."""
    return flag or env.get(QUIET_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def came_from(credentials: Credentials) -> str | None:
    """``cached`` when an AWS CLI cache entry served ``credentials`` (``Retrieved.from_cache``), ``new session`` when
    a call made them and the source says so (``Retrieved.origin``), None when the source says nothing."""
    if not isinstance(credentials, Retrieved):
        return None
    if credentials.from_cache:
        return "cached"
    return "new session" if credentials.origin is not None else None


def status_line(
    profile: str,
    credentials: Credentials,
    *,
    settings: Mapping[str, object] | None = None,
    identity: Mapping[str, object] | None = None,
    method: str = "",
    now: datetime | None = None,
) -> str:
    """The line for ``credentials`` of ``profile`` (see the module docstring).

    ``settings``: the profile's section (its ``role_arn``, ``sso_role_name``, ``sso_account_id`` name the role when
    the credentials do not); ``identity``: GetCallerIdentity's answer, when one was asked for; ``method``: the
    provider's ``method``, saying where keys came from when the credentials do not carry an origin.
    """
    _, identity_arn = origin_of(credentials)
    account, who = _who(credentials, settings or {}, identity, identity_arn)
    head = f"[{profile}] " + " ".join(part for part in (account, who) if part)
    left = credentials.remaining(now)
    if left is None:
        when = "no expiry"
    else:
        # Rounded up to the minute, as the prompt segment does: with 30 s left it says 1 min, never 0.
        when = left_text(left.total_seconds())
        if credentials.expiration is not None:
            note_time_left(when, credentials.expiration)  # a replay works it out again (rolecall.replay)
    source = came_from(credentials) or _FROM_METHOD.get(method)
    return f"{head}, {when}" + (f" ({source})" if source else "")


def profile_only_line(profile: str) -> str:
    """The line for ``rolecall env --profile-only``: a profile name was exported, no keys."""
    return f"[{profile}] AWS_PROFILE={profile}, no keys exported: the SDKs resolve and refresh them"


def _who(
    credentials: Credentials,
    settings: Mapping[str, object],
    identity: Mapping[str, object] | None,
    identity_arn: str | None,
) -> tuple[str | None, str]:
    """``(account, who)``: from GetCallerIdentity, the answer's ARN, the profile's role, or the keys themselves."""
    for arn in ((identity or {}).get("Arn"), identity_arn, settings.get("role_arn")):
        if isinstance(arn, str):
            parsed = _from_arn(arn)
            if parsed is not None:
                return parsed
    sso_role = settings.get("sso_role_name")
    sso_account = settings.get("sso_account_id")
    account = credentials.account_id or (sso_account if isinstance(sso_account, str) else None)
    if isinstance(sso_role, str):
        return account, f"{sso_role} via SSO"
    kind = "session keys" if credentials.session_token else "long-term keys"
    return account, f"{kind} {credentials.access_key_id}"


def _from_arn(arn: str) -> tuple[str, str] | None:
    """``(account, role/NAME)`` of a role, assumed-role or user ARN (``user/NAME``); None when it is no ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[4]:
        return None
    role = role_name(arn)
    if role is not None:
        return parts[4], "role/" + role
    kind, _, rest = parts[5].partition("/")
    if kind == "user":
        return parts[4], "user/" + rest.rsplit("/", 1)[-1]  # a path (user/division/NAME) is left out
    return parts[4], parts[5]


def role_name(arn: str) -> str | None:
    """The role of a role ARN (``role/PATH/NAME``: the path is left out) or an assumed-role ARN
    (``assumed-role/NAME/SESSION``), else None."""
    kind, _, rest = arn.split(":", 5)[-1].partition("/")
    if kind == "role":
        return rest.rsplit("/", 1)[-1]
    if kind == "assumed-role":
        return rest.partition("/")[0]
    return None
