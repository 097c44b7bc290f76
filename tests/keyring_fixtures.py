"""A real Secret Service for the tests: gnome-keyring-daemon on a private D-Bus session bus.

``secret_service`` (session-scoped) starts ``dbus-daemon --session`` and ``gnome-keyring-daemon --unlock
--components=secrets`` (password on stdin) with a private HOME and XDG_RUNTIME_DIR, and yields the
environment variables that point a client at them. It skips, saying why, only when the programs or the
Python libraries are missing (scripts/test.sh installs gnome-keyring and dbus). ``keyring_env`` (per test)
adds them to ``os.environ`` for in-process clients and empties the keyring afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import pytest

#: A client run in a fresh interpreter: stores, reads back and deletes one item.
_PROBE = (
    "import keyring, sys\n"
    "k = keyring.get_keyring()\n"
    "k.set_password('rolecall-probe', 'probe', 'ok')\n"
    "assert k.get_password('rolecall-probe', 'probe') == 'ok'\n"
    "k.delete_password('rolecall-probe', 'probe')\n"
    "sys.stdout.write(type(k).__module__)\n"
)


def _missing() -> str | None:
    for program in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install gnome-keyring dbus)"
    try:
        import keyring  # noqa: F401
        import secretstorage  # noqa: F401
    except ImportError:
        return "the keyring library is not installed (pip install 'rolecall[keys]')"
    return None


@pytest.fixture(scope="session")
def secret_service() -> Iterator[dict[str, str]]:
    """A running, unlocked Secret Service; yields ``DBUS_SESSION_BUS_ADDRESS`` (and the private dirs)."""
    why = _missing()
    if why is not None:
        pytest.skip(f"no real Secret Service for the keychain tests: {why}")
    root = tempfile.mkdtemp(prefix="rolecall-keyring-")
    home = os.path.join(root, "home")
    runtime = os.path.join(root, "run")
    os.makedirs(home, mode=0o700)
    os.makedirs(runtime, mode=0o700)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "GNOME_KEYRING", "XDG_"))}
    base.update(HOME=home, XDG_RUNTIME_DIR=runtime, XDG_DATA_HOME=os.path.join(home, ".local", "share"))
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        env=base,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    keyring_daemon: subprocess.Popen[str] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            pytest.fail("dbus-daemon printed no address")
        env = {**base, "DBUS_SESSION_BUS_ADDRESS": address}
        keyring_daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write("rolecall-test-keyring-password")  # the login keyring's password (no newline)
        keyring_daemon.stdin.close()
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=30)
            if probe.returncode == 0 and "SecretService" in probe.stdout:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"gnome-keyring-daemon did not serve the Secret Service: {probe.stderr[-500:]}")
            time.sleep(0.2)
        yield {"DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": runtime}
    finally:
        for process in (keyring_daemon, bus):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(root, ignore_errors=True)


def clear_keyring(env: dict[str, str]) -> None:
    """Delete every item of the private keyring (each test starts empty)."""
    code = (
        "import secretstorage\n"
        "bus = secretstorage.dbus_init()\n"
        "for collection in secretstorage.get_all_collections(bus):\n"
        "    for item in collection.get_all_items():\n"
        "        item.delete()\n"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, check=True, timeout=30)


@pytest.fixture
def keyring_env(secret_service: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The Secret Service's variables, also set in ``os.environ``; the keyring is emptied after the test."""
    for key, value in secret_service.items():
        monkeypatch.setenv(key, value)
    clear_keyring(secret_service)
    yield {**secret_service, "ROLECALL_KEYS_BACKEND": "keyring"}
    clear_keyring(secret_service)
