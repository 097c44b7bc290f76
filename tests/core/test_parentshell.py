"""``rolecall.parentshell``: the shell running rolecall is asked of the parent process, $SHELL is the fallback
(issue 17, item 6). Real processes: a running fish and bash, and this Python, which is no shell."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from rolecall.parentshell import parent_program, running_shell, shell_name


def test_program_names_and_paths() -> None:
    assert shell_name("/usr/bin/fish") == "fish"
    assert shell_name("-zsh") == "zsh"  # a login shell's argv[0], as ps shows it on macOS
    assert shell_name("/bin/dash") == "sh" and shell_name("ksh93") == "sh"
    assert shell_name("C:\\Program Files\\PowerShell\\7\\pwsh.exe") == "pwsh"
    assert shell_name("powershell") == "pwsh"
    assert shell_name("python3.11") is None and shell_name("") is None and shell_name("fishy") is None


@pytest.fixture(params=["fish", "bash"])
def running(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A real shell process, busy with a child for the test's duration: (its name, its pid)."""
    shell = request.param
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    process = subprocess.Popen([shell, "-c", "echo ready; sleep 60; true"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"  # the shell runs: exec done
        yield shell, process.pid
    finally:
        process.kill()
        process.wait()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="Linux: the parent is read from /proc")
def test_the_parent_shell_beats_dollar_shell(running: tuple[str, int]) -> None:
    shell, pid = running
    assert parent_program(pid) == shell
    other = "/bin/bash" if shell == "fish" else "/usr/bin/fish"
    assert running_shell({"SHELL": other}, ppid=pid) == shell


def test_a_parent_that_is_no_shell_falls_back_to_dollar_shell() -> None:
    me = os.getpid()  # this Python: no shell
    assert running_shell({"SHELL": "/usr/bin/zsh"}, ppid=me) == "zsh"
    assert running_shell({"SHELL": "/bin/tcsh"}, ppid=me) is None
    assert running_shell({}, ppid=me) is None
    # No parent left (reparented to init) or one that is gone: $SHELL.
    assert running_shell({"SHELL": "/usr/bin/fish"}, ppid=1) == "fish"
    assert parent_program(1) is None
