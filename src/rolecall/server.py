"""A local ECS-style container-credentials endpoint: SDKs refresh their credentials from it during long jobs.

botocore (and every AWS SDK) reads ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and sends the value of
``AWS_CONTAINER_AUTHORIZATION_TOKEN`` verbatim in the ``Authorization`` header; the answer is JSON with
``AccessKeyId``, ``SecretAccessKey``, ``Token`` and ``Expiration``. This server answers that one request and
refuses everything else. The defences (see docs/security.md for the threat model):

* it binds to a loopback IP only, so no other machine can connect;
* a random token per server, compared in constant time, keeps out other local users and any process that
  was not given the environment;
* a random path segment in the URL is a second secret (defence in depth, also compared in constant time);
* the ``Host`` header must name the server's own loopback address and port, so a web page that rebinds its
  DNS name to 127.0.0.1 (aws-vault#578) gets 403 even before the token is looked at;
* refusals are small fixed JSON bodies; nothing about requests is logged except one line per refusal
  without headers; ``Cache-Control: no-store`` on every answer;
* threaded, so a slow refresh (an STS call, an MFA prompt) does not stop the listener; the number of open
  connections, the size of a request and the time a connection may sit idle are bounded.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import secrets
import socket
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rolecall.errors import AwsError, InvalidInputError, NetworkError, RolecallError
from rolecall.refresh import RefreshPendingError
from rolecall.reporting import Reporter, ignore
from rolecall.timefmt import format_iso_z, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from rolecall.credentials import Credentials
    from rolecall.refresh import RefreshingCredentials

#: The variables the server hands to a child process.
FULL_URI_VARIABLE = "AWS_CONTAINER_CREDENTIALS_FULL_URI"
TOKEN_VARIABLE = "AWS_CONTAINER_AUTHORIZATION_TOKEN"

#: Variables that would make an SDK ignore the server: botocore's chain reads environment keys before the
#: container provider, a RELATIVE_URI wins over the FULL_URI, and a token FILE wins over the token variable.
CONFLICTING_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
)

#: How long a connection may stay silent (waiting for a request line or headers) before it is closed.
DEFAULT_REQUEST_TIMEOUT = 10.0
#: Open connections served at once; more are closed at once instead of each costing a thread.
DEFAULT_MAX_CONNECTIONS = 256
#: Request line and each header line are cut off at this size (the standard library allows 64 KiB).
MAX_LINE = 8192
#: Headers per request (the standard library's own limit is 100).
MAX_HEADERS = 32
#: How long a request waits for credentials that must be renewed before it is answered 503 "still renewing".
#: botocore gives up on a container endpoint after 2 s (then tries twice more, a second apart): answering
#: before that lets the SDK log why, instead of a bare timeout, while an MFA prompt waits for its code.
DEFAULT_REFRESH_WAIT = 1.5
#: A "still renewing" answer is reported at most this often (seconds): the MFA prompt is on the same terminal.
_PENDING_REPORT_INTERVAL = 30.0
#: Long-term keys never expire; the SDK is told to come back after this long anyway.
STATIC_CREDENTIALS_REFRESH = timedelta(hours=1)

# Fixed refusal bodies: they never echo anything from the request, so they cannot leak or reflect anything.
_REFUSALS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "The request could not be understood."),
    401: ("Unauthorized", "An Authorization header with the server's token is required."),
    403: ("Forbidden", "The request was refused."),
    404: ("NotFound", "There is nothing at this path."),
    405: ("MethodNotAllowed", "Only GET is supported."),
    414: ("URITooLong", "The request line is too long."),
    431: ("RequestHeaderFieldsTooLarge", "The request headers are too large."),
    503: ("ServiceUnavailable", "The credentials server is shutting down."),
}


class ServerAddressError(InvalidInputError):
    """The server was asked to listen on an address that is not a loopback IP."""


class ServerStartError(NetworkError):
    """The server could not listen (port in use, no IPv6...)."""


def _loopback_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The host as a loopback IP address, or ``ServerAddressError``."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ServerAddressError(
            f"the credentials server only listens on a loopback IP address, not '{host}'",
            hint="use 127.0.0.1 (or ::1); anything else would offer the credentials to other machines",
        )
    return address


#: Proxy variables some SDKs honour even for the container endpoint (botocore's container fetcher does not).
_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def child_environment(base: Mapping[str, str], server: CredentialsServer) -> dict[str, str]:
    """``base`` without variables that would shadow the server, plus the server's two variables.

    When an HTTP proxy is configured, the server's address is added to ``NO_PROXY``/``no_proxy``: an SDK that
    sent the credentials request through the proxy would hand the token and the credentials to it.
    """
    env = {key: value for key, value in base.items() if key not in CONFLICTING_VARIABLES}
    env.update(server.environment())
    if any(env.get(name) for name in _PROXY_VARIABLES):
        host = server.host
        for name in ("NO_PROXY", "no_proxy"):
            entries = [entry.strip() for entry in env.get(name, "").split(",") if entry.strip()]
            if host not in entries:
                env[name] = ",".join([*entries, host])
    return env


class CredentialsServer:
    """An ECS-style credentials endpoint on a loopback address, serving ``source.get()`` to holders of the token.

    ``start`` binds and serves on a daemon thread; ``stop`` closes the listener and every open connection, so
    no credentials are served after it returns. Usable as a context manager. ``url`` and ``token`` exist once
    the constructor returns (the port is chosen at ``start`` when ``port`` is 0, so read ``url`` after it).
    """

    def __init__(
        self,
        source: RefreshingCredentials,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reporter: Reporter = ignore,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        refresh_wait: float = DEFAULT_REFRESH_WAIT,
    ) -> None:
        self._address = _loopback_ip(host)
        if not 0 <= port <= 65535:
            raise InvalidInputError(f"port {port} is out of range", hint="use 0 to pick a free port, or 1-65535")
        self.source = source
        self.reporter = reporter
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        #: Seconds a request waits for a renewal every request must wait for (expired credentials), then 503.
        self.refresh_wait = refresh_wait
        self._pending_reported_at: float | None = None
        self._report_lock = threading.Lock()
        #: The shared secret the SDK sends in ``Authorization``; 32 random bytes, URL-safe, no CR/LF.
        self.token = secrets.token_urlsafe(32)
        #: A random path: whoever does not know the URL cannot even find the endpoint.
        self.path = "/" + secrets.token_urlsafe(16)
        self._port = port
        self._httpd: _Server | None = None
        self._allowed_hosts: frozenset[str] = frozenset()
        self._thread: threading.Thread | None = None

    def _report_pending(self) -> None:
        """Say (at most every 30 s) that requests are answered "still renewing"; called from request threads."""
        now = time.monotonic()
        with self._report_lock:
            if self._pending_reported_at is not None and now - self._pending_reported_at < _PENDING_REPORT_INTERVAL:
                return
            self._pending_reported_at = now
        self.reporter(
            f"credentials server: the credentials have expired and their renewal is still running after "
            f"{self.refresh_wait:g} s; clients are told to retry (answered 503)"
        )

    # -- lifecycle ----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind to the loopback address and serve on a daemon thread; returns once the socket is listening."""
        if self._httpd is not None:
            return
        try:
            httpd = _Server(self, (str(self._address), self._port))
        except OSError as error:
            raise ServerStartError(
                f"the credentials server could not listen on {self._netloc(self._port)}: {error.strerror or error}",
                hint="choose another port, or 0 for any free one",
            ) from None
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._allowed_hosts = self.allowed_hosts()  # computed once: every request checks it
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, name="rolecall-server", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close every open connection; idempotent."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.stopping = True
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> CredentialsServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- what clients need --------------------------------------------------------------------------------------

    @property
    def is_serving(self) -> bool:
        """True while the server answers requests (started, not stopped, its thread alive)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    @property
    def port(self) -> int:
        """The port listened on (0 before ``start`` when a free port was asked for)."""
        return self._port

    @property
    def host(self) -> str:
        """The loopback IP listened on, as text (``127.0.0.1``, ``::1``)."""
        return str(self._address)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/<random path>``: the value of AWS_CONTAINER_CREDENTIALS_FULL_URI."""
        return f"http://{self._netloc(self._port)}{self.path}"

    def environment(self) -> dict[str, str]:
        """The two variables an SDK needs to use this server (see also ``child_environment``)."""
        return {FULL_URI_VARIABLE: self.url, TOKEN_VARIABLE: self.token}

    def allowed_hosts(self) -> frozenset[str]:
        """Host header values accepted: this server's own address and port, and ``localhost:PORT``."""
        hosts = {self._netloc(self._port).lower(), f"localhost:{self._port}"}
        if self._address.version == 4:
            hosts.add(f"127.0.0.1:{self._port}")
        if self._port == 80:
            # Clients leave out the default port from Host.
            hosts |= {host.rsplit(":", 1)[0] for host in hosts}
        return frozenset(hosts)

    def _netloc(self, port: int) -> str:
        host = str(self._address)
        return f"[{host}]:{port}" if self._address.version == 6 else f"{host}:{port}"

    # -- answering ----------------------------------------------------------------------------------------------

    def credentials_body(self, credentials: Credentials) -> bytes:
        """The JSON an SDK's container provider expects (``Token``, not ``SessionToken``; ISO Z expiry)."""
        expiration = credentials.expiration
        if expiration is None:
            expiration = utc_now() + STATIC_CREDENTIALS_REFRESH
        body: dict[str, str | None] = {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            # null, not "": botocore sends an empty X-Amz-Security-Token header for "" and AWS rejects it.
            "Token": credentials.session_token,
            "Expiration": format_iso_z(expiration),
        }
        if credentials.account_id:
            body["AccountId"] = credentials.account_id
        return json.dumps(body).encode()


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


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer with a bounded number of connections that can all be closed on stop."""

    daemon_threads = True
    # The default backlog of 5 makes a burst of concurrent SDK clients wait for SYN retries (a second each).
    request_queue_size = 512

    def __init__(self, owner: CredentialsServer, address: tuple[str, int]) -> None:
        self.owner = owner
        self.stopping = False
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        if owner._address.version == 6:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name with getfqdn, which can block on DNS; nothing needs it.
        import socketserver

        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

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
        super().shutdown_request(request)

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


class _Handler(BaseHTTPRequestHandler):
    """Answers GET on the secret path with credentials; refuses everything else with a fixed body."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive: SDKs reuse the connection
    server_version = "rolecall"
    sys_version = ""  # do not advertise the Python version
    # Buffer the answer and flush once: status, headers and body leave in one segment. Unbuffered writes (the
    # standard library's default) send headers and body separately, and with Nagle's algorithm against the
    # client's delayed ACK every keep-alive answer then waits about 40 ms.
    wbufsize = 16384

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The per-connection idle timeout: a client that sends nothing (or one byte at a time) loses its thread.
        self.connection.settimeout(self.server.owner.request_timeout)

    # -- request reading with tighter bounds than the standard library -------------------------------------------

    def handle_one_request(self) -> None:
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
            self._dispatch()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True

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
        owner = self.server.owner
        if self.server.stopping:
            self._refuse(503, "server stopping")
            return
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].strip().lower() not in owner._allowed_hosts:
            # DNS rebinding: a browser page on evil.example resolved to 127.0.0.1 still sends its own Host.
            self._refuse(403, "foreign or missing Host header")
            return
        if not hmac.compare_digest(self.path.encode(), owner.path.encode()):
            self._refuse(404, "unknown path")
            return
        if self.command != "GET":
            self._refuse(405, f"method {self.command[:16]!r} not allowed", extra={"Allow": "GET"})
            return
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or self.headers.get("Transfer-Encoding"):
            self._refuse(400, "GET with a body")
            return
        tokens = self.headers.get_all("Authorization") or []
        if not tokens:
            self._refuse(401, "no Authorization header")
            return
        if len(tokens) != 1 or not hmac.compare_digest(tokens[0].encode(), owner.token.encode()):
            self._refuse(403, "wrong token")
            return
        try:
            credentials = owner.source.get(wait=owner.refresh_wait)
        except RefreshPendingError as pending:
            owner._report_pending()
            self._send(503, json.dumps({"Code": "CredentialsRenewalPending", "Message": _message(pending)}).encode())
            return
        except BaseException as error:
            code, message = _failure_body(error)
            owner.reporter(f"credentials server: refresh failed, answered 500 ({code})")
            self._send(500, json.dumps({"Code": code, "Message": message}).encode())
            if not isinstance(error, Exception):
                raise
            return
        self._send(200, owner.credentials_body(credentials))

    def _refuse(self, status: int, why: str, extra: Mapping[str, str] | None = None) -> None:
        code, message = _REFUSALS[status]
        # One line per refusal: the reason and the peer, never a header value (the token could be in one).
        self.server.owner.reporter(
            f"credentials server: refused a request from {self.client_address[0]}: {status} ({why})"
        )
        # A refused client gets no keep-alive: it has nothing more to ask, and HEAD or a request with an unread
        # body would leave the connection out of step anyway.
        self.close_connection = True
        self._send(status, json.dumps({"Code": code, "Message": message}).encode(), extra)

    def _send(self, status: int, body: bytes, extra: Mapping[str, str] | None = None) -> None:
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
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


def serve_in_background(
    source: RefreshingCredentials, reporter: Reporter = ignore, *, host: str = "127.0.0.1", port: int = 0
) -> CredentialsServer:
    """Start a server (by default on 127.0.0.1 with a free port) serving ``source``, on a daemon thread.

    The caller stops it with ``stop()`` (or uses the returned server in a ``with`` block). For a server that
    SDKs call, build ``source`` with ``background_advisory=True`` so that no request waits for an advisory
    refresh (SDKs give up on the container endpoint after 2 seconds).
    """
    server = CredentialsServer(source, host=host, port=port, reporter=reporter)
    server.start()
    return server
