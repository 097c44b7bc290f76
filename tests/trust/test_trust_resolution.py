"""Issue 15, items 17-20 (resolution and configure): rolecall answers as botocore does, with botocore as the oracle.

* 17: expired credentials are never delivered, from any source: a ``credential_process`` is run once more and then
  refused (botocore's "refreshed credentials are still expired"), and STS (AssumeRole, AssumeRoleWithWebIdentity,
  GetSessionToken), the IAM Identity Center portal and the container endpoint answering with expired credentials
  (a skewed clock, a misbehaving endpoint: here a hostile HTTP server on 127.0.0.1) are refused, nothing cached.
* 18: ``AWS_ROLE_ARN`` + ``AWS_WEB_IDENTITY_TOKEN_FILE`` with no ``[default]`` (or no config file at all: EKS IRSA,
  CI OIDC) is web identity, before the container endpoint; the environment wins over the profile per key.
* 19: a source profile with ``role_arn`` and ``web_identity_token_file`` is a web identity source.
* 20: ``configure set/get --sso-session NAME / --services NAME`` (the AWS CLI v2's sub-sections), and
  ``configure list`` showing the instance's region from a (fake, IMDSv2) metadata service when IMDS use is enabled.

Each case runs the real sandbox STS or a local server, and botocore's own resolver on the same files and environment.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import botocore.exceptions
import botocore.session
import botocore.utils
import pytest
from botocore.configloader import load_config

from conftest import AwsHome, run_rolecall
from rolecall.cli.context import Context
from rolecall.cli.main import main
from rolecall.config.parse import ConfigFiles
from rolecall.errors import ConfigError, ProfileNotFoundError
from rolecall.overview import chain_text
from rolecall.resolve import get_credentials, make_runtime, resolve_chain
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

PAST = "2020-01-01T00:00:00Z"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl"


# ---------------------------------------------------------------------------------------------------------------
# Helpers: a local HTTP server, botocore as the oracle


Reply = tuple[int, dict[str, str], bytes]


@contextmanager
def local_server(answer: Callable[[str, str, dict[str, str], bytes], Reply]) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 answering with ``answer(method, path, headers, body)``; yields its URL and the
    list of ``METHOD path`` it was asked, in order."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen.append(f"{self.command} {self.path}")
            status, headers, payload = answer(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                              body)  # fmt: skip
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_PUT = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _sts_xml(action: str, expiration: str) -> bytes:
    user = (
        "<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId>"
        "<Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn></AssumedRoleUser>"
        if action != "GetSessionToken"
        else ""
    )
    return (
        f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>'
        "<Credentials><AccessKeyId>ASIAEXPIREDEXAMPLE01</AccessKeyId>"
        "<SecretAccessKey>expiredSecretExample0000000000000000000</SecretAccessKey>"
        f"<SessionToken>expiredSessionTokenExample</SessionToken><Expiration>{expiration}</Expiration></Credentials>"
        f"{user}</{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


def expired_sts(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
    """STS whose every session has expired already (a clock hours ahead of it looks the same)."""
    action = parse_qs(body.decode()).get("Action", [""])[0]
    return 200, {"Content-Type": "text/xml"}, _sts_xml(action, PAST)


@contextmanager
def botocore_env(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` set to ``env`` while botocore resolves (its providers read ``os.environ`` themselves)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


#: botocore's default chain in a fresh process, with the AWS CLI's file cache plugged in as the AWS CLI plugs it
#: (awscli/customizations/assumerole.py): prints [method, access key].
_BOTOCORE_CREDENTIALS = """
import json, os, sys
import botocore.session
from botocore.credentials import JSONFileCache

session = botocore.session.Session(profile=sys.argv[1] or None)
resolver = session.get_component("credential_provider")
cache = JSONFileCache(os.path.join(os.environ["HOME"], ".aws", "cli", "cache"))
for method in ("assume-role", "assume-role-with-web-identity"):
    resolver.get_provider(method).cache = cache
found = session.get_credentials()
print(json.dumps([found.method, found.get_frozen_credentials().access_key] if found else None))
"""


def botocore_credentials(env: dict[str, str], profile: str | None = None) -> tuple[str, str]:
    """(method, access key) of botocore's default chain for ``env`` (and an explicit ``profile``), with the AWS
    CLI's file cache plugged in, so an entry rolecall wrote under the same key is what botocore returns, without
    a call. In a fresh process: botocore and moto keep process-wide state (the sandbox runs moto in this one)
    that made the in-process answer depend on which tests ran before."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _BOTOCORE_CREDENTIALS, profile or ""], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert found is not None, "botocore found no credentials"
    return found[0], found[1]


def botocore_error(env: dict[str, str], profile: str | None = None) -> BaseException:
    """The error botocore's default chain raises for ``env`` (it must raise one)."""
    with botocore_env(env):
        try:
            found = botocore.session.Session(profile=profile).get_credentials()
            if found is not None:
                found.get_frozen_credentials()
        except Exception as error:
            return error
    raise AssertionError("botocore resolved credentials")


#: botocore's default chain in a fresh process: prints [is a RuntimeError, message] of the error it raises.
_BOTOCORE_ERROR = """
import json, sys
import botocore.session
try:
    found = botocore.session.Session(profile=sys.argv[1]).get_credentials()
    if found is not None:
        found.get_frozen_credentials()
except Exception as error:
    print(json.dumps([isinstance(error, RuntimeError), str(error)]))
"""


def botocore_error_in_a_new_process(env: dict[str, str], profile: str) -> tuple[bool, str]:
    """(is a RuntimeError, message) of the error botocore's default chain raises for ``env``, in a new process:
    botocore fixes its SSO token folder from HOME when it is imported, so only a fresh import sees this test's."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", _BOTOCORE_ERROR, profile], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout, f"botocore resolved credentials or crashed: {done.stderr}"
    is_runtime_error, message = json.loads(done.stdout)
    return bool(is_runtime_error), str(message)


def _web_role(sb: Sandbox, name: str = "web") -> str:
    sb.create_role(
        name,
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Federated": "token.actions.githubusercontent.com"},
                 "Action": "sts:AssumeRoleWithWebIdentity"}
            ],
        },
    )  # fmt: skip
    return sb.role_arn(name)


def _assumed_arn(env: dict[str, str], profile: str | None) -> str:
    """The assumed-role ARN in the AWS CLI cache entry of ``profile``'s top-level provider (rolecall wrote it)."""
    provider = resolve_chain(profile, make_runtime(env)).provider
    entry = Path(env["HOME"], ".aws", "cli", "cache", provider.cache_key() + ".json")  # type: ignore[attr-defined]
    return str(json.loads(entry.read_text())["AssumedRoleUser"]["Arn"])


def _one_line(stderr: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith("rolecall: ") and "(hint: " in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr


# ---------------------------------------------------------------------------------------------------------------
# 18: web identity from the environment with no [default] or no config file at all


@pytest.mark.parametrize("files", ["none", "no default"])
def test_environment_web_identity_without_a_default_profile(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path, files: str  # noqa: F811
) -> None:
    role = _web_role(sandbox)
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    if files == "no default":
        aws_home.write_config("[profile other]\nregion = eu-west-1\n")
    env = dict(aws_home.env)
    env.update(
        AWS_ROLE_ARN=role,
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
        AWS_ROLE_SESSION_NAME="ci-run-42",
        AWS_ENDPOINT_URL_STS=sandbox.endpoint_url,
        AWS_REGION="us-east-1",
        # The container endpoint comes after web identity in botocore's chain: this one would fail if asked.
        AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:9/creds",
    )
    result = run_rolecall(["env", "--format", "json"], env)
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)["AccessKeyId"]
    assert sandbox.calls("AssumeRoleWithWebIdentity") == 1
    assert _assumed_arn(env, None).endswith(":assumed-role/web/ci-run-42")
    # botocore, reading the AWS CLI cache as the AWS CLI does, finds the entry rolecall wrote under the key it
    # computes itself: same source, same role, same session name, no second call.
    assert botocore_credentials(env) == ("assume-role-with-web-identity", exported)
    assert sandbox.calls("AssumeRoleWithWebIdentity") == 1


def test_environment_beats_the_profile_for_each_web_identity_setting(
    sandbox: Sandbox, aws_home: AwsHome, tmp_path: Path  # noqa: F811
) -> None:
    profile_role, env_role = _web_role(sandbox, "web-profile"), _web_role(sandbox, "web-env")
    token = tmp_path / "token"
    token.write_text(TOKEN)
    aws_home.write_config(
        f"[default]\nrole_arn = {profile_role}\nweb_identity_token_file = {token}\nrole_session_name = from-profile\n"
        "region = us-east-1\n"
    )
    env = dict(aws_home.env, AWS_ROLE_ARN=env_role, AWS_ROLE_SESSION_NAME="from-env",
               AWS_ENDPOINT_URL_STS=sandbox.endpoint_url)  # fmt: skip
    # Not named: the environment's role and session name win (botocore's _get_config reads the env first).
    implicit = get_credentials(None, env=env)
    assert _assumed_arn(env, None).endswith(":assumed-role/web-env/from-env")
    # Named explicitly: the environment does not count.
    explicit = get_credentials("default", env=env)
    assert _assumed_arn(env, "default").endswith(":assumed-role/web-profile/from-profile")
    assert sandbox.calls("AssumeRoleWithWebIdentity") == 2
    # botocore reuses exactly these two entries: it asks for the same role and session name in each case.
    assert botocore_credentials(env) == ("assume-role-with-web-identity", implicit.access_key_id)
    assert botocore_credentials(env, "default") == ("assume-role-with-web-identity", explicit.access_key_id)
    assert sandbox.calls("AssumeRoleWithWebIdentity") == 2


def test_a_profile_named_by_aws_profile_must_exist_even_default(aws_home: AwsHome, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    env = dict(aws_home.env, AWS_PROFILE="default", AWS_ROLE_ARN="arn:aws:iam::123456789012:role/web",
               AWS_WEB_IDENTITY_TOKEN_FILE=str(token))  # fmt: skip
    assert isinstance(botocore_error(env), botocore.exceptions.ProfileNotFound)
    with pytest.raises(ProfileNotFoundError):
        get_credentials(None, env=env)


def test_an_empty_aws_role_arn_hides_the_profile_role_as_in_botocore(aws_home: AwsHome, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    # An empty AWS_ROLE_ARN still counts as set (botocore checks `in os.environ`) and hides the profile's.
    aws_home.write_config(f"[default]\nrole_arn = arn:aws:iam::123456789012:role/web\n"
                          f"web_identity_token_file = {token}\n")  # fmt: skip
    env = dict(aws_home.env, AWS_ROLE_ARN="")
    assert isinstance(botocore_error(env), botocore.exceptions.InvalidConfigError)
    with pytest.raises(ConfigError, match="no role ARN"):
        get_credentials(None, env=env)


# ---------------------------------------------------------------------------------------------------------------
# 19: a source profile with role_arn and web_identity_token_file


class RecordingSts:
    """A local STS that issues distinct, valid credentials per call and records (action, signing key, RoleArn):
    which call was made with whose credentials (the sandbox's moto does not authenticate web identity sessions)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, str]] = []
        self.issued = 0

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        form = parse_qs(body.decode())
        action = form.get("Action", [""])[0]
        auth = headers.get("authorization", "")
        signer = auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else None
        self.calls.append((action, signer, form.get("RoleArn", [""])[0]))
        self.issued += 1
        expiry = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body_xml = _sts_xml(action, expiry).replace(b"ASIAEXPIREDEXAMPLE01", f"ASIA{self.issued:016d}".encode())
        return 200, {"Content-Type": "text/xml"}, body_xml


def _web_source_config(url: str, token: Path) -> str:
    return (
        f"[profile web-src]\nrole_arn = arn:aws:iam::123456789012:role/web\nweb_identity_token_file = {token}\n"
        "role_session_name = ci\n"
        "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = web-src\n"
        f"role_session_name = top\nendpoint_url = {url}\nregion = us-east-1\n"
    )


def test_a_web_identity_source_profile_is_assumed_with_web_identity_then_the_role(
    aws_home: AwsHome, tmp_path: Path
) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    recorder = RecordingSts()
    with local_server(recorder) as (url, _seen):
        aws_home.write_config(_web_source_config(url, token))
        env = dict(aws_home.env, AWS_ENDPOINT_URL_STS=url)
        credentials = get_credentials("top", env=env)
        web = ("AssumeRoleWithWebIdentity", None, "arn:aws:iam::123456789012:role/web")
        role = ("AssumeRole", "ASIA0000000000000001", "arn:aws:iam::123456789012:role/readonly")
        assert recorder.calls == [web, role]  # the role is assumed with the web identity session's key
        chain = resolve_chain("top", make_runtime(env))
        assert chain.provider.source.method == "assume-role-with-web-identity"  # type: ignore[attr-defined]
        assert chain.provider.source_is_temporary()  # type: ignore[attr-defined]  # role chaining: 1 h cap
        assert chain_text(ConfigFiles.load(make_runtime(env).paths), "top") == "top -> web-src -> web identity"
        # botocore makes the same two calls, in the same order, with the same keys (no cache for it here).
        recorder.calls.clear()
        with botocore_env(env):
            found = botocore.session.Session(profile="top").get_credentials()
            assert found.method == "assume-role" and found.get_frozen_credentials().access_key
        assert [(a, r) for a, _s, r in recorder.calls] == [(web[0], web[2]), (role[0], role[2])]
        assert recorder.calls[1][1] == "ASIA0000000000000003"  # signed with its own web identity session
        assert credentials.access_key_id == "ASIA0000000000000002"


def test_web_identity_source_ends_what_looks_like_a_loop(aws_home: AwsHome, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    recorder = RecordingSts()
    with local_server(recorder) as (url, _seen):
        # `a` names `b` as its source, but `a` has a token file: botocore never follows a's source_profile.
        aws_home.write_config(
            f"[profile a]\nrole_arn = arn:aws:iam::123456789012:role/web\nweb_identity_token_file = {token}\n"
            "source_profile = b\n"
            "[profile b]\nrole_arn = arn:aws:iam::123456789012:role/readonly\nsource_profile = a\n"
            f"endpoint_url = {url}\nregion = us-east-1\n"
        )
        env = dict(aws_home.env, AWS_ENDPOINT_URL_STS=url)
        with botocore_env(env):
            assert botocore.session.Session(profile="b").get_credentials().get_frozen_credentials().access_key
        assert [a for a, _s, _r in recorder.calls] == ["AssumeRoleWithWebIdentity", "AssumeRole"]
        recorder.calls.clear()
        get_credentials("b", env=env)
        assert [a for a, _s, _r in recorder.calls] == ["AssumeRoleWithWebIdentity", "AssumeRole"]
        assert chain_text(ConfigFiles.load(make_runtime(env).paths), "b") == "b -> a -> web identity"


# ---------------------------------------------------------------------------------------------------------------
# 17: expired credentials, from every source


def _process_script(tmp_path: Path, expirations: list[str]) -> tuple[Path, Path]:
    """A credential_process printing the n-th expiration of ``expirations`` on its n-th run (the last one after);
    returns (script, the file counting its runs)."""
    count = tmp_path / "runs"
    script = tmp_path / "helper.py"
    script.write_text(
        "import json, pathlib, sys\n"
        f"count = pathlib.Path({str(count)!r})\n"
        "n = int(count.read_text()) if count.exists() else 0\n"
        "count.write_text(str(n + 1))\n"
        f"expirations = {expirations!r}\n"
        "print(json.dumps({'Version': 1, 'AccessKeyId': 'ASIAPROCESSEXAMPLE%d' % n,\n"
        "                  'SecretAccessKey': 'secretExample0000000000000000000000000000', 'SessionToken': 'tok',\n"
        "                  'Expiration': expirations[min(n, len(expirations) - 1)]}))\n"
    )
    return script, count


def test_a_process_giving_expired_credentials_twice_is_refused_like_botocore(
    aws_home: AwsHome, tmp_path: Path
) -> None:
    script, count = _process_script(tmp_path, [PAST])
    aws_home.write_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    result = run_rolecall(["env", "proc"], aws_home.env)
    assert result.returncode == 3 and result.stdout == "", result.stderr
    _one_line(result.stderr)
    assert "expired" in result.stderr and "twice" in result.stderr and "2020-01-01 00:00:00 UTC" in result.stderr
    assert count.read_text() == "2"  # run once more, then refused
    # botocore: the same two runs, then "refreshed credentials are still expired".
    count.unlink()
    error = botocore_error(aws_home.env, "proc")
    assert isinstance(error, RuntimeError) and "still expired" in str(error)
    assert count.read_text() == "2"


def test_a_process_that_renews_on_the_second_run_is_used(aws_home: AwsHome, tmp_path: Path) -> None:
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    script, count = _process_script(tmp_path, [PAST, future])
    aws_home.write_config(f"[profile proc]\ncredential_process = {sys.executable} {script}\n")
    result = run_rolecall(["env", "proc", "--format", "json"], aws_home.env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["AccessKeyId"] == "ASIAPROCESSEXAMPLE1"
    assert count.read_text() == "2"
    count.unlink()
    assert botocore_credentials(aws_home.env, "proc") == ("custom-process", "ASIAPROCESSEXAMPLE1")


def test_expired_role_credentials_from_sts_are_refused_and_not_cached(aws_home: AwsHome, tmp_path: Path) -> None:
    with local_server(expired_sts) as (url, seen):
        aws_home.write_credentials(
            "[base]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\n"
            "aws_secret_access_key = secretExample0000000000000000000000000000\n"
        )
        aws_home.write_config(
            f"[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
            f"role_session_name = session\nendpoint_url = {url}\nregion = us-east-1\n"
        )
        result = run_rolecall(["env", "role"], aws_home.env)
        assert result.returncode == 4 and result.stdout == "", result.stderr
        _one_line(result.stderr)
        assert 'STS (AssumeRole for profile "role") returned credentials that had already expired' in result.stderr
        assert "expiredSecret" not in result.stderr and "expiredSessionToken" not in result.stderr
        assert not any((aws_home.root / ".aws" / "cli" / "cache").glob("*.json"))
        assert len(seen) == 1
        error = botocore_error(aws_home.env, "role")
        assert isinstance(error, RuntimeError) and "still expired" in str(error)


def test_expired_web_identity_credentials_are_refused(aws_home: AwsHome, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    with local_server(expired_sts) as (url, _seen):
        env = dict(aws_home.env, AWS_ROLE_ARN="arn:aws:iam::123456789012:role/web",
                   AWS_WEB_IDENTITY_TOKEN_FILE=str(token), AWS_ENDPOINT_URL_STS=url,
                   AWS_REGION="us-east-1")  # fmt: skip
        result = run_rolecall(["env"], env)
        assert result.returncode == 4 and result.stdout == "", result.stderr
        _one_line(result.stderr)
        assert "AssumeRoleWithWebIdentity" in result.stderr and "already expired" in result.stderr
        error = botocore_error(env)
        assert isinstance(error, RuntimeError) and "still expired" in str(error)


def test_an_expired_mfa_session_is_refused(aws_home: AwsHome) -> None:
    with local_server(expired_sts) as (url, seen):
        aws_home.write_credentials(
            "[base]\naws_access_key_id = AKIAEXAMPLEEXAMPLE12\n"
            "aws_secret_access_key = secretExample0000000000000000000000000000\n"
        )
        aws_home.write_config(
            f"[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\n"
            f"mfa_serial = arn:aws:iam::123456789012:mfa/alice\nmfa_strategy = reuse\n"
            f"endpoint_url = {url}\nregion = us-east-1\n"
        )
        result = run_rolecall(["env", "role", "--token-code", "123456"], aws_home.env)
        assert result.returncode == 4 and result.stdout == "", result.stderr
        assert "GetSessionToken" in result.stderr and "already expired" in result.stderr
        assert seen == ["POST /"]  # the role was never assumed with it
        assert not any((aws_home.root / ".aws" / "rolecall" / "sessions").glob("*.json"))


def test_expired_sso_role_credentials_are_refused(aws_home: AwsHome) -> None:
    def portal(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        assert path.startswith("/federation/credentials") and headers.get("x-amz-sso_bearer_token") == "access"
        block = {"accessKeyId": "ASIASSOEXAMPLE000001", "secretAccessKey": "ssoSecretExample000000000000000000000",
                 "sessionToken": "ssoToken", "expiration": 1577836800000}  # fmt: skip
        return 200, {"Content-Type": "application/json"}, json.dumps({"roleCredentials": block}).encode()

    cache = aws_home.root / ".aws" / "sso" / "cache"
    cache.mkdir(parents=True)
    (cache / (hashlib.sha1(b"corp").hexdigest() + ".json")).write_text(json.dumps({
        "startUrl": "https://d-123.awsapps.com/start", "region": "us-east-1", "accessToken": "access",
        "expiresAt": (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }))  # fmt: skip
    with local_server(portal) as (url, seen):
        aws_home.write_config(
            "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\n"
            "region = us-east-1\n[sso-session corp]\nsso_start_url = https://d-123.awsapps.com/start\n"
            "sso_region = us-east-1\n"
        )
        env = dict(aws_home.env, AWS_ENDPOINT_URL_SSO=url)
        result = run_rolecall(["env", "dev"], env)
        assert result.returncode == 4 and result.stdout == "", result.stderr
        _one_line(result.stderr)
        assert "IAM Identity Center" in result.stderr and "already expired" in result.stderr
        assert not any((aws_home.root / ".aws" / "cli" / "cache").glob("*.json"))
        is_runtime_error, message = botocore_error_in_a_new_process(env, "dev")
        assert is_runtime_error and "still expired" in message
        assert seen


def test_expired_container_credentials_are_refused(aws_home: AwsHome) -> None:
    def container(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        block = {"AccessKeyId": "ASIACONTAINEREXAMPLE", "SecretAccessKey": "containerSecret0000000000000000000000",
                 "Token": "containerToken", "Expiration": PAST}  # fmt: skip
        return 200, {"Content-Type": "application/json"}, json.dumps(block).encode()

    with local_server(container) as (url, _seen):
        env = dict(aws_home.env, AWS_CONTAINER_CREDENTIALS_FULL_URI=url + "/creds")
        result = run_rolecall(["env"], env)
        assert result.returncode == 4 and result.stdout == "", result.stderr
        _one_line(result.stderr)
        assert "container credentials endpoint" in result.stderr and "already expired" in result.stderr
        assert "containerSecret" not in result.stderr
        error = botocore_error(env)
        assert isinstance(error, RuntimeError) and "still expired" in str(error)


# ---------------------------------------------------------------------------------------------------------------
# 20: configure set/get --sso-session / --services, configure list with the IMDS region


def rc(aws_home: AwsHome, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    ctx = Context(stdin=io.StringIO(), stdout=out, stderr=err, env=dict(aws_home.env) | (env or {}))
    code = main(list(args), ctx)
    return code, out.getvalue(), err.getvalue()


def test_configure_set_and_get_in_sub_sections_as_the_cli_v2(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\nregion = us-east-1\n")
    # The AWS CLI v2's own test cases (tests/unit/customizations/configure/test_set.py and test_get.py).
    assert rc(aws_home, "configure", "set", "sso_region", "us-west-2", "--sso-session", "my-session")[0] == 0
    assert rc(aws_home, "configure", "set", "--services", "my-services", "s3.endpoint_url",
              "http://localhost:4566")[0] == 0  # fmt: skip
    # --profile does not matter with a sub-section (v2 ignores it), and a second key joins the section.
    assert rc(aws_home, "configure", "set", "sso_start_url", "https://example.awsapps.com/start",
              "--sso-session", "my-session", "--profile", "dev")[0] == 0  # fmt: skip
    assert aws_home.config.read_text() == (
        "[default]\nregion = us-east-1\n"
        "[sso-session my-session]\nsso_region = us-west-2\nsso_start_url = https://example.awsapps.com/start\n"
        "[services my-services]\ns3 =\n    endpoint_url = http://localhost:4566\n"
    )
    config = load_config(str(aws_home.config))
    assert config["sso_sessions"]["my-session"] == {
        "sso_region": "us-west-2", "sso_start_url": "https://example.awsapps.com/start"}  # fmt: skip
    assert config["services"]["my-services"] == {"s3": {"endpoint_url": "http://localhost:4566"}}
    assert "dev" not in config["profiles"]
    assert rc(aws_home, "configure", "get", "--sso-session", "my-session", "sso_region") == (0, "us-west-2\n", "")
    assert rc(aws_home, "configure", "get", "--services", "my-services", "s3.endpoint_url") == (
        0, "http://localhost:4566\n", "")  # fmt: skip
    assert rc(aws_home, "configure", "get", "--sso-session", "my-session", "non_existent_property") == (1, "", "")
    code, out, err = rc(aws_home, "configure", "get", "--sso-session", "nope", "sso_region")
    assert code == 3 and out == "" and "[sso-session nope] could not be found" in err
    # One sub-section at a time; names as v2 accepts them; no keys in a sub-section; KEY.SUB at most.
    assert rc(aws_home, "configure", "get", "--sso-session", "a", "--services", "b", "x")[0] == 2
    assert rc(aws_home, "configure", "set", "x", "y", "--sso-session", "!bad")[0] == 8
    assert rc(aws_home, "configure", "set", "aws_secret_access_key", "s3cr3t", "--sso-session", "a")[0] == 8
    assert rc(aws_home, "configure", "set", "a.b.c", "y", "--services", "s")[0] == 8
    assert "s3cr3t" not in aws_home.config.read_text()


def test_the_real_cli_takes_the_sub_section_options(aws_home: AwsHome) -> None:
    result = run_rolecall(["configure", "set", "--services", "local", "sts.endpoint_url", "http://127.0.0.1:1"],
                          aws_home.env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    result = run_rolecall(["configure", "get", "sts.endpoint_url", "--services", "local"], aws_home.env)
    assert (result.returncode, result.stdout) == (0, "http://127.0.0.1:1\n")


@contextmanager
def fake_imds(zone: str) -> Iterator[tuple[str, list[str]]]:
    """An IMDSv2 metadata service: a token from PUT /latest/api/token, required on every GET."""

    def answer(method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if method == "PUT" and path == "/latest/api/token":
            assert headers.get("x-aws-ec2-metadata-token-ttl-seconds")
            return 200, {}, b"imds-token"
        if headers.get("x-aws-ec2-metadata-token") != "imds-token":
            return 401, {}, b""
        if path == "/latest/meta-data/placement/availability-zone/":
            return 200, {}, zone.encode()
        return 404, {}, b""

    with local_server(answer) as served:
        yield served


def test_configure_list_shows_the_region_of_the_instance_when_imds_is_enabled(aws_home: AwsHome) -> None:
    aws_home.write_config("[default]\noutput = json\n")
    with fake_imds("eu-central-1b") as (url, seen):
        env = dict(aws_home.env, AWS_EC2_METADATA_DISABLED="false", AWS_EC2_METADATA_SERVICE_ENDPOINT=url + "/")
        # Not enabled for rolecall: nothing asked.
        code, out, _err = rc(aws_home, "configure", "list", env=env)
        assert code == 0 and "<not set>" in out.splitlines()[-1] and seen == []
        code, out, _err = rc(aws_home, "configure", "list", env=env | {"ROLECALL_USE_IMDS": "1"})
        assert code == 0
        region_row = next(line for line in out.splitlines() if line.startswith("region "))
        assert [part.strip() for part in region_row.split(":")] == ["region", "eu-central-1", "imds", ""]
        # The oracle: botocore's own IMDS region provider, same environment.
        with botocore_env(env):
            oracle = botocore.utils.IMDSRegionProvider(botocore.session.Session(), environ=env)
            assert oracle.provide() == "eu-central-1"
        # AWS_EC2_METADATA_DISABLED turns IMDS off again.
        seen.clear()
        code, out, _err = rc(aws_home, "configure", "list", env=env | {"ROLECALL_USE_IMDS": "1",
                                                                       "AWS_EC2_METADATA_DISABLED": "true"})
        assert "<not set>" in next(line for line in out.splitlines() if line.startswith("region ")) and seen == []
