"""What the two browser sign-ins (IAM Identity Center's ``sso login``, console credentials' ``login``) share: the
PKCE code verifier and challenge (RFC 7636), and the loopback receiver of the browser's redirect.

The receiver listens on 127.0.0.1 only (the AWS CLI listens on every interface) on a free port, answers only
``/oauth/callback``, and takes a code only with the ``state`` this sign-in sent: anything else on the port is
refused and the wait goes on, as is (on Linux) a connection from another local user's socket.
Connections are served in threads of their own, each with a socket timeout
(``CONNECTION_TIMEOUT``), and the wait has its own deadline: a connection that never sends a request, or stops
half-way, delays neither the real redirect nor the timeout. The callers word their own errors (``wait`` says what
happened; it raises only when the port cannot be opened).
"""

from __future__ import annotations

import threading
import time

from rolecall.errors import LoginError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["CONNECTION_TIMEOUT", "REDIRECT_PATH", "RedirectReceiver", "challenge", "new_verifier"]

#: The path of the loopback redirect, as the AWS CLI v2 registers it.
REDIRECT_PATH = "/oauth/callback"
#: How long one connection to the redirect port may take to send its request and read the answer. A browser
#: sends the redirect at once; a connection that says nothing (a browser's speculative preconnect, or another
#: local user) is dropped after this, and never holds up the others: each connection has its own thread.
CONNECTION_TIMEOUT = 10.0
#: RFC 7636's unreserved characters, the alphabet of a code verifier.
_VERIFIER_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_PAGE = (
    b"<!doctype html><html><head><meta charset=utf-8><title>rolecall</title></head><body>"
    b"<h1 id=result>%s</h1><p>You can close this tab and return to the terminal.</p></body></html>"
)


def new_verifier() -> str:
    """A fresh PKCE code verifier: 64 characters of RFC 7636's unreserved set."""
    import secrets

    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(64))


def challenge(verifier: str) -> str:
    """The PKCE challenge of ``verifier``: base64url(SHA-256(verifier)) without the ``=`` padding."""
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


class RedirectReceiver:
    """Receives the browser's redirect with the authorization code; a context manager that serves meanwhile."""

    def __init__(self, state: str, *, listen_hint: str, thread_name: str = "rolecall-redirect") -> None:
        """Listen (not yet serve) on 127.0.0.1 for the redirect carrying ``state``; ``LoginError`` with
        ``listen_hint`` when no port can be opened."""
        from http.server import ThreadingHTTPServer

        self.state = state
        #: ``(code, None)`` or ``(None, error)`` once the redirect came; set once.
        self.result: tuple[str | None, str | None] | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._thread_name = thread_name

        class Server(ThreadingHTTPServer):
            daemon_threads = True  # a connection still open at the end does not keep rolecall alive
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                """Quiet: a connection that timed out or broke is not worth a traceback on stderr."""

        try:
            self.server = Server(("127.0.0.1", 0), _handler_for(self))
        except OSError as error:
            raise LoginError(
                f"cannot listen on 127.0.0.1 for the sign-in redirect: {error.strerror or error}", hint=listen_hint
            ) from None

    def settle(self, result: tuple[str | None, str | None]) -> bool:
        """Take the first redirect with the right state; False for any later one."""
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

    def wait(self, deadline: float) -> tuple[str | None, str | None] | None:
        """``(code, None)``, ``(None, error)`` when the sign-in was denied, or None when ``deadline`` (on
        ``time.monotonic()``'s clock) passed first, whatever the connections do."""
        while not self._done.wait(max(0.0, min(deadline - time.monotonic(), 1.0))):
            if time.monotonic() >= deadline:
                return None
        return self.result

    def __enter__(self) -> RedirectReceiver:
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name=self._thread_name, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self.server.shutdown()  # stops accepting; connection threads end by themselves (timeout, daemon)
        self.server.server_close()


def _handler_for(receiver: RedirectReceiver) -> type[Any]:
    """The request handler class of ``receiver``'s server."""
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import parse_qs, urlsplit

    class Handler(BaseHTTPRequestHandler):
        timeout = CONNECTION_TIMEOUT  # socket timeout of each connection (StreamRequestHandler applies it)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a library does not write to stderr."""

        def do_GET(self) -> None:
            """The redirect from the authorization endpoint."""
            from rolecall.oneshot import peer_is_same_user

            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            local = self.connection.getsockname()
            # The state is in the browser's command line, which other local users can read: on Linux only a
            # connection of this user's counts, so they can neither end the sign-in nor hand rolecall a code.
            same_user = peer_is_same_user(self.client_address[:2], (local[0], local[1]))
            if parts.path != REDIRECT_PATH or query.get("state") != receiver.state or not same_user:
                self._answer(400, b"This is not the sign-in this rolecall is waiting for.")
                return
            if "error" not in query and "code" not in query:
                self._answer(400, b"The redirect has no authorization code.")
                return
            result = (None, query.get("error") or "error") if "error" in query else (query["code"], None)
            if not receiver.settle(result):
                self._answer(400, b"This sign-in is already complete.")
                return
            self._answer(200, b"Sign-in denied" if result[0] is None else b"Signed in")

        def _answer(self, status: int, text: bytes) -> None:
            body = _PAGE % text
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler
