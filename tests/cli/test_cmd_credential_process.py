"""``rolecall credential-process`` as the ``credential_process`` of another profile: the real AWS CLI and boto3
resolve through it, served from rolecall's cache; loops are a clear error (issue 5)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import boto3
import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: The console script pip installed next to this interpreter: what a user writes in credential_process.
ROLECALL_SCRIPT = Path(sys.executable).with_name("rolecall")


def _sdk_profile(name: str, target: str) -> str:
    return f"[profile {name}]\ncredential_process = {ROLECALL_SCRIPT} credential-process {target}\n"


def test_the_aws_cli_and_boto3_resolve_through_rolecall_served_from_its_cache(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    assert ROLECALL_SCRIPT.exists(), "the rolecall console script is not installed in this environment"
    profiles = _sdk_profile("ro-sdk", "readonly") + _sdk_profile("deploy-sdk", "deploy")
    env = seeded_env(sandbox, aws_home, config=profiles)
    first = run_aws(["sts", "get-caller-identity", "--profile", "ro-sdk"], env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["Arn"].startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/")
    assert sandbox.calls("AssumeRole") == 1
    # boto3, in this process, runs the same credential_process: rolecall answers from its cache, no new session.
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    session = boto3.Session(profile_name="ro-sdk")
    arn = session.client("sts").get_caller_identity()["Arn"]
    assert arn == json.loads(first.stdout)["Arn"]
    assert session.get_credentials().method == "custom-process"
    again = run_aws(["sts", "get-caller-identity", "--profile", "ro-sdk"], env)
    assert again.returncode == 0, again.stderr
    assert sandbox.calls("AssumeRole") == 1
    # A two-hop chain behind credential_process: the SDK gets the last role.
    deploy = boto3.Session(profile_name="deploy-sdk").client("sts").get_caller_identity()["Arn"]
    assert "assumed-role/deploy/" in deploy
    assert sandbox.calls("AssumeRole") == 2  # readonly came from the cache


def test_output_is_the_version_1_document_only(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall(["credential-process", "readonly"], env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert document["Version"] == 1
    assert set(document) == {"Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId"}
    assert document["Expiration"].endswith("Z")
    assert document["SecretAccessKey"] not in result.stderr


def test_a_profile_that_reaches_itself_is_a_clear_error_not_a_fork_bomb(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home, config=_sdk_profile("loop", "loop"))
    started = time.monotonic()
    result = run_rolecall(["credential-process", "loop"], env, timeout=60)
    assert result.returncode == 3
    assert "credential_process loop: loop -> loop" in result.stderr
    assert result.stdout == ""
    # And through the AWS CLI, which starts the first rolecall itself.
    cli = run_aws(["sts", "get-caller-identity", "--profile", "loop"], env, timeout=60)
    assert cli.returncode != 0
    assert "credential_process loop: loop -> loop" in cli.stderr
    assert time.monotonic() - started < 50  # the loop is refused, not run until a timeout (60 s)
    assert sandbox.calls() == 0


def test_a_loop_through_two_profiles_names_the_whole_cycle(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, config=_sdk_profile("a", "b") + _sdk_profile("b", "a"))
    result = run_rolecall(["credential-process", "a"], env, timeout=60)
    assert result.returncode == 3
    assert "credential_process loop: a -> b -> a" in result.stderr
    assert "hint:" in result.stderr


def test_unknown_profile_fails_with_nothing_on_stdout(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, config=_sdk_profile("typo-sdk", "raedonly"))
    cli = run_aws(["sts", "get-caller-identity", "--profile", "typo-sdk"], env)
    assert cli.returncode != 0
    assert "raedonly" in cli.stderr


def test_an_mfa_prompt_reaches_the_terminal_through_the_aws_cli_never_stdout(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    import pexpect

    env = seeded_env(sandbox, aws_home, config=_sdk_profile("admin-sdk", "admin"))
    # The AWS CLI runs rolecall with its stdout captured: the prompt must go to the terminal, not into the JSON.
    terminal = pexpect.spawn(
        sys.executable,
        ["-m", "awscli", "sts", "get-caller-identity", "--profile", "admin-sdk", "--output", "json"],
        env=env,
        timeout=60,
        encoding="utf-8",
    )
    try:
        terminal.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
        terminal.sendline(sandbox.fresh_code())
        terminal.expect(pexpect.EOF)
    finally:
        terminal.close(force=True)
    assert terminal.exitstatus == 0, terminal.before
    assert f'"Arn": "arn:aws:sts::{sandbox.account_id}:assumed-role/admin/' in (terminal.before or "")
    # Once typed, the code served the next SDK without a prompt (no terminal at all here: stdin is /dev/null).
    again = run_aws(["sts", "get-caller-identity", "--profile", "admin-sdk"], env)
    assert again.returncode == 0, again.stderr
    assert "assumed-role/admin/" in json.loads(again.stdout)["Arn"]
