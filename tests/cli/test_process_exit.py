"""How the console script ends: the hot path skips Python's teardown, every other path keeps it.

``cli/main.entry_point`` holds the cyclic garbage collector off while a hot-path command (``env``,
``credential-process``) runs and, when that command made no AWS call, left no thread and nobody registered exit
work, leaves with ``os._exit`` after flushing its output (docs/architecture.md, "The fast path"). These tests run
the console script's entry point in a fresh interpreter against real cached roles and look at what survives:
the output, the exit code, registered exit functions, and whether the interpreter's teardown ran.
"""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: Runs the console script's entry point as the installed ``rolecall`` does. A module-level object says on stderr
#: when the interpreter tears the main module down; with ``ATEXIT`` an exit function reports the collector's state.
PROBE = """
import gc, os, sys

class Mark:
    def __del__(self):
        os.write(2, b"teardown ran\\n")

mark = Mark()
if os.environ.get("PROBE_ATEXIT"):
    import atexit
    atexit.register(lambda: os.write(2, f"atexit ran, collector {'on' if gc.isenabled() else 'off'}\\n".encode()))
sys.argv = ["rolecall", *sys.argv[1:]]
from rolecall.cli.main import entry_point
entry_point()
"""


def _run(env: dict[str, str], *argv: str, atexit_work: bool = False) -> subprocess.CompletedProcess[str]:
    probe_env = dict(env, PROBE_ATEXIT="1") if atexit_work else env
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv], env=probe_env, capture_output=True, text=True, timeout=60
    )


def _cached(sandbox: Sandbox, aws_home: AwsHome) -> dict[str, str]:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "ops"], env).returncode == 0
    return env


def test_a_cached_lookup_skips_the_teardown_and_loses_no_output(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _cached(sandbox, aws_home)
    calls = sandbox.calls()
    done = _run(env, "env", "ops", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert sandbox.calls() == calls  # served from the cache
    assert "teardown ran" not in done.stderr  # left with os._exit
    # Everything printed got out before the exit: the whole JSON document, the same as a normal run prints.
    expected = run_rolecall(["env", "ops", "--format", "json"], env)
    assert json.loads(done.stdout) == json.loads(expected.stdout)
    assert set(json.loads(done.stdout)) >= {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}


def test_an_error_on_the_hot_path_is_said_and_keeps_its_exit_code(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _cached(sandbox, aws_home)
    done = _run(env, "env", "no-such-profile")
    assert done.returncode == 3
    assert done.stderr.startswith("rolecall: the profile 'no-such-profile' could not be found")
    assert "teardown ran" not in done.stderr


def test_registered_exit_work_still_runs(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """An embedding program (or a coverage tool) registered an exit function: the teardown is not skipped, and the
    collector was held off while the hot path ran."""
    env = _cached(sandbox, aws_home)
    done = _run(env, "env", "ops", atexit_work=True)
    assert done.returncode == 0, done.stderr
    assert "atexit ran, collector off" in done.stderr
    assert "teardown ran" in done.stderr


def test_other_commands_get_the_collector_back_and_a_normal_exit(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = _cached(sandbox, aws_home)
    done = _run(env, "list", atexit_work=True)
    assert done.returncode == 0, done.stderr
    assert "atexit ran, collector on" in done.stderr
    assert "teardown ran" in _run(env, "list").stderr


def test_a_lookup_that_called_aws_exits_normally(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """A cache miss loaded botocore (connection pools, logging): the interpreter tears down as usual."""
    env = seeded_env(sandbox, aws_home)
    calls = sandbox.calls()
    done = _run(env, "env", "ops")
    assert done.returncode == 0, done.stderr
    assert sandbox.calls() != calls  # really went to STS
    assert "teardown ran" in done.stderr
