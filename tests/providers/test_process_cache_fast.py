"""A cached ``rolecall process-cache`` answer is the fast path: no argparse, no subprocess, no botocore, no json
(the same rules as a cached ``rolecall env``, tests/core/test_import_cost.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture
from test_import_cost import HEAVY, HOT_PATH_EXTRA, PROBE
from test_process_cache import Setup


def test_a_cached_answer_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    setup = Setup(sandbox, aws_home)
    first = setup.process_cache()
    assert first.returncode == 0, first.stderr
    argv = ["process-cache", "--", *setup.argv]
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=setup.env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0, result["err"]
    assert json.loads(result["out"]) == json.loads(first.stdout)
    assert setup.runs == 1  # really served from the cache
    loaded = set(result["loaded"])
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"
    assert result["aws"] == []


def test_the_fast_parse_gives_argparse_s_namespace() -> None:
    """``process-cache -- TOOL ARGS`` skips argparse; the namespace is the one argparse gives, the tool's own
    options and ``--`` passed on verbatim."""
    from rolecall.cli.fastargs import parse_fast
    from rolecall.cli.main import build_parser

    argv = ["--", "saml2aws", "login", "--credential-process", "--role", "arn:x", "--", "--ttl", "5"]
    fast = parse_fast("process-cache", argv)
    parser, _ = build_parser("process-cache")
    assert fast is not None and vars(fast) == vars(parser.parse_args(argv))
    assert fast.command == argv[1:]
    slow = parser.parse_args(["--ttl", "60", "--key-env", "X", "--", "tool", "-a"])
    assert (slow.ttl, slow.key_env, slow.command) == (60, ["X"], ["tool", "-a"])


def test_fresh_until_and_the_wrapped_command() -> None:
    from datetime import datetime, timedelta, timezone

    from rolecall.processcache import fresh_until, wrapped_command

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    hour = now + timedelta(hours=1)
    assert fresh_until(hour, now, None) == hour - timedelta(minutes=15)
    assert fresh_until(now + timedelta(minutes=20), now, None) == now + timedelta(minutes=10)  # half the lifetime
    assert fresh_until(hour, now, timedelta(minutes=5)) == now + timedelta(minutes=5)
    assert fresh_until(None, now, None) is None  # long-term keys: not cached
    assert fresh_until(None, now, timedelta(minutes=5)) == now + timedelta(minutes=5)
    assert fresh_until(now - timedelta(seconds=1), now, None) is None
    assert wrapped_command(["rolecall", "process-cache", "--", "tool", "-x"]) == (["tool", "-x"], [])
    assert wrapped_command([sys.executable, "-m", "rolecall", "process-cache", "--key-env", "A", "--ttl=9", "--",
                            "t"]) == (["t"], ["A"])
    assert wrapped_command(["rolecall", "process-cache", "--clear", "--", "t"]) is None
    assert wrapped_command(["rolecall", "credential-process", "prod"]) is None
    assert wrapped_command(["saml2aws", "process-cache", "--", "t"]) is None
