"""The profile picker of ``rolecall assume`` without a profile (issue 12): fuzzy ranking, most recent first, and
the real thing in a real terminal (pexpect): the screen lists chains and cached minutes, typing filters, Enter
assumes the pick, Esc cancels; without a terminal nothing changes."""

from __future__ import annotations

import sys

import pexpect

from conftest import run_rolecall
from rolecall.picker import rank


def test_rank_is_fuzzy_prefix_first_and_recent_first() -> None:
    names = ["default", "readonly", "admin", "partner", "deploy", "ops", "prod-admin", "prod-readonly"]
    assert rank(names, "") == names
    assert rank(names, "", recent=["ops", "admin"])[:2] == ["ops", "admin"]
    assert rank(names, "dep")[0] == "deploy"
    assert rank(names, "pra") == ["prod-admin", "prod-readonly"]  # letters spread over the name still match
    assert rank(names, "prad")[0] == "prod-admin"
    assert rank(names, "admin")[:2] == ["admin", "prod-admin"]  # a prefix beats a match inside
    assert rank(names, "zzz") == []
    assert rank(names, "ADM")[0] == "admin"  # case does not matter


def _spawn(env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(sys.executable, ["-m", "rolecall", "assume"], env=env, encoding="utf-8", timeout=30,
                         dimensions=(30, 140))


def test_the_picker_in_a_terminal(sandbox_env: dict[str, str]) -> None:
    env = sandbox_env
    assert run_rolecall(["assume", "readonly"], env).returncode == 0  # cached: the picker shows its minutes
    child = _spawn(env)
    child.expect("Pick a profile")
    child.expect(r"readonly\s+role\s+readonly -> default\s+\d+ min left")
    child.expect(r"ops\s+role\s+ops -> deploy -> readonly -> default")
    child.expect(r"\d+ of \d+ profiles")
    child.send("dpl")
    child.expect(r"profile> dpl")
    child.expect(r"> deploy")
    child.expect(r"1 of \d+ profiles")
    child.send("\r")
    child.expect(r"deploy: arn:aws:sts::123456789012:assumed-role/deploy/")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # Most recently used first, next time; arrows move; Esc cancels with one line and exit 2.
    child = _spawn(env)
    child.expect(r"> deploy")
    child.send("\x1b[B")
    child.expect(r"> readonly")
    child.send("\x1b")
    child.expect("rolecall: no profile was picked")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2


def test_without_a_terminal_the_default_profile_is_used(sandbox_env: dict[str, str]) -> None:
    env = sandbox_env
    done = run_rolecall(["assume"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("default: ") and "Pick a profile" not in done.stderr + done.stdout
