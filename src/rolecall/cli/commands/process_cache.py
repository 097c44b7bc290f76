"""``rolecall process-cache [--ttl SECONDS] [--key-env NAME] -- TOOL ARGS...``: cache any credential_process.

    [profile work]
    credential_process = rolecall process-cache -- saml2aws login --credential-process --role arn:...

runs TOOL once, prints its Version 1 JSON (normalised) on stdout and hands the same answer to every later call
until shortly before its Expiration; parallel callers share one run. The tool's prompts reach the terminal even
when an SDK is the caller. ``--clear -- TOOL ARGS...`` forgets the entry of that command line (``--clear`` alone:
every entry). docs/process-cache.md.

The plain ``process-cache -- TOOL ARGS...`` is parsed without argparse (cli/fastargs.py): a cached answer costs
about one Python start-up.
"""

from __future__ import annotations

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[--ttl SECONDS] [--key-env NAME]... [--clear] -- TOOL ARGS..."""
    parser.usage = "rolecall process-cache [--ttl SECONDS] [--key-env NAME]... [--clear] -- TOOL [ARGS...]"
    parser.epilog = (
        "Everything after -- is the tool's command line, run without a shell and passed on verbatim. "
        "Use it as a profile's credential_process: credential_process = rolecall process-cache -- TOOL ARGS..."
    )
    parser.add_argument(
        "--ttl",
        type=int,
        metavar="SECONDS",
        help="serve an answer at most this long (and cache answers without an Expiration for that long)",
    )
    parser.add_argument(
        "--key-env",
        action="append",
        default=[],
        metavar="NAME",
        help="also key the entry by this environment variable (the tool reads its identity from it)",
    )
    parser.add_argument(
        "--clear", action="store_true", help="forget the entry of TOOL ARGS (without a command: every entry)"
    )
    parser.add_argument("command", nargs="*", metavar="TOOL", help="the credential tool and its arguments, after --")
    parse_known = parser.parse_known_args

    def parse_known_args(args: Any = None, namespace: Any = None) -> Any:
        # The tool's words never reach argparse: it would take their options for rolecall's and drop their `--`.
        words = list(args or [])
        cut = words.index("--") if "--" in words else len(words)
        parsed, extras = parse_known(words[:cut], namespace)
        if parsed.command:
            parser.error(f"put -- before the tool's command line: rolecall process-cache -- {parsed.command[0]} ...")
        parsed.command = words[cut + 1 :]
        return parsed, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the tool's credentials JSON, from the cache when it is fresh."""
    from rolecall.processcache import ProcessCache, Terminal, cache_folder

    folder = cache_folder(ctx.paths.rolecall_dir)
    if args.clear:
        return _clear(args, ctx, folder)
    if not args.command:
        raise UsageError(
            "process-cache needs the command line of a credential tool after --",
            hint="credential_process = rolecall process-cache -- TOOL ARGS...",
        )
    ttl = None
    if args.ttl is not None:
        if args.ttl <= 0:
            raise UsageError(f"--ttl must be a positive number of seconds, not {args.ttl}", hint="e.g. --ttl 3600")
        from rolecall.timefmt import timedelta

        ttl = timedelta(seconds=args.ttl)
    cache = ProcessCache(
        args.command, ctx.env, folder, clock=ctx.clock, ttl=ttl, key_env=args.key_env, reporter=ctx.say
    )
    credentials, _from_cache = cache.retrieve(Terminal(ctx.stdin_is_tty, ctx.stderr_is_tty))
    from rolecall import export

    ctx.out(export.render(credentials, "process"))
    return 0


def _clear(args: argparse.Namespace, ctx: Context, folder: str) -> int:
    from rolecall.config.paths import display_path
    from rolecall.processcache import clear, entry_keys

    argv_key = entry_keys(args.command, ctx.env)[1] if args.command else None
    removed = clear(folder, argv_key)
    of = "" if argv_key is None else f" of {args.command[0]}"
    if removed:
        ctx.say(f"forgot {len(removed)} cached answer(s){of} in {display_path(folder)}")
    else:
        ctx.say(f"nothing to forget: no cached answer{of} in {display_path(folder)}")
    return 0
