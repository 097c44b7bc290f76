"""The credentials server against the local strict STS: real boto3 and the real AWS CLI through it, long jobs
across several expiries of seconds-long credentials, and one AssumeRole for a burst of concurrent requests."""

from __future__ import annotations

import http.client
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from conftest import AwsHome, run_aws
from rolecall.aws import sts
from rolecall.credentials import Credentials
from rolecall.errors import MfaError
from rolecall.refresh import RefreshingCredentials
from rolecall.sandbox import Sandbox
from rolecall.server import CredentialsServer, child_environment
from rolecall.timefmt import utc_now

pytest_plugins = ["sandbox_fixtures"]

REGION = "us-east-1"


def assume_role_fetch(sb: Sandbox, role: str = "readonly") -> Callable[[], Credentials]:
    """A fetch function calling AssumeRole on the sandbox with alice's keys, a new session name each time
    (so GetCallerIdentity's Arn tells which refresh a set of credentials came from)."""
    settings = sts.StsSettings(region=REGION, endpoint_url=sb.endpoint_url)
    source = Credentials(sb.access_key_id, sb.secret_access_key)
    numbers = itertools.count(1)

    def fetch() -> Credentials:
        response = sts.assume_role(
            settings, source, RoleArn=sb.role_arn(role), RoleSessionName=f"job-{next(numbers)}", DurationSeconds=900
        )
        return sts.credentials_from_response(response)

    return fetch


class Recorder:
    """A thread-safe reporter."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)


def test_boto3_long_job_survives_several_expiries(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    lifetime = 4
    sandbox.set_credential_lifetime(lifetime)
    recorder = Recorder()
    source = RefreshingCredentials(assume_role_fetch(sandbox), reporter=recorder)
    with CredentialsServer(source, reporter=recorder) as server:
        for key, value in server.environment().items():
            monkeypatch.setenv(key, value)
        session = boto3.Session(region_name=REGION)
        client = session.client("sts", endpoint_url=sandbox.endpoint_url)
        arns: list[str] = []
        keys: list[str] = []
        started = time.monotonic()
        calls = 0
        # The job: call AWS in a loop for more than three lifetimes of the credentials, in one process, with one
        # client. botocore's own refresh logic asks the server again on each call (the credentials are always
        # inside its 15-minute window); the server answers from its holder and refreshes at half-life.
        while time.monotonic() - started < 3 * lifetime + 1 or len(set(arns)) < 4:
            assert time.monotonic() - started < 60, f"no progress: {len(set(arns))} sessions after 60 s"
            identity = client.get_caller_identity()
            calls += 1
            arns.append(identity["Arn"])
            keys.append(session.get_credentials().get_frozen_credentials().access_key)
            time.sleep(0.1)
        elapsed = time.monotonic() - started
    assert all(arn.startswith("arn:aws:sts::123456789012:assumed-role/readonly/job-") for arn in arns)
    changes = sum(1 for before, after in itertools.pairwise(arns) if before != after)
    assert changes >= 3, arns
    assert len(set(keys)) >= 4
    # The server refreshed about once per half-life, not once per request.
    assume_roles = sandbox.calls("AssumeRole")
    assert assume_roles == source.fetch_count
    assert assume_roles <= elapsed / (lifetime / 2) + 3, (assume_roles, calls, elapsed)
    assert assume_roles < calls / 2
    assert not [line for line in recorder.lines if "failed" in line or "refused" in line], recorder.lines


AWS_LOOP = r"""
set -u
end=$(( $(date +%s) + DURATION ))
while [ "$(date +%s)" -lt "$end" ]; do
    "$PYTHON" -m awscli sts get-caller-identity --endpoint-url "$ENDPOINT" --region us-east-1 \
        --query Arn --output text || exit 1
done
"""


@pytest.mark.slow
def test_aws_cli_in_a_loop_survives_several_expiries(sandbox: Sandbox, aws_home: AwsHome) -> None:
    lifetime = 6
    sandbox.set_credential_lifetime(lifetime)
    recorder = Recorder()
    # Background advisory refresh: the request that notices the advisory window is answered at once too.
    source = RefreshingCredentials(assume_role_fetch(sandbox), reporter=recorder, background_advisory=True)
    with CredentialsServer(source, reporter=recorder) as server:
        env = child_environment(aws_home.env, server) | {
            "PYTHON": sys.executable,
            "ENDPOINT": sandbox.endpoint_url,
            "DURATION": str(3 * lifetime + 2),
        }
        done = subprocess.run(
            ["bash", "-c", AWS_LOOP], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
        )
    assert done.returncode == 0, done.stderr[-2000:]
    arns = done.stdout.split()
    assert len(arns) >= 4
    assert all(arn.startswith("arn:aws:sts::123456789012:assumed-role/readonly/job-") for arn in arns), arns
    changes = sum(1 for before, after in itertools.pairwise(arns) if before != after)
    assert changes >= 3, arns
    assert server.token not in done.stderr
    assert not [line for line in recorder.lines if "failed" in line or "refused" in line], recorder.lines


def test_200_concurrent_requests_during_a_refresh_make_one_assume_role_call(sandbox: Sandbox) -> None:
    sandbox.set_credential_lifetime(3)
    source = RefreshingCredentials(assume_role_fetch(sandbox))
    first = source.get()
    # Wait until the credentials are in the mandatory window (a third of their life left): every request must
    # now wait for a refresh, and the refresh is slow, so all 200 requests arrive while it is in flight.
    assert first.expiration is not None
    while (first.expiration - utc_now()).total_seconds() > 0.8:
        time.sleep(0.05)
    sandbox.set_credential_lifetime(None)
    sandbox.reset_calls()
    sandbox.inject_fault("AssumeRole", "slow", delay=1.5)
    count = 200
    # Requests wait for the refresh as long as it takes here (by default they are answered 503 after 1.5 s, tested
    # in test_server.py and test_cmd_serve.py): this test is about the number of STS calls, not slow renewals.
    with CredentialsServer(source, refresh_wait=30) as server:
        barrier = threading.Barrier(count)

        def one() -> tuple[int, dict[str, Any]]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                barrier.wait()
                conn.request("GET", server.path, headers={"Authorization": server.token})
                response = conn.getresponse()
                return response.status, json.loads(response.read())
            finally:
                conn.close()

        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(lambda _: one(), range(count)))
    assert sandbox.calls("AssumeRole") == 1
    assert [status for status, _ in results] == [200] * count
    keys = {body["AccessKeyId"] for _, body in results}
    assert len(keys) == 1 and keys != {first.access_key_id}


def test_aws_cli_reports_why_the_server_could_not_refresh(sandbox: Sandbox, aws_home: AwsHome) -> None:
    def fetch() -> Credentials:
        raise MfaError(
            "profile prod needs an MFA code and rolecall has no terminal to ask for it",
            hint="run 'rolecall assume prod' in a terminal first, or set mfa_process",
        )

    recorder = Recorder()
    with CredentialsServer(RefreshingCredentials(fetch), reporter=recorder) as server:
        done = run_aws(
            ["sts", "get-caller-identity", "--endpoint-url", sandbox.endpoint_url, "--region", REGION],
            env=child_environment(aws_home.env, server),
        )
    assert done.returncode != 0
    assert "needs an MFA code and rolecall has no terminal to ask for it" in done.stderr
    assert "set mfa_process" in done.stderr
    assert server.token not in done.stderr
    assert sandbox.calls("GetCallerIdentity") == 0
    assert recorder.lines and all(server.token not in line for line in recorder.lines)
