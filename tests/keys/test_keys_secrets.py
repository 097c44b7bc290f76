"""No secret of ``rolecall keys`` ever shows where others can see it (issue 11): not in any process's argv
(read from /proc while each command runs), not in messages or ``--debug`` tracebacks, not in a file others
can read."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import AwsHome
from keyring_fixtures import keyring_env, secret_service  # noqa: F401 - the fixtures
from rolecall.config.paths import AwsPaths
from rolecall.keys.backends import open_store
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture
from test_keys_store import keys_env

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")


class _ArgvWatcher:
    """Reads every process's /proc/PID/cmdline, over and over, until stopped; keeps what it saw."""

    def __init__(self) -> None:
        self.seen: set[bytes] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        mine = str(os.getpid())
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == mine:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as handle:
                        self.seen.add(handle.read())
                except OSError:
                    continue  # gone already

    def __enter__(self) -> _ArgvWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _run_in_background(
    argv: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Start the command, feed its stdin while it runs (the watcher reads /proc meanwhile), wait for it."""
    process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    out, err = process.communicate(stdin, timeout=120)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _rolecall(*args: str) -> list[str]:
    return [sys.executable, "-m", "rolecall", *args]


@pytest.mark.parametrize("backend", ["keyring", "file"])
def test_no_secret_in_argv_messages_or_readable_files(
    sandbox: Sandbox, aws_home: AwsHome, backend: str, request: pytest.FixtureRequest  # noqa: F811
) -> None:
    keyring = request.getfixturevalue("keyring_env") if backend == "keyring" else None
    env = seeded_env(sandbox, aws_home, base=keys_env(aws_home, backend, keyring))
    bob = sandbox.create_user("bob")
    secrets = {sandbox.secret_access_key, bob.secret_access_key}
    outputs: list[str] = []
    with _ArgvWatcher() as watcher:
        steps: list[tuple[list[str], str | None]] = [
            (_rolecall("keys", "add", "bob"), f"{bob.access_key_id}\n{bob.secret_access_key}\n"),
            (_rolecall("keys", "import", "--all"), None),
            (_rolecall("keys", "list"), None),
            (_rolecall("credential-process", "--keys", "default"), None),
            ([sys.executable, "-m", "awscli", "sts", "get-caller-identity"], None),  # runs credential-process
            (_rolecall("assume", "readonly"), None),
            (_rolecall("keys", "rotate", "default"), None),
            (_rolecall("keys", "export", "bob"), None),  # refused: exit 2, without the secret
        ]
        for argv, stdin in steps:
            done = _run_in_background(argv, env, stdin)
            assert done.returncode == (2 if "export" in argv else 0), (argv, done.stderr)
            outputs.append(done.stderr)
            if "credential-process" not in argv and "awscli" not in argv:
                outputs.append(done.stdout)
    rotated = open_store(env, AwsPaths.from_env(env)).get("default")
    assert rotated is not None
    secrets.add(rotated.secret_access_key)
    # The watcher really saw the commands, the AWS CLI's child included.
    assert any(b"keys\0rotate" in line for line in watcher.seen)
    assert any(b"credential-process\0--keys\0default" in line for line in watcher.seen)
    for secret in secrets:
        assert not [line for line in watcher.seen if secret.encode() in line], "a secret in a process's argv"
        assert not [text for text in outputs if secret in text], "a secret in a message"
    _no_secret_in_readable_files(aws_home.root, secrets)


def _no_secret_in_readable_files(root: Path, secrets: set[str]) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder, name)
            data = path.read_bytes()
            if any(secret.encode() in data for secret in secrets):
                mode = stat.S_IMODE(path.stat().st_mode)
                assert mode & 0o077 == 0, f"{path} holds a secret and is mode {mode:o}"
                assert name != "keys.enc"


def test_debug_tracebacks_carry_no_secret(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home, base=keys_env(aws_home, "file"))
    secret = sandbox.secret_access_key
    assert _run_in_background(_rolecall("keys", "import", "--all"), env).returncode == 0
    failures = [
        (_rolecall("--debug", "credential-process", "--keys", "default"), {"ROLECALL_KEYS_PASSPHRASE": "wrong"}, None),
        (_rolecall("--debug", "keys", "add", "x"), {}, f"{sandbox.access_key_id}\n{secret} and more\n"),
        (_rolecall("--debug", "keys", "add", "x"), {}, f"{secret}\n"),
    ]
    sandbox.inject_iam_fault("DeleteAccessKey", "error500", times=20)
    failures.append((_rolecall("--debug", "keys", "rotate", "default"), {}, None))
    said = []
    for argv, extra, stdin in failures:
        done = _run_in_background(argv, {**env, **extra}, stdin)
        assert done.returncode != 0, argv
        assert "Traceback" in done.stderr, done.stderr
        said.append(done.stderr + done.stdout)
    sandbox.clear_faults()
    new = open_store(env, AwsPaths.from_env(env)).get("default")  # the rotation stored its new key, then failed
    assert new is not None and new.secret_access_key != secret
    for text in said:
        assert secret not in text and new.secret_access_key not in text
