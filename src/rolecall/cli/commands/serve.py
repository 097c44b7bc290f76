"""``rolecall serve PROFILE [PROFILE...]``: a local container-credentials endpoint in the foreground.

Prints, on stdout, the shell code other shells (or an IDE's terminal) evaluate to use it: the two container
variables, the region, and the removal of anything an SDK would read before the endpoint (the same
environment ``rolecall exec --server`` gives its command). With several profiles there is one server and one
token, each profile at its own secret path, and one block of lines per profile (each after a ``# profile NAME``
comment): a shell evaluates the block of the profile it wants. ``--imds`` adds an EC2 instance metadata face
(IMDSv2) per profile and prints ``AWS_EC2_METADATA_SERVICE_ENDPOINT``; ``--bind ADDRESS`` and ``--unix-socket
PATH`` are the opt-in reach for containers (docs/server.md). Refreshes each profile's credentials before they
expire (with the ``reuse`` strategy, silently while the MFA session lives). Serves until SIGINT (Ctrl-C),
SIGTERM or SIGHUP, then stops and exits 0.
"""

from __future__ import annotations

from rolecall.cli.commands._profile_arg import OPTION_HELP
from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.providers.chain import Chain
    from rolecall.server import CredentialsServer

FORMATS = ("sh", "fish", "powershell", "dotenv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE... (or --profile PROFILE, repeatable), --format, the reach and IMDS options, the resolve options."""
    from rolecall.serverbind import ANY_INTERFACE_FLAG

    parser.add_argument("profiles", nargs="*", metavar="PROFILE", help=PROFILE_HELP + "; several: one server")
    parser.add_argument("--profile", dest="profile_options", action="append", default=[], metavar="PROFILE",
                        help=OPTION_HELP + " (repeatable)")  # fmt: skip
    parser.add_argument("--format", "-f", choices=FORMATS, default="sh",
                        help="how to print the variables (default: sh, for bash and zsh; dotenv: NAME=VALUE lines "
                        "for docker run --env-file)")  # fmt: skip
    parser.add_argument("--imds", action="store_true",
                        help="also answer the EC2 instance metadata protocol (IMDSv2), a port per profile")
    parser.add_argument("--imds-v1", action="store_true",
                        help="with --imds, also answer requests without a session token (IMDSv1)")  # fmt: skip
    parser.add_argument("--bind", metavar="ADDRESS", default=None,
                        help="listen on this local address instead of 127.0.0.1 (e.g. the Docker bridge 172.17.0.1)")
    parser.add_argument(ANY_INTERFACE_FLAG, dest="any_interface", action="store_true",
                        help="allow --bind 0.0.0.0 or :: (every network this machine is on; the token is then the "
                        "only guard)")  # fmt: skip
    parser.add_argument("--unix-socket", metavar="PATH", default=None,
                        help="serve the container endpoint on a Unix socket (0600, in a 0700 folder) to mount into "
                        "a container")  # fmt: skip
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
    elif fmt == "dotenv":
        lines += [f"{name}={value}" for name, value in sets]  # docker's --env-file: no quoting, one per line
    else:
        lines += [f"unset {name}" for name in unsets]
        lines += [f"export {name}={export.quote_sh(value)}" for name, value in sets]
    return "".join(line + "\n" for line in lines)


def profile_names(args: argparse.Namespace) -> list[str | None]:
    """The profiles named (positional and ``--profile``, in order, each once); ``[None]`` for the default one."""
    names: list[str | None] = []
    for name in [*args.profiles, *args.profile_options]:
        if name not in names:
            names.append(name)
    return names or [None]


def _chains(args: argparse.Namespace, ctx: Context) -> dict[str, tuple[Chain, argparse.Namespace]]:
    from rolecall.cli.commands._resolve_options import chain_for

    chains: dict[str, tuple[Chain, argparse.Namespace]] = {}
    for name in profile_names(args):
        one = type(args)(**vars(args))
        one.profile = name
        chain = chain_for(one, ctx)
        chains.setdefault(chain.profile, (chain, one))
    return chains


Served = dict[str, tuple["Chain", "argparse.Namespace"]]


def _start(args: argparse.Namespace, ctx: Context) -> tuple[CredentialsServer, Served]:
    """Resolve every profile now (MFA prompts included), then build and start the one server."""
    from rolecall.cli.commands._resolve_options import refreshing_source
    from rolecall.server import CredentialsServer

    chains = _chains(args, ctx)
    sources = {name: refreshing_source(chain, one, ctx) for name, (chain, one) in chains.items()}
    server = CredentialsServer(
        sources, host=args.bind or "127.0.0.1", reporter=ctx.warn, exposed=args.bind is not None,
        any_interface=args.any_interface, unix_socket=args.unix_socket, imds=args.imds, imds_v1=args.imds_v1,
    )  # fmt: skip
    server.start()
    return server, chains


def _print(server: CredentialsServer, chains: dict[str, tuple[Chain, argparse.Namespace]],
           args: argparse.Namespace, ctx: Context) -> None:  # fmt: skip
    from rolecall.cli.commands.exec_ import point_clients_at

    several = len(chains) > 1
    for name, (chain, one) in chains.items():
        sets, unsets = point_clients_at(server, chain, one, ctx)
        if several:
            ctx.out(f"# profile {name}\n")
        ctx.out(render(sets, unsets, args.format))
    where = f"the Unix socket {server.unix_socket}" if server.unix_socket else f"{server.host}:{server.port}"
    ctx.say(
        f"rolecall: serving {', '.join(chains)} on {where} until Ctrl-C; in another shell, evaluate the lines "
        f"printed on stdout{' (the block of the profile wanted)' if several else ''}"
    )
    for line in container_hints(server, args):
        ctx.say(line)


def container_hints(server: CredentialsServer, args: argparse.Namespace) -> list[str]:
    """How a container uses the server (stderr): the ``docker run`` line; values come from the shell, not argv."""
    from rolecall.server import FULL_URI_VARIABLE, TOKEN_VARIABLE
    from rolecall.serverimds import ENDPOINT_VARIABLE

    if args.unix_socket is None and args.bind is None:
        return []
    names = [FULL_URI_VARIABLE, TOKEN_VARIABLE, "AWS_REGION", *([ENDPOINT_VARIABLE] if args.imds else [])]
    passing = " ".join(f"-e {name}" for name in names)
    if server.unix_socket is None:
        return [f"rolecall: after evaluating a block: docker run {passing} IMAGE ... (docker copies the values "
                "from your shell; nothing secret on its command line)"]  # fmt: skip
    return [
        f"rolecall: after evaluating a block: docker run -v {server.unix_socket}:/run/rolecall.sock {passing} "
        "IMAGE ...",
        "rolecall: in the container, relay the endpoint's port to the socket: socat "
        "TCP-LISTEN:9911,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:/run/rolecall.sock &",
    ]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP."""
    import signal

    if args.bind is not None and args.unix_socket is not None:
        from rolecall.errors import UsageError

        raise UsageError("serve: --bind and --unix-socket are two ways to reach the server; choose one",
                         hint="--bind ADDRESS for a network (the Docker bridge), --unix-socket PATH for a mount")
    if args.bind is not None:
        from rolecall.serverbind import listen_address

        listen_address(args.bind, exposed=True, any_interface=args.any_interface)  # refused before any STS call
    # Blocked before the server's threads start (they inherit the mask), so the signals wait for sigwait below
    # instead of interrupting a thread; the server then always stops cleanly.
    stop_signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    server = None
    try:
        server, chains = _start(args, ctx)
        _print(server, chains, args, ctx)
        ctx.stdout.flush()
        received = signal.sigwait(stop_signals)
        ctx.say(f"rolecall: {signal.Signals(received).name} received, stopped serving {', '.join(chains)}")
    finally:
        if server is not None:
            server.stop()
        while signal.sigtimedwait(stop_signals, 0) is not None:
            pass  # a second Ctrl-C while stopping is not an error
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
    return 0
