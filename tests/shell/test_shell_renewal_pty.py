"""The renewal hook end to end, in interactive bash, zsh and fish on real ptys, with the real ``rolecall`` against
the sandbox's strict STS issuing 60-second sessions: ``assume readonly``, builtin commands at about 5, 15 and 25 s
start no process at all (every fork, clone and execve of the shell is counted with ``strace -f``), and a command
run at 55 s already sees renewed credentials (the hook ran ``rolecall env --no-prompt`` before it). The three
shells run side by side, so the test takes about a minute.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

SHELLS = ("bash", "zsh", "fish")
ARGV = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}
PROMPT = {"bash": "PS1='rc> '", "zsh": "PS1='rc> '", "fish": "function fish_prompt; echo 'rc> '; end"}
SHOW = {
    "bash": 'echo "E@$AWS_CREDENTIAL_EXPIRATION@K@$AWS_ACCESS_KEY_ID@"',
    "zsh": 'echo "E@$AWS_CREDENTIAL_EXPIRATION@K@$AWS_ACCESS_KEY_ID@"',
    "fish": 'echo "E@$AWS_CREDENTIAL_EXPIRATION@K@$AWS_ACCESS_KEY_ID@"',
}
_STARTS = re.compile(r"\b(execve|fork|vfork|clone3?)\(")
_SEEN = re.compile(r"E@(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)@K@(ASIA\w+)@")

pytestmark = pytest.mark.skipif(
    shutil.which("strace") is None or any(shutil.which(s) is None for s in SHELLS), reason="needs strace and shells"
)


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


class Session:
    """One interactive shell under ``strace -f`` on a pty."""

    def __init__(self, shell: str, env: dict[str, str], tmp_path: Path) -> None:
        import pexpect

        self.shell = shell
        self.trace = tmp_path / f"strace.{shell}"
        argv = ["strace", "-f", "-qq", "-e", "trace=execve,fork,vfork,clone,clone3", "-e", "signal=none",
                "-o", str(self.trace), *ARGV[shell]]  # fmt: skip
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=60, dimensions=(40, 300))
        self.marker = 0

    def run(self, line: str) -> str:
        """Send ``line``, wait until its output and the next prompt are there; the output."""
        self.marker += 1
        mark = f"@@done{self.marker}@@"
        end = f"echo '{mark[:4]}''{mark[4:]}'"  # the echoed command line does not contain the marker itself
        self.child.sendline(f"{line}; {end}")
        self.child.expect_exact(mark)
        return str(self.child.before)

    def starts(self) -> int:
        """How many processes the shell (and anything it started) has started so far: execve, fork and clone calls,
        not counting threads (fish runs its highlighting and autosuggestions on threads of its own)."""
        lines = self.trace.read_text().splitlines()
        return sum(1 for line in lines if _STARTS.search(line) and "CLONE_THREAD" not in line)


def test_a_60_second_session_is_renewed_before_a_command_at_55_s_and_idle_commands_start_nothing(
    sandbox: Sandbox,  # noqa: F811 - the fixture
    aws_home: AwsHome,
    tmp_path: Path,
) -> None:
    import pexpect

    files = sandbox.write_aws_files(aws_home.root)
    sandbox.set_credential_lifetime(60)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    runs = tmp_path / "rolecall-runs"
    real = Path(sys.executable).parent / "rolecall"
    (bin_dir / "rolecall").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{runs}"\nexec "{real}" "$@"\n')
    (bin_dir / "rolecall").chmod(0o755)
    env = {**aws_home.env, **files, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "LANG": "C.UTF-8",
           "TERM": "dumb", "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_DATA_HOME": str(tmp_path / "xdg-data")}  # fmt: skip
    sessions = {}
    try:
        first: dict[str, tuple[float, str]] = {}
        for shell in SHELLS:
            init = tmp_path / f"init.{shell}"
            init.write_text(run_rolecall(["shell-init", shell], env=env).stdout)
            session = sessions[shell] = Session(shell, env, tmp_path)
            session.run(PROMPT[shell])
            session.run(f"source {init}")
            session.run("assume readonly")
            seen = _SEEN.search(session.run(SHOW[shell]))
            assert seen, session.child.before
            first[shell] = (_epoch(seen.group(1)), seen.group(2))
        assert len(runs.read_text().splitlines()) == 3  # one `rolecall env` per assume, nothing else
        for offset in (5, 15, 25):
            for shell, session in sessions.items():
                _wait_until(first[shell][0] - 60 + offset)
                before = session.starts()
                assert "tick" in session.run("echo tick")
                assert session.starts() == before, f"{shell}: a command started a process while nothing was due"
        assert len(runs.read_text().splitlines()) == 3
        for shell, session in sessions.items():
            expiry, key = first[shell]
            _wait_until(expiry - 5)
            before = session.starts()
            seen = _SEEN.search(session.run(SHOW[shell]))
            assert seen, session.child.before
            assert _epoch(seen.group(1)) > expiry and seen.group(2) != key, f"{shell}: not renewed before the command"
            assert session.starts() > before  # the renewal itself: rolecall was run
        renewals = [line for line in runs.read_text().splitlines() if "--no-prompt" in line]
        assert len(renewals) == 3 and all(line.endswith("-- readonly") for line in renewals), renewals
    finally:
        for session in sessions.values():
            session.child.sendline("exit")
            try:
                session.child.expect(pexpect.EOF, timeout=10)
            finally:
                session.child.close(force=True)


def _wait_until(when: float) -> None:
    delay = when - time.time()
    if delay > 0:
        time.sleep(delay)
