"""The export format follows the shell actually running rolecall (its parent process), not $SHELL (issue 17,
item 6): fish started from a bash login, bash started from fish, and a parent that is no shell, with the real
`rolecall` and the sandbox STS."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env


def _need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")


def _env(sandbox: Sandbox, aws_home: AwsHome, **extra: str) -> dict[str, str]:
    env = seeded_env(sandbox, aws_home)
    # The venv's own `rolecall` console script first on PATH, called by name as a person would.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", LANG="C.UTF-8")
    env.update(extra)
    return env


def test_fish_started_from_bash_gets_fish_code(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """SHELL=/bin/bash (the login shell), fish typed in it: `rolecall env X | source` must be fish code, and
    the leftover AWS_PROFILE must go."""
    _need("fish")
    env = _env(sandbox, aws_home, SHELL="/bin/bash", AWS_PROFILE="admin")
    fish = "rolecall env readonly | source; printf 'who=%s:%s:%s\\n' $ROLECALL_PROFILE (string sub -l 4 $AWS_ACCESS_KEY_ID) (set -q AWS_PROFILE; and echo left; or echo gone)"  # noqa: E501
    done = subprocess.run(["bash", "--norc", "--noprofile", "-c", 'fish --no-config -c "$1"', "bash", fish], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "who=readonly:ASIA:gone\n" and "Unknown command" not in done.stderr, done.stderr
    # `rolecall shell-init` alone there gives fish's functions too.
    done = subprocess.run(["bash", "--norc", "-c", 'fish --no-config -c "rolecall shell-init | source; functions -q assume; and echo has-assume"'],  # noqa: E501
                          env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.stdout == "has-assume\n", done.stderr


def test_bash_started_from_fish_gets_sh_code(sandbox: Sandbox, aws_home: AwsHome) -> None:
    _need("fish")
    env = _env(sandbox, aws_home, SHELL="/usr/bin/fish")
    script = 'eval "$(rolecall env readonly)" && printf "who=%s:%s\\n" "$ROLECALL_PROFILE" "${AWS_ACCESS_KEY_ID:0:4}"'
    done = subprocess.run(["fish", "--no-config", "-c", "bash --norc -c $argv[1]", script], env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "who=readonly:ASIA\n", done.stderr


def test_a_parent_that_is_no_shell_falls_back_to_dollar_shell(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """Started by Python (as here), rolecall cannot ask its parent: $SHELL decides, as before."""
    env = _env(sandbox, aws_home)
    for shell, first in (("/usr/bin/fish", "set -e -g "), ("/bin/bash", "unset "), ("/usr/bin/pwsh", "Remove-Item ")):
        done = run_rolecall(["env", "readonly"], {**env, "SHELL": shell})
        assert done.returncode == 0 and done.stdout.startswith(first), (shell, done.stdout[:40], done.stderr)
