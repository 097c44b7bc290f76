"""rolecall and botocore's own ``LoginProvider`` (botocore[crt]) use and renew each other's ``aws login`` tokens
against the sandbox; parallel shells on an expired token refresh once; the credentials server renews the session
across several expiries without a new sign-in."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import AwsHome, run_rolecall
from login_helpers import PROFILE, expire, login_env, read_token, sign_in, token_path
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

BOTOCORE_LOGIN = textwrap.dedent(
    """
    import json, sys
    import boto3
    session = boto3.Session(profile_name=sys.argv[1])
    credentials = session.get_credentials()
    frozen = credentials.get_frozen_credentials()  # refreshes when less than 5 minutes are left
    arn = session.client("sts").get_caller_identity()["Arn"]
    print(json.dumps({"method": credentials.method, "arn": arn, "key": frozen.access_key}))
    """
)


def _botocore(env: dict[str, str], profile: str) -> dict[str, str]:
    done = subprocess.run([sys.executable, "-c", BOTOCORE_LOGIN, profile], env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, str] = json.loads(done.stdout)
    return result


def test_botocore_uses_and_refreshes_rolecalls_token(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    pytest.importorskip("awscrt")
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    first = _botocore(env, PROFILE)
    assert first == {"method": "login", "arn": sandbox.user_arn, "key": read_token(env, session)["accessToken"][
        "accessKeyId"]}  # fmt: skip
    assert sandbox.signin.grants["refresh_token"] == 0
    expire(env, session)
    renewed = _botocore(env, PROFILE)  # botocore refreshes with rolecall's DPoP key, and saves the token
    assert sandbox.signin.grants["refresh_token"] == 1
    assert renewed["arn"] == sandbox.user_arn and renewed["key"] != first["key"]
    assert read_token(env, session)["accessToken"]["accessKeyId"] == renewed["key"]
    # And rolecall goes on with what botocore wrote (the rotated refresh token included).
    expire(env, session)
    done = run_rolecall(["whoami", PROFILE, "--output", "json"], env)
    assert done.returncode == 0, done.stderr
    assert sandbox.signin.grants["refresh_token"] == 2


def _cli_v2_token(sandbox: Sandbox, env: dict[str, str]) -> str:  # noqa: F811
    """A sign-in made by this test the way the AWS CLI v2 makes it (its own key, its own token file), through the
    sandbox's pages; returns the session written to the profile by hand, as ``aws login`` would."""
    import botocore.session
    from awscrt.crypto import EC, ECExportFormat, ECType
    from botocore.credentials import _build_dpop_header as build_dpop_header  # botocore's own proof

    from rolecall.login import pkce

    key = EC.new_generate(ECType.P_256)
    verifier, state = pkce.new_verifier(), str(uuid.uuid4())
    redirect = f"{sandbox.endpoint_url}/v1/sessions/confirmation"
    sandbox.signin.auto_approve = True
    url = pkce.authorize_url(sandbox.endpoint_url, pkce.CROSS_DEVICE_CLIENT, redirect, state, pkce.challenge(verifier))
    import urllib.request

    page = urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url).read().decode()
    pasted = page.split('id="verification-code">', 1)[1].split("<", 1)[0]
    fields = dict(p.split("=", 1) for p in base64.b64decode(pasted).decode().split("&"))
    client = botocore.session.Session().create_client(
        "signin", region_name="us-east-1", endpoint_url=sandbox.endpoint_url,
        config=botocore.config.Config(signature_version=botocore.UNSIGNED),
    )  # fmt: skip
    def prove(params: dict[str, Any], **_: Any) -> None:
        params["headers"]["DPoP"] = build_dpop_header(key, params["url"])

    client.meta.events.register("before-call.signin.CreateOAuth2Token", prove)
    output = client.create_o_auth2_token(tokenInput={
        "clientId": pkce.CROSS_DEVICE_CLIENT, "grantType": "authorization_code", "code": fields["code"],
        "codeVerifier": verifier, "redirectUri": redirect})["tokenOutput"]  # fmt: skip
    claims = json.loads(base64.urlsafe_b64decode(output["idToken"].split(".")[1] + "=="))
    session = claims["sub"]
    der = base64.b64encode(key.export_key(ECExportFormat.SEC1)).decode()
    pem = "-----BEGIN EC PRIVATE KEY-----\n" + "\n".join(der[i:i + 64] for i in range(0, len(der), 64)) + \
        "\n-----END EC PRIVATE KEY-----\n"  # fmt: skip
    document = {
        "accessToken": {**output["accessToken"], "accountId": sandbox.account_id, "expiresAt": "2020-01-01T00:00:00Z"},
        "tokenType": output["tokenType"], "clientId": pkce.CROSS_DEVICE_CLIENT,
        "refreshToken": output["refreshToken"], "idToken": output["idToken"], "dpopKey": pem,
    }  # fmt: skip
    path = token_path(env, session)
    path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    with open(env["AWS_CONFIG_FILE"], "a") as config:
        config.write(f"\n[profile {PROFILE}]\nlogin_session = {session}\n")
    return session


def test_rolecall_uses_and_refreshes_a_cli_v2_token(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    pytest.importorskip("awscrt")
    env = login_env(sandbox, aws_home)
    session = _cli_v2_token(sandbox, env)
    before = read_token(env, session)
    done = run_rolecall(["whoami", "via-console", "--output", "json"], env)  # expired: rolecall refreshes first
    assert done.returncode == 0, done.stderr
    assert "/readonly/" in json.loads(done.stdout)["Arn"]
    after = read_token(env, session)
    assert sandbox.signin.grants == {"authorization_code": 1, "refresh_token": 1}
    assert after["refreshToken"] != before["refreshToken"] and after["dpopKey"] == before["dpopKey"]
    expire(env, session)
    assert _botocore(env, PROFILE)["arn"] == sandbox.user_arn  # and botocore goes on from rolecall's refresh
    assert sandbox.signin.grants["refresh_token"] == 2


def test_eight_parallel_shells_refresh_once(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    session = sign_in(env)
    expire(env, session)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: run_rolecall(["env", PROFILE, "--format", "json"], env), range(8)))
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    keys = {json.loads(r.stdout)["AccessKeyId"] for r in results}
    assert sandbox.signin.grants["refresh_token"] == 1
    assert keys == {read_token(env, session)["accessToken"]["accessKeyId"]}


SERVER_CLIENT = textwrap.dedent(
    """
    import sys, time, boto3
    seen = set()
    for _ in range(int(sys.argv[1])):
        session = boto3.Session()
        key = session.get_credentials().get_frozen_credentials().access_key
        session.client("sts").get_caller_identity()
        seen.add(key)
        time.sleep(float(sys.argv[2]))
    print(len(seen))
    """
)


def test_exec_server_renews_across_three_expiries(sandbox: Sandbox, aws_home: AwsHome) -> None:  # noqa: F811
    env = login_env(sandbox, aws_home)
    sign_in(env)
    sandbox.signin.access_lifetime = 4  # seconds: each access token expires during the job
    expire(env, read_token_session(env))
    done = run_rolecall(["exec", "--server", PROFILE, "--", sys.executable, "-c", SERVER_CLIENT, "8", "2"], env,
                        timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 4, done.stdout  # four access keys or more: three expiries or more
    assert sandbox.signin.grants["authorization_code"] == 1  # no new sign-in
    assert sandbox.signin.grants["refresh_token"] >= 4


def read_token_session(env: dict[str, str]) -> str:
    """The console profile's session (from the config file)."""
    from login_helpers import login_session_of

    return login_session_of(env, PROFILE)
