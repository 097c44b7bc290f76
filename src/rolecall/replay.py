"""Replay: answer a repeated hot command (``rolecall env prod``) from what the same command printed last time.

A cached lookup spends most of its time loading the ~30 modules that resolve a profile, only to reach the same
answer as the call before: the same files, the same cache entry, the same text. When a hot command (``env``,
``credential-process``, ``eks token``) succeeded from a cache, ``rolecall.replayrecord`` wrote a
*snapshot* of it: every input it depended on and the text it printed, with the secrets left out. The next run of the
same command line checks those inputs and, when none moved, prints the text again with the secrets read afresh from
the cache file they live in. Anything else — and any doubt — runs the command as usual (which records anew).

What a snapshot depends on, each checked here before it is used:

- the command line (the snapshot's name, and inside it: a renamed file is not used for another command line);
- this Python (``sys.hexversion``), this user (the effective uid), which of stdin/stdout/stderr are terminals, and
  the working folder when a relative path was read;
- every environment variable the command read, with its value (or its absence);
- every file it opened, listed or looked at, and rolecall's own source files, by their stat signature (inode,
  device, size, mtime and ctime in nanoseconds): a file changed in any way, replaced, created or deleted misses; a
  folder it only looked at (to check its owner) by its inode, device, owner and mode;
- the shell rolecall's output goes to, when the command asked (``rolecall.parentshell``);
- the clock: the served credentials must still be as fresh as the command required (its own margin, e.g. 15
  minutes for the AWS CLI cache), else the command runs and refreshes them;
- the cache file the secrets come from: the same signature, and at each recorded place a plain JSON string.

The snapshot is a ``marshal`` value (the module is built into the interpreter: nothing to import; the parse cache
uses it too) in a 0600 file of a 0700 folder under rolecall's own folder; a file that is not a regular one owned by
this user and closed to others is ignored. It holds no secret: the keys are read from the cache file at each replay.
``ROLECALL_REPLAY=0`` turns replaying off (recording too). docs/architecture.md, "The fast path", has the whole story.

This module is what every ``rolecall`` process imports first: only ``os``, ``sys``, ``marshal`` and ``time`` (all
loaded already or built in) and ``rolecall.filesig`` at load time, ``rolecall.config.paths`` for rolecall's folder,
and ``rolecall.durations`` for a status line.
"""

from __future__ import annotations

import marshal
import os
import sys
import time

from rolecall.filesig import Signature, identity, signature

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

#: The layout version of a snapshot; a file of another version is ignored (and replaced by the next recording).
FORMAT = 1

#: The commands whose successful cached answers are recorded and replayed (their first word).
#: (``process-cache`` is not one: its cache key is made of every AWS_* variable, a condition a snapshot does not
#: express; its own cached answer already costs about 1.3x a Python start-up.)
COMMANDS = frozenset({"env", "credential-process", "eks"})

#: A command line longer than this (its name, hex-encoded) is not replayed: file names have limits.
MAX_NAME = 200

#: Larger snapshot files are not read (one is a few kilobytes).
MAX_SNAPSHOT_BYTES = 1 << 20

#: Characters a secret (access key, secret key, session token, EKS token) may have to be put back verbatim: what
#: AWS issues (base64 and URL-safe base64, dots, dashes). Anything else: the command runs as usual.
SECRET_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.")


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def snapshot_name(argv: Sequence[str]) -> str | None:
    """The file name of the snapshot for this command line, or None when it is too long to have one."""
    name = "\0".join(argv).encode("utf-8", "surrogateescape").hex()
    return name if len(name) <= MAX_NAME else None


def snapshot_folder(env: Mapping[str, str]) -> str:
    """The folder of the snapshots: ``replay`` in rolecall's own folder (``~/.aws/rolecall``, ``ROLECALL_HOME``)."""
    from rolecall.config.paths import AwsPaths

    return os.path.join(AwsPaths.from_env(env).rolecall_dir, "replay")


def enabled(argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """True when this command line may be replayed or recorded: a hot command, no ``--debug``, not switched off."""
    return (
        bool(argv)
        and argv[0] in COMMANDS
        and "--debug" not in argv
        and env.get("ROLECALL_REPLAY", "1").strip() not in ("0", "false", "no", "off")
    )


def left_text(seconds: float) -> str:
    """``58 min left``, ``2 h left``, ``expired``: the time left of the status line, rounded up to the minute (with
    30 s left it says 1 min, never 0). Here, and without ``datetime``, for the replayed status line."""
    if seconds <= 0:
        return "expired"
    from rolecall.durations import format_duration

    return format_duration(-(-int(seconds) // 60) * 60) + " left"


def replay(argv: list[str]) -> None:
    """Print the recorded answer of ``argv`` and end the process (exit 0) when every input is as recorded;
    return (doing nothing visible) otherwise, and the command runs as usual."""
    env = os.environ
    if not enabled(argv, env):
        return
    try:
        texts = _answer(argv, env)
    except Exception:  # a damaged or foreign snapshot is a miss, never an error: the command runs as usual
        return
    if texts is None:
        return
    _write(*texts)


def _answer(argv: list[str], env: Mapping[str, str]) -> tuple[str, str] | None:
    """(stdout, stderr) of the recorded answer when every recorded input is unchanged, else None."""
    name = snapshot_name(argv)
    if name is None or sys.stdout is None or sys.stderr is None:
        return None
    raw = _read_own(os.path.join(snapshot_folder(env), name))
    if raw is None:
        return None
    (version, python, recorded_argv, uid, ttys, cwd, until, variables, files, shell, sources, out, err) = (
        marshal.loads(raw)
    )
    now = time.time()
    if (
        version != FORMAT
        or python != sys.hexversion
        or recorded_argv != tuple(argv)
        or uid != euid()
        or now >= until
        or ttys != (os.isatty(0), os.isatty(1), os.isatty(2))
        or (cwd is not None and cwd != os.getcwd())
    ):
        return None
    for variable, value in variables:
        if env.get(variable) != value:
            return None
    for path, expected in files:
        try:
            info = os.stat(path)
        except OSError:
            if expected is not None or lstat_works(path):
                return None  # gone, or now a dangling link (which the command would name): work it out
            continue
        if expected is None or expected != (signature(info) if len(expected) == 5 else identity(info)):
            return None
    if shell is not None:
        from rolecall.parentshell import running_shell

        if running_shell(env) != shell[0]:
            return None
    secrets = _secrets(sources)
    if secrets is None:
        return None
    return _render(out, secrets, now), _render(err, secrets, now)


def lstat_works(path: str) -> bool:
    """True when something is at ``path``, a dangling link included (``os.stat`` fails on one)."""
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def _read_own(path: str) -> bytes | None:
    """The bytes of ``path`` when it is a regular file of this user closed to others, else None."""

    def own(info: os.stat_result) -> bool:
        regular = (info.st_mode & 0o170000) == 0o100000
        return regular and not info.st_mode & 0o077 and info.st_uid == euid() and info.st_size <= MAX_SNAPSHOT_BYTES

    return read_if(path, own)


def read_if(path: str, accept: Callable[[os.stat_result], bool]) -> bytes | None:
    """The bytes of ``path`` (opened without following a link at its end) when ``accept`` takes the opened file's
    stat, else None (also when it cannot be opened). The check is on the file read, not on a path looked at before."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        return os.read(fd, info.st_size + 1) if accept(info) else None
    finally:
        os.close(fd)


def euid() -> int:
    """The effective user id (-1 where the system has none)."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid is not None else -1


def _secrets(sources: Sequence[tuple[str, Signature, Sequence[tuple[int, int]]]]) -> list[str] | None:
    """The secrets at the recorded places of their files, in order; None when a file moved or a place is not a
    plain JSON string of secret characters."""
    secrets: list[str] = []
    for path, expected, spans in sources:
        data = read_if(path, lambda info, expected=expected: signature(info) == expected)  # type: ignore[misc]
        if data is None:
            return None
        for start, length in spans:
            if data[start - 1 : start] != b'"' or data[start + length : start + length + 1] != b'"':
                return None
            value = data[start : start + length].decode("ascii")
            if not value or not SECRET_CHARACTERS.issuperset(value):
                return None
            secrets.append(value)
    return secrets


def _render(parts: Sequence[object], secrets: Sequence[str], now: float) -> str:
    """A recorded text: literal parts as they are, a number for the secret of that index, ``(expiry,)`` for the
    status line's time left at ``now``."""
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(part)
        elif isinstance(part, int):
            pieces.append(secrets[part])
        else:
            pieces.append(left_text(part[0] - now))  # type: ignore[index]
    return "".join(pieces)


def _write(out: str, err: str) -> None:
    """Write the answer as the command would and leave the process (exit 0), or return when stdout took nothing
    (the command then runs as usual, and reports what is wrong with the stream).

    stdout goes first, straight to its descriptor so that how much of it was taken is known: once part of the
    answer is out, a failure is reported here as the command reports it (never handed back, which would print the
    answer twice). The command itself ignores a stderr that cannot be written (``Context.say``).
    """
    stream = sys.stdout
    try:
        data = out.encode(stream.encoding or "utf-8", stream.errors or "strict")
        stream.flush()
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # UnicodeError and io.UnsupportedOperation are ValueErrors
        return
    written = 0
    try:
        while written < len(data):
            written += os.write(fd, data[written:])
    except BrokenPipeError:
        os._exit(0)  # the reader went away (`rolecall env prod | head -1`): as the command, nothing to say
    except OSError as error:
        if not written:
            return
        _fail(error)
    try:
        if err:
            sys.stderr.write(err)
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(0)


def _fail(error: OSError) -> None:
    """stdout broke after part of the answer went out: the command's own line and exit code (cli.main)."""
    from rolecall.cli.context import stdout_error

    failure = stdout_error(error)
    try:
        sys.stderr.write(f"rolecall: {failure.message} (hint: {failure.hint})\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(failure.exit_code)
