"""Expiry you can see (issue 19 item 5): ``rolecall list`` and ``rolecall whoami`` show the minutes left of the
session that would be used (the cached entry), against the sandbox's STS with 30-minute sessions."""

from __future__ import annotations

import re

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def test_list_and_whoami_show_minutes_left_of_the_cached_session(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    sandbox.set_credential_lifetime(30 * 60)
    assert run_rolecall(["env", "readonly", "--format", "json"], env).returncode == 0
    listed = run_rolecall(["list", "readonly"], env)
    assert listed.returncode == 0, listed.stderr
    (minutes,) = re.findall(r"(\d+) min left", listed.stdout)
    assert 28 <= int(minutes) <= 30, listed.stdout
    who = run_rolecall(["whoami", "readonly"], env)
    assert who.returncode == 0, who.stderr
    # whoami uses the cached session (no new one): its minutes left are those of the entry list showed.
    assert re.search(r"expires   \S+ \((2[89]|30) min left\)", who.stdout), who.stdout
