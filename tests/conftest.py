"""Shared fixtures. Every test runs with its own HOME and AWS files in a temporary folder, never ~/.aws.

``isolated_env`` is autouse: it scrubs every AWS_* and ROLECALL_* variable from ``os.environ`` and points
HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and ROLECALL_HOME into ``tmp_path``, so that neither
in-process code nor subprocesses can reach the machine's real files or real credentials.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The `sandbox` fixture (a strict local STS) for every test module that asks for it.
pytest_plugins = ["sandbox_fixtures"]


@dataclass
class AwsHome:
    """A throwaway home with its AWS files; ``env`` is a full environment for subprocesses."""

    root: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return Path(self.env["AWS_CONFIG_FILE"])

    @property
    def credentials(self) -> Path:
        return Path(self.env["AWS_SHARED_CREDENTIALS_FILE"])

    def write_config(self, text: str) -> Path:
        self.config.parent.mkdir(parents=True, exist_ok=True)
        self.config.write_text(text)
        return self.config

    def write_credentials(self, text: str) -> Path:
        self.credentials.parent.mkdir(parents=True, exist_ok=True)
        self.credentials.write_text(text)
        os.chmod(self.credentials, 0o600)
        return self.credentials


def _scrubbed(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(("AWS_", "ROLECALL_", "_AWS_", "BOTO"))}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsHome]:
    """Point HOME and every AWS file at tmp_path; remove all AWS_* variables of the real environment."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    for key in list(os.environ):
        if key.startswith(("AWS_", "ROLECALL_", "_AWS_", "BOTO")):
            monkeypatch.delenv(key)
    values = {
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "ROLECALL_HOME": str(home / ".aws" / "rolecall"),
        # Never let botocore reach out to instance metadata from a test.
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    yield AwsHome(root=home, env=_scrubbed(os.environ) | values)


@pytest.fixture
def aws_home(isolated_env: AwsHome) -> AwsHome:
    """The isolated home of this test (same object as the autouse fixture)."""
    return isolated_env


def file_modes_bind() -> list[str]:
    """A command prefix under which file modes bind the child, as they bind an ordinary user.

    CI runs as root, which reads and writes any file whatever its mode, so a permission test run as is would
    prove nothing. Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH in its bounding set (util-linux ``setpriv``),
    a root process gets no permitted capabilities on exec, and the kernel checks modes for it as for anyone.
    """
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): file modes cannot be made to bind")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def run_rolecall(
    args: list[str],
    env: Mapping[str, str],
    input: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
    modes_bind: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``rolecall`` CLI in a subprocess (``python -m rolecall``) and capture its output.

    With ``modes_bind``, file permissions apply to it even when the tests run as root (see ``file_modes_bind``).
    """
    prefix = file_modes_bind() if modes_bind else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "rolecall", *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def run_aws(
    args: list[str], env: Mapping[str, str], input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the real AWS CLI (awscli from PyPI, as installed in this interpreter's environment)."""
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


def stderr_on_a_pty(command: list[str], env: Mapping[str, str]) -> tuple[str, str]:
    """Run ``command`` with its stderr on a new pseudo-terminal (a person watching) and its stdout on a pipe (as
    ``eval "$(...)"`` has it): its stdout, and what the terminal showed (line ends as the terminal turns them)."""
    leader, follower = os.openpty()
    try:
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
                              timeout=60)  # fmt: skip
        os.close(follower)
        follower = -1
        screen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the pty's other end is closed and drained
                break
            if not chunk:
                break
            screen += chunk
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    return done.stdout.decode(), screen.decode()
