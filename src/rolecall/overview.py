"""Where each profile stands, without a network call: its kind, its source chain, its MFA device, and how long
its cached credentials last. Shared by ``rolecall list`` and the profile picker of ``rolecall assume``."""

from __future__ import annotations

from rolecall.config.profiles import STATIC_KEY_NAMES, is_assume_role_hop, source_chain
from rolecall.errors import RolecallError
from rolecall.sso.settings import is_sso_profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime


def chain_text(files: ConfigFiles, name: str) -> str:
    """``prod -> default``: the source_profile chain as botocore resolves it (``config.profiles.source_chain``),
    down to keys, a credential_source, an IAM Identity Center login or a web identity token."""
    hops = source_chain(files.profile, name)
    current: Mapping[str, Any] = files.profile(hops[-1]) or {}
    text = list(hops)
    following = current.get("source_profile")
    if (
        is_assume_role_hop(current)
        and isinstance(following, str)
        and following in hops
        and not (following == hops[-1] and any(key in current for key in STATIC_KEY_NAMES))
    ):
        text += [following, "(loop)"]
    elif isinstance(current.get("credential_source"), str) and is_assume_role_hop(current):
        text.append(str(current["credential_source"]))
    elif isinstance(current.get("web_identity_token_file"), str) and current.get("web_identity_token_file"):
        text.append("web identity")
    elif is_sso_profile(current):
        session = current.get("sso_session")
        text.append(f"sso-session {session}" if isinstance(session, str) else "SSO start URL")
    return " -> ".join(text)


def kind(profile: Mapping[str, Any]) -> str:
    """``role``, ``sso``, ``keys`` or ``other``."""
    if profile.get("role_arn"):
        return "role"
    if is_sso_profile(profile):
        return "sso"
    return "keys" if profile.get("aws_access_key_id") else "other"


def profile_row(files: ConfigFiles, name: str, runtime: Runtime) -> dict[str, Any]:
    """One profile: ``profile``, ``kind``, ``chain``, ``mfa``, ``cached`` ("yes", "" or "error: ...") and
    ``minutes_left`` of its cached credentials (None when nothing is cached)."""
    from rolecall.providers.chain import build_chain

    profile = files.profile(name) or {}
    row: dict[str, Any] = {
        "profile": name,
        "kind": kind(profile),
        "chain": chain_text(files, name),
        "mfa": profile.get("mfa_serial") or "",
        "cached": "",
        "minutes_left": None,
    }
    try:
        provider: Any = build_chain(files, name, runtime, explicit=True).provider
        cached = provider.cached() if row["kind"] in ("role", "sso") else None
        if cached is not None and cached.expiration is not None:
            left = cached.remaining(runtime.clock())
            row["minutes_left"] = int(left.total_seconds() // 60) if left is not None else None
            row["cached"] = "yes"
    except RolecallError as error:
        row["cached"] = f"error: {error.message}"
    return row
