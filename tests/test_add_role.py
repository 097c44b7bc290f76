"""``rolecall add-role`` (issue 12): the wizard in a real terminal writes a profile the real AWS CLI then uses
against the sandbox; the MFA device is found with iam ListMFADevices; the role is assumed once before anything is
written; every question has a flag; refusals are one line."""

from __future__ import annotations

import sys

import pexpect

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture


def _env(sb: Sandbox, home: AwsHome) -> dict[str, str]:
    env = dict(home.env)
    env.update(sb.write_aws_files(home.root))
    return env


def test_the_wizard_in_a_terminal_writes_a_profile_the_aws_cli_uses(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "add-role"], env=env, encoding="utf-8", timeout=60,
                          dimensions=(40, 200))
    child.expect_exact("Role ARN, or the 12-digit account id the role is in []: ")
    child.sendline(sandbox.account_id)
    child.expect_exact("Role name (as shown in IAM, e.g. admin) []: ")
    child.sendline("admin")
    child.expect_exact("Name of the new profile [admin]: ")
    child.sendline("work-admin")
    child.expect(r"profiles with credentials: 1\) default, 2\) readonly")
    child.expect_exact("Source profile (number or name) [default]: ")
    child.sendline("1")
    child.expect_exact(f"MFA device of default (found with iam ListMFADevices): {sandbox.mfa_serial}")
    child.expect_exact(f"MFA device ARN (empty: the role needs no MFA) [{sandbox.mfa_serial}]: ")
    child.sendline("")
    child.expect_exact("External id (only if the role's owner gave you one) []: ")
    child.sendline("")
    child.expect_exact("Role session name (empty: rolecall's default) []: ")
    child.sendline("")
    child.expect_exact("[reuse]: ")
    child.sendline("direct")
    child.expect_exact("Role session length in seconds, 900-43200 (empty: AWS's default, 1 h) []: ")
    child.sendline("7200")
    child.expect_exact("Region of the profile (empty: none) []: ")
    child.sendline("us-east-1")
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")  # the verification assumes it once
    child.sendline(sandbox.fresh_code())
    child.expect("work-admin: assumed arn:aws:iam::123456789012:role/admin once: it works")
    child.expect_exact("[profile work-admin]")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    config = (aws_home.root / ".aws" / "config").read_text()
    assert "[profile work-admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = default\n" in config
    assert "duration_seconds = 7200\nmfa_strategy = direct\nregion = us-east-1\n" in config
    # The real AWS CLI uses it: the session the verification got is in the shared cache, so no prompt.
    calls = sandbox.calls("AssumeRole")
    done = run_aws(["sts", "get-caller-identity", "--profile", "work-admin"], env)
    assert done.returncode == 0, done.stderr
    assert ":assumed-role/admin/" in done.stdout
    assert sandbox.calls("AssumeRole") == calls


def test_flags_answer_every_question(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    done = run_rolecall(["add-role", "--yes", "--name", "p2", "--role-arn", sandbox.role_arn("partner"),
                         "--source-profile", "default", "--mfa-serial", "none", "--external-id", "partner-ext-42",
                         "--session-name", "me"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"[profile p2]\nrole_arn = {sandbox.role_arn('partner')}\nsource_profile = default\n"
                           "external_id = partner-ext-42\nrole_session_name = me\n")
    assert run_aws(["sts", "get-caller-identity", "--profile", "p2"], env).returncode == 0


def test_a_role_that_does_not_work_is_not_written(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _env(sandbox, aws_home)
    before = (aws_home.root / ".aws" / "config").read_bytes()
    done = run_rolecall(["add-role", "--yes", "--name", "nope", "--role-arn", sandbox.role_arn("partner"),
                         "--source-profile", "default", "--mfa-serial", "none"], env)  # no external id: refused
    assert done.returncode == 4, done.stderr
    assert "AccessDenied" in done.stderr.strip().splitlines()[-1]
    assert (aws_home.root / ".aws" / "config").read_bytes() == before
    exists = run_rolecall(["add-role", "--yes", "--name", "readonly", "--role-arn", sandbox.role_arn("readonly"),
                           "--source-profile", "default"], env)
    assert exists.returncode == 3 and "exists already" in exists.stderr
    chained = run_rolecall(["add-role", "--yes", "--name", "c", "--role-arn", sandbox.role_arn("ops"),
                            "--source-profile", "deploy", "--duration-seconds", "7200"], env)
    assert chained.returncode == 2 and "role chaining" in chained.stderr
    bad = run_rolecall(["add-role", "--yes", "--name", "x", "--account-id", "12345", "--role-name", "r",
                        "--source-profile", "default"], env)
    assert bad.returncode == 8 and "12-digit" in bad.stderr
