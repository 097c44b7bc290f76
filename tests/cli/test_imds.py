"""The IMDSv2 face of ``rolecall serve --imds`` (issue 19 item 1): botocore's own InstanceMetadataProvider gets the
credentials over IMDSv2 and is refused over IMDSv1 unless asked for; the server's refusals (wrong token, wrong
Host, rebound DNS name, wrong path, wrong method, a proxy, bad TTLs) hold on this face too and leak nothing; the
real AWS CLI, given only AWS_EC2_METADATA_SERVICE_ENDPOINT, runs as each of two served profiles."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta

import botocore.credentials
import botocore.session
import botocore.utils
import pytest

from conftest import AwsHome
from rolecall.credentials import Credentials
from rolecall.refresh import RefreshingCredentials
from rolecall.sandbox import Sandbox
from rolecall.server import CredentialsServer
from rolecall.timefmt import parse_timestamp, utc_now
from sandbox_fixtures import sandbox, seeded_env  # noqa: F401 - the fixture

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjIMDSSESSIONTOKEN"


def _source(key: str) -> RefreshingCredentials:
    credentials = Credentials(key, SECRET, SESSION_TOKEN, utc_now() + timedelta(hours=1), "123456789012")
    return RefreshingCredentials(lambda: credentials)


class Recorder(list[str]):
    """Every line the server reports (thread-safe enough: list.append is atomic)."""

    def __call__(self, line: str) -> None:
        self.append(line)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder) -> Iterator[CredentialsServer]:
    sources = {"alpha": _source("ASIAALPHA"), "beta": _source("ASIABETA")}
    with CredentialsServer(sources, imds=True, reporter=recorder, request_timeout=2) as running:
        yield running


def _request(
    endpoint: str, method: str, rest: str, headers: dict[str, str], host: str | None = "own", prefix: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.putrequest(
            method,
            (parts.path.rstrip("/") if prefix is None else prefix) + rest,
            skip_host=True,
            skip_accept_encoding=True,
        )
        if host is not None:
            conn.putheader("Host", parts.netloc if host == "own" else host)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _token(endpoint: str, ttl: str = "21600") -> str:
    status, _, body = _request(endpoint, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    assert status == 200
    return body.decode()


def _fetcher(endpoint: str) -> botocore.utils.InstanceMetadataFetcher:
    # The tests' environment disables IMDS for every other test (AWS_EC2_METADATA_DISABLED): not for this one.
    return botocore.utils.InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=endpoint, env={})


def test_botocore_instance_metadata_provider_gets_each_profile_over_imdsv2(server: CredentialsServer) -> None:
    for name, key in (("alpha", "ASIAALPHA"), ("beta", "ASIABETA")):
        endpoint = server.imds_endpoint(name)
        assert endpoint is not None and endpoint.startswith("http://127.0.0.1:") and endpoint.endswith("/")
        assert server.environment(name)["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == endpoint
        provider = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=_fetcher(endpoint))
        credentials = provider.load()
        assert credentials is not None and credentials.method == "iam-role"
        frozen = credentials.get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (key, SECRET, SESSION_TOKEN)
    assert len({server.imds_endpoint("alpha"), server.imds_endpoint("beta")}) == 2  # a port each


def test_the_credentials_document_has_the_instance_shape(server: CredentialsServer) -> None:
    endpoint = server.imds_endpoint("alpha")
    assert endpoint is not None
    token = _token(endpoint)
    status, headers, names = _request(
        endpoint, "GET", "/latest/meta-data/iam/security-credentials/", {"X-aws-ec2-metadata-token": token}
    )
    assert status == 200 and names == b"alpha" and headers["content-type"] == "text/plain"
    status, headers, body = _request(
        endpoint, "GET", "/latest/meta-data/iam/security-credentials/alpha", {"X-aws-ec2-metadata-token": token}
    )
    document = json.loads(body)
    assert status == 200 and headers["cache-control"] == "no-store"
    assert set(document) == {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey", "Token", "Expiration"}
    assert document["Code"] == "Success" and document["Type"] == "AWS-HMAC"
    for stamp in (document["Expiration"], document["LastUpdated"]):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)  # the form botocore's strptime reads
    assert parse_timestamp(document["Expiration"]) > utc_now() + timedelta(minutes=50)


def test_imdsv1_is_refused_by_default_and_answered_when_asked_for(recorder: Recorder) -> None:
    for allow_v1, expected in ((False, 401), (True, 200)):
        with CredentialsServer({"alpha": _source("ASIAALPHA")}, imds=True, imds_v1=allow_v1) as running:
            endpoint = running.imds_endpoint("alpha")
            assert endpoint is not None
            status, _, _ = _request(endpoint, "GET", "/latest/meta-data/iam/security-credentials/alpha", {})
            assert status == expected
            # botocore with IMDSv2 disabled on its side (what an IMDSv1-only tool does): refused, then allowed.
            fetcher = botocore.utils.InstanceMetadataFetcher(
                timeout=2, num_attempts=1, base_url=endpoint, env={}, config={"ec2_metadata_v1_disabled": False}
            )
            status, _, _ = _request(endpoint, "GET", "/latest/meta-data/iam/security-credentials/", {})
            assert (status == 200) is allow_v1
            assert fetcher.retrieve_iam_role_credentials()  # v2 always works


def test_an_expired_session_token_is_refused(server: CredentialsServer) -> None:
    endpoint = server.imds_endpoint("beta")
    assert endpoint is not None
    token = _token(endpoint, "1")
    time.sleep(1.2)
    status, _, _ = _request(
        endpoint, "GET", "/latest/meta-data/iam/security-credentials/", {"X-aws-ec2-metadata-token": token}
    )
    assert status == 401


#: (name, method, rest of the path, headers, Host ("own" = the face's own), expected status) on the IMDS face.
IMDS_REFUSALS = [
    ("no token (IMDSv1)", "GET", "/latest/meta-data/iam/security-credentials/alpha", {}, "own", 401),
    (
        "wrong token",
        "GET",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}x"},
        "own",
        401,
    ),
    (
        "container token instead",
        "GET",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{server_token}"},
        "own",
        401,
    ),
    (
        "two tokens",
        "GET",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}", "x-aws-ec2-metadata-token": "{token}"},
        "own",
        401,
    ),
    (
        "rebound host",
        "GET",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}"},
        "evil.example:{port}",
        403,
    ),
    (
        "rebound token request",
        "PUT",
        "/latest/api/token",
        {"X-aws-ec2-metadata-token-ttl-seconds": "60"},
        "evil.example:{port}",
        403,
    ),
    (
        "other port",
        "GET",
        "/latest/meta-data/iam/security-credentials/",
        {"X-aws-ec2-metadata-token": "{token}"},
        "127.0.0.1:1",
        403,
    ),
    (
        "missing host",
        "GET",
        "/latest/meta-data/iam/security-credentials/",
        {"X-aws-ec2-metadata-token": "{token}"},
        None,
        403,
    ),
    (
        "proxied token request",
        "PUT",
        "/latest/api/token",
        {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.0.1"},
        "own",
        403,
    ),
    ("ttl zero", "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "0"}, "own", 400),
    ("ttl too long", "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "21601"}, "own", 400),
    ("ttl missing", "PUT", "/latest/api/token", {}, "own", 400),
    ("ttl not a number", "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "1e3"}, "own", 400),
    ("get the token", "GET", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"}, "own", 405),
    (
        "put credentials",
        "PUT",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}"},
        "own",
        405,
    ),
    (
        "other role",
        "GET",
        "/latest/meta-data/iam/security-credentials/beta",
        {"X-aws-ec2-metadata-token": "{token}"},
        "own",
        404,
    ),
    ("other metadata", "GET", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": "{token}"}, "own", 404),
    (
        "no secret prefix",
        "GET",
        "NOPREFIX/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}"},
        "own",
        404,
    ),
    (
        "wrong secret prefix",
        "GET",
        "WRONGPREFIX/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}"},
        "own",
        404,
    ),
    (
        "body on a get",
        "GET",
        "/latest/meta-data/iam/security-credentials/alpha",
        {"X-aws-ec2-metadata-token": "{token}", "Content-Length": "5"},
        "own",
        400,
    ),
]


@pytest.mark.parametrize(
    ("name", "method", "rest", "headers", "host", "status"), IMDS_REFUSALS, ids=[r[0] for r in IMDS_REFUSALS]
)
def test_imds_refusals_leak_nothing(
    server: CredentialsServer,
    recorder: Recorder,
    name: str,
    method: str,
    rest: str,
    headers: dict[str, str],
    host: str | None,
    status: int,
) -> None:
    endpoint = server.imds_endpoint("alpha")
    assert endpoint is not None
    token = _token(endpoint)
    recorder.clear()
    port = urllib.parse.urlsplit(endpoint).port
    filled = {k: v.format(token=token, server_token=server.token) for k, v in headers.items()}
    prefix = None
    if rest.startswith("NOPREFIX"):
        prefix, rest = "", rest.removeprefix("NOPREFIX")
    elif rest.startswith("WRONGPREFIX"):
        prefix, rest = "/" + "A" * 22, rest.removeprefix("WRONGPREFIX")
    got, response_headers, body = _request(
        endpoint, method, rest, filled, host if host in (None, "own") else host.format(port=port), prefix
    )
    assert got == status, body
    assert response_headers["cache-control"] == "no-store"
    assert set(json.loads(body)) == {"Code", "Message"}
    secrets = (SECRET, SESSION_TOKEN, "ASIAALPHA", token, server.token, urllib.parse.urlsplit(endpoint).path.strip("/"))
    for secret in secrets:
        assert secret not in body.decode()
        assert not any(secret in line for line in recorder)
    assert len(recorder) == 1 and str(status) in recorder[0]


def test_the_aws_cli_runs_as_each_profile_with_only_the_imds_endpoint(
    sandbox: Sandbox,  # noqa: F811
    aws_home: AwsHome,
) -> None:
    env = seeded_env(sandbox, aws_home)
    process = subprocess.Popen(
        [sys.executable, "-m", "rolecall", "serve", "readonly", "deploy", "--imds"],
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        endpoints: list[str] = []
        while len(endpoints) < 2:
            line = process.stdout.readline()
            assert line, process.stderr.read()
            if line.startswith("export AWS_EC2_METADATA_SERVICE_ENDPOINT="):
                endpoints.append(re.findall(r"='?([^'\s]+)", line)[0])
        for endpoint, role in zip(endpoints, ("readonly", "deploy"), strict=True):
            client_env = {k: v for k, v in env.items() if not k.startswith("AWS_CONTAINER")}
            client_env.pop("AWS_EC2_METADATA_DISABLED", None)
            client_env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=endpoint, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
            client_env["AWS_CONFIG_FILE"] = os.devnull  # nothing but the IMDS face to find credentials in
            used = subprocess.run(
                [sys.executable, "-m", "awscli", "sts", "get-caller-identity", "--query", "Arn", "--output", "text"],
                env=client_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert used.returncode == 0, used.stderr
            assert f":assumed-role/{role}/" in used.stdout
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert "Traceback" not in process.stderr.read()


def test_concurrent_token_requests_are_bounded() -> None:
    from rolecall.serverimds import MAX_TOKENS, ImdsTokens

    tokens = ImdsTokens()
    issued = []
    workers = [threading.Thread(target=lambda: issued.extend(tokens.issue(600) for _ in range(300))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(issued) == 1200 and len(tokens._expiry) <= MAX_TOKENS
    assert tokens.valid(issued[-1]) and not tokens.valid("forged")
