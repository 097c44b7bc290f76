"""The AWS layer's seam: every thin client of ``rolecall.aws`` takes a ``transport``; a test passes its own
(a ``Transport`` subclass that records requests and answers them) instead of patching module functions.
No network here: the recording transport answers everything itself."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from conftest import AwsHome
from rolecall.aws import iam, sts
from rolecall.aws.hints import HINTS, MfaRejectedError, client_error
from rolecall.aws.settings import StsSettings
from rolecall.aws.transport import DEFAULT, Transport
from rolecall.config.paths import AwsPaths
from rolecall.credentials import Credentials
from rolecall.errors import AwsError, InvalidInputError
from rolecall.identity import caller_identity

KEYS = Credentials("AKIAEXAMPLEEXAMPLE00", "notasecretnotasecretnotasecret00")
SETTINGS = StsSettings(region="eu-west-1", endpoint_url="http://127.0.0.1:9")
ARN = "arn:aws:iam::123456789012:user/alice"


class Recording(Transport):
    """Records each call and answers from ``answers`` (by operation); never reaches botocore."""

    def __init__(self, **answers: dict[str, Any]) -> None:
        super().__init__()
        self.answers = answers
        self.calls: list[tuple[str, StsSettings, Credentials | None, dict[str, Any], bool]] = []

    def call(
        self,
        operation: str,
        settings: StsSettings,
        credentials: Credentials | None,
        params: Any,
        signed: bool = True,
    ) -> dict[str, Any]:
        self.calls.append((operation, settings, credentials, dict(params), signed))
        return dict(self.answers.get(operation, {}))

    def answer_metadata(self, settings: StsSettings, operation: str = "GetCallerIdentity") -> dict[str, Any]:
        self.calls.append((operation, settings, None, {}, False))
        return {"HTTPHeaders": {"date": "Fri, 04 Dec 2026 21:00:00 GMT"}}


def test_the_sts_clients_go_through_the_given_transport() -> None:
    transport = Recording(GetCallerIdentity={"Arn": ARN}, AssumeRole={"Credentials": {}})
    assert sts.get_caller_identity(SETTINGS, KEYS, transport=transport) == {"Arn": ARN}
    sts.assume_role(SETTINGS, KEYS, transport=transport, RoleArn="arn:aws:iam::123456789012:role/r",
                    RoleSessionName="s1", ExternalId=None)  # fmt: skip
    sts.assume_role_with_web_identity(SETTINGS, transport=transport, RoleArn="arn:aws:iam::123456789012:role/r",
                                      RoleSessionName="s1", WebIdentityToken="x" * 8)  # fmt: skip
    sts.call_service(SETTINGS.with_overrides(service="sso"), "Logout", transport=transport, accessToken="t" * 8)
    assert [(op, creds, signed) for op, _s, creds, _p, signed in transport.calls] == [
        ("GetCallerIdentity", KEYS, True),
        ("AssumeRole", KEYS, True),
        ("AssumeRoleWithWebIdentity", None, False),  # unsigned: the token is the proof
        ("Logout", None, False),
    ]
    # The transport gets the parameters as given (dropping the None ones is its job).
    assert transport.calls[1][3] == {"RoleArn": "arn:aws:iam::123456789012:role/r", "RoleSessionName": "s1",
                                     "ExternalId": None}  # fmt: skip


def test_limits_are_checked_before_the_transport_is_asked() -> None:
    transport = Recording()
    with pytest.raises(InvalidInputError):
        sts.assume_role(SETTINGS, KEYS, transport=transport, RoleArn="not-an-arn", RoleSessionName="s1")
    with pytest.raises(InvalidInputError):
        sts.get_session_token(SETTINGS, KEYS, transport=transport, DurationSeconds=5)
    assert transport.calls == []


def test_iam_calls_switch_the_settings_to_iam() -> None:
    transport = Recording(ListMFADevices={"MFADevices": [{"SerialNumber": "arn:aws:iam::1:mfa/a"}, {}]})
    iam.iam_call(SETTINGS, KEYS, "ListAccessKeys", transport=transport, UserName="alice")
    assert transport.calls[0][1] == SETTINGS.with_overrides(service="iam")
    assert iam.list_mfa_devices(SETTINGS, KEYS, "alice", transport=transport) == ["arn:aws:iam::1:mfa/a"]
    assert transport.calls[1][3] == {"UserName": "alice"}


def test_server_time_reads_the_transports_answer() -> None:
    transport = Recording()
    assert sts.server_time(SETTINGS, transport=transport) == datetime(2026, 12, 4, 21, 0, tzinfo=timezone.utc)
    assert transport.calls[0][0] == "GetCallerIdentity"


def test_identity_takes_a_transport(aws_home: AwsHome) -> None:
    """rolecall.identity (behind --verify and whoami) passes the transport through, with the profile's settings."""
    aws_home.write_config("[profile p]\nregion = ap-south-1\n")
    transport = Recording(GetCallerIdentity={"Arn": ARN})
    found = caller_identity(aws_home.env, AwsPaths.from_env(aws_home.env), "p", KEYS, transport=transport)
    assert found == {"Arn": ARN} and transport.calls[0][1].region == "ap-south-1"


def test_the_default_transport_is_shared() -> None:
    assert isinstance(DEFAULT, Transport)
    assert sts.get_caller_identity.__kwdefaults__ == {"transport": DEFAULT}


def _refusal(code: str, message: str = "", status: int = 400, retries: int = 2) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retries}}  # fmt: skip


def test_the_hint_table() -> None:
    """Each code of the table gives its own hint; a code outside it the generic one (5xx: the service's side)."""
    assert {"AccessDenied", "ExpiredToken", "ValidationError", "Throttling", "InvalidIdentityToken"} <= set(HINTS)
    mfa = client_error(_refusal("AccessDenied", "MultiFactorAuthentication failed with 123456"), "AssumeRole",
                       SETTINGS, {"TokenCode": "123456"}, KEYS)  # fmt: skip
    assert isinstance(mfa, MfaRejectedError) and "123456" not in mfa.message and mfa.code == "AccessDenied"
    chained = client_error(_refusal("ValidationError", "exceeds the 1 hour session limit for roles assumed by role "
                                    "chaining"), "AssumeRole", SETTINGS, {}, KEYS)  # fmt: skip
    assert "role chaining, which AWS caps at 1 hour" in str(chained.hint)
    throttled = client_error(_refusal("Throttling", "Rate exceeded"), "GetCallerIdentity", SETTINGS, {}, KEYS)
    assert throttled.message == "GetCallerIdentity refused: Throttling: Rate exceeded (still after 3 attempts)"
    failed = client_error(_refusal("InternalFailure", status=500), "GetCallerIdentity", SETTINGS, {}, KEYS)
    assert isinstance(failed, AwsError)
    assert failed.hint == "STS failed on its side (after retries): try again in a moment"
    other = client_error(_refusal("Weird"), "GetCallerIdentity", SETTINGS, {}, KEYS)
    assert other.message == "GetCallerIdentity refused: Weird" and other.hint == "see the AWS message above"
