"""``rolecall assume PROFILE``: get working credentials for a profile, say where they came from.

A summary goes to stderr (who, until when, which caches); ``--output json`` prints the credentials as
JSON on stdout; ``--explain`` prints the plan without making any call. Without a profile (no argument, no
AWS_PROFILE) on a terminal, a picker lets the person choose one (``rolecall.picker``); elsewhere the
default profile is used, as before. On a terminal it also says how to export them (it exports nothing itself);
``--quiet`` or ``ROLECALL_QUIET=1`` silences the summary and that hint.
"""

from __future__ import annotations

from rolecall.cli.commands._profile_arg import add_profile_arguments
from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options, summary_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE), output, and the options every credential-getting command shares."""
    add_profile_arguments(parser, PROFILE_HELP)
    parser.add_argument("--output", choices=("none", "json"), default="none", help="print the credentials as JSON")
    parser.add_argument(
        "--quiet", "-q", action="store_true", help="no summary or hint on stderr (also: ROLECALL_QUIET=1)"
    )
    add_resolve_options(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve the profile's credentials (or explain how they would be); no profile on a terminal: pick one."""
    from rolecall.cli.commands._picking import pick_profile, remember, wants_picker

    if wants_picker(args, ctx):
        args.profile = pick_profile(ctx)
    from rolecall.cli.commands._resolve_options import chain_for

    chain = chain_for(args, ctx)
    if args.explain:
        for line in chain.decisions:
            ctx.out(f"why: {line}\n")
        for step, line in enumerate(chain.explain(), 1):
            ctx.out(f"{step}. {line}\n")
        return 0
    credentials = chain.provider.retrieve()
    identity = None
    if args.verify:
        from rolecall.cli.commands._resolve_options import verify

        identity = verify(chain, credentials, args, ctx)
    if not _quiet(args, ctx):
        ctx.say(summary_line(chain, credentials, identity))
        if args.output == "none" and ctx.stderr_is_tty:
            # Nothing was exported: a person on a terminal learns how to get these into the shell.
            ctx.say(
                f"not exported: to use them in this shell run `assume {chain.profile}` (from `rolecall shell-init`) "
                f'or eval "$(rolecall env {chain.profile})"'
            )
    if args.profile is not None:
        remember(ctx, chain.profile)  # the picker shows it first next time
    if args.output == "json":
        from rolecall import export

        ctx.out(export.render(credentials, "json", profile=chain.profile, region=chain.region))
    return 0


def _quiet(args: argparse.Namespace, ctx: Context) -> bool:
    from rolecall.statusline import quiet

    return quiet(ctx.env, args.quiet)
