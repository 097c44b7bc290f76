"""Replay (rolecall.replay): a repeated hot command is answered from a snapshot, exactly as the command would answer.

Real processes of ``python -m rolecall`` (the console script's path) against the sandbox STS. A replayed run is
told from a resolved one by what it imports (``-X importtime``): a replay never loads ``rolecall.cli.context``. Every
replayed answer is compared byte for byte with the answer of the same command run with ``ROLECALL_REPLAY=0``, and
each input the snapshot depends on is changed in turn to show that the next run is not a replay and answers anew.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import AwsHome, stderr_on_a_pty
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_import_cost import REPLAY_MODULES, split_imports
from test_import_cost import run_with_imports as _run

#: The parse cache's "racy" window: files changed more recently are not trusted by their timestamps.
RACY = 2.1


def _resolved(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The same command with replaying switched off: what it answers when it works everything out."""
    done = subprocess.run([sys.executable, "-m", "rolecall", *argv], env={**env, "ROLECALL_REPLAY": "0"}, text=True,
                          capture_output=True, timeout=60)  # fmt: skip
    return done


def _replayed(modules: set[str]) -> bool:
    return "rolecall.cli.context" not in modules


@pytest.fixture()
def cached_env(sandbox: Sandbox, aws_home: AwsHome) -> dict[str, str]:  # noqa: F811
    """The seeded sandbox files with the 3-hop role ``ops`` and ``readonly`` cached, older than the racy window."""
    env = seeded_env(sandbox, aws_home)
    env.pop("ROLECALL_REPLAY", None)
    for profile in ("ops", "readonly"):
        done = subprocess.run([sys.executable, "-m", "rolecall", "assume", profile], env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
    time.sleep(RACY)
    return env


def _record(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` until its snapshot is recorded and the next run replays; that replayed result."""
    first, modules = _run(argv, env)
    assert first.returncode == 0, first.stderr
    assert not _replayed(modules)
    again, modules = _run(argv, env)
    assert again.returncode == 0, again.stderr
    assert _replayed(modules), "the second run must be a replay"
    assert modules <= REPLAY_MODULES, sorted(modules - REPLAY_MODULES)
    return again


def _cache_file(env: dict[str, str], profile_arn_part: str = "ops") -> Path:
    """The AWS CLI cache file of a role (found by the role name in its assumed-role ARN)."""
    folder = Path(env["HOME"]) / ".aws" / "cli" / "cache"
    for path in folder.glob("*.json"):
        if f"role/{profile_arn_part}/" in path.read_text() or f"assumed-role/{profile_arn_part}/" in path.read_text():
            return path
    raise AssertionError(f"no cache file for {profile_arn_part}")


@pytest.mark.parametrize(
    "argv",
    [
        ["env", "ops"],
        ["env", "ops", "--format", "fish"],
        ["env", "--format", "json", "--profile", "ops"],
        ["env", "ops", "--format", "dotenv"],
        ["credential-process", "--profile", "ops"],
    ],
)
def test_a_repeated_command_is_replayed_with_the_same_answer(
    sandbox: Sandbox, cached_env: dict[str, str], argv: list[str]  # noqa: F811
) -> None:
    calls = sandbox.calls()
    replayed = _record(argv, cached_env)
    resolved = _resolved(argv, cached_env)
    assert resolved.returncode == 0, resolved.stderr
    assert (replayed.stdout, replayed.stderr) == (resolved.stdout, resolved.stderr)
    assert sandbox.calls() == calls


def test_the_snapshot_holds_no_secret(cached_env: dict[str, str]) -> None:
    _record(["env", "ops"], cached_env)
    entry = json.loads(_cache_file(cached_env).read_text())["Credentials"]
    folder = Path(cached_env["HOME"]) / ".aws" / "rolecall" / "replay"
    snapshots = list(folder.iterdir())
    assert snapshots
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    for snapshot in snapshots:
        assert oct(snapshot.stat().st_mode & 0o777) == "0o600"
        data = snapshot.read_bytes()
        for secret in (entry["AccessKeyId"], entry["SecretAccessKey"], entry["SessionToken"]):
            assert secret.encode() not in data


def _edit_region(env: dict[str, str]) -> str:
    config = Path(env["AWS_CONFIG_FILE"])
    head, section, rest = config.read_text().partition("[profile ops]\n")
    assert section and "region = us-east-1\n" in rest
    config.write_text(head + section + rest.replace("region = us-east-1\n", "region = ap-southeast-2\n", 1))
    return "ap-southeast-2"


def _new_keys_in_place(env: dict[str, str]) -> str:
    """Change the cached access key's last letters without changing the file's size or mtime (ctime moves)."""
    path = _cache_file(env)
    before = path.stat()
    text = path.read_text()
    key = json.loads(text)["Credentials"]["AccessKeyId"]
    changed = key[:-4] + ("WXYZ" if not key.endswith("WXYZ") else "ABCD")
    with open(path, "r+") as handle:  # in place: same inode
        handle.write(text.replace(key, changed))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    return changed


def test_every_input_change_is_answered_anew(sandbox: Sandbox, cached_env: dict[str, str]) -> None:  # noqa: F811
    argv = ["env", "ops"]
    _record(argv, cached_env)

    region = _edit_region(cached_env)  # the config file
    done, modules = _run(argv, cached_env)
    assert not _replayed(modules) and f"export AWS_REGION='{region}'" in done.stdout

    time.sleep(RACY)
    _record(argv, cached_env)
    key = _new_keys_in_place(cached_env)  # the cache entry, same size and mtime
    done, modules = _run(argv, cached_env)
    assert not _replayed(modules) and f"export AWS_ACCESS_KEY_ID='{key}'" in done.stdout

    time.sleep(RACY)
    _record(argv, cached_env)
    calls = sandbox.calls()
    _cache_file(cached_env).unlink()  # forgotten: a new AssumeRole
    done, modules = _run(argv, cached_env)
    assert done.returncode == 0 and not _replayed(modules) and sandbox.calls() > calls

    time.sleep(RACY)
    _record(argv, cached_env)
    credentials = Path(cached_env["AWS_SHARED_CREDENTIALS_FILE"])
    credentials.write_text(credentials.read_text() + "\n# a comment\n")  # the credentials file
    done, modules = _run(argv, cached_env)
    assert done.returncode == 0 and not _replayed(modules)


def test_an_environment_variable_the_command_read_is_an_input(cached_env: dict[str, str]) -> None:
    """``rolecall env`` without a profile reads AWS_PROFILE: the same command line is another answer."""
    ops = {**cached_env, "AWS_PROFILE": "ops"}
    _record(["env"], ops)
    readonly = {**cached_env, "AWS_PROFILE": "readonly"}
    done, modules = _run(["env"], readonly)
    assert not _replayed(modules)
    assert "export ROLECALL_PROFILE='readonly'" in done.stdout
    assert done.stdout == _resolved(["env"], readonly).stdout


def test_the_answer_is_replayed_only_while_the_cache_entry_is_fresh(
    sandbox: Sandbox, cached_env: dict[str, str]  # noqa: F811
) -> None:
    """The AWS CLI cache serves an entry while 15 minutes are left: 15 min + 4 s left is fresh for 4 s."""
    path = _cache_file(cached_env)
    document = json.loads(path.read_text())
    expiry = time.gmtime(time.time() + 15 * 60 + RACY + 4)
    document["Credentials"]["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", expiry)
    path.write_text(json.dumps(document))
    time.sleep(RACY)
    _record(["env", "ops"], cached_env)
    time.sleep(4.5)
    calls = sandbox.calls()
    done, modules = _run(["env", "ops"], cached_env)
    assert done.returncode == 0 and not _replayed(modules)
    assert sandbox.calls() > calls, "the entry is stale now: a new AssumeRole"


def test_the_shell_the_answer_goes_to_is_an_input(cached_env: dict[str, str]) -> None:
    """Without --format the parent shell chooses the format: bash then fish run the same command line."""
    if shutil.which("fish") is None or shutil.which("bash") is None:
        pytest.skip("needs bash and fish")
    command = f"{sys.executable} -m rolecall env ops"
    runs = []
    for shell in ("bash", "bash", "bash", "fish"):
        done = subprocess.run([shell, "-c", f"{command}; true"], env=cached_env, capture_output=True, text=True,
                              timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout)
    assert runs[0] == runs[1] == runs[2] and "export AWS_ACCESS_KEY_ID" in runs[0]
    assert "set -gx AWS_ACCESS_KEY_ID" in runs[3]


def test_a_terminal_on_stdout_is_an_input(cached_env: dict[str, str]) -> None:
    """With stdout on a terminal `env` warns that nothing was exported; a pipe before must not hide that."""
    _record(["env", "ops"], cached_env)
    leader, follower = os.openpty()
    try:
        done = subprocess.run([sys.executable, "-m", "rolecall", "env", "ops"], env=cached_env, stdout=follower,
                              stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0
    assert "not exported" in done.stderr


def _pty_stderr(argv: list[str], env: dict[str, str]) -> tuple[str, str, set[str]]:
    """Run with stderr on a pseudo-terminal (a person watching) and stdout a pipe (``eval``): stdout, what the
    terminal showed, and the rolecall modules imported."""
    out, screen = stderr_on_a_pty([sys.executable, "-X", "importtime", "-m", "rolecall", *argv], env)
    text, modules = split_imports(screen.replace("\r\n", "\n"))
    return out, text, modules


def test_the_status_line_is_replayed_with_the_time_left_worked_out_anew(cached_env: dict[str, str]) -> None:
    argv = ["env", "ops"]
    first_out, first_screen, modules = _pty_stderr(argv, cached_env)
    assert not _replayed(modules) and " left (cached)" in first_screen
    out, screen, modules = _pty_stderr(argv, cached_env)
    assert _replayed(modules)
    assert out == first_out
    assert screen == first_screen  # within the same minute: the same line


def test_the_time_left_moves_with_the_clock(cached_env: dict[str, str]) -> None:
    """A snapshot made when 58 minutes were left says what is left now, not what was left then."""
    path = _cache_file(cached_env)
    document = json.loads(path.read_text())
    document["Credentials"]["Expiration"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600 + 45))
    path.write_text(json.dumps(document))
    time.sleep(RACY)
    _pty_stderr(["env", "ops"], cached_env)
    _out, screen, modules = _pty_stderr(["env", "ops"], cached_env)
    assert _replayed(modules)
    assert "1 h 1 min left (cached)" in screen or "1 h left (cached)" in screen, screen


def test_the_code_is_an_input(cached_env: dict[str, str], tmp_path: Path) -> None:
    """A changed source file of rolecall (an upgrade, a developer's edit) is a miss."""
    source = Path(__file__).resolve().parents[2] / "src"
    copy = tmp_path / "src"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**cached_env, "PYTHONPATH": str(copy)}
    time.sleep(RACY)
    _record(["env", "ops"], env)
    export = copy / "rolecall" / "export.py"
    os.utime(export, ns=(time.time_ns(), time.time_ns()))
    _done, modules = _run(["env", "ops"], env)
    assert not _replayed(modules)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "loose-mode", "symlink", "other-command", "other-owner"])
def test_a_damaged_or_foreign_snapshot_is_ignored(cached_env: dict[str, str], damage: str) -> None:
    _record(["env", "ops"], cached_env)
    _record(["env", "readonly"], cached_env)
    folder = Path(cached_env["HOME"]) / ".aws" / "rolecall" / "replay"
    ops = folder / b"env\0ops".hex()
    readonly = folder / b"env\0readonly".hex()
    if damage == "garbage":
        readonly.write_bytes(os.urandom(300))
    elif damage == "truncated":
        readonly.write_bytes(readonly.read_bytes()[:100])
    elif damage == "loose-mode":
        shutil.copyfile(ops, readonly)  # the other command's answer, made readable by others
        readonly.chmod(0o644)
    elif damage == "symlink":
        readonly.unlink()
        readonly.symlink_to(ops)
    elif damage == "other-command":
        shutil.copyfile(ops, readonly)  # a snapshot renamed: it names its own command line inside
        readonly.chmod(0o600)
    elif damage == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("needs root to give a file to another user")
        shutil.copyfile(ops, readonly)
        readonly.chmod(0o600)
        os.chown(readonly, 65534, 65534)
    done, modules = _run(["env", "readonly"], cached_env)
    assert done.returncode == 0, done.stderr
    assert not _replayed(modules)
    assert "export ROLECALL_PROFILE='readonly'" in done.stdout
    assert done.stdout == _resolved(["env", "readonly"], cached_env).stdout


def test_debug_and_the_switch_turn_replaying_off(cached_env: dict[str, str]) -> None:
    _record(["env", "ops"], cached_env)
    _done, modules = _run(["env", "ops"], {**cached_env, "ROLECALL_REPLAY": "0"})
    assert not _replayed(modules)
    _done, modules = _run(["--debug", "env", "ops"], cached_env)
    assert not _replayed(modules)


def keys_into_config(env: dict[str, str]) -> Path:
    """Move the default keys from the credentials file (deleted) into the config file, as the AWS CLI allows; the
    credentials file's path."""
    credentials = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    keys = credentials.read_text().split("[default]\n", 1)[1]
    credentials.unlink()
    config = Path(env["AWS_CONFIG_FILE"])
    config.write_text(config.read_text().replace("[default]\n", "[default]\n" + keys, 1))
    return credentials


def test_a_file_that_did_not_exist_is_an_input(cached_env: dict[str, str]) -> None:
    """The credentials file was missing (the keys in the config file, as the AWS CLI allows): one that appears, here
    a broken one, is read by the next run, which refuses it, where a replay would have answered."""
    credentials = keys_into_config(cached_env)
    time.sleep(RACY)
    _record(["env", "ops"], cached_env)
    credentials.write_text("[default\naws_access_key_id = broken\n")
    done, modules = _run(["env", "ops"], cached_env)
    assert not _replayed(modules)
    assert done.returncode != 0 and "credentials" in done.stderr and done.stdout == ""


def test_a_new_entry_in_the_cache_folder_is_not_a_miss(cached_env: dict[str, str]) -> None:
    """The cache folder counts by what it is and whose it is (its owner is checked), not by its timestamps: other
    roles cached meanwhile leave the answer replayable."""
    _record(["env", "ops"], cached_env)
    folder = Path(cached_env["HOME"]) / ".aws" / "cli" / "cache"
    (folder / "0123456789abcdef0123456789abcdef01234567.json").write_text("{}")
    _done, modules = _run(["env", "ops"], cached_env)
    assert _replayed(modules)
    if os.geteuid() == 0:  # the folder given to another user: the entry is not trusted any more, and says so
        os.chown(folder, 65534, 65534)
        done, modules = _run(["env", "ops"], cached_env)
        assert not _replayed(modules)
        assert "belongs to another user" in done.stderr
