"""``rolecall forget [PROFILE] [--all] [--role-session | --mfa-session] [--dry-run]``: drop cached sessions.

aws-vault's ``clear``: the profile's role session (the AWS CLI cache entry that ``aws --profile``, boto3 and
rolecall share) and the MFA session it uses, so the next ``assume`` makes a fresh call (and, for the MFA session,
asks for a code). The library does the work (``rolecall.forget``); this module renders: one line per entry on
stderr (the file name is the cache key, a hash: no secret), a summary, ``--output json`` on stdout. Exit 0 when
done, nothing cached included; 3 for a profile that does not exist or cannot be resolved; 7 (FILE) for an entry
that cannot be removed; 5 (MFA) when another rolecall holds the MFA device's lock for 5 minutes (docs/cache.md).
"""

from __future__ import annotations

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.forget import Entry, Outcome


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile), --all, --role-session / --mfa-session, --dry-run, --output."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments
    from rolecall.cli.commands._resolve_options import PROFILE_HELP

    add_profile_arguments(parser, PROFILE_HELP)
    parser.add_argument("--all", action="store_true",
                        help="every profile's sessions, and every MFA session (AWS CLI cache entries no profile "
                        "accounts for are left alone)")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--role-session", action="store_true",
                      help="only the role session (keep the MFA session: the next assume needs no code)")
    only.add_argument("--mfa-session", action="store_true",
                      help="only the MFA session of the profile's device (every role of its source asks for a code "
                      "again), whatever its MFA strategy")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed, remove nothing")
    parser.add_argument("--output", choices=("text", "json"), default="text", help="text (default) or json")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Forget, then say what went."""
    from rolecall.forget import forget

    named = args.profile  # PROFILE or --profile PROFILE (two different ones: a usage error from the parser)
    if args.all and named:
        raise UsageError("--all forgets every profile's sessions: name no profile with it",
                         hint=f"rolecall forget {named}, or rolecall forget --all")
    session = ctx.session
    profiles = None if args.all else [session.profile_name(named)]
    mfa = False if args.role_session else True if (args.mfa_session or args.all) else None
    outcome = forget(session.files, session.runtime(allow_prompt=False), profiles, role=not args.mfa_session,
                     mfa=mfa, dry_run=args.dry_run)
    if args.output == "json":
        ctx.out(_json(outcome, args.dry_run))
    _say(outcome, args, ctx, profiles)
    return 0


def _json(outcome: Outcome, dry_run: bool) -> str:
    import json

    from rolecall.timefmt import format_iso_z

    document = {
        "DryRun": dry_run,
        "Removed": [{"Kind": e.kind, "Profile": e.profile, "File": e.path, "Of": e.subject,
                     "Expiration": format_iso_z(e.expiration) if e.expiration else None} for e in outcome.removed],
        "NotCached": [{"Profile": profile, "Kind": kind} for profile, kind in outcome.not_cached],
        "Skipped": [{"Profile": profile, "Why": why} for profile, why in outcome.skipped],
        "Kept": outcome.kept,
    }
    return json.dumps(document, indent=4) + "\n"


def _say(outcome: Outcome, args: argparse.Namespace, ctx: Context, profiles: list[str] | None) -> None:
    """One line per entry, the profiles skipped, and the summary, on stderr."""
    from rolecall.config.paths import display_path

    verb = "would forget" if args.dry_run else "forgot"
    for entry in outcome.removed:
        ctx.say(f"{verb} {entry.profile}: {entry.kind} of {entry.subject}{_left(entry, ctx)} "
                f"({display_path(entry.path)})")
    for profile, why in outcome.skipped:
        ctx.say(f"skipped {profile}: {why}")
    roles = sum(e.kind == "role session" for e in outcome.removed)
    mfas = len(outcome.removed) - roles
    counts = f"{roles} role session{'s' if roles != 1 else ''}, {mfas} MFA session{'s' if mfas != 1 else ''}"
    scope = "every profile" if profiles is None else profiles[0]
    if outcome.removed:
        done = "would remove" if args.dry_run else "removed"
        line = f"rolecall forget: {done} {counts} for {scope}"
    else:
        looked = " or ".join(sorted({kind for _, kind in outcome.not_cached})) or "session"
        line = f"rolecall forget: nothing cached for {scope} (no {looked})"
    if profiles is None and outcome.kept:
        line += (f"; {outcome.kept} other AWS CLI cache entr{'ies' if outcome.kept != 1 else 'y'} no profile "
                 "accounts for left alone")
    ctx.say(line)


def _left(entry: Entry, ctx: Context) -> str:
    """`` (valid 42 min more)`` / `` (expired)`` / nothing."""
    from rolecall.timefmt import format_duration

    if entry.expiration is None:
        return ""
    seconds = (entry.expiration - ctx.clock()).total_seconds()
    return " (expired)" if seconds <= 0 else f" (valid {format_duration(seconds)} more)"
