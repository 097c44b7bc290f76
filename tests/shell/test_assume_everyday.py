"""The everyday `assume` (issue 17, items 1, 2 and 6), driven as a person would: real bash, zsh and fish on a pty,
the real `rolecall` and the sandbox STS.

* bare `assume` on a terminal opens the picker on the screen, keys choose, the choice lands in the shell;
  without a terminal it exports the default profile as before; AWS_PROFILE set means that profile, no picker;
* each success prints one status line on stderr: profile, account, role, minutes left, cached or new session;
  `--quiet` and ROLECALL_QUIET=1 silence it; `rolecall assume` on a terminal says how to export.

The export format's choice (item 6) is in test_format_from_parent.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pexpect
import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

#: How each shell is started interactively, and the line that loads rolecall's functions into it.
SHELLS = {
    "bash": (["bash", "--norc", "--noprofile", "-i"], 'eval "$(rolecall shell-init bash)"'),
    "zsh": (["zsh", "-f", "-i"], 'eval "$(rolecall shell-init zsh)"'),
    "fish": (["fish", "--no-config", "-i"], "rolecall shell-init fish | source"),
}
#: Prints the assumed profile and key id. The terminal echoes the command too: it holds `who=%s`, never `who=x`.
WHO = "printf 'who=%s:%s\\n' \"$ROLECALL_PROFILE\" \"$AWS_ACCESS_KEY_ID\""
AWS = f"{sys.executable} -m awscli sts get-caller-identity --query Arn --output text"
STATUS = re.compile(r"\[(?P<profile>[\w-]+)\] (?P<rest>[^\r\n]*)")


def _need(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")


def _env(sandbox: Sandbox, aws_home: AwsHome, **extra: str) -> dict[str, str]:
    env = seeded_env(sandbox, aws_home)
    # The venv's own `rolecall` console script first on PATH: the shell functions call it by name.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", PS1="$ ", LANG="C.UTF-8")
    env.update(extra)
    return env


class Terminal:
    """An interactive shell on a pty with rolecall's functions loaded; ``run`` types a line and returns the screen
    output it produced, up to a marker printed after it."""

    def __init__(self, shell: str, env: dict[str, str]) -> None:
        _need(shell)
        argv, init = SHELLS[shell]
        self.shell = shell
        self.child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=30, dimensions=(40, 160))
        self.count = 0
        self.run(init)

    def type(self, line: str) -> None:
        """Type ``line`` and Enter, without waiting."""
        self.child.sendline(line)

    def done(self) -> str:
        """Wait for everything typed so far to finish; the screen output since the last wait."""
        self.count += 1
        # printf's format holds `%s`, the echoed command line never the finished marker.
        self.child.sendline(f"printf 'done-%s\\n' {self.count}")
        self.child.expect_exact(f"done-{self.count}\r\n")
        return str(self.child.before)

    def run(self, line: str) -> str:
        """Type ``line``, wait for it to finish, return what it printed (the echoed command line included)."""
        self.type(line)
        return self.done()

    def close(self) -> None:
        self.child.sendline("exit")
        self.child.expect(pexpect.EOF)
        self.child.close(force=True)


Opener = Callable[[str, dict[str, str]], Terminal]


@pytest.fixture
def terminal_factory() -> Iterator[Opener]:
    """Opens ``Terminal``s; whatever a failed test left open is killed at the end."""
    opened: list[Terminal] = []

    def make(shell: str, env: dict[str, str]) -> Terminal:
        terminal = Terminal(shell, env)
        opened.append(terminal)
        return terminal

    yield make
    for terminal in opened:
        terminal.child.close(force=True)


def _status_lines(screen: str) -> list[tuple[str, str]]:
    return [(m["profile"], m["rest"]) for m in STATUS.finditer(screen)]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_bare_assume_picks_on_the_terminal_and_says_cached_the_second_time(
    shell: str, sandbox: Sandbox, aws_home: AwsHome, terminal_factory: Opener
) -> None:
    term = terminal_factory(shell, _env(sandbox, aws_home))
    term.type("assume")
    term.child.expect_exact("Pick a profile")
    term.child.expect(r"ops\s+role\s+ops -> deploy -> readonly -> default")
    term.child.send("dep")
    term.child.expect_exact("profile> dep")
    term.child.expect_exact("> deploy")
    term.child.send("\r")
    first = term.done()
    # One status line, on the terminal: a new session (two AssumeRole calls: readonly, then deploy).
    account = sandbox.account_id
    assert _status_lines(first) == [("deploy", f"{account} role/deploy, 1 h left (new session)")], first
    assert sandbox.calls("AssumeRole") == 2
    # The choice is in this shell (the picker went to the terminal, not into the evaluated code).
    assert "who=deploy:ASIA" in term.run(WHO)
    assert f"arn:aws:sts::{account}:assumed-role/deploy/" in term.run(AWS)
    second = term.run("assume deploy")
    assert _status_lines(second) == [("deploy", f"{account} role/deploy, 1 h left (cached)")], second
    assert "Pick a profile" not in second
    assert sandbox.calls("AssumeRole") == 2  # really served from the cache
    # The picker remembers: deploy is listed first next time.
    term.type("assume")
    term.child.expect_exact("Pick a profile")
    term.child.expect(r"> deploy\s+role")
    term.child.send("\x1b")  # Esc: nothing picked, nothing changed, status 2
    cancelled = term.done()
    assert "rolecall: no profile was picked" in cancelled
    assert "who=deploy:ASIA" in term.run(WHO)
    term.close()


def test_long_term_keys_and_other_roles_get_their_own_status_line(
    sandbox: Sandbox, aws_home: AwsHome, terminal_factory: Opener
) -> None:
    term = terminal_factory("bash", _env(sandbox, aws_home))
    screen = term.run("assume default")
    assert _status_lines(screen) == [
        ("default", f"long-term keys {sandbox.access_key_id}, no expiry (from the credentials file)")
    ]
    screen = term.run("assume readonly --verify")
    assert _status_lines(screen) == [("readonly", f"{sandbox.account_id} role/readonly, 1 h left (new session)")]
    term.close()


@pytest.mark.parametrize("shell", ["bash", "fish"])
def test_quiet_flag_and_setting_silence_the_status_line(
    shell: str, sandbox: Sandbox, aws_home: AwsHome, terminal_factory: Opener
) -> None:
    term = terminal_factory(shell, _env(sandbox, aws_home))
    loud = term.run("assume readonly")
    assert len(_status_lines(loud)) == 1
    quiet = term.run("assume readonly --quiet") + term.run("assume deploy -q")
    assert _status_lines(quiet) == [] and "who=deploy:ASIA" in term.run(WHO)
    term.run("set -gx ROLECALL_QUIET 1" if shell == "fish" else "export ROLECALL_QUIET=1")
    assert _status_lines(term.run("assume readonly")) == []
    assert "who=readonly:ASIA" in term.run(WHO)
    term.close()


def test_aws_profile_names_the_profile_without_a_picker(
    sandbox: Sandbox, aws_home: AwsHome, terminal_factory: Opener
) -> None:
    """As `aws` without --profile: AWS_PROFILE decides. After the assume, the next bare assume starts from the
    shell's own AWS_PROFILE again (switching is not chaining)."""
    term = terminal_factory("zsh", _env(sandbox, aws_home, AWS_PROFILE="readonly"))
    screen = term.run("assume")
    assert "Pick a profile" not in screen
    assert [name for name, _ in _status_lines(screen)] == ["readonly"]
    assert "who=readonly:ASIA" in term.run(WHO)
    assert [name for name, _ in _status_lines(term.run("assume"))] == ["readonly"]
    term.close()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_bare_assume_without_a_terminal_exports_the_default_profile(
    shell: str, sandbox: Sandbox, aws_home: AwsHome
) -> None:
    _need(shell)
    env = _env(sandbox, aws_home)
    init = SHELLS[shell][1]
    argv = {"bash": ["bash", "--norc", "-c"], "zsh": ["zsh", "-f", "-c"], "fish": ["fish", "--no-config", "-c"]}[shell]
    done = subprocess.run(
        [*argv, f"{init}\nassume\n{WHO}"], env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"who=default:{sandbox.access_key_id}\n"
    # Nobody at a terminal: no picker, and no status line in a script's log.
    assert "Pick a profile" not in done.stderr and "[default]" not in done.stderr, done.stderr


def test_rolecall_assume_on_a_terminal_says_how_to_export(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = _env(sandbox, aws_home)
    for argv, says in (
        (["assume", "readonly"], "not exported: to use them in this shell run `assume readonly`"),
        (["env", "readonly"], "not exported: to set these in your shell run eval \"$(rolecall env readonly)\""),
    ):
        child = pexpect.spawn(sys.executable, ["-m", "rolecall", *argv], env=env, encoding="utf-8", timeout=30,
                              dimensions=(30, 200))  # fmt: skip
        child.expect(pexpect.EOF)
        child.close()
        screen = str(child.before)
        assert child.exitstatus == 0, screen
        assert says in screen and "rolecall: not exported" not in screen, screen
    # Quiet means quiet there too; the summary of `rolecall assume` goes as well.
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "assume", "readonly", "--quiet"], env=env,
                          encoding="utf-8", timeout=30)  # fmt: skip
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and str(child.before).strip() == ""
