"""IAM Identity Center (issue 9) end to end against the sandbox's strict sso-oidc and portal endpoints.

``rolecall sso login`` in both flows (a person approves through ``BROWSER``: a plain HTTP client here, a real
headless Chromium in test_sso_browser.py), botocore's own SSOProvider reading rolecall's token cache and
rolecall reading a token cache the AWS CLI v2 wrote, SSO profiles as sources of role chains, the refresh
token behind ``exec --server``, logout, and every error path with its exit code.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.session import Session

from browser_approve import browser_command
from conftest import AwsHome, run_rolecall
from rolecall.errors import ExitCode
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

SESSION = "sandbox"
TOKEN_FILE = hashlib.sha1(SESSION.encode()).hexdigest() + ".json"


def _env(sb: Sandbox, home: AwsHome, *, decision: str = "allow", browser: str = "http") -> dict[str, str]:
    """The sandbox's files, and a BROWSER that approves (or denies) like a person would."""
    env = seeded_env(sb, home)
    env["BROWSER"] = browser_command(home.root)
    env["ROLECALL_TEST_BROWSER"] = browser
    env["ROLECALL_TEST_DECISION"] = decision
    env["ROLECALL_TEST_BROWSER_LOG"] = str(home.root / "browser.log")
    env.pop("DISPLAY", None)
    return env


def _token_path(home: AwsHome) -> Path:
    return home.root / ".aws" / "sso" / "cache" / TOKEN_FILE


def _login(env: dict[str, str], *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_rolecall(["sso", "login", "--sso-session", SESSION, *extra], env, timeout=timeout)


BOTO3_WHOAMI = r"""
import json, sys
import boto3
session = boto3.Session(profile_name=sys.argv[1])
credentials = session.get_credentials()
print(json.dumps({"arn": session.client("sts").get_caller_identity()["Arn"], "method": credentials.method}))
"""


def _boto3_whoami(env: dict[str, str], profile: str) -> dict[str, Any]:
    """Real boto3 in its own process (botocore fixes the SSO cache folder from HOME when imported)."""
    done = subprocess.run([sys.executable, "-c", BOTO3_WHOAMI, profile], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _sso_arn_prefix(sb: Sandbox, role: str = "AdministratorAccess") -> str:
    return f"arn:aws:sts::{sb.account_id}:assumed-role/AWSReservedSSO_{role}_"


# ---------------------------------------------------------------------------------------------------------------
# Logins and the shared token cache


def test_device_code_login_writes_the_cli_v2_cache_that_botocore_uses(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    done = _login(env, "--use-device-code")
    assert done.returncode == 0, done.stderr
    assert f"Successfully logged into Start URL: {sandbox.sso_start_url}" in done.stderr
    assert "enter the code" in done.stderr  # the URL and the code are always said, browser or not
    token = json.loads(_token_path(aws_home).read_text())
    assert set(token) >= {"startUrl", "region", "accessToken", "expiresAt", "clientId", "clientSecret",
                          "registrationExpiresAt", "refreshToken"}
    assert token["startUrl"] == sandbox.sso_start_url and token["region"] == sandbox.sso_region
    assert token["expiresAt"].endswith("Z")
    assert _token_path(aws_home).stat().st_mode & 0o777 == 0o600
    assert _token_path(aws_home).parent.stat().st_mode & 0o777 == 0o700
    assert token["accessToken"] not in done.stderr and token["refreshToken"] not in done.stderr
    # botocore's own SSOProvider (not rolecall) resolves the profile from that token.
    seen = _boto3_whoami(env, "sso-admin")
    assert seen["method"] == "sso" and seen["arn"].startswith(_sso_arn_prefix(sandbox)), seen


def test_the_authorization_code_flow_is_the_default_and_reuses_the_registration(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _env(sandbox, aws_home)
    first = _login(env)
    assert first.returncode == 0, first.stderr
    assert "/authorize?" in first.stderr and "enter the code" not in first.stderr
    log = (aws_home.root / "browser.log").read_text()
    assert "result Signed in" in log  # the browser came back to rolecall's loopback page
    assert sandbox.calls("sso-oidc:RegisterClient") == 1
    second = _login(env)
    assert second.returncode == 0, second.stderr
    assert sandbox.calls("sso-oidc:RegisterClient") == 1  # the cached registration was used again
    seen = _boto3_whoami(env, "sso-readonly")
    assert seen["arn"].startswith(_sso_arn_prefix(sandbox, "ReadOnlyAccess")), seen


def _cli_v2_token(sb: Sandbox) -> dict[str, Any]:
    """A token obtained as the AWS CLI v2 gets it (device flow through botocore), in the CLI's cache format."""
    client = Session().create_client(
        "sso-oidc", region_name=sb.sso_region, endpoint_url=sb.endpoint_url, config=Config(signature_version=UNSIGNED)
    )
    registration = client.register_client(clientName="botocore-client-sandbox", clientType="public")
    authorization = client.start_device_authorization(
        clientId=registration["clientId"], clientSecret=registration["clientSecret"], startUrl=sb.sso_start_url
    )
    sb.sso_approve(authorization["userCode"])
    token = client.create_token(
        grantType="urn:ietf:params:oauth:grant-type:device_code",
        clientId=registration["clientId"],
        clientSecret=registration["clientSecret"],
        deviceCode=authorization["deviceCode"],
    )

    def stamp(seconds: float) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

    return {
        "startUrl": sb.sso_start_url,
        "region": sb.sso_region,
        "accessToken": token["accessToken"],
        "expiresAt": stamp(time.time() + token["expiresIn"]),
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": stamp(registration["clientSecretExpiresAt"]),
        "refreshToken": token["refreshToken"],
    }


def test_a_token_the_aws_cli_v2_cached_is_used_without_a_login(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    path = _token_path(aws_home)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(_cli_v2_token(sandbox)))
    sandbox.reset_calls()
    done = run_rolecall(["env", "sso-admin", "--format", "json"], env)
    assert done.returncode == 0, done.stderr
    assert sandbox.calls("sso-oidc:RegisterClient") == 0 and sandbox.calls("sso-oidc:CreateToken") == 0
    assert sandbox.calls("sso:GetRoleCredentials") == 1
    exported = json.loads(done.stdout)
    # The role credentials went to the AWS CLI v2's cache under its own key and in its own format.
    key = hashlib.sha1(
        json.dumps({"accountId": sandbox.account_id, "roleName": "AdministratorAccess", "sessionName": SESSION},
                   sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    entry = json.loads((aws_home.root / ".aws" / "cli" / "cache" / f"{key}.json").read_text())
    assert entry["ProviderType"] == "sso"
    assert entry["Credentials"]["AccessKeyId"] == exported["AccessKeyId"]
    assert entry["Credentials"]["AccountId"] == sandbox.account_id
    assert entry["Credentials"]["Expiration"].endswith("Z")
    # A second run is served from that cache: no call at all.
    again = run_rolecall(["env", "sso-admin", "--format", "json"], env)
    assert again.returncode == 0 and sandbox.calls("sso:GetRoleCredentials") == 1


def test_a_legacy_profile_logs_in_with_the_device_flow_and_its_start_url_key(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _env(sandbox, aws_home)
    done = run_rolecall(["sso", "login", "--profile", "sso-legacy"], env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "enter the code" in done.stderr  # legacy logins use the device flow, as in the AWS CLI
    legacy = aws_home.root / ".aws" / "sso" / "cache" / (hashlib.sha1(sandbox.sso_start_url.encode()).hexdigest()
                                                         + ".json")
    assert legacy.exists()
    seen = _boto3_whoami(env, "sso-legacy")
    assert seen["arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/AWSReservedSSO_"), seen


# ---------------------------------------------------------------------------------------------------------------
# SSO profiles as sources, explain, list, renewal behind the server


def test_an_sso_profile_as_source_profile_of_a_role_needs_one_login(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    assert _login(env).returncode == 0
    sandbox.reset_calls()
    done = run_rolecall(["env", "sso-chained", "--format", "json"], env)
    assert done.returncode == 0, done.stderr
    assert sandbox.calls("sso:GetRoleCredentials") == 1 and sandbox.calls("AssumeRole") == 1
    who = run_rolecall(["whoami", "sso-chained", "--output", "json"], env)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/")
    # Both hops are cached now: another run calls nothing, and the AWS CLI gets the chained role too.
    sandbox.reset_calls()
    assert run_rolecall(["env", "sso-chained"], env).returncode == 0
    assert sandbox.calls() == 0
    explained = run_rolecall(["assume", "sso-chained", "--explain"], env)
    assert explained.returncode == 0, explained.stderr
    assert "sso-session" in explained.stdout + explained.stderr


def test_explain_and_list_show_the_token_state(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    before = run_rolecall(["assume", "sso-admin", "--explain"], env)
    assert before.returncode == 0, before.stderr
    text = before.stdout + before.stderr
    assert "a login is needed" in text and "GetRoleCredentials" in text
    assert sandbox.calls() == 0  # explaining makes no call
    assert _login(env).returncode == 0
    listed = run_rolecall(["list", "--output", "json"], env)
    rows = {row["profile"]: row for row in json.loads(listed.stdout)}
    assert rows["sso-admin"]["kind"] == "sso" and "sso-session sandbox" in rows["sso-admin"]["chain"]
    assert run_rolecall(["env", "sso-admin"], env).returncode == 0
    listed = run_rolecall(["list", "--output", "json"], env)
    rows = {row["profile"]: row for row in json.loads(listed.stdout)}
    assert rows["sso-admin"]["minutes_left"] is not None


def test_exec_server_renews_sso_role_credentials_through_the_refresh_token(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    from test_cmd_exec_server import LONG_JOB

    env = _env(sandbox, aws_home)
    assert _login(env).returncode == 0
    registrations = sandbox.calls("sso-oidc:RegisterClient")
    # Role credentials live 5 s and the access token 8 s: over 18 s both expire several times.
    sandbox.set_sso_lifetimes(access_token=8, role_credentials=5)
    assert _login(env).returncode == 0  # a token with the short lifetime
    sandbox.reset_calls()
    result = run_rolecall(["exec", "--server", "sso-admin", "--", sys.executable, "-c", LONG_JOB, "18"], env,
                          timeout=120)
    assert result.returncode == 3, result.stderr
    seen = json.loads(result.stdout)
    assert seen["errors"] == []
    assert len(seen["keys"]) >= 4, seen["keys"]  # three expiries at least
    assert all(arn.startswith(_sso_arn_prefix(sandbox)) for arn in seen["arns"]), seen["arns"]
    assert sandbox.calls("sso-oidc:CreateToken") >= 1  # renewed with the refresh token...
    assert sandbox.calls("sso-oidc:RegisterClient") == 0 and registrations == 1  # ...never a new login
    assert "logging in" not in result.stderr


# ---------------------------------------------------------------------------------------------------------------
# Logout


def test_logout_ends_the_session_and_removes_tokens_and_role_credentials(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _env(sandbox, aws_home)
    assert _login(env).returncode == 0
    assert run_rolecall(["env", "sso-admin"], env).returncode == 0
    old_token = json.loads(_token_path(aws_home).read_text())["accessToken"]
    cache = aws_home.root / ".aws" / "cli" / "cache"
    assert any("sso" in path.read_text() for path in cache.iterdir())
    done = run_rolecall(["sso", "logout"], env)
    assert done.returncode == 0, done.stderr
    assert "logged out of 1 IAM Identity Center session" in done.stderr
    assert not _token_path(aws_home).exists()
    assert not [path for path in cache.iterdir() if json.loads(path.read_text()).get("ProviderType") == "sso"]
    portal = Session().create_client("sso", region_name=sandbox.sso_region, endpoint_url=sandbox.endpoint_url,
                                     config=Config(signature_version=UNSIGNED))
    with pytest.raises(portal.exceptions.UnauthorizedException):
        portal.get_role_credentials(accessToken=old_token, accountId=sandbox.account_id,
                                    roleName="AdministratorAccess")
    # Without a token and without a terminal: one line naming the command, exit 10.
    after = run_rolecall(["env", "sso-admin"], env)
    assert after.returncode == ExitCode.LOGIN
    assert "rolecall sso login --sso-session sandbox" in after.stderr
    assert len(after.stderr.strip().splitlines()) == 1 and "Traceback" not in after.stderr


# ---------------------------------------------------------------------------------------------------------------
# Error paths: one line, a hint, exit 10


def _one_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("rolecall: ") and "(hint: " in last, last
    for needle in needles:
        assert needle in last, last
    assert "Traceback" not in result.stderr


def test_a_denied_approval_is_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home, decision="deny")
    _one_line(_login(env), ExitCode.LOGIN, "denied")
    _one_line(_login(env, "--use-device-code"), ExitCode.LOGIN, "denied")
    assert not _token_path(aws_home).exists()


def test_nobody_approving_times_out(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    env["BROWSER"] = "/bin/true"  # a browser opens, nobody acts
    _one_line(_login(env, "--timeout", "3"), ExitCode.LOGIN, "timed out")
    sandbox.set_sso_lifetimes(device_code=2, interval=1)
    _one_line(_login(env, "--use-device-code"), ExitCode.LOGIN, "timed out")


def test_a_wrong_start_url_is_one_line(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    config = Path(env["AWS_CONFIG_FILE"])
    config.write_text(config.read_text().replace(sandbox.sso_start_url, "https://d-0000000000.awsapps.com/start"))
    _one_line(_login(env, "--use-device-code"), ExitCode.LOGIN, "start URL")


def test_registrations_near_expiry_or_refused_are_replaced(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    sandbox.set_sso_lifetimes(registration=10 * 60)  # inside the 15-minute window: never reused
    assert _login(env).returncode == 0
    assert _login(env).returncode == 0
    assert sandbox.calls("sso-oidc:RegisterClient") == 2
    # A registration the cache believes good but the service refuses (it lapsed early, or was revoked):
    # rolecall registers again, once, and the login goes on.
    sandbox.set_sso_lifetimes(registration=2)
    assert _login(env, "--use-device-code").returncode == 0
    folder = aws_home.root / ".aws" / "sso" / "cache"
    (registration,) = [path for path in folder.iterdir() if "accessToken" not in path.read_text()
                       and "grantTypes" not in path.read_text()]
    document = json.loads(registration.read_text())
    registration.write_text(json.dumps({**document, "expiresAt": "2099-01-01T00:00:00Z"}))
    time.sleep(2.5)
    sandbox.set_sso_lifetimes(registration=3600)
    before = sandbox.calls("sso-oidc:RegisterClient")
    again = _login(env, "--use-device-code")
    assert again.returncode == 0, again.stderr
    assert sandbox.calls("sso-oidc:RegisterClient") == before + 1
    # A token whose registration has lapsed cannot be refreshed: without a terminal, one line and exit 10.
    sandbox.set_sso_lifetimes(registration=2, access_token=1)
    assert _login(env).returncode == 0
    time.sleep(2.5)
    _one_line(run_rolecall(["env", "sso-admin"], env), ExitCode.LOGIN, "rolecall sso login --sso-session sandbox")


def test_no_display_switches_to_the_device_flow(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    env.pop("BROWSER")
    proc = subprocess.Popen([sys.executable, "-m", "rolecall", "sso", "login", "--sso-session", SESSION],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    lines: list[str] = []
    for line in proc.stderr:
        lines.append(line)
        if "enter the code" in line:
            code = line.split("enter the code", 1)[1].split()[0]
            sandbox.sso_approve(code)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + err
    assert any("no display here: using the device code flow" in line for line in lines)


def test_assume_in_a_terminal_logs_in_when_the_token_has_expired(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    import pexpect

    env = _env(sandbox, aws_home)
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "assume", "sso-admin"], env=env, encoding="utf-8",
                          timeout=60)
    child.expect("there is no IAM Identity Center token for sso-session \"sandbox\": logging in")
    child.expect("sso-admin: .* from IAM Identity Center \\(GetRoleCredentials\\)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert _token_path(aws_home).exists()
    assert os.stat(_token_path(aws_home)).st_mode & 0o777 == 0o600
