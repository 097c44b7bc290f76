"""Issue 15, items 1 to 4: files and caches, attacked the way a local attacker or a careless root would.

1. A config or credentials path that is not a regular file (a copy of the null device, the real ``/dev/null`` in
   a private mount namespace, a named pipe, a socket) is refused with exit 7: nothing renamed over it, no mode
   changed, no ``.lock`` beside it. ``exec --server`` points its child's ``AWS_SHARED_CREDENTIALS_FILE`` at
   ``/dev/null``, so ``configure set``, ``configure import --csv`` and ``save`` are run exactly so.
2. Another local user (uid 65534, through ``setpriv``) plants links, entries and pre-created files in the caches
   and in a HOME root uses (``sudo -E``): rolecall never writes through their links (the user's own dotfiles link
   still works), never keeps their owner or mode, never follows a link at a lock file, and ignores what they
   planted with one warning.
3. A read-only (0444) config or credentials file is refused with exit 7, as root too.
4. A damaged cache entry (a NUL, control characters, invalid UTF-8, absurd numbers or nesting) is one warning,
   then fresh credentials, never exit 8.

Most tests run as root (CI does) and skip cleanly otherwise: making device nodes, switching to a second user and
private mount namespaces need it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from conftest import AwsHome
from rolecall.cache import CliCache, assume_role_cache_key
from rolecall.mfa import UsedCodes, _device_id, device_lock
from rolecall.picker import RecentProfiles
from rolecall.sandbox import Sandbox
from rolecall.sessioncache import SessionCache
from rolecall.sso.settings import SsoLogin
from rolecall.sso.tokens import SsoTokenCache, token_key

ROOT = os.geteuid() == 0
NOBODY = 65534
TIMEOUT = 30
needs_root = pytest.mark.skipif(not ROOT, reason="needs root: device nodes, a second user, mount namespaces")

NEW_KEY = "AKIATRUSTFILESNEW001"
NEW_SECRET = "trust-files-new-secret-0123456789abcdefgh"


# --------------------------------------------------------------------------------------------------------------
# helpers


def run_cli(args: list[str], env: dict[str, str], prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh interpreter, with a time limit (writing to a named pipe used to hang forever)."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "rolecall", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def as_nobody(*command: str) -> None:
    """Run ``command`` as the second local user (uid/gid 65534, no supplementary groups)."""
    if not ROOT or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as a second local user")
    done = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr


def plant(path: Path, text: str) -> None:
    """``text`` written to ``path`` by the second user (0666: the attacker wants it kept open)."""
    as_nobody("sh", "-c", 'umask 000; printf %s "$1" > "$2"', "sh", text, str(path))


def identity(path: Path) -> tuple[int, int, int, int]:
    info = os.lstat(path)
    return (info.st_ino, info.st_mode, info.st_uid, info.st_size)


def rolecall_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("rolecall:")]


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("rolecall: warning:")]


def fresh_entry(access_key_id: str, *, token: str = "planted-token", expires_in: timedelta = timedelta(hours=2)) -> str:
    expiration = (datetime.now(timezone.utc) + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {
            "Credentials": {
                "AccessKeyId": access_key_id,
                "SecretAccessKey": "planted-secret",
                "SessionToken": token,
                "Expiration": expiration,
            },
            "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/readonly/x", "AssumedRoleId": "AROA:x"},
        }
    )


def sandbox_env(sandbox: Sandbox, root: Path, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    env.update(sandbox.write_aws_files(root))
    return env


def cli_cache_path(sandbox: Sandbox, home: Path, profile: str = "readonly") -> Path:
    key = assume_role_cache_key({"RoleArn": sandbox.role_arn(profile)}, session_name_generated=True)
    return home / ".aws" / "cli" / "cache" / f"{key}.json"


class SharedHome:
    """A HOME that another local user can reach (pytest's own temporary folders are root's alone)."""

    def __init__(self, base: Path, env: dict[str, str]) -> None:
        self.base = base
        self.root = base / "home"
        self.env = env


@pytest.fixture
def shared_home(aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch) -> Iterator[SharedHome]:
    base = Path(tempfile.mkdtemp(prefix="rolecall-trust-", dir="/tmp"))
    try:
        os.chmod(base, 0o755)
        home = base / "home"
        (home / ".aws").mkdir(parents=True)
        env = dict(aws_home.env)
        env.update(
            HOME=str(home),
            AWS_CONFIG_FILE=str(home / ".aws" / "config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
            ROLECALL_HOME=str(home / ".aws" / "rolecall"),
        )
        for name in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "ROLECALL_HOME"):
            monkeypatch.setenv(name, env[name])
        yield SharedHome(base, env)
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------------------------------------------
# 1. not a regular file: refused, left exactly as it was


def null_device(folder: Path) -> Path:
    if not ROOT:
        pytest.skip("making a copy of the null device needs root")
    path = folder / "null"
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    os.chmod(path, 0o666)
    return path


def fifo(folder: Path) -> Path:
    path = folder / "fifo"
    os.mkfifo(path, 0o666)
    return path


def unix_socket(folder: Path) -> Path:
    path = folder / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()  # the node stays
    return path


NODES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "null-device": (null_device, "a character device"),
    "fifo": (fifo, "a named pipe"),
    "socket": (unix_socket, "a socket"),
}


def _config_with_keys(sandbox: Sandbox) -> str:
    """The sandbox's profiles, plus a source whose keys are in the config file (the credentials file is a node)."""
    endpoint = sandbox.endpoint_url
    return sandbox.profiles_config() + (
        f"\n[profile keys]\naws_access_key_id = {sandbox.access_key_id}\n"
        f"aws_secret_access_key = {sandbox.secret_access_key}\nregion = us-east-1\nendpoint_url = {endpoint}\n"
        f"[profile ro2]\nrole_arn = {sandbox.role_arn('readonly')}\nsource_profile = keys\n"
        f"region = us-east-1\nendpoint_url = {endpoint}\n"
    )


@pytest.mark.parametrize("command", ["configure-set-secret", "configure-import-csv", "save"])
@pytest.mark.parametrize("kind", sorted(NODES))
def test_item1_credentials_path_that_is_not_a_regular_file_is_refused_and_left_alone(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, kind: str, command: str
) -> None:
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    make, what = NODES[kind]
    node = make(nodes)
    before = identity(node)
    env = sandbox_env(sandbox, aws_home.root, aws_home.env)
    Path(env["AWS_CONFIG_FILE"]).write_text(_config_with_keys(sandbox))
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(node)
    if command == "configure-set-secret":
        args = ["configure", "set", "aws_secret_access_key", NEW_SECRET]
    elif command == "configure-import-csv":
        csv = tmp_path / "keys.csv"
        csv.write_text(f"User Name,Access key ID,Secret access key\nalice,{NEW_KEY},{NEW_SECRET}\n")
        args = ["configure", "import", "--csv", f"file://{csv}"]
    else:
        args = ["save", "ro2", "--as", "saved"]

    done = run_cli(args, env)

    assert done.returncode == 7, done.stderr
    lines = rolecall_lines(done.stderr)  # one line: the message, then its hint
    assert len(lines) == 1 and str(node) in lines[0] and what in lines[0], done.stderr
    assert "hint: " in lines[0] and "AWS_SHARED_CREDENTIALS_FILE" in lines[0].split("hint: ")[1]
    assert NEW_SECRET not in done.stderr and sandbox.secret_access_key not in done.stderr
    assert identity(node) == before  # not renamed over, not chmod-ed
    assert sorted(os.listdir(nodes)) == [node.name]  # no .lock, no temporary file beside it


@needs_root
def test_item1_exec_server_child_never_turns_dev_null_into_a_file(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path
) -> None:
    """The real path: ``/dev/null`` as ``exec --server`` sets it, in a private mount namespace whose /dev is a
    tmpfs holding fresh device nodes (the machine's /dev is never touched, whatever the code does)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux)")
    env = sandbox_env(sandbox, aws_home.root, aws_home.env)
    csv = tmp_path / "keys.csv"
    csv.write_text(f"User Name,Access key ID,Secret access key\nalice,{NEW_KEY},{NEW_SECRET}\n")
    report = tmp_path / "report"
    python = sys.executable
    child = (
        f"{python} -m rolecall configure set aws_secret_access_key {NEW_SECRET}; echo set=$? >> {report}; "
        f"{python} -m rolecall configure import --csv file://{csv}; echo import=$? >> {report}; "
        f"{python} -m rolecall save default --as saved; echo save=$? >> {report}; "
        f'echo "creds=$AWS_SHARED_CREDENTIALS_FILE" >> {report}'
    )
    script = f"""
        set -e
        mount -t tmpfs -o mode=755 tmpfs /dev
        for node in null:3 zero:5 random:8 urandom:9; do mknod -m 666 /dev/${{node%:*}} c 1 ${{node#*:}}; done
        set +e
        {python} -m rolecall exec --server default -- sh -c '{child}'
        echo exec=$? >> {report}
        stat -c 'null=%F %a %s' /dev/null >> {report}
        echo "dev=$(ls -A /dev | tr '\\n' ' ')" >> {report}
        echo written >/dev/null && echo writable=yes >> {report}
    """
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    facts = dict(line.split("=", 1) for line in report.read_text().splitlines())
    assert facts["creds"] == "/dev/null"
    assert (facts["set"], facts["import"], facts["save"]) == ("7", "7", "7"), done.stderr
    assert facts["null"] == "character special file 666 0", facts
    assert facts["dev"].split() == ["null", "random", "urandom", "zero"]  # no null.lock, no temporary file
    assert NEW_SECRET not in done.stderr
    assert "a character device" in done.stderr and "AWS_SHARED_CREDENTIALS_FILE" in done.stderr


def test_item1_the_config_file_as_a_named_pipe_is_refused_at_once(aws_home: AwsHome, tmp_path: Path) -> None:
    tmp_path = tmp_path / "nodes"
    tmp_path.mkdir()
    node = fifo(tmp_path)
    env = dict(aws_home.env, AWS_CONFIG_FILE=str(node))
    done = run_cli(["configure", "set", "region", "eu-west-1"], env)
    assert done.returncode == 7, done.stderr
    assert "a named pipe" in done.stderr and "AWS_CONFIG_FILE" in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["fifo"] and stat.S_ISFIFO(os.lstat(node).st_mode)


# --------------------------------------------------------------------------------------------------------------
# 2. another user's links, entries and files; root with a user's HOME


@needs_root
def test_item2_root_with_a_users_home_never_writes_through_the_users_link(shared_home: SharedHome) -> None:
    """``sudo -E rolecall configure set``: the user's link at the credentials file leads to a file of root's."""
    home = shared_home.root
    victim = shared_home.base / "shadow"
    victim.write_text("root:$6$hash:19000::::::\n")
    os.chmod(victim, 0o640)
    before = (victim.read_bytes(), identity(victim))
    os.chown(home, NOBODY, NOBODY)
    os.chown(home / ".aws", NOBODY, NOBODY)
    as_nobody("ln", "-s", str(victim), str(home / ".aws" / "credentials"))

    done = run_cli(["configure", "set", "aws_secret_access_key", NEW_SECRET], shared_home.env)

    assert done.returncode == 7, done.stderr
    assert "symbolic link" in done.stderr and str(home / ".aws" / "credentials") in done.stderr
    assert (victim.read_bytes(), identity(victim)) == before
    assert not (shared_home.base / "shadow.lock").exists()
    assert NEW_SECRET not in done.stderr


@needs_root
def test_item2_root_never_creates_a_file_through_a_link_at_config_lock(shared_home: SharedHome) -> None:
    home = shared_home.root
    os.chown(home, NOBODY, NOBODY)
    os.chown(home / ".aws", NOBODY, NOBODY)
    target = shared_home.base / "etc-cron.d-job"  # root would create it, or truncate it if it were there
    as_nobody("ln", "-s", str(target), str(home / ".aws" / "config.lock"))

    done = run_cli(["configure", "set", "region", "eu-west-1"], shared_home.env)

    assert done.returncode == 7, done.stderr
    assert not os.path.lexists(target)
    assert "config.lock" in done.stderr
    assert not (home / ".aws" / "config").exists()


@needs_root
def test_item2_root_still_follows_the_users_own_dotfiles_link(shared_home: SharedHome) -> None:
    """The link and its target both belong to the user: followed, and the file stays the user's."""
    home = shared_home.root
    os.chown(home, NOBODY, NOBODY)
    os.chown(home / ".aws", NOBODY, NOBODY)
    as_nobody("mkdir", "-m", "700", str(home / "dotfiles"))
    plant(home / "dotfiles" / "config", "[default]\noutput = json\n")
    as_nobody("chmod", "600", str(home / "dotfiles" / "config"))
    as_nobody("ln", "-s", "../dotfiles/config", str(home / ".aws" / "config"))

    done = run_cli(["configure", "set", "region", "eu-west-1"], shared_home.env)

    assert done.returncode == 0, done.stderr
    assert (home / ".aws" / "config").is_symlink()
    real = home / "dotfiles" / "config"
    assert real.read_text() == "[default]\noutput = json\nregion = eu-west-1\n"
    info = os.stat(real)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (NOBODY, 0o600)


@needs_root
def test_item2_root_with_a_users_home_uses_that_users_cache_and_leaves_it_working(
    sandbox: Sandbox, shared_home: SharedHome
) -> None:
    """The rule for root: the owner of HOME is trusted for reading (root already runs that user's config), so
    ``sudo -E rolecall env`` reuses the user's cached role session; what root writes there is root's, 0600."""
    env = sandbox_env(sandbox, shared_home.root, shared_home.env)
    home = shared_home.root
    cache = home / ".aws" / "cli" / "cache"
    cache.mkdir(parents=True)
    for folder in (home, home / ".aws", home / ".aws" / "cli", cache):
        os.chown(folder, NOBODY, NOBODY)
    plant(cache / "unrelated.json", "{}")
    entry = cli_cache_path(sandbox, home)
    plant(entry, fresh_entry("ASIAUSERSOWNSESSION1"))
    as_nobody("chmod", "600", str(entry))

    done = run_cli(["env", "readonly"], env)

    assert done.returncode == 0 and warnings_in(done.stderr) == [], done.stderr
    assert "ASIAUSERSOWNSESSION1" in done.stdout and sandbox.calls("AssumeRole") == 0
    entry.unlink()
    done = run_cli(["env", "readonly"], env)
    assert done.returncode == 0 and warnings_in(done.stderr) == [], done.stderr
    info = os.lstat(entry)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600) and os.stat(cache).st_uid == NOBODY


def _loose_cache(shared_home: SharedHome) -> Path:
    """``~/.aws/cli/cache`` as the AWS CLI leaves it under umask 000: 0777, its parents reachable."""
    home = shared_home.root
    cache = home / ".aws" / "cli" / "cache"
    cache.mkdir(parents=True)
    for folder in (home, home / ".aws", home / ".aws" / "cli"):
        os.chmod(folder, 0o755)
    os.chmod(cache, 0o777)
    return cache


@needs_root
def test_item2_a_cache_entry_planted_by_another_user_is_ignored_with_one_warning(
    sandbox: Sandbox, shared_home: SharedHome
) -> None:
    env = sandbox_env(sandbox, shared_home.root, shared_home.env)
    cache = _loose_cache(shared_home)
    entry = cli_cache_path(sandbox, shared_home.root)
    plant(entry, fresh_entry("ASIAPLANTEDBYNOBODY1"))

    done = run_cli(["env", "readonly"], env)

    assert done.returncode == 0, done.stderr
    assert "ASIAPLANTEDBYNOBODY1" not in done.stdout and "export AWS_ACCESS_KEY_ID=" in done.stdout
    assert sandbox.calls("AssumeRole") == 1
    found = warnings_in(done.stderr)
    assert len(found) == 1 and str(entry) in found[0] and "another user" in found[0], done.stderr
    info = os.lstat(entry)  # replaced by ours: root's, 0600, a plain file
    assert stat.S_ISREG(info.st_mode) and (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700  # tightened before writing
    again = run_cli(["env", "readonly"], env)
    assert again.returncode == 0 and warnings_in(again.stderr) == [] and sandbox.calls("AssumeRole") == 1


@needs_root
@pytest.mark.parametrize("planted", ["link", "file"])
def test_item2_cache_write_never_hands_the_secret_to_another_user(
    sandbox: Sandbox, shared_home: SharedHome, planted: str
) -> None:
    """A link to the attacker's file, or an attacker's 0666 file pre-created at the entry's path."""
    env = sandbox_env(sandbox, shared_home.root, shared_home.env)
    _loose_cache(shared_home)
    entry = cli_cache_path(sandbox, shared_home.root)
    drop = shared_home.base / "drop"
    drop.mkdir()
    os.chown(drop, NOBODY, NOBODY)
    os.chmod(drop, 0o777)
    if planted == "link":
        plant(drop / "stolen.json", "")
        as_nobody("ln", "-s", str(drop / "stolen.json"), str(entry))
    else:
        plant(entry, "")

    done = run_cli(["env", "readonly"], env)

    assert done.returncode == 0, done.stderr
    secret = next(line for line in done.stdout.splitlines() if "AWS_SECRET_ACCESS_KEY" in line).split("=", 1)[1]
    secret = secret.strip("'")
    if planted == "link":
        assert secret not in (drop / "stolen.json").read_text()
    info = os.lstat(entry)
    assert stat.S_ISREG(info.st_mode) and (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)
    assert secret in entry.read_text()


def _login() -> SsoLogin:
    return SsoLogin("my-sso", "https://d-1234567890.awsapps.com/start", "us-east-1")


def _token_document() -> dict[str, Any]:
    expires = (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"startUrl": _login().start_url, "region": "us-east-1", "accessToken": "sso-access-secret",
            "expiresAt": expires, "refreshToken": "sso-refresh-secret", "clientId": "c", "clientSecret": "cs",
            "registrationExpiresAt": expires}  # fmt: skip


def _sts_response() -> dict[str, Any]:
    return {
        "Credentials": {
            "AccessKeyId": "ASIATRUSTFILESWRITE1",
            "SecretAccessKey": "cache-secret-not-for-nobody",
            "SessionToken": "cache-token-not-for-nobody",
            "Expiration": datetime.now(timezone.utc) + timedelta(hours=1),
        },
        "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/r/s", "AssumedRoleId": "AROA:s"},
    }


def _write_cli_cache(folder: Path) -> Path:
    assert CliCache(str(folder)).put("k", _sts_response()) is True
    return folder / "k.json"


def _write_session(folder: Path) -> Path:
    cache = SessionCache(str(folder))
    key = cache.key("AKIA1", "serial")
    assert cache.put(key, _sts_response(), source_access_key_id="AKIA1", mfa_serial="serial") is True
    return folder / f"{key}.json"


def _write_sso_token(folder: Path) -> Path:
    assert SsoTokenCache(str(folder)).save_token(_login(), _token_document()) is True
    return folder / f"{token_key(_login())}.json"


def _write_used_codes(folder: Path) -> Path:
    serial = "arn:aws:iam::123456789012:mfa/alice"
    UsedCodes(str(folder)).remember(serial, "123456", 1e9)
    return folder / (_device_id(serial) + ".used.json")


def _write_recent(folder: Path) -> Path:
    RecentProfiles(str(folder)).touch("prod")
    return folder / "recent-profiles.json"


WRITERS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "cli-cache": (_write_cli_cache, "k.json"),
    "mfa-session": (_write_session, SessionCache("x").key("AKIA1", "serial") + ".json"),
    "sso-token": (_write_sso_token, token_key(_login()) + ".json"),
    "used-codes": (_write_used_codes, _device_id("arn:aws:iam::123456789012:mfa/alice") + ".used.json"),
    "picker-history": (_write_recent, "recent-profiles.json"),
}


@needs_root
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_item2_every_cache_replaces_a_planted_link_and_a_foreign_file(shared_home: SharedHome, writer: str) -> None:
    write, name = WRITERS[writer]
    folder = shared_home.root / "cache"
    folder.mkdir()
    os.chmod(folder, 0o777)
    os.chmod(shared_home.root, 0o755)
    drop = shared_home.base / "drop"
    drop.mkdir()
    os.chown(drop, NOBODY, NOBODY)
    os.chmod(drop, 0o777)
    plant(drop / "stolen", "")
    as_nobody("ln", "-s", str(drop / "stolen"), str(folder / name))

    path = write(folder)

    assert (drop / "stolen").read_text() == ""  # nothing written through the link
    info = os.lstat(path)
    assert stat.S_ISREG(info.st_mode) and (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    # Again with the attacker's own 0666 file at the path: replaced, not kept with its owner and mode.
    os.chmod(folder, 0o777)
    path.unlink()
    plant(folder / name, "")
    path = write(folder)
    info = os.lstat(path)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)


@needs_root
@pytest.mark.parametrize("lock", ["used-codes", "device", "config"])
def test_item2_a_link_at_a_lock_file_never_creates_a_file_elsewhere(shared_home: SharedHome, lock: str) -> None:
    from rolecall.config.edit import SectionRef, set_value
    from rolecall.errors import FileError

    folder = shared_home.root / "state"
    folder.mkdir()
    os.chmod(folder, 0o777)
    os.chmod(shared_home.root, 0o755)
    victim = shared_home.base / "created-by-root"
    serial = "arn:aws:iam::123456789012:mfa/alice"
    names = {
        "used-codes": UsedCodes(str(folder))._path(serial) + ".lock",
        "device": str(folder / (_device_id(serial) + ".device.lock")),
        "config": str(folder / "config.lock"),
    }
    as_nobody("ln", "-s", str(victim), names[lock])

    if lock == "used-codes":
        # Raised to obtain_fresh_code, which warns and goes on: the memory only saves a refused call later.
        with pytest.raises(FileError, match="symbolic link"):
            UsedCodes(str(folder)).remember(serial, "123456", 1e9)
    elif lock == "device":
        with pytest.raises(FileError, match="symbolic link"), device_lock(str(folder), serial, timeout=1):
            pass
    else:
        with pytest.raises(FileError, match="symbolic link"):
            set_value(str(folder / "config"), SectionRef.profile("default"), "region", "eu-west-1")

    assert not os.path.lexists(victim)


@needs_root
def test_item2_sso_tokens_planted_by_another_user_are_not_used(shared_home: SharedHome) -> None:
    folder = shared_home.root / "sso-cache"
    folder.mkdir()
    os.chmod(folder, 0o777)
    os.chmod(shared_home.root, 0o755)
    path = folder / f"{token_key(_login())}.json"
    plant(path, json.dumps(_token_document()))
    said: list[str] = []
    assert SsoTokenCache(str(folder), said.append).token(_login()) is None
    assert len(said) == 1 and "another user" in said[0] and str(path) in said[0]
    assert SsoTokenCache(str(folder)).tokens() == []  # logout does not act on them either


def test_item2_group_or_other_writable_entries_of_our_own_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    path = _write_cli_cache(folder)
    now = datetime.now(timezone.utc)
    assert CliCache(str(folder)).get("k", now) is not None
    os.chmod(path, 0o666)
    said: list[str] = []
    assert CliCache(str(folder), said.append).get("k", now) is None
    assert len(said) == 1 and "writable by" in said[0]


# --------------------------------------------------------------------------------------------------------------
# 3. read-only files


@pytest.mark.parametrize("which", ["credentials", "config"])
def test_item3_a_read_only_file_is_refused_even_for_root(aws_home: AwsHome, which: str) -> None:
    path = aws_home.credentials if which == "credentials" else aws_home.config
    path.write_text("[default]\nregion = us-east-1\n")
    os.chmod(path, 0o444)
    before = (path.read_bytes(), identity(path))
    key = "aws_access_key_id" if which == "credentials" else "output"

    done = run_cli(["configure", "set", key, NEW_KEY], aws_home.env)

    assert done.returncode == 7, done.stderr
    lines = rolecall_lines(done.stderr)
    assert len(lines) == 1 and str(path) in lines[0] and "read-only" in lines[0], done.stderr
    assert "chmod u+w" in lines[0].split("hint: ")[1]
    assert (path.read_bytes(), identity(path)) == before


# --------------------------------------------------------------------------------------------------------------
# 4. damaged entries


DAMAGE: dict[str, bytes] = {
    "nul-in-token": fresh_entry("ASIADAMAGED000000001", token="tok\u0000en").encode(),
    "nul-in-key-id": fresh_entry("ASIADAMAGED\u0000000002").encode(),
    "escape-in-token": fresh_entry("ASIADAMAGED000000003", token="\u001b]0;pwned\u0007").encode(),
    "newline-in-token": fresh_entry("ASIADAMAGED000000004", token="tok\nexport X=1").encode(),
    "invalid-utf8": fresh_entry("ASIADAMAGED000000005").encode().replace(b"planted-token", b"\xff\xfe\xc0"),
    "huge-integer": fresh_entry("ASIADAMAGED000000006").encode().replace(b'"AssumedRoleUser"', b'"n": '
                                                                          + b"9" * 5000 + b', "AssumedRoleUser"'),
    "nested": fresh_entry("ASIADAMAGED000000007").encode().replace(b'"AssumedRoleUser"', b'"n": '
                                                                    + b"[" * 50000 + b"]" * 50000
                                                                    + b', "AssumedRoleUser"'),
}  # fmt: skip


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_item4_a_damaged_cache_entry_is_one_warning_then_fresh_credentials(
    sandbox: Sandbox, aws_home: AwsHome, damage: str
) -> None:
    env = sandbox_env(sandbox, aws_home.root, aws_home.env)
    path = cli_cache_path(sandbox, aws_home.root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(DAMAGE[damage])
    os.chmod(path, 0o600)

    for command in (["env", "readonly"], ["credential-process", "readonly"]):
        done = run_cli(command, env)
        assert done.returncode == 0, done.stderr
        assert "ASIADAMAGED" not in done.stdout
        if command[0] == "env":
            assert len(warnings_in(done.stderr)) == 1 and str(path) in done.stderr, done.stderr
            path.write_bytes(DAMAGE[damage])  # planted again for the second command
    assert sandbox.calls("AssumeRole") == 2
