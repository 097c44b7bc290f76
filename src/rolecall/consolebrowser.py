"""Where ``rolecall console`` opens the sign-in: the browser modes that keep several accounts signed in at once.

* ``default``: the system's browser (Python's ``webbrowser``, honouring ``BROWSER``) or ``--browser CMD``; one
  console session per browser, so ``--logout`` first opens the console's sign-out URL (as granted and aws-vault do).
* ``chromium-profiles``: the system Chromium or Chrome with ``--user-data-dir=<rolecall folder>/browser/<profile>``
  (a folder per profile, 0700, created and checked like every private folder of rolecall's): each profile's console
  session lives in its own cookie jar, so each profile stays signed in beside the others.
* ``firefox-containers``: Firefox with an ``ext+container:name=…&url=…`` URL, the protocol of the "Open external
  links in a container" extension (open-url-in-container, the one granted documents): each profile in its own
  Firefox container (``rolecall-PROFILE``).

The mode comes from ``--browser-mode``, else ``ROLECALL_CONSOLE_BROWSER``, else the profile's
``console_browser_mode``, else ``default``. Library code: no printing; errors are ``RolecallError``s.
"""

from __future__ import annotations

import os
import urllib.parse

from rolecall.errors import ExecError, FileError, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

MODES = ("default", "chromium-profiles", "firefox-containers")
#: The environment variable and the profile key that choose the mode when ``--browser-mode`` is not given.
MODE_VARIABLE = "ROLECALL_CONSOLE_BROWSER"
MODE_KEY = "console_browser_mode"
#: The programs tried for ``chromium-profiles``, in this order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Prefix of the Firefox container of each profile.
CONTAINER_PREFIX = "rolecall-"


def browser_mode(flag: str | None, env: Mapping[str, str], settings: Mapping[str, object]) -> str:
    """The mode: ``flag``, else ROLECALL_CONSOLE_BROWSER, else the profile's ``console_browser_mode``, else default."""
    for where, value in (("--browser-mode", flag), (MODE_VARIABLE, env.get(MODE_VARIABLE)),
                         (MODE_KEY, settings.get(MODE_KEY))):  # fmt: skip
        if isinstance(value, str) and value.strip():
            mode = value.strip()
            if mode not in MODES:
                raise InvalidInputError(f"{where} {mode!r} is not a console browser mode",
                                        hint="choose one of: " + ", ".join(MODES))  # fmt: skip
            return mode
    return "default"


def find_chromium(env: Mapping[str, str]) -> str:
    """The path of the first Chromium or Chrome on PATH; ``ExecError`` (one line: what to install) when none."""
    import shutil

    for name in CHROMIUM_NAMES:
        found = shutil.which(name, path=env.get("PATH"))
        if found:
            return found
    raise ExecError(
        "chromium-profiles needs Chromium or Google Chrome, and none is on PATH (" + ", ".join(CHROMIUM_NAMES) + ")",
        hint="install chromium (apt install chromium, brew install --cask chromium) or google-chrome",
    )


def profile_folder(rolecall_dir: str, profile: str) -> str:
    """``<rolecall folder>/browser/<profile>``, created 0700 with its parents, refused when it is a symlink or
    belongs to another user (``fileio.private_folder``). The profile name becomes one safe path component."""
    from rolecall.fileio import private_folder

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in profile).lstrip(".") or "_"
    browser = os.path.join(rolecall_dir, "browser")
    private_folder(rolecall_dir)
    private_folder(browser)
    folder = os.path.join(browser, safe)
    for path in (browser, folder):
        if os.path.islink(path):  # private_folder follows links: a planted one would hand the cookies elsewhere
            raise FileError(f"{path} is a symbolic link; rolecall keeps console sessions in a folder of its own",
                            hint=f"remove {path} (rolecall creates it again, private)")  # fmt: skip
    private_folder(folder)
    return folder


def chromium_argv(program: str, folder: str, target: str, *, as_root: bool) -> list[str]:
    """Chromium's command line for ``target`` (a ``file://`` page: never the sign-in URL) in the profile folder.
    ``--no-sandbox`` only as root, where Chromium refuses to start without it."""
    argv = [program, f"--user-data-dir={folder}", "--no-first-run", "--no-default-browser-check"]
    if as_root:
        argv.append("--no-sandbox")
    return [*argv, target]


def container_url(profile: str, url: str) -> str:
    """The ``ext+container:`` URL that opens ``url`` in the Firefox container ``rolecall-PROFILE`` (created by the
    extension when missing)."""
    query = urllib.parse.urlencode({"name": CONTAINER_PREFIX + profile, "url": url}, quote_via=urllib.parse.quote)
    return "ext+container:" + query


def logout_url(federation_endpoint: str) -> str:
    """The console's sign-out URL beside the federation endpoint (``https://signin.aws.amazon.com/oauth?Action=
    logout`` for the ``aws`` partition): opening it ends the browser's current console session."""
    parts = urllib.parse.urlsplit(federation_endpoint)
    path = parts.path.rsplit("/", 1)[0] + "/oauth"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "Action=logout", ""))
