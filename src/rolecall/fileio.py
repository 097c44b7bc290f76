"""Safe file writes: atomic replace, an advisory lock against concurrent writers, permission checks.

Used by the config editor and by the credential caches (the write side of the fast path), so this module
imports only ``os``, ``contextlib`` and ``errno`` at load time; ``fcntl``, ``time`` and ``stat`` come in
inside the functions that need them.
"""

from __future__ import annotations

import contextlib
import os

from rolecall.errors import FileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["atomic_write", "exclusive_lock", "permission_warning", "read_bytes", "remove_special"]


def _describe(error: OSError) -> str:
    """The OS's reason without the path (the caller names the path once)."""
    return error.strerror or type(error).__name__


def _make_dirs(folder: str, dir_mode: int) -> None:
    """Create ``folder`` and missing parents with exactly ``dir_mode`` (the umask would otherwise loosen or
    tighten it); folders that already exist are left as they are."""
    if not folder or os.path.isdir(folder):
        return
    parent = os.path.dirname(folder)
    if parent and parent != folder:
        _make_dirs(parent, dir_mode)
    try:
        os.mkdir(folder, dir_mode)
    except FileExistsError:
        return  # created by a concurrent writer: theirs is as good as ours
    os.chmod(folder, dir_mode)


def _real_target(path: str) -> str:
    """Write through a symlink rather than replace it: people keep ~/.aws/config in a dotfiles repository."""
    if os.path.islink(path):
        return os.path.realpath(path)
    return path


def atomic_write(path: str, data: bytes, *, mode: int = 0o600, dir_mode: int = 0o700) -> None:
    """Replace the contents of ``path`` with ``data`` so that readers see the old or the new file, never a mix.

    Missing parent folders are created with ``dir_mode``. The data goes to a temporary file in the same
    folder (same file system, so the rename is atomic), which is flushed to disk, renamed over ``path``,
    and the folder is synced so the rename itself survives a crash. An existing file keeps its permission
    bits (and its owner and group where the OS allows); a new file gets ``mode``. A symlink at ``path`` is
    followed, not replaced. Raises ``FileError`` (with a hint) when anything fails; the temporary file is
    removed then.
    """
    target = _real_target(path)
    folder = os.path.dirname(os.path.abspath(target))
    try:
        _make_dirs(folder, dir_mode)
    except OSError as error:
        raise FileError(
            f"cannot create the folder {folder}: {_describe(error)}",
            hint="check that the parent folder exists and is writable by you",
        ) from error

    keep_owner: tuple[int, int] | None = None
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        final_mode = mode
    except OSError as error:
        raise FileError(
            f"cannot inspect {target}: {_describe(error)}", hint="check the permissions of the file and its folder"
        ) from error
    else:
        final_mode = existing.st_mode & 0o7777
        keep_owner = (existing.st_uid, existing.st_gid)

    # A random name, not the pid alone: two threads of one process may write the same file.
    temp = os.path.join(folder, f".{os.path.basename(target)}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    try:
        # 0600 while being written, whatever the final mode: the data may be a secret.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        raise FileError(
            f"cannot write to the folder {folder}: {_describe(error)}",
            hint="check that the folder is writable by you and the disk is not full",
        ) from error
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            if keep_owner is not None and hasattr(os, "fchown"):
                with contextlib.suppress(OSError):  # only root may give a file away; that is fine
                    os.fchown(fd, *keep_owner)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, final_mode)  # after fchown, which may clear setuid/setgid bits
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(temp, final_mode)
        os.replace(temp, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise FileError(
            f"cannot write {target}: {_describe(error)}",
            hint="check the permissions of the file and its folder, and that the disk is not full",
        ) from error
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(folder)
    _remove_stale_temps(folder, os.path.basename(target))


#: A temporary file older than this whose writer is gone was left by a killed writer.
_STALE_SECONDS = 60.0


def _remove_stale_temps(folder: str, name: str) -> None:
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
        with contextlib.suppress(OSError):
            if now - os.lstat(path).st_mtime > _STALE_SECONDS:
                os.unlink(path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def _fsync_dir(folder: str) -> None:
    """Make the rename durable; not every OS or file system can open a folder, which is not an error."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_special(path: str) -> bool:
    """Delete what is at ``path`` when it can only be junk in place of a file the program owns; True if deleted.

    For the files of rolecall's caches, before ``atomic_write``: a named pipe, a device node, a socket, or a
    symlink that is dangling, loops, or leads to anything but a regular file or a folder. ``atomic_write``
    would write through such a symlink (and, for root, replace ``/dev/zero`` itself) or keep a pipe's mode.
    Only the link or node is removed, never what a link points to. A regular file, a folder, a symlink to
    either, or nothing at all is left as it is (a folder makes the write fail, as it should). Never raises:
    what cannot be removed makes the write that follows fail with its own error.
    """
    import stat

    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            try:
                mode = os.stat(path).st_mode
            except OSError:
                mode = 0  # dangling, or a loop
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            return False
        os.unlink(path)
    except OSError:
        return False
    return True


def read_bytes(path: str) -> bytes | None:
    """The bytes of ``path``, or ``None`` when it does not exist. Other failures raise ``FileError``."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError as error:
        raise FileError(f"{path} is a folder, not a file", hint="point the setting at a file") from error
    except OSError as error:
        raise FileError(
            f"cannot read {path}: {_describe(error)}", hint="check the permissions of the file and its folder"
        ) from error


class LockTimeoutError(FileError):
    """The lock stayed held by someone else for the whole timeout (as opposed to a lock that cannot be made)."""


@contextlib.contextmanager
def exclusive_lock(path: str, timeout: float = 30.0) -> Iterator[None]:
    """Hold an advisory exclusive lock for ``path`` while the ``with`` block runs.

    The lock is taken (``fcntl.flock``) on a sidecar file ``<path>.lock`` created with mode 0600 (its folder
    0700 when missing), never on ``path`` itself: ``path`` is replaced by ``atomic_write``, and a lock on a
    replaced inode protects nothing. Waits up to ``timeout`` seconds, then raises ``FileError``. The lock is
    not re-entrant: taking it again in the same process while held waits for itself.
    On systems without ``fcntl`` (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    import time

    lock_path = _real_target(path) + ".lock"
    try:
        _make_dirs(os.path.dirname(os.path.abspath(lock_path)), 0o700)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as error:
        raise FileError(
            f"cannot create the lock file {lock_path}: {_describe(error)}",
            hint="check that the folder is writable by you",
        ) from error
    try:
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
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
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def permission_warning(path: str) -> str | None:
    """The warning for a credentials file that group or others may read or write, or ``None``.

    ``None`` too when the file does not exist or the OS has no POSIX permissions (Windows).
    """
    if os.name != "posix":
        return None
    try:
        bits = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    if not bits & 0o077:
        return None
    who = "group and others" if bits & 0o070 and bits & 0o007 else ("others" if bits & 0o007 else "its group")
    return (
        f"{path} can be read or written by {who} (mode {bits:04o}), and it holds secrets; "
        f"fix it with: chmod 600 {path}"
    )
