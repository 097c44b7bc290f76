"""Run a command line from the user's configuration (``credential_process``, ``mfa_process``) without a shell.

The AWS CLI splits such settings like a POSIX shell (``shlex.split``) and runs them directly: no ``~``,
``$VAR`` or pipes. Both of rolecall's configured commands do the same, with the same errors: the message
names the program, never its arguments (``oathtool -b SEED`` carries a secret) nor its standard output (the
code, the credentials).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping

    from rolecall.errors import RolecallError


def run_configured(
    command: str,
    what: str,
    error: type[RolecallError],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    capture_stderr: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    """Split ``command`` and run it, stdout captured (stderr too with ``capture_stderr``), stdin inherited.

    ``what`` names the setting in messages, e.g. ``the mfa_process command for arn:...:mfa/alice``. Failing to
    split, an empty command, a missing program, a timeout or an OS error raise ``error`` with a hint. The exit
    status is the caller's to judge.
    """
    import subprocess

    from rolecall.config.refusals import command_line, program_not_found

    argv, refusal = command_line(command, what)
    if refusal is not None:
        raise error(refusal.message, hint=refusal.hint)
    program = argv[0]
    try:
        # stdin is inherited: a program that prompts (a YubiKey tool, rolecall itself) reaches the terminal.
        return subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture_stderr else None,
            env=None if env is None else dict(env),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        missing = program_not_found(what, program)  # doctor's RC022 predicts this one (config.refusals)
        raise error(missing.message, hint=missing.hint) from None
    except subprocess.TimeoutExpired:
        raise error(
            f"{what}: {program} did not finish within {timeout:g} s",
            hint="run it yourself to see where it waits (a YubiKey may be waiting for a touch)",
        ) from None
    except OSError as problem:
        raise error(
            f"{what}: {program} cannot be run: {problem.strerror or problem}",
            hint="check that it is an executable program",
        ) from None
