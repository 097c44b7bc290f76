"""The key store (issue 11): the real Secret Service (gnome-keyring on a private D-Bus) and the encrypted file,
through the library and through the CLI: add (stdin, JSON, a terminal without echo), list, export, remove,
credential-process --keys, and the errors (no backend, wrong passphrase, bad input) with their exit codes."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from conftest import AwsHome, run_rolecall
from keyring_fixtures import keyring_env, secret_service  # noqa: F401 - the fixtures
from rolecall.errors import ExitCode
from rolecall.keys.filestore import EncryptedFileStore, WrongPassphraseError
from rolecall.keys.store import StoredKey

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSPHRASE = "correct horse battery staple"


def keys_env(aws_home: AwsHome, backend: str, keyring: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment with the chosen backend (the Secret Service's bus, or the file's passphrase)."""
    env = {k: v for k, v in aws_home.env.items() if not k.startswith("DBUS_")}
    # The AWS CLI runs `rolecall credential-process ...`: the console script must be on PATH.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["ROLECALL_KEYS_BACKEND"] = backend
    if backend == "file":
        env["ROLECALL_KEYS_PASSPHRASE"] = PASSPHRASE
    else:
        assert keyring is not None
        env.update(keyring)
    return env


@pytest.fixture(params=["keyring", "file"])
def backend_env(request: pytest.FixtureRequest, aws_home: AwsHome) -> dict[str, str]:
    """The environment for each backend in turn (the keychain one needs the real Secret Service)."""
    if request.param == "keyring":
        return keys_env(aws_home, "keyring", request.getfixturevalue("keyring_env"))
    return keys_env(aws_home, "file")


def test_the_encrypted_file_keeps_nothing_readable(tmp_path: Path) -> None:
    path = tmp_path / "rolecall" / "keys.enc"
    asked: list[bool] = []

    def passphrase(creating: bool) -> str:
        asked.append(creating)
        return PASSPHRASE

    store = EncryptedFileStore(str(path), passphrase)
    store.put("alice", StoredKey(KEY_ID, SECRET))
    store.put("alice", StoredKey("AKIAPENDINGPENDING01", "pending-secret"), pending=True)
    assert asked == [True]  # asked once, as a new file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = path.read_text()
    for clear in (SECRET, KEY_ID, "alice", "pending-secret"):
        assert clear not in raw
    again = EncryptedFileStore(str(path), lambda creating: PASSPHRASE)
    assert again.get("alice") == StoredKey(KEY_ID, SECRET)
    assert again.get("alice", pending=True) == StoredKey("AKIAPENDINGPENDING01", "pending-secret")
    assert again.profiles() == ["alice"]
    assert again.delete("alice", pending=True) and not again.delete("alice", pending=True)
    assert again.get("alice") == StoredKey(KEY_ID, SECRET)
    with pytest.raises(WrongPassphraseError) as caught:
        EncryptedFileStore(str(path), lambda creating: "wrong").get("alice")
    assert caught.value.exit_code == ExitCode.INVALID_INPUT
    assert repr(StoredKey(KEY_ID, SECRET)) == "StoredKey(****MPLE)"


def test_the_keychain_backend_on_a_real_secret_service(keyring_env: dict[str, str]) -> None:  # noqa: F811
    import keyring.backends.SecretService

    from rolecall.keys.keyringstore import KeyringStore

    store = KeyringStore(keyring.backends.SecretService.Keyring())
    assert store.description == "the keychain (Secret Service)"
    store.put("alice", StoredKey(KEY_ID, SECRET))
    store.put("bob", StoredKey("AKIABOBBOBBOBBOB0001", "bob-secret"))
    assert store.profiles() == ["alice", "bob"]
    assert store.get("alice") == StoredKey(KEY_ID, SECRET)
    assert store.get("alice", pending=True) is None
    assert store.delete("bob") and store.profiles() == ["alice"]
    assert store.get("bob") is None


def test_add_list_export_remove(backend_env: dict[str, str]) -> None:
    env = backend_env
    added = run_rolecall(["keys", "add", "alice"], env, input=f"{KEY_ID}\n{SECRET}\n")
    assert added.returncode == 0, added.stderr
    assert SECRET not in added.stdout + added.stderr
    assert "****MPLE" in added.stderr
    piped = json.dumps({"AccessKeyId": "AKIABOBBOBBOBBOB0001", "SecretAccessKey": "bob/secret+1"})
    assert run_rolecall(["keys", "add", "bob"], env, input=piped).returncode == 0

    listed = run_rolecall(["keys", "list"], env)
    assert listed.returncode == 0, listed.stderr
    label = "Secret Service" if env["ROLECALL_KEYS_BACKEND"] == "keyring" else "file"
    assert listed.stdout.splitlines() == [f"alice  ****MPLE  {label}", f"bob    ****0001  {label}"]
    assert SECRET not in listed.stdout + listed.stderr and KEY_ID not in listed.stdout

    refused = run_rolecall(["keys", "export", "alice"], env)
    assert refused.returncode == ExitCode.USAGE and SECRET not in refused.stdout + refused.stderr
    assert "--yes-print-secret" in refused.stderr
    exported = run_rolecall(["keys", "export", "alice", "--yes-print-secret"], env)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET}
    shell = run_rolecall(["keys", "export", "alice", "--yes-print-secret", "--format", "sh"], env)
    assert f"export AWS_SECRET_ACCESS_KEY='{SECRET}'" in shell.stdout

    process = run_rolecall(["credential-process", "--keys", "bob"], env)
    assert process.returncode == 0, process.stderr
    document = json.loads(process.stdout)
    assert document == {"Version": 1, "AccessKeyId": "AKIABOBBOBBOBBOB0001", "SecretAccessKey": "bob/secret+1"}

    assert run_rolecall(["keys", "remove", "bob"], env).returncode == 0
    again = run_rolecall(["keys", "remove", "bob"], env)
    assert again.returncode == ExitCode.NOT_FOUND
    missing = run_rolecall(["credential-process", "--keys", "bob"], env)
    assert missing.returncode == ExitCode.CONFIG and "rolecall keys add bob" in missing.stderr
    assert run_rolecall(["keys", "list"], env).stdout.splitlines() == [f"alice  ****MPLE  {label}"]


def test_no_usable_keychain_is_one_line_with_the_hint(aws_home: AwsHome) -> None:
    env = {k: v for k, v in aws_home.env.items() if not k.startswith("DBUS_")}
    done = run_rolecall(["keys", "list"], env)
    assert done.returncode == ExitCode.CONFIG
    assert done.stderr.count("\n") == 1 and "ROLECALL_KEYS_BACKEND=file" in done.stderr
    bad = run_rolecall(["keys", "list"], {**env, "ROLECALL_KEYS_BACKEND": "vault"})
    assert bad.returncode == ExitCode.CONFIG and "keyring or file" in bad.stderr


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (f"{KEY_ID}\n", "two lines"),
        (f"not-a-key\n{SECRET}\n", "not one"),
        (f"ASIAIOSFODNN7EXAMPLE\n{SECRET}\n", "temporary"),
        (json.dumps({"AccessKeyId": KEY_ID, "SecretAccessKey": SECRET, "SessionToken": "t"}), "SessionToken"),
        (f"{KEY_ID}\n{SECRET} extra\n", "spaces"),
    ],
)
def test_bad_input_is_refused_without_echoing_it(aws_home: AwsHome, given: str, says: str) -> None:
    env = keys_env(aws_home, "file")
    done = run_rolecall(["keys", "add", "alice"], env, input=given)
    assert done.returncode == ExitCode.INVALID_INPUT, done.stderr
    assert says in done.stderr and SECRET not in done.stderr and done.stdout == ""


def test_a_wrong_passphrase_is_invalid_input(aws_home: AwsHome) -> None:
    env = keys_env(aws_home, "file")
    assert run_rolecall(["keys", "add", "alice"], env, input=f"{KEY_ID}\n{SECRET}\n").returncode == 0
    wrong = run_rolecall(["credential-process", "--keys", "alice"], {**env, "ROLECALL_KEYS_PASSPHRASE": "nope"})
    assert wrong.returncode == ExitCode.INVALID_INPUT and "passphrase" in wrong.stderr and wrong.stdout == ""
    no_passphrase = {k: v for k, v in env.items() if k != "ROLECALL_KEYS_PASSPHRASE"}
    no_tty = run_rolecall(["keys", "list"], no_passphrase)  # no terminal in the test: a clear error, no hang
    assert no_tty.returncode == ExitCode.INVALID_INPUT and "no terminal" in no_tty.stderr


def test_on_a_terminal_the_secret_is_asked_without_echo(aws_home: AwsHome) -> None:
    pexpect = pytest.importorskip("pexpect")
    env = keys_env(aws_home, "file")
    child = pexpect.spawn(sys.executable, ["-m", "rolecall", "keys", "add", "alice"], env=env, timeout=30,
                          encoding="utf-8")  # fmt: skip
    child.expect("AWS Access Key ID: ")
    child.sendline(KEY_ID)
    child.expect("AWS Secret Access Key: ")
    child.sendline(SECRET)
    child.expect(pexpect.EOF)
    child.close()
    seen = child.before or ""
    assert child.exitstatus == 0, seen
    assert SECRET not in seen and KEY_ID not in seen  # neither was echoed
    done = run_rolecall(["keys", "export", "alice", "--yes-print-secret"], env)
    assert json.loads(done.stdout)["SecretAccessKey"] == SECRET
