"""One caching wrapper for every source whose answers live in the AWS CLI's cache (``~/.aws/cli/cache``).

Modelled on botocore's ``CachedCredentialFetcher`` (``botocore/credentials.py``): a source says how to compute
its cache key and how to fetch; the wrapper does the rest, the same way for each of them:

1. **cache key**: ``Fetcher.cache_key()`` (None: this source cannot be cached, e.g. an incomplete SSO profile);
2. **load if fresh**: the entry is used while it has at least ``CLI_EXPIRY_WINDOW`` (botocore's 15 minutes) left,
   unless a refresh was asked for;
3. **fetch under the lock**: when the source has a lock (``Fetcher.lock()``, e.g. the MFA device's), the entry is
   read again once the lock is held, so parallel runs make one call;
4. **refuse expired answers** (``refuse_expired``, naming ``Fetcher.answered_by``) before anything is stored;
5. **save**: ``CliCache.put`` (a file that cannot be written is one warning; the credentials are still used);
6. **say where they came from**: the result is a ``Retrieved`` naming the cache entry or the fetcher's own words,
   its ``from_cache`` True when the entry served it (whether or not the fetcher reports its origin).

AssumeRole, AssumeRoleWithWebIdentity and IAM Identity Center roles use it. A new cached source writes a
``Fetcher`` and gets all of the above, and ``explain``/``cached`` answers from the same entry.
"""

from __future__ import annotations

from rolecall.providers.base import refuse_expired
from rolecall.providers.result import Retrieved
from rolecall.timefmt import timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager
    from typing import Any, Protocol

    from rolecall.cache import CacheEntry
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime

    class Fetcher(Protocol):
        """One uncached source: how to name its cache entry and how to get a fresh answer."""

        #: The source's ``method`` (``assume-role``...), carried into ``Retrieved.source_method``.
        method: str
        #: Whether the summary line names where the credentials came from (and the ARN of an entry).
        reports_origin: bool

        def cache_key(self) -> str | None:
            """The AWS CLI's file name stem for this source's entry, or None when it cannot be cached."""

        def answered_by(self) -> str:
            """Who answers a fetch, for the message about an already expired answer (``STS (AssumeRole ...)``)."""

        def lock(self) -> AbstractContextManager[object] | None:
            """The lock a fetch runs under, or None (no lock: the fetch is made at once)."""

        def fetch(self) -> Fetched:
            """A fresh answer (may ask for an MFA code). Raises ``RolecallError``."""


#: The AWS CLI reuses a cached entry while at least this much is left (botocore's
#: ``CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS``, 15 minutes).
CLI_EXPIRY_WINDOW = timedelta(minutes=15)


class Fetched:
    """A fresh answer of a ``Fetcher``: the credentials, the document to cache, and the words for the summary."""

    __slots__ = ("credentials", "document", "identity_arn", "origin")

    def __init__(
        self,
        credentials: Credentials,
        document: Mapping[str, Any],
        *,
        origin: str | None = None,
        identity_arn: str | None = None,
    ) -> None:
        self.credentials = credentials
        #: What ``CliCache.put`` stores (the STS response, or the AWS CLI v2's SSO entry).
        self.document = document
        #: Where they came from in the summary line's words (``a new AssumeRole call``).
        self.origin = origin
        self.identity_arn = identity_arn


class CachedSource:
    """A ``Fetcher`` behind the AWS CLI's cache: load if fresh, else fetch under its lock, check, save."""

    def __init__(self, fetcher: Fetcher, runtime: Runtime, *, force_refresh: bool = False) -> None:
        self.fetcher = fetcher
        self.runtime = runtime
        #: Skip fresh entries in ``retrieve`` (``--force-refresh`` for this source); ``cached()`` still sees them.
        self.force_refresh = force_refresh

    def entry(self) -> CacheEntry | None:
        """The cache entry while it has at least 15 minutes left, whatever ``force_refresh`` says; else None."""
        key = self.fetcher.cache_key()
        if key is None:
            return None
        return self.runtime.cli_cache().get(key, self.runtime.clock(), CLI_EXPIRY_WINDOW)

    def cached(self) -> Credentials | None:
        """The credentials of ``entry()``, or None."""
        entry = self.entry()
        return entry.credentials if entry is not None else None

    def retrieve(self) -> Retrieved:
        """The fresh cache entry, or a fetch (under the fetcher's lock, reading the entry again once it is held)."""
        hit = self._hit()
        if hit is not None:
            return hit
        lock = self.fetcher.lock()
        if lock is None:
            return self._fetch()
        with lock:
            # Another process may have done the work while we waited for the lock.
            hit = self._hit()
            return hit if hit is not None else self._fetch()

    def _hit(self) -> Retrieved | None:
        if self.force_refresh:
            return None
        entry = self.entry()
        if entry is None:
            return None
        if not self.fetcher.reports_origin:
            return Retrieved.of(entry.credentials, origin=None, source_method=self.fetcher.method, from_cache=True)
        return Retrieved.of(
            entry.credentials,
            origin=f"the AWS CLI cache ({self.fetcher.cache_key()}.json)",
            identity_arn=assumed_arn(entry.response),
            source_method=self.fetcher.method,
            from_cache=True,
        )

    def _fetch(self) -> Retrieved:
        fetched = self.fetcher.fetch()
        # Checked before caching: an entry that is already expired would only be a miss for every later reader.
        credentials = refuse_expired(fetched.credentials, self.fetcher.answered_by(), self.runtime.clock())
        key = self.fetcher.cache_key()
        if key is not None:
            self.runtime.cli_cache().put(key, fetched.document)
        reports = self.fetcher.reports_origin
        return Retrieved.of(
            credentials,
            origin=fetched.origin if reports else None,
            identity_arn=fetched.identity_arn if reports else None,
            source_method=self.fetcher.method,
        )


def assumed_arn(response: Any) -> str | None:
    """``AssumedRoleUser.Arn`` of an STS answer or cache entry, or None."""
    user = response.get("AssumedRoleUser") if isinstance(response, dict) else None
    arn = user.get("Arn") if isinstance(user, dict) else None
    return arn if isinstance(arn, str) else None
