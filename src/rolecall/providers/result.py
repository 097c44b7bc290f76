"""What a provider hands back, and the facts about a source that callers may ask before using it.

``Retrieved`` is the provider's answer: the credentials together with where they came from (a cache entry or a
fresh call, in the words of the summary line, and as a flag: ``from_cache``), the assumed-role ARN when the answer
says it, and the method of the source. It *is* a ``Credentials`` (a subclass adding four read-only fields), so
``retrieve()`` returns it to library callers unchanged (``rolecall.resolve.get_credentials``), while ``assume``'s
summary line reads ``origin``/``identity_arn`` (and the status line ``from_cache``) from the value itself instead of
from the provider after the call: providers keep no state that callers read. Equality and hashing are those of the
credentials (where they came from is not part of what they are); ``plain()`` drops the extra fields.

``ConsoleFacts`` answers what ``rolecall console`` must know before any call (is it a role, reached by chaining,
are the keys long-term?), so ``cli/`` never asks which class a provider is.

On the fast path: hand-written slotted classes, no imports beyond ``credentials``.
"""

from __future__ import annotations

from rolecall.credentials import Credentials

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime


class Retrieved(Credentials):
    """Credentials and where they came from: an immutable value (equal to the plain credentials it carries)."""

    __slots__ = ("from_cache", "identity_arn", "origin", "source_method")

    #: Where the credentials came from, as the summary line says it after "from " (``the AWS CLI cache (KEY.json)``,
    #: ``a new AssumeRole call``), or None when the source does not say (keys in a file, the environment).
    origin: str | None
    #: The assumed-role ARN when the STS answer or the cache entry names it, else None.
    identity_arn: str | None
    #: The ``method`` of the source that answered (``assume-role``, ``sso``...).
    source_method: str
    #: True when an entry of the AWS CLI cache served them (no call was made: ``providers.caching.CachedSource``),
    #: whether or not the source reports its ``origin``; False for a fresh call and for sources without a cache.
    from_cache: bool

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: datetime | None = None,
        account_id: str | None = None,
        *,
        origin: str | None = None,
        identity_arn: str | None = None,
        source_method: str = "",
        from_cache: bool = False,
    ) -> None:
        super().__init__(access_key_id, secret_access_key, session_token, expiration, account_id)
        set_ = object.__setattr__
        set_(self, "origin", origin)
        set_(self, "identity_arn", identity_arn)
        set_(self, "source_method", source_method)
        set_(self, "from_cache", from_cache)

    @classmethod
    def of(
        cls,
        credentials: Credentials,
        *,
        origin: str | None,
        identity_arn: str | None = None,
        source_method: str = "",
        from_cache: bool = False,
    ) -> Retrieved:
        """``credentials`` with where they came from."""
        return cls(
            credentials.access_key_id,
            credentials.secret_access_key,
            credentials.session_token,
            credentials.expiration,
            credentials.account_id,
            origin=origin,
            identity_arn=identity_arn,
            source_method=source_method,
            from_cache=from_cache,
        )

    def plain(self) -> Credentials:
        """The credentials alone, as a plain ``Credentials``."""
        return Credentials(
            self.access_key_id, self.secret_access_key, self.session_token, self.expiration, self.account_id
        )

    # Same value as the credentials: equality and hashing are inherited on purpose.
    __hash__ = Credentials.__hash__

    def __repr__(self) -> str:
        return (
            f"Retrieved(access_key_id={self.access_key_id!r}, expiration={self.expiration!r}, "
            f"account_id={self.account_id!r}, origin={self.origin!r}, from_cache={self.from_cache})"
        )


def origin_of(credentials: Credentials) -> tuple[str | None, str | None]:
    """``(origin, identity_arn)`` of what a provider returned: both None for plain ``Credentials``."""
    if isinstance(credentials, Retrieved):
        return credentials.origin, credentials.identity_arn
    return None, None


class ConsoleFacts:
    """What the console command needs to know about a source before any call: an immutable value.

    ``role_arn``: the role, when the source is an AssumeRole hop (it picks the console's partition);
    ``chained``: the role is assumed with temporary credentials (AWS caps its console session at 1 h);
    ``long_term``: the source holds long-term keys, which need a federation token first.
    """

    __slots__ = ("chained", "long_term", "role_arn")

    role_arn: str | None
    chained: bool
    long_term: bool

    def __init__(self, role_arn: str | None = None, *, chained: bool = False, long_term: bool = False) -> None:
        set_ = object.__setattr__
        set_(self, "role_arn", role_arn)
        set_(self, "chained", chained)
        set_(self, "long_term", long_term)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ConsoleFacts are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConsoleFacts) and (self.role_arn, self.chained, self.long_term) == (
            other.role_arn,
            other.chained,
            other.long_term,
        )

    def __hash__(self) -> int:
        return hash((self.role_arn, self.chained, self.long_term))

    def __repr__(self) -> str:
        return f"ConsoleFacts(role_arn={self.role_arn!r}, chained={self.chained}, long_term={self.long_term})"


#: The answer for sources that are neither a role nor keys the console must federate first.
NO_CONSOLE_FACTS = ConsoleFacts()
