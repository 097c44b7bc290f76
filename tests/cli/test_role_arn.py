"""``--role-arn`` (issue 21): a role assumed on the command line without a profile, through a synthetic in-memory
profile, against the sandbox with the real rolecall and AWS CLI processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import run_aws, run_rolecall
from rolecall.adhoc import AdHocRole, keep_hint, parse_role
from rolecall.errors import InvalidInputError
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

READONLY = "arn:aws:sts::123456789012:assumed-role/readonly/"


@pytest.fixture
def env(sandbox: Sandbox, aws_home: Any) -> dict[str, str]:
    return seeded_env(sandbox, aws_home)


def _cache_files(env: dict[str, str]) -> list[Path]:
    return sorted((Path(env["HOME"]) / ".aws" / "cli" / "cache").glob("*.json"))


@pytest.mark.parametrize(
    ("spec", "arn"),
    [
        ("123456789012:deploy", "arn:aws:iam::123456789012:role/deploy"),
        ("aws-us-gov:123456789012:deploy", "arn:aws-us-gov:iam::123456789012:role/deploy"),
        ("123456789012:team/deploy", "arn:aws:iam::123456789012:role/team/deploy"),
        ("arn:aws:iam::123456789012:role/deploy", "arn:aws:iam::123456789012:role/deploy"),
    ],
)
def test_awsume_short_forms(spec: str, arn: str) -> None:
    assert parse_role(spec) == arn


@pytest.mark.parametrize("spec", ["deploy", "12345:deploy", "mars:123456789012:deploy", "123456789012:", "a:b:c:d"])
def test_what_is_no_role_is_refused(spec: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_role(spec)
    assert "--role-arn" in caught.value.message and caught.value.hint


def test_exec_prints_the_role_then_serves_it_from_the_cache_the_aws_cli_shares(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    words = ["exec", "--role-arn", "123456789012:readonly", "--source-profile", "default", "--role-session-name",
             "adhoc", "--", sys.executable, "-m", "awscli", "sts", "get-caller-identity"]  # fmt: skip
    first = run_rolecall(words, env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["Arn"] == READONLY + "adhoc"
    assert "no profile was written" in first.stderr
    assert "rolecall add-role --yes --name readonly-123456789012 --role-arn arn:aws:iam::123456789012:role/readonly " \
           "--source-profile default --session-name adhoc --mfa-serial none" in first.stderr  # fmt: skip
    assert sandbox.calls("AssumeRole") == 1
    assert len(_cache_files(env)) == 1
    second = run_rolecall(words, env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["Arn"] == READONLY + "adhoc"
    assert sandbox.calls("AssumeRole") == 1  # served from the cache
    # The AWS CLI, for a profile naming the same role and session name, reuses that entry.
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write("\n[profile same]\nrole_arn = arn:aws:iam::123456789012:role/readonly\n"
                     "source_profile = default\nrole_session_name = adhoc\n")  # fmt: skip
    aws = run_aws(["sts", "get-caller-identity", "--profile", "same"], env)
    assert aws.returncode == 0, aws.stderr
    assert json.loads(aws.stdout)["Arn"] == READONLY + "adhoc"
    assert sandbox.calls("AssumeRole") == 1


def test_the_add_role_line_keeps_the_role_and_its_session(sandbox: Sandbox, env: dict[str, str]) -> None:
    first = run_rolecall(["credential-process", "--role-arn", "123456789012:readonly"], env)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["Version"] == 1
    line = next(text for text in first.stderr.splitlines() if "rolecall add-role" in text)
    words = line.split("rolecall ", 1)[1].split()
    kept = run_rolecall([*words, "--no-verify"], env)
    assert kept.returncode == 0, kept.stderr
    assert "arn:aws:iam::123456789012:role/readonly" in Path(env["AWS_CONFIG_FILE"]).read_text()
    assert "--name readonly-123456789012" in line  # a profile "readonly" exists already
    again = run_rolecall(["credential-process", "readonly-123456789012"], env)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["AccessKeyId"] == json.loads(first.stdout)["AccessKeyId"]
    assert sandbox.calls("AssumeRole") == 1


def test_explain_a_chain_and_the_environment_source(sandbox: Sandbox, env: dict[str, str]) -> None:
    plan = run_rolecall(["env", "--role-arn", "123456789012:deploy", "--source-profile", "readonly", "--explain"], env)
    assert plan.returncode == 0, plan.stderr
    assert "readonly: AssumeRole arn:aws:iam::123456789012:role/readonly" in plan.stderr
    assert "arn:aws:iam::123456789012:role/deploy: AssumeRole arn:aws:iam::123456789012:role/deploy" in plan.stderr
    assert sandbox.calls("AssumeRole") == 0  # --explain makes no call
    # No --source-profile, keys in the environment, no AWS_PROFILE: the default chain's keys assume it.
    keys = {**env, "AWS_ACCESS_KEY_ID": sandbox.access_key_id, "AWS_SECRET_ACCESS_KEY": sandbox.secret_access_key}
    who = run_rolecall(["whoami", "--role-arn", "123456789012:readonly"], keys)
    assert who.returncode == 0, who.stderr
    assert READONLY in who.stdout
    assert "--source-profile" not in who.stderr  # nothing to name: the environment's keys


def test_mfa_and_external_id(sandbox: Sandbox, env: dict[str, str]) -> None:
    admin = run_rolecall(["assume", "--role-arn", "123456789012:admin", "--serial-number", sandbox.mfa_serial,
                          "--token-code", sandbox.fresh_code(), "--mfa-strategy", "direct"], env)  # fmt: skip
    assert admin.returncode == 0, admin.stderr
    assert "assumed-role/admin/" in admin.stderr
    partner = run_rolecall(["env", "--role-arn", "arn:aws:iam::123456789012:role/partner", "--external-id",
                            "partner-ext-42", "--duration", "900", "--format", "json"], env)  # fmt: skip
    assert partner.returncode == 0, partner.stderr
    assert json.loads(partner.stdout)["AccessKeyId"]


@pytest.mark.parametrize(
    ("words", "code", "text"),
    [
        (["env", "--source-profile", "default"], 2, "--source-profile goes with --role-arn"),
        (["env", "readonly", "--role-arn", "123456789012:readonly"], 2, "a profile (readonly) and --role-arn"),
        (["env", "--role-arn", "12345:readonly"], None, "12 digits"),
        (["env", "--role-arn", "123456789012:readonly", "--role-session-name", "a b"], None, "--role-session-name"),
        (["env", "--role-arn", "123456789012:readonly", "--duration", "60"], None, "--duration"),
        (["env", "--role-arn", "123456789012:readonly", "--external-id", "x"], None, "ExternalId"),
        (["env", "--role-arn", "123456789012:readonly", "--source-profile", "nosuch"], None, "nosuch"),
    ],
)
def test_refusals_are_one_line_before_any_call(
    sandbox: Sandbox, env: dict[str, str], words: list[str], code: int | None, text: str
) -> None:
    done = run_rolecall(words, env)
    assert done.returncode != 0 and (code is None or done.returncode == code)
    assert text in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert sandbox.calls() == 0


def test_keep_hint_quotes_what_a_shell_would_split() -> None:
    role = AdHocRole("arn:aws:iam::123456789012:role/x", source="my profile", external_id="a=b")
    assert "--source-profile 'my profile'" in keep_hint(role)


def test_console_signs_in_as_the_role_at_the_source_profiles_federation_endpoint(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    done = run_rolecall(["console", "--role-arn", "123456789012:readonly", "--print"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(sandbox.federation_endpoint)
    assert "no profile was written" in done.stderr


def test_exec_without_a_double_dash_starts_the_command_after_the_role(sandbox: Sandbox, env: dict[str, str]) -> None:
    code = "import os; print(os.environ['AWS_ACCESS_KEY_ID'][:4], os.environ['ROLECALL_PROFILE'])"
    done = run_rolecall(["exec", "--role-arn", "123456789012:readonly", sys.executable, "-c", code], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ASIA", "arn:aws:iam::123456789012:role/readonly"]
