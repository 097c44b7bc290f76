"""Entry point: parse the command name, import only that command, run it, map errors to exit codes.

This is the ONE place where a ``RolecallError`` becomes a line on stderr and an exit code. Commands
are imported lazily so that ``rolecall env prod`` pays only for what ``env`` needs.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import NoReturn, Protocol, TextIO

    from rolecall.cli.context import Context
    from rolecall.cli.parser import ArgumentParser
    from rolecall.errors import RolecallError
    from rolecall.replayrecord import Recorder

    class CommandModule(Protocol):
        """What every module in rolecall.cli.commands provides."""

        def add_arguments(self, parser: argparse.ArgumentParser) -> None:
            """Declare the command's arguments."""

        def run(self, args: argparse.Namespace, ctx: Context) -> int:
            """Run the command; return the exit code."""


#: name -> (module under rolecall.cli.commands, one-line summary). Modules not present yet are hidden.
COMMANDS: dict[str, tuple[str, str]] = {
    "assume": ("assume", "Get working credentials for a profile (MFA with as few prompts as AWS allows)."),
    "env": ("env", "Print shell code that exports a profile's credentials (eval \"$(rolecall env prod)\")."),
    "exec": ("exec_", "Run a command with a profile's credentials in its environment only."),
    "credential-process": ("credential_process", "Act as a credential_process for the AWS CLI and SDKs."),
    "process-cache": ("process_cache", "Cache a credential_process tool's answer: one run and prompt for all callers."),
    "serve": ("serve", "Serve profiles' credentials to SDKs on a local container-credentials (and IMDS) endpoint."),
    "eks": ("eks", "Print an EKS token for kubectl (as `aws eks get-token`, cached), or the kubeconfig lines."),
    "save": ("save", "Write temporary credentials into a named profile of the credentials file."),
    "console": ("console", "Open the AWS web console signed in as a profile (federation sign-in URL)."),
    "whoami": ("whoami", "Show who the credentials of a profile belong to (GetCallerIdentity)."),
    "list": ("list_", "List profiles, their source chains and what is cached."),
    "shell-init": ("shell_init", "Print the assume/unassume shell functions for bash, zsh, fish or pwsh."),
    "add-role": ("add_role", "A wizard that writes a working role profile (verified by assuming it once)."),
    "doctor": ("doctor", "Lint the AWS config and credentials files: one line per problem, with the fix."),
    "forget": ("forget", "Drop a profile's cached role session and MFA session (the next assume makes a fresh call)."),
    "configure": ("configure", "Get and set values in the AWS config and credentials files (as aws configure)."),
    "sts": ("sts", "The raw STS calls, as `aws sts` makes them."),
    "keys": ("keys", "Keep long-term access keys in the keychain or an encrypted file instead of plaintext."),
    "login": ("login", "Sign in with console credentials, as aws login (a login_session profile rolecall renews)."),
    "logout": ("logout", "Delete a profile's aws login token file, as aws logout."),
    "sso": ("sso", "IAM Identity Center: log in and out (as aws sso login), sync profiles for every account and role."),
    "saml": ("saml", "SAML through any identity provider: sign in in a browser, assume the role it grants."),
    "sandbox": ("sandbox", "Run a local, strict STS with a seeded account to try rolecall safely."),
    "demo": ("demo", "Walk through the whole workflow against the local sandbox."),
    "help": ("help", "Show a documentation page: exit codes, profiles, MFA, SSO, shells... (rolecall help TOPIC)."),
}


def _module_name(command: str) -> str:
    return f"rolecall.cli.commands.{COMMANDS[command][0]}"


def available_commands() -> list[str]:
    """The commands whose modules exist in this installation."""
    from importlib.util import find_spec

    return [name for name in COMMANDS if find_spec(_module_name(name)) is not None]


def top_help() -> str:
    """``rolecall --help``: the usage line and one line per command."""
    lines = [
        "usage: rolecall [--debug] [--version] COMMAND [ARGS...]",
        "",
        "Assume AWS IAM roles through STS: fast, safe, compatible with the AWS CLI.",
        "",
        "commands:",
    ]
    for name in available_commands():
        lines.append(f"  {name:<20}{COMMANDS[name][1]}")
    lines += [
        "",
        "Run 'rolecall COMMAND --help' for a command's options, 'rolecall help' for the documentation topics",
        "(exit codes: rolecall help exit-codes).",
    ]
    return "\n".join(lines) + "\n"


def _split_debug(argv: Sequence[str]) -> tuple[list[str], bool]:
    """Remove ``--debug`` wherever it stands before a ``--`` (after ``--`` it belongs to a child command)."""
    rest: list[str] = []
    debug = False
    for index, arg in enumerate(argv):
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg == "--debug":
            debug = True
        else:
            rest.append(arg)
    return rest, debug


def build_parser(command: str) -> tuple[ArgumentParser, CommandModule]:
    """Import one command module and build its parser."""
    import importlib

    from rolecall.cli.parser import ArgumentParser

    module: CommandModule = importlib.import_module(_module_name(command))
    parser = ArgumentParser(prog=f"rolecall {command}", description=COMMANDS[command][1])
    module.add_arguments(parser)
    return parser, module


def main(argv: Sequence[str] | None = None, ctx: Context | None = None) -> int:
    """Run rolecall with ``argv`` (without the program name); return the exit code."""
    # Imported here, not at the top: the console script imports this module before it tries a replay
    # (rolecall.replay), which must not pay for them.
    from rolecall.cli.context import Context
    from rolecall.errors import ExitCode, RolecallError

    ctx = ctx or Context.from_process()
    args_list = list(sys.argv[1:] if argv is None else argv)
    recorder = _start_recording(args_list, ctx) if _record_hot_paths else None
    if args_list[:1] != ["__complete"]:  # the words to complete are the user's, --debug included
        args_list, ctx.debug = _split_debug(args_list)
    ctx.new_session()  # one session per command: its files are read at most once, and afresh for each command
    try:
        code = _dispatch(args_list, ctx)
        ctx.finish_output()
        if recorder is not None:
            _finish_recording(code, ctx)
        return code
    except RolecallError as error:
        return _report(error, error, ctx)
    except KeyboardInterrupt:
        ctx.say("rolecall: interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (e.g. `rolecall ... | head`); nothing to say.
        return 0
    except Exception as error:  # the last line of defence: never a raw traceback without --debug
        missing = _missing_extra(error)
        if missing is not None:
            return _report(missing, error, ctx)
        if ctx.debug:
            _print_traceback(error, ctx.stderr)
        # Only the type is shown: an arbitrary exception's text could carry a secret.
        ctx.say(
            f"rolecall: internal error ({type(error).__name__}) "
            "(hint: rerun with --debug for the traceback, secrets masked, and report it)"
        )
        return 70
    finally:
        if recorder is not None:
            from rolecall import replayrecord

            replayrecord.stop()


def _start_recording(argv: list[str], ctx: Context) -> Recorder | None:
    """Watch this run of a hot command for ``rolecall.replay`` (only the console script asks for it)."""
    from rolecall import replay

    if not replay.enabled(argv, ctx.env):
        return None
    from rolecall import replayrecord

    recorder = replayrecord.start(argv)
    ctx.env, ctx.stdout, ctx.stderr, ctx.clock = replayrecord.watch_context(
        recorder, ctx.env, ctx.stdout, ctx.stderr, ctx.clock
    )
    return recorder


def _finish_recording(code: int, ctx: Context) -> None:
    """Keep the snapshot of a hot command that succeeded (see rolecall.replayrecord)."""
    from rolecall import replayrecord

    recorder = replayrecord.stop()
    if code == 0 and recorder is not None and ctx.debug is False:
        replayrecord.finish(recorder, ctx.env)


def _report(error: RolecallError, raised: BaseException, ctx: Context) -> int:
    """Say ``error`` in one line (``raised``'s traceback first with --debug); its exit code."""
    if ctx.debug:
        _print_traceback(raised, ctx.stderr)
    line = f"rolecall: {error.message}"
    if error.hint:
        line += f" (hint: {error.hint})"
    ctx.say(line)
    return error.exit_code


def _missing_extra(error: Exception) -> RolecallError | None:
    """A package of an optional extra (moto, keyring...) that is not installed: what to install, not a bug."""
    if not isinstance(error, ModuleNotFoundError):
        return None
    from rolecall.extras import extra_for_module, missing_extra

    extra = extra_for_module(error.name)
    return missing_extra(extra, error.name) if extra is not None else None


#: Python's own sentences between the exceptions of a chain.
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _print_traceback(error: BaseException, stream: TextIO) -> None:
    """``--debug``'s traceback: Python's own layout, every exception of the chain, each message masked.

    The frames (file, line, function, source line) are rolecall's and its libraries' code. The messages are not:
    botocore's quote the answers they could not parse, a ``ValueError`` may quote the value it refused, so each
    goes through ``redact_secrets`` (people paste this into bug reports, as the internal-error line asks them to).
    """
    import traceback

    from rolecall.errors import redact_secrets

    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    lines: list[str] = []
    # Oldest first, as Python prints them; each one's link sentence goes after it.
    for exception, link in reversed(chain):
        if exception.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(exception.__traceback__))
        kind = type(exception)
        module = kind.__module__
        name = kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
        try:
            text = str(exception)
        except Exception:  # an exception whose __str__ fails: Python itself prints <exception str() failed>
            text = "<exception str() failed>"
        lines.append(f"{name}: {redact_secrets(text)}\n" if text else f"{name}\n")
        for note in getattr(exception, "__notes__", None) or ():
            lines.append(redact_secrets(str(note)) + "\n")
        lines.append(link)
    stream.write("".join(lines))


def _dispatch(argv: list[str], ctx: Context) -> int:
    from rolecall import __version__

    if not argv or argv[0] in ("-h", "--help"):
        ctx.out(top_help())
        return 0
    if argv[0] == "--version":
        ctx.out(f"rolecall {__version__}\n")
        return 0
    command = argv[0]
    if command == "__complete":  # hidden: Tab completion for the shells (shell/completion.*)
        from rolecall.cli.commands.complete import run_words

        return run_words(argv[1:], ctx)
    if command not in COMMANDS:
        _unknown(command)
    from rolecall.cli.fastargs import parse_fast

    fast = parse_fast(command, argv[1:])
    if fast is not None:
        return _run_fast(command, fast, ctx)
    _resume_collector()
    from importlib.util import find_spec

    if find_spec(_module_name(command)) is None:
        _unknown(command)
    parser, module = build_parser(command)
    args = parser.parse_args(argv[1:])
    return module.run(args, ctx)


def _run_fast(command: str, fast: object, ctx: Context) -> int:
    """The hot path (``env``, ``credential-process``): no argparse (see cli/fastargs.py), the module imported
    directly."""
    try:
        # __import__ rather than importlib.import_module: importing importlib costs the hot path.
        __import__(_module_name(command))
        module: CommandModule = sys.modules[_module_name(command)]
    except ModuleNotFoundError as error:
        if error.name != _module_name(command):
            raise
        _unknown(command)
    return module.run(fast, ctx)  # type: ignore[arg-type]


def _unknown(command: str) -> NoReturn:
    import difflib

    from rolecall.errors import UsageError

    close = difflib.get_close_matches(command, available_commands(), n=1)
    hint = f"did you mean '{close[0]}'?" if close else "run 'rolecall --help' for the list of commands"
    raise UsageError(f"unknown command '{command}'", hint=hint)


#: True while ``entry_point`` holds the cyclic garbage collector off (see there).
_collector_paused = False

#: True in the console script: hot commands are recorded for ``rolecall.replay`` (in-process callers of ``main``,
#: tests and embedding programs, never are).
_record_hot_paths = False


def _pause_collector() -> None:
    """Hold the cyclic garbage collector off for a process that is about to run one short command and exit.

    A cached lookup imports some 40 modules; their thousands of new functions and classes set off collector
    passes (one of about 0.8 ms among them) that find nothing to free, as the lookup keeps what it makes until it
    exits: about 1 ms of a 24 ms command (benchmarks/env_cached.py). Reference counting still frees every object
    outside a cycle. Only the console script pauses it: in-process callers of ``main`` keep their collector.
    """
    global _collector_paused
    import gc

    if gc.isenabled():
        gc.disable()
        _collector_paused = True


def _resume_collector() -> None:
    """Switch the collector back on for the commands that are not the hot path: they may run for hours (``serve``,
    ``exec``, ``sso sync``) and make cyclic garbage all along."""
    global _collector_paused
    if _collector_paused:
        import gc

        gc.enable()
        _collector_paused = False


def _idle_for_exit() -> bool:
    """True when nothing would run at the interpreter's teardown but freeing memory the kernel frees anyway.

    That is: the collector is still paused (only the hot path, help or completion ran, never a command that may
    leave work behind), no AWS call was made (botocore, its connection pools and logging never loaded), and no
    other thread is alive, and nobody registered ``atexit`` work (rolecall registers none on that path; a
    coverage tool or an embedding program may). rolecall writes every file it keeps through ``with`` blocks
    (``fileio``), so there is nothing to lose.
    """
    if not _collector_paused or "botocore" in sys.modules:
        return False
    import atexit

    # CPython's count of registered exit functions; an interpreter without it gets the full teardown.
    registered = getattr(atexit, "_ncallbacks", None)
    if registered is None or registered() != 0:
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def entry_point() -> None:
    """The ``rolecall`` console script.

    After a hot-path command the process leaves with ``os._exit`` once its output is flushed: Python's teardown
    (unloading some 40 modules and collecting every object) costs about a tenth of a cached lookup's instructions
    (benchmarks/env_cached.py, docs/architecture.md) and does nothing the kernel does not do at exit.
    """
    global _record_hot_paths
    from rolecall.replay import replay

    replay(sys.argv[1:])  # returns only when the answer must be worked out (it ends the process otherwise)
    import os

    _pause_collector()
    _record_hot_paths = True
    code = main()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except (OSError, ValueError):
        # main() has said why stdout could not be written; what is left in its buffer would fail once more at
        # exit, with Python's own two-line complaint and exit status 120: send it nowhere instead.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    if _idle_for_exit():
        try:
            if sys.stderr is not None:
                sys.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr is gone: nothing more can be said, and the exit code still tells
        os._exit(code)
    sys.exit(code)
