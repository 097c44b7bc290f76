"""Safe file writes: atomic replace, an advisory lock against concurrent writers, permission checks.

Two kinds of file are written (docs/security.md, "A local attacker"): the user's own files (config,
credentials), where a symlink is followed only when it is safe and anything but a regular file, or a read-only
one, is refused; and rolecall's caches (``private=True``), where nothing at the path is ever written through,
new files are always 0600 and this user's, and the folder must be this user's and closed to others.

Used by the config editor and by the credential caches (the write side of the fast path), so this module
imports only ``os`` and ``errno`` at load time; ``fcntl``, ``time`` and ``stat`` come in
inside the functions that need them.
"""

from __future__ import annotations

import os

from rolecall.errors import FileError
from rolecall.ownership import trusted_owner

__all__ = [
    "LockTimeoutError",
    "atomic_write",
    "exclusive_lock",
    "fsync_dir",
    "permission_warning",
    "private_folder",
    "read_bytes",
    "remove_special",
    "trusted_owner",
    "writable_target",
]


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


def _kind(mode: int) -> str:
    """What a ``stat`` mode is, as a noun phrase for messages."""
    import stat

    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


#: The hint for a user's file that is not a regular file (the two settings that usually name such a path).
_REGULAR_HINT = (
    "rolecall replaces only regular files: if AWS_SHARED_CREDENTIALS_FILE or AWS_CONFIG_FILE names this path, "
    "point it at a regular file"
)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _owner_of(path: str) -> int:
    """The owner of ``path`` or, when it does not exist (yet), of its nearest existing ancestor."""
    while True:
        try:
            return os.stat(path).st_uid
        except OSError:
            parent = os.path.dirname(path)
            if parent == path:
                return -1
            path = parent


def _resolve_user_path(path: str) -> str:
    """Where a write to the user's file ``path`` lands: its symlinks followed, but only the safe ones.

    People keep ``~/.aws/config`` in a dotfiles repository, so a link is followed rather than replaced. Like
    Linux's ``fs.protected_symlinks``, but for every link on the way (in the folders too): a link is followed only
    when it belongs to this user, to root, or to the owner of what it finally leads to (the file, or the folder a
    missing file would be created in). So root running with a user's HOME (``sudo -E``) can follow that user's
    link to that user's file, and never the user's link to ``/etc/shadow``. Raises ``FileError``.
    """
    if os.name != "posix":
        return os.path.realpath(path) if os.path.islink(path) else path
    import stat

    pending = list(reversed((path if os.path.isabs(path) else os.path.join(os.getcwd(), path)).split("/")))
    resolved = "/"
    links: list[tuple[str, int]] = []
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, part)
        try:
            info = _lstat(candidate)
        except OSError as error:
            raise FileError(
                f"cannot inspect {candidate}: {_describe(error)}", hint="check the permissions of its folders"
            ) from error
        if info is None:  # the rest does not exist yet: it is created as named
            resolved = os.path.normpath(os.path.join(candidate, *reversed(pending)))
            break
        if not stat.S_ISLNK(info.st_mode):
            resolved = candidate
            continue
        if len(links) >= 40:
            raise FileError(f"{path} goes through too many symbolic links", hint="check the links for a loop")
        links.append((candidate, info.st_uid))
        text = os.readlink(candidate)
        if text.startswith("/"):
            resolved = "/"
        pending.extend(reversed(text.split("/")))
    if links:
        owner = _owner_of(resolved)
        me = os.geteuid()
        for link, uid in links:
            if uid not in (me, 0, owner):
                raise FileError(
                    f"{link} is a symbolic link of another user (uid {uid}) leading to {resolved}, which is not "
                    f"theirs; rolecall does not write through it",
                    hint="replace the link with the file itself, or make the link and its target belong to the "
                    "same user (as root, do not run with another user's HOME)",
                )
    return resolved


def _check_replaceable(path: str, target: str, info: os.stat_result) -> None:
    """Refuse (``FileError``) a user's file that is there but is not a regular file: never renamed over."""
    import stat

    if stat.S_ISREG(info.st_mode):
        return
    where = path if path == target else f"{path} (which leads to {target})"
    raise FileError(
        f"{where} is {_kind(info.st_mode)}, not a regular file; rolecall leaves it alone", hint=_REGULAR_HINT
    )


def _check_writable(target: str, info: os.stat_result, dir_fd: int | None, name: str) -> None:
    """Refuse (``FileError``) to replace a file its owner made read-only, or one this user may not write.

    By the mode bits, for root too (root may write anything, but a 0444 file says "do not change me"); the
    AWS CLI fails on such a file with Permission denied.
    """
    if os.name != "posix":
        return
    bits = info.st_mode & 0o7777
    if not bits & 0o200:
        raise FileError(
            f"{target} is read-only (mode {bits:04o}); rolecall does not change it",
            hint=f"if you mean to change it, make it writable first: chmod u+w {target}",
        )
    if os.geteuid() != 0:
        effective = os.access in os.supports_effective_ids
        if dir_fd is not None and os.access in os.supports_dir_fd:
            writable = os.access(name, os.W_OK, dir_fd=dir_fd, effective_ids=effective)
        else:
            writable = os.access(target, os.W_OK, effective_ids=effective)
        if not writable:
            raise FileError(
                f"{target} is not writable by you (owner uid {info.st_uid}, mode {bits:04o})",
                hint="check the owner and permissions of the file",
            )


def writable_target(path: str) -> str:
    """The file a write to the user's file ``path`` replaces (see ``atomic_write``); checks it may be replaced.

    Safe symlinks followed (``_resolve_user_path``); what is there must be a regular file (or nothing). Raises
    ``FileError`` otherwise. Does not check the permission bits: ``exclusive_lock`` uses it too, and a lock
    beside a read-only file is harmless.
    """
    target = _resolve_user_path(path)
    try:
        info = _lstat(target)
    except OSError as error:
        raise FileError(
            f"cannot inspect {target}: {_describe(error)}", hint="check the permissions of the file and its folder"
        ) from error
    if info is not None:
        _check_replaceable(path, target, info)
    return target


def private_folder(folder: str, *, dir_mode: int = 0o700, loose: int = 0o022) -> None:
    """Make sure ``folder`` is a place for rolecall's cached secrets: created ``dir_mode`` when missing, owned by a
    trusted user (``trusted_owner``), and not open to others in the ``loose`` bits (tightened to 0700 if it is).

    A folder shared on purpose (sticky, like /tmp) is refused rather than tightened. Raises ``FileError``.
    """
    import stat

    try:
        _make_dirs(folder, dir_mode)
        info = os.stat(folder)
    except OSError as error:
        raise FileError(
            f"cannot create the folder {folder}: {_describe(error)}",
            hint="check that the parent folder exists and is writable by you",
        ) from error
    if not stat.S_ISDIR(info.st_mode):
        raise FileError(f"{folder} is {_kind(info.st_mode)}, not a folder", hint=f"remove {folder}")
    if os.name != "posix":
        return
    if not trusted_owner(info.st_uid):
        raise FileError(
            f"the folder {folder} belongs to another user (uid {info.st_uid}); rolecall keeps no secret there",
            hint=f"remove {folder} (rolecall creates it again, private)",
        )
    if info.st_mode & loose:
        if info.st_mode & stat.S_ISVTX:
            raise FileError(
                f"the folder {folder} is shared with other users (mode {info.st_mode & 0o7777:04o})",
                hint="point rolecall's folders at a private place",
            )
        try:
            os.chmod(folder, 0o700)
        except OSError as error:
            raise FileError(
                f"cannot make the folder {folder} private: {_describe(error)}", hint=f"run: chmod 700 {folder}"
            ) from error


def _open_folder(folder: str) -> int | None:
    """A descriptor of ``folder`` opened one component at a time without following any link, or None where the
    OS cannot do that. A link swapped into the path after it was resolved makes this fail (``OSError``)."""
    if os.name != "posix" or os.open not in os.supports_dir_fd:
        return None
    # O_PATH (Linux): a folder one may search but not list (a 0711 home) can still be walked through.
    flags = (getattr(os, "O_PATH", 0) or os.O_RDONLY) | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open("/", flags)
    try:
        for part in folder.split("/"):
            if not part:
                continue
            inner = os.open(part, flags | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def atomic_write(
    path: str, data: bytes, *, mode: int = 0o600, dir_mode: int = 0o700, private: bool = False, durable: bool = True
) -> None:
    """Replace the contents of ``path`` with ``data`` so that readers see the old or the new file, never a mix.

    Missing parent folders are created with ``dir_mode``. The data goes to a temporary file in the same
    folder (same file system, so the rename is atomic), which is flushed to disk, renamed over ``path``,
    and the folder is synced so the rename itself survives a crash. The folder is walked without following
    links once resolved, so nothing swapped in meanwhile redirects the write. Raises ``FileError`` (with a hint)
    when anything fails; the temporary file is removed then.

    Two kinds of file:

    * the user's own files (the default: config, credentials): a symlink at ``path`` is followed when safe
      (``_resolve_user_path``: not another user's link to a file that is not theirs); what is there must be a
      regular file (a device, a pipe or a socket is refused, never renamed over) that its owner has not made
      read-only. It keeps its permission bits (and its owner and group where the OS allows); a new file gets
      ``mode``.
    * ``private=True``, rolecall's caches: the folder must pass ``private_folder`` (a trusted owner; tightened
      to 0700 if others may write to it); whatever is at ``path`` (a link, a pipe, another user's file) is
      replaced, never written through, and the new file always has ``mode`` and belongs to this user.

    ``durable=False`` skips the two ``fsync`` calls, for files that are worth nothing after a crash (a replay
    snapshot: an empty or missing one is only a miss): the write stays atomic for readers.
    """
    if private:
        folder, name = os.path.split(os.path.abspath(path))
        private_folder(folder, dir_mode=dir_mode)
    else:
        folder, name = os.path.split(writable_target(path))
        try:
            _make_dirs(folder, dir_mode)
        except OSError as error:
            raise FileError(
                f"cannot create the folder {folder}: {_describe(error)}",
                hint="check that the parent folder exists and is writable by you",
            ) from error
    target = os.path.join(folder, name)
    try:
        dir_fd = _open_folder(folder)
    except OSError as error:
        raise FileError(
            f"cannot open the folder {folder}: {_describe(error)}",
            hint="check the folder (it may have been replaced while rolecall wrote to it) and try again",
        ) from error
    try:
        _write_in(folder, dir_fd, name, target, path, data, mode, private, durable)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    from rolecall.staletemps import remove_stale_temps  # after the write, off the load-time imports

    remove_stale_temps(folder, name)


def _kept_state(
    entry: str, dir_fd: int | None, name: str, target: str, path: str, mode: int
) -> tuple[int, tuple[int, int] | None]:
    """The mode and (uid, gid) the new file takes over from the user's file it replaces (``entry``, relative to
    ``dir_fd`` when there is one); ``(mode, None)`` for a new file. Refuses what must not be replaced."""
    try:
        existing = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return mode, None
    except OSError as error:
        raise FileError(
            f"cannot inspect {target}: {_describe(error)}", hint="check the permissions of the file and its folder"
        ) from error
    _check_replaceable(path, target, existing)  # also a link swapped in since it was resolved
    _check_writable(target, existing, dir_fd, name)
    return existing.st_mode & 0o7777, (existing.st_uid, existing.st_gid)


def _fill(fd: int, data: bytes, final_mode: int, keep_owner: tuple[int, int] | None, durable: bool = True) -> None:
    """Write all of ``data`` to the temporary file ``fd``, flush it to disk (when ``durable``), then give it its
    owner and mode."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    if durable:
        os.fsync(fd)
    if keep_owner is not None and hasattr(os, "fchown"):
        try:  # noqa: SIM105 - (see ExclusiveLock) only root may give a file away; that is fine
            os.fchown(fd, *keep_owner)
        except OSError:
            pass
    if hasattr(os, "fchmod"):
        os.fchmod(fd, final_mode)  # after fchown, which may clear setuid/setgid bits


def _write_in(
    folder: str, dir_fd: int | None, name: str, target: str, path: str, data: bytes, mode: int, private: bool,
    durable: bool = True,
) -> None:
    """The body of ``atomic_write`` once the folder is open: names are relative to ``dir_fd`` when there is one."""

    def at(entry: str) -> str:
        return entry if dir_fd is not None else os.path.join(folder, entry)

    final_mode, keep_owner = (mode, None) if private else _kept_state(at(name), dir_fd, name, target, path, mode)
    # A random name, not the pid alone: two threads of one process may write the same file.
    temp = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        # 0600 while being written, whatever the final mode: the data may be a secret.
        fd = os.open(at(temp), flags, 0o600, dir_fd=dir_fd)
    except OSError as error:
        raise FileError(
            f"cannot write to the folder {folder}: {_describe(error)}",
            hint="check that the folder is writable by you and the disk is not full",
        ) from error
    try:
        try:
            _fill(fd, data, final_mode, keep_owner, durable)
        finally:
            os.close(fd)
        if not hasattr(os, "fchmod"):
            os.chmod(at(temp), final_mode)
        os.replace(at(temp), at(name), src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as error:
        try:  # noqa: SIM105 - not contextlib.suppress: contextlib is not imported here (ExclusiveLock)
            os.unlink(at(temp), dir_fd=dir_fd)
        except OSError:
            pass
        raise FileError(
            f"cannot write {target}: {_describe(error)}",
            hint="check the permissions of the file and its folder, and that the disk is not full",
        ) from error
    except BaseException:
        try:  # noqa: SIM105 - not contextlib.suppress: contextlib is not imported here (ExclusiveLock)
            os.unlink(at(temp), dir_fd=dir_fd)
        except OSError:
            pass
        raise
    if not durable:
        return
    if dir_fd is not None:
        fsync_dir(".", dir_fd)  # make the rename durable (the walked folder, not whatever its path names now)
    else:
        fsync_dir(folder)


def fsync_dir(folder: str, at: int | None = None) -> None:
    """Make a rename in ``folder`` (relative to the folder descriptor ``at``, when given) durable; not every OS
    or file system can open a folder, which is not an error."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0), dir_fd=at)
    except OSError:
        return
    try:
        try:  # noqa: SIM105 - not contextlib.suppress: contextlib is not imported here (ExclusiveLock)
            os.fsync(dir_fd)
        except OSError:
            pass
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


# The locks live in their own module (they use this one's path checks); every caller takes them from here.
from rolecall.filelock import LockTimeoutError, exclusive_lock  # noqa: E402
