"""One whole-process timing for the benchmarks: start a command, wait for it, check it ended as expected."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Collection


def time_process(argv: list[str], env: dict[str, str], ok: Collection[int] = (0,)) -> tuple[float, str]:
    """Seconds from start to exit of ``argv`` (stdout thrown away, stdin empty) and its stderr; ``SystemExit``
    with the end of stderr when its exit status is not in ``ok``."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    stderr = done.stderr.decode(errors="replace")
    if done.returncode not in ok:
        raise SystemExit(f"{argv} failed ({done.returncode}): {stderr[-500:]}")
    return elapsed, stderr
