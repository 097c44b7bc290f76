"""``rolecall shell-init --install``: a block in the start-up file that sources a pre-generated file.

Real bash, zsh and fish, interactive. rolecall is reached through a wrapper named ``rolecall`` on PATH that counts
its runs (one line per run in a file), so "a new shell starts no rolecall" and "regenerates once" are counted, not
assumed; strace (when installed) checks that bash starts no process at all. The package is a copy in the test's
folder, so its files can be touched and removed like an upgrade does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rolecall

SHELLS = [s for s in ("bash", "zsh", "fish") if shutil.which(s)]
WRAPPER = """#!/bin/sh
printf '%s\\n' "$*" >> "$RC_COUNTER"
exec {python} -m rolecall "$@"
"""


class Rig:
    """A home with a start-up file for one shell, a private package copy and the counting wrapper."""

    def __init__(self, tmp: Path, shell: str) -> None:
        self.shell = shell
        tmp = tmp / "stub"
        tmp.mkdir()
        self.home = tmp / "home"
        self.home.mkdir()
        self.package = tmp / "pkg"
        shutil.copytree(Path(rolecall.__file__).parent, self.package / "rolecall", symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        bindir = tmp / "bin"
        bindir.mkdir()
        (bindir / "rolecall").write_text(WRAPPER.format(python=sys.executable))
        (bindir / "rolecall").chmod(0o755)
        self.counter = tmp / "runs"
        self.counter.write_text("")
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "credentials").write_text(
            "[static]\naws_access_key_id = AKIASTATICEXAMPLE\naws_secret_access_key = c2VjcmV0\n"
        )
        self.env = {
            "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.home),
            "PYTHONPATH": str(self.package),
            "RC_COUNTER": str(self.counter),
            "TERM": "dumb",
            "LANG": "C.UTF-8",
            "ZDOTDIR": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
        }
        self.generated = self.home / ".aws" / "rolecall" / "shell" / f"init.{shell}"
        self.startup = {
            "bash": self.home / ".bashrc",
            "zsh": self.home / ".zshrc",
            "fish": self.home / ".config" / "fish" / "conf.d" / "rolecall.fish",
        }[shell]
        if shell == "zsh":  # completion needs compinit before the block, as in every zsh set-up that has it
            self.startup.write_text(f"autoload -Uz compinit; compinit -d {self.home}/zcompdump\n")

    def rolecall(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run rolecall (the package copy) directly, not counted."""
        env = dict(self.env, RC_COUNTER=os.devnull)
        return subprocess.run(["rolecall", *args], env=env, capture_output=True, text=True, timeout=60)

    def shell_run(self, script: str) -> subprocess.CompletedProcess[str]:
        """A new interactive shell that reads its start-up file, runs ``script`` and exits."""
        argv = {"bash": ["bash", "--noprofile", "--rcfile", str(self.home / ".bashrc"), "-i", "-c", script],
                "zsh": ["zsh", "-i", "-c", script], "fish": ["fish", "-i", "-c", script]}[self.shell]  # fmt: skip
        return subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)  # fmt: skip

    def runs(self) -> list[str]:
        """The rolecall runs counted so far (their arguments), and a fresh count."""
        lines = self.counter.read_text().splitlines()
        self.counter.write_text("")
        return lines


@pytest.fixture(params=SHELLS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Rig:
    return Rig(tmp_path, request.param)


CHECKS = {
    "bash": "type -t assume; complete -p assume rolecall; ROLECALL_PROFILE=prod; rolecall_prompt_update; "
    'echo "prompt=$ROLECALL_PROMPT"; echo "start-up runs=$(wc -l < "$RC_COUNTER")"; assume static; '
    'echo "key=$AWS_ACCESS_KEY_ID"; trap -p DEBUG',
    "zsh": 'whence -w assume; print -r -- "comp=$_comps[assume] $_comps[rolecall]"; ROLECALL_PROFILE=prod; '
    'rolecall_prompt_update; echo "prompt=$ROLECALL_PROMPT"; echo "start-up runs=$(wc -l < "$RC_COUNTER")"; '
    'assume static; echo "key=$AWS_ACCESS_KEY_ID"; print -l -- $preexec_functions',
    "fish": "type -t assume; complete -c assume; complete -c rolecall; set ROLECALL_PROFILE prod; "
    'rolecall_prompt_update; echo "prompt=$ROLECALL_PROMPT"; echo "start-up runs="(count < $RC_COUNTER); '
    'assume static; echo "key=$AWS_ACCESS_KEY_ID"; functions -q _rolecall_preexec; and echo _rolecall_preexec',
}
COMPLETION = {
    "bash": ["complete -F _rolecall_complete_assume assume", "complete -F _rolecall_complete rolecall"],
    "zsh": ["comp=_rolecall_assume _rolecall"],
    "fish": ["__complete profiles", "__rolecall_complete"],
}


def test_installed_shell_has_everything_and_starts_no_rolecall(rig: Rig) -> None:
    done = rig.rolecall("shell-init", "--install", rig.shell)
    assert done.returncode == 0, done.stderr
    assert str(rig.startup) in done.stderr and str(rig.generated) in done.stderr
    assert oct(rig.generated.stat().st_mode & 0o777) == "0o600"
    assert oct(rig.generated.parent.stat().st_mode & 0o777) == "0o700"
    result = rig.shell_run(CHECKS[rig.shell])
    out = result.stdout
    assert "function" in out, (out, result.stderr)
    for line in COMPLETION[rig.shell]:
        assert line in out, (out, result.stderr)
    assert "prompt=prod" in out
    assert "start-up runs=0" in out
    assert "key=AKIASTATICEXAMPLE" in out, (out, result.stderr)
    assert "_rolecall_preexec" in out or "_rolecall_debug" in out
    assert [run.split()[:1] for run in rig.runs()] == [["env"]]  # assume's own run, and nothing at start-up


@pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")
def test_bash_start_up_starts_no_process(tmp_path: Path) -> None:
    """Not even a fork (no $(...)): strace sees bash itself and nothing else."""
    rig = Rig(tmp_path, "bash")
    assert rig.rolecall("shell-init", "--install", "bash").returncode == 0
    log = tmp_path / "strace"
    argv = ["strace", "-f", "-qq", "-o", str(log), "-e", "trace=execve,clone,clone3,fork,vfork",
            "bash", "--noprofile", "--rcfile", str(rig.startup), "-i", "-c", "type -t assume"]  # fmt: skip
    result = subprocess.run(argv, env=rig.env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.stdout.strip() == "function", result.stderr
    calls = [line for line in log.read_text().splitlines() if "(" in line and "exited" not in line]
    assert len(calls) == 1 and "execve" in calls[0], calls


def _regenerated_once(rig: Rig) -> None:
    """A new shell regenerates the file once (one rolecall run) and has the integration; the next runs none."""
    result = rig.shell_run("type assume >/dev/null && echo ok")
    assert result.stdout.strip().endswith("ok"), result.stderr
    assert [run.split()[:2] for run in rig.runs()] == [["shell-init", "--regenerate"]]
    result = rig.shell_run("type assume >/dev/null && echo ok")
    assert result.stdout.strip().endswith("ok"), result.stderr
    assert rig.runs() == []


def test_an_upgrade_regenerates_once(rig: Rig) -> None:
    assert rig.rolecall("shell-init", "--install", rig.shell).returncode == 0
    rig.shell_run("true")
    assert rig.runs() == []
    stamp = rig.generated.stat().st_mtime_ns  # that of the newest file it is made from
    source = rig.package / "rolecall" / "export.py"
    os.utime(source, ns=(stamp + 10**10, stamp + 10**10))  # changed since (an editable install, edited)
    _regenerated_once(rig)
    for path in (rig.package / "rolecall").rglob("*"):  # reinstalled from a cache: every file older than before
        if not path.is_symlink():
            os.utime(path, ns=(stamp - 10**10, stamp - 10**10))
    _regenerated_once(rig)
    rig.generated.unlink()  # the generated file removed
    _regenerated_once(rig)
    snippet = {"bash": "bash.sh", "zsh": "zsh.zsh", "fish": "rolecall.fish"}[rig.shell]
    text = (rig.package / "rolecall" / "shell" / snippet).read_text()
    (rig.package / "rolecall" / "shell" / snippet).write_text(text + "\n# rolecall_upgraded=yes\n")
    _regenerated_once(rig)
    assert "rolecall_upgraded=yes" in rig.generated.read_text()


def test_uninstall_gives_back_the_file_byte_for_byte(rig: Rig) -> None:
    before = {
        "bash": b"# mine\nexport EDITOR=vi\nalias ll='ls -l'",  # no newline at the end
        "zsh": b"autoload -Uz compinit; compinit -d ZD/zcompdump\r\nPS1='%n> '\n\n",
        "fish": b"set -g fish_greeting ''\n",
    }[rig.shell].replace(b"ZD", str(rig.home).encode())
    rig.startup.parent.mkdir(parents=True, exist_ok=True)
    rig.startup.write_bytes(before)
    for _ in range(2):  # a second install replaces the block in place
        assert rig.rolecall("shell-init", "--install", rig.shell).returncode == 0
    after = rig.startup.read_bytes()
    assert after.count(b">>> rolecall shell-init") == 1
    assert after.startswith(before)
    done = rig.rolecall("shell-init", "--uninstall", rig.shell)
    assert done.returncode == 0, done.stderr
    assert rig.startup.read_bytes() == before
    assert not rig.generated.exists()


def test_the_rest_of_the_file_is_never_touched(rig: Rig) -> None:
    rig.startup.parent.mkdir(parents=True, exist_ok=True)
    head, tail = b"# above\n", b"# below, added after the install\necho tail\n"
    rig.startup.write_bytes(head)
    assert rig.rolecall("shell-init", "--install", rig.shell).returncode == 0
    rig.startup.write_bytes(rig.startup.read_bytes() + tail)
    assert rig.rolecall("shell-init", "--install", rig.shell).returncode == 0
    text = rig.startup.read_bytes()
    assert text.startswith(head) and text.endswith(tail)
    assert rig.rolecall("shell-init", "--uninstall", rig.shell).returncode == 0
    assert rig.startup.read_bytes() == head + tail


def test_fish_conf_d_file_goes_away_with_uninstall(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "fish")
    assert rig.rolecall("shell-init", "--install", "fish").returncode == 0
    assert rig.startup.is_file()
    assert rig.rolecall("shell-init", "--uninstall", "fish").returncode == 0
    assert not rig.startup.exists()


def test_a_planted_symlink_at_the_generated_file_is_refused(rig: Rig) -> None:
    victim = rig.home / "victim"
    victim.write_text("keep me\n")
    rig.generated.parent.mkdir(parents=True, mode=0o700)
    rig.generated.symlink_to(victim)
    done = rig.rolecall("shell-init", "--install", rig.shell)
    assert done.returncode == 7, done.stderr  # FileError (docs/exit-codes.md)
    assert "symbolic link" in done.stderr and "Traceback" not in done.stderr
    assert victim.read_text() == "keep me\n"
    assert not rig.startup.exists() or ">>> rolecall" not in rig.startup.read_text()


def test_an_old_shell_init_line_is_pointed_out(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "bash")
    rig.startup.write_text('eval "$(rolecall shell-init bash)"\n')
    done = rig.rolecall("shell-init", "--install", "bash")
    assert done.returncode == 0
    assert "still has the line" in done.stderr
    assert rig.startup.read_text().startswith('eval "$(rolecall shell-init bash)"\n')


def test_pwsh_has_no_installed_form(tmp_path: Path) -> None:
    rig = Rig(tmp_path, "bash")
    done = rig.rolecall("shell-init", "--install", "pwsh")
    assert done.returncode == 2, done.stderr
    assert "hint" in done.stderr.lower() or "PowerShell" in done.stderr
