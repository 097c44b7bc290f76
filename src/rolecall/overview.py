"""Where each profile stands, without a network call: its kind, its source chain, its MFA device, and how long
its cached credentials last. Shared by ``rolecall list`` and the profile picker of ``rolecall assume``."""

from __future__ import annotations

from rolecall.errors import RolecallError
from rolecall.sso.settings import is_sso_profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime


def chain_text(files: ConfigFiles, name: str) -> str:
    """``prod -> default``: the source_profile chain as the config describes it, down to keys, a
    credential_source or an IAM Identity Center login."""
    hops = [name]
    seen = {name}
    current: Mapping[str, Any] = files.profile(name) or {}
    while isinstance(current.get("source_profile"), str) and current.get("role_arn"):
        nxt = current["source_profile"]
        hops.append(nxt)
        if nxt in seen:
            hops.append("(loop)")
            break
        seen.add(nxt)
        current = files.profile(nxt) or {}
        if current.get("aws_access_key_id"):
            break
    if isinstance(current.get("credential_source"), str):
        hops.append(str(current["credential_source"]))
    elif is_sso_profile(current):
        session = current.get("sso_session")
        hops.append(f"sso-session {session}" if isinstance(session, str) else "SSO start URL")
    return " -> ".join(hops)


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
