"""``rolecall save PROFILE --as NAME``: write temporary credentials into the credentials file.

For tools that only read ``~/.aws/credentials`` (IDEs, old SDKs). The section is written through the
format-preserving editor (comments and other sections untouched, atomic, locked, 0600) and marked as
rolecall's with two keys botocore ignores, ``rolecall_source_profile`` and ``rolecall_expiration``
(the marker policy: ``rolecall.config.owned``).
rolecall refuses to overwrite a section it did not write unless ``--force``. ``rolecall save --refresh``
renews every section it owns that expires within the window.
"""

from __future__ import annotations

from datetime import timedelta

from rolecall.cli.commands._profile_arg import add_profile_arguments
from rolecall.cli.commands._resolve_options import add_resolve_options, chain_for
from rolecall.errors import ConfigError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE) --as NAME [--force] | --refresh [--within MINUTES]."""
    add_profile_arguments(parser, "the profile whose credentials to save")
    parser.add_argument("--as", dest="target", metavar="NAME", help="the credentials-file section to write")
    parser.add_argument("--force", action="store_true", help="overwrite a section rolecall did not write")
    parser.add_argument("--refresh", action="store_true", help="renew every section rolecall wrote that is near expiry")
    parser.add_argument("--within", type=int, default=15, metavar="MINUTES",
                        help="with --refresh: renew sections expiring within this many minutes (default 15)")
    add_resolve_options(parser, explain=False, role_arn=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Save one profile, or refresh all owned sections."""
    if args.refresh:
        return _refresh_all(args, ctx)
    if not args.profile or not args.target:
        raise UsageError("rolecall save: give PROFILE and --as NAME (or --refresh)",
                         hint="rolecall save prod --as prod-ide")
    if args.target == args.profile:
        raise UsageError(
            f'rolecall save: --as {args.target} would overwrite the profile being resolved',
            hint=f"save under another name, e.g. --as {args.profile}-saved",
        )
    sources = _source_profiles(ctx, args.profile)
    if args.target in sources:
        # Even with --force: temporary keys written over the keys the role is assumed with would lose them for
        # good (long-term keys cannot be shown again) and break the profile being saved at its next refresh.
        raise UsageError(
            f"rolecall save: [{args.target}] is a source of {args.profile} "
            f"({' -> '.join(sources)}); saving over it would replace the keys the role is assumed with",
            hint=f"save under another name, e.g. --as {args.profile}-saved",
        )
    chain = chain_for(args, ctx)
    credentials = chain.provider.retrieve()
    _write(ctx, args.target, chain.profile, credentials, force=args.force)
    expiry = f" until {credentials.expiration:%Y-%m-%d %H:%M} UTC" if credentials.expiration else ""
    ctx.say(f"rolecall: saved {chain.profile} as [{args.target}] in {ctx.paths.credentials_file}{expiry}")
    return 0


def _source_profiles(ctx: Context, profile: str) -> list[str]:
    """``profile`` and the profiles whose credentials its resolution uses, in order: the resolver's own walk
    (``config.graph.ProfileGraph.chain``), so a web identity profile's ``source_profile`` or the sources past a
    profile with keys, which nothing reads, do not count. The session's graph: the files are read once for this
    and the chain."""
    return ctx.session.graph.chain(profile)


def _write(ctx: Context, target: str, source: str, credentials: Credentials, *, force: bool) -> None:
    from rolecall.config.edit import SectionRef, update_section
    from rolecall.config.owned import is_owned, owned_keys
    from rolecall.timefmt import format_iso_z

    path = ctx.paths.credentials_file
    existing = ctx.session.files.credentials_section(target)  # as read for the chain (the edit reads it locked)
    if existing is not None and not is_owned(existing) and not force:
        raise ConfigError(
            f"[{target}] in {path} was not written by rolecall; not overwriting it",
            hint=f"choose another name with --as, or pass --force to replace [{target}]",
        )
    changes: dict[str, str | None] = {
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
        "aws_session_token": credentials.session_token,
        # botocore prefers aws_security_token: a stale one would pair an old token with the new keys.
        "aws_security_token": None,
        **owned_keys(source, format_iso_z(credentials.expiration) if credentials.expiration else None),
    }
    update_section(path, SectionRef.raw(target), changes, reporter=ctx.warn, check_permissions=True)
    ctx.session.forget_files()  # the next profile saved or resolved in this command sees this section


def _refresh_all(args: argparse.Namespace, ctx: Context) -> int:
    from rolecall.config.owned import EXPIRY_KEY, owner_of
    from rolecall.timefmt import parse_timestamp

    sections = ctx.session.files.credentials
    window = timedelta(minutes=args.within)
    now = ctx.clock()
    renewed = 0
    for name, section in sections.items():
        source = owner_of(section)
        if source is None:
            continue
        expiry_text = section.get(EXPIRY_KEY)
        if isinstance(expiry_text, str) and expiry_text:
            try:
                if parse_timestamp(expiry_text) - now > window:
                    continue
            except ValueError:
                pass  # an unreadable expiry is renewed
        args.profile = source
        args.force_refresh = False
        credentials = chain_for(args, ctx).provider.retrieve()
        if credentials.expires_within(window, now):
            # The cache can still serve the very session that was saved (its own window is 15 min, --within may
            # be longer): renewing with it would change nothing, so assume the role again.
            args.force_refresh = True
            credentials = chain_for(args, ctx).provider.retrieve()
        _write(ctx, name, source, credentials, force=False)
        until = f" until {credentials.expiration:%Y-%m-%d %H:%M} UTC" if credentials.expiration else ""
        ctx.say(f"rolecall: renewed [{name}] from {source}{until}")
        renewed += 1
    if renewed == 0:
        ctx.say(f"rolecall: nothing to renew (no rolecall section expires within {args.within} min)")
    return 0
