"""``rolecall list``: every profile, its source chain (down to keys, a credential_source or an IAM Identity
Center login), and what is cached for it and for how long."""

from __future__ import annotations

from rolecall.errors import RolecallError
from rolecall.sso.settings import is_sso_profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--names (one name a line, for completion) and --output json."""
    parser.add_argument("--names", action="store_true", help="print only the profile names, one a line")
    parser.add_argument("--output", choices=("table", "json"), default="table", help="table (default) or json")


def _chain_text(files: Any, name: str) -> str:
    """``prod -> default (keys)``: the source_profile chain as the config describes it."""
    hops = [name]
    seen = {name}
    current = files.profile(name) or {}
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


def _kind(profile: Any) -> str:
    if profile.get("role_arn"):
        return "role"
    if is_sso_profile(profile):
        return "sso"
    return "keys" if profile.get("aws_access_key_id") else "other"


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the table (or names, or JSON)."""
    import json

    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.chain import build_chain
    from rolecall.resolve import make_runtime

    files = ConfigFiles.load(ctx.paths)
    names = files.profile_names()
    if args.names:
        ctx.out("".join(f"{name}\n" for name in names))
        return 0
    runtime = make_runtime(ctx.env, allow_prompt=False)
    runtime.clock = ctx.clock
    rows: list[dict[str, Any]] = []
    for name in names:
        profile = files.profile(name) or {}
        row: dict[str, Any] = {
            "profile": name,
            "kind": _kind(profile),
            "chain": _chain_text(files, name),
            "mfa": profile.get("mfa_serial") or "",
            "cached": "",
            "minutes_left": None,
        }
        try:
            provider: Any = build_chain(files, name, runtime, explicit=True).provider
            cached = provider.cached() if row["kind"] in ("role", "sso") else None
            if cached is not None and cached.expiration is not None:
                left = cached.remaining(ctx.clock())
                row["minutes_left"] = int(left.total_seconds() // 60) if left is not None else None
                row["cached"] = "yes"
        except RolecallError as error:
            row["cached"] = f"error: {error.message}"
        rows.append(row)
    if args.output == "json":
        ctx.out(json.dumps(rows, indent=4) + "\n")
        return 0
    header = ("PROFILE", "KIND", "CHAIN", "MFA", "CACHED")
    table = [header] + [
        (
            r["profile"],
            r["kind"],
            r["chain"],
            "yes" if r["mfa"] else "",
            f"{r['minutes_left']} min left" if r["minutes_left"] is not None else r["cached"],
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        ctx.out("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0
