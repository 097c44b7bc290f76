"""The guarded reader: a regular file's bytes, never waiting on or trusting whatever else is at a path.

Used for every cache (the AWS CLI's, the MFA sessions, SSO tokens, used codes, the picker) and for the key file.
"""

from __future__ import annotations

import os

from rolecall.ownership import trusted_owner

__all__ = ["MAX_FILE_SIZE", "UntrustedFileError", "has_control_characters", "has_unencodable_text", "read_regular_file"]

#: Far above any real entry (an STS response is about 1.5 KB, a used-codes memory less): a bigger file is
#: refused rather than read into memory.
MAX_FILE_SIZE = 1 << 20


def _check_regular(mode: int, size: int, limit: int) -> None:
    """Raise ``OSError`` (without the path: the caller names it) unless a regular file of at most ``limit``."""
    import stat

    if stat.S_ISREG(mode) and size <= limit:
        return
    import errno

    if stat.S_ISREG(mode):
        raise OSError(errno.EFBIG, f"larger than {limit} bytes")
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise OSError(errno.EINVAL, f"not a regular file but {kind}")


class UntrustedFileError(OSError):
    """A cache file (or its folder) that must not be believed: another user's, open to others, or a link.

    ``strerror`` says why, in words for the one warning line (without the path).
    """


def _untrusted(info: os.stat_result) -> UntrustedFileError | None:
    """Why a cache entry with this ``stat`` must not be believed (another user's, writable by others), or None."""
    import errno

    if os.name != "posix":
        return None
    if not trusted_owner(info.st_uid):
        return UntrustedFileError(errno.EPERM, f"it belongs to another user (uid {info.st_uid})")
    bits = info.st_mode & 0o777
    if bits & 0o022:
        who = "its group and others" if bits & 0o020 and bits & 0o002 else "others" if bits & 0o002 else "its group"
        return UntrustedFileError(errno.EPERM, f"it is writable by {who} (mode {bits:04o})")
    return None


def read_regular_file(path: str, limit: int = MAX_FILE_SIZE, *, private: bool = False) -> bytes | None:
    """The bytes of the regular file ``path`` (a symlink to one is fine), or ``None`` when nothing is there.

    Never waits on nor reads from anything else: a folder, a named pipe, a device such as ``/dev/zero`` (also
    behind a symlink) or a socket raise ``OSError``, as does a file over ``limit`` bytes or one that cannot be
    opened (permissions, a symlink loop). The file is opened with ``O_NONBLOCK`` (opening a pipe does not wait
    for a writer) and checked again on the open descriptor, so something swapped in after the first look is
    caught too. The ``OSError``'s ``strerror`` says what is wrong, without the path.

    With ``private`` (rolecall's caches), also ``UntrustedFileError`` for a symlink (never followed: caches hold
    plain files), a file of another user (``trusted_owner``) and one its group or others may write.
    """
    import errno

    try:
        info = os.lstat(path) if private else os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if private and (info.st_mode & 0o170000) == 0o120000:
        raise UntrustedFileError(errno.ELOOP, "it is a symbolic link, which rolecall's caches never follow")
    _check_regular(info.st_mode, info.st_size, limit)  # before opening: opening a device may do something
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if private:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        if private and error.errno == errno.ELOOP:  # a link swapped in since the look above
            raise UntrustedFileError(
                errno.ELOOP, "it is a symbolic link, which rolecall's caches never follow"
            ) from None
        raise
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, info.st_size, limit)
        if private:
            untrusted = _untrusted(info)
            if untrusted is not None:
                raise untrusted
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, limit + 1 - total)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                _check_regular(info.st_mode, total, limit)
    finally:
        os.close(fd)


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a control character (C0, DEL or C1): a NUL, an escape sequence, a line break.

    No credential, token or timestamp AWS issues holds one; a cached value that does is damage or a plant: it
    cannot be exported (NUL), would rewrite a terminal (ESC) or add lines to shell code.
    """
    if text.isprintable():
        return False
    return any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text)


def has_unencodable_text(document: object) -> bool:
    """True when a string (or key) in ``document`` cannot be encoded as UTF-8: a lone surrogate from ``\\ud800``.

    Such an entry is valid JSON, but its secrets cannot be printed, exported or sent anywhere.
    """
    pending = [document]
    while pending:  # a loop, not recursion: the document may be as deep as the scanner allowed
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False

