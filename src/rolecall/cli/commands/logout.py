"""``rolecall logout [PROFILE | --profile P]``: delete the profile's ``aws login`` token file, as ``aws logout``.

Only the local token file goes (the session is not ended at AWS, as with ``aws logout``); credentials already
handed out keep working until they expire (at most 15 minutes). The profile keeps its ``login_session``, so
``rolecall login --profile P`` signs it in again. A profile without ``login_session`` is one warning, exit 0.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile)."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    add_profile_arguments(parser, "the profile to sign out (default: $AWS_PROFILE, then 'default')")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Remove the token file of the profile's session."""
    from rolecall.login.tokens import LoginTokenCache, cache_directory
    from rolecall.reporting import as_warnings

    session = ctx.session
    profile = session.profile_name(args.profile)
    values = session.files.profile(profile) or {}
    login_session = values.get("login_session")
    if not isinstance(login_session, str) or not login_session:
        ctx.warn(f"warning: no login session found for profile '{profile}'")
        return 0
    cache = LoginTokenCache(cache_directory(ctx.env), as_warnings(ctx.say))
    removed = cache.remove(login_session)
    what = "Removed the cached login credentials" if removed else "There were no cached login credentials"
    ctx.say(f"{what} for profile '{profile}'. Tools that already loaded the credentials may use them until they "
            "expire (at most 15 minutes).")  # fmt: skip
    return 0
