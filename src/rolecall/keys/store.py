"""The key store: one interface over the keychain and the encrypted file, and the setting that picks one.

A stored key is an IAM user's long-term key pair (access key id and secret, never a session token), kept
under a slot named after a profile. Each profile has a second, *pending* slot that ``keys rotate`` fills with
a new key before it has been verified, so that the working key is never replaced by one that does not work.

The backend comes from ``ROLECALL_KEYS_BACKEND`` (``keyring`` or ``file``); unset, the keychain when the
``keyring`` library finds a usable one, else a one-line error with the hint to use the encrypted file.
"""

from __future__ import annotations

from rolecall.errors import ConfigError, ExitCode, InvalidInputError, RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials

    class KeyStore(Protocol):
        """What every backend provides. Methods raise ``KeyStoreError`` (or a subclass) when the backend fails."""

        #: Short name of the backend for ``keys list``: ``keyring`` or ``file``.
        name: str
        #: How messages name where keys live: ``the keychain (Secret Service)``, ``the encrypted file ...``.
        description: str

        def get(self, profile: str, *, pending: bool = False) -> StoredKey | None:
            """The key of ``profile`` (or its pending slot), or None."""

        def put(self, profile: str, key: StoredKey, *, pending: bool = False) -> None:
            """Store ``key`` for ``profile`` (or in its pending slot), replacing what was there."""

        def delete(self, profile: str, *, pending: bool = False) -> bool:
            """Remove the key of ``profile`` (or its pending slot); True when there was one."""

        def profiles(self) -> list[str]:
            """The profiles with a stored key, sorted."""


#: The environment variable that picks the backend.
BACKEND_VARIABLE = "ROLECALL_KEYS_BACKEND"
BACKENDS = ("keyring", "file")


class KeyStoreError(RolecallError):
    """The store could not be read or written (locked keychain, unreadable or damaged file)."""

    exit_code = ExitCode.FILE


class NoBackendError(ConfigError):
    """No usable backend: no keychain here and the encrypted file was not chosen."""


class StoredKey:
    """An IAM user's long-term key pair. ``repr`` never shows the secret."""

    __slots__ = ("access_key_id", "secret_access_key")

    access_key_id: str
    secret_access_key: str

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        object.__setattr__(self, "access_key_id", access_key_id)
        object.__setattr__(self, "secret_access_key", secret_access_key)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("StoredKey is immutable")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StoredKey)
            and other.access_key_id == self.access_key_id
            and other.secret_access_key == self.secret_access_key
        )

    def __hash__(self) -> int:
        return hash((self.access_key_id, self.secret_access_key))

    def __repr__(self) -> str:
        return f"StoredKey({mask(self.access_key_id)})"

    def to_json(self) -> dict[str, str]:
        """The credential_process field names (what the store keeps)."""
        return {"AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}

    @classmethod
    def from_json(cls, data: object, where: str) -> StoredKey:
        """Read back what ``to_json`` gave; ``KeyStoreError`` when it is not that shape."""
        if isinstance(data, dict):
            key_id, secret = data.get("AccessKeyId"), data.get("SecretAccessKey")
            if isinstance(key_id, str) and isinstance(secret, str) and key_id and secret:
                return cls(key_id, secret)
        raise KeyStoreError(
            f"a stored key in {where} is damaged", hint="remove it with `rolecall keys remove` and add it again"
        )

    def credentials(self) -> Credentials:
        """As ``Credentials`` (no session token, no expiry)."""
        from rolecall.credentials import Credentials

        return Credentials(self.access_key_id, self.secret_access_key)


def mask(access_key_id: str) -> str:
    """``****ABCD``: the last four characters only, as ``aws configure list`` shows keys."""
    return "****" + access_key_id[-4:]


def short(access_key_id: str) -> str:
    """``AKIA…ABCD``: enough to tell keys apart in a sentence, not the whole id."""
    if len(access_key_id) <= 8:
        return mask(access_key_id)
    return f"{access_key_id[:4]}…{access_key_id[-4:]}"


def check_key(key_id: str, secret: str) -> StoredKey:
    """Validate a key pair typed or piped in; ``InvalidInputError`` (never showing the secret) when it is wrong."""
    key_id, secret = key_id.strip(), secret.strip()
    if not key_id or not secret:
        raise InvalidInputError(
            "an access key id and a secret access key are both needed",
            hint='give them on two lines, or as {"AccessKeyId": ..., "SecretAccessKey": ...}',
        )
    if not (16 <= len(key_id) <= 128 and key_id.isalnum() and key_id.isascii()):
        raise InvalidInputError(
            "the access key id is not one (16 to 128 letters and digits, e.g. AKIA...)",
            hint="check you gave the access key id first and the secret second",
        )
    if key_id.startswith("ASIA"):
        raise InvalidInputError(
            "the access key id is of temporary credentials (ASIA...); only long-term keys are stored",
            hint="store an IAM user's access key (AKIA...); temporary credentials come from rolecall itself",
        )
    if any(c.isspace() for c in secret) or not secret.isprintable():
        raise InvalidInputError(
            "the secret access key contains spaces or control characters", hint="paste it again, on its own line"
        )
    return StoredKey(key_id, secret)


def keys_file(paths: AwsPaths) -> str:
    """``~/.aws/rolecall/keys.enc`` (under ``ROLECALL_HOME`` when set)."""
    import os

    return os.path.join(paths.rolecall_dir, "keys.enc")
