"""The real `assume` function in a real interactive shell on a pty, with the real rolecall and the sandbox STS:
the MFA prompt of `rolecall env` reaches the terminal, and the role lands in that same shell."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_assume_with_the_real_mfa_prompt(shell: str, sandbox: Sandbox, aws_home: AwsHome) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    env = seeded_env(sandbox, aws_home)
    # The venv's own `rolecall` console script first on PATH: the snippet calls it by name.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PS1"] = "$ "
    argv = ["bash", "--norc", "--noprofile", "-i"] if shell == "bash" else ["zsh", "-f", "-i"]
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=60, dimensions=(40, 200))
    try:
        child.sendline(f'eval "$(rolecall shell-init {shell})"')
        child.sendline("assume admin")
        child.expect_exact(f"Enter MFA code for {sandbox.mfa_serial}: ")
        child.sendline(sandbox.fresh_code())
        child.sendline('echo "who=${ROLECALL_PROFILE-none}:${AWS_ACCESS_KEY_ID:0:4}"')
        child.expect_exact("who=admin:ASIA")
        child.sendline('python -m awscli sts get-caller-identity --query Arn --output text'.replace(
            "python", sys.executable))
        child.expect(r"arn:aws:sts::\d+:assumed-role/admin/")
        child.sendline("unassume")
        child.sendline('echo "after=${AWS_ACCESS_KEY_ID-none}"')
        child.expect_exact("after=none")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert sandbox.calls("GetSessionToken") == 1  # reuse: one code, one MFA session
