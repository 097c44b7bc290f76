"""Tab completion of rolecall itself: ``rolecall __complete`` and the bash, zsh and fish glue of ``shell-init``.

The candidates are checked against rolecall's real argument parsers (every command, sub-command, option and
choice, found by walking the parsers, not from a list written here), the names against a real config file, and
the glue on real interactive shells in tmux: Tab is pressed and the screen is read.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import AwsHome
from rolecall.cli.commands.complete import COMMAND_LINE_DESTS, split_line, value_kind
from rolecall.cli.context import Context
from rolecall.cli.main import COMMANDS, build_parser, main

CONFIG = """\
[default]
region = eu-west-1
[profile prod]
role_arn = arn:aws:iam::123456789012:role/prod
source_profile = default
[profile prod-admin]
role_arn = arn:aws:iam::123456789012:role/admin
source_profile = default
[profile staging]
region = us-east-1
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
[sso-session lab]
sso_start_url = https://lab.awsapps.com/start
sso_region = eu-west-1
"""
PROFILES = ["default", "prod", "prod-admin", "staging"]


def complete(aws_home: AwsHome, *words: str, shell: str = "fish") -> list[str]:
    """The candidates (words only) ``rolecall __complete`` prints for ``words``, the last being the cursor's."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["__complete", shell, "--", *words], Context(io.StringIO(), out, err, dict(aws_home.env)))
    assert code == 0 and err.getvalue() == "", err.getvalue()
    return [line.split("\t")[0] for line in out.getvalue().splitlines()]


@pytest.fixture
def home(aws_home: AwsHome) -> AwsHome:
    aws_home.write_config(CONFIG)
    aws_home.write_credentials("[ci]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n")
    return aws_home


# --- every command, sub-command, option and choice of the real parsers ------------------------------------------


def _parsers() -> Iterator[tuple[list[str], argparse.ArgumentParser]]:
    """(the words that reach it, the parser) for every command and every sub-command, however deep."""
    stack = [([name], build_parser(name)[0]) for name in COMMANDS]
    while stack:
        path, parser = stack.pop()
        yield path, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += [([*path, name], sub) for name, sub in action.choices.items()]


def test_every_command_is_offered(home: AwsHome) -> None:
    assert set(complete(home, "")) >= set(COMMANDS)
    for name in COMMANDS:
        assert name in complete(home, name[:2]), name
    assert complete(home, "--") == ["--debug", "--version", "--help"]


def test_every_option_subcommand_and_choice_of_every_parser_is_offered(home: AwsHome) -> None:
    checked = 0
    for path, parser in _parsers():
        options = set(complete(home, *path, "-"))
        for action in parser._actions:
            if action.option_strings and action.help != argparse.SUPPRESS:
                assert set(action.option_strings) <= options, (path, action.option_strings)
                checked += 1
            if isinstance(action, argparse._SubParsersAction):
                assert set(complete(home, *path, "")) >= set(action.choices), path
            elif action.choices is not None and action.option_strings:
                long = max(action.option_strings, key=len)
                assert complete(home, *path, long, "") == list(action.choices), path
                value = f"{long}={next(iter(action.choices))}"
                assert value in complete(home, *path, value), path
    assert checked > 100  # the walk did reach the parsers (about 150 options today)


def test_every_profile_argument_completes_profile_names(home: AwsHome) -> None:
    seen = 0
    for path, parser in _parsers():
        for action in parser._actions:
            if value_kind(action) != "profile" or action.choices is not None:
                continue
            seen += 1
            if action.option_strings:
                got = complete(home, *path, action.option_strings[0], "")
            else:
                # The positional comes first among this parser's (exec, whoami, keys add...).
                first = next(a for a in parser._actions if not a.option_strings)
                assert first is action, path
                got = complete(home, *path, "")
            assert got == [*PROFILES, "ci"], (path, action.dest)
    assert seen >= 15


def test_names_formats_and_prefixes(home: AwsHome) -> None:
    assert complete(home, "exec", "pro") == ["prod", "prod-admin"]
    assert complete(home, "sso", "login", "--sso-session", "") == ["corp", "lab"]
    assert complete(home, "env", "--format", "f") == ["fish"]
    assert complete(home, "env", "--format=p") == ["--format=powershell", "--format=process"]
    assert complete(home, "shell-init", "") == ["bash", "zsh", "fish", "pwsh"]
    assert "cloudwatch" in complete(home, "console", "--service", "cl")
    assert "eu-west-1" in complete(home, "console", "--region", "eu-")
    assert complete(home, "sandbox", "--dir", "") == ["@dirs"]
    assert complete(home, "--debug", "exe") == ["exec"]
    # An option already given is not offered again; one of a mutually exclusive pair rules out the other.
    after = complete(home, "sso", "login", "--profile", "prod", "--")
    assert "--profile" not in after and "--sso-session" not in after and "--no-browser" in after


def test_exec_hands_the_command_line_to_the_shell(home: AwsHome) -> None:
    exec_parser = build_parser("exec")[0]
    assert any(a.dest in COMMAND_LINE_DESTS for a in exec_parser._actions)
    assert complete(home, "exec", "prod", "") == ["@commands"]
    assert complete(home, "exec", "prod", "git", "") == ["@delegate 3"]
    assert complete(home, "--debug", "exec", "prod", "--", "git", "lo") == ["@delegate 5"]


def test_a_broken_config_gives_no_names_and_no_message(aws_home: AwsHome) -> None:
    aws_home.write_config("[profile broken\nregion = x\n")
    assert complete(aws_home, "exec", "") == []
    assert complete(aws_home, "ex") == ["exec"]


def test_bash_splits_the_line_as_bash_does_and_cuts_at_word_breaks(home: AwsHome) -> None:
    assert split_line("rolecall exec 'my prof") == (["rolecall", "exec"], "my prof", "'my prof")
    assert split_line('a b\\ c "d e" ') == (["a", "b c", "d e"], "", "")
    out = io.StringIO()
    context = Context(io.StringIO(), out, io.StringIO(), dict(home.env))
    main(["__complete", "bash", " \t\n\"'><=;|&(:", "rolecall env --format=f"], context)
    assert out.getvalue() == "fish\n"  # bash replaces only what follows the '='


def test_completion_does_not_import_botocore(home: AwsHome) -> None:
    code = (
        "import sys; from rolecall.cli.main import main; "
        "main(['__complete', 'bash', ':=', 'rolecall whoami --profile ']); "
        "print('botocore' in sys.modules, 'rolecall.sandbox' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], env=home.env, capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "False False", done.stderr


# --- the glue in real shells ------------------------------------------------------------------------------------

SHELL_SETUP = {
    "bash": (["bash", "--noprofile", "--rcfile", "{rc}", "-i"], 'eval "$(rolecall shell-init bash)"\nPS1="rc$ "\n'),
    "zsh": (["zsh", "-i"], 'autoload -Uz compinit; compinit -u -d {tmp}/zdump\neval "$(rolecall shell-init zsh)"\n'
            'PS1="rc$ "\n'),
    "fish": (["fish", "-i"], "rolecall shell-init fish | source\nfunction fish_prompt; echo 'rc$ '; end\n"
             "set -g fish_greeting\n"),
}


class Screen:
    """An interactive shell in a tmux window of its own: type, press Tab, read the screen."""

    def __init__(self, shell: str, home: AwsHome, tmp: Path) -> None:
        self.socket = str(tmp / "tmux.sock")
        argv, rc = SHELL_SETUP[shell]
        (tmp / "rc").write_text(rc.format(tmp=tmp))
        (tmp / ".zshrc").write_text(rc.format(tmp=tmp))
        (tmp / "fish").mkdir()
        (tmp / "fish" / "config.fish").write_text(rc)
        env = dict(home.env, ZDOTDIR=str(tmp), XDG_CONFIG_HOME=str(tmp), XDG_DATA_HOME=str(tmp / "data"),
                   TERM="xterm", PATH=os.path.dirname(sys.executable) + os.pathsep + home.env.get("PATH", ""))
        command = " ".join(a.format(rc=tmp / "rc") for a in argv)
        subprocess.run(["tmux", "-S", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "50",
                        command], env=env, check=True, timeout=30)  # fmt: skip
        self.wait_for("rc$")

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p")

    def wait_for(self, *texts: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(text in screen for text in texts):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"not on screen: {texts}\n{screen}")
            time.sleep(0.1)

    def tab(self, line: str, *expected: str, presses: int = 1) -> str:
        """Clear the screen, type ``line``, press Tab; wait until every expected text is on the screen."""
        self.tmux("send-keys", "C-c")
        self.tmux("send-keys", "clear", "Enter")
        time.sleep(0.3)
        self.tmux("send-keys", line, *["Tab"] * presses)
        return self.wait_for(*expected)

    def close(self) -> None:
        self.tmux("kill-server")


@pytest.fixture(params=["bash", "zsh", "fish"])
def screen(request: pytest.FixtureRequest, home: AwsHome, tmp_path: Path) -> Iterator[Screen]:
    if shutil.which("tmux") is None or shutil.which(request.param) is None:
        pytest.skip(f"needs tmux and {request.param}")
    window = Screen(request.param, home, tmp_path)
    window.shell = request.param  # type: ignore[attr-defined]
    try:
        yield window
    finally:
        window.close()


def test_tab_completes_commands_profiles_options_and_names_on_a_terminal(screen: Screen) -> None:
    presses = 2 if screen.shell == "bash" else 1  # type: ignore[attr-defined]
    shown = screen.tab("rolecall ", "credential-process", "shell-init", "whoami", presses=presses)
    assert "add-role" in shown and "sandbox" in shown
    shown = screen.tab("rolecall exec ", "prod-admin", "staging", presses=presses)
    assert "default" in shown and "corp" not in shown
    screen.tab("rolecall exec prod --allow", "rolecall exec prod --allow-nested")
    shown = screen.tab("rolecall exec prod --", "--force-refresh", "--mfa-strategy", "--token-code", presses=presses)
    screen.tab("rolecall sts get-caller-identity --profile stag", "--profile staging")
    screen.tab("rolecall configure --profile prod-a", "--profile prod-admin")
    screen.tab("rolecall sso login --sso-session co", "--sso-session corp")
    screen.tab("rolecall env --format pow", "--format powershell")
    screen.tab("rolecall shell-init zs", "shell-init zsh")
    screen.tab("rolecall exe", "rc$ rolecall exec")


def test_shell_init_runs_nothing_at_start_up(home: AwsHome, tmp_path: Path) -> None:
    """The glue only defines functions: sourcing the snippet starts no rolecall (the log of a stand-in stays empty)."""
    log = tmp_path / "calls"
    fake = tmp_path / "bin" / "rolecall"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\n")
    fake.chmod(0o755)
    env = dict(home.env, PATH=f"{fake.parent}{os.pathsep}{home.env.get('PATH', '')}")
    for shell, run in (("bash", ["bash", "--norc", "-c"]), ("zsh", ["zsh", "-f", "-c"]),
                       ("fish", ["fish", "--no-config", "-c"])):  # fmt: skip
        if shutil.which(shell) is None:
            continue
        snippet = tmp_path / f"init.{shell}"
        done = subprocess.run([sys.executable, "-m", "rolecall", "shell-init", shell], env=home.env,
                              capture_output=True, text=True, check=True)  # fmt: skip
        snippet.write_text(done.stdout)
        prelude = "autoload -Uz compinit; compinit -u -d " + str(tmp_path / "zd") + "; " if shell == "zsh" else ""
        result = subprocess.run([*run, f"{prelude}source {snippet}"], env=env, capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert result.returncode == 0 and result.stderr == "", (shell, result.stderr)
    assert not log.exists()
