"""The cached lookup imports nothing heavy: no botocore, no boto3, and on the hot commands no argparse/re/json.

A cached role is served by reading the config files, computing the AWS CLI cache key and reading one JSON
file. This test serves real cached roles (cached through the sandbox STS) in a fresh interpreter and looks
at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: Never on a cached lookup, whatever the command.
HEAVY = {"botocore", "boto3", "urllib3", "jmespath", "moto", "dateutil", "requests", "s3transfer", "keyring",
         "rich", "click", "logging", "subprocess", "tempfile", "configparser", "http", "ssl", "socket"}
#: Also never on the hot commands (env, credential-process), which bypass argparse (cli/fastargs.py).
HOT_PATH_EXTRA = {"argparse", "re", "json", "dataclasses", "pathlib", "typing", "enum", "shlex", "inspect",
                  "gettext", "locale", "shutil", "hashlib",
                  "datetime"}  # the C module _datetime serves the same classes without the pure-Python prelude

PROBE = """
import io, os, sys
from rolecall.cli.context import Context
from rolecall.cli.main import main
out, err = io.StringIO(), io.StringIO()
code = main(sys.argv[1:], Context(io.StringIO(), out, err, dict(os.environ)))
loaded = sorted({name.split('.')[0] for name in sys.modules})
ours = sorted(name for name in sys.modules if name.split('.')[0] == 'rolecall')
aws = sorted(name for name in sys.modules if name.startswith(("rolecall.aws", "rolecall.sts_call")))
import json  # only now: the probe's own output must not count
sys.__stdout__.write(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "loaded": loaded,
                                 "ours": ours, "aws": aws}))
"""


def _probe(env: dict[str, str], argv: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize(
    ("argv", "forbidden"),
    [
        (["env", "ops"], HEAVY | HOT_PATH_EXTRA),
        (["env", "ops", "--format", "fish"], HEAVY | HOT_PATH_EXTRA),
        (["credential-process", "ops"], HEAVY | HOT_PATH_EXTRA),
        (["assume", "ops"], HEAVY),
        (["assume", "ops", "--output", "json"], HEAVY),
    ],
)
def test_cached_lookup_imports_nothing_heavy(
    sandbox: Sandbox, aws_home: AwsHome, argv: list[str], forbidden: set[str]  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    assert run_rolecall(["assume", "ops"], env).returncode == 0
    calls = sandbox.calls()
    result = _probe(env, argv)
    assert result["code"] == 0, result["err"]
    assert result["out"] or "from the AWS CLI cache" in str(result["err"])
    assert sandbox.calls() == calls  # really served from the cache
    loaded = set(result["loaded"])  # type: ignore[arg-type]
    assert loaded & forbidden == set(), f"imported on the cached path: {sorted(loaded & forbidden)}"
    assert result["aws"] == [], "the AWS layer (rolecall.aws, rolecall.sts_call) is off the cached path"


@pytest.mark.parametrize("profile", ["sso-admin", "sso-chained"])
def test_a_cached_sso_profile_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome, profile: str) -> None:  # noqa: F811
    """An SSO profile (and a role sourced from one) served from the AWS CLI cache: same rules as a role."""
    from test_sso import _env, _login

    env = _env(sandbox, aws_home)
    assert _login(env).returncode == 0
    assert run_rolecall(["env", profile], env).returncode == 0
    calls = sandbox.calls()
    result = _probe(env, ["env", profile])
    assert result["code"] == 0 and result["out"], result["err"]
    assert sandbox.calls() == calls
    loaded = set(result["loaded"])  # type: ignore[arg-type]
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"


def test_timefmt_classes_are_the_standard_datetime_classes() -> None:
    """The fast path takes datetime's classes from the C module: they must be the very classes ``datetime`` has,
    so that values mix freely with botocore's and the caller's (isinstance, comparison, arithmetic)."""
    import datetime

    from rolecall import timefmt

    assert timefmt.datetime is datetime.datetime
    assert timefmt.timedelta is datetime.timedelta
    assert timefmt.timezone is datetime.timezone
    assert timefmt.utc_now().tzinfo is datetime.timezone.utc


def test_a_cached_eks_token_imports_nothing_heavy(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """kubectl calls ``rolecall eks token`` for every command: a cached token is the hot path too."""
    env = seeded_env(sandbox, aws_home)
    argv = ["eks", "token", "--cluster-name", "demo", "--profile", "ops"]
    assert run_rolecall(argv, env).returncode == 0  # signs (botocore) and caches the token
    calls = sandbox.calls()
    result = _probe(env, argv)
    assert result["code"] == 0 and '"ExecCredential"' in str(result["out"]), result["err"]
    assert sandbox.calls() == calls
    loaded = set(result["loaded"])  # type: ignore[arg-type]
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"
    assert result["aws"] == []


#: The rolecall modules a cached lookup may load when it works the answer out (roles, SSO, login, keys alike).
CACHED_PATH_MODULES = {
    "rolecall", "rolecall.cache", "rolecall.cachekeys", "rolecall.cli", "rolecall.cli.commands",
    "rolecall.cli.commands._resolve_options", "rolecall.cli.commands.credential_process", "rolecall.cli.commands.env",
    "rolecall.cli.context", "rolecall.cli.fastargs", "rolecall.cli.main", "rolecall.config", "rolecall.config.graph",
    "rolecall.config.parse", "rolecall.config.parsecache", "rolecall.config.paths", "rolecall.config.profiles",
    "rolecall.config.refusals", "rolecall.credentials", "rolecall.errors", "rolecall.export", "rolecall.fastjson",
    "rolecall.guardedread", "rolecall.limits", "rolecall.ownership", "rolecall.parentshell", "rolecall.providers",
    "rolecall.providers.assume_role", "rolecall.providers.base", "rolecall.providers.caching",
    "rolecall.providers.chain", "rolecall.providers.environment", "rolecall.providers.mfa_inputs",
    "rolecall.providers.result", "rolecall.providers.static", "rolecall.replay", "rolecall.replayrecord",
    "rolecall.reporting", "rolecall.session", "rolecall.timefmt", "rolecall.durations", "rolecall.filesig",
    # IAM Identity Center profiles
    "rolecall.providers.sso",
    # `aws login` sessions
    "rolecall.providers.login_session", "rolecall.login", "rolecall.login.session", "rolecall.login.tokens",
    # roles whose source keys are in the key store (the store itself is not opened while the role is cached)
    "rolecall.providers.process", "rolecall.providers.keystore", "rolecall.processoutput",
}  # fmt: skip
#: The rolecall modules a replayed answer loads (rolecall.replay): the launcher, the replay, rolecall's folder.
REPLAY_MODULES = {"rolecall", "rolecall.cli", "rolecall.cli.main", "rolecall.replay", "rolecall.filesig",
                  "rolecall.config", "rolecall.config.paths", "rolecall.parentshell",
                  "rolecall.durations"}  # fmt: skip  # durations: only for a status line's time left


def _cached_path_env(case: str, sb: Sandbox, home: AwsHome) -> tuple[dict[str, str], str]:
    """The environment and profile of one kind of cached lookup, its credentials cached by a first run."""
    if case == "sso":
        from test_sso import _env, _login

        env, profile = _env(sb, home), "sso-chained"
        assert _login(env).returncode == 0
    elif case == "login":
        from login_helpers import login_env, sign_in

        env = login_env(sb, home)
        sign_in(env)
        profile = "via-console"
    elif case == "keys":
        from test_keys_store import keys_env

        env, profile = seeded_env(sb, home, base=keys_env(home, "file")), "ops"
        done = run_rolecall(["keys", "import", "--all"], env)
        assert done.returncode == 0, done.stderr
        assert "aws_secret_access_key" not in home.credentials.read_text()
    else:
        env, profile = seeded_env(sb, home), "ops"
    first = run_rolecall(["env", profile], env)
    assert first.returncode == 0, first.stderr
    return env, profile


def split_imports(text: str) -> tuple[str, set[str]]:
    """``text`` (a stderr under ``python -X importtime``) without the importtime lines, and the rolecall modules
    they name."""
    lines = text.splitlines(keepends=True)
    names = {line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:")}
    kept = "".join(line for line in lines if not line.startswith("import time:"))
    return kept, {name for name in names if name.split(".")[0] == "rolecall"}


def run_with_imports(
    argv: list[str], env: dict[str, str], **options: object
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """``python -X importtime -m rolecall ARGV``, as the console script runs: its result (the importtime lines
    removed from stderr) and the rolecall modules it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "rolecall", *argv], env=env, text=True,
                          capture_output=True, timeout=60, **options)  # type: ignore[call-overload]  # fmt: skip
    done.stderr, modules = split_imports(done.stderr)
    return done, modules


@pytest.mark.parametrize("case", ["role", "sso", "login", "keys"])
def test_every_cached_path_loads_only_its_modules(
    sandbox: Sandbox, aws_home: AwsHome, case: str  # noqa: F811
) -> None:
    """Each kind of cached lookup, worked out (in-process, no replay) and replayed (a second process): the rolecall
    modules it loads are within its list, nothing heavy, and no STS call is made."""
    import time

    env, profile = _cached_path_env(case, sandbox, aws_home)
    calls = sandbox.calls()
    result = _probe(env, ["env", profile])
    assert result["code"] == 0 and result["out"], result["err"]
    loaded, ours = set(result["loaded"]), set(result["ours"])  # type: ignore[call-overload]
    assert loaded & (HEAVY | HOT_PATH_EXTRA) == set(), f"imported: {sorted(loaded & (HEAVY | HOT_PATH_EXTRA))}"
    assert ours <= CACHED_PATH_MODULES, f"not on the list: {sorted(ours - CACHED_PATH_MODULES)}"
    assert result["aws"] == []

    time.sleep(2.1)  # the files the first run wrote leave the parse cache's racy window
    for _run in ("recorded", "replayed"):
        done, ours = run_with_imports(["env", profile], env)
        assert done.returncode == 0, done.stderr
    assert "rolecall.cli.context" not in ours, "the second run must be a replay"
    assert ours <= REPLAY_MODULES, f"not on the list: {sorted(ours - REPLAY_MODULES)}"
    assert sandbox.calls() == calls
    worked_out = run_rolecall(["env", profile], {**env, "ROLECALL_REPLAY": "0"})
    assert (done.stdout, worked_out.returncode) == (worked_out.stdout, 0)  # the replay answers as the command does
