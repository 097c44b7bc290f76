"""``rolecall exec PROFILE CMD ARGS...``: run CMD with the profile's credentials in its environment only.

Everything after the profile is the command, as in ``aws-vault exec prod aws s3 ls``: ``rolecall exec admin aws
sts get-caller-identity --query Arn`` runs ``aws`` with ``--query Arn``. rolecall's own options go before the
command (before the profile, or between it and the command: a command never starts with ``-``); a ``--`` there
is optional (``rolecall exec prod -- CMD`` as before), and ``--profile PROFILE`` may name the profile instead
(``rolecall exec --profile prod CMD``).

The credentials never appear in argv. Without ``--server`` rolecall replaces itself with CMD (``execvpe``):
signals reach CMD directly and its exit code is rolecall's. With ``--server`` a local container-credentials
endpoint serves CMD credentials that refresh before they expire (for jobs longer than a role session);
rolecall then stays as the parent, forwards the signals CMD did not already get from the terminal, stops the
server when CMD ends and returns CMD's exit code.
"""

from __future__ import annotations

import os
import sys

from rolecall.childenv import NESTING_VARIABLE
from rolecall.cli.commands._resolve_options import add_resolve_options
from rolecall.errors import ExecError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.providers.chain import Chain
    from rolecall.server import CredentialsServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """[OPTIONS] PROFILE (or --profile PROFILE) [OPTIONS] [--] CMD ARGS..."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments

    parser.usage = (
        "rolecall exec [OPTIONS] PROFILE [--] CMD [ARGS...]\n"
        "       rolecall exec [OPTIONS] --profile PROFILE [--] CMD [ARGS...]"
    )
    parser.epilog = (
        "Everything from CMD on is the command, its own options included (rolecall exec prod aws sts "
        "get-caller-identity --query Arn); rolecall's options go before CMD; -- before CMD is optional."
    )
    add_profile_arguments(parser, "the profile whose credentials CMD gets")
    parser.add_argument(
        "--server",
        action="store_true",
        help="serve refreshing credentials on a local endpoint instead of fixed keys (long jobs)",
    )
    parser.add_argument("--allow-nested", action="store_true", help="allow running inside another rolecall exec")
    add_resolve_options(parser, explain=False)
    parser.add_argument("command", nargs="*", metavar="CMD", help="the command to run, with its arguments")
    _split_off_command(parser)


def _split_off_command(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` hand the command line (``command_start``) to CMD verbatim, however it looks.

    argparse (3.11) would take CMD's options for rolecall's (``--query Arn``: unrecognized; ``--region``: rolecall's)
    and removes every ``--`` from a positional's values, so ``rolecall exec p git log -- file`` or a nested
    ``rolecall exec`` would reach CMD changed. So the command's words never reach argparse at all.
    """
    parse_known = parser.parse_known_args

    def parse_known_args(args: Any = None, namespace: Any = None) -> Any:
        words = list(sys.argv[1:] if args is None else args)
        start, skip = command_start(words, _takes_value(parser))
        parsed, extras = parse_known(words[:start], namespace)
        parsed.command = words[start + skip :]
        return parsed, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def _takes_value(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings of ``parser`` followed by a value (``--region R``), as opposed to flags (``--server``)."""
    return frozenset(
        option for action in parser._actions if action.nargs != 0 for option in action.option_strings
    )


def command_start(words: list[str], takes_value: frozenset[str]) -> tuple[int, int]:
    """``(index, skip)``: CMD is ``words[index + skip:]``; ``skip`` is 1 when a ``--`` announces it, else 0.

    rolecall's words are options (with the value of those in ``takes_value``) and one profile, unless
    ``--profile`` names it; the first other word, or the word after a ``--``, starts the command. Nothing of the
    command is looked at, so its own ``--``, ``--profile`` or ``--region`` are its own.
    """
    named = False
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            return index, 1
        if word.startswith("-") and word != "-":
            if word in ("--profile", "--role-arn") or word.startswith(("--profile=", "--role-arn=")):
                named = True  # an ad-hoc role (--role-arn) stands where the profile would
            index += 2 if word in takes_value else 1
        elif not named:
            named = True  # the profile
            index += 1
        else:
            return index, 0
    return len(words), 0


def point_clients_at(
    server: CredentialsServer, chain: Chain, args: argparse.Namespace, ctx: Context
) -> tuple[list[tuple[str, str]], list[str]]:
    """``childenv.server_changes`` for ``chain`` served by ``server``, as ``(sets, unsets)``; its warnings go to
    ``ctx``."""
    from rolecall.childenv import server_changes

    region = args.region or chain.region
    sets, unsets, warnings = server_changes(ctx.env, chain.profile, region, server, ctx.session.files)
    for warning in warnings:
        ctx.warn(warning)
    return sets, unsets


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve, then run CMD."""
    command = list(args.command)
    if args.profile is None and getattr(args, "role_arn", None) is None:
        raise UsageError("exec: no profile named", hint="rolecall exec PROFILE CMD ARGS... (or --profile PROFILE CMD)")
    if not command:
        raise UsageError("exec: no command given", hint="rolecall exec PROFILE CMD ARGS...")
    if not command[0]:
        # execve refuses it with a ValueError: say so before resolving anything.
        raise ExecError("cannot run the command: its name is empty", hint="check the quoting of CMD")
    outer = ctx.env.get(NESTING_VARIABLE)
    if outer and not args.allow_nested:
        raise UsageError(
            f"already inside `rolecall exec {outer}`; running {args.profile or args.role_arn} inside it mixes two "
            "identities",
            hint="leave the outer command first, or pass --allow-nested if you mean it",
        )
    from rolecall.cli.commands._resolve_options import chain_for, verify

    chain = chain_for(args, ctx)
    if args.server:
        return _run_with_server(chain, command, args, ctx)
    credentials = chain.provider.retrieve()
    if args.verify:
        verify(chain, credentials, args, ctx)
    from rolecall import childenv

    env = childenv.child_environment(ctx.env, chain.profile, credentials, args.region or chain.region)
    ctx.stdout.flush()
    ctx.stderr.flush()
    restored = childenv.restore_default_signals()
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:
        childenv.put_back_signals(restored)
        raise ExecError(
            f"cannot run {command[0]!r}: {error.strerror}",
            hint="check the command name and that it is on PATH",
        ) from None
    return 0  # pragma: no cover - execvpe does not return


def _run_with_server(chain: Chain, command: list[str], args: argparse.Namespace, ctx: Context) -> int:
    import signal

    from rolecall.childenv import default_signal_numbers, server_child_environment
    from rolecall.cli.commands._resolve_options import refreshing_source
    from rolecall.server import serve_in_background

    source = refreshing_source(chain, args, ctx)  # resolves (and asks for MFA) now, before anything runs
    path = _find_command(command[0], ctx.env)
    # Block the signals before any thread exists (threads inherit the mask), so that they all come to the
    # sigtimedwait loop below and none is run as a Python handler on the server's threads.
    forwarded: set[int] = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}
    watched: set[int] = forwarded | {signal.SIGCHLD}
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    server = None
    try:
        server = serve_in_background(source, ctx.warn)
        env = server_child_environment(ctx.env, chain.profile, point_clients_at(server, chain, args, ctx))
        ctx.stdout.flush()
        ctx.stderr.flush()
        try:
            # posix_spawn, not subprocess: it gives the child an empty signal mask without a preexec_fn (which
            # is unsafe once the server's threads run), and the default dispositions Python changed.
            defaults = default_signal_numbers()
            pid = os.posix_spawn(path, command, env, setsigmask=(), setsigdef=(*defaults, *watched))
        except OSError as error:
            raise ExecError(
                f"cannot run {command[0]!r}: {error.strerror}", hint="check the command name and that it is on PATH"
            ) from None
        return _wait_forwarding(pid, forwarded, watched, server, ctx)
    finally:
        if server is not None:
            server.stop()
        # Signals that arrived while the child ran were handled (or were the terminal's, already seen by the
        # child): drain them so they do not fire as KeyboardInterrupt once unblocked.
        while signal.sigtimedwait(watched, 0) is not None:
            pass
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)


def _find_command(name: str, env: Mapping[str, str]) -> str:
    """``name`` looked up on CMD's PATH, as ``execvpe`` would."""
    import shutil

    if "/" in name:
        return name
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise ExecError(f"cannot run {name!r}: command not found", hint="check the command name and that it is on PATH")
    return found


#: ``si_code`` of a signal the kernel generated itself, as the terminal driver does for Ctrl-C, Ctrl-\ and
#: hang-up: those go to the whole foreground process group, so the child has already received them.
_SI_KERNEL = 0x80


def _wait_forwarding(pid: int, forwarded: set[int], watched: set[int], server: CredentialsServer, ctx: Context) -> int:
    """Wait for the child, forwarding the signals it did not get itself; its exit code (128+N for signal N)."""
    import signal

    server_lost = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return _exit_code(status)
        info = signal.sigtimedwait(watched, 0.5)
        if info is not None and info.si_signo in forwarded:
            # A Ctrl-C from the terminal already reached the child (same process group): a second copy would
            # make programs such as terraform abort instead of stopping cleanly. `kill` from elsewhere did not.
            if info.si_code != _SI_KERNEL:
                _send(pid, info.si_signo)
            continue
        if not server_lost and not _server_alive(server):
            server_lost = True
            ctx.warn("the credentials server stopped; stopping the command, which could no longer refresh")
            _send(pid, signal.SIGTERM)


def _exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _send(pid: int, signum: int) -> None:
    import contextlib

    with contextlib.suppress(ProcessLookupError):  # it has just exited; waitpid will say so
        os.kill(pid, signum)


def _server_alive(server: CredentialsServer) -> bool:
    return server.is_serving
