"""Authentication, expiry, regions and injected faults: plain moto accepts, the sandbox answers as AWS."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from rolecall.sandbox import Sandbox
from sandbox_helpers import alice, client, from_credentials, plain_moto_url, rejected

pytest_plugins = ["sandbox_fixtures"]

INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)


def identity(c: Any) -> Any:
    return c.get_caller_identity()


def test_unknown_access_key(sandbox: Sandbox) -> None:
    key, secret = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
    assert identity(client(plain_moto_url(), key, secret))["Arn"]
    rejected(lambda: identity(client(sandbox.endpoint_url, key, secret)), "InvalidClientTokenId", INVALID_TOKEN, 403)


def test_wrong_secret(sandbox: Sandbox) -> None:
    wrong = sandbox.secret_access_key[::-1]
    assert identity(client(plain_moto_url(), sandbox.access_key_id, wrong))["Arn"] == sandbox.user_arn
    rejected(
        lambda: identity(client(sandbox.endpoint_url, sandbox.access_key_id, wrong)),
        "SignatureDoesNotMatch",
        BAD_SIGNATURE,
        403,
    )
    rejected(
        lambda: client(sandbox.endpoint_url, sandbox.access_key_id, wrong).assume_role(
            RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1"
        ),
        "SignatureDoesNotMatch",
        BAD_SIGNATURE,
        403,
    )


def test_wrong_secret_of_temporary_credentials(sandbox: Sandbox) -> None:
    creds = alice(sandbox).get_session_token()["Credentials"]
    bad = {**creds, "SecretAccessKey": creds["SecretAccessKey"][::-1]}
    rejected(lambda: identity(from_credentials(sandbox.endpoint_url, bad)), "SignatureDoesNotMatch", BAD_SIGNATURE, 403)


def test_bogus_or_missing_session_token(sandbox: Sandbox) -> None:
    creds = alice(sandbox).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1")["Credentials"]
    bogus = {**creds, "SessionToken": "bogus-token"}
    assert identity(from_credentials(plain_moto_url(), bogus))["Arn"].endswith("assumed-role/readonly/x1")
    rejected(
        lambda: identity(from_credentials(sandbox.endpoint_url, bogus)), "InvalidClientTokenId", INVALID_TOKEN, 403
    )
    no_token = client(sandbox.endpoint_url, creds["AccessKeyId"], creds["SecretAccessKey"])
    rejected(lambda: identity(no_token), "InvalidClientTokenId", INVALID_TOKEN, 403)
    # A long-term key does not take a session token either.
    with_token = client(sandbox.endpoint_url, sandbox.access_key_id, sandbox.secret_access_key, "some-token")
    rejected(lambda: identity(with_token), "InvalidClientTokenId", INVALID_TOKEN, 403)


def test_session_token_fixed_by_moto_is_not_accepted(sandbox: Sandbox) -> None:
    # Plain moto hands out the same example credentials to everyone; the sandbox's are real and unique.
    plain = alice(sandbox, plain_moto_url()).get_session_token()["Credentials"]
    assert plain["AccessKeyId"] == "AKIAIOSFODNN7EXAMPLE"
    rejected(
        lambda: identity(from_credentials(sandbox.endpoint_url, plain)), "InvalidClientTokenId", INVALID_TOKEN, 403
    )


def test_short_lived_credentials_expire(sandbox: Sandbox) -> None:
    sandbox.set_credential_lifetime(2)
    started = time.time()
    role = alice(sandbox).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1")["Credentials"]
    session = alice(sandbox).get_session_token()["Credentials"]
    for creds in (role, session):
        assert creds["Expiration"].timestamp() - started <= 3
        assert identity(from_credentials(sandbox.endpoint_url, creds))["Account"] == sandbox.account_id
    time.sleep(max(0.0, started + 3.1 - time.time()))
    for creds in (role, session):
        # Plain moto never checks expiry.
        assert identity(from_credentials(plain_moto_url(), creds))["Account"]
        rejected(lambda c=creds: identity(from_credentials(sandbox.endpoint_url, c)), "ExpiredToken", EXPIRED, 403)
    rejected(
        lambda: from_credentials(sandbox.endpoint_url, session).assume_role(
            RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1"
        ),
        "ExpiredToken",
        EXPIRED,
        403,
    )
    sandbox.set_credential_lifetime(None)
    role = alice(sandbox).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1")["Credentials"]
    assert role["Expiration"].timestamp() - time.time() > 3500


def test_disabled_region(sandbox: Sandbox) -> None:
    message = (
        "STS is not activated in this region for account:123456789012. Your account administrator can activate "
        "STS in this region using the IAM Console."
    )
    sandbox.disable_region("eu-west-1")
    assert identity(alice(sandbox, plain_moto_url(), region="eu-west-1"))["Account"]
    rejected(lambda: identity(alice(sandbox, region="eu-west-1")), "RegionDisabledException", message, 403)
    rejected(
        lambda: alice(sandbox, region="eu-west-1").assume_role(
            RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1"
        ),
        "RegionDisabledException",
        message,
        403,
    )
    assert identity(alice(sandbox))["Account"] == sandbox.account_id  # us-east-1 still works
    sandbox.enable_region("eu-west-1")
    assert identity(alice(sandbox, region="eu-west-1"))["Account"] == sandbox.account_id


def test_throttling_is_retried_by_botocore(sandbox: Sandbox) -> None:
    sandbox.inject_fault("GetCallerIdentity", "throttle", times=2)
    answer = identity(alice(sandbox, retries=3))
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert sandbox.calls("GetCallerIdentity") == 3


def test_throttling_error_shape(sandbox: Sandbox) -> None:
    sandbox.inject_fault("AssumeRole", "throttle")
    rejected(
        lambda: alice(sandbox, retries=1).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1"),
        "Throttling",
        "Rate exceeded",
        400,
    )
    # The fault was used up: the next call goes through, and other actions were never affected.
    alice(sandbox, retries=1).assume_role(RoleArn=sandbox.role_arn("readonly"), RoleSessionName="x1")
    assert sandbox.calls("AssumeRole") == 2


def test_internal_failure_is_retried(sandbox: Sandbox) -> None:
    sandbox.inject_fault("*", "error500", times=1)
    answer = alice(sandbox, retries=3).get_session_token()
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    sandbox.inject_fault("GetSessionToken", "error500", times=3)
    with pytest.raises(ClientError) as caught:
        alice(sandbox, retries=3).get_session_token()
    assert caught.value.response["Error"]["Code"] == "InternalFailure"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sandbox.calls("GetSessionToken") == 2 + 3


def test_slow_responses(sandbox: Sandbox) -> None:
    sandbox.inject_fault("GetCallerIdentity", "slow", times=1, delay=1.5)
    started = time.monotonic()
    identity(alice(sandbox))
    assert time.monotonic() - started >= 1.5
    sandbox.inject_fault("GetCallerIdentity", "slow", times=1, delay=2.0)
    with pytest.raises(ReadTimeoutError):
        identity(alice(sandbox, retries=1, read_timeout=0.5))


def test_inject_fault_checks_its_arguments(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.inject_fault("AssumeRole", "explode")
    with pytest.raises(ValueError):
        sandbox.inject_fault("AssumeRole", "throttle", times=0)


@pytest.mark.parametrize("minutes", [-20, 20])
def test_signature_outside_fifteen_minutes(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    import datetime as dt

    import botocore.auth
    import botocore.compat

    skewed = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)
    if botocore.compat.HAS_CRT:  # with awscrt (botocore[crt], for `aws login`) botocore signs through the CRT
        import botocore.crt.auth

        aware = skewed.replace(tzinfo=dt.timezone.utc)
        monkeypatch.setattr(botocore.crt.auth, "get_current_datetime", lambda **_: aware)
    assert identity(alice(sandbox, plain_moto_url()))["Arn"] == sandbox.user_arn
    with pytest.raises(ClientError) as caught:
        identity(alice(sandbox, retries=1))
    error = caught.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch"
    stamp = skewed.strftime("%Y%m%dT%H%M%SZ")
    if minutes < 0:
        assert error["Message"].startswith(f"Signature expired: {stamp} is now earlier than ")
        assert error["Message"].endswith(" - 15 min.)")
    else:
        assert error["Message"].startswith(f"Signature not yet current: {stamp} is still later than ")
        assert error["Message"].endswith(" + 15 min.)")
    monkeypatch.undo()
    assert identity(alice(sandbox))["Arn"] == sandbox.user_arn
