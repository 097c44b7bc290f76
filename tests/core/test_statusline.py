"""``rolecall.statusline``: the one line after an export (issue 17, item 2), and its cost on the cached path.

The line is built from what travels with the credentials (``Retrieved``: origin and assumed-role ARN), the
profile's section, or GetCallerIdentity's answer; the cached ``rolecall env`` prints it without importing anything
heavy (checked in a fresh interpreter whose stderr is a real pty, so the line is really printed).
"""

from __future__ import annotations

import json
import sys

from conftest import AwsHome, run_rolecall, stderr_on_a_pty
from rolecall.credentials import Credentials
from rolecall.providers.result import Retrieved
from rolecall.sandbox import Sandbox
from rolecall.statusline import came_from, profile_only_line, quiet, status_line
from rolecall.timefmt import datetime, timedelta, timezone
from sandbox_fixtures import seeded_env
from test_import_cost import HEAVY, HOT_PATH_EXTRA

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
ROLE_ARN = "arn:aws:sts::123456789012:assumed-role/admin/alice-session"


def _creds(seconds: float, origin: str | None = None, arn: str | None = None, *, cached: bool = False) -> Retrieved:
    """Role credentials expiring ``seconds`` after NOW, with where they came from."""
    expiry = NOW + timedelta(seconds=seconds)
    return Retrieved("ASIAEXAMPLE", "secret", "TOKEN", expiry, origin=origin, identity_arn=arn, from_cache=cached)


def test_a_role_from_the_cache_and_from_a_new_call() -> None:
    cached = _creds(58 * 60 - 10, "the AWS CLI cache (abc.json)", ROLE_ARN, cached=True)
    assert status_line("prod", cached, now=NOW) == "[prod] 123456789012 role/admin, 58 min left (cached)"
    fresh = _creds(3600, "a new AssumeRole call with an MFA code", ROLE_ARN)
    assert status_line("prod", fresh, now=NOW) == "[prod] 123456789012 role/admin, 1 h left (new session)"
    sso = _creds(8 * 3600 + 90, "IAM Identity Center (GetRoleCredentials)")
    settings = {"sso_role_name": "AdministratorAccess", "sso_account_id": "210987654321"}
    assert status_line("sso", sso, settings=settings, now=NOW) == (
        "[sso] 210987654321 AdministratorAccess via SSO, 8 h 2 min left (new session)"
    )


def test_minutes_round_up_and_the_role_can_come_from_the_profile() -> None:
    # 30 s left: 1 min, never 0 (as the prompt segment); no origin: the profile's role_arn names the role.
    line = status_line("web", _creds(30), settings={"role_arn": "arn:aws:iam::111122223333:role/ci/deployer"}, now=NOW)
    assert line == "[web] 111122223333 role/deployer, 1 min left"
    assert status_line("x", _creds(-5), now=NOW).endswith(", expired")


def test_keys_users_and_the_verified_identity() -> None:
    keys = Credentials("AKIAEXAMPLE", "secret", account_id="444455556666")
    assert status_line("default", keys, method="shared-credentials-file", now=NOW) == (
        "[default] 444455556666 long-term keys AKIAEXAMPLE, no expiry (from the credentials file)"
    )
    verified = {"Arn": "arn:aws:iam::444455556666:user/ops/alice", "Account": "444455556666"}
    assert status_line("default", keys, identity=verified, method="env", now=NOW) == (
        "[default] 444455556666 user/alice, no expiry (from the environment)"
    )
    assert profile_only_line("prod").startswith("[prod] AWS_PROFILE=prod, no keys exported")


def test_quiet_and_origin_words() -> None:
    assert quiet({}, flag=True) and not quiet({})
    for value in ("1", "true", "YES", " on "):
        assert quiet({"ROLECALL_QUIET": value})
    for value in ("", "0", "false", "no"):
        assert not quiet({"ROLECALL_QUIET": value})
    keys = Credentials("AKIAIOSFODNN7EXAMPLE", "secret")
    assert came_from(keys) is None
    assert came_from(Retrieved.of(keys, origin=None)) is None
    # From the flag CachedSource sets, not the words: a source that reports no origin is still "cached".
    assert came_from(Retrieved.of(keys, origin=None, from_cache=True)) == "cached"
    assert came_from(Retrieved.of(keys, origin="the AWS CLI cache (k.json)", from_cache=True)) == "cached"
    assert came_from(Retrieved.of(keys, origin="a new AssumeRole call")) == "new session"


# The cached `rolecall env` with its status line: stderr is the pty this probe runs on (os.openpty below).
PROBE = """
import io, os, sys
from rolecall.cli.context import Context
from rolecall.cli.main import main
out = io.StringIO()
code = main(sys.argv[1:], Context(io.StringIO(), out, sys.stderr, dict(os.environ)))
loaded = sorted({name.split('.')[0] for name in sys.modules})
import json
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue(), "loaded": loaded}))
"""


def _probe_on_a_pty(env: dict[str, str], argv: list[str]) -> tuple[dict[str, object], str]:
    out, screen = stderr_on_a_pty([sys.executable, "-c", PROBE, *argv], env)
    return json.loads(out), screen


def test_the_cached_env_prints_its_status_line_without_importing_anything_heavy(
    sandbox: Sandbox, aws_home: AwsHome
) -> None:
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["env", "ops"], env).returncode == 0  # cached now
    calls = sandbox.calls()
    for argv in (["env", "ops"], ["env", "--format", "sh", "--pick", "ops"], ["env", "--format", "fish", "ops"]):
        result, screen = _probe_on_a_pty(env, argv)
        assert result["code"] == 0 and result["out"], screen
        assert f"[ops] {sandbox.account_id} role/ops, " in screen and "(cached)" in screen, screen
        loaded = set(result["loaded"])  # type: ignore[arg-type]
        assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), (argv, sorted(loaded & (HEAVY | HOT_PATH_EXTRA)))
    assert sandbox.calls() == calls
