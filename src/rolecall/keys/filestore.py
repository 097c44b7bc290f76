"""The encrypted-file backend for machines without a keychain (servers, containers, CI runners).

``~/.aws/rolecall/keys.enc`` (0600, written atomically under a lock) is JSON holding the scrypt parameters
and salt and one Fernet token (AES-128-CBC with HMAC-SHA256, ``cryptography``) of the stored keys. The
Fernet key is derived from a passphrase with scrypt (n=2**15, r=8, p=1), so a copy of the file (a backup, a
synced folder, an accidental commit) is worthless without the passphrase. The passphrase comes from
``ROLECALL_KEYS_PASSPHRASE`` or a no-echo prompt on the terminal (/dev/tty).

The file is read with the caches' guarded reader (``rolecall.cache.read_regular_file``): a regular file of
at most ``MAX_FILE_SIZE`` bytes (a symlink to one is fine), opened without blocking, so a named pipe, a device
or a huge file in its place is one line and exit 7 at once; so is a file owned by another user, and any
content that is not this module's (bad JSON, nested too deeply, the wrong shape, before or after decryption).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from rolecall.errors import InvalidInputError
from rolecall.keys.store import KeyStoreError, StoredKey

PASSPHRASE_VARIABLE = "ROLECALL_KEYS_PASSPHRASE"
FORMAT = "rolecall-keys"
#: scrypt's cost: about 0.1 s and 32 MiB per derivation, once per process.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
#: A stored key takes about 200 bytes of the file: 4 MiB is room for 20,000 of them, and a bigger file is
#: refused rather than read into memory.
MAX_FILE_SIZE = 4 << 20
_DAMAGED_HINT = "restore it from a backup, or move it away and add the keys again"

Passphrase = Callable[[bool], str]


class WrongPassphraseError(InvalidInputError):
    """The passphrase does not open the encrypted key file."""


def default_passphrase(env: Mapping[str, str], tty: str = "/dev/tty") -> Passphrase:
    """``ROLECALL_KEYS_PASSPHRASE`` when set, else a no-echo prompt on ``tty`` (twice when creating the file)."""

    def get(creating: bool) -> str:
        value = env.get(PASSPHRASE_VARIABLE)
        if value:
            return value
        from rolecall.keys.entry import ask_secret

        prompt = "New passphrase for the rolecall key file: " if creating else "Passphrase of the rolecall key file: "
        first = ask_secret(prompt, tty=tty, what="the key file's passphrase")
        if not first:
            raise InvalidInputError("the passphrase is empty", hint="type a passphrase, or set " + PASSPHRASE_VARIABLE)
        if creating and ask_secret("Same passphrase again: ", tty=tty, what="the key file's passphrase") != first:
            raise InvalidInputError("the two passphrases differ", hint="run the command again and type it twice")
        return first

    return get


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class EncryptedFileStore:
    """Keys in one Fernet-encrypted file."""

    name = "file"

    def __init__(self, path: str, passphrase: Passphrase) -> None:
        """Keys in ``path``; ``passphrase(creating)`` is asked at most once per store."""
        self.path = path
        self.description = f"the encrypted file {path}"
        self._passphrase = passphrase
        self._secret: str | None = None
        self._keys: dict[bytes, bytes] = {}  # salt -> derived Fernet key

    # -- encryption -----------------------------------------------------------------------------------------
    def _fernet(self, salt: bytes, creating: bool) -> Any:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

        if salt not in self._keys:
            if self._secret is None:
                self._secret = self._passphrase(creating)
            raw = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(self._secret.encode())
            self._keys[salt] = base64.urlsafe_b64encode(raw)
        return Fernet(self._keys[salt])

    def _read(self) -> bytes | None:
        """The file's bytes, or None when there is none; ``KeyStoreError`` when what is there is not a file to
        read (a pipe, a device, too big, unreadable) or belongs to another user."""
        from rolecall.cache import read_regular_file

        try:
            data = read_regular_file(self.path, MAX_FILE_SIZE)
            # Checked on the path after the read (the guarded reader keeps its descriptor to itself): a file
            # swapped in meanwhile can only fail to decrypt, the content being authenticated.
            owner = os.stat(self.path).st_uid if data is not None and hasattr(os, "getuid") else None
        except FileNotFoundError:
            return None
        except OSError as error:
            raise KeyStoreError(
                f"cannot read the key file {self.path}: {error.strerror or type(error).__name__}",
                hint=f"it must be a regular file of at most {MAX_FILE_SIZE >> 20} MiB: move it away and "
                "restore keys.enc from a backup, or add the keys again",
            ) from None
        if owner is not None and owner != os.getuid():
            # rolecall would also write it (keys add, rotate): never a file someone else owns (issue 15).
            raise KeyStoreError(
                f"the key file {self.path} belongs to another user (uid {owner})",
                hint="run rolecall as the user who owns it, or move it away if it is not yours",
            )
        return data

    def _damaged(self, what: str) -> KeyStoreError:
        return KeyStoreError(f"{self.path} is not a rolecall key file (damaged? {what})", hint=_DAMAGED_HINT)

    def _load(self) -> tuple[dict[str, dict[str, Any]], bytes | None]:
        """(the decrypted content, its salt); an empty content and None when the file does not exist."""
        from cryptography.fernet import InvalidToken

        data = self._read()
        if data is None:
            return {"keys": {}, "pending": {}}, None
        try:
            outer = json.loads(data)
            if outer.get("format") != FORMAT or outer.get("version") != 1:
                raise ValueError("not a rolecall key file")
            salt = base64.b64decode(outer["kdf"]["salt"], validate=True)
            token = outer["data"].encode("ascii")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise self._damaged("not the JSON rolecall writes") from None
        if not salt:
            raise self._damaged("no salt")
        try:
            plain = self._fernet(salt, False).decrypt(token)
        except InvalidToken:
            self._secret = None
            self._keys.pop(salt, None)
            raise WrongPassphraseError(
                f"the passphrase does not open {self.path}",
                hint="check ROLECALL_KEYS_PASSPHRASE or type it again (it was set when the file was created)",
            ) from None
        try:
            content = json.loads(plain)
        except (ValueError, RecursionError):
            raise self._damaged("its decrypted content is not JSON") from None
        if not isinstance(content, dict):
            raise self._damaged("its decrypted content is not an object")
        for slot in ("keys", "pending"):
            content.setdefault(slot, {})
            if not isinstance(content[slot], dict):
                raise self._damaged(f'"{slot}" is not an object')
        return content, salt

    def _save(self, content: dict[str, dict[str, Any]], salt: bytes | None) -> None:
        from rolecall import fileio

        if salt is None:
            salt = os.urandom(16)
        token = self._fernet(salt, True).encrypt(json.dumps(content).encode())
        outer = {
            "format": FORMAT,
            "version": 1,
            "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
            "data": token.decode("ascii"),
        }
        fileio.atomic_write(self.path, (json.dumps(outer, indent=1) + "\n").encode(), mode=0o600)
        # An existing file keeps its mode through atomic_write: make sure it is the owner's only.
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    def _update(self, change: Callable[[dict[str, dict[str, Any]]], bool]) -> bool:
        from rolecall import fileio

        with fileio.exclusive_lock(self.path):
            content, salt = self._load()
            changed = change(content)
            if changed:
                self._save(content, salt)
        return changed

    # -- the interface ---------------------------------------------------------------------------------------
    def get(self, profile: str, *, pending: bool = False) -> StoredKey | None:
        """The key of ``profile`` (or its pending slot), or None."""
        content, _salt = self._load()
        found = content["pending" if pending else "keys"].get(profile)
        return None if found is None else StoredKey.from_json(found, self.description)

    def put(self, profile: str, key: StoredKey, *, pending: bool = False) -> None:
        """Store ``key`` for ``profile`` (or in its pending slot)."""

        def change(content: dict[str, dict[str, Any]]) -> bool:
            content["pending" if pending else "keys"][profile] = key.to_json()
            return True

        self._update(change)

    def delete(self, profile: str, *, pending: bool = False) -> bool:
        """Remove the key; True when there was one."""

        def change(content: dict[str, dict[str, Any]]) -> bool:
            return content["pending" if pending else "keys"].pop(profile, None) is not None

        if not os.path.exists(self.path):
            return False
        return self._update(change)

    def profiles(self) -> list[str]:
        """The profiles with a stored key, sorted (asks for the passphrase: the names are encrypted too)."""
        if not os.path.exists(self.path):
            return []
        content, _salt = self._load()
        return sorted(content["keys"])
