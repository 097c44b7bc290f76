"""PKCE and state for the sign-in's authorization request, and the ``/v1/authorize`` URL, as the AWS CLI v2 makes
them: a 64-character verifier from the unreserved characters, its SHA-256 challenge in base64url without padding
(sent with ``code_challenge_method=SHA-256``, the CLI's spelling, not RFC 7636's ``S256``), a UUID state,
``scope=openid``."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import uuid
from urllib.parse import quote, urlencode

#: The OAuth clients of the two flows (the ``clientId`` of every later call too).
SAME_DEVICE_CLIENT = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE_CLIENT = "arn:aws:signin:::devtools/cross-device"
#: Where the cross-device flow sends the browser: a page of the sign-in service that shows the code to paste.
CONFIRMATION_PATH = "/v1/sessions/confirmation"
AUTHORIZE_PATH = "/v1/authorize"
_VERIFIER_ALPHABET = string.ascii_letters + string.digits + "-._~"


def new_verifier() -> str:
    """A fresh code verifier: 64 characters of RFC 7636's unreserved set."""
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(64))


def challenge(verifier: str) -> str:
    """base64url(SHA-256(verifier)) without the ``=`` padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


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
