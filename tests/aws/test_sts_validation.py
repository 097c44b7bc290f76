"""Every validation rule stops ``rolecall sts`` before a request reaches the sandbox (its call counter stays 0).

rolecall runs in-process through its real CLI entry (argument parsing, error mapping, exit codes) with the
sandbox's environment, so that a wrongly validated value would really be sent.
"""

from __future__ import annotations

import json

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env
from test_sts_oracle import run_rolecall_inprocess

__all__ = ["sandbox"]

ROLE = "arn:aws:iam::123456789012:role/readonly"
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
AR = ["sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "valid"]
GST = ["sts", "get-session-token"]


def ar(*extra: str) -> list[str]:
    return [*AR, *extra]


def tags(n: int) -> list[str]:
    return [f"Key=k{i},Value=v" for i in range(n)]


# (argv, text the one-line message must contain: the limit)
INVALID: list[tuple[list[str], str]] = [
    (ar("--duration-seconds", "899"), "between 900 and 43200"),
    (ar("--duration-seconds", "43201"), "between 900 and 43200"),
    ([*GST, "--duration-seconds", "129601"], "between 900 and 129600"),
    ([*GST, "--duration-seconds", "899"], "between 900 and 129600"),
    (["sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "x"], "2 to 64"),
    (["sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "s" * 65], "2 to 64"),
    (["sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "a/b"], "[A-Za-z0-9_+=,.@-]"),
    (ar("--external-id", "x"), "2 to 1224"),
    (ar("--external-id", "x" * 1225), "2 to 1224"),
    (ar("--external-id", "a b"), "[A-Za-z0-9_+=,.@:/-]"),
    (ar("--serial-number", "arn:aws", "--token-code", "123456"), "9 to 256"),
    (ar("--serial-number", "x" * 257, "--token-code", "123456"), "9 to 256"),
    (ar("--serial-number", SERIAL, "--token-code", "12345"), "exactly 6 digits"),
    (ar("--serial-number", SERIAL, "--token-code", "1234567"), "exactly 6 digits"),
    (ar("--serial-number", SERIAL, "--token-code", "abcdef"), "exactly 6 digits"),
    ([*GST, "--serial-number", SERIAL, "--token-code", "12345"], "exactly 6 digits"),
    (["sts", "assume-role", "--role-arn", "arn:aws:iam::1:role", "--role-session-name", "ok"], "20 to 2048"),
    (["sts", "assume-role", "--role-arn", ROLE + "x" * 2030, "--role-session-name", "ok"], "20 to 2048"),
    (["sts", "assume-role", "--role-arn", "readonly-role-in-my-account", "--role-session-name", "ok"], "not an ARN"),
    (ar("--policy-arns", *[f"arn=arn:aws:iam::aws:policy/P{i}" for i in range(11)]), "at most 10"),
    (ar("--policy-arns", "arn=ReadOnlyAccess-not-an-arn"), "not an ARN"),
    (ar("--policy-arns", "name=arn:aws:iam::aws:policy/ReadOnlyAccess"), "unknown key 'name'"),
    (ar("--policy", "{not json"), "not valid JSON"),
    (ar("--policy", json.dumps({"Pad": "x" * 2100})), "at most 2048"),
    (ar("--tags", *tags(51)), "at most 50"),
    (ar("--tags", "Key=,Value=v"), "1 to 128"),
    (ar("--tags", f"Key={'k' * 129},Value=v"), "1 to 128"),
    (ar("--tags", f"Key=k,Value={'v' * 257}"), "at most 256"),
    (ar("--tags", "Key=a#b,Value=v"), "outside letters"),
    (ar("--tags", "Key=Team,Value=a", "Key=team,Value=b"), "ignoring case"),
    (ar("--tags", "Key=k"), "exactly a Key and a Value"),
    (ar("--tags", "Key=k,Value=v,Colour=red"), "unknown key 'Colour'"),
    (ar("--tags", '[{"Key": "k", "Value": "v"'), "not valid JSON"),
    (ar("--tags", "Key=k0,Value=v", "--transitive-tag-keys", "other"), "not one of the session tags"),
    (ar("--tags", *tags(50), "--transitive-tag-keys", *[f"k{i % 50}" for i in range(51)]), "at most 50"),
    (ar("--transitive-tag-keys", "k0"), "not one of the session tags"),
    (ar("--source-identity", "a"), "2 to 64"),
    (ar("--source-identity", "a" * 65), "2 to 64"),
    (ar("--source-identity", "aws:alice"), "must not start with 'aws:'"),
    (ar("--source-identity", "alice smith"), "[A-Za-z0-9_+=,.@-]"),
]


def test_every_rule_rejects_before_sending(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    # The setup works: a valid call does reach the sandbox (so a count of 0 below means "not sent").
    assert run_rolecall_inprocess(AR, env).rc == 0
    sandbox.reset_calls()
    failures = []
    for argv, limit in INVALID:
        result = run_rolecall_inprocess(argv, env)
        line = result.stderr.strip()
        if result.rc != 8 or limit not in line or "\n" in line or "(hint: " not in line or result.stdout:
            failures.append(f"{argv[1:3]}...{argv[-2:]}: rc={result.rc} {line[:200]!r}")
    assert not failures, "\n".join(failures)
    assert sandbox.calls() == 0


@pytest.mark.parametrize(
    ("argv", "rc"),
    [
        (["sts", "assume-role", "--role-session-name", "ok"], 2),  # --role-arn is required, as in the AWS CLI
        (["sts", "assume-role", "--role-arn", ROLE, "--duration-seconds", "1h"], 2),
        (["sts", "get-caller-identity", "--query", "Arn["], 2),
        (["sts", "get-caller-identity", "--output", "yaml"], 2),
        (["sts", "get-caller-identity", "--output", "tables"], 2),
        (["sts", "get-caller-identity", "--output", "xml"], 2),
        (["sts", "decode-authorization-message"], 2),
        (["sts", "get-caller-identity", "--profile", "nobody"], 3),
    ],
)
def test_usage_and_config_errors_send_nothing(sandbox: Sandbox, aws_home: AwsHome, argv: list[str], rc: int) -> None:
    env = seeded_env(sandbox, aws_home)
    result = run_rolecall_inprocess(argv, env)
    assert result.rc == rc, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox.calls() == 0
