"""``Context``: everything a command may touch in the outside world, passed in rather than reached for.

Commands read the environment, the clock and the terminal through it, so tests drive them with real
files and a real local STS while choosing the environment.
"""

from __future__ import annotations

import errno
import io
import os
import sys

from rolecall.config.paths import AwsPaths
from rolecall.errors import FileError
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from datetime import datetime
    from typing import Any, TextIO

    from rolecall.session import Session


class Context:
    """The streams, environment, clock and terminal state of one invocation."""

    def __init__(
        self,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
        env: MutableMapping[str, str],
        clock: Callable[[], datetime] = utc_now,
        debug: bool = False,
    ) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.env = env
        self.clock = clock
        self.debug = debug
        #: Lines already warned about in this run, so a warning is said once.
        self._warned: set[str] = set()
        self._session: Session | None = None

    @classmethod
    def from_process(cls) -> Context:
        """The context of the real process: its streams and a copy of ``os.environ``.

        A stream the process was started without (``rolecall env prod >&-``) is one that refuses every write,
        so that the command fails with one clear line instead of an internal error.
        """
        return cls(
            stdin=sys.stdin if sys.stdin is not None else _closed("input"),
            stdout=sys.stdout if sys.stdout is not None else _closed("output"),
            stderr=sys.stderr if sys.stderr is not None else _closed("error"),
            env=dict(os.environ),
        )

    @property
    def paths(self) -> AwsPaths:
        """The AWS files for this environment."""
        return AwsPaths.from_env(self.env)

    @property
    def session(self) -> Session:
        """This command's ``Session`` (the AWS files read once, settings and chains), made on first use.

        ``cli.main`` starts each command with a new one (``new_session``), so a Context used for two commands
        never serves the second from what the first read.
        """
        if self._session is None:
            from rolecall.session import Session

            self._session = Session(self.env, clock=self.clock, reporter=self.say, warn=self.warn)
        return self._session

    def new_session(self) -> None:
        """Forget this context's session: the next command reads the files afresh."""
        self._session = None

    @property
    def stdin_is_tty(self) -> bool:
        """True when standard input is a terminal."""
        return _isatty(self.stdin)

    @property
    def stdout_is_tty(self) -> bool:
        """True when standard output is a terminal (a person, not ``eval`` or a pipe, reads it)."""
        return _isatty(self.stdout)

    @property
    def stderr_is_tty(self) -> bool:
        """True when standard error is a terminal (colour, progress)."""
        return _isatty(self.stderr)

    def say(self, line: str) -> None:
        """Write one line for a person to stderr (stdout is for machines)."""
        try:
            self.stderr.write(_printable(line.rstrip("\n")) + "\n")
            self.stderr.flush()
        except (OSError, ValueError):
            pass  # stderr closed or full: there is nowhere left to say anything; the exit code still tells

    def warn(self, line: str) -> None:
        """Write a warning to stderr, once per distinct text. Usable as a ``Reporter``."""
        if line in self._warned:
            return
        self._warned.add(line)
        self.say(f"rolecall: warning: {line}")

    def out(self, text: str) -> None:
        """Write ``text`` to stdout as it is; a stdout that refuses it (closed, disk full) is a ``FileError``."""
        try:
            self.stdout.write(text)
        except BrokenPipeError:
            raise  # the reader went away: the CLI ends quietly
        except (OSError, ValueError) as error:
            raise stdout_error(error) from None

    def finish_output(self) -> None:
        """Flush stdout, so that output that could not be written is reported now instead of lost at exit.

        ``eval "$(rolecall env prod > /dev/full)"``-like failures must not look like success.
        """
        try:
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as error:
            raise stdout_error(error) from None


class _ClosedStream(io.TextIOBase):
    """Stands for a standard stream the process does not have: every read or write fails with an ``OSError``."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._name = name

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, f"standard {self._name} is closed")

    def isatty(self) -> bool:
        return False


def _closed(name: str) -> TextIO:
    stream: Any = _ClosedStream(name)  # a TextIOBase, used only through the TextIO methods it has
    return stream  # type: ignore[no-any-return]


def _printable(line: str) -> str:
    """``line`` with control characters escaped (``\\x1b``): values from config files, the environment or a helper's
    output end up in messages, and must neither inject terminal escapes nor break the one-line rule."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)


def stdout_error(error: OSError | ValueError) -> FileError:
    """The error of a stdout that refused what was written (closed, full): one line, a hint, the file exit code."""
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error) or type(error).__name__
    return FileError(
        f"cannot write to standard output: {reason}",
        hint="check where stdout goes (a closed stream, a full disk); what was printed is incomplete",
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
