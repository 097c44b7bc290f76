"""`rolecall list`: profiles, their source chains, and how long their cached role sessions last."""

from __future__ import annotations

import json

from conftest import run_rolecall
from rolecall.sandbox import Sandbox


def test_list_shows_chains_and_what_is_cached(sandbox: Sandbox, sandbox_env: dict[str, str]) -> None:
    env = sandbox_env
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write("[profile loop-a]\nrole_arn = arn:aws:iam::123456789012:role/x\nsource_profile = loop-b\n"
                     "[profile loop-b]\nrole_arn = arn:aws:iam::123456789012:role/y\nsource_profile = loop-a\n")
    assert run_rolecall(["assume", "deploy"], env).returncode == 0
    calls = sandbox.calls()
    result = run_rolecall(["list", "--output", "json"], env)
    assert result.returncode == 0, result.stderr
    rows = {row["profile"]: row for row in json.loads(result.stdout)}
    assert list(rows)[:6] == ["default", "readonly", "admin", "partner", "deploy", "ops"]  # the AWS CLI's order
    assert rows["ops"]["chain"] == "ops -> deploy -> readonly -> default"
    assert rows["admin"]["mfa"] == sandbox.mfa_serial
    assert 55 <= rows["deploy"]["minutes_left"] <= 60  # cached by the assume above (both hops)
    assert 55 <= rows["readonly"]["minutes_left"] <= 60
    assert rows["ops"]["minutes_left"] is None and rows["partner"]["minutes_left"] is None
    assert rows["loop-a"]["cached"].startswith("error: profile chain loops")
    assert sandbox.calls() == calls  # listing makes no STS call and asks for nothing

    table = run_rolecall(["list"], env)
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["PROFILE", "KIND", "ACCOUNT", "REGION", "CHAIN", "MFA", "CACHED"]
    assert any(line.startswith("deploy") and "min left" in line for line in table.stdout.splitlines())

    names = run_rolecall(["list", "--names"], env)
    assert names.stdout.split() == list(rows)
