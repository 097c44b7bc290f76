"""The system's Chromium or Chrome, started with a rolecall-owned profile folder and driven over a DevTools pipe.

No downloaded browser builds: rolecall looks for ``chromium``, ``chromium-browser``, ``google-chrome`` and
``google-chrome-stable`` on PATH (``ROLECALL_BROWSER`` names another). The profile folder (``--user-data-dir``)
is rolecall's own, 0700, one per identity provider, so the provider's session cookie and its "remember this
device" survive to the next sign-in; they survive only when the browser is closed cleanly (``Browser.close``
over the protocol), which ``close`` does before it waits for the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from rolecall.errors import LoginError
from rolecall.saml.cdp import CdpError, Pipe

if TYPE_CHECKING:
    from collections.abc import Mapping

#: The names looked up on PATH, in this order.
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: What the "no browser" line suggests installing.
INSTALL_HINT = (
    "install Chromium or Google Chrome (Debian/Ubuntu: apt install chromium; Fedora: dnf install chromium; "
    "macOS: brew install --cask chromium), or name one with ROLECALL_BROWSER=/path/to/chrome"
)
#: macOS installs browsers as application bundles, not on PATH.
MAC_BROWSERS = (
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
)


def find_browser(env: Mapping[str, str]) -> str:
    """The browser to run: ``ROLECALL_BROWSER``, else the first of ``BROWSER_NAMES`` on PATH (``LoginError``)."""
    named = env.get("ROLECALL_BROWSER")
    if named:
        found = shutil.which(named, path=env.get("PATH"))
        if found is None:
            raise LoginError(f"ROLECALL_BROWSER names {named}, which is not an executable", hint=INSTALL_HINT)
        return found
    for name in BROWSER_NAMES:
        found = shutil.which(name, path=env.get("PATH"))
        if found is not None:
            return found
    for path in MAC_BROWSERS:
        if os.access(path, os.X_OK):
            return path
    raise LoginError("SAML sign-in needs Chromium or Google Chrome, and none was found", hint=INSTALL_HINT)


def browser_arguments(executable: str, user_data_dir: str, *, headless: bool) -> list[str]:
    """The command line: a private profile folder, the DevTools pipe, no first-run noise; the sandbox
    switched off only for root (Chromium refuses to start as root otherwise)."""
    args = [
        executable,
        f"--user-data-dir={user_data_dir}",
        "--remote-debugging-pipe",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-sync",
        "--disable-background-networking",
        "--password-store=basic",
    ]
    if headless:
        args.append("--headless=new")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    args.append("about:blank")
    return args


class Browser:
    """A running browser and its DevTools pipe. ``close()`` shuts it down cleanly (cookies are written)."""

    def __init__(self, process: subprocess.Popen[bytes], pipe: Pipe) -> None:
        self.process = process
        self.pipe = pipe

    @classmethod
    def launch(cls, executable: str, user_data_dir: str, *, headless: bool, env: Mapping[str, str]) -> Browser:
        """Start the browser with the DevTools pipe on its fds 3 (commands in) and 4 (messages out)."""
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        # Out of the way of 3 and 4, so that the child's dup2 always makes a new, inheritable descriptor.
        child_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)

        def place_pipe() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        try:
            process = subprocess.Popen(
                browser_arguments(executable, user_data_dir, headless=headless),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # The browser needs none of rolecall's or the AWS variables (keys of a previous assume among them).
                env={k: v for k, v in env.items() if not k.startswith(("AWS_", "ROLECALL_"))},
                # Every other descriptor of ours is close-on-exec (PEP 446): only 0-4 reach the browser.
                close_fds=False,
                preexec_fn=place_pipe,  # two dup2 calls: async-signal-safe
                start_new_session=True,
            )
        except OSError as error:
            for fd in (child_in, child_out, to_browser_w, from_browser_r):
                os.close(fd)
            raise LoginError(f"cannot start {executable}: {error.strerror}", hint=INSTALL_HINT) from None
        os.close(child_in)
        os.close(child_out)
        return cls(process, Pipe(to_browser_w, from_browser_r))

    def close(self, timeout: float = 10.0) -> None:
        """``Browser.close`` over the protocol (the profile and its cookies are flushed), then wait; kill it if it
        does not go."""
        with contextlib.suppress(CdpError):  # already gone, or it went before answering
            self.pipe.call("Browser.close", timeout=timeout)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        finally:
            self.pipe.close()


def private_folder(path: str) -> str:
    """``path`` made (with parents) as a 0700 folder, and tightened to 0700 if it existed; returns it.

    A symbolic link at ``path`` is refused (``FileError``, exit 7), never followed: root running rolecall with a
    user's HOME would otherwise chmod, and start its browser in, whatever folder the user's link points to. A
    folder of another user is refused too (``fileio.private_folder``).
    """
    from rolecall.errors import FileError
    from rolecall.fileio import private_folder as checked_folder

    if os.path.islink(path):
        raise FileError(f"{path} is a symbolic link; rolecall keeps the browser's profile in a folder of its own",
                        hint=f"remove {path} (rolecall creates it again, private)")  # fmt: skip
    checked_folder(path, loose=0o077)
    return path
