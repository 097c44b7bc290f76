"""AWS Sign-In over HTTP for ``aws login``: the ``/v1/authorize`` pages and CreateOAuth2Token (``POST /v1/token``).

Wire format as botocore's ``signin`` model (rest-json): the body is the ``tokenInput`` object, the answer the
``tokenOutput`` object; refusals carry ``x-amzn-ErrorType`` and ``{"error": ..., "message": ...}``. The pages are
tiny HTML forms (``#allow`` / ``#deny``, as the IAM Identity Center pages), or an immediate redirect when
``SigninState.auto_approve`` is on. The cross-device confirmation page shows the code to paste
(``#verification-code``: base64 of ``code=...&state=...``). The rules are in ``rolecall.sandbox.signinstate``.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rolecall.sandbox import awsxml
from rolecall.sandbox.router import Incoming
from rolecall.sandbox.signinstate import CONFIRMATION_PATH, SigninError, SigninState
from rolecall.sandbox.wsgi import read_body, status_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_log = logging.getLogger("rolecall.sandbox")

TOKEN_PATH = "/v1/token"
AUTHORIZE_PATH = "/v1/authorize"
DECISION_PATH = "/v1/authorize/decision"
PATHS = frozenset({TOKEN_PATH, AUTHORIZE_PATH, DECISION_PATH, CONFIRMATION_PATH})
_Response = tuple[int, list[tuple[str, str]], bytes]


class SigninApp:
    """WSGI app for the sign-in paths; the credentials it issues are recorded for the STS layer."""

    def __init__(self, signin: SigninState, clock: Callable[[], float]) -> None:
        """Serve ``signin``; ``clock`` is the sandbox's (Unix time), so STS and sign-in agree on expiry."""
        self.signin = signin
        self.clock = clock

    @staticmethod
    def serves(request: Incoming) -> bool:
        """Unsigned requests on the sign-in paths (CreateOAuth2Token takes no SigV4)."""
        return request.auth is None and request.path in PATHS

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        try:
            if path == TOKEN_PATH and method == "POST":
                status, headers, payload = self._token(environ)
            elif path == AUTHORIZE_PATH and method == "GET":
                status, headers, payload = self._authorize(environ)
            elif path == DECISION_PATH and method == "POST":
                form = dict(urllib.parse.parse_qsl(read_body(environ).decode("utf-8", "replace")))
                decision = form.get("decision")
                if decision not in ("allow", "deny"):
                    raise SigninError("ValidationException", "INVALID_REQUEST", "decision must be allow or deny")
                location = self.signin.decide(form.get("request", ""), decision == "allow", self.clock())
                status, headers, payload = 302, [("Location", location), ("Cache-Control", "no-store")], b""
            elif path == CONFIRMATION_PATH and method == "GET":
                status, headers, payload = _confirmation(environ)
            else:
                status, headers, payload = _page(405, "Method not allowed", '<p id="error">Method not allowed</p>')
        except SigninError as error:
            if path == TOKEN_PATH:
                status, headers, payload = _json_error(error)
            else:
                problem = f'<p id="error">{html.escape(error.message)}</p>'
                status, headers, payload = _page(400, "Request not valid", problem)
        start_response(status_line(status), [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _token(self, environ: WSGIEnvironment) -> _Response:
        self.signin.state.count("signin:CreateOAuth2Token")
        try:
            body = json.loads(read_body(environ) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            raise SigninError("ValidationException", "INVALID_REQUEST", "The body must be a JSON object") from None
        url = f"http://{environ.get('HTTP_HOST', '')}{TOKEN_PATH}"
        try:
            output = self.signin.create_token(body, environ.get("HTTP_DPOP"), url, self.clock())
        except SigninError:
            raise
        except Exception:
            _log.exception("sandbox: unexpected error in CreateOAuth2Token")
            raise SigninError("InternalServerException", "server_error", "Internal error", 500) from None
        headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", awsxml.new_request_id())]
        return 200, headers, json.dumps(output).encode()

    def _authorize(self, environ: WSGIEnvironment) -> _Response:
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        request_id, authorization = self.signin.begin(query, _base_url(environ))
        if self.signin.auto_approve:
            location = self.signin.decide(request_id, True, self.clock())
            return 302, [("Location", location), ("Cache-Control", "no-store")], b""
        _, arn, _, _ = self.signin.user()
        device = "this computer" if authorization.client_id.endswith("same-device") else "another device"
        body = (
            "<h1>Allow the AWS CLI to use your console credentials?</h1>\n"
            f'<p id="signed-in">Signed in as {html.escape(arn)} (sandbox)</p>\n'
            f'<p id="client">{html.escape(authorization.client_id)} on {device}</p>\n'
            f'<form method="post" action="{DECISION_PATH}">'
            f'<input type="hidden" name="request" value="{html.escape(request_id)}">\n'
            '<button id="allow" name="decision" value="allow">Allow</button>\n'
            '<button id="deny" name="decision" value="deny">Deny</button>\n</form>'
        )
        return _page(200, "Sign in", body)


def _confirmation(environ: WSGIEnvironment) -> _Response:
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
    if "code" not in query:
        return _page(200, "Sign-in denied", '<p id="result">Sign-in denied</p>')
    pasted = base64.b64encode(urllib.parse.urlencode({"code": query["code"], "state": query.get("state", "")})
                              .encode()).decode()  # fmt: skip
    body = (
        '<p id="result">Signed in</p>\n<p>Paste this code into the terminal where you ran the login:</p>\n'
        f'<pre id="verification-code">{html.escape(pasted)}</pre>'
    )
    return _page(200, "Signed in", body)


def _page(status: int, title: str, body: str) -> _Response:
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - AWS Sign-In (sandbox)</title></head>\n<body>\n{body}\n</body></html>\n"
    )
    return status, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode()


def _json_error(error: SigninError) -> _Response:
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.code),
               ("x-amzn-RequestId", awsxml.new_request_id())]  # fmt: skip
    body: dict[str, Any] = {"error": error.error, "message": error.message}
    return error.status, headers, json.dumps(body).encode()


def _base_url(environ: WSGIEnvironment) -> str:
    """``http://127.0.0.1:PORT``: the address served on (not the Host header), for the confirmation redirect."""
    return f"http://{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"
