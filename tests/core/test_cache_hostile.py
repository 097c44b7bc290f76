"""Hostile files where a cache entry should be: never a crash, a hang or lost credentials (docs/cache.md).

A corrupt, truncated, foreign or unreadable file in ``~/.aws/cli/cache``, in rolecall's MFA-session cache or
in place of the used-codes memory is a miss with one warning line (the memory: silently empty), then fresh
credentials; a cache entry that cannot be written is one warning line, and the credentials are still given.

Most tests run the real CLI in a fresh interpreter: some of these bugs only show there (pytest itself imports
``json``, which hides how the C JSON scanner fails without it). Every child runs under a memory limit, so a
regression that reads ``/dev/zero`` to the end fails the test instead of the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import AwsHome
from rolecall.cache import CliCache, assume_role_cache_key, read_regular_file
from rolecall.fileio import remove_special
from rolecall.mfa import UsedCodes
from rolecall.sandbox import Sandbox
from rolecall.sessioncache import SessionCache
from sandbox_fixtures import seeded_env

NOW = datetime(2026, 11, 27, 23, 0, 0, tzinfo=timezone.utc)
TRUNCATED = b'{"Credentials": {"AccessKeyId": "ASIA'
DEEP = b"[" * 100_000 + b"]" * 100_000
SURROGATE = (
    b'{"Credentials": {"AccessKeyId": "ASIAEXAMPLESURROGATE", "SecretAccessKey": "s", '
    b'"SessionToken": "\\ud800", "Expiration": "2099-01-01T00:00:00Z"}}'
)
#: Seconds a child may take: hanging on a pipe used to be forever.
TIMEOUT = 30


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh interpreter, with a time and a memory limit."""
    return subprocess.run(
        [sys.executable, "-m", "rolecall", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=_limit_memory,
    )


def run_python(script: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter, with a time and a memory limit."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_limit_memory,
    )


def zero_device(tmp_path: Path) -> str:
    """A character device that reads endless zero bytes: a private copy of /dev/zero when we may make one.

    As root, a bug that writes through the symlink would replace the device itself; it had better be ours.
    """
    if os.geteuid() == 0:
        path = tmp_path / "zero"
        try:
            if not path.exists():
                os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 5))
            with open(path, "rb") as handle:
                if handle.read(4) == b"\0\0\0\0":
                    return str(path)
        except OSError:
            pass
        pytest.skip("running as root where a private /dev/zero cannot be made: writing through a link to it is unsafe")
    return "/dev/zero"


def make_fifo(path: Path, tmp_path: Path) -> None:
    os.mkfifo(path)


def make_zero_link(path: Path, tmp_path: Path) -> None:
    os.symlink(zero_device(tmp_path), path)


def make_dir(path: Path, tmp_path: Path) -> None:
    path.mkdir()


def make_loop(path: Path, tmp_path: Path) -> None:
    os.symlink(path.name, path)


def writer(content: bytes) -> Callable[[Path, Path], None]:
    def write(path: Path, tmp_path: Path) -> None:
        path.write_bytes(content)

    return write


HOSTILE: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "truncated": (writer(TRUNCATED), "it is not valid JSON"),
    "deeply-nested": (writer(DEEP), "it is not valid JSON"),
    "lone-surrogate": (writer(SURROGATE), "not valid Unicode"),
    "huge": (writer(b" " * (2 << 20)), "cannot read it (larger than"),
    "fifo": (make_fifo, "cannot read it (not a regular file but a named pipe)"),
    # rolecall's caches hold plain files: a link is never followed (nor written through), whatever it leads to.
    "link-to-dev-zero": (make_zero_link, "it is a symbolic link, which rolecall's caches never follow"),
    "directory": (make_dir, "cannot read it (Is a directory)"),
    "symlink-loop": (make_loop, "it is a symbolic link, which rolecall's caches never follow"),
}


def cli_cache_file(sandbox: Sandbox, aws_home: AwsHome, profile: str = "readonly") -> Path:
    key = assume_role_cache_key({"RoleArn": sandbox.role_arn(profile)}, session_name_generated=True)
    folder = aws_home.root / ".aws" / "cli" / "cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.json"


def session_file(sandbox: Sandbox, aws_home: AwsHome) -> Path:
    folder = Path(aws_home.env["ROLECALL_HOME"]) / "sessions"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{SessionCache(str(folder)).key(sandbox.access_key_id, sandbox.mfa_serial)}.json"


def used_codes_file(state_dir: Path, serial: str) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    return state_dir / (hashlib.sha1(serial.encode()).hexdigest() + ".used.json")


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning" in line]


def assert_no_secret(stderr: str, sandbox: Sandbox) -> None:
    assert sandbox.secret_access_key not in stderr
    assert "ASIAEXAMPLESURROGATE" not in stderr


# ----------------------------------------------------------------------------------------- the AWS CLI's cache


@pytest.mark.parametrize("command", ["env", "credential-process"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_cli_cache_file_is_one_warning_then_fresh_credentials(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, case: str, command: str
) -> None:
    env = seeded_env(sandbox, aws_home)
    path = cli_cache_file(sandbox, aws_home)
    make, why = HOSTILE[case]
    make(path, tmp_path)

    done = run_cli([command, "readonly"], env)

    assert done.returncode == 0, done.stderr
    assert sandbox.calls("AssumeRole") == 1
    assert "AWS_ACCESS_KEY_ID" in done.stdout or '"AccessKeyId"' in done.stdout
    done.stdout.encode("utf-8")  # printable: no lone surrogate reached the output
    read_warnings = [line for line in warnings_in(done.stderr) if "ignoring" in line]
    assert len(read_warnings) == 1, done.stderr
    assert read_warnings[0].startswith(f"rolecall: warning: ignoring the cached credentials in {path}: ")
    assert why in read_warnings[0]
    if case in ("truncated", "deeply-nested"):
        assert "the AWS CLI fails on such a file" in read_warnings[0]
    assert_no_secret(done.stderr, sandbox)
    if case == "directory":
        # Cannot be replaced: one more line says so, and the credentials are still given (exit 0 above).
        assert warnings_in(done.stderr)[1:] == [
            f"rolecall: warning: could not cache the new credentials: cannot write {path}: Is a directory "
            "(they are used now, but the next run calls STS again)"
        ]
    else:
        # Replaced by the new entry: the next run is served from the cache, without a word.
        assert len(warnings_in(done.stderr)) == 1, done.stderr
        assert path.is_file() and not path.is_symlink()
        again = run_cli([command, "readonly"], env)
        assert again.returncode == 0 and warnings_in(again.stderr) == [], again.stderr
        assert sandbox.calls("AssumeRole") == 1
    if case == "link-to-dev-zero":
        assert stat.S_ISCHR(os.stat(zero_device(tmp_path)).st_mode)  # the link was replaced, not its target


def test_directory_in_place_of_the_cli_cache_file_on_every_run(sandbox: Sandbox, aws_home: AwsHome) -> None:
    """Credentials each time (the folder cannot be replaced), exit 0, and never more than the two lines."""
    env = seeded_env(sandbox, aws_home)
    path = cli_cache_file(sandbox, aws_home)
    path.mkdir()
    for run in range(2):
        done = run_cli(["env", "readonly"], env)
        assert done.returncode == 0, done.stderr
        assert "export AWS_SESSION_TOKEN=" in done.stdout
        assert len(warnings_in(done.stderr)) == 2 and "cannot write" in done.stderr
        assert sandbox.calls("AssumeRole") == run + 1
    assert path.is_dir()


# ------------------------------------------------------------------------------------ rolecall's session cache


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_session_file_is_one_warning_in_explain(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, case: str
) -> None:
    env = seeded_env(sandbox, aws_home)
    path = session_file(sandbox, aws_home)
    make, why = HOSTILE[case]
    make(path, tmp_path)

    done = run_cli(["assume", "admin", "--explain"], env)

    assert done.returncode == 0, done.stderr
    found = warnings_in(done.stderr)
    assert len(found) == 1, done.stderr
    assert found[0].startswith(f"rolecall: warning: ignoring the cached MFA session in {path}: ") and why in found[0]
    assert "AWS CLI" not in done.stderr  # the AWS CLI never reads this cache
    assert_no_secret(done.stderr, sandbox)
    assert sandbox.calls() == 0


@pytest.mark.parametrize("case", ["truncated", "fifo", "link-to-dev-zero", "directory", "symlink-loop"])
def test_hostile_session_file_then_a_new_mfa_session(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, case: str
) -> None:
    env = seeded_env(sandbox, aws_home)
    path = session_file(sandbox, aws_home)
    make, why = HOSTILE[case]
    make(path, tmp_path)

    done = run_cli(["assume", "admin", "--token-code", sandbox.totp()], env)

    assert done.returncode == 0, done.stderr
    assert sandbox.calls("GetSessionToken") == 1 and sandbox.calls("AssumeRole") == 1
    found = warnings_in(done.stderr)
    assert found[0].startswith(f"rolecall: warning: ignoring the cached MFA session in {path}: ") and why in found[0]
    if case == "directory":
        assert found[1:] == [
            f"rolecall: warning: could not cache the new MFA session: cannot write {path}: Is a directory "
            "(it is used now, but the next run needs a new MFA code)"
        ]
    else:
        assert len(found) == 1, done.stderr
        assert path.is_file() and not path.is_symlink()
    assert_no_secret(done.stderr, sandbox)


# ------------------------------------------------------------------------------------- the used-codes memory


@pytest.mark.parametrize("case", ["truncated", "deeply-nested", "huge", "fifo", "link-to-dev-zero", "symlink-loop"])
def test_hostile_used_codes_memory_counts_as_empty_and_is_replaced(tmp_path: Path, case: str) -> None:
    state = tmp_path / "mfa"
    serial = "arn:aws:iam::123456789012:mfa/alice"
    path = used_codes_file(state, serial)
    HOSTILE[case][0](path, tmp_path)
    script = f"""
        import time
        from rolecall.mfa import UsedCodes
        used = UsedCodes({str(state)!r})
        now = time.time()
        assert not used.was_used({serial!r}, "123456", now)
        used.remember({serial!r}, "123456", now)
        assert used.was_used({serial!r}, "123456", now)
        print("ok")
    """
    done = run_python(script)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
    assert path.is_file() and not path.is_symlink()
    assert json.loads(path.read_text())["version"] == 1
    if case == "link-to-dev-zero":
        assert stat.S_ISCHR(os.stat(zero_device(tmp_path)).st_mode)


def test_used_codes_memory_that_is_a_folder_counts_as_empty(tmp_path: Path) -> None:
    state = tmp_path / "mfa"
    serial = "arn:aws:iam::123456789012:mfa/alice"
    used_codes_file(state, serial).mkdir()
    assert UsedCodes(str(state)).was_used(serial, "123456", 1e9) is False


# ------------------------------------------------------------------------------ the pieces, in a fresh interpreter


def test_fast_loads_rejects_bad_json_without_json_imported() -> None:
    """Python 3.11's C scanner raises SystemError for a syntax error while json.decoder is not imported."""
    script = """
        import sys
        from rolecall.fastjson import loads
        assert "json.decoder" not in sys.modules
        assert loads('{"a": [1, 2]}') == {"a": [1, 2]}
        assert "json" not in sys.modules  # the success path stays light
        deep = "[" * 100000 + "]" * 100000
        for bad in ('{"Credentials": {"AccessKeyId": "ASIA', '{"a": }', '[1, 2', '"\\\\x"', deep):
            try:
                loads(bad)
            except ValueError:
                pass
            else:
                raise AssertionError(bad[:20])
        print("ok")
    """
    done = run_python(script)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_cli_cache_get_of_a_truncated_file_without_json_imported(tmp_path: Path) -> None:
    (tmp_path / "k.json").write_bytes(TRUNCATED)
    script = f"""
        import sys
        from datetime import datetime, timezone
        from rolecall.cache import CliCache
        said = []
        assert CliCache({str(tmp_path)!r}, said.append).get("k", datetime(2026, 11, 27, tzinfo=timezone.utc)) is None
        assert len(said) == 1 and "not valid JSON" in said[0], said
        print("ok")
    """
    done = run_python(script)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


# Not the pipe nor /dev/zero in process: a regression would hang the test run (they are covered in children).
@pytest.mark.parametrize("case", sorted(set(HOSTILE) - {"fifo", "link-to-dev-zero"}))
def test_get_is_a_miss_with_one_warning_per_file(tmp_path: Path, case: str) -> None:
    """In process too: one line however often the same file is read, and a new line once it has changed."""
    folder = tmp_path / "cache"
    folder.mkdir()
    make, why = HOSTILE[case]
    make(folder / "k.json", tmp_path)
    said: list[str] = []
    cache = CliCache(str(folder), said.append)
    for _ in range(3):
        assert cache.get("k", NOW) is None
    assert len(said) == 1 and why in said[0] and str(folder / "k.json") in said[0]
    assert "ASIAEXAMPLESURROGATE" not in said[0]
    if case in ("truncated", "deeply-nested", "lone-surrogate", "huge"):
        (folder / "k.json").write_bytes(b"[]")
        assert cache.get("k", NOW) is None
        assert len(said) == 2 and "not a JSON object" in said[1]


def test_read_regular_file_refuses_what_is_not_a_regular_file_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    (tmp_path / "big").write_bytes(b"x" * 11)
    (tmp_path / "ok").write_bytes(b"x" * 10)
    os.symlink("ok", tmp_path / "link")
    assert read_regular_file(str(tmp_path / "missing")) is None
    assert read_regular_file(str(tmp_path / "ok" / "below")) is None  # as open() would say: not there
    assert read_regular_file(str(tmp_path / "ok"), limit=10) == b"x" * 10
    assert read_regular_file(str(tmp_path / "link"), limit=10) == b"x" * 10
    for name, error in [("fifo", "named pipe"), ("dir", "Is a directory"), ("big", "larger than 10 bytes")]:
        with pytest.raises(OSError, match=error):
            read_regular_file(str(tmp_path / name), limit=10)
    with pytest.raises(OSError, match="device"):
        read_regular_file("/dev/null")


def test_remove_special_removes_links_and_nodes_never_their_targets(tmp_path: Path) -> None:
    tmp_path = tmp_path / "folder"
    tmp_path.mkdir()
    (tmp_path / "file").write_text("keep")
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    links = {"to-file": "file", "to-dir": "dir", "to-fifo": "fifo", "dangling": "nowhere", "loop": "loop"}
    for name, target in links.items():
        os.symlink(target, tmp_path / name)
    os.symlink("/dev/null", tmp_path / "to-dev-null")
    kept = {"file", "dir", "to-file", "to-dir", "missing"}
    for name in [*kept, "to-fifo", "dangling", "loop", "to-dev-null", "fifo"]:
        assert remove_special(str(tmp_path / name)) is (name not in kept), name
    assert sorted(os.listdir(tmp_path)) == ["dir", "file", "to-dir", "to-file"]
    assert (tmp_path / "file").read_text() == "keep" and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def _response(expiration: datetime) -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLEWRITE0001",
            "SecretAccessKey": "secret-not-in-messages",
            "SessionToken": "token-not-in-messages",
            "Expiration": expiration,
        },
        "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/r/s", "AssumedRoleId": "AROA:s"},
    }


def test_put_that_cannot_write_is_one_line_and_false(tmp_path: Path) -> None:
    (tmp_path / "k.json").mkdir()
    said: list[str] = []
    assert CliCache(str(tmp_path), said.append).put("k", _response(NOW + timedelta(hours=1))) is False
    assert len(said) == 1 and said[0].startswith(f"could not cache the new credentials: cannot write {tmp_path}")
    assert "secret-not-in-messages" not in said[0] and "token-not-in-messages" not in said[0]
    session = SessionCache(str(tmp_path), said.append)
    key = session.key("AKIA1", "serial")
    (tmp_path / f"{key}.json").mkdir()
    response = _response(NOW + timedelta(hours=1))
    assert session.put(key, response, source_access_key_id="AKIA1", mfa_serial="serial") is False
    assert len(said) == 2 and said[1].startswith("could not cache the new MFA session: ")


def test_put_replaces_a_link_to_a_device_instead_of_writing_through_it(tmp_path: Path) -> None:
    device = zero_device(tmp_path)
    folder = tmp_path / "cache"
    folder.mkdir()
    os.symlink(device, folder / "k.json")
    before = os.stat(device)
    assert CliCache(str(folder)).put("k", _response(NOW + timedelta(hours=1))) is True
    assert (folder / "k.json").is_file() and not (folder / "k.json").is_symlink()
    after = os.stat(device)  # not replaced, and not chmod-ed to 0600 either
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert CliCache(str(folder)).get("k", NOW) is not None


def test_put_replaces_a_link_to_a_regular_file_instead_of_writing_through_it(tmp_path: Path) -> None:
    """Unlike botocore (which opens the path), a link at an entry is replaced: whoever planted it, the secret
    lands in our own 0600 file and never in what the link leads to (issue 15, item 2)."""
    folder = tmp_path / "cache"
    folder.mkdir()
    (tmp_path / "elsewhere.json").write_text("{}")
    os.symlink(tmp_path / "elsewhere.json", folder / "k.json")
    assert CliCache(str(folder)).put("k", _response(NOW + timedelta(hours=1))) is True
    assert not (folder / "k.json").is_symlink() and stat.S_IMODE((folder / "k.json").stat().st_mode) == 0o600
    assert (tmp_path / "elsewhere.json").read_text() == "{}"
    assert CliCache(str(folder)).get("k", NOW) is not None


def test_a_folder_in_place_of_the_used_codes_memory_costs_a_warning_not_the_code(
    sandbox: Sandbox, aws_home: AwsHome
) -> None:
    """The used-codes memory only saves a refused call later: when it cannot be written, the code in hand is
    still used, with one warning."""
    env = seeded_env(sandbox, aws_home)
    path = used_codes_file(Path(env["ROLECALL_HOME"]) / "mfa", sandbox.mfa_serial)
    path.mkdir()
    done = run_cli(["assume", "admin", "--token-code", sandbox.fresh_code()], env)
    assert done.returncode == 0, done.stderr
    assert "rolecall: warning: could not note the MFA code as used" in done.stderr
    assert "warning: rolecall: warning" not in done.stderr
    assert sandbox.calls("GetSessionToken") == 1 and sandbox.calls("AssumeRole") == 1
