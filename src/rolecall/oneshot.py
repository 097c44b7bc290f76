"""A one-shot redirect on 127.0.0.1, for browsers that cannot be handed a local file (Firefox containers).

``python -m rolecall.oneshot`` reads a URL (the console sign-in URL, a secret) from standard input, listens on a
random port of 127.0.0.1, prints ``http://127.0.0.1:PORT/<random path>`` and closes standard output. The first
request for that path is answered with a redirect to the URL, after which the process exits; any other request
gets 404; unused, it exits after ``LIFETIME`` seconds. So the URL a browser's command line holds works once, for
a minute at most, and never holds the sign-in token itself.

That command line is readable by every local user (``/proc/PID/cmdline``), who could ask for the address before
the browser does. So on Linux a request counts only when the connection comes from a socket of the user running
this (its owner in ``/proc/net/tcp``); anyone else's gets 404 and does not use up the shot. Each connection is
served in its own thread with a socket timeout, so a connection that says nothing holds up neither the browser's
request nor the lifetime.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: How long an unused redirect waits before it exits, in seconds.
LIFETIME = 60
#: How long one connection may take to send its request (a browser sends it at once).
CONNECTION_TIMEOUT = 5.0
#: Where Linux lists the IPv4 TCP sockets with their owners.
PROC_NET_TCP = "/proc/net/tcp"


def _proc_address(ip: str, port: int) -> str:
    """An IPv4 address and port as ``/proc/net/tcp`` prints them (the address as a native-endian 32-bit hex)."""
    import socket
    import struct

    return f"{struct.unpack('=I', socket.inet_aton(ip))[0]:08X}:{port:04X}"


def peer_is_same_user(peer: tuple[str, int], local: tuple[str, int], table: str = PROC_NET_TCP) -> bool:
    """Whether the connecting socket ``peer`` -> ``local`` belongs to this process's user.

    Where there is no ``/proc/net/tcp`` (macOS, BSD) the owner cannot be known and True is returned (docs/
    security.md says so); on Linux a connection not found in the table, or another user's, is False.
    """
    try:
        with open(table, encoding="ascii") as handle:
            lines = handle.read().splitlines()[1:]
    except FileNotFoundError:
        return True
    except OSError:
        return False
    want_local, want_remote = _proc_address(*peer), _proc_address(*local)
    for line in lines:
        fields = line.split()
        if len(fields) > 7 and fields[1] == want_local and fields[2] == want_remote:
            return fields[7] == str(os.getuid())
    return False


def serve(url: str, lifetime: float = LIFETIME) -> None:
    """Print the one-shot address on stdout, then answer one request for it with a redirect to ``url``."""
    path = "/" + secrets.token_urlsafe(24)
    done = threading.Event()
    answered = threading.Event()
    claim = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        timeout = CONNECTION_TIMEOUT  # a silent connection loses its thread

        def do_GET(self) -> None:
            local = self.connection.getsockname()
            if self.path != path or not peer_is_same_user(self.client_address[:2], (local[0], local[1])):
                self.send_error(404)
                return
            with claim:  # exactly one redirect, even for two requests at once
                if done.is_set():
                    self.send_error(404)
                    return
                done.set()
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.wfile.flush()
            answered.set()

        def log_message(self, format: str, *args: object) -> None:
            return  # the path is a secret: nothing is logged

    class Server(ThreadingHTTPServer):
        daemon_threads = True  # a connection still open at the end does not keep the process alive
        block_on_close = False

        def handle_error(self, request: object, client_address: object) -> None:
            return  # a connection that timed out or broke is not worth a traceback

    server = Server(("127.0.0.1", 0), Handler)
    server.timeout = 0.5
    sys.stdout.write(f"http://127.0.0.1:{server.server_address[1]}{path}\n")
    sys.stdout.flush()
    sys.stdout.close()
    import time

    deadline = time.monotonic() + lifetime
    while not done.is_set() and time.monotonic() < deadline:
        server.handle_request()
    if done.is_set():
        answered.wait(CONNECTION_TIMEOUT)  # the redirect's own thread is still writing it
    server.server_close()


if __name__ == "__main__":
    serve(sys.stdin.readline().strip())
