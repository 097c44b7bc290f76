"""The SAML sign-in's window, for real, on an Xvfb display: "visible only when it needs the user" (docs/saml.md).

rolecall runs in a pseudo-terminal (pexpect) with ``DISPLAY`` set to a private Xvfb server and no
``ROLECALL_BROWSER_HEADLESS``. The test hook acts like a person: it types into the sandbox provider's login page
only when a window shows that page on the screen. What tells a window from none is read from outside rolecall,
while it runs: the browser process's argv (``--headless`` or not, from ``/proc``), the Xvfb framebuffer (black
when nothing is on the screen, lit by a window) and, when xwininfo is installed, the X windows' names.

1. First sign-in: a visible window, the hook sees the login page on the screen and types (a screenshot is kept).
2. An hour later (cached role credentials over, provider cookie alive): renewal in a headless browser, the
   screen stays black, nothing typed.
3. The provider session ended: a headless try for ``ROLECALL_BROWSER_RENEW_WAIT`` seconds (the hook sees the
   login page in it and cannot type), then a window, and the hook types again.
4. No display at a terminal: one line saying so, exit 10, no browser started.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from saml_xvfb import SCREEN, SHOWN_SHARE, Watcher, Xvfb
from test_saml_browser import saml_env, typed

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
pytestmark = [
    pytest.mark.skipif(not any(shutil.which(name) for name in BROWSERS), reason="no Chromium or Chrome here"),
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="no Xvfb (apt install xvfb) to open a window on"),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and an Xvfb framebuffer"),
]

#: Bytes of a frame a window fills when it is on the screen (most of the 1280x800 screen, page and frame).
WINDOW_LIT = SHOWN_SHARE * SCREEN[0] * SCREEN[1] * 4


@pytest.fixture(scope="module")
def xvfb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Xvfb]:
    """A private Xvfb display for this module."""
    server = Xvfb.start(tmp_path_factory.mktemp("xvfb"))
    yield server
    server.stop()


@dataclass
class Run:
    """One rolecall command in a terminal: exit status, what it wrote, and what was seen meanwhile."""

    status: int | None
    lines: list[str]
    watched: Watcher
    seconds: float

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def window_env(sandbox: Sandbox, home: AwsHome, screen: Xvfb, artifacts: Path) -> dict[str, str]:
    """The SAML profile ``federated`` on the sandbox provider, a display, no forced headless, the seeing hook."""
    env = saml_env(sandbox, home, "federated")
    del env["ROLECALL_BROWSER_HEADLESS"]
    env.pop("WAYLAND_DISPLAY", None)
    env.update(
        DISPLAY=screen.screen.display,
        ROLECALL_BROWSER_TEST_HOOK="saml_xvfb:type_when_visible",
        ROLECALL_BROWSER_TIMEOUT="60",
        SAML_WINDOW_FB=str(screen.screen.framebuffer),
        SAML_WINDOW_SHOTS=str(artifacts),
        SAML_WINDOW_LOG=str(home.root / "window.log"),
    )
    return env


def at_terminal(args: list[str], env: dict[str, str], screen: Xvfb) -> Run:
    """Run ``rolecall ARGS`` in a pseudo-terminal while a watcher samples its browsers and the screen."""
    started = time.monotonic()
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", *args], env=env, encoding="utf-8", timeout=240,
                          dimensions=(40, 250))  # fmt: skip
    with Watcher(screen.screen, child.pid) as watched:
        child.expect(pexpect.EOF)
        child.close()
    lines = [line.strip() for line in str(child.before).splitlines() if line.strip()]
    return Run(child.exitstatus, lines, watched, time.monotonic() - started)


def seen_pages(env: dict[str, str]) -> list[dict[str, object]]:
    """What the hook recorded, one entry per login page it was shown."""
    path = Path(env["SAML_WINDOW_LOG"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def expire_cached_credentials(home: AwsHome) -> str:
    """Make the cached role credentials an hour old (rolecall must renew them); their AccessKeyId."""
    (entry,) = (home.root / ".aws" / "cli" / "cache").glob("*.json")
    document = json.loads(entry.read_text())
    document["Credentials"]["Expiration"] = "2000-01-01T00:00:00Z"
    entry.write_text(json.dumps(document))
    return str(document["Credentials"]["AccessKeyId"])


def cached_key_id(home: AwsHome) -> str:
    (entry,) = (home.root / ".aws" / "cli" / "cache").glob("*.json")
    return str(json.loads(entry.read_text())["Credentials"]["AccessKeyId"])


def test_a_window_only_when_the_provider_needs_the_user(
    sandbox: Sandbox, aws_home: AwsHome, xvfb: Xvfb, tmp_path_factory: pytest.TempPathFactory
) -> None:
    artifacts = tmp_path_factory.mktemp("saml-window-screenshots")
    env = window_env(sandbox, aws_home, xvfb, artifacts)
    assert xvfb.screen.frame().count(0) == SCREEN[0] * SCREEN[1] * 4, "the screen must start black"
    runs = [
        first_sign_in_opens_a_window(env, xvfb, sandbox),
        renewal_with_a_live_provider_session_is_headless(env, xvfb, sandbox, aws_home),
        an_ended_provider_session_tries_headless_then_opens_a_window(env, xvfb, sandbox),
    ]
    shots = sorted(artifacts.glob("*.png"))
    print(f"\nSAML window screenshots: {', '.join(str(shot) for shot in shots)}")
    print("seconds (first sign-in, headless renewal, ended session):", [round(run.seconds, 1) for run in runs])
    assert len(shots) == 2


def first_sign_in_opens_a_window(env: dict[str, str], xvfb: Xvfb, sandbox: Sandbox) -> Run:
    """No provider session yet: one browser, not headless, on the screen; the hook saw it and typed."""
    run = at_terminal(["saml", "login", "--profile", "federated"], env, xvfb)
    assert run.status == 0, run.output
    assert "sign in at 127.0.0.1 in the browser window rolecall opened" in run.output
    assert "headless" not in run.output
    assert run.watched.headless_runs() == [False], run.watched.argvs
    assert run.watched.most_lit >= WINDOW_LIT
    if run.watched.window_names is not None:
        assert any(name.endswith(" - Chromium") for name in run.watched.window_names), run.watched.window_names
    (page,) = seen_pages(env)
    assert page["headless"] is False and page["typed"] is True and Path(str(page["screenshot"])).is_file()
    assert typed(env) == 1 and sandbox.saml.logins == 1
    assert "assumed-role/saml-admin/alice" in run.output
    assert xvfb.screen.frame().count(0) == SCREEN[0] * SCREEN[1] * 4, "the window must be gone after the sign-in"
    return run


def renewal_with_a_live_provider_session_is_headless(
    env: dict[str, str], xvfb: Xvfb, sandbox: Sandbox, home: AwsHome
) -> Run:
    """An hour later: the role credentials are over, the provider's 8-hour cookie is not. At a terminal with a
    display, still no window: one headless browser, a black screen throughout, nothing typed."""
    sandbox.advance_saml_clock(3600)
    old_key = expire_cached_credentials(home)
    run = at_terminal(["exec", "federated", "--", "true"], {**env, "ROLECALL_BROWSER_RENEW_WAIT": "60"}, xvfb)
    assert run.status == 0, run.output
    assert "signing in at 127.0.0.1 in a headless browser" in run.output
    assert "browser window" not in run.output
    assert run.watched.headless_runs() == [True], run.watched.argvs
    assert run.watched.most_lit == 0, "nothing may be drawn on the screen during a headless renewal"
    if run.watched.window_names is not None:
        assert not any("Chromium" in name for name in run.watched.window_names), run.watched.window_names
    assert len(seen_pages(env)) == 1 and typed(env) == 1
    assert sandbox.saml.logins == 1 and sandbox.saml.assertions == 2
    assert cached_key_id(home) != old_key
    return run


def an_ended_provider_session_tries_headless_then_opens_a_window(
    env: dict[str, str], xvfb: Xvfb, sandbox: Sandbox
) -> Run:
    """The provider ended every session (its cookie is refused): the headless try finds the login page (the hook
    is shown nothing, types nothing), ``ROLECALL_BROWSER_RENEW_WAIT`` later a window opens and the hook types."""
    with sandbox.saml.lock:
        sandbox.saml.sessions.clear()
    run = at_terminal(["saml", "login", "--profile", "federated"], {**env, "ROLECALL_BROWSER_RENEW_WAIT": "3"}, xvfb)
    assert run.status == 0, run.output
    headless_line = next(i for i, line in enumerate(run.lines) if "in a headless browser" in line)
    window_line = next(i for i, line in enumerate(run.lines) if "in the browser window rolecall opened" in line)
    assert headless_line < window_line, run.lines
    assert run.watched.headless_runs() == [True, False], run.watched.argvs
    assert run.watched.most_lit >= WINDOW_LIT
    tried, shown = seen_pages(env)[1:]
    assert tried == {"headless": True, "lit": 0, "screenshot": "", "typed": False}
    assert shown["headless"] is False and shown["typed"] is True
    assert typed(env) == 2 and sandbox.saml.logins == 2 and sandbox.saml.assertions == 3
    return run


def test_no_display_at_a_terminal_is_one_line_and_exit_10(
    sandbox: Sandbox, aws_home: AwsHome, xvfb: Xvfb, tmp_path: Path
) -> None:
    env = window_env(sandbox, aws_home, xvfb, tmp_path)
    del env["DISPLAY"]
    run = at_terminal(["saml", "login", "--profile", "federated"], env, xvfb)
    assert run.status == 10
    assert len(run.lines) == 1, run.lines
    assert "no display (DISPLAY / WAYLAND_DISPLAY)" in run.lines[0]
    assert run.watched.browsers == {} and typed(env) == 0
