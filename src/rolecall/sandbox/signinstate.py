"""The rules of the sandbox's AWS Sign-In service (``aws login``): authorization requests, codes, sessions,
refresh tokens, DPoP proofs. The HTTP side is ``rolecall.sandbox.signin``.

Strict where AWS is: the authorization request must use a known client, ``code_challenge_method=SHA-256``,
``scope=openid``, a state and the client's own kind of ``redirect_uri``; a code works once, for the client and
redirect it was issued to, with the PKCE verifier whose SHA-256 is the challenge, and expires (``AUTHCODE_EXPIRED``);
every CreateOAuth2Token carries a DPoP proof signed by the key in its header (ES256, P-256), for ``POST`` and this
URL, fresh (``iat``), never replayed (``jti``), and a session's refreshes must be signed by the key of its sign-in;
refresh tokens rotate (the old one stops working); access credentials live 900 s on the sandbox clock and are real
sandbox credentials of the seeded user; sessions end after 12 h (``TOKEN_EXPIRED``), or when revoked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rolecall.sandbox.state import (
    IssuedCredential,
    SandboxState,
    new_secret_access_key,
    new_session_access_key_id,
    new_session_token,
)

SAME_DEVICE = "arn:aws:signin:::devtools/same-device"
CROSS_DEVICE = "arn:aws:signin:::devtools/cross-device"
CONFIRMATION_PATH = "/v1/sessions/confirmation"
#: The sign-in session's region in the ARNs the sandbox issues.
REGION = "us-east-1"
ACCESS_LIFETIME = 900
CODE_LIFETIME = 300
SESSION_LIFETIME = 12 * 3600
#: How far a proof's ``iat`` may be from the service's wall clock.
PROOF_LEEWAY = 300


@dataclass
class SigninError(Exception):
    """A refusal: the exception's name, the OAuth ``error`` member, a message, the HTTP status."""

    code: str
    error: str
    message: str
    status: int = 400


def _denied(error: str, message: str) -> SigninError:
    return SigninError("AccessDeniedException", error, message)


def _invalid(message: str, error: str = "INVALID_REQUEST") -> SigninError:
    return SigninError("ValidationException", error, message)


@dataclass
class _Authorization:
    client_id: str
    redirect_uri: str
    state: str
    challenge: str


@dataclass
class _Code:
    authorization: _Authorization
    expires_at: float
    used: bool = False


@dataclass
class _Session:
    arn: str
    thumbprint: str
    expires_at: float
    refresh_token: str
    revoked: str | None = None  # the OAuth error its refreshes now get
    rotated: set[str] = field(default_factory=set)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def verify_proof(proof: str, url: str, now: float) -> tuple[str, str]:
    """Check a DPoP proof for ``POST url``; its key's thumbprint (x.y) and ``jti``. ``SigninError`` if not valid."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    try:
        head_b64, claims_b64, signature_b64 = proof.split(".")
        header, claims = json.loads(_b64url_decode(head_b64)), json.loads(_b64url_decode(claims_b64))
        jwk = header["jwk"]
        if header.get("typ") != "dpop+jwt" or header.get("alg") != "ES256":
            raise ValueError("typ must be dpop+jwt and alg ES256")
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
            raise ValueError("jwk must be a public EC P-256 key")
        x, y = (int.from_bytes(_b64url_decode(jwk[name]), "big") for name in ("x", "y"))
        key = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        raw = _b64url_decode(signature_b64)
        if len(raw) != 64:
            raise ValueError("the signature must be 64 bytes (r || s)")
        signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        key.verify(signature, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise _invalid("DPoP proof signature is not valid", "invalid_dpop_proof") from None
    except (ValueError, KeyError, TypeError, AttributeError) as why:
        raise _invalid(f"DPoP proof is malformed: {why}", "invalid_dpop_proof") from None
    if claims.get("htm") != "POST" or claims.get("htu") != url:
        raise _invalid("DPoP proof is not for this request (htm/htu)", "invalid_dpop_proof")
    iat = claims.get("iat")
    if not isinstance(iat, int) or abs(now - iat) > PROOF_LEEWAY:
        raise _invalid("DPoP proof is not fresh (iat)", "invalid_dpop_proof")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _invalid("DPoP proof has no jti", "invalid_dpop_proof")
    return f"{jwk['x']}.{jwk['y']}", jti


class SigninState:
    """The sign-in service's memory and its controls (used by tests and the demo through ``Sandbox.signin``)."""

    def __init__(self, state: SandboxState, user: Callable[[], tuple[str, str, str, str]]) -> None:
        """``user()`` gives the identity that signs in: (account id, ARN, user id, user name)."""
        self.lock = threading.RLock()
        self.state = state
        self.user = user
        self.reset()

    def reset(self) -> None:
        """Forget every request, code, session and setting."""
        with self.lock:
            self.pending: dict[str, _Authorization] = {}
            self.codes: dict[str, _Code] = {}
            self.sessions: dict[str, _Session] = {}
            self.by_refresh: dict[str, str] = {}
            self.seen_jti: deque[str] = deque(maxlen=10_000)
            self.auto_approve = False
            self.insufficient_permissions = False
            self.access_lifetime = ACCESS_LIFETIME
            self.code_lifetime = CODE_LIFETIME
            self.session_lifetime = SESSION_LIFETIME
            self.grants: dict[str, int] = {"authorization_code": 0, "refresh_token": 0}

    # -- controls --------------------------------------------------------------------------------------------
    def revoke_all(self, reason: str = "TOKEN_EXPIRED") -> None:
        """End every session: their refreshes get ``reason`` (``TOKEN_EXPIRED`` or ``USER_CREDENTIALS_CHANGED``)."""
        with self.lock:
            for session in self.sessions.values():
                session.revoked = reason

    # -- the authorization request ---------------------------------------------------------------------------
    def begin(self, query: Mapping[str, str], base_url: str) -> tuple[str, _Authorization]:
        """Check an ``/v1/authorize`` request; a request id for the consent page and the request."""
        client = query.get("client_id", "")
        if client not in (SAME_DEVICE, CROSS_DEVICE):
            raise _invalid("unknown client_id", "invalid_client")
        if query.get("response_type") != "code" or query.get("scope") != "openid":
            raise _invalid("response_type must be code and scope openid")
        if query.get("code_challenge_method") != "SHA-256" or not query.get("code_challenge"):
            raise _invalid("a code_challenge with code_challenge_method=SHA-256 is required")
        if not query.get("state"):
            raise _invalid("state is required")
        redirect = query.get("redirect_uri", "")
        if client == CROSS_DEVICE:
            ok = redirect == base_url + CONFIRMATION_PATH
        else:
            ok = redirect.startswith("http://127.0.0.1:") and redirect.endswith("/oauth/callback")
        if not ok:
            raise _invalid("redirect_uri is not allowed for this client")
        authorization = _Authorization(client, redirect, query["state"], query["code_challenge"])
        request_id = secrets.token_urlsafe(16)
        with self.lock:
            self.pending[request_id] = authorization
        return request_id, authorization

    def decide(self, request_id: str, allow: bool, now: float) -> str:
        """The person's decision on a pending request: where the browser goes next."""
        from urllib.parse import urlencode

        with self.lock:
            authorization = self.pending.pop(request_id, None)
            if authorization is None:
                raise _invalid("no such authorization request (already decided?)")
            if not allow:
                query = {"error": "access_denied", "state": authorization.state}
            else:
                code = secrets.token_urlsafe(32)
                self.codes[code] = _Code(authorization, now + self.code_lifetime)
                query = {"code": code, "state": authorization.state}
        return f"{authorization.redirect_uri}?{urlencode(query)}"

    # -- CreateOAuth2Token ------------------------------------------------------------------------------------
    def create_token(self, body: Mapping[str, Any], proof: str | None, url: str, now: float) -> dict[str, Any]:
        """A ``tokenOutput`` for the code or refresh grant of ``body``; ``SigninError`` when refused."""
        grant = body.get("grantType")
        if grant not in ("authorization_code", "refresh_token"):
            raise _invalid("grantType must be authorization_code or refresh_token", "unsupported_grant_type")
        if body.get("clientId") not in (SAME_DEVICE, CROSS_DEVICE):
            raise _invalid("unknown clientId", "invalid_client")
        if not proof:
            raise _invalid("the DPoP header is required", "invalid_dpop_proof")
        thumbprint, jti = verify_proof(proof, url, time.time())
        with self.lock:
            if jti in self.seen_jti:
                raise _invalid("DPoP proof was already used (jti)", "invalid_dpop_proof")
            self.seen_jti.append(jti)
            self.grants[grant] += 1
            if self.insufficient_permissions:
                raise _denied("INSUFFICIENT_PERMISSIONS", "User is not authorized to perform signin:CreateOAuth2Token")
            if grant == "authorization_code":
                return self._code_grant(body, thumbprint, now)
            return self._refresh_grant(body, thumbprint, now)

    def _code_grant(self, body: Mapping[str, Any], thumbprint: str, now: float) -> dict[str, Any]:
        code = self.codes.get(str(body.get("code", "")))
        if code is None or code.used or now >= code.expires_at:
            raise _denied("AUTHCODE_EXPIRED", "The authorization code has expired or was already used")
        code.used = True
        wanted = code.authorization
        if body.get("clientId") != wanted.client_id or body.get("redirectUri") != wanted.redirect_uri:
            raise _invalid("clientId and redirectUri must match the authorization request", "invalid_grant")
        verifier = str(body.get("codeVerifier", ""))
        if _b64url(hashlib.sha256(verifier.encode()).digest()) != wanted.challenge:
            raise _invalid("the code verifier does not match the code challenge (PKCE)", "invalid_grant")
        account, _, _, _ = self.user()
        arn = f"arn:aws:signin:{REGION}:{account}:session/{uuid.uuid4()}"
        session = _Session(arn, thumbprint, now + self.session_lifetime, "")
        self.sessions[arn] = session
        output = self._issue(session, now)
        output["idToken"] = self._id_token(arn, wanted.client_id, now)
        return output

    def _refresh_grant(self, body: Mapping[str, Any], thumbprint: str, now: float) -> dict[str, Any]:
        token = str(body.get("refreshToken", ""))
        arn = self.by_refresh.get(token)
        session = self.sessions.get(arn or "")
        if session is None:
            raise _denied("TOKEN_EXPIRED", "The refresh token is not valid")
        if session.revoked is not None:
            raise _denied(session.revoked, "The session has ended")
        if token in session.rotated or now >= session.expires_at:
            raise _denied("TOKEN_EXPIRED", "The refresh token has expired")
        if thumbprint != session.thumbprint:
            raise _invalid("DPoP proof is not signed by the session's key", "invalid_dpop_proof")
        session.rotated.add(token)  # rotation: the old refresh token stops working
        return self._issue(session, now)

    def _issue(self, session: _Session, now: float) -> dict[str, Any]:
        account, arn, user_id, user_name = self.user()
        lifetime = max(1, min(self.access_lifetime, int(session.expires_at - now)))
        issued = IssuedCredential(
            access_key_id=new_session_access_key_id(),
            secret_access_key=new_secret_access_key(),
            session_token=new_session_token(),
            expiration=datetime.fromtimestamp(int(now) + lifetime, timezone.utc),
            kind="session",
            account_id=account,
            arn=arn,
            user_id=user_id,
            user_name=user_name,
        )
        self.state.record(issued)
        refresh = "ASOR" + secrets.token_urlsafe(48)
        session.refresh_token = refresh
        self.by_refresh[refresh] = session.arn
        return {
            "accessToken": {
                "accessKeyId": issued.access_key_id,
                "secretAccessKey": issued.secret_access_key,
                "sessionToken": issued.session_token,
            },
            "tokenType": "aws_sigv4",
            "expiresIn": lifetime,
            "refreshToken": refresh,
        }

    @staticmethod
    def _id_token(subject: str, audience: str, now: float) -> str:
        header = {"typ": "JWT", "alg": "none"}
        claims = {"sub": subject, "aud": audience, "iss": "https://signin.aws.amazon.com", "iat": int(now),
                  "exp": int(now) + ACCESS_LIFETIME}  # fmt: skip
        return ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims)) + "."
