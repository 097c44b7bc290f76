"""Shared steps of the ``aws login`` tests: an environment whose BROWSER approves like a person, a sign-in through
the real CLI against the sandbox's AWS Sign-In, and the token file's path and contents."""

from __future__ import annotations

import configparser
import hashlib
import json
from pathlib import Path
from typing import Any

from browser_approve import browser_command
from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import seeded_env

PROFILE = "console"
#: A role whose source is the console session (the seeded role "readonly" trusts the account root).
CONFIG = f"\n[profile via-console]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = {PROFILE}\n"


def login_env(sb: Sandbox, home: AwsHome, *, decision: str = "allow") -> dict[str, str]:
    """The sandbox's files plus a role chained from the console profile, and a BROWSER that approves (or denies)
    the sign-in page over HTTP, as a person would click."""
    env = seeded_env(sb, home, config=CONFIG)
    env["BROWSER"] = browser_command(home.root)
    env["ROLECALL_TEST_BROWSER"] = "http"
    env["ROLECALL_TEST_DECISION"] = decision
    env["ROLECALL_TEST_BROWSER_LOG"] = str(home.root / "browser.log")
    env.pop("DISPLAY", None)
    return env


def sign_in(env: dict[str, str], profile: str = PROFILE) -> str:
    """``rolecall login --profile PROFILE`` (must succeed); the ``login_session`` it wrote to the profile."""
    done = run_rolecall(["login", "--profile", profile], env, timeout=90)
    assert done.returncode == 0, done.stderr
    return login_session_of(env, profile)


def login_session_of(env: dict[str, str], profile: str) -> str:
    """The ``login_session`` of ``profile`` in the config file."""
    parser = configparser.RawConfigParser()
    parser.read(env["AWS_CONFIG_FILE"])
    section = "default" if profile == "default" else f"profile {profile}"
    return parser.get(section, "login_session")


def token_path(env: dict[str, str], login_session: str) -> Path:
    """Where the CLI v2 and botocore look for the session's token."""
    folder = Path(env.get("AWS_LOGIN_CACHE_DIRECTORY") or Path(env["HOME"]) / ".aws" / "login" / "cache")
    return folder / (hashlib.sha256(login_session.encode()).hexdigest() + ".json")


def read_token(env: dict[str, str], login_session: str) -> dict[str, Any]:
    """The token file's JSON."""
    document: dict[str, Any] = json.loads(token_path(env, login_session).read_text())
    return document


def expire(env: dict[str, str], login_session: str) -> None:
    """Make the cached access token look expired (as 15 minutes later), keeping everything else."""
    path = token_path(env, login_session)
    document = json.loads(path.read_text())
    document["accessToken"]["expiresAt"] = "2020-01-01T00:00:00Z"
    path.write_text(json.dumps(document))
