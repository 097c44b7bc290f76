"""Attacks on the replay (rolecall.replay): a recorded or replayed command must answer as the same command would with
``ROLECALL_REPLAY=0``, and recording it must not change what it does.

Real processes: a Python process that records as the console script does, and ``python -m rolecall`` against the
sandbox STS (the fixtures and helpers of tests/core/test_replay.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_replay import RACY, _record, _replayed, _run, cached_env, keys_into_config  # noqa: F401 - a fixture

#: A process that starts a recording as ``cli.main`` does, then asks what a command asks: which ``os`` functions
#: take ``dir_fd``, ``effective_ids``..., and whether shutil (imported for the first time while recording, as
#: ``shutil.which`` is on some hot paths) chose the rmtree that resists symlink attacks.
_ASK_WHILE_RECORDING = """
import os
from rolecall import replayrecord

SETS = ("supports_dir_fd", "supports_fd", "supports_follow_symlinks", "supports_effective_ids")

def answers():
    return [[function in getattr(os, which) for function in (os.stat, os.lstat, os.access)] for which in SETS]

before = answers()
replayrecord.start(["env", "ops"])
during = answers()
import shutil
safe_rmtree = shutil.rmtree.avoids_symlink_attacks
replayrecord.stop()
print(before == during, safe_rmtree, before == answers())
"""


def test_recording_changes_no_branch_the_command_takes() -> None:
    """The stand-ins for ``os.stat``/``lstat``/``access`` are in the ``os.supports_*`` sets their originals are in:
    without that, fileio's writable check took another branch while recorded, and a shutil first imported during a
    recording kept the rmtree that follows symlinks for the rest of the process."""
    done = subprocess.run([sys.executable, "-c", _ASK_WHILE_RECORDING], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]


def test_the_time_left_is_the_status_lines_not_an_earlier_match() -> None:
    """The status line comes last: a warning or a profile name with the same words before it keeps its text."""
    from rolecall.replaysnapshot import _with_time_left

    parts: list[object] = ["rolecall: warning: profile '58 min left' is odd\n[ops] 1 role/ops, 58 min left (cached)\n"]
    assert _with_time_left(parts, "58 min left", 1000.0) == [
        "rolecall: warning: profile '58 min left' is odd\n[ops] 1 role/ops, ",
        (1000.0,),
        " (cached)\n",
    ]


def test_a_dangling_link_where_a_file_was_missing_is_a_miss(cached_env: dict[str, str]) -> None:  # noqa: F811
    """Missing then a dangling link: os.stat fails on both, yet the guarded reads tell them apart."""
    credentials = keys_into_config(cached_env)
    time.sleep(RACY)
    _record(["env", "ops"], cached_env)
    credentials.symlink_to(credentials.parent / "nowhere")
    _done, modules = _run(["env", "ops"], cached_env)
    assert not _replayed(modules)


def test_the_working_folder_on_the_import_path_is_still_an_input(cached_env: dict[str, str]) -> None:  # noqa: F811
    """``python -m`` puts the working folder on sys.path; run from inside the cache folder, that folder's owner is
    still checked by a replay."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the folder to another user")
    folder = Path(cached_env["HOME"]) / ".aws" / "cli" / "cache"
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "rolecall", "env", "ops"], env=cached_env, cwd=folder,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
    os.chown(folder, 65534, 65534)
    done = subprocess.run([sys.executable, "-m", "rolecall", "env", "ops"], env=cached_env, cwd=folder,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "belongs to another user" in done.stderr


@pytest.mark.parametrize("target", ["/dev/full", "closed"])
def test_a_stdout_that_refuses_the_answer_fails_as_the_command_does(
    cached_env: dict[str, str], target: str  # noqa: F811
) -> None:
    _record(["env", "ops"], cached_env)
    results = []
    for switch in ("1", "0"):
        env = {**cached_env, "ROLECALL_REPLAY": switch}
        command = [sys.executable, "-m", "rolecall", "env", "ops"]
        if target == "closed":
            done = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *command], env=env, capture_output=True,
                                  text=True, timeout=60)  # fmt: skip
        else:
            with open(target, "w") as sink:
                done = subprocess.run(command, env=env, stdout=sink, stderr=subprocess.PIPE, text=True, timeout=60)
        results.append((done.returncode, done.stderr))
    assert results[0] == results[1] and results[0][0] != 0
