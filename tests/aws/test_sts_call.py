"""rolecall.sts_call called directly: ``rolecall sts`` as a library call, typed input in, response out.

The command-line behaviour is checked against the AWS CLI elsewhere (test_sts_oracle, test_sts_output,
test_sts_validation, test_sts_mfa_prompt); here the library itself: parameters in STS's names, the output
precedence, and a whole call to the sandbox with the MFA code source passed in instead of a terminal.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import AwsHome
from rolecall.config.paths import AwsPaths
from rolecall.errors import InvalidInputError, UsageError
from rolecall.sandbox import Sandbox
from rolecall.session import Session
from rolecall.sts_call import StsCallInput, make_call, output_format, sts_parameters
from sandbox_fixtures import sandbox, seeded_env

__all__ = ["sandbox"]

ROLE = "arn:aws:iam::123456789012:role/readonly"
NOON = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def clock() -> datetime:
    return NOON


def test_parameters_in_sts_names_with_files_read(tmp_path: Path) -> None:
    (tmp_path / "policy.json").write_text('{"Version": "2012-10-17"}', encoding="utf-8")
    request = StsCallInput(
        operation="assume-role",
        role_arn=ROLE,
        policy="file://~/policy.json",
        tags=["Key=team,Value=blue"],
        transitive_tag_keys=["team"],
        external_id="ext-1",
        duration_seconds=900,
        serial_number="arn:aws:iam::123456789012:mfa/alice",
        token_code=" 123456\n",
    )
    params = sts_parameters(request, {"HOME": str(tmp_path), "USER": "alice"}, clock)
    assert params == {
        "RoleArn": ROLE,
        "RoleSessionName": "alice-20261127",
        "Policy": '{"Version": "2012-10-17"}',
        "Tags": [{"Key": "team", "Value": "blue"}],
        "TransitiveTagKeys": ["team"],
        "ExternalId": "ext-1",
        "DurationSeconds": 900,
        "SerialNumber": "arn:aws:iam::123456789012:mfa/alice",
        "TokenCode": "123456",
    }
    assert sts_parameters(StsCallInput("get-caller-identity", duration_seconds=900), {}, clock) == {}
    assert sts_parameters(StsCallInput("get-session-token", duration_seconds=900), {}, clock) == {
        "DurationSeconds": 900
    }


def test_output_format_precedence() -> None:
    assert output_format(None, {}, {}) == "json"
    assert output_format(None, {}, {"output": "table"}) == "table"
    assert output_format(None, {"AWS_DEFAULT_OUTPUT": "text"}, {"output": "table"}) == "text"
    assert output_format("json", {"AWS_DEFAULT_OUTPUT": "text"}, {}) == "json"
    with pytest.raises(UsageError, match="not supported by rolecall yet"):
        output_format("yaml", {}, {})
    with pytest.raises(UsageError, match="unknown output format"):
        output_format("xml", {}, {})


class Codes:
    """An MFA code source that counts how often it was asked."""

    fixed = True

    def __init__(self, code: str) -> None:
        self.given = code
        self.asked = 0

    def code(self, serial: str) -> str:
        self.asked += 1
        return self.given


def test_a_whole_call_with_the_code_source_passed_in(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    said: list[str] = []
    request = StsCallInput(
        operation="assume-role",
        endpoint_url=sandbox.endpoint_url,
        role_arn=sandbox.role_arn("admin"),
        role_session_name="lib",
        serial_number=sandbox.mfa_serial,
        output="text",
    )
    codes = Codes(sandbox.fresh_code())
    session = Session(env, paths=paths, clock=clock, reporter=said.append)
    call = make_call(request, session, prompt=codes)
    assert codes.asked == 1
    assert call.response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/admin/lib")
    assert (call.output, call.query, call.title) == ("text", None, "AssumeRole")

    # A request that breaks a limit asks for no code and sends nothing.
    before = sandbox.calls()
    codes = Codes(sandbox.fresh_code())
    too_short = dataclasses.replace(request, duration_seconds=60)
    with pytest.raises(InvalidInputError, match="between 900 and"):
        make_call(too_short, session, prompt=codes)
    assert (codes.asked, sandbox.calls()) == (0, before)


def test_caller_identity_goes_where_the_profiles_calls_go(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """rolecall.identity (behind --verify and whoami) called directly."""
    from rolecall.credentials import Credentials
    from rolecall.identity import caller_identity

    env = seeded_env(sandbox, aws_home)
    alice = Credentials(sandbox.access_key_id, sandbox.secret_access_key)
    before = sandbox.calls("GetCallerIdentity")
    found = caller_identity(env, AwsPaths.from_env(env), "default", alice, endpoint_url=sandbox.endpoint_url)
    assert found["Arn"] == sandbox.user_arn
    assert sandbox.calls("GetCallerIdentity") == before + 1
