"""The sign-in session's DPoP key and proofs (RFC 9449), as the AWS CLI v2 and botocore make them.

The key is EC P-256, one per sign-in, kept in the token file's ``dpopKey`` as a PEM ``EC PRIVATE KEY`` (SEC 1 DER,
base64 in 64-character lines), which is what botocore reads back. A proof is a JWT signed with ES256: header
``{"typ": "dpop+jwt", "alg": "ES256", "jwk": {kty, x, y, crv}}``, claims ``{"htm": "POST", "htu": URL,
"iat": seconds, "jti": UUID}``, the signature as the raw 64-byte ``r || s``. ``cryptography`` is imported only
here, when a key is made or used.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

from rolecall.errors import LoginError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_INSTALL_HINT = "install it: pip install cryptography (the `rolecall[login]` extra)"


def b64url(data: bytes) -> str:
    """base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _ec() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError:
        raise LoginError("`aws login` sessions need the Python package cryptography", hint=_INSTALL_HINT) from None
    return ec


class DpopKey:
    """One sign-in session's EC P-256 private key. ``repr`` shows nothing of it."""

    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        """Wrap a ``cryptography`` EC private key (use ``generate`` or ``from_pem``)."""
        self._key = key

    def __repr__(self) -> str:
        return "DpopKey(P-256)"

    @classmethod
    def generate(cls) -> DpopKey:
        """A new key for a new sign-in."""
        return cls(_ec().generate_private_key(_ec().SECP256R1()))

    @classmethod
    def from_pem(cls, text: str) -> DpopKey:
        """The key of a token file's ``dpopKey`` (``ValueError`` when it is not an EC P-256 private key).

        As botocore: the lines between the PEM markers are base64 of SEC 1 DER."""
        from cryptography.hazmat.primitives.serialization import load_der_private_key

        body = "".join(line for line in text.splitlines() if not line.startswith("-----")).strip()
        try:
            key = load_der_private_key(base64.b64decode(body, validate=True), password=None)
        except (ValueError, TypeError) as error:
            raise ValueError("dpopKey is not a private key") from error
        ec = _ec()
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("dpopKey is not an EC P-256 key")
        return cls(key)

    def to_pem(self) -> str:
        """``-----BEGIN EC PRIVATE KEY-----`` ... (SEC 1, 64-character lines), the CLI v2's ``dpopKey``."""
        from cryptography.hazmat.primitives import serialization

        data: bytes = self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        return data.decode("ascii")

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (``kty``, ``x``, ``y``, ``crv``)."""
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "EC",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
            "crv": "P-256",
        }

    def proof(self, url: str, *, issued_at: int | None = None, jti: str | None = None) -> str:
        """The DPoP header value for a POST to ``url``."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk()}
        claims = {
            "htm": "POST",
            "htu": url,
            "iat": int(time.time()) if issued_at is None else issued_at,
            "jti": jti or str(uuid.uuid4()),
        }
        signing_input = ".".join(
            b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        der = self._key.sign(signing_input.encode("ascii"), _ec().ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
