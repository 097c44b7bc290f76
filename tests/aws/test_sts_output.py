"""``rolecall sts ...`` prints what ``aws sts ...`` prints, byte for byte (the real CLI as a subprocess).

Only the credential values and the expiry time can differ between two calls; they are replaced by
placeholders before comparing. The timestamp *format* is compared too: with ``cli_timestamp_format =
iso8601`` and ``none`` both tools must print the same shape; with nothing configured rolecall prints the AWS CLI
v2 form (``+00:00``) where the AWS CLI v1 prints the wire form (``Z``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env
from test_sts_oracle import AwsCliRunner

__all__ = ["sandbox"]

VOLATILE = re.compile(r'"(AccessKeyId|SecretAccessKey|SessionToken|Expiration)": "[^"]*"')
ISO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+00:00$")
WIRE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


@pytest.fixture(scope="module")
def aws_cli() -> Iterator[AwsCliRunner]:
    runner = AwsCliRunner()
    yield runner
    runner.close()


def masked(text: str) -> str:
    return VOLATILE.sub(lambda m: f'"{m.group(1)}": "<{m.group(1)}>"', text)


def expiration(text: str) -> str:
    value = json.loads(text)["Credentials"]["Expiration"]
    assert isinstance(value, str)
    return value


def _seeded_env_with_timestamps(sb: Sandbox, home: AwsHome, timestamp_format: str | None) -> dict[str, str]:
    """The sandbox's seeded files and environment, with ``cli_timestamp_format`` in [default] when given."""
    env = seeded_env(sb, home)
    if timestamp_format is not None:
        config = Path(env["AWS_CONFIG_FILE"])
        config.write_text(
            config.read_text().replace("[default]\n", f"[default]\ncli_timestamp_format = {timestamp_format}\n")
        )
    return env


CALLS = {
    "assume-role": lambda sb: [
        "sts", "assume-role", "--role-arn", sb.role_arn("readonly"), "--role-session-name", "out",
    ],
    "assume-role-tags": lambda sb: [
        "sts", "assume-role", "--role-arn", sb.role_arn("readonly"), "--role-session-name", "out",
        "--source-identity", "alice", "--tags", "Key=team,Value=blue", "--duration-seconds", "900",
    ],
    "get-session-token": lambda sb: ["sts", "get-session-token"],
    "get-caller-identity": lambda sb: ["sts", "get-caller-identity"],
}  # fmt: skip


@pytest.mark.parametrize("timestamp_format", [None, "iso8601", "none"])
def test_json_output_is_the_aws_clis(
    sandbox: Sandbox, aws_home: AwsHome, aws_cli: AwsCliRunner, timestamp_format: str | None
) -> None:
    env = _seeded_env_with_timestamps(sandbox, aws_home, timestamp_format)
    for name, make in CALLS.items():
        args = make(sandbox)
        theirs = aws_cli(args, env)
        ours = run_rolecall(args, env)  # the installed entry point, in a subprocess
        assert (theirs.rc, ours.returncode) == (0, 0), (name, theirs.stderr, ours.stderr)
        assert masked(ours.stdout) == masked(theirs.stdout), name
        assert ours.stdout.endswith("}\n") and '\n    "' in ours.stdout
        if "Credentials" not in ours.stdout:
            assert ours.stdout == theirs.stdout  # nothing volatile at all: identical
            continue
        mine, cli = expiration(ours.stdout), expiration(theirs.stdout)
        if timestamp_format == "none":
            assert WIRE.match(mine) and WIRE.match(cli), (mine, cli)
        elif timestamp_format == "iso8601":
            assert ISO_OFFSET.match(mine) and ISO_OFFSET.match(cli), (mine, cli)
        else:
            # rolecall follows the AWS CLI v2 default; the CLI v1 prints the wire form.
            assert ISO_OFFSET.match(mine) and WIRE.match(cli), (mine, cli)
        # Either way it is the session's real expiry, about an hour (12 h for a session token) from now.
        moment = dt.datetime.fromisoformat(mine.replace("Z", "+00:00"))
        left = moment - dt.datetime.now(dt.timezone.utc)
        assert dt.timedelta(minutes=10) < left < dt.timedelta(hours=13)


@pytest.mark.parametrize(
    "extra",
    [
        ["--output", "text"],
        ["--query", "Account"],
        ["--query", "[Account, Arn]", "--output", "text"],
        ["--query", "{who: Arn}"],
        ["--query", "Nothing"],
        ["--query", "Nothing", "--output", "text"],
        ["--output", "table"],
        ["--query", "Arn", "--output", "table"],
        ["--output", "table", "--color", "off", "--no-paginate"],
    ],
)
def test_text_output_and_query_are_the_aws_clis(
    sandbox: Sandbox, aws_home: AwsHome, aws_cli: AwsCliRunner, extra: list[str]
) -> None:
    env = _seeded_env_with_timestamps(sandbox, aws_home, None)
    args = ["sts", "get-caller-identity", *extra]
    theirs, ours = aws_cli(args, env), run_rolecall(args, env)
    assert (theirs.rc, ours.returncode) == (0, 0), (theirs.stderr, ours.stderr)
    assert ours.stdout == theirs.stdout


def test_assume_role_table_output_is_the_aws_clis(sandbox: Sandbox, aws_home: AwsHome, aws_cli: AwsCliRunner) -> None:
    env = {**_seeded_env_with_timestamps(sandbox, aws_home, None), "AWS_DEFAULT_OUTPUT": "table"}
    args = [*CALLS["assume-role-tags"](sandbox), "--query", "{user: AssumedRoleUser, who: SourceIdentity}"]
    theirs, ours = aws_cli(args, env), run_rolecall(args, env)
    assert (theirs.rc, ours.returncode) == (0, 0), (theirs.stderr, ours.stderr)
    assert ours.stdout == theirs.stdout and "AssumeRole" in ours.stdout


def test_assume_role_text_output_has_the_aws_clis_lines(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = _seeded_env_with_timestamps(sandbox, aws_home, "iso8601")
    args = [*CALLS["assume-role-tags"](sandbox), "--output", "text"]
    theirs, ours = run_aws(args, env), run_rolecall(args, env)
    assert (theirs.returncode, ours.returncode) == (0, 0), (theirs.stderr, ours.stderr)

    def shape(text: str) -> list[list[str]]:
        rows = [line.split("\t") for line in text.splitlines()]
        # CREDENTIALS  key  expiration  secret  token: keep the row name and the column count only.
        return [[row[0], str(len(row))] if row[0] == "CREDENTIALS" else row for row in rows]

    assert shape(ours.stdout) == shape(theirs.stdout)
    assert ours.stdout.startswith("900\t") or "ASSUMEDROLEUSER" in ours.stdout


def test_default_session_name_is_user_and_date(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = {**_seeded_env_with_timestamps(sandbox, aws_home, None), "USER": "Jean Dupont", "LOGNAME": "Jean Dupont"}
    before = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
    ours = run_rolecall(["sts", "assume-role", "--role-arn", sandbox.role_arn("readonly")], env)
    after = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")  # the call may straddle midnight
    assert ours.returncode == 0, ours.stderr
    arn = json.loads(ours.stdout)["AssumedRoleUser"]["Arn"]
    prefix = f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/Jean-Dupont-"
    assert arn in {prefix + before, prefix + after}


def test_parameters_from_files(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:
    env = _seeded_env_with_timestamps(sandbox, aws_home, None)
    policy = tmp_path / "policy.json"
    policy.write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
    )
    tags = tmp_path / "tags.json"
    tags.write_text('[{"Key": "team", "Value": "blue"}]')
    args = [
        "sts", "assume-role", "--role-arn", sandbox.role_arn("readonly"), "--role-session-name", "files",
        "--policy", f"file://{policy}", "--tags", f"file://{tags}", "--query", "PackedPolicySize",
    ]  # fmt: skip
    theirs, ours = run_aws(args, env), run_rolecall(args, env)
    assert (theirs.returncode, ours.returncode) == (0, 0), (theirs.stderr, ours.stderr)
    assert ours.stdout == theirs.stdout
    missing = run_rolecall([*args[:-4], "--policy", f"file://{tmp_path / 'nope.json'}"], env)
    assert missing.returncode == 7 and "nope.json" in missing.stderr
