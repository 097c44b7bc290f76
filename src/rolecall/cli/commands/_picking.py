"""The profile picker for a command run without a profile: when to open it, and the rows it shows.

Used by ``rolecall assume`` (always) and ``rolecall env --pick`` (what the ``assume`` shell function runs), so that
bare ``assume`` in a shell and ``rolecall assume`` on a terminal behave alike. Off the fast path: imported only
when a picker may open.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def wants_picker(args: argparse.Namespace, ctx: Context) -> bool:
    """True when no profile was named and a person is at a terminal that can show the picker.

    Named means an argument, or ``AWS_PROFILE``/``AWS_DEFAULT_PROFILE`` (as the AWS CLI, which uses the profile
    the environment names, without asking). A terminal means standard input and standard error both are one (the
    picker draws on ``/dev/tty``, so a captured stdout does not matter); on Windows there is no picker.
    """
    from rolecall.config.paths import profile_from_env

    return (
        args.profile is None
        and profile_from_env(ctx.env) is None
        and os.name == "posix"
        and ctx.stdin_is_tty
        and ctx.stderr_is_tty
    )


def pick_profile(ctx: Context) -> str:
    """The profile a person picks on the terminal, shown with its chain and cached minutes, most recent first.

    ``UsageError`` when the person cancels or no terminal can be opened (``rolecall.picker.pick``). The caller
    remembers the name once its credentials were had (``remember``).
    """
    from rolecall.picker import RecentProfiles, pick
    from rolecall.reporting import ignore
    from rolecall.rowcache import profile_rows

    runtime = ctx.session.runtime(allow_prompt=False, reporter=ignore)
    rows = profile_rows(ctx.session, runtime)  # list's rows, from rolecall's cache while the config is unchanged
    return pick(rows, RecentProfiles(ctx.paths.rolecall_dir).load())


def remember(ctx: Context, profile: str) -> None:
    """Put ``profile`` first in the picker's list next time (a file that cannot be written is no error)."""
    from rolecall.picker import RecentProfiles

    RecentProfiles(ctx.paths.rolecall_dir).touch(profile)
