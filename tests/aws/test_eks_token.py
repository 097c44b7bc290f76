"""``rolecall eks token`` (issue 19 item 3): the ExecCredential JSON kubectl's exec plugin reads; the token decodes
to a presigned GetCallerIdentity URL that the sandbox STS answers, sent with the x-k8s-aws-id header, as the
profile's role (and refuses without the header, or once expired); a second call is served from the cache with
no STS call; ``eks kubeconfig`` prints the users: entry."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from conftest import AwsHome
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture


def _eks(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rolecall", "eks", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip


def _url(document: dict[str, object]) -> str:
    status = document["status"]
    assert isinstance(status, dict)
    token = status["token"]
    assert token.startswith("k8s-aws-v1.") and "=" not in token
    encoded = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def _send(url: str, cluster: str | None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"x-k8s-aws-id": cluster} if cluster else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_token_is_an_exec_credential_answered_by_sts_as_the_profile_and_cached(
    sandbox: Sandbox, aws_home: AwsHome  # noqa: F811
) -> None:
    env = seeded_env(sandbox, aws_home)
    before = datetime.now(timezone.utc)
    first = _eks(env, "token", "--cluster-name", "prod-cluster", "--profile", "deploy")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    # The schema kubectl's exec plugin (client.authentication.k8s.io/v1beta1) reads.
    assert list(document) == ["kind", "apiVersion", "spec", "status"]
    assert document["kind"] == "ExecCredential" and document["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert document["spec"] == {} and set(document["status"]) == {"expirationTimestamp", "token"}
    stamp = document["status"]["expirationTimestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    expires = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert timedelta(minutes=13) < expires - before <= timedelta(minutes=14, seconds=5)
    url = _url(document)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["Action"] == "GetCallerIdentity" and query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert sandbox.calls("AssumeRole") == 2
    # Sent with the header, STS answers as the profile's role; without it, or for another cluster, it refuses.
    status, body = _send(url, "prod-cluster")
    assert status == 200 and f"arn:aws:sts::{sandbox.account_id}:assumed-role/deploy/" in body
    assert _send(url, "other-cluster")[0] == 403
    assert _send(url, None)[0] == 403
    # The second call is the cache: the same document, no STS call at all.
    calls = sandbox.calls("AssumeRole") + sandbox.calls("GetCallerIdentity")
    second = _eks(env, "token", "--cluster-name", "prod-cluster", "--profile", "deploy")
    assert second.returncode == 0 and second.stdout == first.stdout
    assert sandbox.calls("AssumeRole") + sandbox.calls("GetCallerIdentity") == calls
    folder = str(aws_home.root)
    cached = [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names if "/eks/" in root + "/"]
    assert len(cached) == 1 and stat.S_IMODE(os.stat(cached[0]).st_mode) == 0o600
    # Another cluster is another token.
    other = _eks(env, "token", "--cluster-name", "other-cluster", "--profile", "deploy")
    assert other.returncode == 0 and json.loads(other.stdout)["status"]["token"] != document["status"]["token"]


def test_an_expired_presigned_url_is_refused(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = _eks(env, "token", "--cluster-name", "c1", "--profile", "readonly", "--force-refresh")
    assert result.returncode == 0, result.stderr
    url = _url(json.loads(result.stdout))
    expired = re.sub(r"X-Amz-Expires=60", "X-Amz-Expires=1", url)
    assert _send(expired, "c1")[0] == 403  # the signature covers X-Amz-Expires


def test_kubeconfig_prints_the_exec_user(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = seeded_env(sandbox, aws_home)
    result = _eks(env, "kubeconfig", "--cluster-name", "prod", "--profile", "deploy")
    assert result.returncode == 0, result.stderr
    assert "command: rolecall" in result.stdout and "- --cluster-name\n        - prod\n" in result.stdout
    assert "apiVersion: client.authentication.k8s.io/v1beta1" in result.stdout


@pytest.mark.parametrize(
    ("argv", "fast"),
    [
        (["token", "--cluster-name", "c"], True),
        (["token", "--cluster-name=c", "--profile", "p", "--region", "eu-west-1"], True),
        (["token", "--cluster-name", "c", "--force-refresh"], False),
        (["kubeconfig", "--cluster-name", "c"], False),
        (["token"], False),
    ],
)
def test_the_fast_path_recognises_plain_token_calls(argv: list[str], fast: bool) -> None:
    from rolecall.cli.fastargs import parse_fast

    assert (parse_fast("eks", argv) is not None) is fast
