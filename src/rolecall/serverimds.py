"""The EC2 instance metadata face of the credentials server (IMDSv2), for tools that only speak IMDS.

An SDK pointed at it with ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` does what it does on an EC2 instance: ``PUT
/latest/api/token`` with the ``X-aws-ec2-metadata-token-ttl-seconds`` header (1 to 21600) for a session token,
then ``GET /latest/meta-data/iam/security-credentials/`` (the role name) and ``.../<name>`` (the credentials), each
with the ``X-aws-ec2-metadata-token`` header. A GET without a token (IMDSv1) is refused with 401 unless the
server was started with ``allow_v1``; a token that is unknown or expired is always refused.

An instance has one role, and SDKs read the first line of the role list as its name, so each served profile has
an IMDS face of its own, on its own port, whose list holds that one name. What an EC2 instance does not need
and this face does: the endpoint carries the server's secret path (``http://127.0.0.1:PORT/<secret>/``;
botocore keeps the path of a custom endpoint), the ``Host`` check of the container face applies, and a request
with ``X-Forwarded-For`` (a proxy relaying it, as IMDS itself refuses) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time

from rolecall.timefmt import format_iso_z, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rolecall.credentials import Credentials

#: The variable botocore (and the other SDKs) read for a custom instance metadata endpoint.
ENDPOINT_VARIABLE = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
#: Variables that would stop an SDK from asking the IMDS face (removed from a client's environment).
CONFLICTING_VARIABLES = ("AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")

TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
#: IMDS's own bounds on a session token's life, in seconds.
MIN_TTL, MAX_TTL = 1, 21600
#: Session tokens kept at once; beyond it the one closest to expiry is dropped (a client asking in a loop
#: cannot make the server's memory grow).
MAX_TOKENS = 1024

_ROLE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9+=,.@_-]")


def role_name(profile: str) -> str:
    """The profile's name as an IAM role name (characters IAM allows; others become '-'), for the role list."""
    return _ROLE_NAME_UNSAFE.sub("-", profile)[:64] or "rolecall"


class ImdsTokens:
    """The session tokens handed out by ``PUT /latest/api/token``, each valid for its TTL (thread-safe).

    Tokens are kept by their SHA-256, so a lookup's timing says nothing about the token itself.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def issue(self, ttl: int) -> str:
        """A new random token valid for ``ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._expiry = {key: end for key, end in self._expiry.items() if end > now}
            if len(self._expiry) >= MAX_TOKENS:
                del self._expiry[min(self._expiry, key=self._expiry.__getitem__)]
            self._expiry[hashlib.sha256(token.encode()).digest()] = now + ttl
        return token

    def valid(self, token: str) -> bool:
        """True for a token this face issued whose TTL has not run out."""
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            end = self._expiry.get(key)
        return end is not None and end > self._clock()


class ImdsFace:
    """One profile's IMDS face: its role name, the secret path prefix, the tokens, whether IMDSv1 is allowed."""

    def __init__(self, profile: str, prefix: str, *, allow_v1: bool = False) -> None:
        #: The served profile (the key of its source in the server).
        self.profile = profile
        #: The name in the role list and in the credentials URL.
        self.role_name = role_name(profile)
        #: ``/<secret>``: the endpoint's path, a second secret as on the container face.
        self.prefix = prefix
        self.allow_v1 = allow_v1
        self.tokens = ImdsTokens()


def body(credentials: Credentials, expiration: datetime) -> bytes:
    """The JSON an instance's role credentials have (what botocore's InstanceMetadataFetcher reads)."""
    return json.dumps({
        "Code": "Success",
        "LastUpdated": format_iso_z(utc_now()),
        "Type": "AWS-HMAC",
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "Token": credentials.session_token,
        "Expiration": format_iso_z(expiration),
    }).encode()


class Answer:
    """What the face decided: a refusal (status and reason), or a body (text, or the profile's credentials)."""

    def __init__(self, status: int, why: str = "", text: str | None = None, *, allow: str = "",
                 credentials: bool = False, ttl: int = 0) -> None:  # fmt: skip
        self.status = status
        self.why = why
        self.text = text
        self.allow = allow
        #: True when the answer is the profile's credentials (the server fetches and renders them).
        self.credentials = credentials
        self.ttl = ttl


def _strip_prefix(path: str, prefix: str) -> str | None:
    """``path`` after the secret ``prefix`` (compared in constant time), or None when it does not start so."""
    head = path[: len(prefix) + 1]
    if not hmac.compare_digest(head.encode(), (prefix + "/").encode()):
        return None
    return path[len(prefix):]


def decide(face: ImdsFace, method: str, path: str, header: Callable[[str], list[str]]) -> Answer:
    """The answer to one request that passed the Host check; ``header(name)`` gives every value of a header."""
    rest = _strip_prefix(path, face.prefix)
    if rest is None:
        return Answer(404, "unknown path")
    if header("X-Forwarded-For"):
        return Answer(403, "forwarded by a proxy")
    if header("Transfer-Encoding") or any(value.strip() not in ("", "0") for value in header("Content-Length")):
        return Answer(400, "a request with a body")
    if rest == TOKEN_PATH:
        if method != "PUT":
            return Answer(405, f"method {method[:16]!r} not allowed", allow="PUT")
        return _token(face, header(TTL_HEADER))
    if rest not in (CREDENTIALS_PATH, CREDENTIALS_PATH + face.role_name):
        return Answer(404, "unknown path")
    if method != "GET":
        return Answer(405, f"method {method[:16]!r} not allowed", allow="GET")
    tokens = header(TOKEN_HEADER)
    if not tokens and not face.allow_v1:
        return Answer(401, "IMDSv1 request (no token) refused")
    if tokens and (len(tokens) != 1 or not face.tokens.valid(tokens[0].strip())):
        return Answer(401, "unknown or expired IMDS token")
    if rest == CREDENTIALS_PATH:
        return Answer(200, text=face.role_name)
    return Answer(200, credentials=True)


def _token(face: ImdsFace, ttls: list[str]) -> Answer:
    """``PUT /latest/api/token``: a token for the TTL asked (1 to 21600 s), or 400 as IMDS answers."""
    if len(ttls) != 1 or not re.fullmatch(r"[0-9]{1,6}", ttls[0].strip()):
        return Answer(400, "missing or malformed TTL header")
    ttl = int(ttls[0].strip())
    if not MIN_TTL <= ttl <= MAX_TTL:
        return Answer(400, "TTL out of range")
    return Answer(200, text=face.tokens.issue(ttl), ttl=ttl)
