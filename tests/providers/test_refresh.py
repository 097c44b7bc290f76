"""RefreshingCredentials: windows, single-flight under real threads, failure handling, short lifetimes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from rolecall.credentials import Credentials
from rolecall.errors import MfaError
from rolecall.refresh import RefreshFailedError, RefreshingCredentials

START = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"


class Clock:
    """A clock the test moves by hand; thread-safe enough for reads while the test thread writes."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class Source:
    """A fetch function issuing numbered credentials that live ``lifetime`` from the clock's now."""

    def __init__(self, clock: Clock, lifetime: timedelta = timedelta(hours=1)) -> None:
        self.clock = clock
        self.lifetime = lifetime
        self.calls = 0
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None  # when set, fetch blocks until the test opens it
        self.entered = threading.Event()
        self.fail_with: BaseException | None = None

    def __call__(self) -> Credentials:
        with self.lock:
            self.calls += 1
            number = self.calls
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10), "the test never opened the gate"
        if self.fail_with is not None:
            raise self.fail_with
        return Credentials(f"ASIA{number:04d}", SECRET, "token", self.clock() + self.lifetime)


def run_threads(count: int, target: Callable[[], object]) -> list[object]:
    """Call ``target`` from ``count`` threads at once; return results or the exceptions raised."""
    barrier = threading.Barrier(count)

    def one() -> object:
        barrier.wait()
        try:
            return target()
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: one(), range(count)))


def test_first_get_fetches_and_fresh_credentials_are_reused() -> None:
    clock = Clock()
    source = Source(clock)
    holder = RefreshingCredentials(source, clock=clock)
    assert holder.current is None
    first = holder.get()
    clock.advance(minutes=44)  # 16 minutes left: outside the 15-minute advisory window
    assert holder.get() is first
    assert source.calls == 1 and holder.fetch_count == 1


def test_initial_credentials_are_served_without_fetching() -> None:
    clock = Clock()
    source = Source(clock)
    initial = Credentials("ASIAINIT", SECRET, "t", START + timedelta(hours=1))
    holder = RefreshingCredentials(source, clock=clock, initial=initial)
    assert holder.get() is initial
    assert source.calls == 0


def test_mandatory_window_many_threads_wait_for_one_fetch() -> None:
    clock = Clock()
    source = Source(clock)
    holder = RefreshingCredentials(source, clock=clock)
    holder.get()
    clock.advance(minutes=55)  # 5 minutes left: mandatory
    source.gate = threading.Event()
    source.entered.clear()
    opener = threading.Timer(0.3, source.gate.set)
    opener.start()
    results = run_threads(50, holder.get)
    opener.join()
    assert source.calls == 2  # the first fetch plus exactly one refresh for 50 callers
    assert {r.access_key_id for r in results if isinstance(r, Credentials)} == {"ASIA0002"}
    assert len([r for r in results if isinstance(r, Credentials)]) == 50


def test_advisory_window_one_refreshes_others_get_current_at_once() -> None:
    clock = Clock()
    source = Source(clock)
    holder = RefreshingCredentials(source, clock=clock)
    old = holder.get()
    clock.advance(minutes=48)  # 12 minutes left: advisory, not mandatory
    source.gate = threading.Event()
    source.entered.clear()
    refresher_result: list[Credentials] = []
    refresher = threading.Thread(target=lambda: refresher_result.append(holder.get()))
    refresher.start()
    assert source.entered.wait(5)
    # While the refresh is blocked, 20 other callers are answered at once with the still-valid credentials.
    others = run_threads(20, holder.get)
    assert all(r is old for r in others)
    source.gate.set()
    refresher.join(5)
    assert refresher_result[0].access_key_id == "ASIA0002"
    assert holder.get() is refresher_result[0]
    assert source.calls == 2


def test_failed_advisory_refresh_keeps_current_and_reports() -> None:
    clock = Clock()
    source = Source(clock)
    lines: list[str] = []
    holder = RefreshingCredentials(source, clock=clock, reporter=lines.append)
    old = holder.get()
    clock.advance(minutes=48)
    source.fail_with = MfaError("an MFA code is needed and there is no terminal to ask for it", hint="use mfa_process")
    assert holder.get() is old
    assert len(lines) == 1
    assert "advisory" in lines[0] and "keeping the current ones" in lines[0] and "no terminal" in lines[0]
    assert SECRET not in lines[0]
    # Right after a failure the holder does not hammer the source on every call...
    assert holder.get() is old
    assert source.calls == 2
    # ...but tries again after the retry delay, and succeeds once the source works again.
    clock.advance(seconds=11)
    source.fail_with = None
    assert holder.get().access_key_id == "ASIA0003"


def test_failed_mandatory_refresh_raises_to_every_waiter_with_one_fetch() -> None:
    clock = Clock()
    source = Source(clock)
    lines: list[str] = []
    holder = RefreshingCredentials(source, clock=clock, reporter=lines.append)
    holder.get()
    clock.advance(minutes=55)
    source.gate = threading.Event()
    source.fail_with = MfaError("an MFA code is needed and there is no terminal to ask for it")
    opener = threading.Timer(0.3, source.gate.set)
    opener.start()
    results = run_threads(30, holder.get)
    opener.join()
    assert source.calls == 2
    assert all(isinstance(r, MfaError) for r in results), results
    assert lines == ["refreshing credentials failed (an MFA code is needed and there is no terminal to ask for it)"]
    # The next caller tries again (a mandatory refresh is never skipped).
    source.gate = None
    source.fail_with = None
    assert holder.get().access_key_id == "ASIA0003"


def test_expired_credentials_are_refreshed_even_without_windows() -> None:
    clock = Clock()
    source = Source(clock)
    holder = RefreshingCredentials(source, clock=clock, advisory=timedelta(0), mandatory=timedelta(0))
    holder.get()
    clock.advance(minutes=59)
    assert holder.get().access_key_id == "ASIA0001"
    clock.advance(minutes=1)
    assert holder.get().access_key_id == "ASIA0002"


def test_refresh_returning_expired_credentials_is_an_error() -> None:
    clock = Clock()
    source = Source(clock, lifetime=timedelta(seconds=-1))
    holder = RefreshingCredentials(source, clock=clock)
    with pytest.raises(RefreshFailedError, match="already expired"):
        holder.get()


@pytest.mark.parametrize(
    ("lifetime", "fresh_at", "advisory_at", "mandatory_at"),
    [
        # 30 s credentials: advisory after half their life, mandatory after two thirds.
        (timedelta(seconds=30), 14, 16, 21),
        # 15 min (the AssumeRole minimum): 7.5 min / 5 min windows instead of being always due.
        (timedelta(minutes=15), 7 * 60, 8 * 60, 10 * 60 + 1),
        # 1 h: botocore's own 15/10 minute windows.
        (timedelta(hours=1), 44 * 60, 46 * 60, 51 * 60),
    ],
)
def test_windows_shrink_for_short_lived_credentials(
    lifetime: timedelta, fresh_at: int, advisory_at: int, mandatory_at: int
) -> None:
    clock = Clock()
    source = Source(clock, lifetime)
    holder = RefreshingCredentials(source, clock=clock, background_advisory=True)
    first = holder.get()
    clock.now = START + timedelta(seconds=fresh_at)
    assert holder.get() is first and source.calls == 1
    # Advisory: with background refresh the caller is answered with the current credentials at once.
    source.gate = threading.Event()
    source.entered.clear()
    clock.now = START + timedelta(seconds=advisory_at)
    assert holder.get() is first
    assert source.entered.wait(5) and source.calls == 2
    # Mandatory while that background refresh is still running: the caller waits for it, no second fetch.
    clock.now = START + timedelta(seconds=mandatory_at)
    threading.Timer(0.2, source.gate.set).start()
    assert holder.get().access_key_id == "ASIA0002"
    assert source.calls == 2


def test_long_term_keys_are_never_refreshed() -> None:
    calls = []

    def fetch() -> Credentials:
        calls.append(1)
        return Credentials("AKIASTATIC", SECRET)

    holder = RefreshingCredentials(fetch)
    for _ in range(3):
        assert holder.get().access_key_id == "AKIASTATIC"
    assert len(calls) == 1


def test_mandatory_window_longer_than_advisory_is_rejected() -> None:
    with pytest.raises(ValueError, match="mandatory"):
        RefreshingCredentials(Source(Clock()), advisory=timedelta(minutes=5), mandatory=timedelta(minutes=10))


def test_stress_real_threads_real_clock_one_fetch_at_a_time_never_expired() -> None:
    """16 threads call get() for 2 s on credentials living 0.3 s, with a slow fetch that fails one time in five:
    fetches never overlap, and nothing returned had expired when get() was called."""
    import random

    rng = random.Random(6)
    rng_lock = threading.Lock()
    active = 0
    most_active = 0
    state_lock = threading.Lock()
    lifetime = timedelta(seconds=0.3)

    def fetch() -> Credentials:
        nonlocal active, most_active
        with state_lock:
            active += 1
            most_active = max(most_active, active)
        try:
            with rng_lock:
                delay, fail = rng.uniform(0, 0.03), rng.random() < 0.2
            threading.Event().wait(delay)
            if fail:
                raise MfaError("no terminal")
            return Credentials("ASIASTRESS", SECRET, "t", datetime.now(timezone.utc) + lifetime)
        finally:
            with state_lock:
                active -= 1

    holder = RefreshingCredentials(fetch, retry_delay=timedelta(milliseconds=20))
    problems: list[str] = []
    served = 0
    deadline = datetime.now(timezone.utc) + timedelta(seconds=2)

    def worker() -> None:
        nonlocal served
        while datetime.now(timezone.utc) < deadline:
            called_at = datetime.now(timezone.utc)
            try:
                credentials = holder.get()
            except MfaError:
                continue
            assert credentials.expiration is not None
            if credentials.expiration <= called_at:
                problems.append(f"expired by {called_at - credentials.expiration}")
            with state_lock:
                served += 1

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert most_active == 1
    assert problems == []
    assert served > 100
    # Refreshes happened (about one per half-life plus failures), but far fewer than the calls served.
    assert 4 <= holder.fetch_count < served / 10


def test_interrupt_during_fetch_propagates_without_a_failure_report_and_next_get_retries() -> None:
    clock = Clock()
    source = Source(clock)
    lines: list[str] = []
    holder = RefreshingCredentials(source, clock=clock, reporter=lines.append)
    source.fail_with = KeyboardInterrupt()
    with pytest.raises(KeyboardInterrupt):
        holder.get()
    assert lines == []
    source.fail_with = None
    assert holder.get().access_key_id == "ASIA0002"


def test_wait_bounds_a_mandatory_refresh_which_goes_on_and_is_fetched_once() -> None:
    """``get(wait=...)``: a slow mandatory refresh (an MFA prompt nobody answered yet) is not waited for past
    ``wait``; it keeps running, later callers wait on the same one, and its result is served when it ends."""
    import time

    from rolecall.refresh import RefreshPendingError

    clock = Clock()
    source = Source(clock)
    source.gate = threading.Event()
    holder = RefreshingCredentials(source, clock=clock)
    started = time.monotonic()
    with pytest.raises(RefreshPendingError) as caught:
        holder.get(wait=0.3)
    assert 0.3 <= time.monotonic() - started < 3
    assert "MFA code" in (caught.value.hint or "")
    assert source.entered.wait(5)
    results = run_threads(10, lambda: holder.get(wait=0.2))
    assert all(isinstance(result, RefreshPendingError) for result in results)
    assert holder.fetch_count == 1 and source.calls == 1
    source.gate.set()
    credentials = holder.get(wait=5)
    assert credentials.access_key_id == "ASIA0001"
    assert source.calls == 1


def test_wait_returns_a_quick_failure_at_once() -> None:
    import time

    clock = Clock()
    source = Source(clock)
    source.fail_with = MfaError("an MFA code is needed and there is no terminal", hint="set mfa_process")
    holder = RefreshingCredentials(source, clock=clock)
    started = time.monotonic()
    with pytest.raises(MfaError):
        holder.get(wait=5)
    assert time.monotonic() - started < 2, "a failed refresh must not be reported as still running"
    source.fail_with = None
    assert holder.get(wait=5).access_key_id == "ASIA0002"
