"""`rolecall forget`: a profile's role session and MFA session go, the next assume makes a fresh call (the
sandbox's call log says so); entries the real AWS CLI wrote are found under botocore's key; other profiles' stay;
the writer's lock is honoured; nothing secret is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import AwsHome, run_aws, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

HAS_AWS_CLI = (Path(sys.executable).parent / "aws").exists()


def _cache(home: AwsHome) -> Path:
    return home.root / ".aws" / "cli" / "cache"


def _sessions(env: dict[str, str]) -> Path:
    return Path(env["ROLECALL_HOME"]) / "sessions"


def _entries(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()


def _secrets(folder: Path) -> list[str]:
    """The secret values in a cache folder's entries (to check none is ever printed)."""
    found = []
    for entry in folder.glob("*.json"):
        credentials = json.loads(entry.read_text()).get("Credentials", {})
        found += [credentials[k] for k in ("SecretAccessKey", "SessionToken") if credentials.get(k)]
    return found


def test_forget_a_role_session_then_the_next_assume_calls_sts(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    for profile in ("readonly", "partner"):
        assert run_rolecall(["assume", profile], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 2
    assert run_rolecall(["assume", "readonly"], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 2  # served from the cache
    before = _entries(_cache(aws_home))
    secrets = _secrets(_cache(aws_home))
    done = run_rolecall(["forget", "readonly"], env)
    assert done.returncode == 0, done.stderr
    (gone,) = before - _entries(_cache(aws_home))
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"forgot readonly: role session of {sandbox.role_arn('readonly')} (valid ")
    assert lines[0].endswith(f"/.aws/cli/cache/{gone})")
    assert lines[-1] == "rolecall forget: removed 1 role session, 0 MFA sessions for readonly"
    assert done.stdout == "" and not any(secret in done.stderr for secret in secrets)
    assert len(_entries(_cache(aws_home))) == 1  # partner's stays
    assert run_rolecall(["assume", "readonly"], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 3  # a fresh call
    assert run_rolecall(["assume", "partner"], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 3  # partner still cached
    again = run_rolecall(["forget", "--profile", "partner", "--dry-run"], env)
    assert again.stderr.splitlines()[-1] == "rolecall forget: would remove 1 role session, 0 MFA sessions for partner"
    assert len(_entries(_cache(aws_home))) == 2  # a dry run removes nothing


def test_forget_the_mfa_session(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """admin uses the reuse strategy: an MFA session (GetSessionToken) and the role session. By default both go;
    --role-session keeps the MFA session (no code next time); --mfa-session keeps the role session."""
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "admin", "--token-code", sandbox.fresh_code()], env).returncode == 0
    assert (sandbox.calls("GetSessionToken"), sandbox.calls("AssumeRole")) == (1, 1)
    assert len(_entries(_sessions(env))) == 1

    done = run_rolecall(["forget", "admin", "--role-session"], env)
    assert done.returncode == 0 and "0 MFA sessions" in done.stderr, done.stderr
    assert len(_entries(_sessions(env))) == 1
    assert run_rolecall(["assume", "admin"], env).returncode == 0  # no code: the MFA session serves
    assert (sandbox.calls("GetSessionToken"), sandbox.calls("AssumeRole")) == (1, 2)

    done = run_rolecall(["forget", "admin", "--mfa-session"], env)
    assert done.returncode == 0, done.stderr
    assert f"forgot admin: MFA session of {sandbox.mfa_serial}" in done.stderr
    assert _entries(_sessions(env)) == set() and len(_entries(_cache(aws_home))) == 1
    assert run_rolecall(["assume", "admin"], env).returncode == 0  # the role session still serves
    assert sandbox.calls("AssumeRole") == 2

    done = run_rolecall(["forget", "admin", "--role-session"], env)
    assert done.returncode == 0
    refused = run_rolecall(["assume", "admin"], env)  # no MFA session, no role session, no terminal: no code
    assert refused.returncode == 5, refused.stderr

    assert run_rolecall(["assume", "admin", "--token-code", sandbox.fresh_code()], env).returncode == 0
    done = run_rolecall(["forget", "admin", "--output", "json"], env)
    document = json.loads(done.stdout)
    assert sorted(e["Kind"] for e in document["Removed"]) == ["MFA session", "role session"]
    assert {e["Profile"] for e in document["Removed"]} == {"admin"} and document["DryRun"] is False
    assert _entries(_sessions(env)) == set() and _entries(_cache(aws_home)) == set()


@pytest.mark.skipif(not HAS_AWS_CLI, reason="the AWS CLI (awscli from PyPI) is not installed in this environment")
def test_entries_the_aws_cli_wrote_are_found(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """The real `aws` caches role sessions under botocore's key: forget finds readonly's, keeps partner's, and
    the next `aws --profile readonly` makes a fresh AssumeRole."""
    env = seeded_env(sandbox, aws_home)
    for profile in ("readonly", "partner"):
        done = run_aws(["--profile", profile, "sts", "get-caller-identity"], env)
        assert done.returncode == 0, done.stderr
    written = _entries(_cache(aws_home))
    assert len(written) == 2 and sandbox.calls("AssumeRole") == 2
    done = run_rolecall(["forget", "readonly"], env)
    assert done.returncode == 0, done.stderr
    (gone,) = written - _entries(_cache(aws_home))
    assert gone in done.stderr
    assert run_aws(["--profile", "partner", "sts", "get-caller-identity"], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 2  # partner's entry, still the CLI's
    assert run_aws(["--profile", "readonly", "sts", "get-caller-identity"], env).returncode == 0
    assert sandbox.calls("AssumeRole") == 3


def test_forget_all_keeps_what_no_profile_accounts_for(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "admin", "--token-code", sandbox.fresh_code()], env).returncode == 0
    for profile in ("readonly", "ops"):  # ops: a chain (deploy and readonly are cached on the way)
        assert run_rolecall(["assume", profile], env).returncode == 0
    foreign = _cache(aws_home) / "0123456789abcdef0123456789abcdef01234567.json"
    foreign.write_text((_cache(aws_home) / sorted(_entries(_cache(aws_home)))[0]).read_text())
    done = run_rolecall(["forget", "--all"], env)
    assert done.returncode == 0, done.stderr
    assert _entries(_cache(aws_home)) == {foreign.name} and _entries(_sessions(env)) == set()
    assert done.stderr.splitlines()[-1] == (
        "rolecall forget: removed 4 role sessions, 1 MFA session for every profile; 1 other AWS CLI cache entry no "
        "profile accounts for left alone")
    again = run_rolecall(["forget", "--all"], env)
    assert again.returncode == 0 and "nothing cached for every profile" in again.stderr


def test_usage_and_errors(sandbox: Sandbox, aws_home: AwsHome) -> None:
    env = seeded_env(sandbox, aws_home)
    nothing = run_rolecall(["forget", "readonly"], env)
    assert (nothing.returncode, nothing.stderr) == (0, "rolecall forget: nothing cached for readonly (no role "
                                                       "session)\n")
    keys = run_rolecall(["forget", "default", "--mfa-session"], env)  # keys: nothing of either kind
    assert keys.returncode == 0 and "nothing cached for default" in keys.stderr
    missing = run_rolecall(["forget", "nope"], env)
    assert missing.returncode == 3 and missing.stderr.count("\n") == 1 and "nope" in missing.stderr
    both = run_rolecall(["forget", "readonly", "--all"], env)
    assert both.returncode == 2 and "--all" in both.stderr
    exclusive = run_rolecall(["forget", "readonly", "--role-session", "--mfa-session"], env)
    assert exclusive.returncode == 2
    named = run_rolecall(["forget"], {**env, "AWS_PROFILE": "partner"})
    assert "for partner" in named.stderr


def _hold(lock: object, held: threading.Event, release: threading.Event) -> None:
    with lock:  # type: ignore[attr-defined]
        held.set()
        release.wait(30)


@pytest.mark.parametrize("profile", ["readonly", "admin"])
def test_forget_waits_for_the_writer_and_removes_what_it_wrote(sandbox: Sandbox, aws_home: AwsHome,
                                                               profile: str) -> None:
    """A rolecall getting a session holds the lock its writer holds (the MFA device's for admin, the entry's own
    for readonly). forget waits for it; the entry the writer then leaves is the one removed."""
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.chain import build_chain
    from rolecall.resolve import make_runtime

    env = seeded_env(sandbox, aws_home)
    args = ["assume", profile] + (["--token-code", sandbox.fresh_code()] if profile == "admin" else [])
    assert run_rolecall(args, env).returncode == 0
    entries = sorted(_cache(aws_home).glob("*.json"))
    saved = {p: p.read_bytes() for p in entries}
    for path in entries:
        path.unlink()  # as if the writer had not written yet
    runtime = make_runtime(env)
    provider = build_chain(ConfigFiles.load(runtime.paths), profile, runtime).provider
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(provider.lock(), held, release))  # type: ignore[attr-defined]
    holder.start()
    assert held.wait(10)
    forget = subprocess.Popen([sys.executable, "-m", "rolecall", "forget", profile, "--role-session"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert forget.poll() is None  # waiting for the lock
    for path, data in saved.items():  # the writer writes, then lets go
        path.write_bytes(data)
        os.chmod(path, 0o600)
    release.set()
    holder.join()
    _, err = forget.communicate(timeout=60)
    assert forget.returncode == 0, err
    assert "removed 1 role session" in err
    assert _entries(_cache(aws_home)) == set()
