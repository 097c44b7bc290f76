"""PKCE and state for the sign-in's authorization request, and the ``/v1/authorize`` URL, as the AWS CLI v2 makes
them: a 64-character verifier from the unreserved characters, its SHA-256 challenge in base64url without padding
(sent with ``code_challenge_method=SHA-256``, the CLI's spelling, not RFC 7636's ``S256``), a UUID state,
``scope=openid``."""

from __future__ import annotations

import uuid
from urllib.parse import quote, urlencode

from rolecall.oauth import challenge, new_verifier

#: The OAuth clients of the two flows (the ``clientId`` of every later call too).
SAME_DEVICE_CLIENT = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE_CLIENT = "arn:aws:signin:::devtools/cross-device"
#: Where the cross-device flow sends the browser: a page of the sign-in service that shows the code to paste.
CONFIRMATION_PATH = "/v1/sessions/confirmation"
AUTHORIZE_PATH = "/v1/authorize"
__all__ = [
    "AUTHORIZE_PATH", "CONFIRMATION_PATH", "CROSS_DEVICE_CLIENT", "SAME_DEVICE_CLIENT",
    "authorize_url", "challenge", "new_state", "new_verifier",
]  # fmt: skip


def new_state() -> str:
    """A fresh state value (a UUID, as the CLI v2 sends)."""
    return str(uuid.uuid4())


def authorize_url(base: str, client_id: str, redirect_uri: str, state: str, code_challenge: str) -> str:
    """``BASE/v1/authorize?...``: the page the person signs in on."""
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "state": state,
            "code_challenge_method": "SHA-256",
            "scope": "openid",
            "redirect_uri": redirect_uri,
        },
        quote_via=quote,
    )
    return f"{base.rstrip('/')}{AUTHORIZE_PATH}?{query}&code_challenge={code_challenge}"
