"""The ``sandbox`` pytest fixture: a running strict local STS with the seeded account, fresh per test.

Use it from any test module with ``from sandbox_fixtures import sandbox`` (tests/ is on sys.path).
One server is started per test process, lazily, and reset before each test (moto's backends, the
seeded account with new keys and MFA seed, issued credentials, used codes, counters, faults, lifetime
and disabled regions), because moto's state is per process and a reset is much cheaper than a start.

Test modules may also load it with ``pytest_plugins = ["sandbox_fixtures"]``; the marker
PYTEST_DONT_REWRITE (this module has no asserts) keeps pytest from warning when both ways meet.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator

import pytest

from rolecall.sandbox import Sandbox

_shared: Sandbox | None = None


def shared_sandbox() -> Sandbox:
    """The process's sandbox, started on first use and stopped when the process exits."""
    global _shared
    # Started again if a test stopped it.
    if _shared is None or not _shared.is_running:
        _shared = Sandbox.start()
        atexit.register(_shared.stop)
    return _shared


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A freshly reset sandbox (same server and port across tests; new keys, seed and state)."""
    sb = shared_sandbox()
    sb.reset()
    yield sb
    # Leave no faults or short lifetimes behind for code that talks to it after the test.
    sb.clear_faults()
    sb.set_credential_lifetime(None)
