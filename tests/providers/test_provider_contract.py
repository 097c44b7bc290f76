"""The provider contract (issue 16): results instead of state, one caching wrapper, a registry of sources.

``CachedSource`` is driven here by a stub ``Fetcher`` on real files (the AWS CLI cache folder, the lock files), so
every step botocore's CachedCredentialFetcher takes is checked on its own: the key, load-if-fresh with the
15-minute window, the fetch under the lock with a second look, refusing an expired answer, saving, and saying
where the credentials came from.
"""

from __future__ import annotations

import ast
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from rolecall.cache import CliCache
from rolecall.config import graph
from rolecall.config.paths import AwsPaths
from rolecall.credentials import Credentials
from rolecall.errors import ExpiredCredentialsError
from rolecall.providers.base import Runtime
from rolecall.providers.caching import CLI_EXPIRY_WINDOW, CachedSource, Fetched
from rolecall.providers.chain import SOURCES, source_factory
from rolecall.providers.result import NO_CONSOLE_FACTS, ConsoleFacts, Retrieved, origin_of

NOW = datetime(2026, 12, 4, 12, 0, 0, tzinfo=timezone.utc)
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/demo/session"


def response(expiration: datetime, access_key: str) -> dict[str, Any]:
    """An AssumeRole answer as botocore returns it."""
    return {
        "Credentials": {
            "AccessKeyId": access_key,
            "SecretAccessKey": "secret",
            "SessionToken": "token",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"Arn": ROLE_ARN, "AssumedRoleId": "AROAEXAMPLE:session"},
    }


class StubFetcher:
    """A Fetcher whose calls are counted; its answer and lock are chosen by the test."""

    method = "stub"
    reports_origin = True

    def __init__(self, answer_expires: datetime, *, key: str | None = "stubkey", with_lock: bool = True) -> None:
        self.answer_expires = answer_expires
        self.key = key
        self.with_lock = with_lock
        self.calls = 0
        self.lock_taken = 0

    def cache_key(self) -> str | None:
        return self.key

    def answered_by(self) -> str:
        return "the stub"

    def lock(self) -> Any:
        if not self.with_lock:
            return None

        @contextmanager
        def held() -> Any:
            self.lock_taken += 1
            yield None

        return held()

    def fetch(self) -> Fetched:
        self.calls += 1
        answer = response(self.answer_expires, f"ASIAFRESHCALL{self.calls:05d}")
        creds = answer["Credentials"]
        credentials = Credentials(creds["AccessKeyId"], "secret", "token", self.answer_expires)
        return Fetched(credentials, answer, origin="a new stub call", identity_arn=ROLE_ARN)


def runtime_at(tmp_path: Path, now: datetime) -> Runtime:
    env = {"HOME": str(tmp_path)}
    return Runtime(env, AwsPaths.from_env(env), clock=lambda: now)


def test_a_miss_fetches_under_the_lock_saves_and_says_so(tmp_path: Path) -> None:
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    runtime = runtime_at(tmp_path, NOW)
    got = CachedSource(fetcher, runtime).retrieve()
    assert isinstance(got, Retrieved) and isinstance(got, Credentials)
    assert (fetcher.calls, fetcher.lock_taken) == (1, 1)
    assert origin_of(got) == ("a new stub call", ROLE_ARN)
    assert got.source_method == "stub"
    entry = CliCache(runtime.paths.cli_cache_dir).get("stubkey", NOW)
    assert entry is not None and entry.credentials.access_key_id == got.access_key_id  # saved for the AWS CLI


def test_a_fresh_entry_is_served_without_a_call_or_the_lock(tmp_path: Path) -> None:
    runtime = runtime_at(tmp_path, NOW)
    CliCache(runtime.paths.cli_cache_dir).put("stubkey", response(NOW + CLI_EXPIRY_WINDOW, "ASIACACHEDENTRY001"))
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    got = CachedSource(fetcher, runtime).retrieve()
    assert (fetcher.calls, fetcher.lock_taken) == (0, 0)
    assert got.access_key_id == "ASIACACHEDENTRY001"
    assert origin_of(got) == ("the AWS CLI cache (stubkey.json)", ROLE_ARN)


def test_less_than_15_minutes_left_is_a_miss_and_force_refresh_skips_a_fresh_entry(tmp_path: Path) -> None:
    runtime = runtime_at(tmp_path, NOW)
    cache = CliCache(runtime.paths.cli_cache_dir)
    cache.put("stubkey", response(NOW + CLI_EXPIRY_WINDOW - timedelta(seconds=1), "ASIACACHEDENTRY001"))
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    assert CachedSource(fetcher, runtime).retrieve().access_key_id == "ASIAFRESHCALL00001"
    # Now fresh in the cache; a forced refresh still calls, while cached() (explain, list) sees the entry.
    forced = CachedSource(fetcher, runtime, force_refresh=True)
    assert forced.cached() is not None
    assert forced.retrieve().access_key_id == "ASIAFRESHCALL00002"


def test_the_entry_is_read_again_once_the_lock_is_held(tmp_path: Path) -> None:
    """Another process filled the cache while this one waited: its entry is used, no second call."""
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    cache = CliCache(runtime.paths.cli_cache_dir)
    original = fetcher.lock

    def lock_then_fill() -> Any:
        cache.put("stubkey", response(NOW + timedelta(hours=1), "ASIAOTHERPROCESS01"))
        return original()

    fetcher.lock = lock_then_fill  # type: ignore[method-assign]
    got = CachedSource(fetcher, runtime).retrieve()
    assert (fetcher.calls, got.access_key_id) == (0, "ASIAOTHERPROCESS01")


def test_without_a_lock_or_a_key_the_fetch_is_made_and_nothing_is_saved(tmp_path: Path) -> None:
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW + timedelta(hours=1), key=None, with_lock=False)
    got = CachedSource(fetcher, runtime).retrieve()
    assert fetcher.calls == 1 and got.access_key_id == "ASIAFRESHCALL00001"
    assert not Path(runtime.paths.cli_cache_dir).exists()


def test_an_expired_answer_is_refused_and_not_saved(tmp_path: Path) -> None:
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW - timedelta(seconds=1))
    with pytest.raises(ExpiredCredentialsError, match="the stub returned credentials that had already expired"):
        CachedSource(fetcher, runtime).retrieve()
    assert CliCache(runtime.paths.cli_cache_dir).get("stubkey", NOW - timedelta(hours=1)) is None


def test_a_source_that_does_not_report_its_origin_gives_none(tmp_path: Path) -> None:
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    fetcher.reports_origin = False
    fresh = CachedSource(fetcher, runtime).retrieve()
    cached = CachedSource(fetcher, runtime).retrieve()
    assert origin_of(fresh) == origin_of(cached) == (None, None)
    assert fetcher.calls == 1


def test_parallel_retrieves_share_one_fetch(tmp_path: Path) -> None:
    """With a real lock (as AssumeRole's), eight threads make one call."""
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    gate = threading.Lock()

    @contextmanager
    def real_lock() -> Any:
        with gate:
            yield None

    fetcher.lock = real_lock  # type: ignore[method-assign]
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(CachedSource(fetcher, runtime).retrieve().access_key_id))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert fetcher.calls == 1 and set(results) == {"ASIAFRESHCALL00001"}


def test_retrieved_is_the_credentials_it_carries() -> None:
    plain = Credentials("ASIAEXAMPLE", "secret", "token", NOW, "123456789012")
    got = Retrieved.of(plain, origin="somewhere", identity_arn=ROLE_ARN, source_method="stub")
    assert got == plain and hash(got) == hash(plain)
    assert type(got.plain()) is Credentials and got.plain() == plain
    assert "secret" not in repr(got) and "token" not in repr(got)
    assert origin_of(plain) == (None, None)
    with pytest.raises(AttributeError):
        got.origin = "elsewhere"  # type: ignore[misc]


def test_every_own_kind_of_the_graph_has_a_registered_source() -> None:
    """The chain builder asks the registry for every kind ``own_kind`` can answer (EMPTY means none)."""
    kinds = {graph.WEB_IDENTITY, graph.SSO, graph.KEYS, graph.LOGIN_SESSION, graph.PROCESS, graph.SAML}
    assert set(SOURCES) == kinds
    for kind in kinds:
        assert callable(source_factory(kind))


def test_console_facts_are_part_of_the_contract() -> None:
    assert ConsoleFacts() == NO_CONSOLE_FACTS and ConsoleFacts("arn", chained=True) != NO_CONSOLE_FACTS


def test_cli_never_asks_which_class_a_provider_is() -> None:
    """No ``isinstance`` on a provider class and no provider class imported anywhere in cli/ except to construct
    one (keys and credential-process build a key store source themselves)."""
    root = Path(__file__).resolve().parents[2] / "src" / "rolecall" / "cli"
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
                names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
                if any(name.endswith("Provider") for name in names):
                    offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("outcome", "identity_arn"):
                offenders.append(f"{path.name}:{node.lineno} reads .{node.attr}")
    assert offenders == []
