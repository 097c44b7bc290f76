"""A cached ``aws login`` lookup stays on the fast path, and the console works from a console session.

``rolecall env console`` with a fresh token file, and ``rolecall env via-console`` (a role sourced from it) with
a fresh role session in the AWS CLI cache, must import nothing heavy (the rules of tests/core/test_import_cost.py)
and make no call; ``rolecall console --print`` of the role opens the sandbox console as that role.
"""

from __future__ import annotations

import http.cookiejar
import urllib.request

import pytest

from conftest import AwsHome, run_rolecall
from login_helpers import PROFILE, login_env, sign_in
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_import_cost import HEAVY, HOT_PATH_EXTRA, _probe


@pytest.mark.parametrize("profile", [PROFILE, "via-console"])
def test_a_cached_login_lookup_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome, profile: str) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    sign_in(env)
    assert run_rolecall(["env", profile], env).returncode == 0  # caches the role session of via-console
    calls = sandbox.calls()
    result = _probe(env, ["env", profile])
    assert result["code"] == 0 and result["out"], result["err"]
    assert sandbox.calls() == calls  # the token file and the CLI cache answered
    loaded = set(result["loaded"])  # type: ignore[arg-type]
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"
    assert "cryptography" not in loaded  # the DPoP key is only needed for a refresh


def test_the_console_opens_as_the_role_sourced_from_a_console_session(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    sign_in(env)
    env["ROLECALL_FEDERATION_ENDPOINT"] = sandbox.federation_endpoint
    done = run_rolecall(["console", "via-console", "--print"], env)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith(sandbox.federation_endpoint + "?Action=login&")
    # Follow the sign-in URL as a browser would (a redirect and a cookie) to the sandbox's console page.
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url, timeout=30) as answer:
        page = answer.read().decode()
    assert f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/" in page
