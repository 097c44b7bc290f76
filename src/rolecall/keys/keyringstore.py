"""The system keychain through the ``keyring`` library: Secret Service (Linux), macOS Keychain, Windows
Credential Locker.

Each key is one item: service ``rolecall`` (``rolecall:pending`` for the pending slot), user the profile name,
the password the key pair as JSON. Keychains have no portable way to list items, so the profile names are
also kept in one item (service ``rolecall:index``), which holds no secret.
"""

from __future__ import annotations

import json
from typing import Any

from rolecall.keys.store import BACKEND_VARIABLE, KeyStoreError, NoBackendError, StoredKey

SERVICE = "rolecall"
PENDING_SERVICE = "rolecall:pending"
INDEX_SERVICE = "rolecall:index"
INDEX_USER = "profiles"

#: How messages name the usual backends (by the module keyring loads them from).
_NAMES = {
    "keyring.backends.SecretService": "Secret Service",
    "keyring.backends.libsecret": "Secret Service",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Locker",
    "keyring.backends.kwallet": "KWallet",
}
_HINT = f"unlock the keychain (log in to the desktop session), or use an encrypted file: {BACKEND_VARIABLE}=file"


def _label(backend: Any) -> str:
    module = type(backend).__module__
    return _NAMES.get(module) or str(getattr(backend, "name", type(backend).__name__))


def _unusable(backend: Any) -> bool:
    """True for keyring's placeholders (no backend at all) and for backends that store in plaintext."""
    import keyring.backends.chainer
    import keyring.backends.fail

    if isinstance(backend, keyring.backends.fail.Keyring) or type(backend).__module__ == "keyring.backends.null":
        return True
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return not backend.backends or all(_unusable(b) for b in backend.backends)
    # keyrings.alt's PlaintextKeyring would put the secret in a file as it is: the very thing to avoid.
    return "Plaintext" in type(backend).__name__


class KeyringStore:
    """Keys in the system keychain."""

    name = "keyring"

    def __init__(self, backend: Any) -> None:
        """Use ``backend`` (a ``keyring`` backend instance); prefer ``KeyringStore.detect()``."""
        self._backend = backend
        inner = backend
        if type(backend).__name__ == "ChainerBackend" and getattr(backend, "backends", None):
            inner = next(b for b in backend.backends if not _unusable(b))
        self.label = _label(inner)
        self.description = f"the keychain ({self.label})"

    @classmethod
    def detect(cls, *, explicit: bool = False) -> KeyringStore:
        """The keychain ``keyring`` finds here; ``NoBackendError`` when there is none usable."""
        try:
            import keyring
        except ImportError:
            from rolecall.extras import install_hint

            raise NoBackendError(
                "the keyring library is not installed, so the keychain cannot be used", hint=install_hint("keys")
            ) from None
        backend = keyring.get_keyring()
        if _unusable(backend):
            asked = f" ({BACKEND_VARIABLE}=keyring)" if explicit else ""
            raise NoBackendError(
                f"no usable keychain here{asked}: no Secret Service, macOS Keychain or Windows Credential Locker",
                hint=f"on a headless machine, keep the keys in an encrypted file: set {BACKEND_VARIABLE}=file",
            )
        return cls(backend)

    # -- the items ------------------------------------------------------------------------------------------
    def _call(self, what: str, method: str, *args: str) -> Any:
        import keyring.errors

        try:
            return getattr(self._backend, method)(*args)
        except keyring.errors.PasswordDeleteError:
            return False
        except (keyring.errors.KeyringError, OSError) as error:
            # keyring's messages name the backend's state ("locked", "no such collection"), never the secret.
            raise KeyStoreError(f"cannot {what} {self.description}: {type(error).__name__}", hint=_HINT) from None

    def get(self, profile: str, *, pending: bool = False) -> StoredKey | None:
        """The key of ``profile`` (or its pending slot), or None."""
        raw = self._call("read from", "get_password", PENDING_SERVICE if pending else SERVICE, profile)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply, damaged like any bad JSON
            data = None
        return StoredKey.from_json(data, self.description)

    def put(self, profile: str, key: StoredKey, *, pending: bool = False) -> None:
        """Store ``key`` (the index is updated first, so a listed name may have no key, never the reverse)."""
        if not pending:
            self._write_index(sorted({*self.profiles(), profile}))
        self._call("write to", "set_password", PENDING_SERVICE if pending else SERVICE, profile,
                   json.dumps(key.to_json()))  # fmt: skip

    def delete(self, profile: str, *, pending: bool = False) -> bool:
        """Remove the key; True when there was one."""
        service = PENDING_SERVICE if pending else SERVICE
        existed = self._call("read from", "get_password", service, profile) is not None
        if existed:
            self._call("delete from", "delete_password", service, profile)
        if not pending:
            names = self.profiles()
            if profile in names:
                self._write_index([n for n in names if n != profile])
        return existed

    def profiles(self) -> list[str]:
        """The profiles with a stored key (from the index item), sorted."""
        raw = self._call("read from", "get_password", INDEX_SERVICE, INDEX_USER)
        try:
            names = json.loads(raw) if raw else []
        except (ValueError, RecursionError):
            names = []
        return sorted(n for n in names if isinstance(n, str)) if isinstance(names, list) else []

    def _write_index(self, names: list[str]) -> None:
        self._call("write to", "set_password", INDEX_SERVICE, INDEX_USER, json.dumps(names))
