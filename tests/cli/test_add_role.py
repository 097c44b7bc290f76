"""``rolecall add-role`` (issue 12): the wizard in a real terminal writes a profile the real AWS CLI then uses
against the sandbox; the MFA device is found with iam ListMFADevices; the role is assumed once before anything is
written; every question has a flag; refusals are one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pexpect

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.config.parse import read_raw_file
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def test_the_wizard_in_a_terminal_writes_a_profile_the_aws_cli_uses(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
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
    env = seeded_env(sandbox, aws_home)
    done = run_rolecall(["add-role", "--yes", "--name", "p2", "--role-arn", sandbox.role_arn("partner"),
                         "--source-profile", "default", "--mfa-serial", "none", "--external-id", "partner-ext-42",
                         "--session-name", "me"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"[profile p2]\nrole_arn = {sandbox.role_arn('partner')}\nsource_profile = default\n"
                           "external_id = partner-ext-42\nrole_session_name = me\n")
    assert run_aws(["sts", "get-caller-identity", "--profile", "p2"], env).returncode == 0


def test_a_role_that_does_not_work_is_not_written(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
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


def test_the_session_length_follows_what_the_chain_says_of_the_source(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path  # noqa: F811
) -> None:
    """The wizard's cap is the chain's (providers.base.credential_kind), not a guess from the source's keys."""
    env = seeded_env(sandbox, aws_home)
    keys = read_raw_file(env["AWS_SHARED_CREDENTIALS_FILE"])["default"]  # type: ignore[index]
    # A credential_process printing long-term keys: unknown until it runs, so the chain does not cap the role;
    # neither does the wizard (it used to call every source without keys in the file "temporary").
    script = tmp_path / "keys.py"
    document = {"Version": 1, "AccessKeyId": keys["aws_access_key_id"],
                "SecretAccessKey": keys["aws_secret_access_key"]}  # fmt: skip
    script.write_text(f"print({json.dumps(document)!r})\n")
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write(f"[profile byprocess]\ncredential_process = {sys.executable} {script}\n")
    done = run_rolecall(["add-role", "--yes", "--name", "long", "--role-arn", sandbox.role_arn("deploy"),
                         "--source-profile", "byprocess", "--duration-seconds", "7200", "--no-verify"],
                        env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "duration_seconds = 7200" in done.stdout
    # Keys beside an IAM Identity Center login: SSO comes first (as in botocore), so the source is temporary and a
    # 2 h session is role chaining, refused before anything is written.
    with open(env["AWS_SHARED_CREDENTIALS_FILE"], "a") as handle:
        handle.write(f"[sso-admin]\naws_access_key_id = {keys['aws_access_key_id']}\n"
                     f"aws_secret_access_key = {keys['aws_secret_access_key']}\n")  # fmt: skip
    before = (aws_home.root / ".aws" / "config").read_bytes()
    chained = run_rolecall(["add-role", "--yes", "--name", "viasso", "--role-arn", sandbox.role_arn("readonly"),
                            "--source-profile", "sso-admin", "--duration-seconds", "7200", "--no-verify"],
                           env)  # fmt: skip
    assert chained.returncode == 2 and "role chaining" in chained.stderr, chained.stderr
    assert (aws_home.root / ".aws" / "config").read_bytes() == before


def test_the_mfa_strategy_offered_is_one_the_chain_accepts(sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path) -> None:  # noqa: F811
    """reuse needs long-term keys (GetSessionToken): with a source the chain cannot vouch for, direct is the default,
    so `--yes` never writes a profile the chain then refuses."""
    env = seeded_env(sandbox, aws_home)
    script = tmp_path / "keys.py"
    script.write_text("print('{}')\n")
    with open(env["AWS_CONFIG_FILE"], "a") as handle:
        handle.write(f"[profile byprocess]\ncredential_process = {sys.executable} {script}\n")
    done = run_rolecall(["add-role", "--yes", "--name", "m", "--role-arn", sandbox.role_arn("admin"),
                         "--source-profile", "byprocess", "--mfa-serial", sandbox.mfa_serial, "--no-verify"],
                        env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mfa_strategy = direct" in done.stdout
    explained = run_rolecall(["env", "m", "--explain"], env)
    assert explained.returncode == 0, explained.stderr
