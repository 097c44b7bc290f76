"""Credential caches: the AWS CLI's own ``~/.aws/cli/cache`` (``CliCache``) and what every cache folder shares.

``CliCache`` reads and writes the folder the AWS CLI (v1 and v2) and botocore's ``JSONFileCache`` use for
assume-role, web-identity and SSO role credentials, under the same key (``rolecall.cachekeys``) and in the same
format, so an MFA code typed once serves rolecall, ``aws --profile X`` and boto3 alike. ``JsonFolderCache`` is
what the caches share (``<key>.json`` files read leniently, written atomically 0600); rolecall's MFA-session cache
(``rolecall.sessioncache.SessionCache``) and the SSO token cache build on it.

The cache modules, one job each:

- ``cache``: entries and the AWS CLI cache (this module);
- ``sessioncache``: rolecall's MFA sessions (GetSessionToken), apart from the AWS CLI's cache;
- ``cachekeys``: the file name stems botocore computes (AssumeRole, web identity, IAM Identity Center);
- ``guardedread``: reading a file without trusting what is at its path (regular files only, size cap, owner);
- ``fastjson``: JSON and SHA-1 without ``json``/``hashlib``.

``sessioncache`` builds on this module, never the other way round: import ``SessionCache`` from there.

This module is on the fast path (a cached ``rolecall env prod`` reads one entry here and exits), so at load
time it imports only what ``credentials`` already needs, plus ``fastjson`` and ``guardedread``, never ``json``
or ``hashlib``; the write side (after an STS call, off the fast path) uses ``json`` and ``rolecall.fileio``.
"""

from __future__ import annotations

import os

from rolecall.cachekeys import assume_role_cache_key, sso_role_cache_key
from rolecall.credentials import Credentials
from rolecall.errors import FileError, InvalidInputError
from rolecall.fastjson import loads
from rolecall.guardedread import (
    MAX_FILE_SIZE,
    UntrustedFileError,
    has_control_characters,
    has_unencodable_text,
    read_regular_file,
)
from rolecall.ownership import trusted_owner
from rolecall.replayrecord import note_served
from rolecall.reporting import ignore
from rolecall.timefmt import datetime, format_botocore_cache, parse_timestamp, timedelta, to_utc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.reporting import Reporter

__all__ = [
    "DEFAULT_MIN_REMAINING",
    "MAX_FILE_SIZE",
    "CacheEntry",
    "CliCache",
    "UntrustedFileError",
    "assume_role_cache_key",
    "has_control_characters",
    "read_regular_file",
    "sso_role_cache_key",
    "trusted_owner",
]



#: The AWS CLI ignores a cached entry with less than 15 minutes left
#: (botocore ``CachedCredentialFetcher.DEFAULT_EXPIRY_WINDOW_SECONDS``); rolecall uses the same window so
#: that what rolecall calls fresh the CLI does too.
DEFAULT_MIN_REMAINING = timedelta(minutes=15)

class CacheEntry:
    """One cached STS response that is fresh enough to use: an immutable value.

    ``credentials`` are built from ``response["Credentials"]`` (``account_id`` from ``AccountId``, or from
    ``AssumedRoleUser.Arn`` for entries written before botocore stored it); ``response`` is the whole stored
    document (a new dict on every read; it holds secrets, so ``repr`` shows only the path and the expiry);
    ``path`` is the file it came from.
    """

    __slots__ = ("credentials", "path", "response")

    credentials: Credentials
    response: dict[str, Any]
    path: str

    def __init__(self, credentials: Credentials, response: dict[str, Any], path: str) -> None:
        set_ = object.__setattr__
        set_(self, "credentials", credentials)
        set_(self, "response", response)
        set_(self, "path", path)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("CacheEntry is immutable")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CacheEntry)
            and self.credentials == other.credentials
            and self.response == other.response
            and self.path == other.path
        )

    __hash__ = None  # type: ignore[assignment]  # holds a dict: not hashable

    def __repr__(self) -> str:
        return f"CacheEntry(path={self.path!r}, expiration={self.credentials.expiration!r})"


def _account_from_arn(arn: object) -> str | None:
    """The account of ``arn:partition:service:region:account:resource`` (botocore's ``ArnParser`` rule)."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    parts = arn.split(":", 5)
    if len(parts) < 6 or has_control_characters(parts[4]):
        return None
    return parts[4]


class _Foreign(Exception):
    """A cache file that is JSON but not a credentials entry; the message says what is wrong (no secret)."""


def _credentials_from(document: object) -> Credentials:
    """Validate a parsed cache document the way botocore reads it, and build its ``Credentials``."""
    if not isinstance(document, dict):
        raise _Foreign("not a JSON object")
    creds = document.get("Credentials")
    if not isinstance(creds, dict):
        raise _Foreign("no Credentials object")
    if has_unencodable_text(document):
        raise _Foreign("it holds text that is not valid Unicode (an unpaired surrogate escape such as \\ud800)")
    values = []
    for field in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"):
        value = creds.get(field)
        if not isinstance(value, str) or not value:
            raise _Foreign(f"Credentials.{field} is missing or not a string")
        if has_control_characters(value):
            raise _Foreign(f"Credentials.{field} holds a control character (such as NUL), which AWS never issues")
        values.append(value)
    try:
        expiration = parse_timestamp(values[3])
    except ValueError:
        raise _Foreign("Credentials.Expiration is not a timestamp") from None
    account = creds.get("AccountId")
    if not isinstance(account, str) or not account or has_control_characters(account):
        user = document.get("AssumedRoleUser")
        account = _account_from_arn(user.get("Arn") if isinstance(user, dict) else None)
    return Credentials(values[0], values[1], values[2], expiration, account)


def _serialisable(value: Any) -> Any:
    """A copy of ``value`` with datetimes in botocore's cache form; rejects what JSON cannot hold."""
    if isinstance(value, datetime):
        return format_botocore_cache(value)
    if isinstance(value, dict):
        return {key: _serialisable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialisable(item) for item in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise InvalidInputError(
        f"cannot cache an STS response holding a {type(value).__name__} value",
        hint="this is a bug in the caller: pass the response botocore returned",
    )


class JsonFolderCache:
    """What both caches share: ``<directory>/<key>.json`` files, read leniently, written atomically 0600.

    Each problem with a file is reported once per cache object (a run reads an entry again after taking the
    MFA lock, and must not say the same thing twice), and again only when the file has changed since.
    """

    __slots__ = ("_reported", "directory", "reporter")

    directory: str
    reporter: Reporter
    _reported: set[tuple[str, object]]

    #: What an entry is, for the warnings.
    _what = "cached credentials"
    #: Added to the warning about a file that is not JSON.
    _not_json_note = "rolecall replaces it with the next fresh credentials"
    #: Permission bits of the folder that others must not have; it is tightened to 0700 before a write if they do.
    _folder_loose = 0o022
    #: What ``put`` stores, and what it means when that fails (for the warning).
    _stored = "the new credentials"
    _unsaved_note = "they are used now, but the next run calls STS again"

    def __init__(self, directory: str, reporter: Reporter = ignore) -> None:
        set_ = object.__setattr__
        set_(self, "directory", directory)
        set_(self, "reporter", reporter)
        set_(self, "_reported", set())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.directory!r})"

    def path(self, key: str) -> str:
        """The file of ``key``. Raises ``InvalidInputError`` for a key that is not a plain file name stem."""
        if not key or key.startswith(".") or "/" in key or os.sep in key or "\0" in key:
            raise InvalidInputError("not a valid cache key", hint="cache keys are file name stems such as SHA-1 hex")
        return os.path.join(self.directory, key + ".json")

    def _ignoring(self, path: str, why: str) -> None:
        """Report that the file ``path`` is ignored and ``why``, unless already reported for this file as it is."""
        try:
            from rolecall.filesig import signature

            version: object = signature(os.lstat(path))
        except OSError:
            version = None
        if (why, version) in self._reported:
            return
        if len(self._reported) >= 64:  # a long-lived cache object (the credentials server) stays small
            self._reported.clear()
        self._reported.add((why, version))
        self.reporter(f"ignoring the {self._what} in {path}: {why}")

    def _read_document(self, key: str) -> tuple[str, Any] | None:
        """The file of ``key`` and its parsed JSON, or ``None`` (missing, or unreadable or not JSON: reported)."""
        path = self.path(key)
        try:
            raw = read_regular_file(path, private=True)
        except UntrustedFileError as error:
            self._ignoring(path, str(error.strerror))
            return None
        except OSError as error:
            self._ignoring(path, f"cannot read it ({error.strerror or type(error).__name__})")
            return None
        if raw is None:
            return None
        # The entry is ours; so must its folder be (whoever owns the folder can swap entries).
        try:
            folder_owner = os.stat(self.directory).st_uid
        except OSError:
            folder_owner = None
        if folder_owner is not None and not trusted_owner(folder_owner):
            self._ignoring(path, f"its folder belongs to another user (uid {folder_owner})")
            return None
        try:
            return path, loads(raw.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError, a JSON syntax error, nesting too deep: all ValueErrors here
            self._ignoring(path, f"it is not valid JSON ({self._not_json_note})")
            return None

    def _read(self, key: str) -> tuple[str, dict[str, Any], Credentials] | None:
        """The parsed entry of ``key`` whatever its age, or ``None`` (missing, unreadable, corrupt, foreign)."""
        found = self._read_document(key)
        if found is None:
            return None
        path, document = found
        try:
            credentials = _credentials_from(document)
        except _Foreign as why:
            self._ignoring(path, str(why))
            return None
        return path, document, credentials

    def get(self, key: str, now: datetime, min_remaining: timedelta = DEFAULT_MIN_REMAINING) -> CacheEntry | None:
        """The entry of ``key`` if it has at least ``min_remaining`` left at ``now``, else ``None``.

        A missing, expired or soon-expiring entry is a miss; so is a corrupt, foreign or unreadable file,
        which is also reported (naming the file) through the reporter. Exactly ``min_remaining`` left is
        still fresh, as in botocore. Pass ``timedelta.min`` to read an entry whatever its age.
        """
        found = self._read(key)
        if found is None:
            return None
        path, document, credentials = found
        if credentials.expires_within(min_remaining, to_utc(now)):
            return None
        if credentials.expiration is not None:  # a replay (rolecall.replay) may serve the entry as long as this
            note_served(path, (credentials.access_key_id, credentials.secret_access_key, credentials.session_token),
                        credentials.expiration - max(min_remaining, timedelta(0)))  # fmt: skip
        return CacheEntry(credentials, document, path)

    def delete(self, key: str) -> None:
        """Remove the entry of ``key``; a missing one is fine. Raises ``FileError`` when it cannot be removed."""
        path = self.path(key)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as error:
            raise FileError(
                f"cannot delete {path}: {error.strerror or error}", hint="check the permissions of the cache folder"
            ) from error

    def _write(
        self, key: str, document: Mapping[str, Any], *, stored: str | None = None, unsaved_note: str | None = None
    ) -> bool:
        """Write ``document`` as botocore's JSONFileCache does (one line, default separators), atomically, 0600.

        False, after one line to the reporter, when the file cannot be written; ``stored`` and ``unsaved_note``
        name what was not kept and what that costs when it is not the folder's usual kind of entry.
        """
        import json

        from rolecall.fileio import atomic_write, private_folder

        path = self.path(key)
        data = json.dumps(_serialisable(document)).encode("utf-8")
        try:
            # The folder must be ours and closed to others (tightened if not: the AWS CLI leaves it 0777 under
            # umask 000); whatever is at the path (a link, a pipe, another user's file) is replaced, never written
            # through, and the new file is ours and 0600 (botocore's own writes end up 0600 too).
            private_folder(self.directory, loose=self._folder_loose)
            atomic_write(path, data, mode=0o600, dir_mode=0o700, private=True)
        except FileError as error:
            # The credentials in hand are good; failing to keep them must not throw them away.
            what, note = stored or self._stored, unsaved_note or self._unsaved_note
            self.reporter(f"could not cache {what}: {error.message} ({note})")
            return False
        return True


def checked_response(response: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of an STS response, refusing one that would read back as a foreign entry."""
    document = _serialisable(response)
    if not isinstance(document, dict):
        raise InvalidInputError("cannot cache an STS response that is not a mapping", hint="this is a bug")
    try:
        _credentials_from(document)
    except _Foreign as why:
        raise InvalidInputError(
            f"refusing to cache an STS response without complete credentials: {why}",
            hint="this is a bug in the caller: pass the whole AssumeRole/GetSessionToken response",
        ) from None
    result: dict[str, Any] = document
    return result


class CliCache(JsonFolderCache):
    """The AWS CLI's credential cache (``~/.aws/cli/cache``), shared with ``aws`` and with boto3 users of it.

    Files are ``<key>.json`` with the whole STS response, exactly as botocore's ``JSONFileCache`` writes
    them; ``key`` comes from ``assume_role_cache_key``. Never raises for what is in the folder (see ``get``).
    """

    __slots__ = ()

    #: The AWS CLI (botocore's JSONFileCache) reads these files too, and stops with KeyError on a bad one.
    _not_json_note = "the AWS CLI fails on such a file; rolecall replaces it with the next fresh credentials"

    def put(self, key: str, response: Mapping[str, Any]) -> bool:
        """Store an AssumeRole (or web identity) response under ``key`` the way the AWS CLI does.

        Datetimes become ``%Y-%m-%dT%H:%M:%SUTC``; ``Credentials.AccountId`` is added from
        ``AssumedRoleUser.Arn`` as botocore does; the file is replaced atomically with mode 0600, and a folder
        that has to be created gets 0700 (botocore would leave it 0755). Returns True when written; when the
        file cannot be written (a folder in its place, permissions, a full disk) the reporter hears one line and
        the result is False: the caller's credentials are still good, only not cached. Raises
        ``InvalidInputError`` when ``response`` has no complete ``Credentials``.
        """
        document = checked_response(response)
        user = document.get("AssumedRoleUser")
        account = _account_from_arn(user.get("Arn") if isinstance(user, dict) else None)
        if account is not None:
            document["Credentials"]["AccountId"] = account
        return self._write(key, document)


