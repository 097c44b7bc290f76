"""Results derived from the AWS files, kept in rolecall's folder while the files do not change.

``rolecall list`` (and the picker) builds a provider chain for every profile, and ``rolecall doctor`` runs every
rule over every profile: work that depends only on the config and credentials files (and a few environment
variables), yet grows with their size. A ``DerivedCache`` keeps one such result per purpose
(``$ROLECALL_HOME/derived-<purpose>``, 0600 in a 0700 folder, written atomically) under a key made of:

- the stat signature of every file it was derived from (``parsecache.file_signature``: mtime and ctime in ns,
  size, inode, device; a missing file has its own signature), so that any change to one of them is a miss;
- an ``extra`` string from the caller (the environment variables and code the result depends on).

A file changed within the last two seconds (the parse cache's "racy" rule) is never trusted: no lookup, no write.
A cache file that is not this user's, is open to others, is damaged or was written by another Python is a miss;
a failed write only costs speed. Imports nothing at load time beyond ``os``.
"""

from __future__ import annotations

import os

from rolecall.config.parsecache import CacheSettings, file_signature, is_private_to_me

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["DerivedCache", "code_signature"]

_MAGIC = b"RCDC"


class DerivedCache:
    """One cached result for ``purpose`` in ``folder``: ``key`` (None: do not cache now), ``get``, ``put``."""

    __slots__ = ("_path", "_settings")

    def __init__(self, folder: str, purpose: str, settings: CacheSettings | None = None) -> None:
        """The cache file ``derived-<purpose>`` of rolecall's ``folder``; ``settings`` carries the racy window and
        the Python version the file is tagged with (tests pass their own)."""
        self._path = os.path.join(folder, "derived-" + purpose)
        self._settings = settings if settings is not None else CacheSettings()

    @property
    def path(self) -> str:
        """The cache file."""
        return self._path

    def key(self, files: Sequence[str], extra: str = "") -> tuple[object, ...] | None:
        """The key of a result derived from ``files`` (paths) and ``extra``; None when a file may not be trusted
        to a cache (changed in the last two seconds, not a regular file, unreadable)."""
        signatures: list[object] = []
        for path in files:
            signature = file_signature(path, self._settings)
            if signature is None:
                return None
            signatures.append((path, signature))
        return (self._settings.python_version, tuple(signatures), extra)

    def get(self, key: tuple[object, ...]) -> object:
        """The value stored under ``key``, or None (no file, another key, a file not to be trusted or damaged)."""
        import marshal

        try:
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not is_private_to_me(st) or st.st_mode & 0o170000 != 0o100000:
                return None
            data = b""
            while len(data) < st.st_size:
                chunk = os.read(fd, st.st_size - len(data))
                if not chunk:
                    break
                data += chunk
        except OSError:
            return None
        finally:
            os.close(fd)
        if data[:4] != _MAGIC:
            return None
        try:
            stored = marshal.loads(data[4:])
        except (ValueError, EOFError, TypeError):
            return None
        if type(stored) is not tuple or len(stored) != 2 or stored[0] != key:
            return None
        return stored[1]

    def put(self, key: tuple[object, ...], value: object) -> None:
        """Store ``value`` (made of marshal's types) under ``key``, replacing what was there; never raises."""
        import marshal

        from rolecall.errors import FileError
        from rolecall.fileio import atomic_write

        try:
            blob = _MAGIC + marshal.dumps((key, value))  # type: ignore[arg-type]  # checked by marshal itself
        except ValueError:
            return  # not marshal's types: a caller's mistake, but only a lost speed-up
        folder = os.path.dirname(self._path)
        try:
            if os.path.isdir(folder) and not is_private_to_me(os.stat(folder), writable_only=True):
                return  # a folder others can write to is no place for a cache rolecall trusts
            atomic_write(self._path, blob, mode=0o600, private=True)
        except (OSError, FileError):
            pass


def code_signature(*modules: str) -> str:
    """The version of the code a result was derived with: rolecall's version and the size and mtime of each of
    ``modules`` (paths relative to the ``rolecall`` package), so that an upgrade or an edited source is a miss."""
    from rolecall import __version__

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = [__version__]
    for module in modules:
        try:
            st = os.stat(os.path.join(package, module))
        except OSError:
            parts.append(module + ":-")
            continue
        parts.append(f"{module}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)
