"""The one-shot redirect of ``console --browser-mode firefox-containers`` (``rolecall.oneshot``) against another
local user and a silent connection.

Firefox is started with the one-shot address in its command line, which every local user can read
(``/proc/PID/cmdline``). So another user who asks for that address first must not get the console sign-in URL,
and must not use up the one shot; a connection that sends nothing must not hold the redirect up either.
The second user is uid 65534 through ``setpriv`` (as in test_trust_files.py); the requests go to 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

NOBODY = 65534
SIGN_IN_URL = "https://signin.aws.amazon.com/federation?Action=login&SigninToken=SECRETSIGNINTOKEN0123456789"

# One request, printed as "STATUS LOCATION" (no redirect followed): the same code as the current user and as
# the second one.
PROBE = r"""
import http.client, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
c.request("GET", u.path + ("?" + u.query if u.query else ""))
r = c.getresponse()
print(r.status, r.getheader("Location") or "-")
"""


def _start_oneshot() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    helper = subprocess.Popen([sys.executable, "-m", "rolecall.oneshot"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert helper.stdin is not None and helper.stdout is not None
    helper.stdin.write(SIGN_IN_URL + "\n")
    helper.stdin.close()
    address = helper.stdout.readline().strip()
    assert address.startswith("http://127.0.0.1:"), address
    return helper, address


def _probe(address: str, *, as_nobody: bool = False) -> str:
    command = [sys.executable, "-I", "-c", PROBE, address]
    if as_nobody:
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd="/")
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout.strip()


@pytest.mark.skipif(sys.platform != "linux", reason="the peer check reads /proc/net/tcp (Linux)")
def test_another_local_user_asking_first_gets_nothing_and_the_browser_still_signs_in() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as a second local user")
    helper, address = _start_oneshot()
    try:
        stolen = _probe(address, as_nobody=True)  # the attacker read Firefox's argv and raced it
        assert stolen == "404 -", stolen
        assert "SECRETSIGNINTOKEN" not in stolen
        assert _probe(address) == f"302 {SIGN_IN_URL}"  # the real browser, same user, still gets it
        helper.wait(timeout=10)
    finally:
        helper.kill()
        helper.wait()
    assert helper.stderr is not None and "SECRETSIGNINTOKEN" not in helper.stderr.read()


def test_a_silent_connection_does_not_hold_up_the_redirect() -> None:
    helper, address = _start_oneshot()
    parts = urllib.parse.urlsplit(address)
    silent = socket.create_connection((parts.hostname or "", parts.port or 0))
    try:
        time.sleep(0.5)  # the helper has accepted it by now
        started = time.monotonic()
        assert _probe(address) == f"302 {SIGN_IN_URL}"
        assert time.monotonic() - started < 8
        helper.wait(timeout=10)
    finally:
        silent.close()
        helper.kill()
        helper.wait()


def test_an_unused_redirect_ends_on_time_even_with_a_silent_connection_open() -> None:
    import rolecall.oneshot

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    code = "import sys, rolecall.oneshot as o; o.serve(sys.stdin.readline().strip(), lifetime=2)"
    helper = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)  # fmt: skip
    assert helper.stdin is not None and helper.stdout is not None and rolecall.oneshot.LIFETIME > 2
    helper.stdin.write(SIGN_IN_URL + "\n")
    helper.stdin.close()
    parts = urllib.parse.urlsplit(helper.stdout.readline().strip())
    silent = socket.create_connection((parts.hostname or "", parts.port or 0))
    try:
        started = time.monotonic()
        helper.wait(timeout=20)
        assert time.monotonic() - started < 15
    finally:
        silent.close()
        helper.kill()
        helper.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="the peer check reads /proc/net/tcp (Linux)")
def test_another_local_user_cannot_end_a_sign_in_through_the_redirect_port() -> None:
    """``login`` / ``sso login``: the state travels in the browser's command line; another user who sends the
    redirect first (a denial, or a code of theirs) is refused, and the browser's real redirect still counts."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as a second local user")
    from rolecall.oauth import RedirectReceiver

    with RedirectReceiver("STATE123", listen_hint="-") as receiver:
        base = receiver.redirect_uri + "?state=STATE123"
        assert _probe(base + "&error=access_denied", as_nobody=True) == "400 -"
        assert _probe(base + "&code=ATTACKERCODE", as_nobody=True) == "400 -"
        assert _probe(base + "&code=REALCODE") == "200 -"
        assert receiver.wait(time.monotonic() + 5) == ("REALCODE", None)
