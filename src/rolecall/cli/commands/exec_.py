"""``rolecall exec PROFILE -- CMD ARGS...``: run CMD with the profile's credentials in its environment only.

The credentials never appear in argv. Without ``--server`` rolecall replaces itself with CMD (``execvpe``):
signals reach CMD directly and its exit code is rolecall's. With ``--server`` a local container-credentials
endpoint serves CMD credentials that refresh before they expire (for jobs longer than a role session);
rolecall then stays as the parent, forwards the signals CMD did not already get from the terminal, stops the
server when CMD ends and returns CMD's exit code.
"""

from __future__ import annotations

import os
import sys

from rolecall.cli.commands._resolve_options import add_resolve_options, chain_for
from rolecall.errors import ExecError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.config.parse import ConfigFiles
    from rolecall.credentials import Credentials
    from rolecall.providers.chain import Chain
    from rolecall.server import CredentialsServer

#: Set in CMD's environment; a nested ``rolecall exec`` refuses unless --allow-nested.
NESTING_VARIABLE = "ROLECALL_EXEC_PROFILE"
#: Container-endpoint variables of an outer ``exec --server``, removed so CMD sees one identity only.
CONTAINER_VARS = (
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)
#: Web-identity variables: botocore's chain reads them before the container endpoint, so a server's client
#: must not see them.
WEB_IDENTITY_VARS = ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME")
#: Secrets of rolecall's own that CMD must never see: the passphrase of the encrypted key store
#: (``rolecall.keys.filestore.PASSPHRASE_VARIABLE``, not imported: that module loads ``json`` and more). CMD gets
#: credentials, not what unlocks every stored key. The store's other setting (``ROLECALL_KEYS_BACKEND``) is no
#: secret and stays, so a nested rolecall finds the same store.
SECRET_VARIABLES = ("ROLECALL_KEYS_PASSPHRASE",)
#: Signals Python ignores at start-up (SIG_IGN survives exec): CMD gets their default action back, as a
#: shell gives it, so `yes | head -1` ends `yes` by SIGPIPE and a file-size limit stops a writer.
DEFAULT_SIGNALS = ("SIGPIPE", "SIGXFSZ")
#: Keys of the ``default`` profile that give an SDK credentials before it reaches the container endpoint
#: (botocore's order: assume-role, web identity, SSO, credentials file, login, process, config file).
SHADOWING_KEYS = (
    "aws_access_key_id",
    "role_arn",
    "web_identity_token_file",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "login_session",
    "credential_process",
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
    parser.add_argument("command", nargs="*", help="the command to run, after --")
    _split_at_double_dash(parser)


def _split_at_double_dash(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` hand everything after the first ``--`` to CMD verbatim, however it looks.

    argparse (3.11) removes every ``--`` from a positional's values, and can take words after a second ``--``
    for options of its own: ``rolecall exec p -- git log -- file`` or a nested ``rolecall exec`` would reach CMD
    changed. So the words after the first ``--`` never reach argparse at all.
    """
    parse_known = parser.parse_known_args

    def parse_known_args(args: Any = None, namespace: Any = None) -> Any:
        words = list(sys.argv[1:] if args is None else args)
        tail: list[str] | None = None
        if "--" in words:
            index = words.index("--")
            words, tail = words[:index], words[index + 1 :]
        parsed, extras = parse_known(words, namespace)
        if tail is not None:
            parsed.command = [*parsed.command, *tail]
        return parsed, extras

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]


def child_environment(
    base: Mapping[str, str], profile: str, credentials: Credentials, region: str | None
) -> dict[str, str]:
    """CMD's environment without ``--server``: ``base`` without other identities, plus the profile's keys.

    The same variables ``rolecall env`` exports (``export.env_changes``: AWS_PROFILE and AWS_DEFAULT_PROFILE
    are removed, since a profile name next to keys makes tools disagree about who CMD is), applied to a dict
    instead of printed as shell code.
    """
    from rolecall import export

    env = {key: value for key, value in base.items() if key not in CONTAINER_VARS and key not in SECRET_VARIABLES}
    export.apply_to_environ(env, export.env_changes(credentials, profile=profile, region=region))
    env[NESTING_VARIABLE] = profile
    return env


def server_changes(
    base: Mapping[str, str], profile: str, region: str | None, server: CredentialsServer, files: ConfigFiles
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """What a client of ``server`` must change in ``base``: ``(variables to set, names to unset, warnings)``.

    The client gets the two container variables (and the region) and nothing an SDK would read before them:
    no keys, no profile name, no web identity, and, when the credentials file's ``[default]`` has keys, no
    credentials file at all (``AWS_SHARED_CREDENTIALS_FILE`` points at an empty file), because every SDK
    reads it before the container endpoint and the job would silently run as that user. A ``default`` profile
    in the config file that has credentials cannot be hidden without losing the rest of the config: it is
    reported as a warning.
    """
    from rolecall import export
    from rolecall import server as server_module

    unsets: list[str] = []
    for name in (
        *export.UNSET_VARS,
        *server_module.CONFLICTING_VARIABLES,
        *CONTAINER_VARS,
        *WEB_IDENTITY_VARS,
    ):
        if name not in unsets and name not in (server_module.FULL_URI_VARIABLE, server_module.TOKEN_VARIABLE):
            unsets.append(name)
    complete = server_module.child_environment(base, server)  # adds the endpoint to NO_PROXY behind a proxy
    sets = list(server.environment().items())
    for name in ("NO_PROXY", "no_proxy"):
        if name in complete and complete[name] != base.get(name):
            sets.append((name, complete[name]))
    if region:
        sets += [("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)]
    warnings: list[str] = []
    default_keys = files.credentials.get("default", {})
    if "aws_access_key_id" in default_keys:
        sets.append(("AWS_SHARED_CREDENTIALS_FILE", os.devnull))
        warnings.append(
            "the credentials file's [default] has keys, which SDKs read before the credentials server: "
            f"hiding the credentials file from its clients (AWS_SHARED_CREDENTIALS_FILE={os.devnull})"
        )
    config_default = files.config.get("profiles", {}).get("default", {})
    shadowing = [key for key in SHADOWING_KEYS if key in config_default]
    if shadowing:
        warnings.append(
            f"the config file's [default] profile has {', '.join(shadowing)}: SDKs use it before the credentials "
            "server, so its clients may not run as the served profile"
        )
    sets.append((export.ROLECALL_PROFILE, profile))  # last: a reader of the printed code knows it is complete
    set_names = {name for name, _value in sets}
    return sets, [name for name in unsets if name not in set_names], warnings


def point_clients_at(
    server: CredentialsServer, chain: Chain, args: argparse.Namespace, ctx: Context
) -> tuple[list[tuple[str, str]], list[str]]:
    """``server_changes`` for ``chain`` served by ``server``, as ``(sets, unsets)``; its warnings go to ``ctx``."""
    from rolecall.config.parse import ConfigFiles

    region = args.region or chain.region
    sets, unsets, warnings = server_changes(ctx.env, chain.profile, region, server, ConfigFiles.load(ctx.paths))
    for warning in warnings:
        ctx.warn(warning)
    return sets, unsets


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve, then run CMD."""
    command = list(args.command)
    if not command:
        raise UsageError("rolecall exec: no command given", hint="rolecall exec PROFILE -- CMD ARGS...")
    if not command[0]:
        # execve refuses it with a ValueError: say so before resolving anything.
        raise ExecError("cannot run the command: its name is empty", hint="check the quoting of CMD")
    outer = ctx.env.get(NESTING_VARIABLE)
    if outer and not args.allow_nested:
        raise UsageError(
            f"already inside `rolecall exec {outer}`; running {args.profile} inside it mixes two identities",
            hint="leave the outer command first, or pass --allow-nested if you mean it",
        )
    chain = chain_for(args, ctx)
    if args.server:
        return _run_with_server(chain, command, args, ctx)
    credentials = chain.provider.retrieve()
    if args.verify:
        from rolecall.cli.commands._resolve_options import verify

        verify(chain, credentials, args, ctx)
    env = child_environment(ctx.env, chain.profile, credentials, args.region or chain.region)
    ctx.stdout.flush()
    ctx.stderr.flush()
    restored = _restore_default_signals()
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:
        _put_back_signals(restored)
        raise ExecError(
            f"cannot run {command[0]!r}: {error.strerror}",
            hint="check the command name and that it is on PATH",
        ) from None
    return 0  # pragma: no cover - execvpe does not return


def _restore_default_signals() -> list[tuple[int, Any]]:
    """Give the ``DEFAULT_SIGNALS`` their default action in this process (``execvpe`` keeps ignored signals
    ignored in CMD); what they were, for ``_put_back_signals`` when the exec fails."""
    import signal

    previous: list[tuple[int, Any]] = []
    for name in DEFAULT_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous.append((signum, signal.signal(signum, signal.SIG_DFL)))
    return previous


def _put_back_signals(previous: list[tuple[int, Any]]) -> None:
    """Undo ``_restore_default_signals``: rolecall goes on (to report the error) with Python's dispositions."""
    import signal

    for signum, handler in previous:
        signal.signal(signum, handler)


def _run_with_server(chain: Chain, command: list[str], args: argparse.Namespace, ctx: Context) -> int:
    import signal

    from rolecall import export
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
        sets, unsets = point_clients_at(server, chain, args, ctx)
        env = {key: value for key, value in ctx.env.items() if key not in SECRET_VARIABLES}
        export.apply_to_environ(env, (sets, unsets))
        env[NESTING_VARIABLE] = chain.profile
        ctx.stdout.flush()
        ctx.stderr.flush()
        try:
            # posix_spawn, not subprocess: it gives the child an empty signal mask without a preexec_fn (which
            # is unsafe once the server's threads run), and the default dispositions Python changed.
            defaults = {getattr(signal, name) for name in DEFAULT_SIGNALS if hasattr(signal, name)}
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
