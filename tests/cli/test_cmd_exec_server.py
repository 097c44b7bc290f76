"""``rolecall exec --server PROFILE -- CMD`` end to end (issue 6): CMD sees only the container variables, a real
boto3 client and the real AWS CLI inside it work across several expiries of seconds-long credentials, the server
stops with CMD and CMD's exit code comes back."""

from __future__ import annotations

import json
import socket
import sys
import urllib.parse

from conftest import AwsHome, run_rolecall
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

#: A long job: boto3 calls STS every 0.2 s for JOB_SECONDS, and the AWS CLI runs three times along the way.
#: It prints what it saw: the access keys it was given, every error, the ARNs, and the server's URL.
LONG_JOB = r'''
import json, os, subprocess, sys, time
import boto3
seconds = float(sys.argv[1])
session = boto3.Session()
client = session.client("sts")
keys, arns, errors, cli = [], set(), [], []
start = time.time()
next_cli = start
while time.time() - start < seconds:
    try:
        arns.add(client.get_caller_identity()["Arn"])
        key = session.get_credentials().get_frozen_credentials().access_key
        if not keys or keys[-1] != key:
            keys.append(key)
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
    if time.time() >= next_cli:
        done = subprocess.run([sys.executable, "-m", "awscli", "sts", "get-caller-identity"], capture_output=True,
                              text=True)
        cli.append(json.loads(done.stdout)["Arn"] if done.returncode == 0 else "ERROR " + done.stderr.strip())
        next_cli = time.time() + seconds / 3
    time.sleep(0.2)
print(json.dumps({"keys": keys, "arns": sorted(arns), "errors": errors, "cli": cli,
                  "url": os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]}))
sys.exit(3)
'''


def test_cmd_gets_only_the_container_variables_and_the_region(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    # What a shell that used `rolecall env` and profiles before may still carry: none of it may reach CMD.
    env.update(
        AWS_PROFILE="admin",
        AWS_DEFAULT_PROFILE="admin",
        AWS_ACCESS_KEY_ID="AKIAOLDOLDOLDOLDOLD0",
        AWS_SECRET_ACCESS_KEY="old-secret-old-secret-old-secret-old-sec",
        AWS_SESSION_TOKEN="old-token",
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI="/v2/credentials/outer",
        AWS_WEB_IDENTITY_TOKEN_FILE="/nonexistent/token",
        AWS_ROLE_ARN="arn:aws:iam::123456789012:role/other",
    )
    code = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if 'AWS' in k or 'ROLECALL' in k}))"
    result = run_rolecall(["exec", "--server", "readonly", "--", sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    configuration = ("AWS_CONFIG_FILE", "AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "ROLECALL_HOME")
    identity = {name for name in seen if name not in configuration}
    assert identity == {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_SHARED_CREDENTIALS_FILE",
        "ROLECALL_PROFILE",
        "ROLECALL_EXEC_PROFILE",
    }
    # The credentials file's [default] holds alice's keys, which every SDK reads before the container endpoint:
    # CMD does not get it, and rolecall says why.
    assert seen["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
    assert "hiding the credentials file" in result.stderr
    url = urllib.parse.urlsplit(seen["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    assert url.scheme == "http" and url.hostname == "127.0.0.1"
    assert seen["AWS_REGION"] == "us-east-1"


def test_a_long_job_with_boto3_and_the_aws_cli_survives_three_expiries(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    sandbox.set_credential_lifetime(5)
    result = run_rolecall(["exec", "--server", "readonly", "--", sys.executable, "-c", LONG_JOB, "18"], env,
                          timeout=120)
    assert result.returncode == 3, result.stderr  # the job's own exit code
    seen = json.loads(result.stdout)
    assert seen["errors"] == []
    # Credentials living 5 s over 18 s: at least three expiries, so at least four sets of keys, each used.
    assert len(seen["keys"]) >= 4, seen["keys"]
    assert len(set(seen["keys"])) == len(seen["keys"])
    assert len(seen["arns"]) == 1 and seen["arns"][0].startswith(
        f"arn:aws:sts::{sandbox.account_id}:assumed-role/readonly/"
    )
    assert len(seen["cli"]) >= 3 and all(arn == seen["arns"][0] for arn in seen["cli"]), seen["cli"]
    # One AssumeRole per set of keys (plus the foreground one before CMD started): refreshes are single-flight.
    assert sandbox.calls("AssumeRole") <= len(seen["keys"]) + 1
    # The server stopped with the job: nothing listens on its port any more.
    port = urllib.parse.urlsplit(seen["url"]).port
    assert port is not None
    probe = socket.socket()
    try:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    finally:
        probe.close()
    assert "refused" not in result.stderr and "failed" not in result.stderr


def test_the_command_is_stopped_when_the_server_is_gone() -> None:
    """If the endpoint stops while CMD runs, CMD could only fail at its next refresh: it is sent SIGTERM."""
    import io
    import os
    import signal
    import time

    from rolecall.cli.commands.exec_ import _wait_forwarding
    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials
    from rolecall.refresh import RefreshingCredentials
    from rolecall.server import serve_in_background

    source = RefreshingCredentials(lambda: Credentials("AKIAEXAMPLE", "secret"), initial=Credentials("AKIA", "s"))
    server = serve_in_background(source)
    server.stop()  # the server is gone (a real one, stopped), the command is not
    pid = os.posix_spawn("/bin/sleep", ["sleep", "30"], dict(os.environ))
    stderr = io.StringIO()
    ctx = Context(io.StringIO(), io.StringIO(), stderr, {})
    started = time.monotonic()
    code = _wait_forwarding(pid, {signal.SIGINT, signal.SIGTERM}, {signal.SIGINT, signal.SIGTERM, signal.SIGCHLD},
                            server, ctx)
    assert code == 128 + signal.SIGTERM
    assert time.monotonic() - started < 5
    assert "the credentials server stopped; stopping the command" in stderr.getvalue()
