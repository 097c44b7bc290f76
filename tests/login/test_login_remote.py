"""``rolecall login --remote`` at a real terminal (a pty): the URL is printed, a person signs in elsewhere and pastes
the code the confirmation page shows; a mistyped code is one line, exit 10."""

from __future__ import annotations

import re
import sys
import urllib.request

import pexpect

from conftest import AwsHome
from login_helpers import PROFILE, login_env, login_session_of, read_token
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture


def _spawn(env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, ["-m", "rolecall", "login", "--profile", PROFILE, "--remote"], env=env,
                         encoding="utf-8", timeout=60)  # fmt: skip


def _code_from_other_device(url: str) -> str:
    """What a person on another device does: open the URL (the sandbox approves at once), read the code shown."""
    page = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=30).read().decode()
    return page.split('id="verification-code">', 1)[1].split("<", 1)[0]


def test_remote_sign_in_with_a_pasted_code(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    env.pop("BROWSER")
    sandbox.signin.auto_approve = True
    child = _spawn(env)
    child.expect(r"(http://127\.0\.0\.1:\d+/v1/authorize\?\S+)")
    url = child.match.group(1)
    assert "client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device" in url
    assert re.search(r"redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fv1%2Fsessions%2Fconfirmation", url), url
    child.expect("Enter the authorization code displayed in your browser: ")
    child.sendline(_code_from_other_device(url))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    session = login_session_of(env, PROFILE)
    assert read_token(env, session)["clientId"] == "arn:aws:signin:::devtools/cross-device"


def test_a_mistyped_code_is_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    env.pop("BROWSER")
    child = _spawn(env)
    child.expect("Enter the authorization code displayed in your browser: ")
    child.sendline("not-a-code!")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 10
    assert "rolecall: that is not the code the sign-in page shows" in (child.before or "")
    assert "Traceback" not in (child.before or "")
