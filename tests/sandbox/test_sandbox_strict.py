"""Every strictness rule: plain moto accepts the call, the sandbox refuses it exactly as AWS does.

The plain moto server runs in the same process and shares moto's backends, so it sees the same
seeded account; the difference between the two answers is the strictness layer alone.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from rolecall.sandbox import Sandbox, trust_policy
from sandbox_helpers import alice, from_credentials, not_authorized, plain_moto_url, rejected

pytest_plugins = ["sandbox_fixtures"]

ACCOUNT = "123456789012"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
MFA_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."
MFA_BOTH = "MultiFactorAuthentication failed, must provide both MFA serial number and one time pass code."
MFA_UNKNOWN = (
    "MultiFactorAuthentication failed, unable to validate MFA code.  "
    "Please verify your MFA serial number is valid and associated with this user."
)
CHAINING = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
MAX_SESSION = "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."


def wrong_code(sb: Sandbox) -> str:
    """A 6-digit code that is not valid for alice's device now (nor one step either side)."""
    now = time.time()
    valid = {sb.totp(now + offset) for offset in (-30, 0, 30)}
    return next(code for code in ("000000", "111111", "123456", "654321") if code not in valid)


def assume(client: Any, sb: Sandbox, role: str, **kwargs: Any) -> Any:
    kwargs.setdefault("RoleSessionName", "test")
    return client.assume_role(RoleArn=sb.role_arn(role), **kwargs)


def both(sb: Sandbox, call: Any, code: str, message: str, status: int) -> None:
    """``call(client)`` succeeds against plain moto and is refused by the sandbox as AWS refuses it."""
    assert call(alice(sb, plain_moto_url()))["ResponseMetadata"]["HTTPStatusCode"] == 200
    rejected(lambda: call(alice(sb)), code, message, status)


# ---------------------------------------------------------------------- MFA codes


def test_wrong_mfa_code(sandbox: Sandbox) -> None:
    code = wrong_code(sandbox)
    both(
        sandbox,
        lambda c: assume(c, sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=code),
        "AccessDenied",
        MFA_INVALID,
        403,
    )


def test_valid_code_accepted_once(sandbox: Sandbox) -> None:
    code = sandbox.fresh_code()
    answer = assume(alice(sandbox), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=code)
    assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/test"
    # Plain moto takes the same code any number of times; AWS and the sandbox only once.
    for _ in range(2):
        assume(alice(sandbox, plain_moto_url()), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=code)
    rejected(
        lambda: assume(alice(sandbox), sandbox, "readonly", SerialNumber=sandbox.mfa_serial, TokenCode=code),
        "AccessDenied",
        MFA_INVALID,
        403,
    )


def test_replay_rejected_across_actions(sandbox: Sandbox) -> None:
    code = sandbox.fresh_code()
    alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=code)
    rejected(
        lambda: alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=code),
        "AccessDenied",
        MFA_INVALID,
        403,
    )


def test_one_step_of_drift_either_way_is_accepted_two_are_not(sandbox: Sandbox) -> None:
    if time.time() % 30 > 26:  # too close to a step boundary for "previous"/"following" to stay valid: wait
        time.sleep(30 - time.time() % 30 + 0.1)
    now = time.time()
    previous, following, stale = sandbox.totp(now - 30), sandbox.totp(now + 30), sandbox.totp(now - 90)
    for code in (previous, following):
        assume(alice(sandbox), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=code)
    if stale in {sandbox.totp(now + offset) for offset in (-30, 0, 30)}:
        pytest.skip("code collision")
    both(
        sandbox,
        lambda c: assume(c, sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=stale),
        "AccessDenied",
        MFA_INVALID,
        403,
    )


def test_fresh_code_never_returns_a_used_code(sandbox: Sandbox) -> None:
    first = sandbox.fresh_code()
    assume(alice(sandbox), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=first)
    second = sandbox.fresh_code()
    assert second != first
    assume(alice(sandbox), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=second)


@pytest.mark.parametrize("give", ["serial", "code"])
def test_serial_and_code_come_together(sandbox: Sandbox, give: str) -> None:
    args = {"SerialNumber": sandbox.mfa_serial} if give == "serial" else {"TokenCode": sandbox.fresh_code()}
    both(sandbox, lambda c: assume(c, sandbox, "readonly", **args), "AccessDenied", MFA_BOTH, 403)
    both(sandbox, lambda c: c.get_session_token(**args), "AccessDenied", MFA_BOTH, 403)


def test_unknown_or_foreign_mfa_device(sandbox: Sandbox) -> None:
    code = sandbox.fresh_code()
    both(
        sandbox,
        lambda c: assume(c, sandbox, "admin", SerialNumber=f"arn:aws:iam::{ACCOUNT}:mfa/nobody", TokenCode=code),
        "AccessDenied",
        MFA_UNKNOWN,
        403,
    )
    bob = sandbox.create_user("bob", with_mfa=True)
    both(
        sandbox,
        lambda c: c.get_session_token(SerialNumber=bob.mfa_serial, TokenCode=sandbox.totp(user=bob)),
        "AccessDenied",
        MFA_UNKNOWN,
        403,
    )


def test_token_code_must_be_six_digits(sandbox: Sandbox) -> None:
    message = (
        "1 validation error detected: Value 'abcdef' at 'tokenCode' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\d]*"
    )
    both(
        sandbox,
        lambda c: assume(c, sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode="abcdef"),
        "ValidationError",
        message,
        400,
    )
    message = (
        "1 validation error detected: Value '1234567' at 'tokenCode' failed to satisfy constraint: "
        "Member must have length less than or equal to 6"
    )
    both(
        sandbox,
        lambda c: c.get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode="1234567"),
        "ValidationError",
        message,
        400,
    )


# ---------------------------------------------------------------------- trust policies


def test_mfa_required_by_trust_policy(sandbox: Sandbox) -> None:
    both(
        sandbox,
        lambda c: assume(c, sandbox, "admin"),
        "AccessDenied",
        not_authorized(ALICE, sandbox.role_arn("admin")),
        403,
    )


def test_session_token_with_mfa_carries_mfa_into_assume_role(sandbox: Sandbox) -> None:
    session = alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())
    as_session = from_credentials(sandbox.endpoint_url, session["Credentials"])
    # One code, several roles: this is what the "reuse" MFA strategy relies on.
    for name in ("admin", "readonly", "admin"):
        answer = assume(as_session, sandbox, name, RoleSessionName=f"via-{name}")
        assert answer["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/via-{name}"


def test_session_token_without_mfa_does_not(sandbox: Sandbox) -> None:
    session = alice(sandbox).get_session_token()["Credentials"]
    rejected(
        lambda: assume(from_credentials(sandbox.endpoint_url, session), sandbox, "admin"),
        "AccessDenied",
        not_authorized(ALICE, sandbox.role_arn("admin")),
        403,
    )


def test_role_session_made_with_mfa_keeps_it_for_chaining(sandbox: Sandbox) -> None:
    sandbox.create_role(
        "mfa-chain", trust_policy(sandbox.role_arn("admin"), {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    )
    sandbox.create_role(
        "mfa-chain-2", trust_policy(sandbox.role_arn("readonly"), {"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    )
    admin = assume(alice(sandbox), sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())
    assume(from_credentials(sandbox.endpoint_url, admin["Credentials"]), sandbox, "mfa-chain")
    readonly = assume(alice(sandbox), sandbox, "readonly")["Credentials"]
    rejected(
        lambda: assume(from_credentials(sandbox.endpoint_url, readonly), sandbox, "mfa-chain-2"),
        "AccessDenied",
        not_authorized(f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/test", sandbox.role_arn("mfa-chain-2")),
        403,
    )


def test_external_id(sandbox: Sandbox) -> None:
    denied = not_authorized(ALICE, sandbox.role_arn("partner"))
    both(sandbox, lambda c: assume(c, sandbox, "partner"), "AccessDenied", denied, 403)
    both(sandbox, lambda c: assume(c, sandbox, "partner", ExternalId="partner-ext-41"), "AccessDenied", denied, 403)
    assume(alice(sandbox), sandbox, "partner", ExternalId="partner-ext-42")


def test_external_id_constraints(sandbox: Sandbox) -> None:
    message = (
        "1 validation error detected: Value 'has space' at 'externalId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*"
    )
    both(sandbox, lambda c: assume(c, sandbox, "partner", ExternalId="has space"), "ValidationError", message, 400)
    long_id = "x" * 1225
    message = (
        f"1 validation error detected: Value '{long_id}' at 'externalId' failed to satisfy constraint: "
        "Member must have length less than or equal to 1224"
    )
    both(sandbox, lambda c: assume(c, sandbox, "partner", ExternalId=long_id), "ValidationError", message, 400)


def test_role_trusting_another_account_and_unknown_roles(sandbox: Sandbox) -> None:
    both(
        sandbox,
        lambda c: assume(c, sandbox, "denied"),
        "AccessDenied",
        not_authorized(ALICE, sandbox.role_arn("denied")),
        403,
    )
    missing = sandbox.role_arn("no-such-role")
    both(
        sandbox,
        lambda c: c.assume_role(RoleArn=missing, RoleSessionName="x1"),
        "AccessDenied",
        not_authorized(ALICE, missing),
        403,
    )
    elsewhere = "arn:aws:iam::210987654321:role/admin"
    both(
        sandbox,
        lambda c: c.assume_role(RoleArn=elsewhere, RoleSessionName="x1"),
        "AccessDenied",
        not_authorized(ALICE, elsewhere),
        403,
    )


def test_explicit_deny_wins(sandbox: Sandbox) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": ALICE}, "Action": "sts:*"},
        ],
    }
    arn = sandbox.create_role("deny-alice", document)
    both(
        sandbox,
        lambda c: c.assume_role(RoleArn=arn, RoleSessionName="x1"),
        "AccessDenied",
        not_authorized(ALICE, arn),
        403,
    )
    # The Deny names alice only: her readonly session is another principal and is let in.
    readonly = assume(alice(sandbox), sandbox, "readonly")["Credentials"]
    from_credentials(sandbox.endpoint_url, readonly).assume_role(RoleArn=arn, RoleSessionName="x2")


def test_exact_principals_and_wildcard(sandbox: Sandbox) -> None:
    star = sandbox.create_role("anyone", trust_policy("*"))
    exact = sandbox.create_role("only-alice", trust_policy(ALICE))
    other = sandbox.create_role("only-carol", trust_policy(f"arn:aws:iam::{ACCOUNT}:user/carol"))
    alice(sandbox).assume_role(RoleArn=star, RoleSessionName="x1")
    alice(sandbox).assume_role(RoleArn=exact, RoleSessionName="x1")
    both(
        sandbox,
        lambda c: c.assume_role(RoleArn=other, RoleSessionName="x1"),
        "AccessDenied",
        not_authorized(ALICE, other),
        403,
    )
    # A user ARN principal does not extend to that user's role sessions.
    readonly = assume(alice(sandbox), sandbox, "readonly")["Credentials"]
    rejected(
        lambda: from_credentials(sandbox.endpoint_url, readonly).assume_role(RoleArn=exact, RoleSessionName="x1"),
        "AccessDenied",
        not_authorized(f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/test", exact),
        403,
    )


def test_role_chains_follow_trust(sandbox: Sandbox) -> None:
    # deploy trusts the readonly role's sessions only, ops trusts deploy's only.
    both(
        sandbox,
        lambda c: assume(c, sandbox, "deploy"),
        "AccessDenied",
        not_authorized(ALICE, sandbox.role_arn("deploy")),
        403,
    )
    readonly = assume(alice(sandbox), sandbox, "readonly", RoleSessionName="hop1")["Credentials"]
    deploy = assume(from_credentials(sandbox.endpoint_url, readonly), sandbox, "deploy", RoleSessionName="hop2")
    assert deploy["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deploy/hop2"
    ops = assume(from_credentials(sandbox.endpoint_url, deploy["Credentials"]), sandbox, "ops", RoleSessionName="hop3")
    identity = from_credentials(sandbox.endpoint_url, ops["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/hop3"
    rejected(
        lambda: assume(from_credentials(sandbox.endpoint_url, readonly), sandbox, "ops"),
        "AccessDenied",
        not_authorized(f"arn:aws:sts::{ACCOUNT}:assumed-role/readonly/hop1", sandbox.role_arn("ops")),
        403,
    )


def test_mfa_age_condition(sandbox: Sandbox) -> None:
    arn = sandbox.create_role(
        "recent-mfa", trust_policy(f"arn:aws:iam::{ACCOUNT}:root", {"NumericLessThan": {"aws:MultiFactorAuthAge": "2"}})
    )
    session = alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())
    as_session = from_credentials(sandbox.endpoint_url, session["Credentials"])
    as_session.assume_role(RoleArn=arn, RoleSessionName="young")
    time.sleep(2.2)
    rejected(
        lambda: as_session.assume_role(RoleArn=arn, RoleSessionName="old"),
        "AccessDenied",
        not_authorized(ALICE, arn),
        403,
    )
    # Without MFA the key is absent, so NumericLessThan does not match either.
    both(
        sandbox,
        lambda c: c.assume_role(RoleArn=arn, RoleSessionName="none"),
        "AccessDenied",
        not_authorized(ALICE, arn),
        403,
    )


# ---------------------------------------------------------------------- durations


def test_max_session_duration_of_the_role(sandbox: Sandbox) -> None:
    both(sandbox, lambda c: assume(c, sandbox, "readonly", DurationSeconds=3601), "ValidationError", MAX_SESSION, 400)
    answer = assume(
        alice(sandbox),
        sandbox,
        "admin",
        SerialNumber=sandbox.mfa_serial,
        TokenCode=sandbox.fresh_code(),
        DurationSeconds=43200,
    )
    left = answer["Credentials"]["Expiration"].timestamp() - time.time()
    assert 43100 < left <= 43200


def test_duration_above_twelve_hours(sandbox: Sandbox) -> None:
    message = (
        "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 43200"
    )
    both(
        sandbox,
        lambda c: assume(
            c, sandbox, "admin", SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code(), DurationSeconds=43201
        ),
        "ValidationError",
        message,
        400,
    )


def test_role_chaining_is_capped_at_one_hour(sandbox: Sandbox) -> None:
    readonly = assume(alice(sandbox), sandbox, "readonly")["Credentials"]
    as_readonly = from_credentials(sandbox.endpoint_url, readonly)
    as_readonly_plain = from_credentials(plain_moto_url(), readonly)
    # deploy allows 12 h, but not to a caller holding role credentials.
    assume(as_readonly_plain, sandbox, "deploy", DurationSeconds=7200)
    rejected(lambda: assume(as_readonly, sandbox, "deploy", DurationSeconds=7200), "ValidationError", CHAINING, 400)
    assume(as_readonly, sandbox, "deploy", DurationSeconds=3600)


def test_assume_role_from_session_token_is_chaining_too(sandbox: Sandbox) -> None:
    session = alice(sandbox).get_session_token(SerialNumber=sandbox.mfa_serial, TokenCode=sandbox.fresh_code())
    as_session = from_credentials(sandbox.endpoint_url, session["Credentials"])
    rejected(lambda: assume(as_session, sandbox, "admin", DurationSeconds=3601), "ValidationError", CHAINING, 400)
    left = assume(as_session, sandbox, "admin")["Credentials"]["Expiration"].timestamp() - time.time()
    assert 3500 < left <= 3600


def test_get_session_token_limits(sandbox: Sandbox) -> None:
    message = (
        "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: "
        "Member must have value less than or equal to 129600"
    )
    both(sandbox, lambda c: c.get_session_token(DurationSeconds=129601), "ValidationError", message, 400)
    left = (
        alice(sandbox).get_session_token(DurationSeconds=129600)["Credentials"]["Expiration"].timestamp() - time.time()
    )
    assert 129500 < left <= 129600


def test_get_session_token_refused_with_temporary_credentials(sandbox: Sandbox) -> None:
    message = "Cannot call GetSessionToken with session credentials"
    readonly = assume(alice(sandbox), sandbox, "readonly")["Credentials"]
    from_credentials(plain_moto_url(), readonly).get_session_token()
    rejected(lambda: from_credentials(sandbox.endpoint_url, readonly).get_session_token(), "AccessDenied", message, 403)
    session = alice(sandbox).get_session_token()["Credentials"]
    rejected(lambda: from_credentials(sandbox.endpoint_url, session).get_session_token(), "AccessDenied", message, 403)


# ---------------------------------------------------------------------- session names


def test_session_name_pattern(sandbox: Sandbox) -> None:
    message = (
        "1 validation error detected: Value 'has space' at 'roleSessionName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )
    both(
        sandbox, lambda c: assume(c, sandbox, "readonly", RoleSessionName="has space"), "ValidationError", message, 400
    )
    # Non-ASCII letters are not \w for AWS (Java's ASCII class).
    both(
        sandbox,
        lambda c: assume(c, sandbox, "readonly", RoleSessionName="josé"),
        "ValidationError",
        message.replace("has space", "josé"),
        400,
    )
    assume(alice(sandbox), sandbox, "readonly", RoleSessionName="Al1ce+=,.@-_x")


def test_session_name_length_and_all_errors_at_once(sandbox: Sandbox) -> None:
    name = "a b" + "c" * 62  # 65 characters and a space: two violations, reported together
    message = (
        f"2 validation errors detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: "
        f"Member must have length less than or equal to 64; Value '{name}' at 'roleSessionName' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
    )
    # moto checks the length too, but with a different message: the sandbox must say it AWS's way.
    rejected(lambda: assume(alice(sandbox), sandbox, "readonly", RoleSessionName=name), "ValidationError", message, 400)
    assume(alice(sandbox), sandbox, "readonly", RoleSessionName="x" * 64)


def test_minimums_are_checked_by_the_service_too(sandbox: Sandbox) -> None:
    # botocore checks minimums before sending; a client that does not (here: validation off) meets the service's.
    from botocore.config import Config

    def unvalidated(endpoint: str) -> Any:
        import boto3

        return boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id=sandbox.access_key_id,
            aws_secret_access_key=sandbox.secret_access_key,
            config=Config(parameter_validation=False),
        )

    def call(endpoint: str, **kwargs: Any) -> Any:
        return unvalidated(endpoint).assume_role(**kwargs)

    plain = plain_moto_url()
    cases = [
        (
            {"RoleArn": sandbox.role_arn("readonly"), "RoleSessionName": "a", "DurationSeconds": 600},
            "2 validation errors detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must "
            "have length greater than or equal to 2; Value '600' at 'durationSeconds' failed to satisfy constraint: "
            "Member must have value greater than or equal to 900",
        ),
        (
            {"RoleArn": sandbox.role_arn("readonly")},
            "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: "
            "Member must not be null",
        ),
        (
            {"RoleArn": "arn:aws:iam::1:r/x", "RoleSessionName": "ok"},
            "1 validation error detected: Value 'arn:aws:iam::1:r/x' at 'roleArn' failed to satisfy constraint: "
            "Member must have length greater than or equal to 20",
        ),
    ]
    for kwargs, message in cases:
        if "RoleSessionName" in kwargs:  # moto itself crashes on a missing session name: compare only the others
            assert call(plain, **kwargs)["ResponseMetadata"]["HTTPStatusCode"] == 200
        rejected(lambda kwargs=kwargs: call(sandbox.endpoint_url, **kwargs), "ValidationError", message, 400)
    message = (
        "2 validation errors detected: Value '12' at 'serialNumber' failed to satisfy constraint: Member must have "
        "length greater than or equal to 9; Value '123' at 'tokenCode' failed to satisfy constraint: Member must "
        "have length greater than or equal to 6"
    )
    assert unvalidated(plain).get_session_token(SerialNumber="12", TokenCode="123")
    rejected(
        lambda: unvalidated(sandbox.endpoint_url).get_session_token(SerialNumber="12", TokenCode="123"),
        "ValidationError",
        message,
        400,
    )
