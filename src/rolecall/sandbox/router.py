"""The sandbox's front door: a list of small WSGI apps, each saying which requests it serves.

``Router`` reads a request once (``Incoming``: its body, its SigV4 ``Authorization`` header, its query or
form parameters), asks each service in turn whether it ``serves`` it, and hands it to the first that does;
what none of them serves goes to the fallback (moto's server). The services (see ``Sandbox``): IAM Identity
Center (``sso.SsoApp``), the sign-in federation endpoint (``federation.FederationApp``), STS
(``app.StrictSts``) and IAM's fault injection (``iamfaults.IamFaults``).
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from rolecall.sandbox.sigv4 import SignedRequestInfo, parse_authorization
from rolecall.sandbox.wsgi import read_body, with_body

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Where ``incoming`` keeps the parsed request in the environ it hands on, so that no service reads it twice.
ENVIRON_KEY = "rolecall.sandbox.incoming"


@dataclass(frozen=True)
class Incoming:
    """One request as the services look at it; ``environ`` holds the body again in ``wsgi.input``."""

    environ: WSGIEnvironment
    body: bytes
    path: str
    #: The parsed SigV4 ``Authorization`` header; None for an unsigned request (or one signed otherwise).
    auth: SignedRequestInfo | None

    @cached_property
    def params(self) -> dict[str, str]:
        """The query string's parameters, and a form body's (a body that is not text is not an AWS query)."""
        params = dict(urllib.parse.parse_qsl(self.environ.get("QUERY_STRING", ""), keep_blank_values=True))
        content_type = self.environ.get("CONTENT_TYPE", "")
        if self.body and (not content_type or content_type.startswith("application/x-www-form-urlencoded")):
            with contextlib.suppress(UnicodeDecodeError):
                params.update(urllib.parse.parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))
        return params

    @property
    def action(self) -> str:
        """The ``Action`` parameter of an AWS query request ("" when there is none)."""
        return self.params.get("Action", "")


def incoming(environ: WSGIEnvironment) -> Incoming:
    """The request of ``environ``, read once: the router's copy when it went through one, else read now."""
    known = environ.get(ENVIRON_KEY)
    if isinstance(known, Incoming):
        return known
    body = read_body(environ)
    header = environ.get("HTTP_AUTHORIZATION", "")
    copy = with_body(environ, body)
    request = Incoming(copy, body, environ.get("PATH_INFO", ""), parse_authorization(header) if header else None)
    copy[ENVIRON_KEY] = request
    return request


class Service(Protocol):
    """A WSGI app that says which requests it serves."""

    def serves(self, request: Incoming) -> bool:
        """True when this app answers ``request``."""

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Answer one request (one ``serves`` accepted)."""


class Router:
    """WSGI app: each request goes to the first of ``services`` that serves it, else to ``fallback``."""

    def __init__(self, services: Sequence[Service], fallback: WSGIApplication) -> None:
        """Route to ``services`` in order; ``fallback`` (moto's server) answers the rest."""
        self.services = tuple(services)
        self.fallback = fallback

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        request = incoming(environ)
        for service in self.services:
            if service.serves(request):
                return service(request.environ, start_response)
        return self.fallback(request.environ, start_response)
