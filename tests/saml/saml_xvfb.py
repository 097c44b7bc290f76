"""A real X display for the SAML window tests: an Xvfb server, its screen read back, the browser processes watched.

- ``Xvfb.start`` runs ``Xvfb -displayfd`` (the server picks a free display and names it once it accepts
  clients) with a black root (``-br``) and its framebuffer in a file (``-fbdir``, XWD format), so what is on the
  screen can be read at any time without any X client library: an all-zero frame is an empty screen, and lit
  pixels are a window something drew into.
- ``browser_argvs`` reads ``/proc`` for the browser processes under a process (the main browser process, the one
  started with ``--remote-debugging-pipe``): its argv says whether it was started headless.
- ``Watcher`` samples both while a rolecall command runs.
- ``type_when_visible`` is a ``ROLECALL_BROWSER_TEST_HOOK`` for the sandbox provider's login page that behaves like a
  person: it types only into a window it can see on the screen (a headless browser's page is on no screen), and
  keeps a screenshot of what it saw.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import subprocess
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saml_typing import type_credentials

#: The screen Xvfb serves (width, height); 24-bit colour is stored as 32-bit pixels.
SCREEN = (1280, 800)
#: A window counts as shown once this share of the frame's bytes is lit (the browser window covers most of it).
SHOWN_SHARE = 0.2


@dataclass
class Screen:
    """An X display (its ``DISPLAY`` value) and the file Xvfb keeps its pixels in."""

    display: str
    framebuffer: Path

    def frame(self) -> bytes:
        """The screen's pixels now: ``width * height`` 4-byte pixels (blue, green, red, pad), top row first."""
        data = self.framebuffer.read_bytes()
        header_size = struct.unpack(">I", data[:4])[0]
        colours = struct.unpack(">I", data[76:80])[0]  # ncolors: 12-byte XColor entries follow the header
        start = header_size + 12 * colours
        return data[start : start + SCREEN[0] * SCREEN[1] * 4]

    def windows(self) -> list[str] | None:
        """The names of the root window's children (``xwininfo``), or None when xwininfo is not installed."""
        if shutil.which("xwininfo") is None:
            return None
        listing = subprocess.run(["xwininfo", "-root", "-children"], env={"DISPLAY": self.display},
                                 capture_output=True, text=True, timeout=10, check=False).stdout  # fmt: skip
        return [line.split('"')[1] for line in listing.splitlines() if line.strip().startswith("0x") and '"' in line]


@dataclass
class Xvfb:
    """One running Xvfb server and its screen."""

    process: subprocess.Popen[bytes]
    screen: Screen

    @classmethod
    def start(cls, folder: Path, timeout: float = 20.0) -> Xvfb:
        """Start Xvfb on a free display with its framebuffer in ``folder``; ``RuntimeError`` if it does not come up."""
        read_fd, write_fd = os.pipe()
        width, height = SCREEN
        process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp",
             "-br", "-fbdir", str(folder)],
            pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(write_fd)
        number = _read_line(read_fd, timeout)
        os.close(read_fd)
        socket = Path(f"/tmp/.X11-unix/X{number}")
        if not number.isdigit() or not socket.exists():
            process.kill()
            process.wait()
            raise RuntimeError(f"Xvfb did not start (display {number!r})")
        return cls(process, Screen(f":{number}", folder / "Xvfb_screen0"))

    def stop(self) -> None:
        """Stop the server (it removes its socket and lock file)."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _read_line(fd: int, timeout: float) -> str:
    """What Xvfb writes on its ``-displayfd`` (the display number and a newline), or "" at the timeout."""
    text, deadline = b"", time.monotonic() + timeout
    while b"\n" not in text and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                break
            text += chunk
    return text.decode().strip()


def lit(pixels: bytes) -> int:
    """How many bytes of the frame are not black (0 for an empty screen)."""
    return len(pixels) - pixels.count(0)


def save_png(pixels: bytes, path: Path) -> Path:
    """Write the frame as an RGB PNG (the standard library's zlib: no imaging package needed)."""
    width, height = SCREEN
    rgb = bytearray(width * height * 3)
    rgb[0::3], rgb[1::3], rgb[2::3] = pixels[2::4], pixels[1::4], pixels[0::4]
    stride = width * 3
    raw = b"".join(b"\0" + bytes(rgb[row * stride : (row + 1) * stride]) for row in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6))
                     + chunk(b"IEND", b""))  # fmt: skip
    return path


def browser_argvs(root: int) -> dict[int, list[str]]:
    """The argv of each main browser process (started with ``--remote-debugging-pipe``) under process ``root``, by
    pid (a launcher script that execs the browser keeps its pid)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found: dict[int, list[str]] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [part.decode("utf-8", "replace") for part in argv if part]
        if "--remote-debugging-pipe" in args:
            # Not below it: a child forked by the browser shows the browser's argv until it execs its own.
            found[pid] = args
        else:
            todo.extend(children.get(pid, []))
    return found


def is_headless(argv: list[str]) -> bool:
    """True when the browser was started without a window."""
    return any(arg.startswith("--headless") for arg in argv)


@dataclass
class Watcher:
    """Samples the browser processes under ``root`` and the screen every ``interval`` seconds until stopped."""

    screen: Screen
    root: int
    interval: float = 0.1
    #: Each browser process seen, by pid in order of first sight: was it headless.
    browsers: dict[int, bool] = field(default_factory=dict)
    #: The argv of each browser process seen, by pid (for the failure messages).
    argvs: dict[int, list[str]] = field(default_factory=dict)
    #: The most lit bytes of any frame seen.
    most_lit: int = 0
    #: Names of the X windows seen (None: xwininfo is not installed).
    window_names: set[str] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _failure: BaseException | None = None

    def __enter__(self) -> Watcher:
        self.window_names = set() if shutil.which("xwininfo") else None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(30)
        if self._failure is not None:  # a sampler that stopped early would make every "never seen" vacuous
            raise AssertionError("the watcher failed") from self._failure

    def _run(self) -> None:
        try:
            self._sample()
        except BaseException as error:
            self._failure = error

    def _sample(self) -> None:
        while not self._stop.is_set():
            for pid, argv in browser_argvs(self.root).items():
                self.browsers[pid] = is_headless(argv)
                self.argvs[pid] = argv
            self.most_lit = max(self.most_lit, lit(self.screen.frame()))
            names = self.screen.windows()
            if names is not None and self.window_names is not None:
                self.window_names.update(names)
            self._stop.wait(self.interval)

    def headless_runs(self) -> list[bool]:
        """For each browser started, in order: was it headless."""
        return list(self.browsers.values())


def type_when_visible(page: Any) -> None:
    """The test hook: on the login page, look at the screen; type the credentials only if a window shows it.

    Writes one JSON line per login page to ``SAML_WINDOW_LOG``: the browser's argv said headless, the lit bytes
    of the screen, the screenshot's path (``SAML_WINDOW_SHOTS``), and whether it typed.
    """
    if not page.evaluate("!!document.getElementById('username')"):
        return
    argvs = list(browser_argvs(os.getpid()).values())
    headless = not argvs or is_headless(argvs[0])
    screen = Screen(os.environ.get("DISPLAY", ""), Path(os.environ["SAML_WINDOW_FB"]))
    shown, shot = lit(screen.frame()), ""
    if not headless:  # a headless page is on no screen: nothing to wait for
        shown, pixels = _wait_until_shown(screen, timeout=20.0)
        count = len(list(Path(os.environ["SAML_WINDOW_SHOTS"]).glob("*.png")))
        shot = str(save_png(pixels, Path(os.environ["SAML_WINDOW_SHOTS"]) / f"login-page-{count + 1}.png"))
    typed = shown >= SHOWN_SHARE * SCREEN[0] * SCREEN[1] * 4
    with open(os.environ["SAML_WINDOW_LOG"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"headless": headless, "lit": shown, "screenshot": shot, "typed": typed}) + "\n")
    if typed:
        type_credentials(page)


def _wait_until_shown(screen: Screen, timeout: float) -> tuple[int, bytes]:
    """Wait for the window to be drawn (enough of the screen lit, the same twice in a row): (lit bytes, frame)."""
    deadline, last = time.monotonic() + timeout, b""
    while time.monotonic() < deadline:
        pixels = screen.frame()
        if lit(pixels) >= SHOWN_SHARE * len(pixels) and pixels == last:
            return lit(pixels), pixels
        last = pixels
        time.sleep(0.3)
    return lit(last), last
