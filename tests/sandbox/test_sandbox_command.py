"""``rolecall sandbox`` serves in the foreground; ``rolecall sandbox code`` prints its MFA code from another shell."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from conftest import AwsHome, run_aws, run_rolecall


def start(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start ``rolecall sandbox ARGS``; return the process and the variables it told the shell to export."""
    process = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "sandbox", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    exports: dict[str, str] = {}
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while "ROLECALL_SANDBOX_DIR" not in exports:
        line = process.stdout.readline()
        if not line or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"sandbox did not start: {process.stderr.read() if process.stderr else ''}")
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            exports[name] = shlex.split(value)[0]
        else:
            assert line.startswith("unset AWS_ACCESS_KEY_ID ")
    return process, exports


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return process.returncode, err


@pytest.fixture
def served(aws_home: AwsHome, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], Path]]:
    folder = tmp_path / "sb"
    process, exports = start(aws_home.env, "--dir", str(folder))
    yield process, exports, folder
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_prints_exports_and_code_works_from_another_shell(
    served: tuple[subprocess.Popen[str], dict[str, str], Path], aws_home: AwsHome
) -> None:
    process, exports, folder = served
    assert exports["AWS_CONFIG_FILE"] == str(folder / "config")
    assert exports["AWS_SHARED_CREDENTIALS_FILE"] == str(folder / "credentials")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", exports["AWS_ENDPOINT_URL"])
    assert exports["ROLECALL_SANDBOX_DIR"] == str(folder)
    state = folder / "sandbox.json"
    assert state.stat().st_mode & 0o777 == 0o600
    assert (folder / "credentials").stat().st_mode & 0o777 == 0o600

    shell = aws_home.env | exports
    result = run_rolecall(["sandbox", "code", "--dir", str(folder)], aws_home.env)
    assert result.returncode == 0, result.stderr
    code = result.stdout.strip()
    assert re.fullmatch(r"\d{6}", code)
    import json

    seed = json.loads(state.read_text())["mfa_seed"]
    assert code in {pyotp.TOTP(seed).at(time.time() + offset) for offset in (-30, 0)}

    # The code is the running sandbox's: the AWS CLI can use it once.
    serial = "arn:aws:iam::123456789012:mfa/alice"
    args = ["sts", "get-session-token", "--serial-number", serial, "--token-code", code, "--query", "Credentials"]
    first = run_aws(args, shell)
    assert first.returncode == 0, first.stderr
    again = run_aws(args, shell)
    assert "MultiFactorAuthentication failed with invalid MFA one time pass code." in again.stderr

    # Without --dir: from $ROLECALL_SANDBOX_DIR, or the pointer to the last sandbox started.
    nxt = run_rolecall(["sandbox", "code", "--next"], shell)
    assert nxt.returncode == 0 and re.fullmatch(r"\d{6}", nxt.stdout.strip()), nxt.stderr
    pointer = run_rolecall(["sandbox", "code"], aws_home.env)
    assert pointer.returncode == 0, pointer.stderr
    identity = run_aws(["--profile", "readonly", "sts", "get-caller-identity", "--query", "Arn"], shell)
    assert "assumed-role/readonly/" in identity.stdout, identity.stderr

    returncode, err = stop(process)
    assert returncode == 0, err
    assert "stopped" in err
    assert not state.exists()
    after = run_rolecall(["sandbox", "code", "--dir", str(folder)], aws_home.env)
    assert after.returncode == 1
    assert after.stderr.startswith("rolecall: no sandbox state in ")
    after = run_rolecall(["sandbox", "code"], aws_home.env)
    assert after.returncode == 1
    assert "no running sandbox found" in after.stderr


def test_throwaway_folder_is_removed_on_sigterm(aws_home: AwsHome) -> None:
    process, exports = start(aws_home.env)
    folder = Path(exports["ROLECALL_SANDBOX_DIR"])
    assert (folder / "config").exists()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0
    assert not folder.exists()


def test_port_in_use(aws_home: AwsHome) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_rolecall(["sandbox", "--port", str(port)], aws_home.env)
    assert result.returncode == 6
    assert result.stderr.startswith(f"rolecall: cannot listen on 127.0.0.1:{port}")
    assert os.path.isdir(aws_home.root)
