"""Issue 15, items 5 to 7: keys out of plaintext, for real.

5. After ``keys import --all`` and ``keys import --confirm`` no copy of an imported secret is left anywhere
   under ``~/.aws`` or ``ROLECALL_HOME``: not in the parse cache (which a credentials file shrinking below
   32 KiB used to leave as it was), not in a temporary file a killed writer left, not in a backup.
6. A ``keys import`` SIGKILLed at random points (many of them while it writes its backup) never damages a
   file, and ``--confirm`` (or the next import) leaves no plaintext copy behind.
7. The encrypted key file is read like the caches read theirs: a named pipe, a device, a huge or deeply
   nested file is one line and exit 7, at once.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from rolecall.cli.main import main
from rolecall.config.parse import ConfigFiles
from rolecall.config.parsecache import DEFAULT_MIN_BYTES, CacheSettings
from rolecall.config.paths import AwsPaths
from rolecall.errors import ExitCode
from rolecall.keys.filestore import EncryptedFileStore
from rolecall.keys.importer import import_keys
from rolecall.keys.store import StoredKey
from test_keys_store import PASSPHRASE, keys_env

# --------------------------------------------------------------------------------------------------------------
# helpers


def _key(rng: random.Random) -> tuple[str, str]:
    """A random access key id and secret (unique bytes, so that a grep finds only real copies)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    key_id = "AKIA" + "".join(rng.choice(alphabet) for _ in range(16))
    secret = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/+") for _ in range(40))
    return key_id, secret


def _credentials_text(keys: dict[str, tuple[str, str]], padding: int) -> str:
    """One section per key, after a block of ``padding`` bytes of comments (bulk that import keeps)."""
    lines = ["# padding: bulk that keys import keeps as it is\n"]
    size = len(lines[0])
    while size < padding:
        line = f"# {'x' * 70}\n"
        lines.append(line)
        size += len(line)
    text = "".join(lines) + "[settings]\nregion = eu-west-1\n\n"
    for name, (key_id, secret) in keys.items():
        text += f"[{name}]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n\n"
    return text


def _copies(roots: list[Path], needles: list[bytes]) -> list[Path]:
    """Every file under ``roots`` holding one of ``needles`` (each file once, whatever its name or mode)."""
    found: set[Path] = set()
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder, name)
                try:
                    if not stat.S_ISREG(path.lstat().st_mode):
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if any(needle in data for needle in needles):
                    found.add(path)
    return sorted(found)


def _roots(home: AwsHome) -> list[Path]:
    return [home.root / ".aws", Path(home.env["ROLECALL_HOME"])]


def _dead_pid() -> int:
    """The pid of a process that has exited (a killed writer's temporary file carries one)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _fill_parse_cache(home: AwsHome) -> Path:
    """Have a lookup write the parse cache (as any rolecall command would), without waiting 2 s for it."""
    settings = CacheSettings(racy_ns=0)
    ConfigFiles.load(AwsPaths.from_env(home.env), cache_settings=settings).credentials_section("user0")
    return Path(home.env["ROLECALL_HOME"]) / "parse-cache"


# --------------------------------------------------------------------------------------------------------------
# item 5: every derived copy is purged


@pytest.mark.parametrize("shape", ["shrinks-below-32k", "stays-big"])
def test_import_and_confirm_leave_no_secret_in_any_derived_copy(
    aws_home: AwsHome, shape: str
) -> None:
    rng = random.Random(f"item5-{shape}")
    keys = {f"user{i}": _key(rng) for i in range(24)}
    secrets_ = [secret.encode() for _id, secret in keys.values()]
    threshold = DEFAULT_MIN_BYTES
    # 24 imports take about 24 x 40 bytes off the file: start just above 32 KiB, or far above it.
    sections = len(_credentials_text(keys, 0).encode())
    padding = threshold + 300 - sections if shape == "shrinks-below-32k" else threshold + 20_000
    text = _credentials_text(keys, padding)
    aws_home.write_credentials(text)
    assert len(text.encode()) >= threshold
    env = keys_env(aws_home, "file")

    cache = _fill_parse_cache(aws_home)
    assert any(s in cache.read_bytes() for s in secrets_), "precondition: the parse cache holds the secrets"
    # What killed writers leave: a parse-cache writer's and a credentials writer's temporary files.
    cache_temp = cache.parent / f".parse-cache.{_dead_pid()}.{os.urandom(6).hex()}.tmp"
    cache_temp.write_bytes(cache.read_bytes())
    credentials_temp = aws_home.credentials.parent / f".credentials.{_dead_pid()}.{os.urandom(6).hex()}.tmp"
    credentials_temp.write_bytes(text.encode())

    done = run_rolecall(["keys", "import", "--all"], env)
    assert done.returncode == 0, done.stderr
    after = aws_home.credentials.read_bytes()
    assert (len(after) < threshold) == (shape == "shrinks-below-32k")
    backups = list(aws_home.credentials.parent.glob("credentials.rolecall-backup-*"))
    assert len(backups) == 1
    # Right after the import only the backup it announced holds the secrets.
    assert _copies(_roots(aws_home), secrets_) == backups

    confirmed = run_rolecall(["keys", "import", "--confirm"], env)
    assert confirmed.returncode == 0, confirmed.stderr
    assert _copies(_roots(aws_home), secrets_) == []
    # And nothing else can bring a copy back: the keys come from the store now.
    assert ConfigFiles.load(AwsPaths.from_env(aws_home.env)).credentials_section("user3") is not None
    assert _copies(_roots(aws_home), secrets_) == []
    out = run_rolecall(["keys", "export", "user3", "--yes-print-secret"], env)
    assert out.returncode == 0 and keys["user3"][1] in out.stdout


def test_confirm_alone_purges_a_stale_parse_cache(aws_home: AwsHome) -> None:
    """Keys moved out by hand (or by an older rolecall) and the file shrunk: ``--confirm`` still purges."""
    rng = random.Random("confirm-alone")
    keys = {f"user{i}": _key(rng) for i in range(3)}
    text = _credentials_text(keys, DEFAULT_MIN_BYTES)
    aws_home.write_credentials(text)
    _fill_parse_cache(aws_home)
    aws_home.write_credentials("[user0]\ncredential_process = rolecall credential-process --keys user0\n")
    confirmed = run_rolecall(["keys", "import", "--confirm"], keys_env(aws_home, "file"))
    assert confirmed.returncode == 0, confirmed.stderr
    assert _copies(_roots(aws_home), [s.encode() for _i, s in keys.values()]) == []


def test_a_shrunk_credentials_file_drops_its_parse_cache_entry(
    aws_home: AwsHome,
) -> None:
    """Any lookup, not only import: a big file edited down below 32 KiB no longer leaves its old parse behind."""
    rng = random.Random("shrunk")
    keys = {f"user{i}": _key(rng) for i in range(3)}
    aws_home.write_credentials(_credentials_text(keys, DEFAULT_MIN_BYTES))
    cache = _fill_parse_cache(aws_home)
    assert keys["user1"][1].encode() in cache.read_bytes()
    aws_home.write_credentials("[user0]\nregion = us-east-1\n")  # the keys deleted by hand
    assert ConfigFiles.load(AwsPaths.from_env(aws_home.env)).credentials_section("user0") == {"region": "us-east-1"}
    assert _copies(_roots(aws_home), [s.encode() for _i, s in keys.values()]) == []


# --------------------------------------------------------------------------------------------------------------
# item 6: SIGKILL while importing

KILLS = 150


def test_sigkilled_imports_leave_no_plaintext_after_confirm_and_damage_nothing(
    aws_home: AwsHome,
) -> None:
    rng = random.Random(os.environ.get("ROLECALL_CRASH_SEED", "keys-import"))
    keys = {f"user{i}": _key(rng) for i in range(3)}
    needles = [secret.encode() for _id, secret in keys.values()]
    # Bulk, so that writing the backup (and its fsync) takes a good part of an import.
    original = _credentials_text(keys, 1 << 20).encode()
    credentials = aws_home.credentials
    aws_home.write_credentials(original.decode())
    keys_file = Path(aws_home.env["ROLECALL_HOME"]) / "keys.enc"
    store = EncryptedFileStore(str(keys_file), lambda creating: PASSPHRASE)
    store.put("warm-up", StoredKey("AKIAIOSFODNN7EXAMPLE", "x" * 40))  # derives the key once, before forking

    def run_child() -> int:
        pid = os.fork()
        if pid == 0:  # the child: one import, never returns into pytest
            code = 1
            try:
                import_keys(str(credentials), store, None, rolecall_dir=aws_home.env["ROLECALL_HOME"])
                code = 0
            finally:
                os._exit(code)
        return pid

    def writing_backup() -> bool:
        return any("rolecall-backup" in n and n.endswith((".tmp", ".partial")) for n in os.listdir(credentials.parent))

    # What an import imports lazily, imported once here so that every child takes the same time.
    import rolecall.config.edit
    import rolecall.providers.keystore  # noqa: F401

    os.environ.update(keys_env(aws_home, "file"))
    # A few imports to the end: how long one takes, and the file it leaves.
    durations = []
    for _ in range(3):
        credentials.write_bytes(original)
        started = time.monotonic()
        assert os.waitpid(run_child(), 0)[1] == 0
        durations.append(time.monotonic() - started)
        imported = credentials.read_bytes()
        assert not any(needle in imported for needle in needles)
        assert main(["keys", "import", "--confirm"]) == 0
    duration = max(durations)

    counts = dict.fromkeys(
        ["kills", "killed before the backup", "killed while writing the backup", "killed after the backup",
         "killed after the import", "plaintext copies after confirm", "damaged files",
         "plaintext copies after the next import"],
        0,
    )  # fmt: skip
    loop_started = time.monotonic()
    for round_ in range(KILLS):
        credentials.write_bytes(original)
        pid = run_child()
        if round_ % 4 < 2:
            time.sleep(rng.uniform(0.0, duration * 1.1))  # anywhere in the import
        else:  # while it writes its backup: as soon as the file shows up, or a little later
            deadline = time.monotonic() + duration * 3
            while not writing_backup() and time.monotonic() < deadline:
                time.sleep(0.0002)
            time.sleep(rng.uniform(0.0, 0.002))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        counts["kills"] += 1
        now = credentials.read_bytes()
        if now not in (original, imported):
            counts["damaged files"] += 1
        try:
            for name, (key_id, _secret) in keys.items():
                found = store.get(name)  # the store always opens (and has the key once the file is rewritten)
                if now == imported and (found is None or found.access_key_id != key_id):
                    counts["damaged files"] += 1
        except Exception:
            counts["damaged files"] += 1
        folder = credentials.parent
        partial = [n for n in os.listdir(folder) if "rolecall-backup" in n and n.endswith((".tmp", ".partial"))]
        whole = [n for n in os.listdir(folder) if "rolecall-backup" in n and n not in partial]
        if now == imported:
            counts["killed after the import"] += 1
        elif partial:
            counts["killed while writing the backup"] += 1
        elif whole:
            counts["killed after the backup"] += 1
        else:
            counts["killed before the backup"] += 1
        plaintext_file = [credentials] if now == original else []
        if round_ % 2:
            # The next import finishes the job: only the backup it announces holds the secrets (or, when the
            # killed import had done all its work, the backup that one made).
            kept = [folder / name for name in whole] if now == imported else []
            result = import_keys(str(credentials), store, None, rolecall_dir=aws_home.env["ROLECALL_HOME"])
            announced = [Path(result.backup)] if result.backup else []
            if sorted(_copies(_roots(aws_home), needles)) != sorted(announced + kept):
                counts["plaintext copies after the next import"] += 1
            plaintext_file = []
        assert main(["keys", "import", "--confirm"]) == 0
        counts["plaintext copies after confirm"] += len(
            [p for p in _copies(_roots(aws_home), needles) if p not in plaintext_file]
        )
    elapsed = time.monotonic() - loop_started
    print(f"\nkeys import kill loop ({elapsed:.1f} s, one import {duration * 1000:.0f} ms): {counts}")
    assert counts["damaged files"] == 0, counts
    assert counts["plaintext copies after confirm"] == 0, counts
    assert counts["plaintext copies after the next import"] == 0, counts
    # The kills really landed while the backup was being written, and elsewhere too.
    assert counts["killed while writing the backup"] >= 5, counts
    assert counts["killed after the import"] + counts["killed after the backup"] >= 5, counts
    assert elapsed < 60, elapsed


# --------------------------------------------------------------------------------------------------------------
# item 7: the key file is read with the caches' guards


def _credential_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return run_rolecall(["credential-process", "--keys", "default"], env, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("credential-process --keys hung on the key file")


def _says_one_line_exit_7(done: subprocess.CompletedProcess[str], keys_file: Path, what: str) -> None:
    assert done.returncode == ExitCode.FILE, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(keys_file) in lines[0] and what in lines[0] and "(hint: " in lines[0], lines[0]
    assert "internal error" not in lines[0]


def test_a_named_pipe_as_the_key_file_is_refused_at_once(aws_home: AwsHome) -> None:
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    keys_file.parent.mkdir(parents=True)
    os.mkfifo(keys_file, 0o600)
    started = time.monotonic()
    _says_one_line_exit_7(_credential_process(env), keys_file, "named pipe")
    assert time.monotonic() - started < 10
    # Writing commands refuse too, and leave the pipe where it was.
    added = run_rolecall(["keys", "add", "x"], env, input="AKIAIOSFODNN7EXAMPLE\nsecret\n", timeout=15)
    _says_one_line_exit_7(added, keys_file, "named pipe")
    assert stat.S_ISFIFO(os.lstat(keys_file).st_mode)


@pytest.mark.parametrize("how", ["symlink", "mknod"])
def test_a_device_as_the_key_file_is_refused(aws_home: AwsHome, how: str) -> None:
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    keys_file.parent.mkdir(parents=True)
    if how == "symlink":
        keys_file.symlink_to("/dev/zero")
    else:
        if os.geteuid() != 0:
            pytest.skip("mknod needs root")
        os.mknod(keys_file, 0o666 | stat.S_IFCHR, os.makedev(1, 5))  # a copy of /dev/zero
    _says_one_line_exit_7(_credential_process(env), keys_file, "device")


def test_a_huge_key_file_is_refused_without_reading_it(aws_home: AwsHome) -> None:
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    keys_file.parent.mkdir(parents=True)
    with open(keys_file, "wb") as handle:
        handle.truncate(4 << 30)  # 4 GiB, sparse: reading it all would take the memory of the test machine
    _says_one_line_exit_7(_credential_process(env), keys_file, "larger than")


@pytest.mark.parametrize(
    "content",
    [
        "[" * 200_000,
        '{"format": "rolecall-keys", "version": 1, "kdf": ' + "[" * 100_000,
        '{"format": "rolecall-keys", "version": 1, "kdf": {"salt": "%%%"}, "data": "x"}',
    ],
    ids=["nested", "nested-inside", "bad-salt"],
)
def test_a_damaged_key_file_is_one_line_exit_7(aws_home: AwsHome, content: str) -> None:
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    keys_file.parent.mkdir(parents=True)
    keys_file.write_text(content)
    _says_one_line_exit_7(_credential_process(env), keys_file, "damaged")


def test_damaged_content_under_a_valid_passphrase_is_one_line_exit_7(aws_home: AwsHome) -> None:
    """The decrypted content itself nested too deeply, or of the wrong shape (a file written by another tool)."""
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    store = EncryptedFileStore(str(keys_file), lambda creating: PASSPHRASE)
    for inner in ("[" * 100_000 + "]" * 100_000, '["keys"]', '{"keys": ["default"]}', '{"keys": {"default": 1}}'):
        store._save({}, None)  # a valid file, then its token replaced by one of ``inner``
        outer = json.loads(keys_file.read_text())
        salt = base64.b64decode(outer["kdf"]["salt"])
        outer["data"] = store._fernet(salt, False).encrypt(inner.encode()).decode()
        keys_file.write_text(json.dumps(outer))
        done = _credential_process(env)
        _says_one_line_exit_7(done, keys_file, "damaged")


def test_a_key_file_of_another_user_is_refused(aws_home: AwsHome) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a file to another user")
    env = keys_env(aws_home, "file")
    keys_file = Path(env["ROLECALL_HOME"]) / "keys.enc"
    store = EncryptedFileStore(str(keys_file), lambda creating: PASSPHRASE)
    store.put("default", StoredKey("AKIAIOSFODNN7EXAMPLE", secrets.token_urlsafe(30)))
    os.chown(keys_file, 65534, 65534)
    _says_one_line_exit_7(_credential_process(env), keys_file, "another user")
