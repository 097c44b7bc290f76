"""Every profile's ``list`` row (``overview.profile_row``) at a cost that does not grow with the work of building
each profile's chain: the rows of an unchanged config are kept in a ``config.derivedcache.DerivedCache``.

What a row shows comes from two places. The kind, account, region, chain, MFA device, and which AWS CLI cache
entry would hold the profile's credentials (its cache key) depend only on the config and credentials files, the
environment variables the chain builder reads, and rolecall's code: they are kept in ``derived-list-rows``, keyed
by the stat signatures of both files and a fingerprint of those. Whether credentials are cached, and the minutes
they have left, change with time: they are worked out at every run from ONE listing of the AWS CLI cache folder;
only a profile whose entry is there (or whose cached credentials live elsewhere: ``credential_process`` through
``rolecall process-cache``, ``aws login`` sessions) has its chain built again, exactly as without the cache.
"""

from __future__ import annotations

import os

from rolecall.overview import profile_row, profile_row_and_probe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from rolecall.config.parsecache import CacheSettings
    from rolecall.providers.base import Runtime
    from rolecall.session import Session

__all__ = ["FIELDS", "CachedRows", "environment_fingerprint", "load_rows", "profile_rows"]

#: A row's fields, in the order they are stored.
FIELDS = ("profile", "kind", "account", "region", "chain", "mfa", "cached", "minutes_left")
#: The environment variables whose values never change a row: the profile a command would use (``list`` names
#: every profile explicitly) ...
_IGNORED = frozenset({"AWS_PROFILE", "AWS_DEFAULT_PROFILE"})
#: ... and those whose presence alone matters (never put in the key: they are secrets).
_PRESENCE_ONLY = frozenset({
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION"
})  # fmt: skip
#: The code a row is derived with (``derivedcache.code_signature``).
_CODE = (
    "overview.py", "rowcache.py", "cachekeys.py", "config/graph.py", "config/parse.py", "config/profiles.py",
    "config/refusals.py", "providers/chain.py", "providers/assume_role.py", "providers/sso.py",
    "providers/saml.py", "providers/base.py", "providers/static.py", "providers/process.py",
    "providers/keystore.py",
)  # fmt: skip


def environment_fingerprint(env: Mapping[str, str]) -> str:
    """What of ``env`` the rows may depend on, hashed: every ``AWS_*`` and ``ROLECALL_*`` variable (the secret ones
    only as set, empty or unset) and the home folder (messages show paths under it as ``~``)."""
    from rolecall.fastjson import sha1_hex

    parts = []
    for name in sorted(env):
        if name in _IGNORED or not name.startswith(("AWS_", "ROLECALL_")):
            continue
        value = env[name]
        parts.append(f"{name}={('set' if value else 'empty') if name in _PRESENCE_ONLY else value}")
    parts.append(f"HOME={env.get('HOME', '')};USERPROFILE={env.get('USERPROFILE', '')};{os.path.expanduser('~')}")
    return sha1_hex("\0".join(parts))


def profile_rows(session: Session, runtime: Runtime, settings: CacheSettings | None = None) -> list[dict[str, Any]]:
    """``overview.profile_row`` of every profile, in ``ConfigFiles.profile_names`` order, the same with the cache
    as without it. ``runtime`` is the one the rows are worked out with (``allow_prompt=False``, no reporter);
    ``settings`` the cache's (tests pass a shorter racy window)."""
    return load_rows(session, runtime, settings).rows()


class CachedRows:
    """Every profile's row as stored (its time-dependent cells blank) and the rows worked out again now.

    ``stored`` are the rows as the cache keeps them, ``renewed`` (by index) those that differ now (cached
    credentials found), so ``rows()`` is what ``profile_row`` gives for each. ``text`` is what the caller stored
    with them (``keep_text``: ``list`` keeps its table of the stored rows), None when nothing was.
    """

    __slots__ = ("_columns", "_store", "_stored", "renewed", "text")

    def __init__(self, columns: _Columns, text: str | None,
                 store: Callable[[_Columns, str | None], None] | None) -> None:  # fmt: skip
        self._columns = columns
        self._stored: list[dict[str, Any]] | None = None
        self._store = store
        self.renewed: dict[int, dict[str, Any]] = {}
        self.text = text

    @property
    def stored(self) -> list[dict[str, Any]]:
        """The rows as stored: ``cached`` blank and ``minutes_left`` None where they depend on the time."""
        if self._stored is None:
            self._stored = [
                {"profile": name, "kind": kind, "account": account or None, "region": region or None,
                 "chain": chain, "mfa": mfa, "cached": cached, "minutes_left": None}
                for name, kind, account, region, chain, mfa, cached, _ in zip(*self._columns.all(), strict=True)
            ]  # fmt: skip
        return self._stored

    def rows(self) -> list[dict[str, Any]]:
        """Every profile's row as ``profile_row`` gives it now."""
        rows = self.stored
        if self.renewed:
            rows = list(rows)
            for index, row in self.renewed.items():
                rows[index] = row
        return rows

    def keep_text(self, text: str) -> None:
        """Store ``text`` (derived from ``stored`` alone) with the rows; the next ``load_rows`` gives it back."""
        self.text = text
        if self._store is not None:
            self._store(self._columns, text)


def load_rows(session: Session, runtime: Runtime, settings: CacheSettings | None = None) -> CachedRows:
    """The rows of every profile (``profile_rows``), from the cache when the files and environment are those it was
    stored for, worked out (and stored) otherwise."""
    from rolecall.config.derivedcache import DerivedCache, code_signature

    paths = session.paths
    cache = DerivedCache(paths.rolecall_dir, "list-rows", settings)
    extra = environment_fingerprint(session.env) + ";" + code_signature(*_CODE)
    key = cache.key((paths.config_file, paths.credentials_file), extra)

    def store(columns: _Columns, text: str | None) -> None:
        if key is not None:
            cache.put(key, (columns.count, columns.texts, text))

    found = _unpack(cache.get(key)) if key is not None else None
    if found is not None:
        columns, text = found
        hit = CachedRows(columns, text, store)
        hit.renewed = _renewed(columns, session, runtime)
        return hit
    files, graph = session.files, session.graph
    pairs = [profile_row_and_probe(files, name, runtime, graph) for name in files.profile_names()]
    packed = _pack(pairs)
    if packed is None:  # cells that cannot be stored (a newline, a nested value): the rows, and nothing kept
        unstored = CachedRows(_Columns(0, [""] * len(FIELDS)), None, None)
        unstored._stored = [row for row, _ in pairs]
        return unstored
    store(packed, None)
    rows = CachedRows(packed, None, store)
    rows.renewed = {index: row for index, (row, _) in enumerate(pairs) if row != rows.stored[index]}
    return rows


#: A probe that says "ask ``profile_row`` again" (None in ``overview.profile_row_and_probe``), as stored.
_ASK = "?"


class _Columns:
    """The stored cells, one text per column (``FIELDS`` but ``minutes_left``, then the probes), cells joined by
    newlines; a column is split only when it is needed (the probes always, the rest seldom on a hit)."""

    __slots__ = ("_split", "count", "texts")

    def __init__(self, count: int, texts: list[str]) -> None:
        self.count = count
        self.texts = texts
        self._split: dict[int, list[str]] = {}

    def column(self, index: int) -> list[str]:
        """The cells of column ``index`` (``_unpack`` checked that each text holds ``count`` of them)."""
        found = self._split.get(index)
        if found is None:
            found = self._split[index] = self.texts[index].split("\n") if self.count else []
        return found

    def all(self) -> list[list[str]]:
        """Every column."""
        return [self.column(index) for index in range(len(self.texts))]


def _pack(pairs: list[tuple[dict[str, Any], str | None]]) -> _Columns | None:
    """The rows as stored: one list per column (``FIELDS`` but ``minutes_left``, then the probes); None when a cell
    cannot be stored (not text, or holding a newline: the cells of a column are stored joined by newlines, so that
    marshal loads a few long strings rather than thousands of small ones).

    The time-dependent cells are stored as they are without a cache entry (``cached`` ``""``; ``minutes_left`` is
    then always None), which a hit works out again; ``account`` and ``region`` are stored as ``""`` for None
    (neither is ever empty text).
    """
    columns: list[list[str]] = [[] for _ in range(len(FIELDS))]
    for row, probe in pairs:
        cells = (row["profile"], row["kind"], row["account"] or "", row["region"] or "", row["chain"], row["mfa"],
                 row["cached"] if probe == "" else "", _ASK if probe is None else probe)  # fmt: skip
        for column, cell in zip(columns, cells, strict=True):
            if type(cell) is not str or "\n" in cell:
                return None
            column.append(cell)
    packed = _Columns(len(pairs), ["\n".join(column) for column in columns])
    packed._split = dict(enumerate(columns))
    return packed


def _unpack(stored: object) -> tuple[_Columns, str | None] | None:
    """The columns and text of what ``load_rows`` stored, or None when it is not that (damaged, foreign: a miss)."""
    if type(stored) is not tuple or len(stored) != 3 or type(stored[0]) is not int or type(stored[1]) is not list:
        return None
    count, texts, text = stored
    if (
        len(texts) != len(FIELDS)
        or not all(type(item) is str for item in texts)
        or not (text is None or type(text) is str)
    ):
        return None
    columns = _Columns(count, texts)
    # Each column must have ``count`` cells: a count of the separators is cheap, a split is not.
    if not all((item.count("\n") + 1 if count else 0) == count and (count or not item) for item in texts):
        return None
    return columns, text


def _renewed(columns: _Columns, session: Session, runtime: Runtime) -> dict[int, dict[str, Any]]:
    """The rows that are not as stored now, by index: worked out again (``profile_row``) where an AWS CLI cache
    entry is there (one listing of its folder) or where the cache is not the AWS CLI's (probe ``?``)."""
    renewed = {}
    for index in _candidates(columns, _listing(runtime.paths.cli_cache_dir)):
        row = profile_row(session.files, columns.column(0)[index], runtime, session.graph)
        if row["cached"] or row["minutes_left"] is not None:
            renewed[index] = row
    return renewed


#: Up to this many entries in the AWS CLI cache folder, their probes are looked for in the stored text (one fast
#: search each); beyond, the probes are split and each looked up in the listing.
_SEARCHED = 64


def _candidates(columns: _Columns, listing: set[str] | None) -> list[int]:
    """The indices of the rows to work out again: probe ``?``, or ``cli:KEY`` with ``KEY.json`` in ``listing``
    (every ``cli:`` probe when the folder could not be listed)."""
    if listing is None or len(listing) > _SEARCHED:
        return [
            index for index, probe in enumerate(columns.column(len(FIELDS) - 1))
            if probe == _ASK or (probe.startswith("cli:") and (listing is None or probe[4:] + ".json" in listing))
        ]  # fmt: skip
    text = "\n" + columns.texts[-1] + "\n"
    needles = ["\n" + _ASK + "\n"] + ["\ncli:" + name[:-5] + "\n" for name in listing if name.endswith(".json")]
    found: set[int] = set()
    for needle in needles:
        at = text.find(needle)
        while at >= 0:
            found.add(at)
            at = text.find(needle, at + len(needle) - 1)  # the next cell starts at this one's closing newline
    indices = []
    index, counted = 0, 0
    for at in sorted(found):  # the row of each: the newlines before it, counted once over the whole text
        index += text.count("\n", counted, at)
        counted = at
        indices.append(index)
    return indices


def _listing(folder: str) -> set[str] | None:
    """The names in ``folder`` (none when it does not exist), or None when it cannot be listed (then every
    profile's entry is looked for as without the cache)."""
    try:
        return set(os.listdir(folder))
    except FileNotFoundError:
        return set()
    except OSError:
        return None
