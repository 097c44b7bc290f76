"""``rolecall whoami`` and ``--verify`` on ``assume`` against the sandbox (issue 5): account, ARN, user id and
expiry; credentials that do not work fail fast with AWS's own error line."""

from __future__ import annotations

import json
import time

import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

REVOKED = (
    "[revoked]\naws_access_key_id = AKIAREVOKEDREVOKED00\n"
    "aws_secret_access_key = notasecretnotasecretnotasecret00\n"
)


def test_whoami_text_shows_account_arn_user_id_and_expiry(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["whoami", "deploy"], env)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) if " " in line else (line, "") for line in result.stdout.splitlines())
    assert fields["profile"] == "deploy"
    assert fields["account"] == sandbox.account_id
    assert fields["arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/")
    assert fields["user"].startswith("id ")  # "user id   AROA...:session"
    assert fields["user"].split()[1].startswith("AROA")
    assert fields["expires"].endswith("min left)")
    assert sandbox.calls("GetCallerIdentity") == 1


def test_whoami_json_and_long_term_keys_without_expiry(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    # No AWS_ENDPOINT_URL: the endpoint comes from the profile itself, as for `aws sts get-caller-identity`.
    del env["AWS_ENDPOINT_URL"]
    result = run_rolecall(["whoami", "default", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    # alice's own identity, as the AWS CLI reports it from the same profile: the oracle for every field.
    aws = run_aws(["sts", "get-caller-identity", "--profile", "default", "--endpoint-url", sandbox.endpoint_url], env)
    assert aws.returncode == 0, aws.stderr
    theirs = json.loads(aws.stdout)
    assert json.loads(result.stdout) == {
        "Profile": "default",
        "Account": sandbox.account_id,
        "Arn": sandbox.user_arn,
        "UserId": theirs["UserId"],
    }
    assert theirs["UserId"].startswith("AIDA")
    text = run_rolecall(["whoami", "default"], env)
    assert "expires   never (long-term keys)" in text.stdout
    role = json.loads(run_rolecall(["whoami", "readonly", "--output", "json"], env).stdout)
    assert role["Expiration"].endswith("+00:00")


def test_whoami_names_environment_keys_as_such(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    keys = json.loads(run_rolecall(["env", "readonly", "--format", "json"], env).stdout)
    env.update(AWS_ACCESS_KEY_ID=keys["AccessKeyId"], AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"],
               AWS_SESSION_TOKEN=keys["SessionToken"])
    result = run_rolecall(["whoami"], env)
    assert result.returncode == 0, result.stderr
    assert "profile   (environment variables)" in result.stdout
    assert "assumed-role/readonly/" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["whoami", "revoked"],
        ["assume", "revoked", "--verify"],
        ["credential-process", "revoked", "--verify"],
        ["exec", "revoked", "--verify", "--", "echo", "ran"],
        ["exec", "--server", "revoked", "--verify", "--", "echo", "ran"],
        ["serve", "revoked", "--verify"],
    ],
)
def test_invalid_keys_fail_fast_with_the_aws_error_line(
    sandbox: Sandbox, aws_home: AwsHome, command: list[str]  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home, credentials=REVOKED)
    started = time.monotonic()
    result = run_rolecall(command, env, timeout=60)
    assert time.monotonic() - started < 40  # failed fast: no retries against a broken key
    assert result.returncode == 4
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rolecall: ")
    assert "The security token included in the request is invalid" in lines[0]
    assert "notasecret" not in result.stderr and result.stdout == ""
    assert sandbox.calls("GetCallerIdentity") == 1  # no retries of an authentication failure


def test_expired_session_keys_fail_with_expired_token(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    sandbox.set_credential_lifetime(2)
    keys = json.loads(run_rolecall(["env", "readonly", "--format", "json"], env).stdout)
    time.sleep(3)
    env.update(AWS_ACCESS_KEY_ID=keys["AccessKeyId"], AWS_SECRET_ACCESS_KEY=keys["SecretAccessKey"],
               AWS_SESSION_TOKEN=keys["SessionToken"])
    result = run_rolecall(["whoami"], env, timeout=30)
    assert result.returncode == 4
    assert "expired" in result.stderr.lower()
    assert keys["SessionToken"] not in result.stderr


def test_assume_verify_reports_the_verified_identity(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["assume", "readonly", "--verify"], env)
    assert result.returncode == 0, result.stderr
    assert "verified with GetCallerIdentity" in result.stderr
    assert f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/" in result.stderr
    assert sandbox.calls("GetCallerIdentity") == 1
