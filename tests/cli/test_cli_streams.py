"""Standard streams that refuse output: a full disk, a closed stdout or stderr, a reader that goes away.

Output that could not be written must never look like success (``eval "$(rolecall env prod)"`` would then
change nothing without a word), and must never end in Python's own complaints or exit status 120.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

ROLECALL = [sys.executable, "-m", "rolecall"]


def _run_redirected(redirect: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run rolecall from bash with ``redirect`` applied (``>/dev/full``, ``>&-``...), capturing what is left."""
    return subprocess.run(
        ["bash", "-c", f'"$@" {redirect}', "rolecall", *ROLECALL, *args],
        env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["shell-init", "bash"], ["--help"], ["configure", "list"]])
def test_full_disk_on_stdout_is_one_line_exit_7(aws_home: AwsHome, args: list[str]) -> None:
    aws_home.write_config("[default]\nregion = eu-west-1\n")
    result = _run_redirected(">/dev/full", args, aws_home.env)
    assert result.returncode == 7, result.stderr
    assert result.stderr == (
        "rolecall: cannot write to standard output: No space left on device (hint: check where stdout goes "
        "(a closed stream, a full disk); what was printed is incomplete)\n"
    )


@pytest.mark.parametrize("args", [["shell-init", "zsh"], ["--help"], ["configure", "list-profiles"]])
def test_closed_stdout_is_one_line_exit_7(aws_home: AwsHome, args: list[str]) -> None:
    aws_home.write_config("[default]\nregion = eu-west-1\n")
    result = _run_redirected(">&-", args, aws_home.env)
    assert result.returncode == 7, result.stderr
    assert result.stderr.count("\n") == 1
    assert "cannot write to standard output: standard output is closed" in result.stderr


def test_env_into_a_full_disk_fails_without_printing_a_secret(
    sandbox: Sandbox, sandbox_env: dict[str, str]  # noqa: F811
) -> None:
    env = sandbox_env
    result = _run_redirected(">/dev/full", ["env", "readonly"], env)
    assert result.returncode == 7, result.stderr
    assert "cannot write to standard output" in result.stderr and "Traceback" not in result.stderr
    assert "Exception ignored" not in result.stderr
    assert sandbox.secret_access_key not in result.stderr


def test_closed_stderr_and_full_stdout_still_give_the_exit_code(aws_home: AwsHome) -> None:
    result = _run_redirected(">/dev/full 2>&-", ["shell-init", "bash"], aws_home.env)
    assert result.returncode == 7


def test_a_reader_that_goes_away_is_not_an_error(aws_home: AwsHome) -> None:
    result = subprocess.run(
        ["bash", "-c", 'set -o pipefail; "$@" | head -c1 >/dev/null', "rolecall", *ROLECALL, "shell-init", "bash"],
        env=aws_home.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
