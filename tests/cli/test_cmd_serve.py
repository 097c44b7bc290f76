"""``rolecall serve PROFILE`` as a real process (issue 6): it prints the exports, another shell evaluates them and
boto3 and the AWS CLI there get the profile's role from it, and SIGINT or SIGTERM stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

BOTO3 = f"{sys.executable} -c \"import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])\""
AWS = f"{sys.executable} -m awscli sts get-caller-identity --query Arn --output text"


def _read_exports(process: subprocess.Popen[str]) -> str:
    """The lines ``serve`` prints, up to the last one (ROLECALL_PROFILE), read while it keeps running."""
    assert process.stdout is not None
    lines = []
    while True:
        line = process.stdout.readline()
        if not line:
            assert process.stderr is not None
            pytest.fail(f"serve exited {process.wait()} before printing its exports: {process.stderr.read()}")
        lines.append(line)
        if "ROLECALL_PROFILE" in line:
            return "".join(lines)


@pytest.mark.parametrize(
    ("fmt", "shell", "stop"),
    [("sh", ["bash", "--norc"], signal.SIGINT), ("fish", ["fish", "--no-config"], signal.SIGTERM)],
)
def test_serve_prints_exports_that_other_shells_use_until_stopped(
    sandbox: Sandbox, aws_home: AwsHome, fmt: str, shell: list[str], stop: signal.Signals  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    server = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "serve", "deploy", "--format", fmt],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        exports = _read_exports(server)
        # Another shell, which still has keys of its own and a profile name: the exports take them away.
        other = dict(env, AWS_PROFILE="admin", AWS_ACCESS_KEY_ID=sandbox.access_key_id,
                     AWS_SECRET_ACCESS_KEY=sandbox.secret_access_key)
        apply = 'eval "$EXPORTS"' if fmt == "sh" else 'echo $EXPORTS | string split "\\n" | source'
        script = f"{apply}\n{BOTO3}\n{AWS}\n{AWS}\n"
        used = subprocess.run([*shell, "-c", script], env=dict(other, EXPORTS=exports), capture_output=True,
                              text=True, timeout=120)
        assert used.returncode == 0, used.stderr
        arns = used.stdout.split()
        assert len(arns) == 3
        assert all(arn.startswith(f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/") for arn in arns), arns
        # Two hops resolved once in the foreground; the three clients were served from the server's copy.
        assert sandbox.calls("AssumeRole") == 2
        assert server.poll() is None  # still serving
    finally:
        server.send_signal(stop)
        code = server.wait(timeout=30)
    assert code == 0
    assert server.stderr is not None
    stderr = server.stderr.read()
    assert f"{stop.name} received, stopped serving deploy" in stderr
    assert "Traceback" not in stderr
    url = next(line for line in exports.splitlines() if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in line)
    port = urllib.parse.urlsplit(url.split("'")[1]).port
    assert port is not None
    probe = socket.socket()
    try:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing serves credentials any more
    finally:
        probe.close()


def test_serve_refuses_a_profile_that_does_not_resolve(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = subprocess.run([sys.executable, "-m", "rolecall", "serve", "nosuchprofile"], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 3
    assert result.stdout == ""  # nothing for another shell to evaluate
    assert "nosuchprofile" in result.stderr


@pytest.mark.slow
def test_serve_asks_its_terminal_for_a_new_mfa_code_and_clients_carry_on_once_it_is_in(
    sandbox: Sandbox, aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The whole story of an MFA renewal behind the server, in a real terminal: the role and its MFA session
    live 12 s, so renewing needs a new code; the prompt comes back on serve's terminal; while it waits past the
    expiry, a botocore client is told why (503, "enter it there"); once the code is typed, the client gets the
    renewed role. Nobody ever gets expired credentials."""
    import re

    import botocore.exceptions
    import botocore.session
    import pexpect

    lifetime = 12
    sandbox.set_credential_lifetime(lifetime)
    env = seeded_env(sandbox, aws_home)
    terminal = pexpect.spawn(
        sys.executable, ["-m", "rolecall", "serve", "admin"], env=env, encoding="utf-8", timeout=60,
        dimensions=(40, 200),
    )
    try:
        prompt = f"Enter MFA code for {sandbox.mfa_serial}: "
        terminal.expect_exact(prompt)
        terminal.sendline(sandbox.fresh_code())
        terminal.expect(r"ROLECALL_PROFILE='?admin'?\r\n")
        served_at = time.monotonic()
        exports = terminal.before or ""
        values = dict(re.findall(r"export (AWS_CONTAINER_\w+)='([^']*)'", exports))
        assert set(values) == {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN"}, exports
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(key, raising=False)
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

        def served_key() -> str:
            credentials = botocore.session.Session().get_credentials()
            assert credentials is not None and credentials.method == "container-role"
            return str(credentials.get_frozen_credentials().access_key)

        first_key = served_key()
        # Past half the lifetime a request starts the renewal in the background and still gets the current
        # credentials; the renewal needs a new MFA code, so the prompt is back on serve's terminal.
        time.sleep(max(0.0, served_at + lifetime / 2 + 1 - time.monotonic()))
        assert served_key() == first_key
        terminal.expect_exact(prompt)
        # Nobody answers until the credentials have expired: botocore is told why instead of timing out.
        time.sleep(max(0.0, served_at + lifetime + 1 - time.monotonic()))
        monkeypatch.setattr("botocore.utils.ContainerMetadataFetcher.SLEEP_TIME", 0)
        with pytest.raises(botocore.exceptions.CredentialRetrievalError) as caught:
            botocore.session.Session().get_credentials()
        assert "503" in str(caught.value) and "waiting for an MFA code on the terminal" in str(caught.value)
        # The code goes in; the next client gets the renewed role.
        terminal.sendline(sandbox.fresh_code())
        deadline = time.monotonic() + 30
        while True:
            try:
                renewed_key = served_key()
                break
            except botocore.exceptions.CredentialRetrievalError:
                assert time.monotonic() < deadline, "the renewal never finished"
                time.sleep(0.2)
        assert renewed_key != first_key
        assert sandbox.calls("GetSessionToken") == 2 and sandbox.calls("AssumeRole") == 2
        assert terminal.isalive()
    finally:
        terminal.kill(signal.SIGINT)
        terminal.expect(pexpect.EOF, timeout=30)
        transcript = terminal.before or ""
        terminal.close()
    assert "Traceback" not in transcript
