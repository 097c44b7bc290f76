"""``RefreshingCredentials``: a holder that refreshes temporary credentials before they expire, single-flight.

However many threads ask at once, the fetch function runs at most once at a time. The two windows follow
botocore's ``RefreshableCredentials`` so that rolecall and the SDKs it serves agree on when credentials are
"about to expire":

* outside both windows the current credentials are returned without any locking work beyond a check;
* in the *advisory* window (default: less than 15 minutes left) one caller refreshes while every other
  caller gets the current, still valid credentials; if that refresh fails the current credentials are kept
  and the reporter says so;
* in the *mandatory* window (default: less than 10 minutes left), or when there are no credentials yet or
  they have expired, callers wait for the one refresh in flight; if it fails, every waiter gets its error.

Windows shrink for short-lived credentials: they never exceed half (advisory) and a third (mandatory) of the
lifetime the credentials had when they were fetched, so credentials that live 30 seconds are refreshed after
15 seconds instead of being "due" from the moment they arrive (which would refresh on every call).
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import datetime, timedelta

from rolecall.errors import RolecallError
from rolecall.reporting import Reporter, ignore
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from rolecall.credentials import Credentials

#: After a failed advisory refresh, callers keep the current credentials for this long before another attempt,
#: so a failing source (throttling, an MFA code nobody can type) is not hammered by every request. It is capped
#: at a tenth of the credentials' lifetime so seconds-long test credentials still get several attempts.
DEFAULT_RETRY_DELAY = timedelta(seconds=10)


class RefreshFailedError(RolecallError):
    """A refresh produced credentials that cannot be used (for example already expired)."""


class RefreshPendingError(RolecallError):
    """A refresh every caller must wait for was still running when the caller's ``wait`` ran out.

    The refresh goes on; a later ``get`` returns its result. The usual cause is an MFA prompt nobody has
    answered yet on the terminal of the process that refreshes.
    """

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"the credentials have expired and their renewal had not finished after {waited:g} s",
            hint="rolecall may be waiting for an MFA code on the terminal where it runs: enter it there, then retry",
        )


class RefreshingCredentials:
    """Hold credentials from ``fetch`` and refresh them in the advisory/mandatory windows, one fetch at a time.

    ``fetch`` is any callable that returns fresh ``Credentials`` (an AssumeRole call, a provider chain); it may
    raise a ``RolecallError`` (an MFA code needed and no terminal, AWS refusing...). ``clock`` returns tz-aware
    UTC time. ``initial`` seeds the holder with credentials already in hand so the first ``get`` does not fetch.
    With ``background_advisory`` the advisory refresh runs on a daemon thread and even the caller that started
    it gets the current credentials at once (useful for a server whose clients time out after 2 seconds).
    """

    def __init__(
        self,
        fetch: Callable[[], Credentials],
        *,
        advisory: timedelta = timedelta(minutes=15),
        mandatory: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = utc_now,
        reporter: Reporter = ignore,
        initial: Credentials | None = None,
        background_advisory: bool = False,
        retry_delay: timedelta = DEFAULT_RETRY_DELAY,
    ) -> None:
        if mandatory > advisory:
            raise ValueError("the mandatory refresh window cannot be longer than the advisory one")
        self._fetch = fetch
        self._advisory = advisory
        self._mandatory = mandatory
        self._clock = clock
        self._reporter = reporter
        self._background_advisory = background_advisory
        self._retry_delay = retry_delay
        # One lock guards every field below; the condition lets mandatory-window callers sleep until the refresh
        # in flight finishes, without polling.
        self._cond = threading.Condition(threading.Lock())
        self._current: Credentials | None = None
        self._lifetime: timedelta | None = None
        self._refreshing = False
        # Incremented at the end of every refresh attempt; a waiter compares it to know that *its* refresh ended.
        self._generation = 0
        self._last_error: BaseException | None = None
        self._failed_at: datetime | None = None
        self._fetch_count = 0
        if initial is not None:
            self._install(initial, self._clock())

    # -- public -------------------------------------------------------------------------------------------------

    @property
    def current(self) -> Credentials | None:
        """The credentials held now, without refreshing (``None`` before the first fetch)."""
        with self._cond:
            return self._current

    @property
    def fetch_count(self) -> int:
        """How many times ``fetch`` has been called (successful or not)."""
        with self._cond:
            return self._fetch_count

    def get(self, wait: float | None = None) -> Credentials:
        """Return valid credentials, refreshing them first (once, for all callers) when a window says so.

        Raises the fetch function's error when a refresh was mandatory and failed, or ``RefreshFailedError``
        when the fetch returned credentials that have already expired. With ``wait`` (seconds), a mandatory
        refresh runs on a thread of its own and a caller waits for it at most that long, then gets
        ``RefreshPendingError`` while the refresh goes on (a server must answer its clients before they give up,
        even when the refresh is an MFA prompt).
        """
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while True:
                now = self._clock()
                current = self._current
                state = self._state(current, now)
                if state == _FRESH:
                    assert current is not None
                    return current
                if state == _ADVISORY:
                    assert current is not None
                    if self._refreshing or self._recently_failed(now):
                        return current
                    self._refreshing = True
                    self._fetch_count += 1
                    if self._background_advisory:
                        threading.Thread(target=self._refresh_quietly, name="rolecall-refresh", daemon=True).start()
                        return current
                    break
                # Mandatory: nobody may use these credentials; wait for the refresh in flight or start one.
                if self._refreshing:
                    generation = self._generation
                    while self._refreshing and self._generation == generation:
                        if not self._wait_until(deadline):
                            assert wait is not None
                            raise RefreshPendingError(wait)
                    if self._last_error is not None and self._generation == generation + 1:
                        # The refresh we waited for failed: every waiter gets its error rather than starting a
                        # stampede of new attempts (the next caller after this will try again).
                        raise self._last_error
                    continue
                self._refreshing = True
                self._fetch_count += 1
                if deadline is not None:
                    # Run it apart and wait for it like every other caller, for at most ``wait``; its outcome
                    # (credentials or error) is published under the lock as for any refresh.
                    threading.Thread(target=self._refresh_quietly, name="rolecall-refresh", daemon=True).start()
                    continue
                break
        return self._refresh(advisory_fallback=current if state == _ADVISORY else None)

    # -- internals ----------------------------------------------------------------------------------------------

    def _wait_until(self, deadline: float | None) -> bool:
        """Sleep on the condition (lock held) until notified or ``deadline``; ``False`` once it has passed."""
        if deadline is None:
            self._cond.wait()
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self._cond.wait(left)
        return True

    def _windows(self) -> tuple[timedelta, timedelta]:
        if self._lifetime is None:
            return self._advisory, self._mandatory
        return min(self._advisory, self._lifetime / 2), min(self._mandatory, self._lifetime / 3)

    def _state(self, credentials: Credentials | None, now: datetime) -> int:
        if credentials is None:
            return _MANDATORY
        left = credentials.remaining(now)
        if left is None:
            return _FRESH  # long-term keys never expire
        advisory, mandatory = self._windows()
        if left <= timedelta(0) or left < mandatory:
            return _MANDATORY
        if left < advisory:
            return _ADVISORY
        return _FRESH

    def _recently_failed(self, now: datetime) -> bool:
        if self._failed_at is None:
            return False
        delay = self._retry_delay
        if self._lifetime is not None:
            delay = min(delay, self._lifetime / 10)
        return now - self._failed_at < delay

    def _install(self, credentials: Credentials, now: datetime) -> None:
        """Store new credentials; the caller holds the lock (or is the constructor)."""
        self._current = credentials
        left = credentials.remaining(now)
        # The lifetime seen at fetch time scales the windows; a fetch that returns credentials from a cache with
        # little time left thus gets proportionally small windows rather than being refetched on every call.
        self._lifetime = left if left is not None and left > timedelta(0) else None

    def _refresh_quietly(self) -> None:
        """A refresh on its own thread: failures are reported and published to waiters, never raised here."""
        # Already reported by _refresh; a daemon thread has nobody to raise to.
        with contextlib.suppress(BaseException):
            self._refresh(advisory_fallback=None, background=True)

    def _refresh(self, advisory_fallback: Credentials | None, background: bool = False) -> Credentials:
        """Run the one fetch (``_refreshing`` was set by the caller under the lock) and publish its outcome."""
        try:
            fresh = self._fetch()
            now = self._clock()
            if fresh.is_expired(now):
                raise RefreshFailedError(
                    "the refreshed credentials have already expired",
                    hint="check the system clock, and the session duration the credentials were asked for",
                )
        except BaseException as error:
            now = self._clock()
            with self._cond:
                self._refreshing = False
                self._generation += 1
                self._last_error = error
                self._failed_at = now
                current = self._current
                still_usable = current is not None and self._state(current, now) == _ADVISORY
                self._cond.notify_all()
            reason = error.message if isinstance(error, RolecallError) else f"unexpected {type(error).__name__}"
            if (background or advisory_fallback is not None) and still_usable and current is not None:
                until = current.expiration.strftime("%H:%M:%S UTC") if current.expiration else "their expiry"
                self._reporter(
                    f"refreshing credentials failed during the advisory window ({reason}); "
                    f"keeping the current ones, valid until {until}"
                )
                if background:
                    raise
                return current
            if isinstance(error, Exception):  # Ctrl-C during an MFA prompt is not a failure worth a line
                self._reporter(f"refreshing credentials failed ({reason})")
            raise
        with self._cond:
            self._install(fresh, now)
            self._refreshing = False
            self._generation += 1
            self._last_error = None
            self._failed_at = None
            self._cond.notify_all()
        return fresh


_FRESH = 0
_ADVISORY = 1
_MANDATORY = 2
