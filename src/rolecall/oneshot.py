"""A one-shot redirect on 127.0.0.1, for browsers that cannot be handed a local file (Firefox containers).

``python -m rolecall.oneshot`` reads a URL (the console sign-in URL, a secret) from standard input, listens on a
random port of 127.0.0.1, prints ``http://127.0.0.1:PORT/<random path>`` and closes standard output. The first
request for that path is answered with a redirect to the URL, after which the process exits; any other request
gets 404; unused, it exits after ``LIFETIME`` seconds. So the URL a browser's command line holds (readable by
other local users) works once, for a minute at most, and never holds the sign-in token itself.
"""

from __future__ import annotations

import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

#: How long an unused redirect waits before it exits, in seconds.
LIFETIME = 60


def serve(url: str, lifetime: float = LIFETIME) -> None:
    """Print the one-shot address on stdout, then answer one request for it with a redirect to ``url``."""
    path = "/" + secrets.token_urlsafe(24)
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != path or done.is_set():
                self.send_error(404)
                return
            done.set()
            self.send_response(302)
            self.send_header("Location", url)
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return  # the path is a secret: nothing is logged

    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.timeout = 0.5
    sys.stdout.write(f"http://127.0.0.1:{server.server_address[1]}{path}\n")
    sys.stdout.flush()
    sys.stdout.close()
    import time

    deadline = time.monotonic() + lifetime
    while not done.is_set() and time.monotonic() < deadline:
        server.handle_request()
    server.server_close()


if __name__ == "__main__":
    serve(sys.stdin.readline().strip())
