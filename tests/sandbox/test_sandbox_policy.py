"""Trust-policy evaluation rules of the sandbox, one by one (the server-level tests are in test_sandbox_strict)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from rolecall.sandbox.policy import Principal, RequestContext, is_allowed

ACCOUNT = "123456789012"
ALICE = Principal(ACCOUNT, (f"arn:aws:iam::{ACCOUNT}:user/alice",))
SESSION = Principal(
    ACCOUNT, (f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/s1", f"arn:aws:iam::{ACCOUNT}:role/readonly")
)
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(
    principal: Any = None, condition: dict[str, Any] | None = None, action: Any = "sts:AssumeRole"
) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal or ROOT}, "Action": action}
    if condition:
        statement["Condition"] = condition
    return statement


def ctx(**values: str) -> RequestContext:
    return RequestContext({key.replace("__", ":").lower(): (value,) for key, value in values.items()})


def check(document: str, principal: Principal = ALICE, context: RequestContext | None = None) -> bool:
    return is_allowed(document, principal, "sts:AssumeRole", context or RequestContext({}))


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ROOT, True),
        (ACCOUNT, True),
        ("*", True),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", True),
        ([f"arn:aws:iam::{ACCOUNT}:user/bob", f"arn:aws:iam::{ACCOUNT}:user/alice"], True),
        (f"arn:aws:iam::{ACCOUNT}:user/bob", False),
        ("arn:aws:iam::210987654321:root", False),
        (f"arn:aws:iam::{ACCOUNT}:user/*", False),  # no wildcards inside principal ARNs
    ],
)
def test_principals(principal: Any, expected: bool) -> None:
    assert check(doc(allow(principal))) is expected


def test_role_principal_means_its_sessions() -> None:
    assert check(doc(allow(f"arn:aws:iam::{ACCOUNT}:role/readonly")), SESSION)
    assert check(doc(allow(f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/s1")), SESSION)
    assert not check(doc(allow(f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/other")), SESSION)
    assert not check(doc(allow(f"arn:aws:iam::{ACCOUNT}:role/readonly")), ALICE)


def test_principal_star_string_and_service_principals() -> None:
    assert check(doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}))
    service = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert not check(doc(service))


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("sts:AssumeRole", True),
        ("sts:*", True),
        ("*", True),
        ("STS:assumerole", True),
        ("sts:Assume*", True),
        ("sts:AssumeRoleWithSAML", False),
        (["sts:TagSession", "sts:AssumeRole"], True),
    ],
)
def test_actions(action: Any, expected: bool) -> None:
    assert check(doc(allow(action=action))) is expected


def test_not_action_and_not_principal() -> None:
    assert not check(doc({"Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "sts:AssumeRole"}))
    assert check(doc({"Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "sts:TagSession"}))
    not_bob = {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/bob"}, "Action": "sts:*"}
    assert check(doc(not_bob))


def test_explicit_deny_wins_and_default_is_deny() -> None:
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    assert not check(doc(allow(), deny))
    assert not check(doc())
    assert not check("not json")


def test_string_conditions_and_missing_keys() -> None:
    equals = doc(allow(condition={"StringEquals": {"sts:ExternalId": "abc"}}))
    assert check(equals, context=ctx(sts__ExternalId="abc"))
    assert not check(equals, context=ctx(sts__ExternalId="ABC"))
    assert not check(equals)  # missing key: no match
    ignore_case = doc(allow(condition={"StringEqualsIgnoreCase": {"sts:externalid": "abc"}}))
    assert check(ignore_case, context=ctx(sts__ExternalId="ABC"))
    like = doc(allow(condition={"StringLike": {"sts:ExternalId": ["x-*", "y-?"]}}))
    assert check(like, context=ctx(sts__ExternalId="x-anything"))
    assert check(like, context=ctx(sts__ExternalId="y-1"))
    assert not check(like, context=ctx(sts__ExternalId="y-12"))
    not_equals = doc(allow(condition={"StringNotEquals": {"sts:ExternalId": "abc"}}))
    assert check(not_equals)  # a negated operator holds when the key is absent
    assert not check(not_equals, context=ctx(sts__ExternalId="abc"))
    if_exists = doc(allow(condition={"StringEqualsIfExists": {"sts:ExternalId": "abc"}}))
    assert check(if_exists)
    assert not check(if_exists, context=ctx(sts__ExternalId="nope"))


def test_bool_numeric_null() -> None:
    mfa = doc(allow(condition={"Bool": {"aws:MultiFactorAuthPresent": True}}))  # JSON true works like "true"
    assert check(mfa, context=ctx(aws__MultiFactorAuthPresent="true"))
    assert not check(mfa, context=ctx(aws__MultiFactorAuthPresent="false"))
    assert not check(mfa)
    deny_without_mfa = doc(
        allow(),
        {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "sts:*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    assert not check(deny_without_mfa)
    assert check(deny_without_mfa, context=ctx(aws__MultiFactorAuthPresent="true"))
    age = doc(allow(condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}))
    assert check(age, context=ctx(aws__MultiFactorAuthAge="10"))
    assert not check(age, context=ctx(aws__MultiFactorAuthAge="3600"))
    assert not check(age, context=ctx(aws__MultiFactorAuthAge="soon"))
    null = doc(allow(condition={"Null": {"sts:ExternalId": "false"}}))
    assert check(null, context=ctx(sts__ExternalId="x"))
    assert not check(null)


def test_all_operators_and_keys_must_hold() -> None:
    both = doc(
        allow(condition={"StringEquals": {"sts:ExternalId": "abc"}, "Bool": {"aws:MultiFactorAuthPresent": "true"}})
    )
    assert not check(both, context=ctx(sts__ExternalId="abc"))
    assert check(both, context=ctx(sts__ExternalId="abc", aws__MultiFactorAuthPresent="true"))


def test_unsupported_operators_fail_closed() -> None:
    odd = {"ForAnyValue:StringEquals": {"aws:TagKeys": "x"}}
    assert not check(doc(allow(condition=odd)), context=ctx(aws__TagKeys="x"))
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*", "Condition": {"DateLessThan": {"a:b": "c"}}}
    assert not check(doc(allow(), deny))


def test_url_encoded_documents() -> None:
    assert check(urllib.parse.quote(doc(allow())))
