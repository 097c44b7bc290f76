"""The WSGI plumbing the sandbox's apps share (the strictness layer, Identity Center, the federation endpoint)."""

from __future__ import annotations

import http
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment


def status_line(status: int) -> str:
    """``200 OK``: the WSGI status line of an HTTP status code (``Unknown`` for codes http.HTTPStatus lacks)."""
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def read_body(environ: WSGIEnvironment) -> bytes:
    """The request body, ``CONTENT_LENGTH`` bytes of ``wsgi.input`` (empty when there is none or it is bad)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    data: bytes = stream.read(length)
    return data


def with_body(environ: WSGIEnvironment, body: bytes) -> WSGIEnvironment:
    """A copy of ``environ`` whose ``wsgi.input`` holds ``body`` again (after it was read)."""
    copy = dict(environ)
    copy["wsgi.input"] = io.BytesIO(body)
    copy["CONTENT_LENGTH"] = str(len(body))
    return copy
