"""The loopback redirect of the same-device sign-in: ``http://127.0.0.1:PORT/oauth/callback``.

The same rules as the IAM Identity Center login's receiver (``rolecall.sso.login``): 127.0.0.1 only, a free
port, only the callback path, only a redirect carrying this sign-in's ``state`` is taken (anything else is refused
and the wait goes on), each connection in its own thread with a socket timeout, the wait with its own deadline.
"""

from __future__ import annotations

import threading
import time

from rolecall.errors import LoginError
from rolecall.sso.login import CONNECTION_TIMEOUT, REDIRECT_PATH

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>rolecall</title></head><body>"
    b"<h1 id=result>%s</h1><p>You can close this tab and return to the terminal.</p></body></html>"
)


class Redirect:
    """Receives the browser's redirect with the authorization code; a context manager that serves meanwhile."""

    def __init__(self, state: str, login_command: str) -> None:
        """Listen (not yet serve) on 127.0.0.1 for the redirect carrying ``state``."""
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        outer = self
        self.state = state
        self.login_command = login_command
        self.result: tuple[str | None, str | None] | None = None  # (code, error), set once
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

        class Handler(BaseHTTPRequestHandler):
            timeout = CONNECTION_TIMEOUT

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: a library does not write to stderr."""

            def do_GET(self) -> None:
                """The redirect from ``/v1/authorize``."""
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                if parts.path != REDIRECT_PATH or query.get("state") != outer.state:
                    self._answer(400, b"This is not the sign-in this rolecall is waiting for.")
                    return
                if "code" not in query and "error" not in query:
                    self._answer(400, b"The redirect has no authorization code.")
                    return
                result = (query["code"], None) if "code" in query else (None, query["error"])
                if not outer._settle(result):
                    self._answer(400, b"This sign-in is already complete.")
                    return
                self._answer(200, b"Signed in" if result[0] is not None else b"Sign-in denied")

            def _answer(self, status: int, text: bytes) -> None:
                body = _PAGE % text
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                """Quiet: a broken connection is not worth a traceback."""

        try:
            self.server = Server(("127.0.0.1", 0), Handler)
        except OSError as error:
            raise LoginError(
                f"cannot listen on 127.0.0.1 for the sign-in redirect: {error.strerror or error}",
                hint="sign in from another device instead: add --remote",
            ) from None

    def _settle(self, result: tuple[str | None, str | None]) -> bool:
        with self._lock:
            if self.result is not None:
                return False
            self.result = result
        self._done.set()
        return True

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:PORT/oauth/callback``."""
        return f"http://127.0.0.1:{self.server.server_port}{REDIRECT_PATH}"

    def wait(self, timeout: float) -> str:
        """The authorization code; ``LoginError`` when the sign-in is denied or takes longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(max(0.0, min(deadline - time.monotonic(), 1.0))):
            if time.monotonic() >= deadline:
                raise LoginError(
                    f"timed out after {timeout:g} s waiting for the sign-in in the browser",
                    hint=f"run `{self.login_command}` again (add --remote to sign in on another device)",
                )
        assert self.result is not None
        code, error = self.result
        if code is None:
            raise LoginError(
                f"the sign-in was denied in the browser ({error})", hint=f"run `{self.login_command}` again"
            )
        return code

    def __enter__(self) -> Redirect:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="rolecall-login-redirect", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self.server.shutdown()
        self.server.server_close()
