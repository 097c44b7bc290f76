"""``Retrieved.from_cache``: set by ``CachedSource`` when an AWS CLI cache entry served the credentials, whatever
words the source uses for its origin; the status line's ``cached`` / ``new session`` reads the flag (issue 17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from rolecall.providers.caching import CachedSource
from rolecall.providers.result import Retrieved
from rolecall.statusline import came_from, status_line
from test_provider_contract import NOW, StubFetcher, runtime_at


@pytest.mark.parametrize("reports_origin", [True, False])
def test_a_fetch_is_not_from_the_cache_and_the_entry_then_is(tmp_path: Path, reports_origin: bool) -> None:
    runtime = runtime_at(tmp_path, NOW)
    fetcher = StubFetcher(NOW + timedelta(hours=1))
    fetcher.reports_origin = reports_origin
    fresh = CachedSource(fetcher, runtime).retrieve()
    cached = CachedSource(fetcher, runtime).retrieve()
    assert isinstance(fresh, Retrieved) and isinstance(cached, Retrieved)
    assert fetcher.calls == 1
    assert (fresh.from_cache, cached.from_cache) == (False, True)
    assert came_from(cached) == "cached"
    assert came_from(fresh) == ("new session" if reports_origin else None)
    forced = CachedSource(fetcher, runtime, force_refresh=True).retrieve()
    assert fetcher.calls == 2 and not forced.from_cache


def test_the_status_line_does_not_read_the_origin_words(tmp_path: Path) -> None:
    """An origin worded differently (as a source could say it) does not change what the line says."""
    runtime = runtime_at(tmp_path, NOW)
    cached = CachedSource(StubFetcher(NOW + timedelta(hours=1)), runtime)
    cached.retrieve()
    hit = cached.retrieve()
    assert isinstance(hit, Retrieved)
    reworded = Retrieved.of(hit, origin="entry abc.json of ~/.aws/cli/cache", from_cache=True,
                            identity_arn=hit.identity_arn)  # fmt: skip
    assert status_line("demo", reworded, now=NOW).endswith("(cached)")
    call = Retrieved.of(hit, origin="the AWS CLI cache, then a new call", from_cache=False)
    assert status_line("demo", call, now=NOW).endswith("(new session)")
    assert hit == hit.plain() and Retrieved.of(hit, origin=None, from_cache=True) == hit  # the value is the keys
