"""The sandbox starts, serves the seeded account, and answers the everyday STS calls like AWS."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from rolecall.sandbox import Sandbox

# The `sandbox` fixture (a plugin module, so that parameters named `sandbox` do not shadow an import).
pytest_plugins = ["sandbox_fixtures"]


def sts_client(sb: Sandbox, key: str | None = None, secret: str | None = None, token: str | None = None) -> Any:
    """A real boto3 STS client for the sandbox, with alice's keys unless others are given."""
    return boto3.client(
        "sts",
        endpoint_url=sb.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key or sb.access_key_id,
        aws_secret_access_key=secret or sb.secret_access_key,
        aws_session_token=token,
    )


def test_seeded_account(sandbox: Sandbox) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sandbox.endpoint_url)
    assert sandbox.account_id == "123456789012"
    assert sandbox.user_name == "alice"
    assert sandbox.user_arn == "arn:aws:iam::123456789012:user/alice"
    assert sandbox.mfa_serial == "arn:aws:iam::123456789012:mfa/alice"
    assert sandbox.access_key_id.startswith("AKIA")
    assert sandbox.role_arn("admin") == "arn:aws:iam::123456789012:role/admin"
    assert re.fullmatch(r"\d{6}", sandbox.totp())


def test_caller_identity_of_the_user(sandbox: Sandbox) -> None:
    identity = sts_client(sandbox).get_caller_identity()
    assert identity["Arn"] == sandbox.user_arn
    assert identity["Account"] == "123456789012"
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", identity["UserId"])


def test_assume_role_and_identity_of_the_session(sandbox: Sandbox) -> None:
    before = datetime.now(timezone.utc)
    answer = sts_client(sandbox).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="s-1")
    creds = answer["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/readonly/s-1"
    assert re.fullmatch(r"AROA[A-Z0-9]+:s-1", answer["AssumedRoleUser"]["AssumedRoleId"])
    assert before + timedelta(seconds=3590) < creds["Expiration"] < before + timedelta(seconds=3610)
    # AWS writes whole seconds and UUID request ids (moto writes microseconds and its own ids).
    assert creds["Expiration"].microsecond == 0
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", answer["ResponseMetadata"]["RequestId"]
    )
    session = sts_client(sandbox, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    identity = session.get_caller_identity()
    assert identity["Arn"] == answer["AssumedRoleUser"]["Arn"]
    assert identity["UserId"] == answer["AssumedRoleUser"]["AssumedRoleId"]


def test_get_session_token_issues_unique_temporary_credentials_of_the_user(sandbox: Sandbox) -> None:
    client = sts_client(sandbox)
    first = client.get_session_token(DurationSeconds=900)["Credentials"]
    second = client.get_session_token()["Credentials"]
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert first["AccessKeyId"].startswith("ASIA") and first["SessionToken"]
    now = datetime.now(timezone.utc)
    assert now + timedelta(seconds=880) < first["Expiration"] < now + timedelta(seconds=910)
    assert now + timedelta(hours=11, minutes=59) < second["Expiration"] < now + timedelta(hours=12, seconds=10)
    session = sts_client(sandbox, first["AccessKeyId"], first["SecretAccessKey"], first["SessionToken"])
    identity = session.get_caller_identity()
    assert identity["Arn"] == sandbox.user_arn
    assert identity["UserId"].startswith("AIDA")


def test_calls_are_counted_per_action_and_reset(sandbox: Sandbox) -> None:
    client = sts_client(sandbox)
    client.get_caller_identity()
    client.get_caller_identity()
    with pytest.raises(ClientError):
        client.assume_role(RoleArn=sandbox.role_arn("admin"), RoleSessionName="no-mfa")
    assert sandbox.calls("GetCallerIdentity") == 2
    assert sandbox.calls("AssumeRole") == 1
    assert sandbox.calls() == 3
    sandbox.reset_calls()
    assert sandbox.calls() == 0


def test_reset_gives_fresh_keys_and_forgets_issued_credentials(sandbox: Sandbox) -> None:
    old_key, old_secret = sandbox.access_key_id, sandbox.secret_access_key
    creds = sts_client(sandbox).get_session_token()["Credentials"]
    sandbox.reset()
    assert sandbox.access_key_id != old_key
    with pytest.raises(ClientError) as caught:
        sts_client(sandbox, old_key, old_secret).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    with pytest.raises(ClientError) as caught:
        sts_client(sandbox, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]).get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_context_manager_stops_the_server() -> None:
    with Sandbox.start() as sb:
        url = sb.endpoint_url
        assert sts_client(sb).get_caller_identity()["Account"] == "123456789012"
    import socket

    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock, pytest.raises(OSError):
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))


def test_a_bug_in_the_layer_is_an_internal_failure_not_a_crash(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from botocore.config import Config

    from rolecall.sandbox import iamstate

    def broken(arn: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(iamstate, "find_role", broken)
    client = boto3.client(
        "sts",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=sandbox.access_key_id,
        aws_secret_access_key=sandbox.secret_access_key,
        config=Config(retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as caught:
        client.assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1")
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "boom" in caplog.text
    assert sts_client(sandbox).get_caller_identity()["Arn"] == sandbox.user_arn


def test_fixture_survives_a_test_that_stopped_it(sandbox: Sandbox) -> None:
    import sandbox_fixtures

    sandbox.stop()
    assert not sandbox.is_running
    again = sandbox_fixtures.shared_sandbox()
    assert again.is_running
    assert sts_client(again).get_caller_identity()["Arn"] == again.user_arn


def test_concurrent_requests_and_a_code_raced_by_many_callers(sandbox: Sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    code = sandbox.fresh_code()
    # boto3 clients are thread-safe once made; making them is not, so they are made here.
    clients = [sts_client(sandbox) for _ in range(16)]

    def with_code(index: int) -> str:
        try:
            clients[index].get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=code)
            return "ok"
        except ClientError as error:
            return str(error.response["Error"]["Code"])

    def plain(index: int) -> str:
        answer = clients[index].assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName=f"p{index}")
        return str(answer["AssumedRoleUser"]["Arn"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        raced = list(pool.map(with_code, range(8)))
        arns = list(pool.map(plain, range(16)))
    # A code works once, even when eight callers send it at the same moment.
    assert sorted(raced) == ["AccessDenied"] * 7 + ["ok"]
    assert len(set(arns)) == 16
    assert sandbox.calls("GetSessionToken") == 8
    assert sandbox.calls("AssumeRole") == 16


def test_roles_created_over_the_iam_api_are_enforced(sandbox: Sandbox) -> None:
    import json

    iam = boto3.client(
        "iam",
        endpoint_url=sandbox.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=sandbox.access_key_id,
        aws_secret_access_key=sandbox.secret_access_key,
    )
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": "a&b=c d/+%"}},
            }
        ],
    }
    arn = iam.create_role(RoleName="api-made", AssumeRolePolicyDocument=json.dumps(document), MaxSessionDuration=7200)[
        "Role"
    ]["Arn"]
    client = sts_client(sandbox)
    with pytest.raises(ClientError) as caught:
        client.assume_role(RoleArn=arn, RoleSessionName="x1", ExternalId="wrong-id")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    # The external id has characters AWS's pattern refuses: the constraint check comes first.
    with pytest.raises(ClientError) as caught:
        client.assume_role(RoleArn=arn, RoleSessionName="x1", ExternalId="a&b=c d/+%")
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    iam.update_assume_role_policy(
        RoleName="api-made", PolicyDocument=json.dumps(document).replace("a&b=c d/+%", "a=b/c+d@e:f")
    )
    answer = client.assume_role(RoleArn=arn, RoleSessionName="x1", ExternalId="a=b/c+d@e:f", DurationSeconds=7200)
    assert answer["AssumedRoleUser"]["Arn"] == "arn:aws:sts::123456789012:assumed-role/api-made/x1"
