"""The credentials server's faces (container, IMDSv2) against a hostile local client: request smuggling through
conflicting body headers, and slowloris (a request trickled one byte at a time), over real sockets on 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from rolecall.credentials import Credentials
from rolecall.refresh import RefreshingCredentials
from rolecall.server import CredentialsServer
from rolecall.timefmt import utc_now

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSERVERFACES"


def _source() -> RefreshingCredentials:
    credentials = Credentials("ASIAFACES", SECRET, "token", utc_now() + timedelta(hours=1), "123456789012")
    return RefreshingCredentials(lambda: credentials)


@pytest.fixture
def server() -> Iterator[CredentialsServer]:
    with CredentialsServer(_source(), request_timeout=1) as running:
        yield running


def _exchange(port: int, data: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("lengths", [("0", "52"), ("52", "0"), ("0", "0, 52")])
def test_conflicting_content_lengths_are_refused_and_nothing_is_smuggled(
    server: CredentialsServer, lengths: tuple[str, str]
) -> None:
    host = f"127.0.0.1:{server.port}"
    smuggled = f"GET {server.path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    request = (
        f"GET {server.path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {server.token}\r\n"
        f"Content-Length: {lengths[0]}\r\nContent-Length: {lengths[1]}\r\n\r\n"
    ).encode() + smuggled
    answer = _exchange(server.port, request)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # one answer: the body was never read as a request
    assert SECRET.encode() not in answer


def test_a_request_trickled_one_byte_at_a_time_loses_its_connection(server: CredentialsServer) -> None:
    """request_timeout is 1 s: a byte every 0.5 s keeps each read under it, but the request as a whole gets a
    bounded time (a few times the timeout), so 256 such clients cannot hold the server's slots for ever."""
    request = f"GET {server.path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nX-Padding: {'a' * 200}\r\n\r\n"
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        closed = False
        for byte in request.encode():
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            if time.monotonic() - started > 15:
                break
        if not closed:
            conn.settimeout(1)
            try:
                closed = conn.recv(1024) == b""
            except (TimeoutError, OSError):
                closed = False
    assert closed, "the trickling connection was still open after 15 s"
    assert time.monotonic() - started < 15
