"""The sandbox's AWS sign-in federation endpoint and a tiny console page that shows who is signed in.

``GET /federation?Action=getSigninToken&Session=<JSON>[&SessionDuration=N]`` checks the session credentials
against what the sandbox's STS (and Identity Center) issued: they must be temporary credentials of a role or
a federated user (not long-term keys, not GetSessionToken credentials), with the right secret and token, not
expired or revoked; ``SessionDuration`` must be 900-43200 s, is refused for federated users and above 1 h for
role-chained sessions (as AWS does). Errors are HTTP 400 with AWS's text.
``GET /federation?Action=login&SigninToken=…&Destination=…&Issuer=…`` takes a token once, within 15 minutes,
sets a console session cookie and redirects to ``/console``, which shows the signed-in ARN (``#who``), the
account and the destination asked for. Every call is counted (``federation:getSigninToken``,
``federation:login``).
"""

from __future__ import annotations

import http.cookies
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING

from rolecall.sandbox.router import Incoming
from rolecall.sandbox.state import IssuedCredential, SandboxState
from rolecall.sandbox.wsgi import status_line

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PATHS = frozenset({"/federation", "/console"})
#: A sign-in token (and so the sign-in URL) works for 15 minutes, once.
TOKEN_LIFETIME = 15 * 60
#: The console session when no SessionDuration was asked for: the credentials' own remaining time, as on AWS.
CHAINED_LIMIT = 3600
INVALID_CREDENTIALS = "Invalid credentials parameter"
COOKIE = "sandbox-console-session"


@dataclass
class _SigninToken:
    credential: IssuedCredential
    expires_at: float
    session_seconds: float
    used: bool = False


@dataclass(frozen=True)
class ConsoleSession:
    """Who is signed in to the sandbox console, until when, and where they asked to land."""

    arn: str
    account_id: str
    expires_at: float
    destination: str


class FederationApp:
    """WSGI app for ``/federation`` and ``/console``."""

    def __init__(self, state: SandboxState, clock: Callable[[], float] = time.time) -> None:
        """Check credentials against ``state``; ``clock`` must be the strictness layer's."""
        self.state = state
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _SigninToken] = {}
        self._sessions: dict[str, ConsoleSession] = {}

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for unsigned requests to the federation endpoint and the console page."""
        return request.auth is None and request.path in PATHS

    def sessions(self) -> list[ConsoleSession]:
        """The console sessions signed in so far (for tests)."""
        with self._lock:
            return list(self._sessions.values())

    def reset(self) -> None:
        """Forget every token and console session."""
        with self._lock:
            self._tokens.clear()
            self._sessions.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        path = environ.get("PATH_INFO", "")
        if path == "/console":
            status, headers, body = self._console(environ)
        else:
            action = query.get("Action", "")
            self.state.count(f"federation:{action or '(none)'}")
            if action == "getSigninToken":
                status, headers, body = self._signin_token(query)
            elif action == "login":
                status, headers, body = self._login(query)
            else:
                status, headers, body = _text(400, "Unknown Action")
        start_response(status_line(status), [*headers, ("Content-Length", str(len(body)))])
        return [body]

    # ------------------------------------------------------------------ getSigninToken

    def _signin_token(self, query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            session = json.loads(query.get("Session", ""))
            key, secret, token = session["sessionId"], session["sessionKey"], session["sessionToken"]
        except (ValueError, KeyError, TypeError):
            return _text(400, INVALID_CREDENTIALS)
        issued = self.state.lookup(str(key))
        now = self.clock()
        if (
            issued is None
            or issued.secret_access_key != secret
            or issued.session_token != token
            or issued.kind == "session"  # GetSessionToken credentials are refused by the real endpoint too
            or issued.expiration.timestamp() <= now
        ):
            return _text(400, INVALID_CREDENTIALS)
        remaining = issued.expiration.timestamp() - now
        session_seconds = min(remaining, 43200.0)
        if "SessionDuration" in query:
            try:
                duration = int(query["SessionDuration"])
            except ValueError:
                return _text(400, "SessionDuration must be a number")
            if issued.kind == "federated-user" or not 900 <= duration <= 43200:
                return _text(400, INVALID_CREDENTIALS)
            if issued.chained and duration > CHAINED_LIMIT:
                return _text(400, INVALID_CREDENTIALS)
            session_seconds = float(duration)
        signin = secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[signin] = _SigninToken(issued, now + TOKEN_LIFETIME, session_seconds)
        body = json.dumps({"SigninToken": signin}).encode()
        return 200, [("Content-Type", "application/json")], body

    # ------------------------------------------------------------------ login and the console

    def _login(self, query: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        now = self.clock()
        destination = query.get("Destination", "")
        with self._lock:
            entry = self._tokens.get(query.get("SigninToken", ""))
            if entry is None or entry.used or entry.expires_at <= now:
                why = "already used" if entry is not None and entry.used else "expired or unknown"
                return _page(400, "Sign-in failed", f'<p id="error">The sign-in token is {why}.</p>')
            entry.used = True
            if not destination.startswith("https://"):
                return _page(400, "Sign-in failed", '<p id="error">Destination must be an https URL.</p>')
            cookie = secrets.token_urlsafe(32)
            self._sessions[cookie] = ConsoleSession(
                entry.credential.arn, entry.credential.account_id, now + entry.session_seconds, destination
            )
        headers = [
            ("Location", "/console?" + urllib.parse.urlencode({"destination": destination})),
            ("Set-Cookie", f"{COOKIE}={cookie}; Path=/; HttpOnly; SameSite=Lax"),
            ("Cache-Control", "no-store"),
        ]
        return 302, headers, b""

    def _console(self, environ: WSGIEnvironment) -> tuple[int, list[tuple[str, str]], bytes]:
        cookies = http.cookies.SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookies.get(COOKIE)
        with self._lock:
            session = self._sessions.get(morsel.value) if morsel is not None else None
        if session is None or session.expires_at <= self.clock():
            return _page(403, "Not signed in", '<p id="error">Not signed in (or the console session ended).</p>')
        until = datetime.fromtimestamp(session.expires_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        content = (
            '<p>Signed in to the rolecall sandbox console as</p>'
            f'<h1 id="who">{escape(session.arn)}</h1>'
            f'<p>Account <span id="account">{escape(session.account_id)}</span>; console session until '
            f'<span id="until">{until}</span>.</p>'
            f'<p>You asked for <span id="destination">{escape(session.destination)}</span>.</p>'
        )
        return _page(200, "AWS console (sandbox)", content)


def _text(status: int, text: str) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "text/plain; charset=utf-8")], text.encode()


def _page(status: int, title: str, content: str) -> tuple[int, list[tuple[str, str]], bytes]:
    html = (
        f"<!doctype html><html><head><meta charset=utf-8><title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}h1{font-size:1.3em;color:#232f3e}</style></head>"
        f"<body>{content}</body></html>"
    )
    return status, [("Content-Type", "text/html; charset=utf-8")], html.encode()
