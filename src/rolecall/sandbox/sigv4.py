"""Reading and verifying the SigV4 ``Authorization`` header of an incoming request.

The signature is recomputed with botocore's own signer (``botocore.auth.SigV4Auth``) over exactly the
headers the client says it signed, at the client's ``X-Amz-Date``, so the sandbox agrees with every
client botocore agrees with and never hand-rolls the algorithm.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<akid>[^/\s,]+)/(?P<date>\d{8})/(?P<region>[^/\s,]+)/"
    r"(?P<service>[^/\s,]+)/aws4_request\s*,\s*SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*Signature=(?P<sig>[0-9a-f]+)"
)


@dataclass(frozen=True)
class SignedRequestInfo:
    """What the Authorization header says: who signed, for which region and service, and how."""

    access_key_id: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> SignedRequestInfo | None:
    """Parse an ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`` header."""
    match = _AUTH_RE.search(header)
    if match is None:
        return None
    return SignedRequestInfo(
        access_key_id=match["akid"],
        date=match["date"],
        region=match["region"],
        service=match["service"],
        signed_headers=tuple(match["signed"].split(";")),
        signature=match["sig"],
    )


def signature_matches(
    info: SignedRequestInfo,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secret_access_key: str,
    session_token: str | None,
) -> bool:
    """Recompute the signature with ``secret_access_key`` and compare it in constant time.

    ``headers`` maps lower-case header names to values as received.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    timestamp = headers.get("x-amz-date", "")
    if not timestamp:
        return False
    signed = {name: headers[name] for name in info.signed_headers if name in headers}
    if len(signed) != len(info.signed_headers):
        return False
    request = AWSRequest(method=method, url=url, data=body, headers=signed)
    # The signer takes the time from the request context rather than the clock: use the client's.
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(Credentials(info.access_key_id, secret_access_key, session_token), info.service, info.region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, info.signature)


def presigned_matches(
    method: str, url: str, headers: Mapping[str, str], params: Mapping[str, str], secret_access_key: str,
    session_token: str | None,
) -> bool:  # fmt: skip
    """Check a query-string (presigned) SigV4 signature: recomputed over the URL without ``X-Amz-Signature`` and
    the headers named in ``X-Amz-SignedHeaders``, with botocore's query signer, compared in constant time."""
    import urllib.parse

    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urllib.parse.urlsplit(url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    unsigned = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    names = params.get("X-Amz-SignedHeaders", "").split(";")
    signed = {name: headers[name] for name in names if name in headers}
    if len(signed) != len(names):
        return False
    akid, _, scope = params.get("X-Amz-Credential", "").partition("/")
    scope_parts = scope.split("/")
    if len(scope_parts) != 4:
        return False
    request = AWSRequest(method=method, url=unsigned, headers=signed)
    request.context["timestamp"] = params.get("X-Amz-Date", "")
    signer = SigV4QueryAuth(Credentials(akid, secret_access_key, session_token), scope_parts[2], scope_parts[1])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return hmac.compare_digest(expected, params.get("X-Amz-Signature", ""))
