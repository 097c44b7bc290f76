"""``rolecall.session.Session``: the AWS files are read at most once per command.

The reads are counted with a real mechanism, not a patched name: a ``sys.addaudithook`` hook sees every ``open``
of the process (the builtin ``open`` and ``os.open`` both raise the ``open`` audit event) and counts the ones of
the config and credentials files while a test watches them. Audit hooks cannot be removed, so the hook is
installed once and does nothing unless ``_WATCHED`` names paths. Each command runs in-process through the CLI
entry point (``rolecall.cli.main.main``) against the sandbox's real files and STS.
"""

from __future__ import annotations

import io
import os
import sys
from collections import Counter

import pytest

from conftest import AwsHome
from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.config.paths import AwsPaths
from rolecall.sandbox import Sandbox
from rolecall.session import Session, files_from_texts
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: The paths whose opens are counted now (empty: the hook does nothing), and the counts.
_WATCHED: set[str] = set()
_OPENS: Counter[str] = Counter()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not _WATCHED or not args:
        return
    path = args[0]
    if isinstance(path, (str, bytes, os.PathLike)):
        name = os.fsdecode(os.fspath(path))
        if name in _WATCHED:
            _OPENS[name] += 1


sys.addaudithook(_audit)


def _run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str, Counter[str]]:
    """Run ``rolecall ARGV`` in-process; its exit code, stdout, stderr and the opens of the two files."""
    paths = AwsPaths.from_env(env)
    out, err = io.StringIO(), io.StringIO()
    _OPENS.clear()
    _WATCHED.update({paths.config_file, paths.credentials_file})
    try:
        code = main(argv, Context(io.StringIO(), out, err, dict(env)))
    finally:
        _WATCHED.clear()
    return code, out.getvalue(), err.getvalue(), Counter(_OPENS)


#: Commands whose files must be read once; (argv, what must be in stdout or stderr).
ONCE = [
    (["env", "readonly"], "AWS_SESSION_TOKEN"),
    (["env", "readonly", "--verify"], "AWS_SESSION_TOKEN"),
    (["env", "readonly", "--profile-only", "--verify"], "AWS_PROFILE"),
    (["env", "readonly", "--explain"], ""),
    (["assume", "readonly", "--verify"], "verified with GetCallerIdentity"),
    (["credential-process", "readonly", "--verify"], '"Version": 1'),
    (["list"], "readonly"),
    (["list", "--names"], "readonly"),
    (["doctor"], "rolecall doctor"),
    (["doctor", "readonly", "--online"], "rolecall doctor"),
    (["configure", "list", "--profile", "readonly"], "region"),
    (["configure", "get", "role_arn", "--profile", "readonly"], "arn:aws:iam::"),
    (["configure", "list-profiles"], "readonly"),
    (["configure", "set", "region", "eu-west-1", "--profile", "scratch"], ""),
    (["whoami", "readonly"], "assumed-role/readonly/"),
    (["sts", "get-caller-identity"], '"Arn"'),
    (["sts", "get-caller-identity", "--profile", "readonly"], "assumed-role/readonly/"),
    (["console", "readonly", "--print"], "Action=login"),
    (["console", "default", "--print"], "getting a federation token first"),
]


@pytest.mark.parametrize(("argv", "expected"), ONCE, ids=[" ".join(argv) for argv, _ in ONCE])
def test_each_file_is_read_at_most_once_per_command(
    sandbox: Sandbox, aws_home: AwsHome, argv: list[str], expected: str  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    assert _run(["env", "readonly"], env)[0] == 0  # a cached role first, so that both paths (cached, not) are seen
    code, out, err, opens = _run(argv, env)
    assert code == 0, err
    assert expected in out + err
    assert opens[paths.config_file] <= 1, f"config read {opens[paths.config_file]} times"
    assert opens[paths.credentials_file] <= 1, f"credentials read {opens[paths.credentials_file]} times"


def test_the_hook_counts_real_reads(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """The counter is not vacuous: a command sees each file opened (once)."""
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    code, _out, err, opens = _run(["list", "--names"], env)
    assert code == 0, err
    assert opens[paths.config_file] == 1 and opens[paths.credentials_file] == 1


def test_exec_reads_each_file_once(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """exec resolves and verifies, then replaces itself with CMD: a CMD that cannot run ends it in-process."""
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    code, _out, err, opens = _run(["exec", "readonly", "--verify", "--", "/nonexistent/rolecall-test-cmd"], env)
    assert code != 0 and "cannot run '/nonexistent/rolecall-test-cmd'" in err
    assert opens[paths.config_file] <= 1 and opens[paths.credentials_file] <= 1, opens


def test_save_reads_each_file_once_before_it_writes(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """save: the files read once (the source guard, the chain and the section's owner check), then the edit's own
    read of the credentials file under its lock."""
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    code, _out, err, opens = _run(["save", "readonly", "--as", "saved"], env)
    assert code == 0, err
    assert "saved readonly as [saved]" in err
    assert opens[paths.config_file] <= 1, opens
    assert opens[paths.credentials_file] == 2, opens  # one read, and the locked read-modify-write of the edit


def test_add_role_reads_the_config_once_before_it_writes(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """add-role: the files read once (the config text the new profile is tried in included), the role assumed once,
    then the edit's own read under the file's lock."""
    env = seeded_env(sandbox, aws_home)
    paths = AwsPaths.from_env(env)
    code, out, err, opens = _run(["add-role", "--yes", "--name", "p2", "--role-arn", sandbox.role_arn("readonly"),
                                  "--source-profile", "default", "--mfa-serial", "none"], env)
    assert code == 0, err
    assert out.startswith("[profile p2]\n") and "it works" in err
    assert opens[paths.config_file] == 2, opens  # one read, and the locked read-modify-write of the edit
    assert opens[paths.credentials_file] <= 1, opens


def test_a_context_starts_each_command_with_a_new_session(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    """Two commands on one Context: the second reads the files afresh (it sees what the first wrote)."""
    env = seeded_env(sandbox, aws_home)
    ctx = Context(io.StringIO(), io.StringIO(), io.StringIO(), dict(env))
    assert main(["configure", "list-profiles"], ctx) == 0
    assert "added" not in ctx.stdout.getvalue()  # type: ignore[attr-defined]
    assert main(["configure", "set", "region", "eu-west-1", "--profile", "added"], ctx) == 0
    assert main(["configure", "list-profiles"], ctx) == 0
    assert ctx.stdout.getvalue().splitlines()[-1] == "added"  # type: ignore[attr-defined]


def test_session_reads_once_and_memoises(aws_home: AwsHome) -> None:
    """``files``, ``graph`` and ``settings`` are made once; ``on_load`` counts loads; ``forget_files`` drops them."""
    aws_home.config.parent.mkdir(parents=True, exist_ok=True)
    aws_home.config.write_text("[profile a]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/r\n"
                               "source_profile = b\n[profile b]\n")
    aws_home.credentials.write_text("[b]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = x\n")
    loads: list[AwsPaths] = []
    session = Session(aws_home.env, on_load=loads.append)
    assert session.files is session.files and len(loads) == 1
    assert session.graph is session.graph
    assert session.graph.chain("a") == ["a", "b"]
    assert session.settings("a") is session.settings("a")
    assert session.settings("a").region == "eu-west-1"
    assert session.settings("a", "iam") is not session.settings("a")
    session.forget_files()
    assert session.files.profile("a") is not None and len(loads) == 2


def test_files_from_texts_equals_a_load(aws_home: AwsHome) -> None:
    """What doctor --online builds from the texts it linted is what ``ConfigFiles.load`` reads."""
    from rolecall.config.parse import ConfigFiles

    aws_home.config.parent.mkdir(parents=True, exist_ok=True)
    config = "[default]\nregion = us-east-1\n[profile p]\ns3 =\n  max_concurrency = 3\n"
    config += "[sso-session s]\nsso_region = x\n"
    credentials = "[default]\naws_access_key_id = AKIAEXAMPLE\n"
    aws_home.config.write_text(config)
    aws_home.credentials.write_text(credentials)
    paths = AwsPaths.from_env(aws_home.env)
    built = files_from_texts(paths, config, credentials)
    loaded = ConfigFiles.load(paths, use_cache=False)
    assert built.full_config == loaded.full_config and built.credentials == loaded.credentials
    missing = files_from_texts(paths, None, None)
    assert missing.full_config == {"profiles": {}} and missing.profile_names() == []
