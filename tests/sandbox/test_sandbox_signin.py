"""The sandbox's AWS Sign-In is strict: PKCE, DPoP proofs (signature, htm/htu, iat, jti, the session's key), codes
used once, refresh tokens rotated, 900 s access credentials that are real sandbox credentials."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3

from rolecall.login import pkce
from rolecall.login.dpop import DpopKey
from rolecall.sandbox import Sandbox
from sandbox_fixtures import sandbox  # noqa: F401 - the fixture

REDIRECT = "http://127.0.0.1:9/oauth/callback"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _code(sb: Sandbox, verifier: str, *, client: str = pkce.SAME_DEVICE_CLIENT, redirect: str = REDIRECT) -> str:
    sb.signin.auto_approve = True
    url = pkce.authorize_url(sb.endpoint_url, client, redirect, "st-1", pkce.challenge(verifier))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        opener.open(url)
    except urllib.error.HTTPError as answer:
        location = answer.headers["Location"]
    return parse_qs(urlsplit(location).query)["code"][0]


def _token(sb: Sandbox, body: dict[str, str], proof: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", **({"DPoP": proof} if proof else {})}
    request = urllib.request.Request(f"{sb.endpoint_url}/v1/token", json.dumps(body).encode(), headers)
    try:
        with _OPENER.open(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _exchange(sb: Sandbox, key: DpopKey, verifier: str, code: str) -> tuple[int, dict[str, Any]]:
    body = {"clientId": pkce.SAME_DEVICE_CLIENT, "grantType": "authorization_code", "code": code,
            "codeVerifier": verifier, "redirectUri": REDIRECT}  # fmt: skip
    return _token(sb, body, key.proof(f"{sb.endpoint_url}/v1/token"))


def test_code_grant_then_rotating_refresh(sandbox: Sandbox) -> None:  # noqa: F811
    key, verifier = DpopKey.generate(), pkce.new_verifier()
    status, output = _exchange(sandbox, key, verifier, _code(sandbox, verifier))
    assert status == 200 and output["expiresIn"] == 900 and output["tokenType"] == "aws_sigv4"
    sts = boto3.client("sts", endpoint_url=sandbox.endpoint_url, region_name="us-east-1",
                       aws_access_key_id=output["accessToken"]["accessKeyId"],
                       aws_secret_access_key=output["accessToken"]["secretAccessKey"],
                       aws_session_token=output["accessToken"]["sessionToken"])  # fmt: skip
    assert sts.get_caller_identity()["Arn"] == sandbox.user_arn
    refresh = {"clientId": pkce.SAME_DEVICE_CLIENT, "grantType": "refresh_token",
               "refreshToken": output["refreshToken"]}  # fmt: skip
    url = f"{sandbox.endpoint_url}/v1/token"
    status, renewed = _token(sandbox, refresh, key.proof(url))
    assert status == 200 and "idToken" not in renewed and renewed["refreshToken"] != output["refreshToken"]
    status, again = _token(sandbox, refresh, key.proof(url))  # the rotated refresh token no longer works
    assert (status, again["error"]) == (400, "TOKEN_EXPIRED")
    other = {**refresh, "refreshToken": renewed["refreshToken"]}
    status, stolen = _token(sandbox, other, DpopKey.generate().proof(url))  # not the session's key
    assert stolen["error"] == "invalid_dpop_proof"


def test_pkce_and_code_reuse(sandbox: Sandbox) -> None:  # noqa: F811
    key, verifier = DpopKey.generate(), pkce.new_verifier()
    code = _code(sandbox, verifier)
    status, answer = _exchange(sandbox, key, pkce.new_verifier(), code)
    assert (status, answer["error"]) == (400, "invalid_grant")
    status, answer = _exchange(sandbox, key, verifier, code)  # a code works once, even after a failure
    assert answer["error"] == "AUTHCODE_EXPIRED"


def test_dpop_proofs_are_checked(sandbox: Sandbox) -> None:  # noqa: F811
    key, verifier = DpopKey.generate(), pkce.new_verifier()
    body = {"clientId": pkce.SAME_DEVICE_CLIENT, "grantType": "authorization_code", "code": _code(sandbox, verifier),
            "codeVerifier": verifier, "redirectUri": REDIRECT}  # fmt: skip
    url = f"{sandbox.endpoint_url}/v1/token"
    good = key.proof(url)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for proof in (None, forged, key.proof(url + "x"), key.proof(url, issued_at=int(time.time()) - 3600)):
        status, answer = _token(sandbox, body, proof)
        assert (status, answer["error"]) == (400, "invalid_dpop_proof"), (proof, answer)
    assert _token(sandbox, body, good)[0] == 200
    refresh = {"clientId": pkce.SAME_DEVICE_CLIENT, "grantType": "refresh_token", "refreshToken": "ASORx"}
    assert _token(sandbox, refresh, good)[1]["error"] == "invalid_dpop_proof"  # jti replayed


def test_authorize_is_strict_and_can_be_denied(sandbox: Sandbox) -> None:  # noqa: F811
    verifier = pkce.new_verifier()
    bad = pkce.authorize_url(sandbox.endpoint_url, pkce.SAME_DEVICE_CLIENT, REDIRECT, "s", pkce.challenge(verifier))
    for wrong in (bad.replace("SHA-256", "S256"), bad.replace("127.0.0.1%3A9", "evil.example"),
                  bad.replace("same-device", "other")):  # fmt: skip
        try:
            _OPENER.open(wrong)
            raise AssertionError("accepted: " + wrong)
        except urllib.error.HTTPError as error:
            assert error.code == 400
    page = _OPENER.open(bad).read().decode()
    assert 'id="allow"' in page and 'id="deny"' in page
