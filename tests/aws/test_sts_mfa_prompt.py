"""The MFA prompt of ``rolecall sts``, in a real pseudo-terminal (pexpect), against the sandbox.

Wording is checked against the AWS CLI's own prompt (spawned the same way), echo must be off while the
code is typed, and the code must reach STS (the admin role needs MFA, so success proves it was sent).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pexpect
import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env

__all__ = ["sandbox"]


def spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, args, env=env, encoding="utf-8", timeout=30, dimensions=(24, 200))


def assume_admin(sb: Sandbox) -> list[str]:
    return ["-m", "rolecall", "sts", "assume-role", "--role-arn", sb.role_arn("admin"), "--role-session-name", "pty"]


def test_prompt_wording_no_echo_and_the_code_is_sent(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    prompt = f"Enter MFA code for {sandbox.mfa_serial}: "

    # The AWS CLI's own prompt, for a profile with mfa_serial: the oracle for the wording.
    theirs = spawn(["-m", "awscli", "sts", "get-caller-identity", "--profile", "admin"], env)
    theirs.expect_exact(prompt)
    theirs.sendline(sandbox.fresh_code())
    theirs.expect(pexpect.EOF)
    theirs.close()
    assert theirs.exitstatus == 0, theirs.before

    before = sandbox.calls("AssumeRole")
    child = spawn([*assume_admin(sandbox), "--serial-number", sandbox.mfa_serial], env)
    child.expect_exact(prompt)
    assert child.waitnoecho(timeout=10), "echo must be off while the code is typed"
    code = sandbox.fresh_code()
    child.sendline(code)
    child.expect(pexpect.EOF)
    output = child.before.replace("\r\n", "\n")
    child.close()
    assert child.exitstatus == 0, output
    assert code not in output, "the code was echoed"
    response = json.loads(output[output.index("{") :])
    assert response["AssumedRoleUser"]["Arn"].endswith(":assumed-role/admin/pty")
    assert sandbox.calls("AssumeRole") == before + 1


def test_prompt_for_get_session_token(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    child = spawn(["-m", "rolecall", "sts", "get-session-token", "--serial-number", sandbox.mfa_serial], env)
    child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
    child.sendline(sandbox.fresh_code())
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert "SessionToken" in child.before


def test_wrong_code_is_an_mfa_error_without_the_code(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    child = spawn([*assume_admin(sandbox), "--serial-number", sandbox.mfa_serial], env)
    child.expect_exact("Enter MFA code for ")
    wrong = sandbox.totp(at=time.time() - 3600)
    child.sendline(wrong)
    child.expect(pexpect.EOF)
    output = child.before
    child.close()
    assert child.exitstatus == 5, output
    assert "AccessDenied" in output and "hint:" in output
    assert wrong not in output


def test_end_of_input_at_the_prompt(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    child = spawn([*assume_admin(sandbox), "--serial-number", sandbox.mfa_serial], env)
    child.expect_exact("Enter MFA code for ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5
    assert "no MFA code was entered" in child.before
    assert sandbox.calls("AssumeRole") == 0


def test_ctrl_c_at_the_prompt(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    child = spawn([*assume_admin(sandbox), "--serial-number", sandbox.mfa_serial], env)
    child.expect_exact("Enter MFA code for ")
    assert child.waitnoecho(timeout=10)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in child.before
    assert sandbox.calls() == 0


@pytest.mark.parametrize("stdin", ["devnull", "pipe"])
def test_without_a_terminal_it_fails_at_once(sandbox: Sandbox, aws_home: AwsHome, stdin: str) -> None:
    env = seeded_env(sandbox, aws_home)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *assume_admin(sandbox), "--serial-number", sandbox.mfa_serial],
        env=env,
        input="123456\n" if stdin == "pipe" else None,
        stdin=subprocess.DEVNULL if stdin == "devnull" else None,
        capture_output=True,
        text=True,
        timeout=30,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
    )
    assert time.monotonic() - started < 20
    assert result.returncode == 5, result.stderr
    assert "no terminal" in result.stderr and "--token-code" in result.stderr
    assert result.stdout == ""
    assert sandbox.calls() == 0


def test_no_prompt_when_the_request_is_invalid(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """Nothing to type for a request that cannot go: validation comes before the prompt."""
    env = seeded_env(sandbox, aws_home)
    child = spawn(
        [*assume_admin(sandbox), "--serial-number", sandbox.mfa_serial, "--duration-seconds", "60"],
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    index = child.expect_exact(["Enter MFA code", pexpect.EOF])
    child.close()
    assert index == 1, "prompted for a request that fails validation"
    assert child.exitstatus == 8
    assert "between 900 and 43200" in child.before
    assert sandbox.calls() == 0
    assert os.environ.get("AWS_ACCESS_KEY_ID") is None
