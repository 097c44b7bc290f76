"""Opening the key store: the backend ``ROLECALL_KEYS_BACKEND`` asks for, else the keychain when usable.

Apart from ``keys/store.py`` (the store's contract, which both backends import) so that the contract does not
import its implementations (no import circle).
"""

from __future__ import annotations

from rolecall.errors import ConfigError
from rolecall.keys.store import BACKEND_VARIABLE, BACKENDS, keys_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rolecall.config.paths import AwsPaths
    from rolecall.keys.store import KeyStore

__all__ = ["open_store"]


def open_store(
    env: Mapping[str, str], paths: AwsPaths, passphrase: Callable[[bool], str] | None = None
) -> KeyStore:
    """The store ``ROLECALL_KEYS_BACKEND`` asks for, or the keychain when it is usable, else ``NoBackendError``.

    ``passphrase(creating)`` gives the encrypted file's passphrase (``creating``: the file does not exist yet,
    so ask twice); by default ``ROLECALL_KEYS_PASSPHRASE``, then a prompt on the terminal.
    """
    chosen = (env.get(BACKEND_VARIABLE) or "").strip().lower()
    if chosen and chosen not in BACKENDS:
        raise ConfigError(
            f"{BACKEND_VARIABLE}={chosen!r} is not a key store backend",
            hint=f"set {BACKEND_VARIABLE} to keyring or file",
        )
    if chosen == "file":
        from rolecall.keys.filestore import EncryptedFileStore, default_passphrase

        return EncryptedFileStore(keys_file(paths), passphrase or default_passphrase(env))
    from rolecall.keys.keyringstore import KeyringStore

    return KeyringStore.detect(explicit=chosen == "keyring")
