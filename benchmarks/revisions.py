"""A checkout of another revision for the benchmarks' side-by-side runs (``--against REV``)."""

from __future__ import annotations

import compileall
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worktree_of(revision: str, parent: str) -> str:
    """A detached git worktree of ``revision`` in ``parent``, its ``src`` compiled to bytecode (this machine may set
    PYTHONDONTWRITEBYTECODE, and a first run must not pay for compiling); removed with ``parent``."""
    path = os.path.join(parent, "tree")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", path, revision],
                   check=True, capture_output=True)  # fmt: skip
    compileall.compile_dir(os.path.join(path, "src", "rolecall"), quiet=1)
    return path
