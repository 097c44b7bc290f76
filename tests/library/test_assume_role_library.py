"""``rolecall.assume_role`` (issue 21) against the sandbox through real boto3: from a profile, a boto3 Session and
Credentials; a chain of two roles; refresh across expiries under 16 threads; STS's refusals before any call; MFA
with a code callable; where the sessions are kept (the AWS CLI cache or memory)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

import rolecall
from rolecall.errors import InvalidInputError
from rolecall.library import memory
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

POLICY_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@pytest.fixture
def env(sandbox: Sandbox, aws_home: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The seeded files and the sandbox, in os.environ too (boto3 Sessions made by the tests read it)."""
    values = seeded_env(sandbox, aws_home)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    memory.forget_all()
    return values


def _arn(session: Any) -> str:
    return str(session.client("sts").get_caller_identity()["Arn"])


def _cache_files(env: dict[str, str]) -> list[str]:
    folder = Path(env["HOME"]) / ".aws" / "cli" / "cache"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def test_from_a_profile_is_cached_where_the_aws_cli_caches_that_role(sandbox: Sandbox, env: dict[str, str]) -> None:
    role = sandbox.role_arn("readonly")
    session = rolecall.assume_role(role, source="default", role_session_name="lib")
    assert _arn(session) == "arn:aws:sts::123456789012:assumed-role/readonly/lib"
    assert session.region_name == "us-east-1"  # the source profile's
    assert len(_cache_files(env)) == 1
    # A second call (another process would do the same) is served from that entry: no AssumeRole.
    calls = sandbox.calls("AssumeRole")
    assert _arn(rolecall.assume_role(role, source="default", role_session_name="lib")).endswith("/lib")
    assert sandbox.calls("AssumeRole") == calls
    # A profile naming the same role, source and session name is served by it in rolecall (same key as the CLI's).
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write(f"\n[profile kept]\nrole_arn = {role}\nsource_profile = default\nrole_session_name = lib\n")
    assert rolecall.get_credentials("kept").access_key_id == session.get_credentials().access_key
    assert sandbox.calls("AssumeRole") == calls


def test_from_a_boto3_session_and_from_credentials_kept_in_memory(sandbox: Sandbox, env: dict[str, str]) -> None:
    base = boto3.Session(profile_name="default")
    role = sandbox.role_arn("readonly")
    from_session = rolecall.assume_role(role, source=base, role_session_name="from-session")
    assert _arn(from_session).endswith("assumed-role/readonly/from-session")
    frozen = base.get_credentials().get_frozen_credentials()
    keys = rolecall.Credentials(frozen.access_key, frozen.secret_key)
    from_keys = rolecall.assume_role(role, source=keys, policy=POLICY_ALL, tags={"team": "blue"})
    assert ":assumed-role/readonly/" in _arn(from_keys)
    assert _cache_files(env) == []  # no profile could name these: memory only
    calls = sandbox.calls("AssumeRole")
    again = rolecall.assume_role(role, source=base, role_session_name="from-session")
    assert again.get_credentials().access_key == from_session.get_credentials().access_key
    assert sandbox.calls("AssumeRole") == calls


def test_a_chain_of_two_roles_refreshes_both_hops(sandbox: Sandbox, env: dict[str, str]) -> None:
    sandbox.set_credential_lifetime(4)
    first = rolecall.assume_role(sandbox.role_arn("readonly"), source=boto3.Session(profile_name="default"))
    second = rolecall.assume_role(sandbox.role_arn("deploy"), source=first, role_session_name="hop2")
    sts = second.client("sts")
    assert sts.get_caller_identity()["Arn"].endswith("assumed-role/deploy/hop2")
    calls = sandbox.calls("AssumeRole")
    assert calls == 2
    time.sleep(4.5)  # both hops expired
    assert sts.get_caller_identity()["Arn"].endswith("assumed-role/deploy/hop2")
    assert sandbox.calls("AssumeRole") == calls + 2  # hop 1 refreshed, then hop 2 with its new credentials


def test_refresh_across_three_expiries_with_16_threads_is_one_call_per_refresh(
    sandbox: Sandbox, env: dict[str, str]
) -> None:
    sandbox.set_credential_lifetime(4)
    session = rolecall.assume_role(sandbox.role_arn("readonly"), source=boto3.Session(profile_name="default"))
    sts = session.client("sts")
    seen: set[str] = set()
    errors: list[BaseException] = []
    lock = threading.Lock()
    stop = time.monotonic() + 13  # more than three lifetimes of 4 s

    def work() -> None:
        while time.monotonic() < stop:
            try:
                key = session.get_credentials().get_frozen_credentials().access_key
                sts.get_caller_identity()
            except Exception as error:  # any failure fails the test below
                errors.append(error)
                return
            with lock:
                seen.add(key)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(seen) >= 4  # the first credentials and at least three refreshes
    assert sandbox.calls("AssumeRole") == len(seen)  # one AssumeRole per refresh, however many threads asked


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        ({"role_arn": "readonly"}, "RoleArn"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "role_session_name": "has space"}, "RoleSessionName"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "duration_seconds": 600}, "DurationSeconds"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "duration_seconds": 50000}, "DurationSeconds"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "external_id": "x"}, "ExternalId"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "external_id": "a b"}, "ExternalId"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "policy": '{"a": "' + "x" * 2100 + '"}'}, "2048"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "policy": "[1]"}, "Policy"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "policy_arns": ["x"] * 11}, "PolicyArns"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "tags": [{"Key": "a", "Value": "1"},
                                                                         {"Key": "A", "Value": "2"}]}, "twice"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "source_identity": "aws:me"}, "SourceIdentity"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "serial_number": "short"}, "SerialNumber"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "token_code": "12345"}, "TokenCode"),
        ({"role_arn": "arn:aws:iam::123456789012:role/readonly", "region": "us east 1"}, "region"),
    ],
)  # fmt: skip
def test_every_sts_refusal_is_raised_before_any_call(
    sandbox: Sandbox, env: dict[str, str], arguments: dict[str, Any], words: str
) -> None:
    sandbox.reset_calls()
    role = arguments.pop("role_arn")
    with pytest.raises(InvalidInputError) as caught:
        rolecall.assume_role(role, **arguments)
    assert words in caught.value.message
    assert caught.value.hint  # every refusal says what to do
    assert sandbox.calls() == 0


def test_a_source_that_is_no_session_is_refused(sandbox: Sandbox, env: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError, match="source must be"):
        rolecall.assume_role(sandbox.role_arn("readonly"), source=42, policy=POLICY_ALL)
    assert sandbox.calls() == 0


def test_mfa_with_a_code_callable(sandbox: Sandbox, env: dict[str, str]) -> None:
    asked: list[str] = []

    def code(serial: str) -> str:
        asked.append(serial)
        return sandbox.fresh_code()

    session = rolecall.assume_role(
        sandbox.role_arn("admin"), source="default", serial_number=sandbox.mfa_serial, token_code=code
    )
    assert ":assumed-role/admin/" in _arn(session)
    assert asked == [sandbox.mfa_serial]
    # In memory too (a session policy): the same callable.
    asked.clear()
    other = rolecall.assume_role(
        sandbox.role_arn("admin"),
        source=boto3.Session(profile_name="default"),
        serial_number=sandbox.mfa_serial,
        token_code=code,
        policy=POLICY_ALL,
        allow_prompt=False,
    )
    assert ":assumed-role/admin/" in _arn(other)
    assert asked == [sandbox.mfa_serial]


def test_importing_rolecall_does_not_load_the_library_or_boto3() -> None:
    code = "import sys, rolecall; print('rolecall.library' in sys.modules, 'boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ), check=True)
    assert out.stdout.split() == ["False", "False"]
    assert "assume_role" in rolecall.__all__
