"""IAM Identity Center over HTTP: the ``sso-oidc`` and ``sso`` (portal) REST-JSON APIs and the browser pages.

moto has neither service, so the sandbox answers them itself, on the same port as STS: the strictness
layer hands over every unsigned request for one of ``PATHS``. Wire format as in botocore's service models:
sso-oidc takes JSON bodies and answers errors with ``x-amzn-ErrorType`` and
``{"error": "authorization_pending", "error_description": ...}``; the portal takes query strings and the
``x-amz-sso_bearer_token`` header and answers errors with ``{"message": ...}``. The pages (device
verification, consent for the authorization-code flow) are tiny HTML forms that need no JavaScript.
The rules themselves live in ``rolecall.sandbox.ssostate``.
"""

from __future__ import annotations

import html
import json
import logging
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from rolecall.sandbox import awsxml
from rolecall.sandbox.router import Incoming
from rolecall.sandbox.ssomodel import SsoError, sso_error
from rolecall.sandbox.ssostate import SsoState
from rolecall.sandbox.state import SandboxState
from rolecall.sandbox.wsgi import read_body, status_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_log = logging.getLogger("rolecall.sandbox")

#: The WSGI environ key of the ``x-amz-sso_bearer_token`` header. WSGI servers drop headers with an
#: underscore (they would read like ``x-amz-sso-bearer-token``), so the sandbox's request handler puts
#: this one here, under a key no client header can produce.
BEARER_TOKEN_ENVIRON = "rolecall.sso_bearer_token"
BEARER_TOKEN_HEADER = "x-amz-sso_bearer_token"

OIDC_ROUTES = {
    ("POST", "/client/register"): "RegisterClient",
    ("POST", "/device_authorization"): "StartDeviceAuthorization",
    ("POST", "/token"): "CreateToken",
}
PORTAL_ROUTES = {
    ("GET", "/federation/credentials"): "GetRoleCredentials",
    ("GET", "/assignment/accounts"): "ListAccounts",
    ("GET", "/assignment/roles"): "ListAccountRoles",
    ("POST", "/logout"): "Logout",
}
PAGE_PATHS = frozenset({"/device", "/device/decision", "/authorize", "/authorize/decision"})
#: Every path the SSO app answers (for any method: a wrong one gets the service's own 404).
PATHS = frozenset({path for _, path in (*OIDC_ROUTES, *PORTAL_ROUTES)} | PAGE_PATHS)

_INTERNAL = "The request processing has failed because of an unknown error, exception or failure."
_Response = tuple[int, list[tuple[str, str]], bytes]


class SsoApp:
    """WSGI app for the SSO paths; credentials it hands out are recorded in ``state`` for the STS layer."""

    def __init__(self, state: SandboxState, sso: SsoState, clock: Callable[[], float] = time.time) -> None:
        """Serve ``sso``; ``clock`` (Unix time) must be the strictness layer's, so both agree on expiry."""
        self.state = state
        self.sso = sso
        self.clock = clock

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for unsigned requests on IAM Identity Center's paths (no STS or IAM request uses them; a signed
        request there, CreateTokenWithIAM say, is not modelled and goes on to moto)."""
        return request.auth is None and request.path in PATHS

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request (its body already buffered in ``wsgi.input``)."""
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if path in PAGE_PATHS:
            status, headers, payload = self._page(method, path, environ)
        elif (method, path) in OIDC_ROUTES:
            status, headers, payload = self._api("sso-oidc", OIDC_ROUTES[method, path], environ)
        elif (method, path) in PORTAL_ROUTES:
            status, headers, payload = self._api("sso", PORTAL_ROUTES[method, path], environ)
        else:
            service = "sso" if any(path == known for _, known in PORTAL_ROUTES) else "sso-oidc"
            status, headers, payload = _json_error(service, sso_error("UnknownOperationException", "Not found"), 404)
        start_response(status_line(status), [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    # ------------------------------------------------------------------ the APIs

    def _api(self, service: str, operation: str, environ: WSGIEnvironment) -> _Response:
        request_id = awsxml.new_request_id()
        self.state.count(f"{service}:{operation}")
        try:
            self._apply_fault(service, operation)
            result = self._operation(service, operation, environ)
        except SsoError as error:
            status, headers, payload = _json_error(service, error)
        except Exception:
            # A bug in the app: answer as AWS answers its own failures, keep the traceback in the log.
            _log.exception("sandbox: unexpected error handling %s:%s", service, operation)
            status, headers, payload = _json_error(service, sso_error("InternalServerException", _INTERNAL))
        else:
            status, headers = 200, [("Content-Type", "application/json")]
            payload = b"" if result is None else json.dumps(result).encode()
        return status, [*headers, ("x-amzn-RequestId", request_id)], payload

    def _apply_fault(self, service: str, operation: str) -> None:
        # Only faults queued for this operation apply: "*" stays the STS actions' wildcard, so that a fault
        # meant for STS is not used up by botocore's SSO provider on its way there.
        with self.state.lock:
            fault = None
            for key in (f"{service}:{operation}", operation):
                queue = self.state.faults.get(key)
                if queue:
                    fault = queue.popleft()
                    break
        if fault is None:
            return
        if fault.kind == "throttle":
            raise sso_error("TooManyRequestsException", "Rate exceeded")
        if fault.kind == "error500":
            raise sso_error("InternalServerException", _INTERNAL)
        time.sleep(fault.delay)  # "slow": answer normally, late

    def _operation(self, service: str, operation: str, environ: WSGIEnvironment) -> dict[str, Any] | None:
        now = self.clock()
        sso = self.sso
        if service == "sso-oidc":
            params = _json_body(environ)
            if operation == "RegisterClient":
                return sso.register_client(now, params, _base_url(environ))
            if operation == "StartDeviceAuthorization":
                return sso.start_device_authorization(now, params, _base_url(environ))
            return sso.create_token(now, params)
        query = _query(environ)
        token = environ.get(BEARER_TOKEN_ENVIRON)
        if operation == "GetRoleCredentials":
            with self.state.lock:
                fallback = self.state.credential_lifetime
            issued = sso.role_credentials(now, token, query.get("account_id", ""), query.get("role_name", ""), fallback)
            self.state.record(issued)
            return {
                "roleCredentials": {
                    "accessKeyId": issued.access_key_id,
                    "secretAccessKey": issued.secret_access_key,
                    "sessionToken": issued.session_token,
                    "expiration": int(issued.expiration.timestamp()) * 1000,  # milliseconds, as the portal sends
                }
            }
        if operation == "ListAccounts":
            return sso.list_accounts(now, token, query.get("next_token"), query.get("max_result"))
        if operation == "ListAccountRoles":
            return sso.list_account_roles(
                now, token, query.get("account_id", ""), query.get("next_token"), query.get("max_result")
            )
        sso.logout(now, token)
        return None

    # ------------------------------------------------------------------ the pages

    def _page(self, method: str, path: str, environ: WSGIEnvironment) -> _Response:
        now = self.clock()
        expected = "POST" if path.endswith("/decision") else "GET"
        if method != expected:
            return _html(405, "Method not allowed", _error_block(f"Use {expected} for {path}."))
        try:
            if path == "/device":
                return self._device_page(now, _query(environ))
            if path == "/device/decision":
                form = _form(environ)
                allow = _decision(form)
                self.sso.decide_device(now, form.get("user_code", ""), allow)
                text = "Request approved" if allow else "Request denied"
                return _html(200, text, f'<p id="result">{text}</p>\n<p>You can close this window.</p>')
            if path == "/authorize":
                return self._consent_page(now, _query(environ))
            form = _form(environ)
            location = self.sso.decide_authorization(now, form.get("request", ""), _decision(form))
            return 302, [("Location", location), ("Cache-Control", "no-store"), ("Content-Type", "text/html")], b""
        except SsoError as error:
            return _html(400, "Request not valid", _error_block(error.description) + _code_form())

    def _device_page(self, now: float, query: dict[str, str]) -> _Response:
        if "user_code" not in query:
            return _html(200, "Authorize request", "<h1>Authorize request</h1>\n" + _code_form())
        device, client = self.sso.pending_device(now, query["user_code"])
        details = _details(self.sso, client.name, [("User code", "user-code", device.user_code)])
        hidden = f'<input type="hidden" name="user_code" value="{html.escape(device.user_code)}">'
        return _html(200, "Authorize request", details + _decision_form("/device/decision", hidden))

    def _consent_page(self, now: float, query: dict[str, str]) -> _Response:
        request, client = self.sso.begin_authorization(now, query)
        scopes = " ".join(request.scopes) or "(none)"
        details = _details(self.sso, client.name, [("Scopes", "scopes", scopes)])
        hidden = f'<input type="hidden" name="request" value="{html.escape(request.request_id)}">'
        return _html(200, "Allow access", details + _decision_form("/authorize/decision", hidden))


# ---------------------------------------------------------------------- helpers


def _details(sso: SsoState, client_name: str, extra: list[tuple[str, str, str]]) -> str:
    rows = [("Start URL", "start-url", sso.start_url), ("Application", "client-name", client_name), *extra]
    items = "".join(f'<dt>{label}</dt><dd id="{key}">{html.escape(value)}</dd>' for label, key, value in rows)
    return (
        "<h1>Authorize request</h1>\n"
        f'<p id="signed-in">Signed in as {html.escape(sso.user)} (sandbox directory)</p>\n'
        f"<dl>{items}</dl>\n"
    )


def _decision_form(action: str, hidden: str) -> str:
    return (
        f'<form method="post" action="{action}">{hidden}\n'
        '<button id="allow" name="decision" value="allow">Allow</button>\n'
        '<button id="deny" name="decision" value="deny">Deny</button>\n'
        "</form>"
    )


def _code_form() -> str:
    return (
        '\n<form method="get" action="/device"><label for="user_code">Code</label> '
        '<input id="user_code" name="user_code" autocomplete="off"> <button id="next">Next</button></form>'
    )


def _error_block(message: str) -> str:
    return f'<p id="error">{html.escape(message)}</p>'


def _decision(form: dict[str, str]) -> bool:
    decision = form.get("decision")
    if decision not in ("allow", "deny"):
        raise sso_error("InvalidRequestException", "decision must be allow or deny")
    return decision == "allow"


def _html(status: int, title: str, body: str) -> _Response:
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} - IAM Identity Center (sandbox)</title></head>\n<body>\n{body}\n</body></html>\n"
    )
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
    return status, headers, page.encode()


def _json_error(service: str, error: SsoError, status: int | None = None) -> _Response:
    if service == "sso-oidc":
        body: dict[str, str] = {"error": error.oauth_error, "error_description": error.description}
    else:
        body = {"message": error.description}
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.code)]
    return status or error.status, headers, json.dumps(body).encode()




def _json_body(environ: WSGIEnvironment) -> dict[str, Any]:
    raw = read_body(environ)
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if not isinstance(parsed, dict):
        raise sso_error("InvalidRequestException", "The request body must be a JSON object")
    return parsed


def _query(environ: WSGIEnvironment) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def _form(environ: WSGIEnvironment) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(read_body(environ).decode("utf-8", "replace"), keep_blank_values=True))


def _base_url(environ: WSGIEnvironment) -> str:
    """``http://127.0.0.1:PORT``, the address served on, for the URLs the answers contain.

    Not the Host header: whoever sends the request must not choose where the verification page is said to be.
    """
    return f"http://{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"

