"""``rolecall console`` (issue 10) against the sandbox's strict federation endpoint and console page.

A real headless Chromium loads the sign-in URL rolecall made and the sandbox console shows the role's ARN
(screenshot kept in ROLECALL_TEST_ARTIFACTS, default .artifacts/); an IAM user goes through
GetFederationToken; ``--browser`` gets a private page, never the secret URL, in its arguments; every refusal is
one line with a documented exit code and no secret.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import stat
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import browser_approve
from conftest import AwsHome, run_rolecall
from rolecall.errors import ExitCode
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_sso import _env as sso_env
from test_sso import _login as sso_login

ARTIFACTS = Path(os.environ.get("ROLECALL_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / ".artifacts")


def _sign_in_over_http(url: str) -> tuple[int, str]:
    """Follow the sign-in URL as a browser would (redirect, cookie); the console page's status and text."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _one_line(result: object, code: int, *needles: str) -> str:
    from subprocess import CompletedProcess

    assert isinstance(result, CompletedProcess)
    assert result.returncode == code, (result.returncode, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rolecall: ") and "(hint: " in last, last
    for needle in needles:
        assert needle in last, last
    assert "Traceback" not in result.stderr and "SigninToken" not in result.stderr
    return last


@pytest.mark.skipif(not browser_approve.available(), reason="needs chromium, chromedriver and selenium")
def test_chromium_signs_in_as_the_role(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    done = run_rolecall(["console", "readonly", "--print", "--service", "s3"], env)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(sandbox.federation_endpoint + "?Action=login&") and "SigninToken=" in url
    assert "secret" in done.stderr and url not in done.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "console-readonly.png"
    who = browser_approve.read_page(url, "who", str(shot))
    assert who.startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/"), who
    assert shot.stat().st_size > 1000
    (session,) = sandbox.console_sessions()
    assert session.destination == "https://us-east-1.console.aws.amazon.com/s3/home?region=us-east-1"
    # A sign-in URL works once.
    status, page = _sign_in_over_http(url)
    assert status == 400 and "already used" in page


def test_an_iam_user_goes_through_get_federation_token(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    plan = run_rolecall(["console", "default", "--explain"], env)
    assert plan.returncode == 0, plan.stderr
    assert "GetFederationToken first" in plan.stdout and "getSigninToken" in plan.stdout
    assert sandbox.calls() == 0  # explaining makes no call
    done = run_rolecall(["console", "default", "--print"], env)
    assert done.returncode == 0, done.stderr
    assert "getting a federation token first (GetFederationToken)" in done.stderr
    assert sandbox.calls("GetFederationToken") == 1
    status, page = _sign_in_over_http(done.stdout.strip())
    assert status == 200, page
    assert f"arn:aws:sts::{sandbox.account_id}:federated-user/rolecall-default" in page


def test_browser_command_gets_a_private_page_not_the_url(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    log = aws_home.root / "browser.json"
    recorder = aws_home.root / "recorder.py"
    recorder.write_text(
        "import json, os, stat, sys\n"
        "path = sys.argv[-1][len('file://'):]\n"
        "info = os.stat(path)\n"
        f"json.dump({{'argv': sys.argv, 'mode': stat.S_IMODE(info.st_mode), 'dir_mode': "
        "stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 'page': open(path).read()}, "
        f"open({str(log)!r}, 'w'))\n"
    )
    done = run_rolecall(["console", "readonly", "--browser", f"{sys.executable} {recorder}"], env)
    assert done.returncode == 0, done.stderr
    deadline = time.time() + 20
    while not log.exists() and time.time() < deadline:
        time.sleep(0.1)
    seen = json.loads(log.read_text())
    assert all("SigninToken" not in arg for arg in seen["argv"]), seen["argv"]  # what `ps` would show
    assert seen["argv"][-1].startswith("file://") and seen["mode"] == 0o600 and seen["dir_mode"] == 0o700
    assert "SigninToken=" in seen["page"] and done.stdout == ""
    url = seen["page"].split('content="0;url=', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    status, page = _sign_in_over_http(url)
    assert status == 200 and "assumed-role/readonly/" in page


def test_session_duration_is_sent_for_a_role_and_capped_for_chains(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    done = run_rolecall(["console", "readonly", "--print", "--duration", "7200"], env)
    assert done.returncode == 0, done.stderr
    assert _sign_in_over_http(done.stdout.strip())[0] == 200
    (session,) = sandbox.console_sessions()
    assert 7100 < session.expires_at - time.time() <= 7200
    # deploy is reached from readonly's session: role chaining, at most 1 h, refused before any call.
    calls = sandbox.calls()
    _one_line(run_rolecall(["console", "deploy", "--print", "--duration", "7200"], env), ExitCode.INVALID_INPUT,
              "role chaining")
    assert sandbox.calls() == calls
    chained = run_rolecall(["console", "deploy", "--print", "--duration", "3600"], env)
    assert chained.returncode == 0, chained.stderr


def test_an_sso_profile_opens_the_console(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = sso_env(sandbox, aws_home)
    assert sso_login(env).returncode == 0
    done = run_rolecall(["console", "sso-admin", "--print"], env)
    assert done.returncode == 0, done.stderr
    status, page = _sign_in_over_http(done.stdout.strip())
    assert status == 200 and "AWSReservedSSO_AdministratorAccess_" in page


def test_refusals_are_one_line_without_secrets(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "readonly"], env).returncode == 0
    cache = aws_home.root / ".aws" / "cli" / "cache"
    (entry,) = [json.loads(path.read_text()) for path in cache.iterdir()]
    sandbox.revoke_credentials(entry["Credentials"]["AccessKeyId"])
    revoked = run_rolecall(["console", "readonly", "--print"], env)
    line = _one_line(revoked, ExitCode.AWS, "refused to sign in (HTTP 400)", "expired or were revoked")
    assert entry["Credentials"]["SecretAccessKey"] not in revoked.stderr + revoked.stdout
    assert entry["Credentials"]["SessionToken"] not in line
    # A federation endpoint that refuses, and one that is not there.
    refusing = dict(env, ROLECALL_FEDERATION_ENDPOINT=sandbox.endpoint_url + "/not-federation")
    _one_line(run_rolecall(["console", "readonly", "--print", "--force-refresh"], refusing), ExitCode.AWS,
              "refused to sign in")
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = dict(env, ROLECALL_FEDERATION_ENDPOINT=f"http://127.0.0.1:{port}/federation")
    _one_line(run_rolecall(["console", "readonly", "--print"], gone), ExitCode.NETWORK, "could not reach")
    # A profile that needs MFA, and no terminal to ask for the code.
    _one_line(run_rolecall(["console", "admin", "--print"], env), ExitCode.MFA, "MFA")
    bad = run_rolecall(["console", "readonly", "--print", "--service", "s3<script>"], env)
    _one_line(bad, ExitCode.INVALID_INPUT, "--service")
    assert stat.S_IMODE(os.stat(aws_home.root / ".aws" / "rolecall").st_mode) == 0o700
