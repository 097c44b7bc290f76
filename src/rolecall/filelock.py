"""Advisory file locks (``exclusive_lock``): one writer at a time for a user's file or a cache entry.

Imported through ``rolecall.fileio``, whose path checks (``writable_target``) it uses. Loads nothing at import time
beyond ``os`` and rolecall's errors; ``fcntl`` and ``time`` come in when a lock is taken.
"""

from __future__ import annotations

import os

from rolecall.errors import FileError
from rolecall.fileio import _describe, _kind, _lstat, _make_dirs, writable_target

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType


def _open_lock(lock_path: str) -> int:
    """Open (creating it 0600 if missing) the lock file ``lock_path``: never through a link, a regular file only."""
    import errno
    import stat

    hint = f"if no other rolecall or aws process is running, delete {lock_path}"
    try:
        _make_dirs(os.path.dirname(os.path.abspath(lock_path)), 0o700)
        info = _lstat(lock_path)
        if info is not None and not stat.S_ISREG(info.st_mode):  # before opening: opening a device may act
            raise FileError(f"the lock file {lock_path} is {_kind(info.st_mode)}; rolecall does not use it", hint=hint)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(lock_path, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW met a link (planted after the look above)
            raise FileError(
                f"the lock file {lock_path} is a symbolic link; rolecall does not use it", hint=hint
            ) from error
        raise FileError(
            f"cannot create the lock file {lock_path}: {_describe(error)}",
            hint="check that the folder is writable by you",
        ) from error
    try:
        info = os.fstat(fd)
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "not a regular file" if info is None else _kind(info.st_mode)
        raise FileError(f"the lock file {lock_path} is {what}; rolecall does not use it", hint=hint)
    return fd


class LockTimeoutError(FileError):
    """The lock stayed held by someone else for the whole timeout (as opposed to a lock that cannot be made)."""


class ExclusiveLock:
    """Hold an advisory exclusive lock for ``path`` while the ``with`` block runs.

    The lock is taken (``fcntl.flock``) on a sidecar file ``<path>.lock`` created with mode 0600 (its folder
    0700 when missing), never on ``path`` itself: ``path`` is replaced by ``atomic_write``, and a lock on a
    replaced inode protects nothing. For a user's file (the default) ``path`` is resolved as ``atomic_write``
    resolves it (safe symlinks only) and must be a regular file or nothing, so no lock is ever made beside a
    device, a pipe or a socket; with ``private=True`` (rolecall's caches and lock folders) ``path`` is taken as
    it is. The lock file itself is opened without following a symlink and must be a regular file: a link
    planted at ``config.lock`` never makes rolecall create or truncate a file elsewhere. Waits up to
    ``timeout`` seconds, then raises ``LockTimeoutError``; other failures are ``FileError``. The lock is not
    re-entrant: taking it again in the same process while held waits for itself.
    On systems without ``fcntl`` (Windows) the block runs unlocked.

    A class rather than ``contextlib.contextmanager``: importing ``contextlib`` (with ``collections`` and
    ``functools``) costs a hot command that writes a file about a millisecond.
    """

    def __init__(self, path: str, timeout: float = 30.0, *, private: bool = False) -> None:
        self.path = path
        self.timeout = timeout
        self.private = private
        self._fd: int | None = None

    def __enter__(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        lock_path = (self.path if self.private else writable_target(self.path)) + ".lock"
        fd = _open_lock(lock_path)
        try:
            _wait_for_lock(fcntl, fd, lock_path, self.path, self.timeout)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def __exit__(self, *exc_info: object) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


#: ``with exclusive_lock(path, timeout, private=...):`` is how every caller takes a lock.
exclusive_lock = ExclusiveLock


def _wait_for_lock(fcntl: ModuleType, fd: int, lock_path: str, path: str, timeout: float) -> None:
    """Take the lock on ``fd``, waiting up to ``timeout`` seconds (``LockTimeoutError`` after that)."""
    import time

    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as error:
            raise FileError(
                f"cannot lock {lock_path}: {_describe(error)}",
                hint="the file system may not support locks; move the file to a local disk",
            ) from error
        if time.monotonic() >= deadline:
            raise LockTimeoutError(
                f"timed out after {timeout:g} s waiting for another rolecall to finish writing {path}",
                hint=f"if no other rolecall or aws process is running, delete {lock_path}",
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.1)  # quick when contended briefly, gentle when held long
