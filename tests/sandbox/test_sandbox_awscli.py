"""The real AWS CLI against the sandbox: it reads the files the sandbox writes, walks the seeded profiles,
and gets the same errors AWS gives, where plain moto lets it through."""

from __future__ import annotations

from conftest import AwsHome, run_aws
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env
from sandbox_helpers import plain_moto_url

pytest_plugins = ["sandbox_fixtures"]


def error_line(code: str, operation: str, message: str) -> str:
    return f"An error occurred ({code}) when calling the {operation} operation: {message}"


def test_files_and_profiles_work_with_the_aws_cli(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    assert (aws_home.root / ".aws" / "credentials").stat().st_mode & 0o777 == 0o600
    for profile, role in (("readonly", "readonly"), ("partner", "partner"), ("deploy", "deploy"), ("ops", "ops")):
        result = run_aws(
            ["--profile", profile, "sts", "get-caller-identity", "--query", "Arn", "--output", "text"], env
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"arn:aws:sts::123456789012:assumed-role/{role}/")
    result = run_aws(["sts", "get-caller-identity", "--query", "Arn", "--output", "text"], env)
    assert result.stdout.strip() == sandbox.user_arn
    assert sandbox.calls("GetCallerIdentity") == 5
    # At least one AssumeRole per profile (the CLI's own cache may spare the inner hops of a chain).
    assert sandbox.calls("AssumeRole") >= 4


def test_mfa_profile_prompts_and_a_replayed_code_is_refused(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    code = sandbox.fresh_code()
    result = run_aws(["--profile", "admin", "sts", "get-caller-identity", "--query", "Arn"], env, input=code + "\n")
    assert result.returncode == 0, result.stderr
    assert "assumed-role/admin/" in result.stdout
    # A fresh CLI cache is not involved (different HOME per run is not needed: the CLI caches per role,
    # so remove its cache to force a second AssumeRole with the same code).
    cache = aws_home.root / ".aws" / "cli" / "cache"
    for entry in cache.glob("*.json"):
        entry.unlink()
    result = run_aws(["--profile", "admin", "sts", "get-caller-identity"], env, input=code + "\n")
    assert result.returncode != 0
    assert (
        error_line(
            "AccessDenied", "AssumeRole", "MultiFactorAuthentication failed with invalid MFA one time pass code."
        )
        in result.stderr
    )


def test_aws_cli_gets_aws_errors_where_plain_moto_answers(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    cases = [
        (
            ["sts", "assume-role", "--role-arn", sandbox.role_arn("admin"), "--role-session-name", "s1"],
            error_line(
                "AccessDenied",
                "AssumeRole",
                f"User: {sandbox.user_arn} is not authorized to perform: sts:AssumeRole on resource: "
                f"{sandbox.role_arn('admin')}",
            ),
        ),
        (
            [
                "sts",
                "assume-role",
                "--role-arn",
                sandbox.role_arn("readonly"),
                "--role-session-name",
                "s1",
                "--duration-seconds",
                "7200",
            ],
            error_line(
                "ValidationError",
                "AssumeRole",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ),
        ),
        (
            ["sts", "assume-role", "--role-arn", sandbox.role_arn("readonly"), "--role-session-name", "bad name"],
            error_line(
                "ValidationError",
                "AssumeRole",
                "1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
            ),
        ),
        (
            ["sts", "get-session-token", "--serial-number", sandbox.mfa_serial, "--token-code", "12345a"],
            error_line(
                "ValidationError",
                "GetSessionToken",
                "1 validation error detected: Value '12345a' at 'tokenCode' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [\\d]*",
            ),
        ),
    ]
    for args, expected in cases:
        plain = run_aws([*args, "--endpoint-url", plain_moto_url()], env)
        assert plain.returncode == 0, (args, plain.stderr)
        result = run_aws([*args, "--endpoint-url", sandbox.endpoint_url], env)
        assert result.returncode == 255, (args, result.stderr)
        assert expected in result.stderr, (args, result.stderr)


def test_aws_cli_with_wrong_secret_and_expired_session(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home) | {
        "AWS_ACCESS_KEY_ID": sandbox.access_key_id,
        "AWS_SECRET_ACCESS_KEY": "x" * 40,
    }
    result = run_aws(["sts", "get-caller-identity"], env)
    assert "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation" in result.stderr
    sandbox.set_credential_lifetime(1)
    import json
    import time

    session = run_aws(["sts", "get-session-token", "--output", "json"], seeded_env(sandbox, aws_home))
    creds = json.loads(session.stdout)["Credentials"]
    time.sleep(1.5)
    env = seeded_env(sandbox, aws_home) | {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
    }
    result = run_aws(["sts", "get-caller-identity"], env)
    assert (
        error_line("ExpiredToken", "GetCallerIdentity", "The security token included in the request is expired")
        in result.stderr
    )
