"""``rolecall sso sync`` end to end against the sandbox's portal: an organisation of 2,000 accounts x 3 roles,
throttling, a second run that changes nothing, comments outside the block untouched, the dry run's diff, and
the generated profiles used by rolecall and botocore."""

from __future__ import annotations

import json

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_sso import SESSION, _boto3_whoami, _env, _login

ROLES = ("AdministratorAccess", "ReadOnlyAccess", "Billing")


def test_sync_2000_accounts_with_throttling_then_nothing_changes(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    sandbox.seed_sso_organization(2000, ROLES)
    assert _login(env).returncode == 0
    config = aws_home.root / ".aws" / "config"
    before = "# my own notes, kept by sso sync\n" + config.read_text() + "\n# and a comment at the end\n"
    config.write_text(before)
    sandbox.inject_fault("ListAccountRoles", "throttle", times=5)
    sandbox.inject_fault("ListAccounts", "throttle", times=2)
    first = run_rolecall(["sso", "sync", "--sso-session", SESSION], env, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "6000 profiles for 2000 accounts" in first.stderr and "6000 added" in first.stderr
    text = config.read_text()
    begin = text.index("# BEGIN rolecall sso sync (sso-session sandbox)")
    end_marker = "# END rolecall sso sync (sso-session sandbox)\n"
    end = text.index(end_marker) + len(end_marker)
    # Outside the block, the file is what it was, byte for byte.
    assert (text[:begin] + text[end:]).rstrip("\n") == before.rstrip("\n")
    assert text[begin:end].count("[profile ") == 6000
    stat = config.stat()
    second = run_rolecall(["sso", "sync", "--sso-session", SESSION], env, timeout=600)
    assert second.returncode == 0, second.stderr
    assert "no change to" in second.stderr and "6000 unchanged" in second.stderr
    assert config.read_bytes() == text.encode() and config.stat().st_mtime_ns == stat.st_mtime_ns
    # A generated profile works, for rolecall and for botocore.
    name = text[begin:].split("[profile ", 1)[1].split("]", 1)[0]
    who = run_rolecall(["whoami", name, "--output", "json"], env)
    assert who.returncode == 0, who.stderr
    assert ":assumed-role/AWSReservedSSO_" in json.loads(who.stdout)["Arn"]
    assert _boto3_whoami(env, name)["method"] == "sso"


def test_diff_template_region_and_refusals(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    assert _login(env).returncode == 0
    config = aws_home.root / ".aws" / "config"
    original = config.read_bytes()
    dry = run_rolecall(["sso", "sync", "--sso-session", SESSION, "--diff", "--template", "{account_id}.{role_name}",
                        "--region", "eu-west-1"], env)
    assert dry.returncode == 0, dry.stderr
    assert config.read_bytes() == original  # a dry run writes nothing
    assert dry.stdout.startswith("---") and f"+[profile {sandbox.account_id}.AdministratorAccess]" in dry.stdout
    assert "+region = eu-west-1" in dry.stdout and "would change" in dry.stderr
    # A generated name that a profile outside the block already has: refused, nothing written.
    clash = run_rolecall(["sso", "sync", "--sso-session", SESSION, "--template", "sso-admin"], env)
    assert clash.returncode in (3, 8), clash.stderr
    assert config.read_bytes() == original
    bad = run_rolecall(["sso", "sync", "--sso-session", SESSION, "--template", "{nope}"], env)
    assert bad.returncode == 8 and "nope" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_rolecall(["sso", "sync", "--sso-session", "nosuch"], env)
    assert missing.returncode == 3 and 'The specified sso-session does not exist: "nosuch"' in missing.stderr
