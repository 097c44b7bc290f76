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
* several profiles can be served at once, each at its own secret path, under the one token; each has its own
  single-flight refreshing source;
* optional faces and reach (docs/server.md): an EC2 instance metadata (IMDSv2) face per profile on a port of
  its own (``rolecall.serverimds``), a non-loopback ``--bind`` address or a Unix socket (``rolecall.serverbind``);
* threaded, so a slow refresh (an STS call, an MFA prompt) does not stop the listener; the number of open
  connections, the size of a request and the time a connection may sit idle are bounded.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from datetime import datetime, timedelta

from rolecall import serverimds
from rolecall.errors import InvalidInputError, NetworkError
from rolecall.refresh import RefreshingCredentials
from rolecall.reporting import Reporter, ignore
from rolecall.serverbind import ServerAddressError, listen_address
from rolecall.serverhttp import TcpListener, UnixListener
from rolecall.timefmt import format_iso_z, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import TracebackType

    from rolecall.credentials import Credentials
    from rolecall.serverbind import IPAddress

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
#: The port the printed container URL names when the server is on a Unix socket: a relay in the container
#: (``socat TCP-LISTEN:9911,bind=127.0.0.1,fork UNIX-CONNECT:/run/rolecall.sock``) listens there.
RELAY_PORT = 9911
#: How long a request waits for credentials that must be renewed before it is answered 503 "still renewing".
#: botocore gives up on a container endpoint after 2 s (then tries twice more, a second apart): answering
#: before that lets the SDK log why, instead of a bare timeout, while an MFA prompt waits for its code.
DEFAULT_REFRESH_WAIT = 1.5
#: A "still renewing" answer is reported at most this often (seconds): the MFA prompt is on the same terminal.
_PENDING_REPORT_INTERVAL = 30.0
#: Long-term keys never expire; the SDK is told to come back after this long anyway.
STATIC_CREDENTIALS_REFRESH = timedelta(hours=1)

class ServerStartError(NetworkError):
    """The server could not listen (port in use, no IPv6...)."""


__all__ = ["CredentialsServer", "ServerAddressError", "ServerStartError", "child_environment", "serve_in_background"]


#: Proxy variables some SDKs honour even for the container endpoint (botocore's container fetcher does not).
_PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def child_environment(base: Mapping[str, str], server: CredentialsServer, profile: str | None = None) -> dict[str, str]:
    """``base`` without variables that would shadow the server, plus the server's variables for ``profile``.

    When an HTTP proxy is configured, the server's address is added to ``NO_PROXY``/``no_proxy``: an SDK that
    sent the credentials request through the proxy would hand the token and the credentials to it.
    """
    env = {key: value for key, value in base.items() if key not in server.conflicting_variables()}
    env.update(server.environment(profile))
    if any(env.get(name) for name in _PROXY_VARIABLES):
        host = server.host
        for name in ("NO_PROXY", "no_proxy"):
            entries = [entry.strip() for entry in env.get(name, "").split(",") if entry.strip()]
            if host not in entries:
                env[name] = ",".join([*entries, host])
    return env


class _Served:
    """One served profile: its refreshing source and its secret path on the container face."""

    def __init__(self, name: str, source: RefreshingCredentials) -> None:
        self.name = name
        self.source = source
        #: A random path: whoever does not know the URL cannot even find the endpoint.
        self.path = "/" + secrets.token_urlsafe(16)
        self.imds: serverimds.ImdsFace | None = None
        self.imds_port = 0


class CredentialsServer:
    """An ECS-style credentials endpoint serving each profile's ``source.get()`` to holders of the token.

    ``source`` is one refreshing holder, or several by profile name (each at its own secret path, one token).
    ``start`` binds and serves on daemon threads; ``stop`` closes the listeners and every open connection, so
    no credentials are served after it returns. Usable as a context manager. ``url`` and ``token`` exist once
    the constructor returns (the port is chosen at ``start`` when ``port`` is 0, so read ``url`` after it).
    ``exposed`` allows a non-loopback ``host`` (``--bind``), ``any_interface`` the unspecified one as well;
    ``unix_socket`` serves the container face on a socket file instead of TCP; ``imds`` adds an IMDSv2 face
    per profile (``imds_v1`` also answers requests without a session token).
    """

    def __init__(
        self,
        source: RefreshingCredentials | Mapping[str, RefreshingCredentials],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reporter: Reporter = ignore,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        refresh_wait: float = DEFAULT_REFRESH_WAIT,
        exposed: bool = False,
        any_interface: bool = False,
        unix_socket: str | None = None,
        imds: bool = False,
        imds_v1: bool = False,
    ) -> None:
        self._address = listen_address(host, exposed=exposed, any_interface=any_interface)
        if not 0 <= port <= 65535:
            raise InvalidInputError(f"port {port} is out of range", hint="use 0 to pick a free port, or 1-65535")
        sources = {"": source} if isinstance(source, RefreshingCredentials) else dict(source)
        if not sources:
            raise InvalidInputError("no profile to serve", hint="name at least one profile")
        self._profiles = {name: _Served(name, held) for name, held in sources.items()}
        self.reporter = reporter
        self.request_timeout = request_timeout
        self.max_connections = max_connections
        #: Seconds a request waits for a renewal every request must wait for (expired credentials), then 503.
        self.refresh_wait = refresh_wait
        self._pending_reported_at: float | None = None
        self._report_lock = threading.Lock()
        #: The shared secret the SDK sends in ``Authorization``; 32 random bytes, URL-safe, no CR/LF.
        self.token = secrets.token_urlsafe(32)
        self.unix_socket = unix_socket
        if imds:
            for served in self._profiles.values():
                served.imds = serverimds.ImdsFace(served.name, "/" + secrets.token_urlsafe(16), allow_v1=imds_v1)
        self._port = port
        self._listeners: list[TcpListener | UnixListener] = []
        self._threads: list[threading.Thread] = []

    def report_pending(self) -> None:
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
        """Bind every listener and serve each on a daemon thread; returns once the sockets are listening."""
        if self._listeners:
            return
        try:
            if self.unix_socket is not None:
                self._listeners.append(UnixListener(self, self.unix_socket))
            else:
                self._listeners.append(self._tcp(self._port, None))
                self._port = self._listeners[0].port
            for served in self._profiles.values():
                if served.imds is not None:
                    face = self._tcp(0, served.imds)
                    served.imds_port = face.port
                    self._listeners.append(face)
        except BaseException:
            self.stop()  # no thread started yet: closes what was bound
            raise
        for listener in self._listeners:
            thread = threading.Thread(
                target=listener.serve_forever, kwargs={"poll_interval": 0.2}, name="rolecall-server", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _tcp(self, port: int, imds: serverimds.ImdsFace | None) -> TcpListener:
        try:
            return TcpListener(self, (str(self._address), port), imds)
        except OSError as error:
            raise ServerStartError(
                f"the credentials server could not listen on {self._netloc(port)}: {error.strerror or error}",
                hint="choose another port, or 0 for any free one",
            ) from None

    def stop(self) -> None:
        """Stop listening and close every open connection; idempotent."""
        listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.stopping = True
        for listener in listeners:
            if self._threads:
                listener.shutdown()
            listener.server_close()
            listener.close_connections()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

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
        """True while the server answers requests (started, not stopped, its threads alive)."""
        return bool(self._threads) and all(thread.is_alive() for thread in self._threads)

    @property
    def port(self) -> int:
        """The container face's TCP port (0 before ``start`` when a free port was asked for, or on a socket)."""
        return self._port

    @property
    def host(self) -> str:
        """The address clients use, as text: the one listened on, or 127.0.0.1 for every interface or a socket."""
        return str(self._public_address())

    def _public_address(self) -> IPAddress:
        if self._address.is_unspecified:
            return listen_address("::1" if self._address.version == 6 else "127.0.0.1")
        return self._address

    @property
    def profiles(self) -> list[str]:
        """The served profiles' names, in the order given."""
        return list(self._profiles)

    def served_profile(self, profile: str | None) -> _Served:
        if profile in self._profiles:
            return self._profiles[profile]
        if len(self._profiles) == 1:
            return next(iter(self._profiles.values()))
        raise KeyError(profile)

    @property
    def source(self) -> RefreshingCredentials:
        """The (first) served profile's refreshing source."""
        return self.served_profile(None if len(self._profiles) == 1 else self.profiles[0]).source

    @property
    def path(self) -> str:
        """The (first) served profile's secret path."""
        return self.served_profile(None if len(self._profiles) == 1 else self.profiles[0]).path

    def path_of(self, profile: str | None = None) -> str:
        """The secret path of ``profile`` (the only one when None)."""
        return self.served_profile(profile).path

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT/<random path>``: the value of AWS_CONTAINER_CREDENTIALS_FULL_URI."""
        return self.url_of(self.profiles[0])

    def url_of(self, profile: str | None = None) -> str:
        """The container endpoint URL of ``profile``; on a Unix socket, the one a relay at RELAY_PORT serves."""
        netloc = f"127.0.0.1:{RELAY_PORT}" if self.unix_socket is not None else self._netloc(self._port)
        return f"http://{netloc}{self.served_profile(profile).path}"

    def imds_endpoint(self, profile: str | None = None) -> str | None:
        """``http://HOST:PORT/<secret>/``: AWS_EC2_METADATA_SERVICE_ENDPOINT for ``profile``, or None without IMDS."""
        served = self.served_profile(profile)
        if served.imds is None:
            return None
        return f"http://{self._netloc(served.imds_port)}{served.imds.prefix}/"

    def environment(self, profile: str | None = None) -> dict[str, str]:
        """The variables an SDK needs to use this server for ``profile`` (see also ``child_environment``)."""
        env = {FULL_URI_VARIABLE: self.url_of(profile), TOKEN_VARIABLE: self.token}
        endpoint = self.imds_endpoint(profile)
        if endpoint is not None:
            env[serverimds.ENDPOINT_VARIABLE] = endpoint
        return env

    def conflicting_variables(self) -> tuple[str, ...]:
        """Variables removed from a client's environment (``CONFLICTING_VARIABLES``, and IMDS's with ``imds``)."""
        if any(served.imds is not None for served in self._profiles.values()):
            return CONFLICTING_VARIABLES + serverimds.CONFLICTING_VARIABLES
        return CONFLICTING_VARIABLES

    def allowed_hosts(self, port: int | None = None) -> frozenset[str]:
        """Host header values accepted on ``port``: the server's own address and port, and ``localhost:PORT``."""
        port = self._port if port is None else port
        hosts = {self._netloc(port).lower(), f"localhost:{port}"}
        if self._address.version == 4:
            hosts.add(f"127.0.0.1:{port}")
        if port == 80:
            # Clients leave out the default port from Host.
            hosts |= {host.rsplit(":", 1)[0] for host in hosts}
        return frozenset(hosts)

    def _netloc(self, port: int) -> str:
        host = self._public_address()
        return f"[{host}]:{port}" if host.version == 6 else f"{host}:{port}"

    # -- answering ----------------------------------------------------------------------------------------------

    def served_at(self, path: str) -> _Served | None:
        """The profile whose secret path is ``path`` (every path compared in constant time), or None."""
        found = None
        for served in self._profiles.values():
            if hmac.compare_digest(path.encode(), served.path.encode()):
                found = served
        return found

    @staticmethod
    def expiration_of(credentials: Credentials) -> datetime:
        """When the SDK must come back: the credentials' expiry, or an hour from now for long-term keys."""
        return credentials.expiration or utc_now() + STATIC_CREDENTIALS_REFRESH

    def credentials_body(self, credentials: Credentials) -> bytes:
        """The JSON an SDK's container provider expects (``Token``, not ``SessionToken``; ISO Z expiry)."""
        body: dict[str, str | None] = {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            # null, not "": botocore sends an empty X-Amz-Security-Token header for "" and AWS rejects it.
            "Token": credentials.session_token,
            "Expiration": format_iso_z(self.expiration_of(credentials)),
        }
        if credentials.account_id:
            body["AccountId"] = credentials.account_id
        return json.dumps(body).encode()


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
