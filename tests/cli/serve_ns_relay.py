"""Stand-in for ``socat`` inside a container-like network namespace (run by tests/cli/test_serve_multi.py).

``python serve_ns_relay.py PORT=SOCKET [PORT=SOCKET...] -- CMD...`` brings the namespace's loopback up, relays
each 127.0.0.1:PORT to the Unix socket SOCKET (a mount, in a real container), runs CMD and exits with its code.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    for sock in (source, target):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _relay(listener: socket.socket, path: str) -> None:
    while True:
        client, _ = listener.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(path)
        for pair in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=pair, daemon=True).start()


def main(argv: list[str]) -> int:
    split = argv.index("--")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for spec in argv[:split]:
        port, _, path = spec.partition("=")
        listener = socket.socket()
        listener.bind(("127.0.0.1", int(port)))
        listener.listen(64)
        threading.Thread(target=_relay, args=(listener, path), daemon=True).start()
    return subprocess.run(argv[split + 1 :]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
