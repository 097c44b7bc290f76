"""The sandbox's SAML identity provider: a login page, a session cookie, signed assertions with several roles.

Served under ``/saml-idp/`` on the sandbox's port:

- ``GET /saml-idp/aws``: the "AWS sign-in URL" a profile's ``saml_url`` names. Signed in (a live ``idp_session``
  cookie): a page whose form posts ``SAMLResponse`` to AWS's SAML endpoint by itself (rolecall's browser intercepts
  that POST; nothing here ever reaches AWS). Not signed in: a redirect to the login page.
- ``GET /saml-idp/login``: a username/password form (``#username``, ``#password``, ``#signin``); with the
  auto-login control on (``auto_login``, for the demo), the page fills and submits itself.
- ``POST /saml-idp/login``: checks the password, sets a persistent cookie (``Max-Age``: the session's lifetime),
  redirects back to ``/saml-idp/aws``.
- ``GET /saml-idp/metadata``: the provider's metadata (entity id and signing certificate).

Time is the sandbox's clock, so a test can move an hour on and see the session cookie still work.
"""

from __future__ import annotations

import base64
import html
import secrets
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from rolecall.sandbox.router import Incoming, incoming
from rolecall.sandbox.samlsign import SAML, SAMLP, SigningKey, metadata_xml, sign
from rolecall.timefmt import format_iso_z

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PREFIX = "/saml-idp"
COOKIE = "idp_session"
#: Where the provider posts: AWS's SAML endpoint (rolecall intercepts it; the sandbox never serves it).
AWS_SAML_ENDPOINT = "https://signin.aws.amazon.com/saml"
ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
#: How long an assertion may be redeemed (AWS: 5 minutes after issue).
ASSERTION_LIFETIME = timedelta(minutes=5)


@dataclass
class IdpUser:
    """A directory user: password, the ``(role ARN, provider ARN)`` pairs granted, SessionDuration."""

    password: str
    roles: list[tuple[str, str]]
    session_duration: int = 3600


@dataclass
class IdpState:
    """Users, live sign-in sessions, the signing key, counters; reset with the sandbox."""

    entity_id: str = ""
    key: SigningKey | None = None
    users: dict[str, IdpUser] = field(default_factory=dict)
    sessions: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    session_lifetime: timedelta = timedelta(hours=8)
    auto_login: tuple[str, str] | None = None
    logins: int = 0
    assertions: int = 0
    #: Where the provider posts the SAMLResponse (its ACS URL): AWS's SAML endpoint unless a test changes it.
    acs_url: str = AWS_SAML_ENDPOINT
    #: Requests that reached ``/saml-idp/acs`` (a stand-in ACS a test can point ``acs_url`` at: it must stay 0).
    acs_hits: int = 0
    #: Every SAMLResponse handed out (base64), so tests can look for it where it must never be.
    responses: list[str] = field(default_factory=list)
    #: Put into assertions instead of "now" (tests of expired assertions); None: the clock.
    issue_at: datetime | None = None
    #: Added to the sandbox clock on the SAML side (provider sessions, assertions, AssumeRoleWithSAML).
    offset: timedelta = timedelta(0)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SamlIdp:
    """The provider's pages, as a router service."""

    def __init__(self, state: IdpState, clock: Callable[[], float]) -> None:
        """Serve ``state`` with the sandbox's ``clock`` (Unix time)."""
        self.state = state
        self.clock = clock

    @staticmethod
    def serves(request: Incoming) -> bool:
        """True for ``/saml-idp/...``."""
        return request.path == PREFIX or request.path.startswith(PREFIX + "/")

    def now(self) -> datetime:
        """The sandbox's time."""
        return datetime.fromtimestamp(self.clock(), timezone.utc).replace(microsecond=0) + self.state.offset

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """One page."""
        request = incoming(environ)
        method, path = environ.get("REQUEST_METHOD", "GET"), request.path[len(PREFIX) :]
        if path == "/metadata":
            return _send(start_response, "200 OK", self.metadata().encode(), "application/samlmetadata+xml")
        if path == "/login" and method == "POST":
            return self._login(request, start_response)
        if path == "/login":
            return _send(start_response, "200 OK", self._login_page(error=False))
        if path == "/acs":
            with self.state.lock:
                self.state.acs_hits += 1
            return _send(start_response, "200 OK", b"the assertion reached the service provider", "text/plain")
        if path == "/aws":
            user = self._session_user(environ.get("HTTP_COOKIE", ""))
            if user is None:
                return _send(start_response, "303 See Other", b"", headers=[("Location", PREFIX + "/login")])
            return _send(start_response, "200 OK", self._post_page(user))
        return _send(start_response, "404 Not Found", b"not here", "text/plain")

    def metadata(self) -> str:
        """The metadata document (the IAM SAML provider of the sandbox account is made from it)."""
        assert self.state.key is not None
        return metadata_xml(self.state.entity_id, self.state.key.certificate_b64)

    def _session_user(self, cookie_header: str) -> str | None:
        token = next((value for name, value in _cookies(cookie_header) if name == COOKIE), None)
        with self.state.lock:
            found = self.state.sessions.get(token or "")
        if found is None or found[1] <= self.now():
            return None
        return found[0]

    def _login(self, request: Incoming, start_response: StartResponse) -> Iterable[bytes]:
        name, password = request.params.get("username", ""), request.params.get("password", "")
        user = self.state.users.get(name)
        if user is None or not secrets.compare_digest(user.password.encode(), password.encode()):
            return _send(start_response, "200 OK", self._login_page(error=True))
        token = secrets.token_urlsafe(24)
        lifetime = self.state.session_lifetime
        with self.state.lock:
            self.state.sessions[token] = (name, self.now() + lifetime)
            self.state.logins += 1
        cookie = f"{COOKIE}={token}; Path={PREFIX}; Max-Age={int(lifetime.total_seconds())}; HttpOnly; SameSite=Lax"
        return _send(start_response, "303 See Other", b"", headers=[("Location", PREFIX + "/aws"),
                                                                    ("Set-Cookie", cookie)])  # fmt: skip

    def _login_page(self, *, error: bool) -> bytes:
        auto = ""
        if self.state.auto_login is not None:
            name, password = (html.escape(part, quote=True) for part in self.state.auto_login)
            auto = (f"<script>document.getElementById('username').value='{name}';"
                    f"document.getElementById('password').value='{password}';"
                    "document.getElementById('form').submit();</script>")  # fmt: skip
        problem = '<p id="error">Wrong username or password.</p>' if error else ""
        return (
            "<!doctype html><html><head><title>Sandbox identity provider</title></head><body>"
            f"<h1>Sign in to the sandbox identity provider</h1>{problem}"
            f'<form id="form" method="post" action="{PREFIX}/login">'
            '<label>Username <input id="username" name="username" autocomplete="username"></label>'
            '<label>Password <input id="password" name="password" type="password"></label>'
            '<button id="signin" type="submit">Sign in</button></form>'
            f"{auto}</body></html>"
        ).encode()

    def _post_page(self, user: str) -> bytes:
        response = base64.b64encode(self.response_xml(user)).decode("ascii")
        with self.state.lock:
            self.state.responses.append(response)
        return (
            "<!doctype html><html><body onload=\"document.forms[0].submit()\">"
            f'<form method="post" action="{html.escape(self.state.acs_url, quote=True)}">'
            f'<input type="hidden" name="SAMLResponse" value="{response}">'
            '<noscript><button type="submit">Continue to AWS</button></noscript></form></body></html>'
        ).encode()

    def response_xml(self, user: str) -> bytes:
        """A signed SAML Response for ``user``: every role granted, SessionDuration, RoleSessionName."""
        state = self.state
        assert state.key is not None
        granted = state.users[user]
        issued = state.issue_at or self.now()
        until = format_iso_z(issued + ASSERTION_LIFETIME)
        response = ET.Element(f"{{{SAMLP}}}Response", ID="_" + uuid.uuid4().hex, Version="2.0",
                              IssueInstant=format_iso_z(issued), Destination=AWS_SAML_ENDPOINT)  # fmt: skip
        ET.SubElement(response, f"{{{SAML}}}Issuer").text = state.entity_id
        status = ET.SubElement(response, f"{{{SAMLP}}}Status")
        ET.SubElement(status, f"{{{SAMLP}}}StatusCode", Value="urn:oasis:names:tc:SAML:2.0:status:Success")
        assertion = ET.SubElement(response, f"{{{SAML}}}Assertion", ID="_" + uuid.uuid4().hex, Version="2.0",
                                  IssueInstant=format_iso_z(issued))  # fmt: skip
        ET.SubElement(assertion, f"{{{SAML}}}Issuer").text = state.entity_id
        subject = ET.SubElement(assertion, f"{{{SAML}}}Subject")
        ET.SubElement(subject, f"{{{SAML}}}NameID").text = user
        confirmation = ET.SubElement(subject, f"{{{SAML}}}SubjectConfirmation",
                                     Method="urn:oasis:names:tc:SAML:2.0:cm:bearer")  # fmt: skip
        ET.SubElement(confirmation, f"{{{SAML}}}SubjectConfirmationData", NotOnOrAfter=until,
                      Recipient=AWS_SAML_ENDPOINT)  # fmt: skip
        conditions = ET.SubElement(assertion, f"{{{SAML}}}Conditions", NotBefore=format_iso_z(issued),
                                   NotOnOrAfter=until)  # fmt: skip
        audience = ET.SubElement(conditions, f"{{{SAML}}}AudienceRestriction")
        ET.SubElement(audience, f"{{{SAML}}}Audience").text = AWS_SAML_ENDPOINT
        attributes = ET.SubElement(assertion, f"{{{SAML}}}AttributeStatement")
        _attribute(attributes, ROLE_ATTRIBUTE, [f"{role},{provider}" for role, provider in granted.roles])
        _attribute(attributes, "https://aws.amazon.com/SAML/Attributes/RoleSessionName", [user])
        _attribute(attributes, "https://aws.amazon.com/SAML/Attributes/SessionDuration",
                   [str(granted.session_duration)])  # fmt: skip
        sign(assertion, state.key)
        with state.lock:
            state.assertions += 1
        return bytes(ET.tostring(response, encoding="utf-8", xml_declaration=False))


def _attribute(parent: ET.Element, name: str, values: list[str]) -> None:
    attribute = ET.SubElement(parent, f"{{{SAML}}}Attribute", Name=name)
    for value in values:
        ET.SubElement(attribute, f"{{{SAML}}}AttributeValue").text = value


def _cookies(header: str) -> list[tuple[str, str]]:
    pairs = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            pairs.append((name, urllib.parse.unquote(value)))
    return pairs


def _send(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), *(headers or [])])  # fmt: skip
    return [body]
