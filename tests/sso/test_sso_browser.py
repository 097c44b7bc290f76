"""A real headless Chromium (Debian's, driven through chromedriver) approves IAM Identity Center logins.

`rolecall sso login` opens the page through Python's `webbrowser` (BROWSER points at tests/browser_approve.py);
Chromium loads the sandbox's verification page (device flow) or its consent page and follows the redirect to
rolecall's loopback server (authorization code with PKCE), clicks Allow, and rolecall completes. Then real
boto3, through botocore's own SSOProvider, resolves the SSO profile from rolecall's token cache. Screenshots of
what the browser showed are kept in ROLECALL_TEST_ARTIFACTS (default: .artifacts/ in the checkout).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import browser_approve
from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_sso import SESSION, _boto3_whoami, _env, _sso_arn_prefix, _token_path

pytestmark = pytest.mark.skipif(not browser_approve.available(), reason="needs chromium, chromedriver and selenium")

ARTIFACTS = Path(os.environ.get("ROLECALL_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / ".artifacts")


@pytest.mark.parametrize("flow", ["authorization-code", "device-code"])
def test_chromium_approves_and_botocore_uses_the_token(sandbox: Sandbox, aws_home: AwsHome, flow: str) -> None:  # noqa: F811
    env = _env(sandbox, aws_home, browser="chromium")
    env["ROLECALL_TEST_ARTIFACTS"] = str(ARTIFACTS / f"sso-login-{flow}")
    extra = ["--use-device-code"] if flow == "device-code" else []
    done = run_rolecall(["sso", "login", "--sso-session", SESSION, *extra], env, timeout=120)
    log = (aws_home.root / "browser.log").read_text()
    assert done.returncode == 0, done.stderr + log
    assert "error" not in log, log
    # What the browser ended on: rolecall's loopback page after the redirect, or the sandbox's approval page.
    expected = "result Signed in" if flow == "authorization-code" else "result Request approved"
    assert expected in log, log
    screenshot = log.split("screenshot ", 1)[1].split("\n", 1)[0]
    assert Path(screenshot).stat().st_size > 1000
    assert _token_path(aws_home).exists()
    seen = _boto3_whoami(env, "sso-admin")
    assert seen["method"] == "sso" and seen["arn"].startswith(_sso_arn_prefix(sandbox)), seen
    # And rolecall itself uses the same token for the chained role, without a login.
    chained = run_rolecall(["whoami", "sso-chained", "--output", "json"], env)
    assert chained.returncode == 0, chained.stderr
    assert "/readonly/" in json.loads(chained.stdout)["Arn"]


def test_chromium_deny_is_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home, browser="chromium", decision="deny")
    env["ROLECALL_TEST_ARTIFACTS"] = str(ARTIFACTS / "sso-login-denied")
    done = run_rolecall(["sso", "login", "--sso-session", SESSION], env, timeout=120)
    assert done.returncode == 10, done.stderr
    assert "denied in the browser" in done.stderr.strip().splitlines()[-1]
