"""The Chrome DevTools protocol over ``--remote-debugging-pipe``: NUL-delimited JSON on two pipes, stdlib only.

Chromium reads commands from its fd 3 and writes answers and events to its fd 4. Nothing listens on a port,
so no other local user can attach to the browser (a ``--remote-debugging-port`` is open to every local
process). ``Pipe`` is the connection: ``call`` sends one command and waits for its answer, keeping the events
that arrive meanwhile; ``next_event`` hands them out in order.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import time
from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


class CdpError(Exception):
    """The browser answered a command with an error, or the pipe closed (the browser went away)."""


class BrowserGone(CdpError):
    """The browser closed its end of the pipe: it exited, or the person closed it."""


class Pipe:
    """One DevTools connection over two pipe file descriptors (ours: write commands, read messages)."""

    def __init__(self, write_fd: int, read_fd: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.write_fd = write_fd
        self.read_fd = read_fd
        self.clock = clock
        self._next_id = 0
        self._buffer = b""
        self._events: deque[dict[str, Any]] = deque()
        self._answers: dict[int, dict[str, Any]] = {}
        #: Called with each event as it arrives, even while a command waits for its answer; True: handled (not
        #: queued). Intercepted requests must be answered at once: a page may wait on them before it answers us.
        self.interceptor: Callable[[dict[str, Any]], bool] | None = None

    def close(self) -> None:
        """Close both ends (idempotent)."""
        for fd in (self.write_fd, self.read_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.write_fd = self.read_fd = -1

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        """Send one command without waiting; return its id."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                data = data[os.write(self.write_fd, data) :]
        except OSError as error:
            raise BrowserGone(f"the browser is gone ({error.strerror})") from None
        return self._next_id

    def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send a command and return its ``result``; ``CdpError`` with the browser's message when it failed."""
        wanted = self.send(method, params, session)
        deadline = self.clock() + timeout
        while wanted not in self._answers:
            message = self._read(deadline)
            if message is None:
                raise CdpError(f"the browser did not answer {method} in {timeout:.0f} s")
            self._sort(message)
        message = self._answers.pop(wanted)
        if "error" in message:
            error = message["error"]
            raise CdpError(f"{method}: {error.get('message', error) if isinstance(error, dict) else error}")
        result = message.get("result")
        return result if isinstance(result, dict) else {}

    def _sort(self, message: dict[str, Any]) -> None:
        """An answer is kept for its command (a nested call may read it first); an event is intercepted or queued."""
        if isinstance(message.get("id"), int):
            self._answers[message["id"]] = message
        elif "method" in message and not (self.interceptor is not None and self.interceptor(message)):
            self._events.append(message)

    def next_event(self, timeout: float) -> dict[str, Any] | None:
        """The next event (``{"method", "params", "sessionId"}``), or None when none came within ``timeout``."""
        if self._events:
            return self._events.popleft()
        deadline = self.clock() + timeout
        while not self._events:
            message = self._read(deadline)
            if message is None:
                return None
            self._sort(message)
        return self._events.popleft()

    def _read(self, deadline: float) -> dict[str, Any] | None:
        """One message, or None at the deadline. ``BrowserGone`` at the end of the pipe."""
        while b"\0" not in self._buffer:
            left = deadline - self.clock()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.read_fd], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except OSError as error:
                raise BrowserGone(f"the browser is gone ({error.strerror})") from None
            if not chunk:
                raise BrowserGone("the browser closed its DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        try:
            message = json.loads(raw)
        except ValueError:
            return {}
        return message if isinstance(message, dict) else {}
