"""Lifecycle: serving the sandbox's WSGI app on 127.0.0.1 with werkzeug, in a daemon thread."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Any

from rolecall.sandbox.sso import BEARER_TOKEN_ENVIRON, BEARER_TOKEN_HEADER

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def _quiet_handler_class() -> type[Any]:
    from werkzeug.serving import WSGIRequestHandler

    class QuietRequestHandler(WSGIRequestHandler):
        """werkzeug's handler without the access log: the sandbox must not write to the test's stderr."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Do not log requests."""

        def make_environ(self) -> Any:
            """werkzeug's environ plus the SSO portal's bearer token, whose header werkzeug drops (underscore)."""
            environ = super().make_environ()
            token = self.headers.get(BEARER_TOKEN_HEADER)
            if token is not None:
                environ[BEARER_TOKEN_ENVIRON] = token
            return environ

    return QuietRequestHandler


class SandboxServer:
    """One threaded werkzeug server on ``host:port`` (0: a free port), started and stopped once."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare (but do not start) serving on ``host:port``."""
        self.host = host
        self.requested_port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, app: WSGIApplication) -> None:
        """Serve ``app`` in a daemon thread; OSError when the port cannot be bound."""
        from werkzeug.serving import make_server

        # Bind here rather than in werkzeug, which prints and calls sys.exit() when the port is taken:
        # a library must raise (OSError) instead.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.requested_port))
            listener.listen(128)
            # Threaded: a request that waits (a "slow" fault) must not block the others.
            self._server = make_server(
                self.host,
                self.requested_port,
                app,
                threaded=True,
                request_handler=_quiet_handler_class(),
                fd=listener.fileno(),  # werkzeug duplicates the descriptor
            )
        finally:
            listener.close()
        self._thread = threading.Thread(target=self._server.serve_forever, name="rolecall-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def serve_until_interrupted(self) -> None:
        """Block the calling thread until KeyboardInterrupt (the server keeps running in its thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    @property
    def is_running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The TCP port served on."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"
