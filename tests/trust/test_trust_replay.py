"""Attacks on the replay (rolecall.replay): a recorded or replayed command must answer as the same command would with
``ROLECALL_REPLAY=0``, and recording it must not change what it does.

Real processes: a Python process that records as the console script does, and ``python -m rolecall`` against the
sandbox STS (the fixtures and helpers of tests/core/test_replay.py).
"""

from __future__ import annotations

import subprocess
import sys

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
