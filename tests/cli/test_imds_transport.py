"""The transport-level protections of the credentials server, run against its IMDS face too (issue 19: "every
existing server security test also runs against the IMDS face"): malformed and oversized requests get fixed
answers that leak nothing, a client that never finishes its request is dropped, connections beyond the limit are
closed at once, and stop closes keep-alive connections and the listener. The container face's versions are in
tests/core/test_server.py; the IMDS refusals (tokens, Host, paths) in tests/cli/test_imds.py.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
import urllib.parse

import pytest

from rolecall.credentials import Credentials
from rolecall.refresh import RefreshingCredentials
from rolecall.server import CredentialsServer
from rolecall.timefmt import timedelta, utc_now

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYTRANSPORT"


def _sources() -> dict[str, RefreshingCredentials]:
    credentials = Credentials("ASIAIMDS", SECRET, "IQoJTRANSPORTTOKEN", utc_now() + timedelta(hours=1), "123456789012")
    return {"alpha": RefreshingCredentials(lambda: credentials)}


def _address(running: CredentialsServer) -> tuple[str, int, str]:
    endpoint = running.imds_endpoint("alpha")
    assert endpoint is not None
    parts = urllib.parse.urlsplit(endpoint)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port, parts.path.rstrip("/")


def _raw(host: str, port: int, data: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=5) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _imds_token(host: str, port: int, prefix: str) -> str:
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("PUT", prefix + "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
        response = conn.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        conn.close()


def test_malformed_and_oversized_requests_get_fixed_answers() -> None:
    with CredentialsServer(_sources(), imds=True, request_timeout=2) as running:
        host, port, prefix = _address(running)
        answers = {
            "garbage": _raw(host, port, b"\x16\x03\x01 not http at all\r\n\r\n"),
            "long line": _raw(host, port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n"),
            "many headers": _raw(host, port, b"GET / HTTP/1.1\r\n" + b"X-1: 1\r\n" * 100 + b"\r\n"),
            "long header": _raw(host, port, b"GET / HTTP/1.1\r\nX-A: " + b"b" * 20000 + b"\r\n\r\n"),
        }
        expected = {"garbage": b" 400 ", "long line": b" 414 ", "many headers": b" 431 ", "long header": b" 431 "}
        for name, answer in answers.items():
            status_line = answer.partition(b"\r\n")[0]
            assert expected[name] in status_line, (name, answer[:200])
            for secret in (SECRET.encode(), b"IQoJTRANSPORTTOKEN", prefix.strip("/").encode()):
                assert secret not in answer, name


def test_a_client_that_never_finishes_its_request_is_dropped() -> None:
    with CredentialsServer(_sources(), imds=True, request_timeout=0.5) as running:
        host, port, _ = _address(running)
        with socket.create_connection((host, port), timeout=5) as conn:
            started = time.monotonic()
            conn.sendall(b"PUT ")  # a slow client that never finishes its request line
            assert conn.recv(1024) == b""
            assert time.monotonic() - started < 3


def test_connections_beyond_the_limit_are_closed_at_once() -> None:
    with CredentialsServer(_sources(), imds=True, max_connections=3, request_timeout=5) as running:
        host, port, prefix = _address(running)
        idle = [socket.create_connection((host, port), timeout=5) for _ in range(3)]
        try:
            time.sleep(0.3)  # let the server accept all three
            with socket.create_connection((host, port), timeout=5) as extra:
                extra.sendall(b"PUT /latest/api/token HTTP/1.1\r\n\r\n")
                with contextlib.suppress(ConnectionResetError):  # closed with unread data: also a refusal
                    assert extra.recv(1024) == b""
        finally:
            for conn in idle:
                conn.close()
        time.sleep(0.3)
        assert _imds_token(host, port, prefix)  # served again once the idle ones are gone


def test_stop_closes_keep_alive_connections_and_the_listener() -> None:
    running = CredentialsServer(_sources(), imds=True, request_timeout=5)
    running.start()
    host, port, prefix = _address(running)
    conn = http.client.HTTPConnection(host, port, timeout=5)
    conn.request("PUT", prefix + "/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    token = conn.getresponse().read().decode()
    assert token
    running.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        conn.request("GET", prefix + "/latest/meta-data/iam/security-credentials/alpha",
                     headers={"X-aws-ec2-metadata-token": token})  # fmt: skip
        conn.getresponse().read()
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=2).close()


def test_refusal_bodies_are_the_fixed_json_shape() -> None:
    with CredentialsServer(_sources(), imds=True, request_timeout=2) as running:
        host, port, prefix = _address(running)
        conn = http.client.HTTPConnection(host, port, timeout=5)
        try:
            conn.request("GET", prefix + "/latest/meta-data/iam/security-credentials/alpha")  # IMDSv1: refused
            response = conn.getresponse()
            body = response.read()
        finally:
            conn.close()
        assert response.status == 401
        assert response.getheader("Cache-Control") == "no-store"
        assert SECRET.encode() not in body and b"ASIAIMDS" not in body
        assert set(json.loads(body)) == {"Code", "Message"}
