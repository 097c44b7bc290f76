"""``rolecall add-role`` verifies with a fresh call from the new profile's own source (issue 17, item 5).

The AWS CLI's cache key for a role session does not include the source profile, so a session another profile
got for the same role used to answer the verification: "it works" for a source the role does not trust. These
tests run the real CLI against the sandbox with two source users and a role that trusts only one of them.
"""

from __future__ import annotations

import json

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from rolecall.sandbox.account import trust_policy
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def _two_sources(sb: Sandbox, home: AwsHome) -> dict[str, str]:
    """alice (``default``) and bob (``partner-src``), and the role ``alice-only`` that trusts only alice, with a
    profile ``alice-only`` reaching it from ``default``."""
    bob = sb.create_user("bob")
    sb.create_role("alice-only", trust_policy(sb.user_arn))
    return seeded_env(
        sb,
        home,
        config=f"[profile alice-only]\nrole_arn = {sb.role_arn('alice-only')}\nsource_profile = default\n",
        credentials=f"[partner-src]\naws_access_key_id = {bob.access_key_id}\n"
        f"aws_secret_access_key = {bob.secret_access_key}\n",
    )


def _cache_files(home: AwsHome) -> dict[str, bytes]:
    folder = home.root / ".aws" / "cli" / "cache"
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def test_a_cached_session_of_the_trusted_source_does_not_verify_an_untrusted_one(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = _two_sources(sandbox, aws_home)
    # The trusted path: alice assumes the role, and the session lands in the AWS CLI cache.
    warm = run_rolecall(["env", "alice-only", "--format", "json"], env)
    assert warm.returncode == 0, warm.stderr
    cache_before = _cache_files(aws_home)
    assert len(cache_before) == 1
    config_before = aws_home.config.read_bytes()
    calls = sandbox.calls("AssumeRole")

    # Same role, same parameters (so the same AWS CLI cache key), but bob as the source: the role refuses him.
    done = run_rolecall(["add-role", "--role-arn", sandbox.role_arn("alice-only"), "--source-profile", "partner-src",
                         "--name", "bob-readonly", "--mfa-serial", "none", "--yes"], env)  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert "it works" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    # The refusal is for a fresh AssumeRole made with bob's keys: AWS names the caller.
    assert "AccessDenied" in last and "user/bob is not authorized to perform: sts:AssumeRole" in last, last
    assert sandbox.calls("AssumeRole") == calls + 1
    # Nothing written: not the profile, not the AWS CLI cache (alice's entry is untouched).
    assert aws_home.config.read_bytes() == config_before
    assert _cache_files(aws_home) == cache_before


def test_a_working_source_is_verified_by_a_call_even_with_a_fresh_cache_entry(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    """alice's cached session does not stand in for her either: a new call is made, and its session is kept in
    the AWS CLI cache once the profile is written, so the first use of the profile needs no call."""
    env = _two_sources(sandbox, aws_home)
    assert run_rolecall(["env", "alice-only", "--format", "json"], env).returncode == 0
    old_entry = next(iter(_cache_files(aws_home).values()))
    calls = sandbox.calls("AssumeRole")
    done = run_rolecall(["add-role", "--role-arn", sandbox.role_arn("alice-only"), "--source-profile", "default",
                         "--name", "alice-again", "--mfa-serial", "none", "--yes"], env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "alice-again: assumed arn:aws:iam::123456789012:role/alice-only once: it works" in done.stderr
    assert sandbox.calls("AssumeRole") == calls + 1
    assert "[profile alice-again]" in aws_home.config.read_text()
    entries = _cache_files(aws_home)
    assert len(entries) == 1 and next(iter(entries.values())) != old_entry  # the verification's session, kept
    new_key = json.loads(next(iter(entries.values())))["Credentials"]["AccessKeyId"]
    # The AWS CLI and rolecall use the kept session without a call.
    used = run_aws(["sts", "get-caller-identity", "--profile", "alice-again"], env)
    assert used.returncode == 0, used.stderr
    exported = json.loads(run_rolecall(["env", "alice-again", "--format", "json"], env).stdout)
    assert exported["AccessKeyId"] == new_key
    assert sandbox.calls("AssumeRole") == calls + 1


def test_a_failed_verification_with_mfa_writes_nothing(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """A role that needs MFA, verified without a code it accepts: no profile, no cache entry, no MFA session."""
    env = _two_sources(sandbox, aws_home)
    config_before = aws_home.config.read_bytes()
    done = run_rolecall(["add-role", "--role-arn", sandbox.role_arn("admin"), "--source-profile", "default",
                         "--name", "admin2", "--mfa-serial", sandbox.mfa_serial, "--mfa-strategy", "direct",
                         "--token-code", "000000", "--yes"], env)  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert "it works" not in done.stderr
    assert aws_home.config.read_bytes() == config_before
    assert _cache_files(aws_home) == {}
