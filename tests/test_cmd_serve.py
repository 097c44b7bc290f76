"""``rolecall serve PROFILE`` as a real process (issue 6): it prints the exports, another shell evaluates them and
boto3 and the AWS CLI there get the profile's role from it, and SIGINT or SIGTERM stops it cleanly."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.parse

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

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
    env = dict(aws_home.env)
    env.update(sandbox.write_aws_files(aws_home.root))
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
    env = dict(aws_home.env)
    env.update(sandbox.write_aws_files(aws_home.root))
    result = subprocess.run([sys.executable, "-m", "rolecall", "serve", "nosuchprofile"], env=env, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 3
    assert result.stdout == ""  # nothing for another shell to evaluate
    assert "nosuchprofile" in result.stderr
