"""A writer killed with SIGKILL at random points never leaves a torn file: the file always parses and equals
either the old content or one of the complete new contents."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from botocore.configloader import load_config

from rolecall.config.edit import SectionRef, apply_changes, update_section

KILLS = 200
INITIAL = (
    "# a config file with some bulk, so that a write takes long enough to be interrupted\r\n"
    "[default]\r\nregion = us-east-1\r\ncounter = 0\r\n"
    + "".join(f"[profile p{i}]\r\nregion = eu-west-{i % 3}\r\n; comment {i}\r\n" for i in range(60))
)


def _changes(step: int) -> dict[str, str | dict[str, str | None] | None]:
    # Values change length with the step, so a torn write could not look complete by accident.
    return {"counter": str(step), "payload": "x" * (step % 97), "s3": {"max_concurrency": str(step)}}


def _writer(path: str, start: int) -> None:
    """The child: write steps start, start+1, ... until killed."""
    step = start
    while True:
        update_section(path, SectionRef.profile("default"), _changes(step))
        step += 1


def test_sigkilled_writers_leave_old_or_new_complete_file(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(INITIAL.encode())
    rng = random.Random(os.environ.get("ROLECALL_CRASH_SEED", "0"))
    # Every complete content a writer can produce, by step (steps are cumulative but idempotent per step).
    expected_text: dict[int, str] = {}

    def text_for(step: int) -> str:
        if step not in expected_text:
            expected_text[step] = apply_changes(INITIAL, SectionRef.profile("default"), _changes(step))
        return expected_text[step]

    started = time.monotonic()
    next_start = 1
    seen_steps: set[int] = set()
    for _ in range(KILLS):
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                _writer(str(path), next_start)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.06))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        text = path.read_bytes().decode()
        parsed = load_config(str(path))  # always parses
        if text == INITIAL:
            step = 0
        else:
            step = int(parsed["profiles"]["default"]["counter"])
            assert text == text_for(step), f"torn or unexpected content at step {step}"
        seen_steps.add(step)
        assert len(parsed["profiles"]) == 61
        # The next writer continues from here, so we also see steps that replaced a written file.
        next_start = step + 1
    elapsed = time.monotonic() - started
    assert elapsed < 90, elapsed
    # The kills landed at many different points (not all before the first write).
    assert len(seen_steps) > KILLS // 10, len(seen_steps)
    # A killed writer can leave its temporary file behind, but never a lock that blocks the next one.
    update_section(str(path), SectionRef.profile("default"), {"counter": "final"}, lock_timeout=5)
    assert load_config(str(path))["profiles"]["default"]["counter"] == "final"
