"""``rolecall login`` / ``logout`` end to end against the sandbox's AWS Sign-In: the token file (name, modes,
format), the profile, the session as a source of role chains, and each refusal as one line with a hint, exit 10."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from conftest import AwsHome, run_rolecall
from login_helpers import PROFILE, expire, login_env, read_token, sign_in, token_path
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture


def _whoami(env: dict[str, str], profile: str) -> dict[str, str]:
    done = run_rolecall(["whoami", profile, "--output", "json"], env)
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_login_writes_the_cli_v2_token_and_the_profile(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    assert session.startswith(f"arn:aws:signin:us-east-1:{sandbox.account_id}:session/")
    path = token_path(env, session)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    token = read_token(env, session)
    assert sorted(token) == ["accessToken", "clientId", "dpopKey", "idToken", "refreshToken", "tokenType"]
    assert token["clientId"] == "arn:aws:signin:::devtools/same-device"
    assert token["accessToken"]["accountId"] == sandbox.account_id
    assert token["dpopKey"].startswith("-----BEGIN EC PRIVATE KEY-----\n")
    assert "result Signed in" in (aws_home.root / "browser.log").read_text()
    # The session is a working source, by itself and under a role.
    assert _whoami(env, PROFILE)["Arn"] == sandbox.user_arn
    assert "/readonly/" in _whoami(env, "via-console")["Arn"]
    explained = run_rolecall(["env", PROFILE, "--explain"], env)
    assert "`aws login` credentials valid until" in explained.stderr, explained.stderr
    listed = run_rolecall(["list", PROFILE], env)
    assert listed.returncode == 0 and PROFILE in listed.stdout + listed.stderr, listed.stderr
    assert sandbox.signin.grants == {"authorization_code": 1, "refresh_token": 0}


def test_an_expired_access_token_is_renewed_silently(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    before = read_token(env, session)
    expire(env, session)
    assert _whoami(env, PROFILE)["Arn"] == sandbox.user_arn
    after = read_token(env, session)
    assert sandbox.signin.grants["refresh_token"] == 1
    assert after["refreshToken"] != before["refreshToken"]  # rotated
    assert after["accessToken"]["accessKeyId"] != before["accessToken"]["accessKeyId"]
    assert after["dpopKey"] == before["dpopKey"] and after["idToken"] == before["idToken"]


def test_logout_deletes_only_the_token_file(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    done = run_rolecall(["logout", "--profile", PROFILE], env)
    assert done.returncode == 0, done.stderr
    assert not token_path(env, session).exists()
    assert "login_session" in Path(env["AWS_CONFIG_FILE"]).read_text()
    after = run_rolecall(["whoami", PROFILE], env)
    assert after.returncode == 10, after.stderr
    assert "rolecall login --profile console" in after.stderr


def test_a_profile_with_other_credentials_is_refused(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    done = run_rolecall(["login", "--profile", "via-console"], env)
    assert done.returncode == 3, done.stderr
    assert "already has assume-role credentials" in done.stderr


def _one_line_exit_10(done: object, *secrets: str) -> str:
    returncode, stderr = getattr(done, "returncode"), getattr(done, "stderr")  # noqa: B009
    assert returncode == 10, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("rolecall:")]
    assert len(lines) == 1 and "(hint: " in lines[0], stderr
    assert "Traceback" not in stderr
    for secret in secrets:
        assert secret not in stderr
    return lines[0]


def test_refresh_refusals_are_one_line_with_a_hint(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    token = read_token(env, session)
    secrets = (token["refreshToken"], token["accessToken"]["secretAccessKey"], token["accessToken"]["sessionToken"])
    expire(env, session)
    sandbox.signin.insufficient_permissions = True
    line = _one_line_exit_10(run_rolecall(["env", "via-console"], env), *secrets)
    assert "signin:CreateOAuth2Token" in line and "SignInLocalDevelopmentAccess" in line
    sandbox.signin.insufficient_permissions = False
    for reason, words in (("USER_CREDENTIALS_CHANGED", "credentials of the signed-in identity changed"),
                          ("TOKEN_EXPIRED", "session has expired")):  # fmt: skip
        sandbox.signin.revoke_all(reason)
        line = _one_line_exit_10(run_rolecall(["env", PROFILE], env), *secrets)
        assert words in line and "rolecall login --profile console" in line, line


def test_sign_in_refusals_are_one_line_with_a_hint(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    sandbox.signin.code_lifetime = 0  # the code has expired by the time it is exchanged
    line = _one_line_exit_10(run_rolecall(["login", "--profile", PROFILE], env, timeout=90))
    assert "authorization code expired" in line
    sandbox.signin.code_lifetime = 300
    denied = login_env(sandbox, aws_home, decision="deny")
    line = _one_line_exit_10(run_rolecall(["login", "--profile", PROFILE], denied, timeout=90))
    assert "denied in the browser" in line
    assert "login_session" not in Path(env["AWS_CONFIG_FILE"]).read_text()


def test_a_symlink_at_the_token_path_is_refused(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    path = token_path(env, session)
    planted = aws_home.root / "elsewhere.json"
    planted.write_text(path.read_text())
    os.chmod(planted, 0o600)
    path.unlink()
    path.symlink_to(planted)
    done = run_rolecall(["whoami", PROFILE], env)
    assert done.returncode == 10, done.stderr
    assert "ignoring the `aws login` token" in done.stderr and "symbolic link" in done.stderr.lower(), done.stderr
