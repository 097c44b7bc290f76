"""``rolecall serve PROFILE``: a local container-credentials endpoint in the foreground.

Prints the two variables other shells (or an IDE) set to use it; refreshes the profile's credentials before
they expire (with the ``reuse`` strategy, silently while the MFA session lives). Stops on Ctrl-C.
"""

from __future__ import annotations

from rolecall.cli.commands._resolve_options import add_resolve_options, chain_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE, --format and the shared resolve options."""
    parser.add_argument("profile", nargs="?", help="the profile (default: $AWS_PROFILE, then 'default')")
    parser.add_argument("--format", "-f", choices=("sh", "fish", "powershell"), default="sh",
                        help="how to print the variables to export (default: sh)")
    add_resolve_options(parser, explain=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until interrupted."""
    import threading

    from rolecall import export
    from rolecall.refresh import RefreshingCredentials
    from rolecall.server import serve_in_background

    chain = chain_for(args, ctx)
    source = RefreshingCredentials(chain.provider.retrieve, reporter=ctx.say)
    source.get()  # the first resolve (and any MFA prompt) happens now, in the foreground
    server = serve_in_background(source, ctx.say)
    try:
        variables = server.environment()
        lines = export.render_assignments(list(variables.items()), args.format)
        ctx.say(f"rolecall: serving {chain.profile} on {server.url.split('/', 3)[2]}; in another shell run:")
        ctx.out(lines)
        ctx.stdout.flush()
        threading.Event().wait()  # until Ctrl-C (KeyboardInterrupt is turned into exit 130 by cli/main)
    finally:
        server.stop()
    return 0
