"""``Context``: everything a command may touch in the outside world, passed in rather than reached for.

Commands read the environment, the clock and the terminal through it, so tests drive them with real
files and a real local STS while choosing the environment.
"""

from __future__ import annotations

import os
import sys

from rolecall.config.paths import AwsPaths
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, MutableMapping
    from datetime import datetime
    from typing import TextIO


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

    @classmethod
    def from_process(cls) -> Context:
        """The context of the real process: its streams and a copy of ``os.environ``."""
        return cls(stdin=sys.stdin, stdout=sys.stdout, stderr=sys.stderr, env=dict(os.environ))

    @property
    def paths(self) -> AwsPaths:
        """The AWS files for this environment."""
        return AwsPaths.from_env(self.env)

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
        self.stderr.write(line.rstrip("\n") + "\n")
        self.stderr.flush()

    def warn(self, line: str) -> None:
        """Write a warning to stderr, once per distinct text. Usable as a ``Reporter``."""
        if line in self._warned:
            return
        self._warned.add(line)
        self.say(f"rolecall: warning: {line}")

    def out(self, text: str) -> None:
        """Write ``text`` to stdout as it is."""
        self.stdout.write(text)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
