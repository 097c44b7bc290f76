"""``keys import``: move long-term keys from the credentials file into the key store.

For each imported profile the key pair goes into the store first; then, under the credentials file's lock,
the two key lines of its section are replaced by ``credential_process = rolecall credential-process --keys
NAME`` with the format-preserving editor (comments, order, blank lines kept) and the file is replaced
atomically. The old file is kept, 0600, as ``<file>.rolecall-backup-<UTC time>`` until ``keys import
--confirm`` deletes the backups: a failed import never loses a key, and the person can check everything
works before the last plaintext copy goes.

No other copy of an imported secret may outlive the import (issue 15): the backup is written as
``<backup>.partial`` and renamed when complete, and both the import and ``--confirm`` remove, under the
credentials file's lock, what a killed run left (unfinished backups, the atomic writer's temporary files,
backups identical to the file being backed up again) and purge the parse cache's copies
(``rolecall.config.parse.purge_parse_cache``).
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rolecall.errors import ConfigError, NotFoundError, RolecallError
from rolecall.keys.store import StoredKey, check_key
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.keys.store import KeyStore

BACKUP_INFIX = ".rolecall-backup-"
#: A backup being written; renamed to the backup's name once complete and on disk.
PARTIAL_SUFFIX = ".partial"
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
    """``<path>.rolecall-backup-20261203T164732Z`` (a suffix added when that name, or its partial file, is taken
    by anything, a dangling symlink included)."""
    base = f"{path}{BACKUP_INFIX}{now.strftime('%Y%m%dT%H%M%SZ')}"
    candidate, index = base, 1
    while os.path.lexists(candidate) or os.path.lexists(candidate + PARTIAL_SUFFIX):
        candidate, index = f"{base}-{index}", index + 1
    return candidate


def import_keys(
    credentials_file: str,
    store: KeyStore,
    names: Sequence[str] | None,
    *,
    clock: Callable[[], datetime] = utc_now,
    rolecall_dir: str | None = None,
) -> ImportResult:
    """Import the named profiles' keys (``names`` None: every section with long-term keys).

    A named profile without importable keys is an error (``NotFoundError`` when it has no section); with
    ``names`` None such sections are reported in ``skipped``. Returns what was done; the file is written only
    when something was imported. Leftovers of a killed import are deleted first; after the write the parse
    cache in ``rolecall_dir`` (when given) loses its copies of the old file.
    """
    from rolecall import fileio
    from rolecall.config.edit import decode_config
    from rolecall.config.parse import parse_raw

    result = ImportResult()
    with fileio.exclusive_lock(credentials_file):
        # What an import killed before us left (we hold the lock: its writer is gone).
        _remove_leftovers(credentials_file)
        data = fileio.read_bytes(credentials_file)
        if data is None:
            raise NotFoundError(
                f"there is no credentials file at {credentials_file}",
                hint="nothing to import; add keys straight to the store with: rolecall keys add PROFILE",
            )
        old = decode_config(data, credentials_file)
        chosen = _choose(parse_raw(old, credentials_file), names, result)
        if not chosen:
            return result
        # The store first: if it fails, the file is untouched and every key is still where it was.
        for name, key in chosen:
            store.put(name, key)
        new = _without_keys(old, [name for name, _ in chosen], credentials_file)
        result.backup = _back_up_once(credentials_file, data, clock())
        fileio.atomic_write(credentials_file, new.encode("utf-8"))
        if rolecall_dir is not None:
            purge_derived_copies(credentials_file, rolecall_dir)
    result.imported = [(name, key.access_key_id) for name, key in chosen]
    return result


def _choose(
    sections: Mapping[str, Mapping[str, object]], names: Sequence[str] | None, result: ImportResult
) -> list[tuple[str, StoredKey]]:
    """The sections to import with their keys; with ``names`` None, the others are noted in ``result.skipped``."""
    chosen: list[tuple[str, StoredKey]] = []
    for name in names if names is not None else list(sections):
        section = sections.get(name)
        if section is None:
            raise NotFoundError(
                f"the credentials file has no section [{name}]",
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
    return chosen


def _without_keys(text: str, names: Sequence[str], credentials_file: str) -> str:
    """``text`` with each named section's keys replaced by the ``credential_process`` reading the store."""
    from rolecall.config.edit import SectionRef, apply_changes
    from rolecall.providers.keystore import credential_process_command

    for name in names:
        text = apply_changes(
            text,
            SectionRef.raw(name),
            {
                "aws_access_key_id": None,
                "aws_secret_access_key": None,
                "credential_process": credential_process_command(name),
            },
            credentials_file,
        )
    _check(text, credentials_file, list(names))
    return text


def _back_up_once(credentials_file: str, data: bytes, now: datetime) -> str:
    """Write the backup of ``data`` and return its path, deleting complete copies a killed import left."""
    path = backup_path(credentials_file, now)
    write_backup(path, data)
    # A complete backup holding exactly these bytes is one a killed import made and never announced:
    # the new backup replaces it (one plaintext copy, the one the person is told about).
    for old_backup in backups(credentials_file):
        if old_backup != path and _same_bytes(old_backup, data):
            _delete(old_backup)
    return path


def write_backup(path: str, data: bytes) -> None:
    """Write ``data`` to the new file ``path``, 0600, so that ``path`` only ever names a complete backup.

    The bytes go to ``<path>.partial`` (created exclusively: never through a symlink or over anything
    planted there), are flushed to disk, and the file is renamed to ``path``. A run killed half-way leaves
    the ``.partial`` file, which ``backups`` does not list and ``confirm_import`` and the next import delete.
    ``FileError`` when anything fails; the partial file is removed then.
    """
    from rolecall import fileio
    from rolecall.errors import FileError

    partial = path + PARTIAL_SUFFIX
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(partial, flags | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as error:
        raise FileError(f"cannot create the backup {partial}: {error.strerror}",
                        hint="check that the folder is writable by you; the credentials file was not changed",
                        ) from None  # fmt: skip
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)  # the umask cannot loosen it, and nothing inherited tightens it oddly
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if isinstance(error, OSError):
            raise FileError(f"cannot write the backup {path}: {error.strerror}",
                            hint="check the free space of the disk; the credentials file was not changed",
                            ) from None  # fmt: skip
        raise
    fileio.fsync_dir(os.path.dirname(os.path.abspath(path)))


def _same_bytes(path: str, data: bytes) -> bool:
    """True when the regular file ``path`` holds exactly ``data`` (read with the caches' guarded reader)."""
    from rolecall.cache import read_regular_file

    try:
        return read_regular_file(path, limit=len(data)) == data
    except OSError:
        return False


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
    """The complete backups ``import_keys`` left next to ``credentials_file``, oldest first."""
    found = glob.glob(glob.escape(credentials_file) + BACKUP_INFIX + "*")
    return sorted(path for path in found if not path.endswith(PARTIAL_SUFFIX))


def leftovers(credentials_file: str) -> list[str]:
    """Plaintext copies a killed import or writer left next to ``credentials_file``: unfinished backups
    (``.partial``), the temporary files of backups written by rolecall before issue 15
    (``.credentials.rolecall-backup-*.tmp``), and the atomic writer's temporary files of the credentials
    file itself whose process is gone (``.credentials.PID.HEX.tmp``).

    Only meaningful under the credentials file's lock (no import can be writing them then)."""
    folder, name = os.path.split(os.path.abspath(credentials_file))
    pattern = glob.escape(credentials_file) + BACKUP_INFIX + "*" + PARTIAL_SUFFIX
    found = glob.glob(pattern)
    found += glob.glob(os.path.join(glob.escape(folder), "." + glob.escape(name) + BACKUP_INFIX + "*.tmp"))
    # The credentials file's own temporary files sit next to the file it really is (a symlink is written through).
    target = os.path.realpath(credentials_file)
    found += orphan_temps(os.path.dirname(target), os.path.basename(target))
    return sorted(set(found))


def orphan_temps(folder: str, name: str) -> list[str]:
    """The temporary files ``fileio.atomic_write`` made for ``folder/name`` (``.NAME.PID.HEX.tmp``) whose writer
    is no longer running: a killed writer's, which will never be renamed and may hold secrets."""
    prefix = f".{name}."
    try:
        entries = [entry for entry in os.listdir(folder) if entry.startswith(prefix) and entry.endswith(".tmp")]
    except OSError:
        return []
    found = []
    for entry in entries:
        parts = entry[len(prefix) : -len(".tmp")].split(".")
        if len(parts) != 2 or not parts[0].isdigit() or len(parts[1]) != 12 or _running(int(parts[0])):
            continue
        found.append(os.path.join(folder, entry))
    return found


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as another user's process
    return True


def _remove_leftovers(credentials_file: str) -> list[str]:
    """Delete ``leftovers``; return the paths deleted."""
    return [path for path in leftovers(credentials_file) if _delete(path)]


def purge_derived_copies(credentials_file: str, rolecall_dir: str) -> None:
    """Remove the parse cache's copies of the credentials file (entries, and a killed cache writer's
    temporary files) from ``rolecall_dir``. Never raises: what cannot be removed is left for ``--confirm``."""
    from rolecall.config.parse import parse_cache_path, purge_parse_cache

    purge_parse_cache(rolecall_dir, [credentials_file])
    cache = parse_cache_path(rolecall_dir)
    for path in orphan_temps(os.path.dirname(cache), os.path.basename(cache)):
        with contextlib.suppress(OSError):
            os.unlink(path)


def _delete(path: str) -> bool:
    """Delete ``path`` (a link or file, never what a link points to); False when it was gone already."""
    from rolecall.errors import FileError

    try:
        os.remove(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise FileError(f"cannot delete {path}: {error.strerror}",
                        hint="delete it by hand: it holds plaintext keys") from None  # fmt: skip
    return True


@dataclass
class ConfirmResult:
    """What ``confirm_import`` deleted: the backups, and the unfinished copies killed runs had left."""

    backups: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def confirm_import(credentials_file: str, rolecall_dir: str | None) -> ConfirmResult:
    """``keys import --confirm``: delete every plaintext copy ``keys import`` made or a killed one left.

    Under the credentials file's lock (so that no import is writing a backup meanwhile): the backups, the
    leftovers (see ``leftovers``), and the parse cache's copies in ``rolecall_dir``. ``FileError`` when a
    backup cannot be deleted.
    """
    from rolecall import fileio

    result = ConfirmResult()
    if not os.path.isdir(os.path.dirname(os.path.abspath(credentials_file))):
        return result  # no folder, so no file and no copy of it: and no lock file to create
    with fileio.exclusive_lock(credentials_file):
        result.leftovers = _remove_leftovers(credentials_file)
        result.backups = [path for path in backups(credentials_file) if _delete(path)]
        if rolecall_dir is not None:
            purge_derived_copies(credentials_file, rolecall_dir)
    return result
