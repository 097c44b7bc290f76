"""Where each profile stands, without a network call: its kind, its account and region, its source chain, its MFA
device, and how long its cached credentials last. Shared by ``rolecall list`` and the profile picker of
``rolecall assume``."""

from __future__ import annotations

from rolecall.config.graph import (
    KEYS,
    LOGIN_SESSION,
    PROCESS,
    SAML,
    SSO,
    WEB_IDENTITY,
    ProfileGraph,
    is_assume_role_hop,
    own_kind,
)
from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime


def chain_text(files: ConfigFiles, name: str, graph: ProfileGraph | None = None) -> str:
    """``prod -> default``: the source_profile chain as botocore resolves it (``config.graph.ProfileGraph``),
    down to keys, a credential_source, an IAM Identity Center login or a web identity token."""
    graph = graph or ProfileGraph.of(files)
    resolution = graph.resolve(name)
    text = list(resolution.profiles)
    last: Mapping[str, Any] = files.profile(text[-1]) or {}
    if resolution.loop is not None:
        text += [resolution.loop[-1], "(loop)"]
    elif resolution.credential_source is not None:
        text.append(resolution.credential_source)
    elif resolution.end_kind == WEB_IDENTITY:
        text.append("web identity")
    elif resolution.end_kind == SSO:
        session = last.get("sso_session")
        text.append(f"sso-session {session}" if isinstance(session, str) else "SSO start URL")
    return " -> ".join(text)


#: How ``list`` names each kind of the profile graph (``config.graph.own_kind``).
KIND_NAMES = {SSO: "sso", KEYS: "keys", LOGIN_SESSION: "login", PROCESS: "process", SAML: "saml",
              WEB_IDENTITY: "web-identity"}  # fmt: skip
#: The kinds whose cached credentials ``list`` reports (``cached()`` makes no call for them).
CACHED_KINDS = ("role", "sso", "process", "login", "saml")


def kind(profile: Mapping[str, Any]) -> str:
    """``role``, ``sso``, ``keys`` (also in rolecall's key store), ``process`` (a ``credential_process``),
    ``login`` (an ``aws login`` session), ``saml``, ``web-identity`` or ``other``: the profile graph's kind
    (``config.graph.own_kind``), named for people."""
    if is_assume_role_hop(profile):
        return "role"
    name = KIND_NAMES.get(own_kind(profile), "other")
    if name == "process":
        from rolecall.providers.keystore import stored_key_name

        return "keys" if stored_key_name(str(profile.get("credential_process"))) is not None else "process"
    return name


def account(profile: Mapping[str, Any]) -> str | None:
    """The account the profile's credentials belong to, from its settings alone (no call): the account of its
    ``role_arn``, its ``sso_account_id`` or ``aws_account_id``, that of its ``mfa_serial`` (keys of a user with an
    MFA device), ``login_session`` (a console session) or ``principal_arn`` (a SAML provider); None."""
    role_arn = profile.get("role_arn")
    if isinstance(role_arn, str):
        return _arn_account(role_arn)  # a malformed ARN names no account (doctor says why)
    for key in ("sso_account_id", "aws_account_id"):
        value = profile.get(key)
        if isinstance(value, str) and _is_account(value):
            return value
    for key in ("mfa_serial", "login_session", "principal_arn"):  # a user's MFA device, a console session, a
        value = profile.get(key)  # SAML provider: all in the account of the credentials
        if isinstance(value, str) and _arn_account(value) is not None:
            return _arn_account(value)
    return None


def _arn_account(arn: str) -> str | None:
    """The account of ``arn:PARTITION:SERVICE:REGION:ACCOUNT:...``, or None."""
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" and _is_account(parts[4]) else None


def _is_account(value: str) -> bool:
    return len(value) == 12 and value.isdigit()


def region(profile: Mapping[str, Any]) -> str | None:
    """The profile's own ``region`` (what ``rolecall env`` exports for it, and botocore uses when neither
    ``AWS_REGION`` nor ``AWS_DEFAULT_REGION`` is set); None. A source profile's region is not inherited."""
    value = profile.get("region")
    return value if isinstance(value, str) and value else None


def profile_row(files: ConfigFiles, name: str, runtime: Runtime, graph: ProfileGraph | None = None) -> dict[str, Any]:
    """One profile: ``profile``, ``kind``, ``account``, ``region`` (``account``, ``region``; None when not known
    without a call), ``chain``, ``mfa``, ``cached`` ("yes", "" or "error: ...") and ``minutes_left`` of its cached
    credentials (None when nothing is cached)."""
    return profile_row_and_probe(files, name, runtime, graph)[0]


#: The providers whose ``cached()`` is exactly the AWS CLI cache entry named by their ``cache_key()``
#: (``providers.caching.CachedSource``), by module and class (so that none of them is imported to ask).
_CLI_CACHED = {
    ("rolecall.providers.assume_role", "AssumeRoleProvider"),
    ("rolecall.providers.sso", "SsoProvider"),
    ("rolecall.providers.saml", "SamlProvider"),
}


def profile_row_and_probe(
    files: ConfigFiles, name: str, runtime: Runtime, graph: ProfileGraph | None = None
) -> tuple[dict[str, Any], str | None]:
    """``profile_row`` and what its ``cached`` and ``minutes_left`` depend on besides the files and the
    environment: ``""`` nothing (no credentials of it can be cached), ``"cli:KEY"`` only the AWS CLI cache entry
    ``KEY.json`` (without that file the row says nothing is cached), None unknown (ask ``profile_row`` again)."""
    from rolecall.providers.chain import build_chain

    profile = files.profile(name) or {}
    row: dict[str, Any] = {
        "profile": name,
        "kind": kind(profile),
        "account": account(profile),
        "region": region(profile),
        "chain": chain_text(files, name, graph),
        "mfa": profile.get("mfa_serial") or "",
        "cached": "",
        "minutes_left": None,
    }
    probe: str | None = ""
    try:
        provider: Any = build_chain(files, name, runtime, explicit=True).provider
        if row["kind"] not in CACHED_KINDS:
            return row, ""
        probe = None
        if (type(provider).__module__, type(provider).__qualname__) in _CLI_CACHED and not runtime.force_refresh:
            key = provider.cache_key()
            probe = "" if key is None else "cli:" + key
        cached = provider.cached()
        if cached is not None and cached.expiration is not None:
            left = cached.remaining(runtime.clock())
            row["minutes_left"] = int(left.total_seconds() // 60) if left is not None else None
            row["cached"] = "yes"
    except RolecallError as error:
        row["cached"] = f"error: {error.message}"
    return row, probe
