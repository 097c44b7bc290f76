"""Local validation of STS parameters: every AWS limit, at and just past its boundary, with the limit named."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rolecall import validation
from rolecall.errors import InvalidInputError

ROLE = "arn:aws:iam::123456789012:role/readonly"
BASE: dict[str, Any] = {"RoleArn": ROLE, "RoleSessionName": "alice"}


def assume(**extra: Any) -> None:
    validation.validate_assume_role({**BASE, **extra})


def tags(n: int, prefix: str = "k") -> list[dict[str, str]]:
    return [{"Key": f"{prefix}{i}", "Value": "v"} for i in range(n)]


# (params to add to a valid AssumeRole, text the message must contain)
REJECTED: list[tuple[dict[str, Any], str]] = [
    ({"DurationSeconds": 899}, "between 900 and 43200"),
    ({"DurationSeconds": 43201}, "between 900 and 43200"),
    ({"DurationSeconds": "3600"}, "whole number"),
    ({"DurationSeconds": True}, "whole number"),
    ({"RoleSessionName": "a"}, "2 to 64"),
    ({"RoleSessionName": "a" * 65}, "2 to 64"),
    ({"RoleSessionName": "alice smith"}, "[A-Za-z0-9_+=,.@-]"),
    ({"RoleSessionName": "alice:x"}, "[A-Za-z0-9_+=,.@-]"),
    ({"RoleSessionName": "élodie"}, "[A-Za-z0-9_+=,.@-]"),
    ({"ExternalId": "x"}, "2 to 1224"),
    ({"ExternalId": "x" * 1225}, "2 to 1224"),
    ({"ExternalId": "partner ext"}, "[A-Za-z0-9_+=,.@:/-]"),
    ({"SerialNumber": "arn:aws"}, "9 to 256"),
    ({"SerialNumber": "a" * 257}, "9 to 256"),
    ({"SerialNumber": "arn:aws:iam::123456789012:mfa/a b"}, "SerialNumber"),
    ({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "12345"}, "exactly 6 digits"),
    ({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "1234567"}, "exactly 6 digits"),
    ({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "12a456"}, "exactly 6 digits"),
    ({"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "١٢٣٤٥٦"}, "exactly 6 digits"),
    ({"RoleArn": "arn:aws:iam::1:role"}, "20 to 2048"),
    ({"RoleArn": "arn:aws:iam::123456789012:role/" + "r" * 2030}, "20 to 2048"),
    ({"RoleArn": "readonly-role-of-the-account"}, "not an ARN"),
    ({"RoleArn": None}, "needs RoleArn"),
    ({"RoleSessionName": None}, "needs RoleSessionName"),
    ({"PolicyArns": [{"arn": f"arn:aws:iam::aws:policy/P{i}"} for i in range(11)]}, "at most 10"),
    ({"PolicyArns": [{"ARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]}, "{arn: ARN}"),
    ({"PolicyArns": [{"arn": "ReadOnlyAccess-policy-name"}]}, "not an ARN"),
    ({"Policy": "{not json"}, "not valid JSON"),
    ({"Policy": "[1, 2]"}, "JSON object"),
    ({"Policy": json.dumps({"Version": "2012-10-17", "Statement": [], "Pad": "x" * 2100})}, "at most 2048"),
    ({"Policy": '{"Sid": "\u0100"}'}, "U+0100"),
    ({"Tags": tags(51)}, "at most 50"),
    ({"Tags": [{"Key": "", "Value": "v"}]}, "1 to 128"),
    ({"Tags": [{"Key": "k" * 129, "Value": "v"}]}, "1 to 128"),
    ({"Tags": [{"Key": "k", "Value": "v" * 257}]}, "at most 256"),
    ({"Tags": [{"Key": "team#1", "Value": "v"}]}, "outside letters"),
    ({"Tags": [{"Key": "k", "Value": "a;b"}]}, "outside letters"),
    ({"Tags": [{"Key": "Team", "Value": "a"}, {"Key": "team", "Value": "b"}]}, "ignoring case"),
    ({"Tags": [{"Key": "k"}]}, "exactly a Key and a Value"),
    ({"Tags": tags(2), "TransitiveTagKeys": ["k0", "other"]}, "not one of the session tags"),
    ({"Tags": tags(50), "TransitiveTagKeys": [f"k{i % 50}" for i in range(51)]}, "at most 50"),
    ({"TransitiveTagKeys": ["k0"]}, "not one of the session tags"),
    ({"SourceIdentity": "a"}, "2 to 64"),
    ({"SourceIdentity": "a" * 65}, "2 to 64"),
    ({"SourceIdentity": "aws:alice"}, "must not start with 'aws:'"),
    ({"SourceIdentity": "AWS:alice"}, "must not start with 'aws:'"),
    ({"SourceIdentity": "alice smith"}, "[A-Za-z0-9_+=,.@-]"),
    ({"Unknown": 1}, "no parameter Unknown"),
]

ACCEPTED: list[dict[str, Any]] = [
    {"DurationSeconds": 900},
    {"DurationSeconds": 43200},
    {"RoleSessionName": "ab"},
    {"RoleSessionName": "a" * 64},
    {"RoleSessionName": "alice_smith+=,.@-1"},
    {"ExternalId": "xy"},
    {"ExternalId": "partner-ext-42:/=+,.@_"},
    {"ExternalId": "x" * 1224},
    {"SerialNumber": "GAHT12345"},
    {"SerialNumber": "arn:aws:iam::123456789012:mfa/alice", "TokenCode": "012345"},
    {"RoleArn": "arn:aws:iam::123456789012:role/" + "r" * (2048 - 31)},
    {"RoleArn": "arn:aws-cn:iam::123456789012:role/path/to/role"},
    {"PolicyArns": [{"arn": f"arn:aws:iam::aws:policy/P{i}"} for i in range(10)]},
    {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})},
    {"Policy": json.dumps({"Pad": "é" * 2030}, ensure_ascii=False)},
    {"Tags": tags(50)},
    {"Tags": [{"Key": "k" * 128, "Value": "v" * 256}]},
    {"Tags": [{"Key": "Équipe données", "Value": ""}]},
    {"Tags": [{"Key": "cost:center/=+-@_.", "Value": "42 ü"}]},
    {"Tags": tags(3), "TransitiveTagKeys": ["K0", "k2"]},
    {"SourceIdentity": "ab"},
    {"SourceIdentity": "alice@example.com"},
    {"SourceIdentity": "a" * 64},
]


@pytest.mark.parametrize(("extra", "named"), REJECTED, ids=[f"reject-{i}" for i in range(len(REJECTED))])
def test_assume_role_rejects_beyond_the_limit(extra: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        assume(**extra)
    assert named in caught.value.message
    assert caught.value.hint


@pytest.mark.parametrize("extra", ACCEPTED, ids=[f"accept-{i}" for i in range(len(ACCEPTED))])
def test_assume_role_accepts_up_to_the_limit(extra: dict[str, Any]) -> None:
    assume(**extra)


def test_get_session_token_allows_36_hours_but_not_more() -> None:
    validation.validate_get_session_token({"DurationSeconds": 129600})
    validation.validate_get_session_token({})
    with pytest.raises(InvalidInputError, match="between 900 and 129600"):
        validation.validate_get_session_token({"DurationSeconds": 129601})
    with pytest.raises(InvalidInputError, match="no parameter RoleArn"):
        validation.validate_get_session_token({"RoleArn": ROLE})
    with pytest.raises(InvalidInputError, match="exactly 6 digits"):
        validation.validate_get_session_token({"SerialNumber": "arn:aws:iam::123456789012:mfa/a", "TokenCode": "1"})


def test_web_identity_token_length_and_no_echo() -> None:
    good = {"RoleArn": ROLE, "RoleSessionName": "ci", "WebIdentityToken": "eyJ0"}
    validation.validate_assume_role_with_web_identity(good)
    with pytest.raises(InvalidInputError) as caught:
        validation.validate_assume_role_with_web_identity({**good, "WebIdentityToken": "abc"})
    assert "4 to 20000" in caught.value.message and "abc" not in caught.value.message


@pytest.mark.parametrize("code", ["98765", "9876543", "98a765", " 98765"])
def test_token_code_never_in_the_message(code: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        assume(SerialNumber="arn:aws:iam::123456789012:mfa/alice", TokenCode=code)
    assert code.strip() not in caught.value.message
    assert code.strip() not in (caught.value.hint or "")


SESSION_PATTERN = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)


@given(st.text(max_size=100))
def test_sanitized_session_names_are_always_valid(text: str) -> None:
    name = validation.sanitize_session_name(text)
    assert SESSION_PATTERN.fullmatch(name)
    validation.check_role_session_name(name)


@given(st.from_regex(SESSION_PATTERN, fullmatch=True))
def test_valid_session_names_are_kept_as_they_are(name: str) -> None:
    assert validation.sanitize_session_name(name) == name
    assert validation.check_role_session_name(name) == name
