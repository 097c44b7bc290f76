"""The renewal hook of ``rolecall shell-init`` (bash, zsh, fish), its notification and the prompt colour, in real
shells. A tiny real ``rolecall`` program first on PATH (a test double: the real one is exercised end to end in
test_shell_renewal_pty.py) logs its arguments and answers ``env`` with new credentials, or fails with the exit
code asked for; a fake ``notify-send`` logs its arguments (a real one needs a desktop session, which cannot exist
headless here).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall

FAKE_ROLECALL = """#!/bin/sh
printf '%s\\n' "$*" >> "$FAKE_LOG"
[ -z "$FAKE_EXIT" ] || exit "$FAKE_EXIT"
case "$*" in
    *"--format fish"*)
        echo "set -gx AWS_ACCESS_KEY_ID RENEWED; set -gx AWS_CREDENTIAL_EXPIRATION 2099-01-01T00:00:00Z" ;;
    *) echo "export AWS_ACCESS_KEY_ID=RENEWED AWS_CREDENTIAL_EXPIRATION=2099-01-01T00:00:00Z" ;;
esac
"""
FAKE_NOTIFY = """#!/bin/sh
printf '%s\\n' "$@" >> "$FAKE_NOTIFY_LOG"
"""
RUN = {
    "bash": ["bash", "--norc", "--noprofile", "-c"],
    "zsh": ["zsh", "-f", "-c"],
    "fish": ["fish", "--no-config", "-c"],
}
SHELLS = ["bash", "zsh", "fish"]


def _iso(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


class Rig:
    """The snippet of one shell, the fakes on PATH, and a way to run lines after sourcing the snippet."""

    def __init__(self, shell: str, aws_home: AwsHome, tmp_path: Path) -> None:
        if shutil.which(shell) is None:
            pytest.skip(f"{shell} is not installed")
        self.shell = shell
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        for name, text in (("rolecall", FAKE_ROLECALL), ("notify-send", FAKE_NOTIFY)):
            (bin_dir / name).write_text(text)
            (bin_dir / name).chmod(0o755)
        self.log = tmp_path / "rolecall.log"
        self.notify_log = tmp_path / "notify.log"
        init = run_rolecall(["shell-init", shell], env=aws_home.env)
        assert init.returncode == 0, init.stderr
        self.init = tmp_path / f"init.{shell}"
        self.init.write_text(init.stdout)
        self.env = {**aws_home.env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "LANG": "C.UTF-8",
                    "FAKE_LOG": str(self.log), "FAKE_NOTIFY_LOG": str(self.notify_log), "AWS_REGION": "eu-west-1",
                    "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "XDG_DATA_HOME": str(tmp_path / "xdg-data")}  # fmt: skip

    def run(self, body: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """Source the snippet, export ROLECALL_PROFILE=prod, then run ``body`` in that shell."""
        export = "set -gx ROLECALL_PROFILE prod" if self.shell == "fish" else "export ROLECALL_PROFILE=prod"
        script = f"source {self.init}\n{export}\n{body}\n"
        return subprocess.run([*RUN[self.shell], script], env={**self.env, **extra}, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip

    def set_expiry(self, iso: str) -> str:
        return f"set -gx AWS_CREDENTIAL_EXPIRATION {iso}" if self.shell == "fish" else (
            f"export AWS_CREDENTIAL_EXPIRATION={iso}")  # fmt: skip

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture(params=SHELLS)
def rig(request: pytest.FixtureRequest, aws_home: AwsHome, tmp_path: Path) -> Rig:
    return Rig(request.param, aws_home, tmp_path)


def _show(rig: Rig, *names: str) -> str:
    return "; ".join(f'echo "{name}=${name}"' for name in names)


def test_nothing_due_starts_nothing_and_the_times_follow_the_advisory_window(rig: Rig) -> None:
    """20 minutes left: due at half the time left (10 min before the end); 2 hours left: at 15 minutes before the
    end (botocore's advisory window); the notification 5 minutes before the end. No rolecall run."""
    lines = []
    for seconds in (1200, 7200):
        iso = _iso(seconds)
        lines += [rig.set_expiry(iso), "_rolecall_preexec", "_rolecall_preexec",
                  _show(rig, "_rolecall_renew_at", "_rolecall_notify_at", "_rolecall_end")]  # fmt: skip
    result = rig.run("\n".join(lines))
    assert result.returncode == 0, result.stderr
    values = [int(line.split("=")[1]) for line in result.stdout.splitlines()]
    short, long = values[:3], values[3:]
    assert short[2] - short[0] in range(598, 602) and short[2] - short[1] in (200, 199, 201)
    assert long[2] - long[0] == 900 and long[2] - long[1] == 300
    assert rig.calls() == []
    assert result.stderr == ""


def test_due_credentials_are_renewed_before_the_command(rig: Rig) -> None:
    """4 s left: due after 2 s. The hook runs `rolecall env --no-prompt` (the region kept) and exports the answer."""
    result = rig.run(f"{rig.set_expiry(_iso(4))}\n_rolecall_preexec\nsleep 2.5\n_rolecall_preexec\n"
                     + _show(rig, "AWS_ACCESS_KEY_ID"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "AWS_ACCESS_KEY_ID=RENEWED" in result.stdout
    (call,) = rig.calls()
    assert "--no-prompt" in call and "--quiet" in call and call.endswith("--region eu-west-1 -- prod"), call


def test_renewal_off_with_rolecall_shell_renew_0(rig: Rig) -> None:
    result = rig.run(f"{rig.set_expiry(_iso(5))}\n_rolecall_preexec\nsleep 3\n_rolecall_preexec\n_rolecall_preexec",
                     ROLECALL_SHELL_RENEW="0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert rig.calls() == []


@pytest.mark.parametrize(("code", "says"), [("5", "needs you (an MFA code)"), ("10", "needs you (a sign-in)")])
def test_renewal_that_needs_a_person_says_so_once(rig: Rig, code: str, says: str) -> None:
    result = rig.run(f"{rig.set_expiry(_iso(5))}\n_rolecall_preexec\nsleep 3\n" + "_rolecall_preexec\n" * 3,
                     FAKE_EXIT=code)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(rig.calls()) == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("rolecall: the credentials of prod in this shell end in 1 min; renewing them " + says)
    assert line.endswith("run assume prod")


def test_a_role_assumed_with_role_arn_is_not_renewed_and_says_so_once(rig: Rig) -> None:
    """``assume --role-arn`` exports the role's ARN as ROLECALL_PROFILE; its source and options are not in the shell,
    so the hook does not guess: one line, no rolecall run, not tried again."""
    arn = "arn:aws:iam::123456789012:role/readonly"
    export = f"set -gx ROLECALL_PROFILE {arn}" if rig.shell == "fish" else f"export ROLECALL_PROFILE={arn}"
    result = rig.run(f"{export}\n{rig.set_expiry(_iso(5))}\n_rolecall_preexec\nsleep 3\n" + "_rolecall_preexec\n" * 3)
    assert result.returncode == 0, result.stderr
    assert rig.calls() == []
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"rolecall: the credentials of {arn} in this shell end soon; a role assumed with --role-arn")


def test_other_failures_are_tried_again_a_minute_later(rig: Rig) -> None:
    body = f"{rig.set_expiry(_iso(5))}\n_rolecall_preexec\nsleep 3\n_rolecall_preexec\n_rolecall_preexec\n"
    result = rig.run(body + _show(rig, "_rolecall_renew_at") + "; " + _show(rig, "_rolecall_end"), FAKE_EXIT="6")
    assert len(rig.calls()) == 1
    assert "could not be renewed (exit 6, docs/exit-codes.md); trying again in a minute" in result.stderr
    retry, end = (int(line.split("=")[1]) for line in result.stdout.splitlines())
    assert retry - time.time() > 50 and retry > end


def test_notification_a_few_minutes_before_the_end(rig: Rig) -> None:
    """ROLECALL_NOTIFY=1 with renewal off: once the notification is due (its time set to now; when it falls is
    checked above), notify-send (the fake) is run once, naming the profile and the minutes left."""
    force = ("set -g _rolecall_notify_at 0; set -g _rolecall_next 0" if rig.shell == "fish"
             else "_rolecall_notify_at=0 _rolecall_next=0")  # fmt: skip
    body = f"{rig.set_expiry(_iso(150))}\n_rolecall_preexec\n_rolecall_preexec\n{force}\n"
    body += "_rolecall_preexec\n_rolecall_preexec\nsleep 0.5"
    result = rig.run(body, ROLECALL_NOTIFY="1", ROLECALL_SHELL_RENEW="0")
    assert result.returncode == 0, result.stderr
    for _ in range(50):
        if rig.notify_log.exists():
            break
        time.sleep(0.1)
    assert rig.notify_log.read_text().splitlines() == [
        "--app-name=rolecall", "rolecall: prod",
        "The AWS credentials of prod in your shell end in 3 min: run assume prod",
    ]  # fmt: skip
    assert rig.calls() == []


def test_no_notification_without_the_setting(rig: Rig) -> None:
    rig.run(f"{rig.set_expiry(_iso(2))}\n_rolecall_preexec\nsleep 1.6\n_rolecall_preexec\nsleep 0.3",
            ROLECALL_SHELL_RENEW="0")  # fmt: skip
    assert not rig.notify_log.exists()


# --- the prompt segment's colour, on a real terminal ---------------------------------------------------------

COLOURS = {
    "bash": {"yellow": "\x01\x1b[33m\x02", "red": "\x01\x1b[31m\x02", "end": "\x01\x1b[0m\x02"},
    "zsh": {"yellow": "%F{yellow}", "red": "%F{red}", "end": "%f"},
    "fish": {"yellow": "\x1b[33m", "red": "\x1b[31m", "end": "\x1b(B\x1b[m"},
}


def _prompt_on_pty(rig: Rig, seconds: int, **extra: str) -> str:
    import pexpect

    show = "printf '<%s>' \"$ROLECALL_PROMPT\""
    script = (
        f"source {rig.init}\n{rig.set_expiry(_iso(seconds))}\n"
        + ("set -gx ROLECALL_PROFILE prod\n" if rig.shell == "fish" else "export ROLECALL_PROFILE=prod\n")
        + f"rolecall_prompt_update\n{show}\n"
    )
    env = {**rig.env, "TERM": "xterm-256color", **extra}
    env.pop("NO_COLOR", None) if "NO_COLOR" not in extra else None
    out = pexpect.run(RUN[rig.shell][0], args=[*RUN[rig.shell][1:], script], env=env, encoding="utf-8", timeout=30)
    assert isinstance(out, str)
    return out[out.index("<") + 1 : out.rindex(">")]


def test_prompt_colour_thresholds(rig: Rig) -> None:
    colour = COLOURS[rig.shell]
    assert _prompt_on_pty(rig, 3600) == "prod 1h00m"
    assert _prompt_on_pty(rig, 600) == f"{colour['yellow']}prod 10m{colour['end']}"
    assert _prompt_on_pty(rig, 200) == f"{colour['red']}prod 4m{colour['end']}"
    assert _prompt_on_pty(rig, -60) == f"{colour['red']}prod expired{colour['end']}"
    assert _prompt_on_pty(rig, 200, NO_COLOR="1") == "prod 4m"
    assert _prompt_on_pty(rig, 200, TERM="dumb") == "prod 4m"


def test_no_colour_when_not_on_a_terminal(rig: Rig) -> None:
    result = rig.run(f"{rig.set_expiry(_iso(200))}\nrolecall_prompt_update\nprintf '<%s>' \"$ROLECALL_PROMPT\"",
                     TERM="xterm-256color")  # fmt: skip
    assert result.stdout == "<prod 4m>", result.stderr


def test_the_hook_is_installed_in_interactive_shells_only(rig: Rig) -> None:
    """bash: the DEBUG trap and PS0's arming; zsh: preexec; fish: the fish_preexec handler."""
    check = {
        "bash": 'trap -p DEBUG; printf "%s\\n" "$PS0"',
        "zsh": 'print -l -- "${preexec_functions[@]}"',
        "fish": "functions _rolecall_preexec | string match -q '*--on-event fish_preexec*'; and echo _rolecall_preexec",
    }[rig.shell]
    argv = {"bash": ["bash", "--norc", "--noprofile", "-i", "-c"], "zsh": ["zsh", "-f", "-i", "-c"],
            "fish": ["fish", "--no-config", "-i", "-c"]}[rig.shell]  # fmt: skip
    interactive = subprocess.run([*argv, f"source {rig.init}\n{check}"], env=rig.env, capture_output=True,
                                 text=True, timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
    assert "_rolecall_preexec" in interactive.stdout or "_rolecall_debug" in interactive.stdout, interactive.stderr
    if rig.shell == "bash":
        assert "_rolecall_armed=1" in interactive.stdout
    if rig.shell != "fish":
        plain = rig.run(check)
        assert "_rolecall" not in plain.stdout
