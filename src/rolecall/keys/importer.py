"""``keys import``: move long-term keys from the credentials file into the key store.

For each imported profile the key pair goes into the store first; then, under the credentials file's lock,
the two key lines of its section are replaced by ``credential_process = rolecall credential-process --keys
NAME`` with the format-preserving editor (comments, order, blank lines kept) and the file is replaced
atomically. The old file is kept, 0600, as ``<file>.rolecall-backup-<UTC time>`` until ``keys import
--confirm`` deletes the backups: a failed import never loses a key, and the person can check everything
works before the last plaintext copy goes.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rolecall.errors import ConfigError, NotFoundError, RolecallError
from rolecall.keys.store import StoredKey, check_key
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.keys.store import KeyStore

BACKUP_INFIX = ".rolecall-backup-"
#: Keys a section may not have for its keys to be imported as long-term keys.
_TEMPORARY = ("aws_session_token", "aws_security_token")


@dataclass
class ImportResult:
    """What ``import_keys`` did: the profiles moved (with their key ids), those left alone and why, the backup."""

    imported: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    backup: str | None = None


def _text(section: dict[str, object], key: str) -> str | None:
    value = section.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _candidate(name: str, section: dict[str, object]) -> tuple[StoredKey | None, str]:
    """The section's key pair, or None and why it is not imported."""
    key_id = _text(section, "aws_access_key_id")
    secret = _text(section, "aws_secret_access_key")
    if key_id is None and secret is None:
        return None, "no keys in this section"
    if key_id is None or secret is None:
        return None, "partial keys (an access key id or a secret is missing)"
    if any(_text(section, k) for k in _TEMPORARY):
        return None, "temporary keys (a session token): not long-term keys"
    if _text(section, "credential_process"):
        return None, "the section has a credential_process already"
    try:
        return check_key(key_id, secret), ""
    except RolecallError as error:  # the reason, never the value
        return None, error.message


def backup_path(path: str, now: datetime) -> str:
    """``<path>.rolecall-backup-20261203T164732Z`` (a suffix added when that name is taken)."""
    base = f"{path}{BACKUP_INFIX}{now.strftime('%Y%m%dT%H%M%SZ')}"
    candidate, index = base, 1
    while os.path.exists(candidate):
        candidate, index = f"{base}-{index}", index + 1
    return candidate


def import_keys(
    credentials_file: str,
    store: KeyStore,
    names: Sequence[str] | None,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> ImportResult:
    """Import the named profiles' keys (``names`` None: every section with long-term keys).

    A named profile without importable keys is an error (``NotFoundError`` when it has no section); with
    ``names`` None such sections are reported in ``skipped``. Returns what was done; the file is written only
    when something was imported.
    """
    from rolecall import fileio
    from rolecall.config.edit import SectionRef, apply_changes, decode_config
    from rolecall.config.parse import parse_raw
    from rolecall.providers.keystore import credential_process_command

    result = ImportResult()
    with fileio.exclusive_lock(credentials_file):
        data = fileio.read_bytes(credentials_file)
        if data is None:
            raise NotFoundError(
                f"there is no credentials file at {credentials_file}",
                hint="nothing to import; add keys straight to the store with: rolecall keys add PROFILE",
            )
        old = decode_config(data, credentials_file)
        sections = parse_raw(old, credentials_file)
        chosen: list[tuple[str, StoredKey]] = []
        for name in names if names is not None else list(sections):
            section = sections.get(name)
            if section is None:
                raise NotFoundError(
                    f'the credentials file has no section [{name}]',
                    hint="run `rolecall configure list-profiles`; `rolecall keys import --all` imports every one",
                )
            key, why = _candidate(name, dict(section))
            if key is None:
                if names is not None:
                    raise ConfigError(
                        f"[{name}] of the credentials file cannot be imported: {why}",
                        hint="only sections with an IAM user's access key and secret are imported",
                    )
                result.skipped.append((name, why))
                continue
            chosen.append((name, key))
        if not chosen:
            return result
        # The store first: if it fails, the file is untouched and every key is still where it was.
        for name, key in chosen:
            store.put(name, key)
        new = old
        for name, _key in chosen:
            new = apply_changes(
                new,
                SectionRef.raw(name),
                {
                    "aws_access_key_id": None,
                    "aws_secret_access_key": None,
                    "credential_process": credential_process_command(name),
                },
                credentials_file,
            )
        _check(new, credentials_file, [name for name, _ in chosen])
        result.backup = backup_path(credentials_file, clock())
        # O_EXCL-safe and 0600 whatever the umask: atomic_write gives a new file ``mode``.
        fileio.atomic_write(result.backup, data, mode=0o600)
        fileio.atomic_write(credentials_file, new.encode("utf-8"))
    result.imported = [(name, key.access_key_id) for name, key in chosen]
    return result


def _check(text: str, path: str, names: list[str]) -> None:
    """The new text must read back with no secret in the imported sections and the command in each."""
    from rolecall.config.parse import parse_raw
    from rolecall.providers.keystore import stored_key_name

    sections = parse_raw(text, path)
    for name in names:
        section = sections.get(name) or {}
        process = section.get("credential_process")
        if "aws_secret_access_key" in section or not isinstance(process, str) or stored_key_name(process) != name:
            raise ConfigError(
                f"rewriting [{name}] of {path} did not read back as intended; the file was not changed",
                hint="report this; the keys are in the store and still in the file",
            )


def backups(credentials_file: str) -> list[str]:
    """The backups ``import_keys`` left next to ``credentials_file``, oldest first."""
    return sorted(glob.glob(glob.escape(credentials_file) + BACKUP_INFIX + "*"))


def delete_backups(credentials_file: str) -> list[str]:
    """Delete the backups (``keys import --confirm``); return the paths deleted."""
    from rolecall.errors import FileError

    deleted = []
    for path in backups(credentials_file):
        try:
            os.remove(path)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise FileError(f"cannot delete the backup {path}: {error.strerror}",
                            hint="delete it by hand: it holds plaintext keys") from None  # fmt: skip
        deleted.append(path)
    return deleted
