"""The ``sandbox`` pytest fixture: a running strict local STS with the seeded account, fresh per test.

Use it from any test module with ``from sandbox_fixtures import sandbox`` (tests/ is on sys.path).
One server is started per test process, lazily, and reset before each test (moto's backends, the
seeded account with new keys and MFA seed, issued credentials, used codes, counters, faults, lifetime
and disabled regions), because moto's state is per process and a reset is much cheaper than a start.

Test modules may also load it with ``pytest_plugins = ["sandbox_fixtures"]``; the marker
PYTEST_DONT_REWRITE (this module has no asserts) keeps pytest from warning when both ways meet.

``sandbox_env`` (fixture) and ``seeded_env`` (function) are the one shared setup for tests that run rolecall
or the AWS CLI against the sandbox: the seeded AWS files in the test's home, and the environment pointing at
them and at the sandbox. conftest.py loads this module as a plugin, so a test asks for ``sandbox_env`` by
name without importing it.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import pytest

from rolecall.sandbox import Sandbox

if TYPE_CHECKING:
    from conftest import AwsHome

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


def seeded_env(
    sb: Sandbox,
    home: AwsHome,
    *,
    config: str = "",
    credentials: str = "",
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write the sandbox's seeded AWS files into ``home``, append ``config`` and ``credentials`` to them, and
    return ``base`` (the home's environment by default) plus the variables that point at the files and the
    sandbox (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, AWS_REGION)."""
    env = {**(home.env if base is None else base), **sb.write_aws_files(home.root)}
    for variable, text in (("AWS_CONFIG_FILE", config), ("AWS_SHARED_CREDENTIALS_FILE", credentials)):
        if text:
            with open(env[variable], "a") as handle:
                handle.write(text)
    return env


@pytest.fixture
def sandbox_env(sandbox: Sandbox, aws_home: AwsHome) -> dict[str, str]:
    """The seeded AWS files in this test's home; the environment for rolecall or the AWS CLI against them."""
    return seeded_env(sandbox, aws_home)
