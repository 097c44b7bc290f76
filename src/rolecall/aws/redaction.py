"""Keeping secrets out of what AWS answers: request values echoed in messages, URLs with credentials in them,
response headers quoted in messages. Pure text functions (no botocore)."""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.credentials import Credentials

#: Parameters of the IAM Identity Center calls that are secrets.
SSO_SECRET_PARAMS = ("accessToken", "refreshToken", "clientSecret", "deviceCode", "code", "codeVerifier")


def redact(text: str, params: Mapping[str, Any], credentials: Credentials | None) -> str:
    """Remove anything secret from a text that came from AWS (some messages echo the request's values)."""
    code = params.get("TokenCode")
    if isinstance(code, str) and code:
        text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])", "******", text)
    for secret in (
        params.get("WebIdentityToken"),
        # IAM Identity Center: tokens, the client secret, codes of the login flows.
        *(params.get(name) for name in SSO_SECRET_PARAMS),
        credentials.secret_access_key if credentials else None,
        credentials.session_token if credentials else None,
    ):
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "******")
    return text


def redact_url(url: str) -> str:
    """A URL without any ``user:password@`` part (proxy URLs may carry them)."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def clean_header(value: object, limit: int = 60) -> str:
    """A response header fit for a message: printable ASCII without quotes or controls, cut to ``limit``."""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value or "")
    kept = "".join(char for char in text if char.isascii() and char.isprintable() and char not in "\"'`\\")
    return kept.strip()[:limit]
