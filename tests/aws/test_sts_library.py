"""``rolecall.aws`` as a library: settings resolution (botocore as the oracle for endpoints), isolation from
``os.environ``, the per-process client cache, timestamps, proxies and TLS, and error mapping details."""

from __future__ import annotations

import http.server
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from conftest import AwsHome
from rolecall.aws import sts
from rolecall.aws.redaction import redact
from rolecall.aws.settings import StsSettings, resolve_settings
from rolecall.aws.transport import DEFAULT, Transport, botocore_source_credentials
from rolecall.config.parse import ConfigFiles
from rolecall.config.paths import AwsPaths
from rolecall.credentials import Credentials
from rolecall.errors import AwsError, ConfigError, InvalidInputError, NetworkError
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox

__all__ = ["sandbox"]

DUMMY = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY")


def alice(sb: Sandbox) -> Credentials:
    return Credentials(sb.access_key_id, sb.secret_access_key)


def direct(sb: Sandbox, **changes: Any) -> StsSettings:
    return StsSettings(region="us-east-1", endpoint_url=sb.endpoint_url).with_overrides(**changes)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ----------------------------------------------------------------------------------------------------------------
# Settings


def test_region_order_is_flag_then_aws_region_then_default_region_then_profile() -> None:
    profile = {"region": "eu-west-1"}
    env = {"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}
    assert resolve_settings(env, profile, {}, region="ca-central-1").region == "ca-central-1"
    assert resolve_settings(env, profile, {}).region == "us-west-2"
    assert resolve_settings({"AWS_DEFAULT_REGION": "ap-south-1"}, profile, {}).region == "ap-south-1"
    assert resolve_settings({}, profile, {}).region == "eu-west-1"
    assert resolve_settings({}, None, None).region is None


def test_other_settings_from_env_and_profile() -> None:
    profile = {"ca_bundle": "/p/ca.pem", "max_attempts": "7", "retry_mode": "adaptive", "cli_timestamp_format": "none"}
    from_profile = resolve_settings({}, profile, {})
    assert (from_profile.ca_bundle, from_profile.max_attempts, from_profile.retry_mode) == ("/p/ca.pem", 7, "adaptive")
    assert from_profile.raw_timestamps
    env = {"AWS_CA_BUNDLE": "/e/ca.pem", "AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "legacy"}
    from_env = resolve_settings(env, profile, {})
    assert (from_env.ca_bundle, from_env.max_attempts, from_env.retry_mode) == ("/e/ca.pem", 2, "legacy")
    default = resolve_settings({}, {}, {})
    assert (default.timestamp_format, default.sts_regional_endpoints, default.raw_timestamps) == (
        "iso8601",
        "regional",
        False,
    )
    proxied = resolve_settings({"HTTPS_PROXY": "http://p:3128", "no_proxy": "internal"}, {}, {})
    assert (proxied.proxies, proxied.no_proxy) == ({"https": "http://p:3128"}, "internal")


@pytest.mark.parametrize(
    ("env", "profile", "named"),
    [
        ({"AWS_STS_REGIONAL_ENDPOINTS": "bogus"}, {}, "STS regional endpoints option bogus is invalid"),
        ({"AWS_MAX_ATTEMPTS": "three"}, {}, "max_attempts"),
        ({}, {"max_attempts": "0"}, "max_attempts"),
        ({"AWS_RETRY_MODE": "eager"}, {}, "retry_mode"),
        ({}, {"cli_timestamp_format": "epoch"}, "cli_timestamp_format"),
        ({}, {"services": "missing"}, "[services missing]"),
    ],
)
def test_invalid_settings_are_config_errors(env: dict[str, str], profile: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_settings(env, profile, {"services": {}})
    assert named in caught.value.message and caught.value.hint


CONFIG = """\
[default]
{profile_lines}
[services local]
sts =
  endpoint_url = http://services-section.example:4566
"""

# (environment, lines of [default], region given to the client)
ENDPOINT_CASES: list[tuple[dict[str, str], str, str | None]] = [
    ({}, "", "us-west-2"),
    ({}, "", "ap-east-1"),
    ({}, "", None),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "", "us-west-2"),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "", "ap-east-1"),
    ({}, "sts_regional_endpoints = legacy", "eu-west-1"),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "regional"}, "sts_regional_endpoints = legacy", "eu-west-1"),
    ({}, "endpoint_url = http://profile.example:1234", "us-west-2"),
    ({}, "services = local\nendpoint_url = http://profile.example:1234", "us-west-2"),
    ({"AWS_ENDPOINT_URL": "http://global-env.example"}, "services = local", "us-west-2"),
    ({"AWS_ENDPOINT_URL": "http://global-env.example", "AWS_ENDPOINT_URL_STS": "http://sts-env.example"}, "",
     "us-west-2"),
    ({"AWS_ENDPOINT_URL_STS": "http://sts-env.example", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "",
     "us-west-2"),
    ({}, "services = local\nignore_configured_endpoint_urls = true", "us-west-2"),
    ({"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false"}, "ignore_configured_endpoint_urls = true\nservices = local",
     "us-west-2"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "lines", "region"), ENDPOINT_CASES)
def test_endpoint_is_the_one_botocore_picks(
    aws_home: AwsHome, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], lines: str, region: str | None
) -> None:
    aws_home.write_config(CONFIG.format(profile_lines=lines))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The oracle: botocore itself, reading the same files and os.environ.
    oracle = botocore.session.Session()
    expected = oracle.create_client(
        "sts", region_name=region, aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
    ).meta.endpoint_url
    files = ConfigFiles.load(AwsPaths.from_env(dict(aws_home.env, **env)))
    settings = resolve_settings(dict(aws_home.env, **env), files.profile("default"), files.full_config)
    settings = settings.with_overrides(region=region)
    assert DEFAULT.client(settings, DUMMY).meta.endpoint_url == expected


def test_settings_are_hashable_values() -> None:
    one = StsSettings(region="us-east-1", proxies={"https": "http://p:3128"})
    two = StsSettings(region="us-east-1", proxies={"https": "http://p:3128"})
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1
    assert one.with_overrides(region="eu-west-1") != one
    with pytest.raises(AttributeError):
        one.region = "x"  # type: ignore[misc]


def test_explicit_endpoint_beats_everything() -> None:
    env = {"AWS_ENDPOINT_URL_STS": "http://sts-env.example", "AWS_ENDPOINT_URL": "http://env.example"}
    settings = resolve_settings(env, {"endpoint_url": "http://p.example"}, {}, endpoint_url="http://flag.example")
    assert settings.endpoint_url == "http://flag.example"


# ----------------------------------------------------------------------------------------------------------------
# Calls, isolation and caching


def test_os_environ_is_never_consulted(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything botocore would pick up from the environment points somewhere broken.
    for key, value in {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "not-it",
        "AWS_DEFAULT_REGION": "eu-south-1",
        "AWS_REGION": "eu-south-1",
        "AWS_PROFILE": "no-such-profile",
        "AWS_DEFAULT_PROFILE": "no-such-profile",
        "AWS_CONFIG_FILE": "/nonexistent/config",
        "AWS_USE_FIPS_ENDPOINT": "true",
        "AWS_STS_REGIONAL_ENDPOINTS": "bogus",
        "AWS_RETRY_MODE": "bogus",
        "AWS_CA_BUNDLE": "/nonexistent/ca.pem",
        "AWS_MAX_ATTEMPTS": "0",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "no_proxy": "",
    }.items():
        monkeypatch.setenv(key, value)
    sandbox.disable_region("eu-south-1")
    DEFAULT.clear_caches()
    identity = sts.get_caller_identity(direct(sandbox), alice(sandbox))
    assert identity["Arn"] == sandbox.user_arn
    assert "ResponseMetadata" not in identity
    # Without a region in the settings, the global endpoint: AWS_DEFAULT_REGION and FIPS are not read.
    client = DEFAULT.client(StsSettings(), DUMMY)
    assert client.meta.endpoint_url == "https://sts.amazonaws.com"


def test_clients_and_the_model_are_loaded_once_per_process(sandbox: Sandbox) -> None:
    transport = Transport()  # its own caches, passed to every call
    settings = direct(sandbox)
    first = transport.client(settings, alice(sandbox))
    loader = transport.loader
    assert transport.client(direct(sandbox), alice(sandbox)) is first  # equal settings: the same client
    other = transport.client(settings.with_overrides(region="eu-west-1"), alice(sandbox))
    raw = transport.client(settings.with_overrides(timestamp_format="none"), alice(sandbox))
    assert other is not first and raw is not first
    assert transport.loader is loader and len(transport.sessions) == 2  # one shared loader; sessions per timestamp mode
    started = time.perf_counter()
    for _ in range(20):
        sts.get_caller_identity(settings, alice(sandbox), transport=transport)
    # Twenty calls through the cached client: no per-call client creation (which costs tens of ms each).
    assert time.perf_counter() - started < 20 * 0.25
    transport.clear_caches()
    assert not transport.clients and not transport.sessions


def test_concurrent_calls_share_one_client(sandbox: Sandbox) -> None:
    """A credentials server calls STS from many threads: one client, every call answered."""
    from concurrent.futures import ThreadPoolExecutor

    transport = Transport()
    settings, creds = direct(sandbox), alice(sandbox)
    with ThreadPoolExecutor(max_workers=8) as pool:
        arns = list(pool.map(lambda _: sts.get_caller_identity(settings, creds, transport=transport)["Arn"], range(24)))
    assert arns == [sandbox.user_arn] * 24
    assert len(transport.clients) == 1 and len(transport.sessions) == 1
    assert sandbox.calls("GetCallerIdentity") == 24


def test_timestamps_as_datetimes_or_as_sent(sandbox: Sandbox) -> None:
    parsed = sts.get_session_token(direct(sandbox), alice(sandbox))["Credentials"]["Expiration"]
    wire = sts.get_session_token(direct(sandbox, timestamp_format="none"), alice(sandbox))
    assert parsed.tzinfo is not None
    assert isinstance(wire["Credentials"]["Expiration"], str) and wire["Credentials"]["Expiration"].endswith("Z")
    creds = sts.credentials_from_response(wire)
    assert creds.expiration is not None and abs((creds.expiration - parsed).total_seconds()) < 60
    assert creds.account_id is None  # GetSessionToken has no AssumedRoleUser


def test_credentials_from_assume_role_carry_the_account(sandbox: Sandbox) -> None:
    response = sts.assume_role(
        direct(sandbox), alice(sandbox), RoleArn=sandbox.role_arn("readonly"), RoleSessionName="lib"
    )
    creds = sts.credentials_from_response(response)
    assert creds.account_id == sandbox.account_id and creds.session_token and creds.is_temporary
    as_role = sts.get_caller_identity(direct(sandbox), creds)
    assert as_role["Arn"].endswith(":assumed-role/readonly/lib")
    with pytest.raises(AwsError, match="without usable credentials"):
        sts.credentials_from_response({"AssumedRoleUser": {}})


def test_web_identity_is_unsigned_and_validated(sandbox: Sandbox) -> None:
    from botocore import UNSIGNED

    assert DEFAULT.client(direct(sandbox), None, signed=False).meta.config.signature_version is UNSIGNED
    response = sts.assume_role_with_web_identity(
        direct(sandbox), RoleArn=sandbox.role_arn("readonly"), RoleSessionName="ci", WebIdentityToken="header.body.sig"
    )
    assert response["AssumedRoleUser"]["Arn"].endswith("/readonly/ci")
    with pytest.raises(InvalidInputError):
        sts.assume_role_with_web_identity(direct(sandbox), RoleArn=sandbox.role_arn("readonly"), RoleSessionName="ci")


def test_no_credentials_is_a_config_error_and_nothing_is_sent(sandbox: Sandbox) -> None:
    with pytest.raises(ConfigError, match="no credentials"):
        sts.get_caller_identity(direct(sandbox), None)
    assert sandbox.calls() == 0


def test_throttling_reports_the_attempts(sandbox: Sandbox) -> None:
    sandbox.inject_fault("GetCallerIdentity", "throttle", times=10)
    with pytest.raises(AwsError) as caught:
        sts.get_caller_identity(direct(sandbox, max_attempts=2, retry_mode="standard"), alice(sandbox))
    assert caught.value.code == "Throttling" and "after 2 attempts" in caught.value.message
    assert sandbox.calls("GetCallerIdentity") == 2


def test_unreachable_endpoint_is_a_network_error() -> None:
    settings = StsSettings(region="us-east-1", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1)
    with pytest.raises(NetworkError) as caught:
        sts.get_caller_identity(settings, DUMMY)
    assert "could not reach" in caught.value.message and "endpoint_url" in (caught.value.hint or "")


def test_proxy_failure_hides_proxy_passwords_and_no_proxy_bypasses(sandbox: Sandbox) -> None:
    proxy = f"http://user:hunter2@127.0.0.1:{free_port()}"
    settings = direct(sandbox, proxies={"http": proxy}, max_attempts=1)
    with pytest.raises(NetworkError) as caught:
        sts.get_caller_identity(settings, alice(sandbox))
    assert "proxy" in caught.value.message and "hunter2" not in caught.value.message
    assert "NO_PROXY" in (caught.value.hint or "")
    bypassed = settings.with_overrides(no_proxy="localhost,127.0.0.1")
    assert sts.get_caller_identity(bypassed, alice(sandbox))["Arn"] == sandbox.user_arn


def test_token_code_and_secrets_are_redacted_from_aws_messages() -> None:
    params = {"TokenCode": "123456"}
    message = "Value '123456' at 'tokenCode' failed; account 1234567890 secret wJalrXUtnFEMI/K7MDENG"
    redacted = redact(message, params, Credentials("AKID", "wJalrXUtnFEMI/K7MDENG"))
    assert "123456'" not in redacted and "wJalrXUtnFEMI" not in redacted
    assert "1234567890" in redacted  # a longer number that merely contains the digits is left alone


# ----------------------------------------------------------------------------------------------------------------
# TLS: a real HTTPS front (self-signed certificate) forwarding to the sandbox


@pytest.fixture
def https_front(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    target = sandbox.endpoint_url

    class Forward(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            # Signatures cover the Host header: keep the client's, while sending to the sandbox.
            request = urllib.request.Request(target + self.path, data=body, headers=headers, method="POST")
            request.add_header("Host", self.headers["Host"])
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as answer:
                    status, data, kind = answer.status, answer.read(), answer.headers.get("Content-Type", "text/xml")
            except urllib.error.HTTPError as error:
                status, data, kind = error.code, error.read(), error.headers.get("Content-Type", "text/xml")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_tls_failure_points_at_the_ca_bundle(sandbox: Sandbox, https_front: tuple[str, Path]) -> None:
    url, cert = https_front
    settings = StsSettings(region="us-east-1", endpoint_url=url, max_attempts=1)
    with pytest.raises(NetworkError) as caught:
        sts.get_caller_identity(settings, alice(sandbox))
    assert "TLS" in caught.value.message and "AWS_CA_BUNDLE" in (caught.value.hint or "")
    trusted = settings.with_overrides(ca_bundle=str(cert))
    assert sts.get_caller_identity(trusted, alice(sandbox))["Arn"] == sandbox.user_arn
    from_env = resolve_settings({"AWS_CA_BUNDLE": str(cert)}, {}, {}, region="us-east-1", endpoint_url=url)
    assert sts.get_caller_identity(from_env, alice(sandbox))["Account"] == sandbox.account_id


# ----------------------------------------------------------------------------------------------------------------
# Sources left to botocore


@pytest.fixture
def container_endpoint() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A container credentials endpoint (as ECS serves it) on 127.0.0.1; records the requests' headers."""
    seen: list[dict[str, str]] = []

    class Endpoint(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            body = (
                b'{"AccessKeyId": "ASIACONTAINER0000001", "SecretAccessKey": "container-secret", '
                b'"Token": "container-token", "Expiration": "2099-01-01T00:00:00Z"}'
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/creds", seen
    server.shutdown()
    server.server_close()


def test_container_credentials_come_from_the_given_env_only(
    aws_home: AwsHome, container_endpoint: tuple[str, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = container_endpoint
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/elsewhere")
    env = {**aws_home.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI": url, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "tok-1"}
    creds = botocore_source_credentials("container-role", "default", env)
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token) == (
        "ASIACONTAINER0000001",
        "container-secret",
        "container-token",
    )
    assert creds.expiration is not None and creds.expiration.year == 2099
    assert seen and seen[0].get("authorization") == "tok-1"


def test_botocore_sources_without_credentials_explain_what_to_do(aws_home: AwsHome) -> None:
    with pytest.raises(ConfigError, match="gave no credentials"):
        botocore_source_credentials("container-role", "default", aws_home.env)  # no AWS_CONTAINER_* at all
    with pytest.raises(ConfigError, match="gave no credentials"):
        botocore_source_credentials("iam-role", "default", {**aws_home.env, "AWS_EC2_METADATA_DISABLED": "true"})
    with pytest.raises(NetworkError):
        botocore_source_credentials(
            "container-role",
            "default",
            {**aws_home.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{free_port()}/x"},
        )
    with pytest.raises(ConfigError, match="unknown botocore credential source"):
        botocore_source_credentials("telepathy", "default", aws_home.env)
