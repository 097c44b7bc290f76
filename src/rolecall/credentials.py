"""``Credentials``: the value every credential source produces and every consumer takes."""

from __future__ import annotations

from rolecall.timefmt import datetime, timedelta, to_utc, utc_now


class Credentials:
    """A set of AWS credentials: an immutable value. ``expiration`` is tz-aware UTC, or ``None`` for long-term keys.

    A hand-written slotted class rather than a dataclass because ``dataclasses`` (through ``inspect``)
    costs more start-up time than the whole cached lookup is allowed. ``repr`` hides the secret and the
    token so that a traceback or a log line never shows them.
    """

    __slots__ = ("access_key_id", "account_id", "expiration", "secret_access_key", "session_token")

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    expiration: datetime | None
    account_id: str | None

    def __init__(
        self,
        access_key_id: str,
        secret_access_key: str,
        session_token: str | None = None,
        expiration: datetime | None = None,
        account_id: str | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "access_key_id", access_key_id)
        set_(self, "secret_access_key", secret_access_key)
        set_(self, "session_token", session_token)
        set_(self, "expiration", to_utc(expiration) if expiration is not None else None)
        set_(self, "account_id", account_id)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Credentials are immutable")

    def _key(self) -> tuple[object, ...]:
        return (self.access_key_id, self.secret_access_key, self.session_token, self.expiration, self.account_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Credentials) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"Credentials(access_key_id={self.access_key_id!r}, expiration={self.expiration!r}, "
            f"account_id={self.account_id!r})"
        )

    @property
    def is_temporary(self) -> bool:
        """True for STS session credentials (they carry a session token)."""
        return self.session_token is not None

    def remaining(self, now: datetime | None = None) -> timedelta | None:
        """Time left until expiry (negative once expired), or ``None`` if they never expire."""
        if self.expiration is None:
            return None
        return self.expiration - (now or utc_now())

    def expires_within(self, window: timedelta, now: datetime | None = None) -> bool:
        """True when the credentials expire in less than ``window`` (never for long-term keys)."""
        left = self.remaining(now)
        return left is not None and left < window

    def is_expired(self, now: datetime | None = None) -> bool:
        """True once the expiry time has passed."""
        return self.expires_within(timedelta(0), now)
