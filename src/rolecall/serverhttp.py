"""The HTTP side of the credentials server: bounded listeners (TCP or a Unix socket) and the request handler.

``rolecall.server.CredentialsServer`` owns the profiles, the token and the listeners; a listener serves either
the container face (every profile at its secret path) or one profile's IMDS face (``rolecall.serverimds``).
Every request passes the same checks first (server stopping, the ``Host`` header), then its face's.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rolecall import serverimds
from rolecall.errors import AwsError, RolecallError
from rolecall.refresh import RefreshPendingError
from rolecall.serverbind import bind_unix_socket, remove_unix_socket, socket_inode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.credentials import Credentials
    from rolecall.server import CredentialsServer, _Served

#: Request line and each header line are cut off at this size (the standard library allows 64 KiB).
MAX_LINE = 8192
#: Headers per request (the standard library's own limit is 100).
MAX_HEADERS = 32
#: A request must arrive whole within this many request timeouts: the socket timeout bounds each read, so without
#: it a client trickling a byte at a time would hold its connection (and one of the slots) for ever.
READ_DEADLINE_FACTOR = 3

# Fixed refusal bodies: they never echo anything from the request, so they cannot leak or reflect anything.
_REFUSALS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request could not be understood."),
    401: ("Unauthorized", "The server's token is required."),
    403: ("Forbidden", "The request was refused."),
    404: ("NotFound", "There is nothing at this path."),
    405: ("MethodNotAllowed", "This method is not allowed at this path."),
    414: ("URITooLong", "The request line is too long."),
    431: ("RequestHeaderFieldsTooLarge", "The request headers are too large."),
    503: ("ServiceUnavailable", "The credentials server is shutting down."),
}


def _message(error: RolecallError) -> str:
    """What the SDK logs for a refresh that failed or has not finished: what happened and what to do."""
    message = f"rolecall could not refresh the credentials: {error.message}"
    return f"{message} (hint: {error.hint})" if error.hint else message


def _failure_body(error: BaseException) -> tuple[str, str]:
    """Code and message for a failed refresh: the message is what the SDK logs, so it says what to do."""
    if isinstance(error, RolecallError):
        code = (error.code if isinstance(error, AwsError) and error.code else "") or type(error).__name__
        message = _message(error)
    else:
        # Only the type: the text of an unexpected exception could carry anything.
        code = "InternalError"
        message = f"rolecall could not refresh the credentials: internal error ({type(error).__name__})"
    return code, message


def _is_ip_or_localhost(host: str) -> bool:
    """True for an IP literal or ``localhost``: names a rebinding attack cannot use (it needs a domain it owns)."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class _Listener(socketserver.ThreadingMixIn):
    """A bounded number of connections, all closed on stop; one face; its own accepted ``Host`` values."""

    daemon_threads = True
    # The default backlog of 5 makes a burst of concurrent SDK clients wait for SYN retries (a second each).
    request_queue_size = 512
    owner: CredentialsServer
    #: The IMDS face this listener serves, or None for the container face.
    imds: serverimds.ImdsFace | None
    stopping: bool
    _open: set[socket.socket]
    _open_lock: threading.Lock
    #: Connections reading a request, and when they started to wait for it (``service_actions`` cuts them off).
    _reading: dict[socket.socket, float]
    #: Exact Host values accepted; ``any_ip_host_port`` also accepts any IP literal or localhost with that port
    #: (every interface: clients use any of the machine's addresses), ``"*"`` with any port (a Unix socket,
    #: reached through a relay whose port the server does not know).
    allowed: frozenset[str] = frozenset()
    any_ip_host_port: str = ""

    def _init_bounds(self, owner: CredentialsServer, imds: serverimds.ImdsFace | None) -> None:
        self.owner = owner
        self.imds = imds
        self.stopping = False
        self._open = set()
        self._open_lock = threading.Lock()
        self._reading = {}

    def reading(self, connection: socket.socket, started: bool) -> None:
        """Mark ``connection`` as waiting for (``started``) or done with reading a request."""
        import time

        with self._open_lock:
            if started:
                self._reading[connection] = time.monotonic()
            else:
                self._reading.pop(connection, None)

    def service_actions(self) -> None:
        """Between polls of the listener: shut down connections whose request has not arrived in time."""
        import time

        super().service_actions()  # type: ignore[misc]
        limit = time.monotonic() - READ_DEADLINE_FACTOR * self.owner.request_timeout
        with self._open_lock:
            late = [connection for connection, since in self._reading.items() if since < limit]
            for connection in late:
                del self._reading[connection]
        for connection in late:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    def host_allowed(self, value: str) -> bool:
        """Whether a ``Host`` header value names this listener (a rebound DNS name never does)."""
        value = value.strip().lower()
        if value in self.allowed:
            return True
        if not self.any_ip_host_port:
            return False
        host, colon, port = value.rpartition(":")
        if not colon or host.endswith(":"):
            host, port = value, ""
        return _is_ip_or_localhost(host) and self.any_ip_host_port in ("*", port)

    def verify_request(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> bool:
        assert isinstance(request, socket.socket)
        with self._open_lock:
            if self.stopping or len(self._open) >= self.owner.max_connections:
                return False
            self._open.add(request)
            return True

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        assert isinstance(request, socket.socket)
        with self._open_lock:
            self._open.discard(request)
            self._reading.pop(request, None)
        super().shutdown_request(request)  # type: ignore[misc]

    def handle_error(self, request: socket.socket | tuple[bytes, socket.socket], client_address: object) -> None:
        # socketserver prints a traceback to stderr here; library code never prints. A client that hangs up
        # mid-answer is normal; anything else is one line for the reporter, without the exception's text.
        import sys

        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        self.owner.reporter(f"credentials server: internal error while answering ({type(error).__name__})")

    def close_connections(self) -> None:
        """Shut down every open connection so keep-alive clients cannot be served after ``stop``."""
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # already gone
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def port(self) -> int:
        """The TCP port listened on (0 on a Unix socket)."""
        return 0


class TcpListener(_Listener, ThreadingHTTPServer):
    """A listener on an IP address and port."""

    def __init__(self, owner: CredentialsServer, address: tuple[str, int], imds: serverimds.ImdsFace | None) -> None:
        self._init_bounds(owner, imds)
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        ThreadingHTTPServer.__init__(self, address, Handler)
        self.allowed = owner.allowed_hosts(self.port)
        if ipaddress.ip_address(address[0]).is_unspecified:
            self.any_ip_host_port = str(self.port)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name with getfqdn, which can block on DNS; nothing needs it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    @property
    def port(self) -> int:
        """The TCP port listened on."""
        return int(self.server_address[1])


class UnixListener(_Listener, socketserver.UnixStreamServer):
    """A listener on a Unix socket file (mode 0600 in a 0700 folder), removed again when it closes."""

    def __init__(self, owner: CredentialsServer, path: str) -> None:
        self._init_bounds(owner, None)
        socketserver.UnixStreamServer.__init__(self, path, Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = bind_unix_socket(path)
        self.path = self.socket.getsockname()
        self._inode = socket_inode(self.path)
        self.any_ip_host_port = "*"

    def server_close(self) -> None:
        """Close the socket and remove its file (when it is still this listener's)."""
        super().server_close()
        remove_unix_socket(self.path, self._inode)


class Handler(BaseHTTPRequestHandler):
    """Answers GET on the secret path with credentials; refuses everything else with a fixed body."""

    server: TcpListener | UnixListener
    protocol_version = "HTTP/1.1"  # keep-alive: SDKs reuse the connection
    server_version = "rolecall"
    sys_version = ""  # do not advertise the Python version
    # Buffer the answer and flush once: status, headers and body leave in one segment. Unbuffered writes (the
    # standard library's default) send headers and body separately, and with Nagle's algorithm against the
    # client's delayed ACK every keep-alive answer then waits about 40 ms.
    wbufsize = 16384

    def setup(self) -> None:
        super().setup()
        if self.connection.family != socket.AF_UNIX:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The per-connection idle timeout: a client that sends nothing (or one byte at a time) loses its thread.
        self.connection.settimeout(self.server.owner.request_timeout)

    # -- request reading with tighter bounds than the standard library -------------------------------------------

    def handle_one_request(self) -> None:
        self.server.reading(self.connection, True)
        try:
            line = self.rfile.readline(MAX_LINE + 1)
            if not line:
                self.close_connection = True
                return
            if len(line) > MAX_LINE:
                self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
                self._refuse(414, "request line too long")
                return
            self.raw_requestline = line
            if not self._parse_bounded():
                return
            self.server.reading(self.connection, False)
            self._dispatch()
            self.wfile.flush()
        except (TimeoutError, ConnectionError):  # idle, or shut down by ``service_actions``
            self.close_connection = True
        finally:
            self.server.reading(self.connection, False)

    def _parse_bounded(self) -> bool:
        """``parse_request`` with the header count and size bounded; answers the refusal itself when not."""
        # Read the header block ourselves, bounded, then let the standard parser work on it.
        import io

        block = bytearray()
        for count in range(MAX_HEADERS + 2):
            header = self.rfile.readline(MAX_LINE + 1)
            if len(header) > MAX_LINE or count > MAX_HEADERS:
                self.request_version, self.command = "HTTP/1.1", ""
                self.requestline = ""
                self._refuse(431, "request headers too large")
                return False
            block += header
            if header in (b"\r\n", b"\n", b""):
                break
        real_rfile = self.rfile
        self.rfile = io.BufferedReader(io.BytesIO(bytes(block)))
        try:
            ok = self.parse_request()
        finally:
            self.rfile = real_rfile
        return ok

    # -- the checks, in an order that tells a stranger as little as possible ------------------------------------

    def _dispatch(self) -> None:
        listener = self.server
        if listener.stopping:
            self._refuse(503, "server stopping")
            return
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or not listener.host_allowed(hosts[0]):
            # DNS rebinding: a browser page on evil.example resolved to 127.0.0.1 still sends its own Host.
            self._refuse(403, "foreign or missing Host header")
            return
        if listener.imds is not None:
            self._answer_imds(listener.imds)
            return
        served = listener.owner.served_at(self.path)
        if served is None:
            self._refuse(404, "unknown path")
            return
        if self.command != "GET":
            self._refuse(405, f"method {self.command[:16]!r} not allowed", extra={"Allow": "GET"})
            return
        # Every Content-Length counts: with "0" then "52", the 52 bytes would be read as the next request.
        lengths = self.headers.get_all("Content-Length") or []
        if any(value.strip() not in ("", "0") for value in lengths) or self.headers.get("Transfer-Encoding"):
            self._refuse(400, "GET with a body")
            return
        tokens = self.headers.get_all("Authorization") or []
        if not tokens:
            self._refuse(401, "no Authorization header")
            return
        if len(tokens) != 1 or not hmac.compare_digest(tokens[0].encode(), listener.owner.token.encode()):
            self._refuse(403, "wrong token")
            return
        credentials = self._credentials(served)
        if credentials is not None:
            self._send(200, listener.owner.credentials_body(credentials))

    def _answer_imds(self, face: serverimds.ImdsFace) -> None:
        answer = serverimds.decide(face, self.command, self.path, lambda name: self.headers.get_all(name) or [])
        if answer.status != 200:
            self._refuse(answer.status, answer.why, extra={"Allow": answer.allow} if answer.allow else None)
        elif answer.credentials:
            owner = self.server.owner
            credentials = self._credentials(owner.served_profile(face.profile))
            if credentials is not None:
                self._send(200, serverimds.body(credentials, owner.expiration_of(credentials)))
        else:
            extra = {serverimds.TTL_HEADER: str(answer.ttl)} if answer.ttl else None
            self._send(200, (answer.text or "").encode(), extra, content_type="text/plain")

    def _credentials(self, served: _Served) -> Credentials | None:
        """The profile's credentials, or None after answering 503 (renewal pending) or 500 (refresh failed)."""
        owner = self.server.owner
        try:
            return served.source.get(wait=owner.refresh_wait)
        except RefreshPendingError as pending:
            owner.report_pending()
            self._send(503, json.dumps({"Code": "CredentialsRenewalPending", "Message": _message(pending)}).encode())
            return None
        except BaseException as error:
            code, message = _failure_body(error)
            owner.reporter(f"credentials server: refresh failed, answered 500 ({code})")
            self._send(500, json.dumps({"Code": code, "Message": message}).encode())
            if not isinstance(error, Exception):
                raise
            return None

    def _refuse(self, status: int, why: str, extra: Mapping[str, str] | None = None) -> None:
        code, message = _REFUSALS[status]
        # One line per refusal: the reason and the peer, never a header value (the token could be in one).
        peer = self.client_address[0] if isinstance(self.client_address, tuple) else "a Unix socket client"
        self.server.owner.reporter(f"credentials server: refused a request from {peer}: {status} ({why})")
        # A refused client gets no keep-alive: it has nothing more to ask, and HEAD or a request with an unread
        # body would leave the connection out of step anyway.
        self.close_connection = True
        self._send(status, json.dumps({"Code": code, "Message": message}).encode(), extra)

    def _send(self, status: int, body: bytes, extra: Mapping[str, str] | None = None, *,
              content_type: str = "application/json") -> None:  # fmt: skip
        self.send_response_only(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # parse_request calls this for malformed requests; answer with our own fixed body, never the request text.
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # so the status line and headers are written
        self._refuse(code if code in _REFUSALS else 400, "malformed request")

    def log_message(self, format: str, *args: object) -> None:
        # The standard handler writes every request line to stderr; the reporter gets refusals only (above).
        return


