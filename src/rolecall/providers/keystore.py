"""Long-term keys kept in rolecall's key store (the keychain or the encrypted file), as a credential source.

A profile whose ``credential_process`` is exactly ``rolecall credential-process --keys NAME`` is resolved
here, in-process (no subprocess), and behaves like keys in the credentials file (``StaticProvider``): the
``reuse`` MFA strategy works, cache keys are the same. The AWS CLI and SDKs run the command instead and get
the same keys from it.
"""

from __future__ import annotations

import os

from rolecall.providers.result import NO_CONSOLE_FACTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials
    from rolecall.keys.store import KeyStore
    from rolecall.providers.result import ConsoleFacts


def stored_key_name(command: str) -> str | None:
    """NAME when ``command`` is ``rolecall credential-process --keys NAME`` (the program may be an absolute
    path to ``rolecall``, or ``PYTHON -m rolecall``), else None. Parsed with shlex, as botocore runs it."""
    if "--keys" not in command:  # the cheap test first
        return None
    if any(c in command for c in "'\"\\#"):
        import shlex  # only for quoted forms: shlex (and re, enum) cost the cached fast path

        try:
            argv = shlex.split(command, comments=False)
        except ValueError:
            return None
    else:
        argv = command.split()  # what shlex.split gives for a command without quotes or backslashes
    if len(argv) >= 3 and argv[1:3] == ["-m", "rolecall"] and os.path.basename(argv[0]).startswith("python"):
        rest = argv[3:]
    elif argv and (argv[0] == "rolecall" or (os.path.isabs(argv[0]) and os.path.basename(argv[0]) == "rolecall")):
        rest = argv[1:]
    else:
        return None
    if len(rest) == 3 and rest[:2] == ["credential-process", "--keys"] and rest[2] and not rest[2].startswith("-"):
        return rest[2]
    if len(rest) == 2 and rest[0] == "credential-process" and rest[1].startswith("--keys="):
        name = rest[1].partition("=")[2]
        return name or None
    return None


def credential_process_command(name: str) -> str:
    """The ``credential_process`` value that points the AWS CLI and SDKs at the stored key ``name``."""
    import shlex

    return f"rolecall credential-process --keys {shlex.quote(name)}"


class KeystoreProvider:
    """The stored long-term key ``name``; the store is opened (and the keychain asked) only when needed."""

    method = "rolecall-keystore"

    def __init__(self, name: str, env: Mapping[str, str], paths: AwsPaths, store: KeyStore | None = None) -> None:
        self.name = name
        self._env = env
        self._paths = paths
        self._store = store
        self._credentials: Credentials | None = None

    def store(self) -> KeyStore:
        """The backend (chosen by ROLECALL_KEYS_BACKEND), opened once."""
        if self._store is None:
            from rolecall.keys.backends import open_store

            self._store = open_store(self._env, self._paths)
        return self._store

    @property
    def description(self) -> str:
        """Where the keys are, without opening the store (for sentences made before any lookup)."""
        if self._store is not None:
            return self._store.description
        backend = (self._env.get("ROLECALL_KEYS_BACKEND") or "").strip().lower()
        return "the encrypted key file" if backend == "file" else "the keychain"

    def cached_is_temporary(self) -> bool:
        """Always False: the store keeps long-term keys only (what the ``reuse`` MFA strategy needs)."""
        return False

    def retrieve(self) -> Credentials:
        """The stored keys; ``ConfigError`` when there are none under ``name``."""
        if self._credentials is None:
            from rolecall.errors import ConfigError

            key = self.store().get(self.name)
            if key is None:
                raise ConfigError(
                    f'no key is stored for "{self.name}" in {self.store().description}',
                    hint=f"add it: rolecall keys add {self.name} (or import it: rolecall keys import {self.name})",
                )
            self._credentials = key.credentials()
        return self._credentials

    def cached(self) -> Credentials | None:
        """Stored keys are at hand without a network call (the keychain may still ask to be unlocked)."""
        return self.retrieve()

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially (federation, if needed, is decided by the keys in hand)."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """One sentence naming the key (shortened) and where it is kept."""
        from rolecall.errors import RolecallError
        from rolecall.keys.store import short

        try:
            credentials = self.retrieve()
        except RolecallError as error:
            return [f'long-term keys "{self.name}" from {self.description}: not readable now ({error.message})']
        return [f"long-term keys {short(credentials.access_key_id)} from {self.description}"]
