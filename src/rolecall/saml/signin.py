"""One SAML sign-in: headless first while the provider's session lives, a visible window only when it needs you.

The browser profile folder is rolecall's, one per identity provider (``$ROLECALL_HOME/browser/saml-HOST``, 0700),
so every profile of one provider shares its session cookie. After a sign-in that produced an assertion rolecall
leaves a marker there; with the marker, the next sign-in runs headless first (a renewal needs nobody while the
provider's cookie lives) and opens a window only when no SAMLResponse came within ``ROLECALL_BROWSER_RENEW_WAIT``
seconds (default 20). ``ROLECALL_BROWSER_HEADLESS=1`` never opens a window (tests, CI).
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from typing import TYPE_CHECKING

from rolecall.errors import LoginError
from rolecall.saml.browser import find_browser, private_folder
from rolecall.saml.capture import capture_once, load_test_hook

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.reporting import Reporter

#: Written in the provider's browser folder after a sign-in gave an assertion: "a session may live here".
MARKER = "rolecall-signed-in"
#: Seconds a visible sign-in may take (``ROLECALL_BROWSER_TIMEOUT``).
DEFAULT_TIMEOUT = 300.0
#: Seconds a headless renewal may take before a window opens (``ROLECALL_BROWSER_RENEW_WAIT``).
DEFAULT_RENEW_WAIT = 20.0


def browser_folder(rolecall_dir: str, saml_url: str) -> str:
    """The provider's browser profile folder (made 0700): one per host of ``saml_url``."""
    host = urllib.parse.urlsplit(saml_url).hostname or "provider"
    safe = "".join(char if char.isalnum() or char in ".-" else "_" for char in host.lower())
    private_folder(os.path.join(rolecall_dir, "browser"))
    return private_folder(os.path.join(rolecall_dir, "browser", f"saml-{safe}"))


def seconds(env: Mapping[str, str], variable: str, default: float) -> float:
    """A positive number of seconds from ``variable``, else ``default``."""
    try:
        value = float(env.get(variable, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def can_show_window(env: Mapping[str, str]) -> bool:
    """False on a Linux or BSD box with no display to put a window on."""
    if sys.platform == "darwin" or os.name == "nt":
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def sign_in(
    saml_url: str, env: Mapping[str, str], rolecall_dir: str, *, interactive: bool, reporter: Reporter, profile: str
) -> str:
    """The base64 SAMLResponse of a sign-in at ``saml_url``: headless first if a provider session may live (or
    ``ROLECALL_BROWSER_HEADLESS=1``), then a visible window when ``interactive``. ``LoginError`` otherwise."""
    executable = find_browser(env)
    folder = browser_folder(rolecall_dir, saml_url)
    hook = load_test_hook(env)
    forced = env.get("ROLECALL_BROWSER_HEADLESS") == "1"
    timeout = seconds(env, "ROLECALL_BROWSER_TIMEOUT", DEFAULT_TIMEOUT)
    if forced or os.path.exists(os.path.join(folder, MARKER)):
        wait = timeout if forced else seconds(env, "ROLECALL_BROWSER_RENEW_WAIT", DEFAULT_RENEW_WAIT)
        reporter(f"{profile}: signing in at {_host(saml_url)} in a headless browser")
        found = capture_once(executable, folder, saml_url, headless=True, timeout=wait, env=env, hook=hook)
        if found is not None:
            _mark(folder)
            return found
        if forced:
            raise LoginError(
                f"no SAML response from {_host(saml_url)} within {wait:.0f} s in the headless browser",
                hint=f"the provider wants you: unset ROLECALL_BROWSER_HEADLESS and run rolecall saml login "
                f"--profile {profile}",
            )
    if not interactive:
        raise LoginError(
            f"{profile}: the SAML sign-in at {_host(saml_url)} needs you, and there is no terminal here",
            hint=f"run: rolecall saml login --profile {profile}",
        )
    if not can_show_window(env):
        raise LoginError(
            "the SAML sign-in needs a browser window and there is no display (DISPLAY / WAYLAND_DISPLAY)",
            hint="sign in on a desktop session once, or use ROLECALL_BROWSER_HEADLESS=1 where the provider "
            "needs no one",
        )
    reporter(f"{profile}: sign in at {_host(saml_url)} in the browser window rolecall opened")
    found = capture_once(executable, folder, saml_url, headless=False, timeout=timeout, env=env, hook=hook)
    if found is None:
        raise LoginError(
            f"no SAML response from {_host(saml_url)} within {timeout:.0f} s",
            hint="finish the sign-in in the window, or set ROLECALL_BROWSER_TIMEOUT to wait longer",
        )
    _mark(folder)
    return found


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _mark(folder: str) -> None:
    try:
        with open(os.path.join(folder, MARKER), "w", encoding="utf-8"):
            pass
    except OSError:
        pass  # only costs a visible window next time
