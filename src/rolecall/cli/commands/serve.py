"""``rolecall serve PROFILE``: a local container-credentials endpoint in the foreground.

Prints, on stdout, the shell code other shells (or an IDE's terminal) evaluate to use it: the two container
variables, the region, and the removal of anything an SDK would read before the endpoint (the same
environment ``rolecall exec --server`` gives its command). Refreshes the profile's credentials before they
expire (with the ``reuse`` strategy, silently while the MFA session lives). Serves until SIGINT (Ctrl-C),
SIGTERM or SIGHUP, then stops and exits 0.
"""

from __future__ import annotations

from rolecall.cli.commands._profile_arg import add_profile_arguments
from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

FORMATS = ("sh", "fish", "powershell")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE), --format and the shared resolve options."""
    add_profile_arguments(parser, PROFILE_HELP)
    parser.add_argument("--format", "-f", choices=FORMATS, default="sh",
                        help="how to print the variables to export (default: sh, for bash and zsh)")
    add_resolve_options(parser, explain=False)


def render(sets: list[tuple[str, str]], unsets: list[str], fmt: str) -> str:
    """Shell code for ``fmt`` that unsets ``unsets`` and then sets ``sets``, each value quoted for that shell."""
    from rolecall import export

    lines: list[str] = []
    if fmt == "fish":
        lines += [f"set -e -g {name}" for name in unsets]
        lines += [f"set -gx {name} {export.quote_fish(value)}" for name, value in sets]
    elif fmt == "powershell":
        lines += [f"Remove-Item -Path Env:{name} -ErrorAction SilentlyContinue" for name in unsets]
        lines += [f"$Env:{name} = {export.quote_powershell(value)}" for name, value in sets]
    else:
        lines += [f"unset {name}" for name in unsets]
        lines += [f"export {name}={export.quote_sh(value)}" for name, value in sets]
    return "".join(line + "\n" for line in lines)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP."""
    import signal

    from rolecall.cli.commands._resolve_options import chain_for, refreshing_source
    from rolecall.cli.commands.exec_ import point_clients_at
    from rolecall.server import serve_in_background

    chain = chain_for(args, ctx)
    source = refreshing_source(chain, args, ctx)  # resolves (and asks for MFA) now, before anything runs
    # Blocked before the server's threads start (they inherit the mask), so the signals wait for sigwait below
    # instead of interrupting a thread; the server then always stops cleanly.
    stop_signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    server = None
    try:
        server = serve_in_background(source, ctx.warn)
        sets, unsets = point_clients_at(server, chain, args, ctx)
        ctx.say(
            f"rolecall: serving {chain.profile} on {server.host}:{server.port} until Ctrl-C; "
            "in another shell, evaluate the lines printed on stdout"
        )
        ctx.out(render(sets, unsets, args.format))
        ctx.stdout.flush()
        received = signal.sigwait(stop_signals)
        ctx.say(f"rolecall: {signal.Signals(received).name} received, stopped serving {chain.profile}")
    finally:
        if server is not None:
            server.stop()
        while signal.sigtimedwait(stop_signals, 0) is not None:
            pass  # a second Ctrl-C while stopping is not an error
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
    return 0
