"""The credentials server over real HTTP on 127.0.0.1: what it answers, what it refuses, and what it never leaks."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import botocore.exceptions
import botocore.session
import pytest

from rolecall.credentials import Credentials
from rolecall.errors import MfaError, RolecallError
from rolecall.refresh import RefreshingCredentials
from rolecall.server import (
    CredentialsServer,
    ServerAddressError,
    ServerStartError,
    child_environment,
    serve_in_background,
)
from rolecall.timefmt import parse_timestamp, utc_now

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"


def static_source() -> RefreshingCredentials:
    """A holder with credentials valid for an hour; never refreshes during a test."""
    credentials = Credentials("ASIASTATIC", SECRET, SESSION_TOKEN, utc_now() + timedelta(hours=1), "123456789012")
    return RefreshingCredentials(lambda: credentials)


class Recorder:
    """A reporter that keeps every line (thread-safe: the server reports from handler threads)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[CredentialsServer]:
    with CredentialsServer(static_source(), reporter=recorder, request_timeout=2) as running:
        yield running


def raw_request(server: CredentialsServer, data: bytes, read_timeout: float = 5) -> bytes:
    """Send raw bytes to the server and return everything it answers until it closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as conn:
        conn.sendall(data)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def get(
    server: CredentialsServer,
    path: str | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    host: str | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request through http.client (the Host header is ours to choose)."""
    address = urllib.parse.urlsplit(server.url).hostname or "127.0.0.1"
    conn = http.client.HTTPConnection(address, server.port, timeout=5)
    try:
        conn.putrequest(method, path or server.path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def own_host(server: CredentialsServer) -> str:
    return f"127.0.0.1:{server.port}"


def test_url_token_and_environment_are_random_per_server() -> None:
    one = CredentialsServer(static_source())
    two = CredentialsServer(static_source())
    with one, two:
        for running in (one, two):
            assert running.url.startswith(f"http://127.0.0.1:{running.port}/")
            assert running.port > 0
            assert len(running.path) > 16 and len(running.token) >= 40
            assert running.environment() == {
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": running.url,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": running.token,
            }
        assert one.token != two.token and one.path != two.path and one.port != two.port


def test_get_with_token_answers_the_container_credentials_shape(server: CredentialsServer) -> None:
    status, headers, body = get(server, host=own_host(server), headers={"Authorization": server.token})
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store"
    data = json.loads(body)
    assert set(data) == {"AccessKeyId", "SecretAccessKey", "Token", "Expiration", "AccountId"}
    assert data["AccessKeyId"] == "ASIASTATIC" and data["SecretAccessKey"] == SECRET
    assert data["Token"] == SESSION_TOKEN and data["AccountId"] == "123456789012"
    assert data["Expiration"].endswith("Z")
    assert parse_timestamp(data["Expiration"]) > utc_now() + timedelta(minutes=50)


@pytest.mark.parametrize("host", ["localhost:{port}", "LOCALHOST:{port}", "127.0.0.1:{port}"])
def test_own_host_names_are_accepted(server: CredentialsServer, host: str) -> None:
    status, _, _ = get(server, host=host.format(port=server.port), headers={"Authorization": server.token})
    assert status == 200


def test_keep_alive_serves_several_requests_on_one_connection(server: CredentialsServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", server.path, headers={"Authorization": server.token})
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["AccessKeyId"] == "ASIASTATIC"
            assert response.getheader("Connection") != "close"
    finally:
        conn.close()


REFUSALS = [
    # (name, method, path suffix, headers, host, expected status)
    ("no token", "GET", "", {}, "own", 401),
    ("wrong token", "GET", "", {"Authorization": "not-the-token"}, "own", 403),
    ("bearer prefix", "GET", "", {"Authorization": "Bearer {token}"}, "own", 403),
    ("token with suffix", "GET", "", {"Authorization": "{token}x"}, "own", 403),
    ("rebound host", "GET", "", {"Authorization": "{token}"}, "evil.example:{port}", 403),
    ("rebound host, no port", "GET", "", {"Authorization": "{token}"}, "evil.example", 403),
    ("other port", "GET", "", {"Authorization": "{token}"}, "127.0.0.1:1", 403),
    ("missing host", "GET", "", {"Authorization": "{token}"}, None, 403),
    ("post", "POST", "", {"Authorization": "{token}", "Content-Length": "0"}, "own", 405),
    ("put", "PUT", "", {"Authorization": "{token}", "Content-Length": "0"}, "own", 405),
    ("delete", "DELETE", "", {"Authorization": "{token}"}, "own", 405),
    ("options preflight", "OPTIONS", "", {"Origin": "http://evil.example"}, "own", 405),
    ("other path", "GET", "x", {"Authorization": "{token}"}, "own", 404),
    ("query string", "GET", "?a=1", {"Authorization": "{token}"}, "own", 404),
    ("root", "GET", "/", {"Authorization": "{token}"}, "own", 404),
    ("get with a body", "GET", "", {"Authorization": "{token}", "Content-Length": "5"}, "own", 400),
]


@pytest.mark.parametrize(
    ("name", "method", "suffix", "headers", "host", "status"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_refusals_leak_nothing(
    server: CredentialsServer,
    recorder: Recorder,
    name: str,
    method: str,
    suffix: str,
    headers: dict[str, str],
    host: str | None,
    status: int,
) -> None:
    path = "/" if suffix == "/" else server.path + suffix
    filled = {k: v.format(token=server.token, port=server.port) for k, v in headers.items()}
    host_value = own_host(server) if host == "own" else (host.format(port=server.port) if host else None)
    got, response_headers, body = get(server, path=path, method=method, headers=filled, host=host_value)
    assert got == status, body
    assert response_headers["cache-control"] == "no-store"
    if status == 405:
        assert response_headers["allow"] == "GET"
    data = json.loads(body)
    assert set(data) == {"Code", "Message"}
    for secret in (SECRET, SESSION_TOKEN, "ASIASTATIC", server.token, server.path.strip("/")):
        assert secret not in body.decode()
        assert not any(secret in line for line in recorder.lines)
    assert len(recorder.lines) == 1 and str(status) in recorder.lines[0]


def test_malformed_and_oversized_requests_get_fixed_answers(server: CredentialsServer) -> None:
    answers = {
        "garbage": raw_request(server, b"\x16\x03\x01 not http at all\r\n\r\n"),
        "long line": raw_request(server, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"),
        "many headers": raw_request(
            server, b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(100)) + b"\r\n"
        ),
        "long header": raw_request(server, b"GET / HTTP/1.1\r\nX-A: " + b"b" * 20000 + b"\r\n\r\n"),
    }
    expected = {"garbage": b" 400 ", "long line": b" 414 ", "many headers": b" 431 ", "long header": b" 431 "}
    for name, answer in answers.items():
        status_line, _, rest = answer.partition(b"\r\n")
        assert expected[name] in status_line, (name, answer[:200])
        body = rest.partition(b"\r\n\r\n")[2]
        assert set(json.loads(body)) == {"Code", "Message"}, name
        assert server.token.encode() not in answer and SECRET.encode() not in answer


def test_idle_connection_is_closed_after_the_request_timeout() -> None:
    with (
        CredentialsServer(static_source(), request_timeout=0.5) as running,
        socket.create_connection(("127.0.0.1", running.port), timeout=5) as conn,
    ):
        started = time.monotonic()
        conn.sendall(b"GET ")  # a slow client that never finishes its request line
        assert conn.recv(1024) == b""
        assert time.monotonic() - started < 3


def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    with CredentialsServer(static_source(), max_connections=3, request_timeout=5) as running:
        idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.3)  # let the server accept all three
            with socket.create_connection(("127.0.0.1", running.port), timeout=5) as extra:
                extra.sendall(b"GET / HTTP/1.1\r\n\r\n")
                with contextlib.suppress(ConnectionResetError):  # closed with unread data: also a refusal
                    assert extra.recv(1024) == b""
        finally:
            for conn in idle:
                conn.close()
        time.sleep(0.3)
        status, _, _ = get(running, host=own_host(running), headers={"Authorization": running.token})
        assert status == 200


def test_stop_closes_keep_alive_connections_and_the_listener() -> None:
    running = serve_in_background(static_source())
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
    conn.request("GET", running.path, headers={"Authorization": running.token})
    assert conn.getresponse().read()
    running.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        conn.request("GET", running.path, headers={"Authorization": running.token})
        conn.getresponse().read()
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", running.port), timeout=2).close()
    running.stop()  # idempotent


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost", "example.com", "::", "169.254.170.2"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ServerAddressError) as caught:
        CredentialsServer(static_source(), host=host)
    assert isinstance(caught.value, RolecallError) and caught.value.hint and "127.0.0.1" in caught.value.hint


def test_other_loopback_addresses_work() -> None:
    with CredentialsServer(static_source(), host="127.0.0.2") as running:
        assert running.url.startswith("http://127.0.0.2:")
        status, _, _ = get(running, host=f"127.0.0.2:{running.port}", headers={"Authorization": running.token})
        assert status == 200
    try:
        socket.socket(socket.AF_INET6).close()
    except OSError:
        return
    try:
        v6 = CredentialsServer(static_source(), host="::1")
        v6.start()
    except ServerStartError:
        return  # IPv6 loopback not configured on this machine
    with v6:
        assert v6.url.startswith("http://[::1]:")
        conn = http.client.HTTPConnection("::1", v6.port, timeout=5)
        conn.request("GET", v6.path, headers={"Authorization": v6.token})
        assert conn.getresponse().status == 200
        conn.close()


def test_port_in_use_is_a_clear_error() -> None:
    with CredentialsServer(static_source()) as running:
        clash = CredentialsServer(static_source(), port=running.port)
        with pytest.raises(ServerStartError, match=f"127.0.0.1:{running.port}"):
            clash.start()


def test_botocore_reads_credentials_from_the_server(server: CredentialsServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in server.environment().items():
        monkeypatch.setenv(key, value)
    credentials = botocore.session.Session().get_credentials()
    assert credentials is not None and credentials.method == "container-role"
    frozen = credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == ("ASIASTATIC", SECRET, SESSION_TOKEN)


def test_refresh_failure_is_a_500_that_botocore_reports_clearly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fetch() -> Credentials:
        raise MfaError("an MFA code is needed for prod and there is no terminal", hint="set mfa_process")

    recorder = Recorder()
    with CredentialsServer(RefreshingCredentials(fetch), reporter=recorder) as running:
        status, headers, body = get(running, host=own_host(running), headers={"Authorization": running.token})
        assert status == 500 and headers["cache-control"] == "no-store"
        assert json.loads(body) == {
            "Code": "MfaError",
            "Message": "rolecall could not refresh the credentials: an MFA code is needed for prod and there is no "
            "terminal (hint: set mfa_process)",
        }
        for key, value in running.environment().items():
            monkeypatch.setenv(key, value)
        # botocore retries three times with a second's sleep; make it quick without changing what it does.
        monkeypatch.setattr("botocore.utils.ContainerMetadataFetcher.SLEEP_TIME", 0)
        with caplog.at_level(logging.DEBUG), pytest.raises(botocore.exceptions.CredentialRetrievalError) as caught:
            botocore.session.Session().get_credentials()
        assert "there is no terminal (hint: set mfa_process)" in str(caught.value)
        assert all(running.token not in line for line in recorder.lines)
        assert recorder.lines and all("500 (MfaError)" in line for line in recorder.lines)


def test_unexpected_refresh_error_shows_only_its_type() -> None:
    def fetch() -> Credentials:
        raise KeyError(SECRET)  # an exception whose text happens to hold something sensitive

    with CredentialsServer(RefreshingCredentials(fetch)) as running:
        status, _, body = get(running, host=own_host(running), headers={"Authorization": running.token})
    assert status == 500
    assert SECRET not in body.decode()
    assert json.loads(body)["Message"].endswith("internal error (KeyError)")


def test_long_term_keys_are_served_with_null_token_and_an_hour_to_come_back() -> None:
    source = RefreshingCredentials(lambda: Credentials("AKIALONGTERM", SECRET))
    with CredentialsServer(source) as running:
        status, _, body = get(running, host=own_host(running), headers={"Authorization": running.token})
    data = json.loads(body)
    assert status == 200 and data["Token"] is None and "AccountId" not in data
    assert timedelta(minutes=59) < parse_timestamp(data["Expiration"]) - utc_now() <= timedelta(hours=1)


def test_slow_refresh_does_not_block_refusals_and_runs_once_for_concurrent_requests() -> None:
    gate = threading.Event()
    calls = []

    def slow_fetch() -> Credentials:
        calls.append(1)
        assert gate.wait(10)
        return Credentials("ASIASLOW", SECRET, SESSION_TOKEN, utc_now() + timedelta(hours=1))

    with CredentialsServer(RefreshingCredentials(slow_fetch)) as running, ThreadPoolExecutor(40) as pool:
        futures = [
            pool.submit(get, running, None, "GET", {"Authorization": running.token}, own_host(running))
            for _ in range(40)
        ]
        time.sleep(0.3)
        # While 40 requests wait for the one refresh, the listener still answers others at once.
        started = time.monotonic()
        assert get(running, host=own_host(running))[0] == 401
        assert time.monotonic() - started < 1
        gate.set()
        results = [future.result() for future in futures]
    assert len(calls) == 1
    assert all(status == 200 and json.loads(body)["AccessKeyId"] == "ASIASLOW" for status, _, body in results)


def test_child_environment_drops_variables_that_would_shadow_the_server(server: CredentialsServer) -> None:
    base = {
        "PATH": "/usr/bin",
        "AWS_ACCESS_KEY_ID": "AKIAOLD",
        "AWS_SECRET_ACCESS_KEY": "old",
        "AWS_SESSION_TOKEN": "old",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": "/tmp/token",
        "AWS_REGION": "eu-west-1",
    }
    env = child_environment(base, server)
    assert env == {"PATH": "/usr/bin", "AWS_REGION": "eu-west-1", **server.environment()}


def test_child_environment_keeps_the_server_out_of_a_configured_proxy(server: CredentialsServer) -> None:
    env = child_environment({"HTTP_PROXY": "http://proxy.corp:3128", "NO_PROXY": "internal.corp"}, server)
    assert env["NO_PROXY"] == "internal.corp,127.0.0.1" and env["no_proxy"] == "127.0.0.1"
    assert child_environment({"PATH": "/bin"}, server).keys() == {"PATH", *server.environment()}


def test_advisory_refresh_in_background_keeps_every_request_fast() -> None:
    """In the advisory window with ``background_advisory``, no request waits for the (slow) refresh: all are
    answered at once with the current credentials, one fetch runs, and later requests get its result."""
    gate = threading.Event()
    calls: list[int] = []
    lifetime = timedelta(seconds=30)

    def fetch() -> Credentials:
        calls.append(1)
        if len(calls) > 1:
            assert gate.wait(10)
        return Credentials(f"ASIAGEN{len(calls)}", SECRET, SESSION_TOKEN, utc_now() + lifetime)

    skew = [timedelta(0)]
    source = RefreshingCredentials(fetch, background_advisory=True, clock=lambda: utc_now() + skew[0])
    first = source.get()
    # Pretend 16 s of the 30 s have passed: advisory (half-life), not yet mandatory (two thirds).
    skew[0] = timedelta(seconds=16)
    with CredentialsServer(source) as running, ThreadPoolExecutor(30) as pool:
        started = time.monotonic()
        results = list(
            pool.map(
                lambda _: get(running, host=own_host(running), headers={"Authorization": running.token}), range(30)
            )
        )
        assert time.monotonic() - started < 5  # nobody waited for the gate (it opens only below)
        assert {json.loads(body)["AccessKeyId"] for _, _, body in results} == {first.access_key_id}
        assert len(calls) == 2  # one background refresh for 30 requests
        gate.set()
        for _ in range(50):
            _, _, body = get(running, host=own_host(running), headers={"Authorization": running.token})
            if json.loads(body)["AccessKeyId"] == "ASIAGEN2":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the background refresh never landed")
    assert len(calls) == 2


def test_a_renewal_waiting_for_mfa_is_answered_503_and_botocore_succeeds_once_the_code_is_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Expired credentials whose renewal waits for an MFA code: requests get a 503 saying so within
    ``refresh_wait`` (before botocore's 2 s timeout), and botocore, retrying, gets the renewed credentials
    once the code is in. One fetch in all."""
    from rolecall.server import DEFAULT_REFRESH_WAIT

    assert DEFAULT_REFRESH_WAIT < 2, "botocore gives up on the endpoint after 2 seconds"
    code_entered = threading.Event()
    calls = []

    def fetch_waiting_for_mfa() -> Credentials:
        calls.append(1)
        assert code_entered.wait(20)
        return Credentials("ASIARENEWED", SECRET, SESSION_TOKEN, utc_now() + timedelta(hours=1))

    recorder = Recorder()
    source = RefreshingCredentials(fetch_waiting_for_mfa)
    with CredentialsServer(source, reporter=recorder, refresh_wait=0.5) as running:
        started = time.monotonic()
        status, headers, body = get(running, host=own_host(running), headers={"Authorization": running.token})
        assert time.monotonic() - started < 2
        assert status == 503 and headers["cache-control"] == "no-store"
        answer = json.loads(body)
        assert answer["Code"] == "CredentialsRenewalPending"
        assert "enter it there, then retry" in answer["Message"]
        assert len(recorder.lines) == 1 and "answered 503" in recorder.lines[0]
        # A second pending answer soon after is not reported again (the prompt shares the terminal).
        assert get(running, host=own_host(running), headers={"Authorization": running.token})[0] == 503
        assert len(recorder.lines) == 1

        for key, value in running.environment().items():
            monkeypatch.setenv(key, value)
        # botocore tries three times, a second apart; the code arrives during its retries.
        threading.Timer(1.0, code_entered.set).start()
        frozen = botocore.session.Session().get_credentials().get_frozen_credentials()
        assert frozen.access_key == "ASIARENEWED"
    assert len(calls) == 1


def test_botocore_reports_a_renewal_still_pending_after_its_retries(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gate = threading.Event()

    def never_answered() -> Credentials:
        assert gate.wait(30)
        raise MfaError("the MFA prompt was abandoned")

    try:
        with CredentialsServer(RefreshingCredentials(never_answered), refresh_wait=0.2) as running:
            for key, value in running.environment().items():
                monkeypatch.setenv(key, value)
            monkeypatch.setattr("botocore.utils.ContainerMetadataFetcher.SLEEP_TIME", 0)
            with caplog.at_level(logging.DEBUG), pytest.raises(botocore.exceptions.CredentialRetrievalError) as caught:
                botocore.session.Session().get_credentials()
            message = str(caught.value)
            assert "503" in message and "renewal had not finished" in message
            assert "waiting for an MFA code on the terminal where it runs" in message
            assert running.token not in message
    finally:
        gate.set()
