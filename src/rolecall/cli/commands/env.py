"""``rolecall env PROFILE``: shell code that exports a profile's credentials, for ``eval``.

``eval "$(rolecall env prod)"`` (bash, zsh), ``rolecall env prod | source`` (fish). This is the cached fast path:
with a fresh cache entry it reads the files, computes the cache key, reads one JSON file and prints — no
botocore, no prompt.

Without ``--format`` the format is that of the shell running rolecall (its parent process), else of ``$SHELL``
(``rolecall.parentshell``). ``--pick`` (what the ``assume`` shell function passes): with no profile named and a
person at the terminal, a picker drawn on the terminal chooses it. On success, when the code goes into a shell
and a person watches stderr, one status line says who, for how long, and whether it was cached
(``rolecall.statusline``); ``--quiet`` or ``ROLECALL_QUIET=1`` silences it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from rolecall.cli.context import Context

FORMATS = ("sh", "fish", "powershell", "cmd", "dotenv", "json", "process")

#: The export format each shell reads (``rolecall.parentshell`` names); any other shell, or none known: ``sh``.
_SHELL_FORMATS = {"fish": "fish", "pwsh": "powershell"}


def default_format(env: Mapping[str, str]) -> str:
    """The format of the shell that runs rolecall (its parent process), else of ``$SHELL``: fish, powershell or sh."""
    from rolecall.parentshell import running_shell

    return _SHELL_FORMATS.get(running_shell(env) or "", "sh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE), --format, --profile-only, --unset, --pick, --quiet and the resolve options."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments
    from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options

    add_profile_arguments(parser, PROFILE_HELP)
    parser.add_argument(
        "--format", "-f", choices=FORMATS, help="output format (default: that of the shell running rolecall)"
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="export only AWS_PROFILE (and the region) for SDKs that refresh by themselves; no keys",
    )
    parser.add_argument("--unset", action="store_true", help="print code that removes what rolecall exported")
    parser.add_argument(
        "--pick",
        action="store_true",
        help="no profile named (argument, AWS_PROFILE) and a terminal: choose one in a picker drawn on the "
        "terminal; without a terminal the default profile (the assume shell function passes this)",
    )
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no status line on stderr (also: ROLECALL_QUIET=1)"
    )
    parser.add_argument(
        "--no-prompt",
        action="store_true",
        help="never ask (no MFA prompt, no SSO sign-in): exit 5 or 10 instead (the shell renewal hook passes this)",
    )
    add_resolve_options(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the export code on stdout; messages and prompts go to stderr and the terminal."""
    from rolecall import export
    from rolecall.cli.commands._resolve_options import chain_for, verify

    fmt = args.format or default_format(ctx.env)
    if args.unset:
        ctx.out(export.render_unset(fmt))
        return 0
    picked = args.pick and args.profile is None and _picked(args, ctx)
    chain = chain_for(args, ctx, allow_prompt=not getattr(args, "no_prompt", False))
    if args.explain:
        for step, line in enumerate(chain.explain(), 1):
            ctx.say(f"{step}. {line}")
        return 0
    region = args.region or chain.region
    if args.profile_only:
        # The SDK resolves (and refreshes) the profile itself. Building the chain above already rejected a
        # misconfigured profile; no STS call or MFA prompt is made here (--verify asks for one).
        if args.verify:
            verify(chain, chain.provider.retrieve(), args, ctx)
        ctx.out(export.render_profile_only(chain.profile, fmt, region=region))
        if _status_due(args, ctx, fmt, chain.profile):
            from rolecall.statusline import profile_only_line

            ctx.say(profile_only_line(chain.profile))
        return 0
    credentials = chain.provider.retrieve()
    identity = verify(chain, credentials, args, ctx) if args.verify else None
    ctx.out(export.render(credentials, fmt, profile=chain.profile, region=region))
    if _status_due(args, ctx, fmt, chain.profile):
        from rolecall.statusline import status_line

        settings = ctx.session.files.profile(chain.profile)
        method = chain.provider.method
        ctx.say(status_line(chain.profile, credentials, settings=settings, identity=identity, method=method,
                            now=ctx.clock()))  # fmt: skip
    if picked:
        from rolecall.cli.commands._picking import remember

        remember(ctx, chain.profile)
    return 0


def _picked(args: argparse.Namespace, ctx: Context) -> bool:
    """``--pick`` without a profile: open the picker when a person is at the terminal; True when it chose one."""
    from rolecall.cli.commands._picking import pick_profile, wants_picker

    if not wants_picker(args, ctx):
        return False  # no terminal, or AWS_PROFILE names one: as without --pick
    args.profile = pick_profile(ctx)
    return True


def _status_due(args: argparse.Namespace, ctx: Context, fmt: str, profile: str) -> bool:
    """After a success, unless quiet: say how to export when the code went to a terminal (nothing was exported);
    True when the status line is due instead: the code goes into a shell and a person sees stderr."""
    if not (ctx.stdout_is_tty or ctx.stderr_is_tty):
        return False  # nobody watches (a script, a pipe into a file): not even the quiet setting is read
    from rolecall.statusline import quiet

    if quiet(ctx.env, args.quiet):
        return False
    if ctx.stdout_is_tty:
        if fmt in ("sh", "fish"):
            hint = f'eval "$(rolecall env {profile})"' if fmt == "sh" else f"rolecall env {profile} | source"
            ctx.say(f"not exported: to set these in your shell run {hint} (or `assume` from `rolecall shell-init`)")
        return False
    return fmt in ("sh", "fish", "powershell", "cmd")
