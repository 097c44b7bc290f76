"""``rolecall list`` shows each profile's account and region (issue 17, item 11), from the files alone (no call);
``--names`` is unchanged; on a terminal the rows fit its width (CHAIN shortened), piped every cell is whole."""

from __future__ import annotations

import json
import re
import sys

import pexpect

from conftest import AwsHome, run_rolecall
from rolecall.cli.commands.list_ import HEADER, render_table
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

EXTRA = """
[profile eu-long-chain-name]
role_arn = arn:aws:iam::210987654321:role/eu
source_profile = ops
region = eu-west-1

[profile keyed-user]
mfa_serial = arn:aws:iam::444455556666:mfa/bob
region = ap-southeast-2

[profile v2-keys]
aws_account_id = 777788889999

[profile bad-arn]
role_arn = ci
source_profile = default
"""
KEYS = """
[keyed-user]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = notasecretnotasecretnotasecretnotasecret

[v2-keys]
aws_access_key_id = AKIAIOSFODNN7EXAMPLF
aws_secret_access_key = notasecretnotasecretnotasecretnotasecret
"""


def _env(sandbox: Sandbox, aws_home: AwsHome) -> dict[str, str]:  # noqa: F811
    return seeded_env(sandbox, aws_home, config=EXTRA, credentials=KEYS)


def test_account_and_region_in_json_and_the_table(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    assert run_rolecall(["assume", "deploy"], env).returncode == 0
    calls = sandbox.calls()
    result = run_rolecall(["list", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    rows = {row["profile"]: row for row in json.loads(result.stdout)}
    got = {name: (row["account"], row["region"]) for name, row in rows.items()}
    account = sandbox.account_id
    assert got["deploy"] == (account, "us-east-1")  # role_arn's account
    assert got["sso-admin"] == (account, "us-east-1")  # sso_account_id
    assert got["eu-long-chain-name"] == ("210987654321", "eu-west-1")  # its own, not its source's
    assert got["keyed-user"] == ("444455556666", "ap-southeast-2")  # keys: the MFA device's account
    assert got["v2-keys"] == ("777788889999", None)  # aws_account_id; no region
    assert got["default"] == (None, "us-east-1")  # keys without a hint: unknown without a call
    assert got["bad-arn"] == (None, None)
    assert sandbox.calls() == calls  # no call for any of it

    table = run_rolecall(["list"], env).stdout.splitlines()
    assert table[0].split() == list(HEADER)
    line = next(line for line in table if line.startswith("eu-long-chain-name "))
    assert line.split()[:4] == ["eu-long-chain-name", "role", "210987654321", "eu-west-1"]
    assert "eu-long-chain-name -> ops -> deploy -> readonly -> default" in line  # piped: whole
    deploy = next(line for line in table if line.startswith("deploy "))
    assert deploy.split()[:4] == ["deploy", "role", account, "us-east-1"] and deploy.endswith("min left")

    one = run_rolecall(["list", "--profile", "keyed-user"], env).stdout.splitlines()
    assert [row.split()[:4] for row in one[1:]] == [["keyed-user", "keys", "444455556666", "ap-southeast-2"]]


def test_names_are_unchanged(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    names = run_rolecall(["list", "--names"], env)
    every = [row["profile"] for row in json.loads(run_rolecall(["list", "--output", "json"], env).stdout)]
    assert names.stdout == "".join(f"{name}\n" for name in every)
    assert names.stderr == ""


def test_on_a_terminal_the_rows_fit_its_width(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    env.pop("COLUMNS", None)
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "list"], env=env, encoding="utf-8", timeout=30,
                          dimensions=(50, 100))  # fmt: skip
    child.expect(pexpect.EOF)
    lines = [line for line in child.before.replace("\r", "").split("\n") if line]
    assert lines[0].split() == list(HEADER)
    assert all(len(line) <= 100 for line in lines), [len(line) for line in lines]
    long_row = next(line for line in lines if line.startswith("eu-long-chain-name "))
    assert "…" in long_row and "210987654321  eu-west-1" in long_row
    assert any(line.startswith("deploy ") and "deploy -> readonly -> default" in line for line in lines)


def test_the_chain_is_never_cut_below_its_minimum() -> None:
    row = {"profile": "p", "kind": "role", "account": "123456789012", "region": "eu-west-1", "mfa": "",
           "chain": "p -> " + " -> ".join(f"hop{n}" for n in range(20)), "cached": "", "minutes_left": None}
    narrow = render_table([row], width=40).splitlines()
    chain_cell = re.split(r"\s{2,}", narrow[1])[4]
    assert chain_cell == "p -> hop0 -…p18 -> hop19"  # 24 characters: where it starts and where it ends
    assert render_table([row], width=None).splitlines()[1].endswith("hop18 -> hop19")
    short = {**row, "chain": "p -> x"}
    assert render_table([short], width=40) == render_table([short])  # nothing to cut: no wider, no narrower
