"""``rolecall exec PROFILE -- CMD ARGS...``: run CMD with the profile's credentials in its environment only.

The credentials never appear in argv. Without ``--server`` rolecall replaces itself with CMD (``execvpe``):
signals reach CMD directly and its exit code is rolecall's. With ``--server`` a local container-credentials
endpoint serves CMD credentials that refresh before they expire (for jobs longer than a role session);
rolecall then stays as the parent, forwards SIGINT/SIGTERM/SIGHUP and returns CMD's exit code.
"""

from __future__ import annotations

import os

from rolecall.cli.commands._resolve_options import add_resolve_options, chain_for
from rolecall.errors import ExecError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials

#: Set in CMD's environment; a nested ``rolecall exec`` refuses unless --allow-nested.
NESTING_VARIABLE = "ROLECALL_EXEC_PROFILE"
#: Container-endpoint variables of an outer ``exec --server``, removed so CMD sees one identity only.
CONTAINER_VARS = (
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE, --server, --allow-nested, the shared options, then ``-- CMD ARGS...``."""
    parser.add_argument("profile", help="the profile whose credentials CMD gets")
    parser.add_argument(
        "--server",
        action="store_true",
        help="serve refreshing credentials on a local endpoint instead of fixed keys (long jobs)",
    )
    parser.add_argument("--allow-nested", action="store_true", help="allow running inside another rolecall exec")
    add_resolve_options(parser, explain=False)
    parser.add_argument("command", nargs="+", help="the command to run, after --")


def child_environment(
    base: dict[str, str], profile: str, credentials: Credentials | None, region: str | None
) -> dict[str, str]:
    """CMD's environment: ``base`` without other identities, plus the profile's keys (none for --server).

    The same variables ``rolecall env`` exports (``export.env_changes``), applied to a dict instead of
    printed as shell code.
    """
    from rolecall import export

    env = {key: value for key, value in base.items() if key not in CONTAINER_VARS}
    if credentials is not None:
        export.apply_to_environ(env, export.env_changes(credentials, profile=profile, region=region))
    else:
        for name in export.UNSET_VARS:
            env.pop(name, None)
        if region:
            env["AWS_REGION"] = region
            env["AWS_DEFAULT_REGION"] = region
        env[export.ROLECALL_PROFILE] = profile
    env[NESTING_VARIABLE] = profile
    return env


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve, then run CMD."""
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("rolecall exec: no command given", hint="rolecall exec PROFILE -- CMD ARGS...")
    outer = ctx.env.get(NESTING_VARIABLE)
    if outer and not args.allow_nested:
        raise UsageError(
            f'already inside `rolecall exec {outer}`; running {args.profile} inside it mixes two identities',
            hint="leave the outer shell first, or pass --allow-nested if you mean it",
        )
    chain = chain_for(args, ctx)
    if args.server:
        return _run_with_server(chain, command, args, ctx)
    credentials = chain.provider.retrieve()
    if args.verify:
        from rolecall.cli.commands._resolve_options import verify

        verify(chain, credentials, ctx)
    env = child_environment(dict(ctx.env), chain.profile, credentials, args.region or chain.region)
    ctx.stdout.flush()
    ctx.stderr.flush()
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:
        raise ExecError(
            f"cannot run {command[0]!r}: {error.strerror}",
            hint="check the command name and that it is on PATH",
        ) from None
    return 0  # pragma: no cover - execvpe does not return


def _run_with_server(chain: object, command: list[str], args: argparse.Namespace, ctx: Context) -> int:
    import signal
    import subprocess
    from typing import Any

    from rolecall.refresh import RefreshingCredentials
    from rolecall.server import serve_in_background

    provider: Any = chain.provider  # type: ignore[attr-defined]
    source = RefreshingCredentials(provider.retrieve, reporter=ctx.say)
    source.get()  # resolve (and prompt for MFA) now, in the foreground, before CMD starts
    server = serve_in_background(source, ctx.say)
    try:
        env = child_environment(dict(ctx.env), chain.profile, None, args.region or chain.region)  # type: ignore[attr-defined]
        env.update(server.environment())
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as error:
            raise ExecError(
                f"cannot run {command[0]!r}: {error.strerror}", hint="check the command name and PATH"
            ) from None

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, forward)
        code = child.wait()
        return 128 - code if code < 0 else code
    finally:
        server.stop()
