"""Clean-up after killed writers: the temporary files ``fileio.atomic_write`` leaves when its process dies.

``atomic_write`` writes to ``.NAME.PID.HEX.tmp`` (12 hex digits) next to the file and renames it over the file;
a writer killed between the two leaves the temporary file behind. ``remove_stale_temps`` deletes those whose
process is gone. Imported by ``atomic_write`` after a write, so it costs nothing at load time.
"""

from __future__ import annotations

import os

__all__ = ["remove_stale_temps"]


#: A temporary file older than this whose writer is gone was left by a killed writer.
_STALE_SECONDS = 60.0


def remove_stale_temps(folder: str, name: str) -> None:
    """Delete temporary files a killed writer left for ``name`` (``.NAME.PID.HEX.tmp``, PID no longer running).

    Best effort and cheap: only names of exactly our pattern, only when older than a minute, never when the
    process that made it still runs.
    """
    prefix = f".{name}."
    try:
        entries = [entry for entry in os.listdir(folder) if entry.startswith(prefix) and entry.endswith(".tmp")]
    except OSError:
        return
    if not entries:
        return
    import time

    now = time.time()
    for entry in entries:
        parts = entry[len(prefix) : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or len(parts[1]) != 12:
            continue
        pid = int(parts[0])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        path = os.path.join(folder, entry)
        try:  # not contextlib.suppress: importing contextlib costs a hot command that writes a file ~1 ms
            if now - os.lstat(path).st_mtime > _STALE_SECONDS:
                os.unlink(path)
        except OSError:
            continue


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True
