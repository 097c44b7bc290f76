"""The library API: rolecall.get_credentials() and rolecall.boto3_session() with real boto3 clients."""

from __future__ import annotations

import time

import rolecall
from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env


def test_get_credentials_and_boto3_session(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    credentials = rolecall.get_credentials("deploy", env=env)
    assert credentials.is_temporary and credentials.expiration is not None
    session = rolecall.boto3_session("deploy", env=env)
    client = session.client("sts", endpoint_url=sandbox.endpoint_url)
    arn = client.get_caller_identity()["Arn"]
    assert "assumed-role/deploy/" in arn
    assert session.region_name == "us-east-1"  # the profile's region


def test_boto3_session_refreshes_through_rolecall(sandbox: Sandbox, aws_home: AwsHome) -> None:
    # Credentials that live 20 s: botocore's refresh windows (15/10 min) make every call refresh, through
    # rolecall's chain (which assumes the role again because its cache entry is too close to expiry).
    sandbox.set_credential_lifetime(20)
    env = seeded_env(sandbox, aws_home)
    session = rolecall.boto3_session("readonly", env=env)
    client = session.client("sts", endpoint_url=sandbox.endpoint_url)
    keys = set()
    for _ in range(3):
        identity = client.get_caller_identity()
        assert "assumed-role/readonly/" in identity["Arn"]
        keys.add(session.get_credentials().get_frozen_credentials().access_key)
        time.sleep(0.5)
    assert len(keys) >= 2  # renewed, not stuck on the first session
    assert sandbox.calls("AssumeRole") >= 2


def test_library_errors_are_rolecall_errors(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile a]\nrole_arn = arn:aws:iam::123456789012:role/x\n")
    try:
        rolecall.get_credentials("a", env=aws_home.env)
    except rolecall.RolecallError as error:
        assert "source_profile" in error.message and error.hint
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("no error for a role without a source")
