"""The parse cache: big config and credentials files kept parsed in rolecall's folder, served one profile at a time.

``ConfigFiles.load`` (``rolecall.config.parse``) serves files of 32 KiB or more from ``parse-cache`` (0600 in a
0700 folder) while their stat signature (mtime and ctime in ns, size, inode, device) is unchanged; a file changed
in the last two seconds is never cached, so an edit within one timestamp tick cannot go unseen. The cache holds
copies of whatever the files hold, secrets included, so an entry that no longer describes its file (edited, shrunk
below the threshold, gone) is dropped by the next lookup, and ``purge_parse_cache`` drops entries at once
(``keys import`` and ``--confirm`` call it). The thresholds are ``CacheSettings`` parameters, passed in.

On the cached fast path (docs/architecture.md): imports nothing but ``os`` at load time (``marshal`` when used).
"""

from __future__ import annotations

import os

from rolecall.filesig import signature as stat_signature

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MIN_BYTES",
    "DEFAULT_RACY_NS",
    "KIND_CONFIG",
    "KIND_RAW",
    "CacheBroken",
    "CacheSettings",
    "Indexed",
    "ParseCache",
    "file_signature",
    "is_private_to_me",
    "parse_cache_path",
    "purge_parse_cache",
]

# Parsing a 5,000-profile config costs tens of milliseconds, more than a whole cached lookup may take
# (docs/architecture.md). Big files are therefore kept parsed in one file of rolecall's own folder, keyed by
# path and by a stat signature that any change to the file alters. Even decoding all 5,000 profiles (or just
# reading a megabyte into fresh memory) costs milliseconds, so the cache file is laid out for lookups:
#
#   b"RCPC" | 4-byte length H | H bytes: marshal((python version, {"kind:path": entry})) | data region
#
# An entry is (signature, kind, count, "\nname1\nname2\n", offsets, base, size, whole_at): the marshalled value of
# each name lies at data[base + offsets[i] : base + offsets[i + 1]], and the whole parse result at
# data[base + whole_at : base + size]. A lookup reads the header, then only the bytes of the names it needs.

KIND_CONFIG = "config"  # the entry holds load_config_file()'s result, indexed by profile
KIND_RAW = "raw"  # the entry holds read_raw_file()'s result, indexed by section
_CACHE_FILE = "parse-cache"
_CACHE_MAGIC = b"RCPC"
#: Smaller files parse faster than the cache loads; they are never cached (nor their secrets copied).
DEFAULT_MIN_BYTES = 32 * 1024
#: A file changed less than this long ago is not cached ("racy" timestamps, as git calls them): on file systems
#: with coarse timestamps, an edit in the same tick with the same size would keep the same signature.
DEFAULT_RACY_NS = 2_000_000_000
#: The first lookups of an ``Indexed`` entry each scan its names (one ``str.find``); from this many on, the names
#: are indexed in a dict, so that looking at every profile costs linear time. A few lookups (a chain of profiles
#: for ``env``, the rows ``list`` works out again) do not pay for indexing thousands of names.
_SCANNED_LOOKUPS = 16
#: At most this many files are remembered (several AWS_CONFIG_FILE values may share one rolecall folder).
DEFAULT_MAX_ENTRIES = 8

if TYPE_CHECKING:
    from rolecall.filesig import Signature as _Signature
    _Entry = tuple[_Signature, str, int, str, bytes, int, int, int]


class CacheSettings:
    """The parse cache's parameters; the defaults are what rolecall uses, tests pass others instead of patching."""

    __slots__ = ("max_entries", "min_bytes", "python_version", "racy_ns")

    def __init__(
        self,
        *,
        min_bytes: int = DEFAULT_MIN_BYTES,
        racy_ns: int = DEFAULT_RACY_NS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        python_version: int | None = None,
    ) -> None:
        """``min_bytes``: smaller files are not cached; ``racy_ns``: a file changed less than this long ago is not
        cached; ``max_entries``: files remembered at most; ``python_version``: the marshal format the cache file
        is tagged with (default: this interpreter's ``sys.hexversion >> 16``)."""
        self.min_bytes = min_bytes
        self.racy_ns = racy_ns
        self.max_entries = max_entries
        if python_version is None:
            import sys  # built in, already loaded: costs nothing

            python_version = sys.hexversion >> 16  # marshal's format belongs to one Python version
        self.python_version = python_version


class CacheBroken(Exception):
    """The cache file could not deliver an entry it announced (damaged, truncated): parse the source instead."""


def _encode(result: dict[str, Any], kind: str) -> tuple[int, str, bytes, bytes, int]:
    """Lay out a parse result: (count, names, offsets, data, whole_at), one marshalled value per name."""
    import marshal

    mapping: dict[str, Any] = result["profiles"] if kind == KIND_CONFIG else result
    names = "\n" + "".join(name + "\n" for name in mapping)
    parts = [marshal.dumps(value) for value in mapping.values()]
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    packed = b"".join(offset.to_bytes(4, "little") for offset in offsets)
    return (len(parts), names, packed, b"".join(parts) + marshal.dumps(result), offsets[-1])


def _valid_entry(entry: object) -> bool:
    """A shallow check of an entry read back from disk (a damaged file must not crash a lookup)."""
    return (
        type(entry) is tuple
        and len(entry) == 8
        and type(entry[0]) is tuple
        and type(entry[1]) is str
        and type(entry[2]) is int
        and type(entry[3]) is str
        and entry[3].count("\n") == entry[2] + 1
        and type(entry[4]) is bytes
        and len(entry[4]) == 4 * (entry[2] + 1)
        and type(entry[5]) is int
        and type(entry[6]) is int
        and type(entry[7]) is int
        and 0 <= entry[7] <= entry[6]
    )


class _CacheFile:
    """The open cache file that lookups read from (the descriptor keeps the version read even if it is replaced)."""

    __slots__ = ("data_start", "fd")

    def __init__(self, fd: int, data_start: int) -> None:
        self.fd = fd
        self.data_start = data_start

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` of the data region; ``CacheBroken`` if the file is shorter."""
        try:
            if hasattr(os, "pread"):
                data = os.pread(self.fd, size, self.data_start + offset)
            else:  # Windows
                os.lseek(self.fd, self.data_start + offset, 0)
                data = os.read(self.fd, size)
        except OSError as exc:
            raise CacheBroken from exc
        if len(data) != size:
            raise CacheBroken
        return data

    def __del__(self) -> None:
        try:  # noqa: SIM105 (contextlib is not imported on the fast path)
            os.close(self.fd)
        except (OSError, TypeError, AttributeError):  # the latter two at interpreter shutdown
            pass


class Indexed:
    """A cached parse result that decodes one profile (or section) at a time, and the whole only when asked.

    A lookup (the cached ``env`` path) finds its name with one ``str.find`` over the names, and decoded values are
    kept; from the ``_SCANNED_LOOKUPS``-th name on, the names are indexed in a dict, so that a command that looks
    at every profile (``list``, ``doctor``, completion) costs time linear in the number of profiles, not
    quadratic (a find and a count over all names for each of its lookups).
    """

    __slots__ = ("_entry", "_file", "_index", "_memo")

    def __init__(self, file: _CacheFile, entry: _Entry) -> None:
        self._file = file
        self._entry = entry
        self._index: dict[str, int] | None = None
        self._memo: dict[str, dict[str, str | dict[str, str]] | None] = {}

    def _load(self, start: int, end: int) -> Any:
        import marshal

        try:
            return marshal.loads(self._file.read(self._entry[5] + start, end - start))
        except (ValueError, EOFError, TypeError) as exc:
            raise CacheBroken from exc

    def _position(self, name: str) -> int:
        """The index of ``name`` among the names, or -1."""
        if self._index is not None:
            return self._index.get(name, -1)
        names = self._entry[3]
        if len(self._memo) >= _SCANNED_LOOKUPS:  # many lookups: index once rather than scan the names again and again
            self._index = {known: index for index, known in enumerate(self.names())}
            return self._index.get(name, -1)
        at = names.find("\n" + name + "\n")
        return -1 if at < 0 else names.count("\n", 0, at)

    def get(self, name: str) -> dict[str, str | dict[str, str]] | None:  # parse.ConfigValue, spelt out: no circle
        """The value stored under ``name``, or ``None``; raises ``CacheBroken``. Callers must not mutate it (it is
        kept for the next lookup of the same name)."""
        if name in self._memo:
            return self._memo[name]
        if "\n" in name:
            return None  # names never hold a newline; one here would match across two entries
        index = self._position(name)
        value = None
        if index >= 0:
            offsets = self._entry[4]
            start = int.from_bytes(offsets[4 * index : 4 * index + 4], "little")
            end = int.from_bytes(offsets[4 * index + 4 : 4 * index + 8], "little")
            value = self._load(start, end)
            if type(value) is not dict:
                raise CacheBroken
        self._memo[name] = value
        return value

    def names(self) -> list[str]:
        """The names in file order."""
        return self._entry[3][1:-1].split("\n") if self._entry[2] else []

    def whole(self) -> dict[str, Any]:
        """The whole parse result; raises ``CacheBroken``."""
        value = self._load(self._entry[7], self._entry[6])
        if type(value) is not dict:
            raise CacheBroken
        return value

    def raw(self) -> bytes:
        """The entry's bytes in the data region, to carry it over into a rewritten cache file."""
        return self._file.read(self._entry[5], self._entry[6])


def _private_to_me(st: os.stat_result, writable_only: bool = False) -> bool:
    """Owned by this user and not open to others (always true where there are no POSIX owners)."""
    if not hasattr(os, "getuid"):
        return True
    mask = 0o022 if writable_only else 0o077
    return st.st_uid == os.getuid() and not st.st_mode & mask


class ParseCache:
    """The parse cache of one rolecall folder, read at most once and written at most once per ``load``."""

    __slots__ = ("_dirty", "_drop", "_entries", "_file", "_fresh", "_parse_file", "_path", "_replace", "_settings")

    def __init__(
        self,
        folder: str,
        parse_file: Callable[[str, str], dict[str, Any] | None] | None = None,
        settings: CacheSettings | None = None,
    ) -> None:
        """The cache in ``folder``; ``parse_file(path, kind)`` parses a file that the cache cannot serve (``None``
        if it does not exist); only ``purge_parse_cache`` goes without it, as it never looks anything up."""
        self._path = os.path.join(folder, _CACHE_FILE)
        self._parse_file = parse_file
        self._settings = settings if settings is not None else CacheSettings()
        self._entries: dict[str, _Entry] | None = None
        self._file: _CacheFile | None = None
        self._fresh: dict[str, tuple[_Signature, str, tuple[int, str, bytes, bytes, int]]] = {}
        self._dirty = False
        self._replace = False  # the file on disk is not ours to trust, or unreadable: remove it before writing
        self._drop: set[str] = set()  # entries to leave out of the rewritten file whatever their signature

    def _load(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict[str, _Entry]:
        try:
            # O_NOFOLLOW: a symlink planted in place of the cache is not followed.
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            self._replace = not isinstance(exc, FileNotFoundError)
            return {}
        file = _CacheFile(fd, 0)  # closes fd when dropped
        try:
            if not _private_to_me(os.fstat(fd)):
                self._replace = True
                return {}
            head = file.read(0, 8)
            if head[:4] != _CACHE_MAGIC:
                raise CacheBroken
            length = int.from_bytes(head[4:], "little")
            import marshal

            header = marshal.loads(file.read(8, length))
            if type(header) is tuple and len(header) == 2 and header[0] == self._settings.python_version:
                entries = header[1]
                if type(entries) is dict:
                    file.data_start = 8 + length
                    self._file = file
                    return entries
        except (CacheBroken, OSError, ValueError, EOFError, TypeError):
            pass
        self._replace = True
        return {}

    def get(self, path: str, kind: str) -> dict[str, Any] | Indexed | None:
        """The parsed file (``kind``: ``config`` or ``raw``), from the cache when the file has not changed.

        An entry for ``path`` that no longer matches the file is dropped when the cache is saved, even when the
        file is not cached any more (shrunk below the threshold, gone): it may hold secrets the file no longer has.
        """
        key = kind + ":" + path
        parse_file = self._parse_file
        assert parse_file is not None
        try:
            before = os.stat(path)
        except OSError:
            self._forget(key)
            return parse_file(path, kind)  # missing (None), or the FileError that explains why it cannot be read
        if before.st_size < self._settings.min_bytes or before.st_mode & 0o170000 != 0o100000:
            self._forget(key)
            return parse_file(path, kind)
        signature = stat_signature(before)
        hit = self._load().get(key)
        if self._file is not None and _valid_entry(hit) and hit[0] == signature and hit[1] == kind:  # type: ignore[index]
            return Indexed(self._file, hit)  # type: ignore[arg-type]
        if hit is not None:
            self._forget(key)  # stale: gone at the next save even if the new content cannot be cached yet (racy)
        result = parse_file(path, kind)
        if result is not None and _ns_now() - max(before.st_mtime_ns, before.st_ctime_ns) > self._settings.racy_ns:
            try:
                unchanged = stat_signature(os.stat(path)) == signature  # not edited while it was read
            except OSError:
                unchanged = False
            if unchanged:
                self._fresh[kind + ":" + path] = (signature, kind, _encode(result, kind))
                self._dirty = True
        return result

    def _forget(self, key: str) -> None:
        """Leave the entry ``key`` out of the cache from the next ``save`` on (a no-op when there is none).

        Costs a failed ``open`` when there is no cache file, the header read otherwise (which a big file's
        lookup reads anyway).
        """
        if key in self._load():
            self._drop.add(key)
            self._dirty = True

    def save(self, *, purging: bool = False) -> None:
        """Write the cache if it changed: atomically, 0600 in a 0700 folder; any failure only costs speed.

        With ``purging``, a cache that cannot be rewritten (or would be empty) is removed instead, so that the
        entries left out are gone from the disk either way.
        """
        if not self._dirty:
            return
        import marshal

        from rolecall.errors import FileError
        from rolecall.fileio import atomic_write

        # Carry over the other entries that still describe their files (so that no stale copy of a secret
        # lingers), the most recently written last, then the new ones.
        header: dict[str, _Entry] = {}
        chunks: list[bytes] = []
        size = 0
        kept: list[tuple[str, _Signature, str, tuple[int, str, bytes, bytes, int]]] = []
        for key, entry in (self._entries or {}).items():
            if key in self._fresh or key in self._drop or self._file is None or not _valid_entry(entry):
                continue
            try:
                if stat_signature(os.stat(key.partition(":")[2])) != entry[0]:
                    continue
                data = Indexed(self._file, entry).raw()
            except (OSError, CacheBroken):
                continue
            kept.append((key, entry[0], entry[1], (entry[2], entry[3], entry[4], data, entry[7])))
        for key, (signature, kind, encoded) in self._fresh.items():
            kept.append((key, signature, kind, encoded))
        if not kept:
            # Nothing left to remember: no file at all (also the cheapest thing for the next lookup to find).
            self._remove()
            return
        for key, signature, kind, (count, names, offsets, data, whole_at) in kept[-self._settings.max_entries :]:
            header[key] = (signature, kind, count, names, offsets, size, len(data), whole_at)
            chunks.append(data)
            size += len(data)
        head = marshal.dumps((self._settings.python_version, header))
        blob = b"".join([_CACHE_MAGIC, len(head).to_bytes(4, "little"), head, *chunks])
        folder = os.path.dirname(self._path)
        try:
            if os.path.isdir(folder) and not _private_to_me(os.stat(folder), writable_only=True):
                # A folder others can write to is no place for copies of credentials.
                if purging:
                    self._remove()
                return
            if self._replace and os.path.lexists(self._path):
                os.unlink(self._path)
            atomic_write(self._path, blob, mode=0o600)
        except (OSError, FileError):
            if purging:
                self._remove()

    def _remove(self) -> None:
        """Delete the cache file (only the name: a symlink planted there is removed, not what it points to)."""
        try:  # noqa: SIM105 (contextlib is not imported on the fast path)
            os.unlink(self._path)
        except OSError:  # gone already, or a folder in its place (no copy of ours; writes fail on it, as they should)
            pass


def purge_parse_cache(folder: str, paths: Sequence[str] = ()) -> None:
    """Drop from the parse cache in ``folder`` the entries of ``paths`` and every entry that no longer describes
    its file, at once; remove the cache file when it cannot be rewritten or would be empty. Never raises.

    For commands that take secrets out of a file (``keys import``): the cache must not keep copies of them
    until the next lookup happens to rewrite it. Temporary files a killed writer left are not touched here
    (``parse_cache_path`` names the file whose leftovers to look for).
    """
    cache = ParseCache(folder)
    entries = cache._load()
    if not entries and not cache._replace:
        return  # no cache file (or an empty one of ours): nothing to drop
    wanted = set(paths)
    cache._drop.update(key for key in entries if key.partition(":")[2] in wanted)
    cache._dirty = True
    cache.save(purging=True)


def parse_cache_path(folder: str) -> str:
    """The parse cache file of the rolecall folder ``folder``."""
    return os.path.join(folder, _CACHE_FILE)


def file_signature(path: str, settings: CacheSettings | None = None) -> tuple[int, ...] | None:
    """The stat signature of ``path`` as the parse cache keys its entries (``()`` for a missing file), or None when
    the file must not be trusted to a cache: not a regular file, unreadable, or changed within ``racy_ns``.

    For the caches of results derived from the AWS files (``config.derivedcache``): the same signature and the
    same "racy" rule, so that every cache of rolecall's sees a change the same way.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return ()
    except OSError:
        return None
    if st.st_mode & 0o170000 != 0o100000:
        return None
    racy_ns = (settings or CacheSettings()).racy_ns
    if _ns_now() - max(st.st_mtime_ns, st.st_ctime_ns) <= racy_ns:
        return None
    return stat_signature(st)


def is_private_to_me(st: os.stat_result, writable_only: bool = False) -> bool:
    """True when ``st`` is owned by this user and not open to others (not writable by them, with
    ``writable_only``); always true where there are no POSIX owners. The check every cache file is read under."""
    return _private_to_me(st, writable_only)


def _ns_now() -> int:
    """The wall clock in nanoseconds (a function, so that tests can move time)."""
    import time

    return time.time_ns()
