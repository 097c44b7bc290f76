"""Credential caches: the AWS CLI's own ``~/.aws/cli/cache`` and rolecall's MFA-session cache.

``CliCache`` reads and writes the folder the AWS CLI (v1 and v2) and botocore's ``JSONFileCache`` use for
assume-role and web-identity credentials, under the same key (``assume_role_cache_key``) and in the same
format, so an MFA code typed once serves rolecall, ``aws --profile X`` and boto3 alike.
``SessionCache`` keeps rolecall's GetSessionToken (MFA session) credentials apart from it: the AWS CLI has
no such entries and must never trip over them.

This module is on the fast path (a cached ``rolecall env prod`` reads one entry here and exits), so at load
time it imports only what ``credentials`` already needs. In particular it does not import ``json`` or
``hashlib``: on this class of machine ``json`` pulls in ``re`` and the two cost about as much as the whole
interpreter start-up. Reading uses the C scanner of ``_json`` and hashing the C ``_sha1`` module directly,
falling back to ``json`` / ``hashlib`` where those are missing or for unusual values; the write side (after
an STS call, off the fast path) uses ``json`` and ``rolecall.fileio``.
"""

from __future__ import annotations

import os

from rolecall.credentials import Credentials
from rolecall.errors import FileError, InvalidInputError
from rolecall.ownership import trusted_owner
from rolecall.reporting import ignore
from rolecall.timefmt import datetime, format_botocore_cache, parse_timestamp, timedelta, to_utc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from rolecall.reporting import Reporter

__all__ = [
    "DEFAULT_MIN_REMAINING",
    "MAX_FILE_SIZE",
    "CacheEntry",
    "CliCache",
    "SessionCache",
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

_JSON_WHITESPACE = " \t\n\r"


# --------------------------------------------------------------------------------------------------------------
# JSON and SHA-1 without ``json``/``hashlib`` (see the module docstring for why)


def _make_loads() -> Callable[[str], Any]:
    """A ``json.loads`` for ``str`` built on the C scanner of ``_json``, or ``json.loads`` itself without it."""
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - CPython always has _json; other interpreters take the slow way
        return _slow_loads

    constants = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

    class _Context:
        # The attributes json.decoder.JSONDecoder gives the scanner, with json.loads' defaults.
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = constants.__getitem__
        memo: dict[str, str] = {}  # noqa: RUF012 - required by the scanner's protocol, unused by the C scanner

    context: Any = _Context()  # duck-typed: the scanner reads these attributes only
    scan_once = make_scanner(context)

    def loads(text: str) -> Any:
        # Same acceptance as json.loads(str): optional JSON whitespace around exactly one value, no BOM.
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
        if text.startswith("\ufeff"):
            raise ValueError("JSON text starts with a byte-order mark")
        try:
            value, end = scan_once(text, start)
        except StopIteration as stop:
            raise ValueError(f"expecting a JSON value at offset {stop.value}") from None
        except RecursionError:
            raise ValueError("the JSON value is nested too deeply") from None
        except Exception:  # any other scanner failure: let json itself judge the text
            # The C scanner reports a syntax error by raising json.decoder.JSONDecodeError, which it looks up in
            # sys.modules; before 3.12, while json.decoder is not imported, it fails with "SystemError: ...
            # returned NULL without setting an exception" instead. Only this error path pays for json.
            return _slow_loads(text)
        if text[end:].strip(_JSON_WHITESPACE):
            raise ValueError(f"extra data after the JSON value at offset {end}")
        return value

    return loads


def _slow_loads(text: str) -> Any:
    """``json.loads``, with a document nested too deeply for it a ``ValueError`` like any other bad JSON."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the JSON value is nested too deeply") from None


_loads = _make_loads()


def _canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True)`` (default separators, ``ensure_ascii``): the text botocore hashes.

    Hand-written for the value shapes AssumeRole parameters have (str-keyed dicts, lists, str, int, bool,
    None), with the C string escaper of ``_json``; anything else goes to ``json.dumps`` so the result is
    always exactly what botocore computes.
    """
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # pragma: no cover - CPython always has _json
        import json

        return json.dumps(value, sort_keys=True)

    parts: list[str] = []

    def emit(item: Any) -> None:
        if isinstance(item, str):
            parts.append(quote(item))
        elif item is None:
            parts.append("null")
        elif item is True:
            parts.append("true")
        elif item is False:
            parts.append("false")
        elif isinstance(item, int):
            parts.append(int.__repr__(item))
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise _Unusual
            parts.append("{")
            for index, key in enumerate(sorted(item)):
                if index:
                    parts.append(", ")
                parts.append(quote(key))
                parts.append(": ")
                emit(item[key])
            parts.append("}")
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            for index, element in enumerate(item):
                if index:
                    parts.append(", ")
                emit(element)
            parts.append("]")
        else:
            raise _Unusual

    try:
        emit(value)
    except (_Unusual, RecursionError):
        import json  # floats, non-str keys, custom types: json.dumps knows every rule (and every error)

        return json.dumps(value, sort_keys=True)
    return "".join(parts)


class _Unusual(Exception):
    """A value ``_canonical_json`` leaves to ``json.dumps``."""


def _sha1_hex(text: str) -> str:
    """SHA-1 of the UTF-8 bytes of ``text``, in hex (``_sha1`` costs a sixth of ``hashlib`` to import)."""
    data = text.encode("utf-8")
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # CPython's builtin; typeshed has no stub
    except ImportError:  # pragma: no cover - builds without the builtin module (FIPS) use OpenSSL's
        import hashlib

        return hashlib.sha1(data, usedforsecurity=False).hexdigest()
    digest: str = sha1(data).hexdigest()
    return digest


# --------------------------------------------------------------------------------------------------------------
# Reading a cache file without trusting what is at its path

#: Far above any real entry (an STS response is about 1.5 KB, a used-codes memory less): a bigger file is
#: refused rather than read into memory.
MAX_FILE_SIZE = 1 << 20


def _check_regular(mode: int, size: int, limit: int) -> None:
    """Raise ``OSError`` (without the path: the caller names it) unless a regular file of at most ``limit``."""
    import stat

    if stat.S_ISREG(mode) and size <= limit:
        return
    import errno

    if stat.S_ISREG(mode):
        raise OSError(errno.EFBIG, f"larger than {limit} bytes")
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    kind = "a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise OSError(errno.EINVAL, f"not a regular file but {kind}")


class UntrustedFileError(OSError):
    """A cache file (or its folder) that must not be believed: another user's, open to others, or a link.

    ``strerror`` says why, in words for the one warning line (without the path).
    """


def _untrusted(info: os.stat_result) -> UntrustedFileError | None:
    """Why a cache entry with this ``stat`` must not be believed (another user's, writable by others), or None."""
    import errno

    if os.name != "posix":
        return None
    if not trusted_owner(info.st_uid):
        return UntrustedFileError(errno.EPERM, f"it belongs to another user (uid {info.st_uid})")
    bits = info.st_mode & 0o777
    if bits & 0o022:
        who = "its group and others" if bits & 0o020 and bits & 0o002 else "others" if bits & 0o002 else "its group"
        return UntrustedFileError(errno.EPERM, f"it is writable by {who} (mode {bits:04o})")
    return None


def read_regular_file(path: str, limit: int = MAX_FILE_SIZE, *, private: bool = False) -> bytes | None:
    """The bytes of the regular file ``path`` (a symlink to one is fine), or ``None`` when nothing is there.

    Never waits on nor reads from anything else: a folder, a named pipe, a device such as ``/dev/zero`` (also
    behind a symlink) or a socket raise ``OSError``, as does a file over ``limit`` bytes or one that cannot be
    opened (permissions, a symlink loop). The file is opened with ``O_NONBLOCK`` (opening a pipe does not wait
    for a writer) and checked again on the open descriptor, so something swapped in after the first look is
    caught too. The ``OSError``'s ``strerror`` says what is wrong, without the path.

    With ``private`` (rolecall's caches), also ``UntrustedFileError`` for a symlink (never followed: caches hold
    plain files), a file of another user (``trusted_owner``) and one its group or others may write.
    """
    import errno

    try:
        info = os.lstat(path) if private else os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if private and (info.st_mode & 0o170000) == 0o120000:
        raise UntrustedFileError(errno.ELOOP, "it is a symbolic link, which rolecall's caches never follow")
    _check_regular(info.st_mode, info.st_size, limit)  # before opening: opening a device may do something
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if private:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        if private and error.errno == errno.ELOOP:  # a link swapped in since the look above
            raise UntrustedFileError(
                errno.ELOOP, "it is a symbolic link, which rolecall's caches never follow"
            ) from None
        raise
    try:
        info = os.fstat(fd)
        _check_regular(info.st_mode, info.st_size, limit)
        if private:
            untrusted = _untrusted(info)
            if untrusted is not None:
                raise untrusted
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, limit + 1 - total)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew while being read
                _check_regular(info.st_mode, total, limit)
    finally:
        os.close(fd)


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a control character (C0, DEL or C1): a NUL, an escape sequence, a line break.

    No credential, token or timestamp AWS issues holds one; a cached value that does is damage or a plant: it
    cannot be exported (NUL), would rewrite a terminal (ESC) or add lines to shell code.
    """
    if text.isprintable():
        return False
    return any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text)


def _has_unencodable_text(document: object) -> bool:
    """True when a string (or key) in ``document`` cannot be encoded as UTF-8: a lone surrogate from ``\\ud800``.

    Such an entry is valid JSON, but its secrets cannot be printed, exported or sent anywhere.
    """
    pending = [document]
    while pending:  # a loop, not recursion: the document may be as deep as the scanner allowed
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


# --------------------------------------------------------------------------------------------------------------
# The cache key


def assume_role_cache_key(params: Mapping[str, Any], *, session_name_generated: bool = False) -> str:
    """The file name stem under which the AWS CLI caches the result of an AssumeRole call with ``params``.

    ``params`` are the AssumeRole (or AssumeRoleWithWebIdentity) keyword arguments as botocore passes them:
    ``RoleArn``, ``RoleSessionName``, ``ExternalId``, ``SerialNumber``, ``DurationSeconds``, ``Policy``...
    botocore's rule (``BaseAssumeRoleCredentialFetcher._create_cache_key``): leave out ``TokenCode`` and
    ``WebIdentityToken`` (they change every call), leave out ``RoleSessionName`` when it was generated
    (``botocore-session-<epoch>`` is new every time), parse ``Policy`` so its keys are sorted too, then SHA-1
    of ``json.dumps(args, sort_keys=True)``. ``DurationSeconds`` is hashed as an int, as botocore has it
    after reading the config (``"3600"`` and ``3600`` would hash differently). ``None`` values are left out:
    botocore never has a key it does not send. Raises ``InvalidInputError`` when ``Policy`` is not JSON.
    """
    args: dict[str, Any] = {}
    for name, value in params.items():
        if name in ("TokenCode", "WebIdentityToken") or value is None:
            continue
        args[name] = value
    if session_name_generated:
        args.pop("RoleSessionName", None)
    if isinstance(args.get("Policy"), str):
        try:
            args["Policy"] = _loads(args["Policy"])
        except ValueError as error:
            raise InvalidInputError(
                "the session policy is not valid JSON", hint="check the policy document with a JSON linter"
            ) from error
    if "DurationSeconds" in args:
        try:
            args["DurationSeconds"] = int(args["DurationSeconds"])
        except (TypeError, ValueError) as error:
            raise InvalidInputError(
                "DurationSeconds must be a whole number of seconds", hint="use e.g. duration_seconds = 3600"
            ) from error
    # botocore also replaces ':' and path separators in the key; a hex digest has none.
    return _sha1_hex(_canonical_json(args))


def sso_role_cache_key(account_id: str, role_name: str, *, session_name: str | None, start_url: str) -> str:
    """The file name stem under which the AWS CLI v2 caches IAM Identity Center role credentials.

    botocore's ``SSOCredentialFetcher._create_cache_key``: ``accountId``, ``roleName`` and either the
    ``sessionName`` of an ``sso_session`` profile or, for a legacy profile, the ``startUrl``; SHA-1 of the JSON
    with sorted keys and, unlike the assume-role key, the compact separators ``,`` and ``:``.
    """
    args = {"accountId": account_id, "roleName": role_name}
    if session_name:
        args["sessionName"] = session_name
    else:
        args["startUrl"] = start_url
    try:
        from _json import encode_basestring_ascii as quote  # json.dumps' own escaper (ensure_ascii)
    except ImportError:  # pragma: no cover - CPython always has _json
        import json

        return _sha1_hex(json.dumps(args, sort_keys=True, separators=(",", ":")))
    return _sha1_hex("{" + ",".join(quote(name) + ":" + quote(args[name]) for name in sorted(args)) + "}")


# --------------------------------------------------------------------------------------------------------------
# Entries


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
    if _has_unencodable_text(document):
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


class _JsonFolderCache:
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
            info = os.lstat(path)
            version: object = (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
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
            return path, _loads(raw.decode("utf-8"))
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


def _checked_response(response: Mapping[str, Any]) -> dict[str, Any]:
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


class CliCache(_JsonFolderCache):
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
        document = _checked_response(response)
        user = document.get("AssumedRoleUser")
        account = _account_from_arn(user.get("Arn") if isinstance(user, dict) else None)
        if account is not None:
            document["Credentials"]["AccountId"] = account
        return self._write(key, document)


#: Where rolecall notes whose MFA session an entry of ``SessionCache`` is.
_SESSION_META = "Rolecall"


class SessionCache(_JsonFolderCache):
    """rolecall's own cache of GetSessionToken (MFA session) credentials, apart from the AWS CLI's.

    One entry per source identity and MFA device (``key``), so every role reached from that identity reuses
    one MFA code while the session lives. Entries are the GetSessionToken response plus a ``Rolecall`` object
    naming the source access key id and the device, in 0600 files in a 0700 folder
    (``AwsPaths.session_cache_dir``).
    """

    __slots__ = ()

    _what = "cached MFA session"
    #: This folder is rolecall's alone and holds long-lived session tokens: private even from the group.
    _folder_loose = 0o077
    _not_json_note = "rolecall replaces it with the next MFA session"
    _stored = "the new MFA session"
    _unsaved_note = "it is used now, but the next run needs a new MFA code"

    def key(self, source_access_key_id: str, mfa_serial: str) -> str:
        """The entry key of the MFA session of ``source_access_key_id`` with device ``mfa_serial`` (SHA-1 hex)."""
        return _sha1_hex(_canonical_json({"AccessKeyId": source_access_key_id, "SerialNumber": mfa_serial}))

    def get(self, key: str, now: datetime, min_remaining: timedelta = DEFAULT_MIN_REMAINING) -> CacheEntry | None:
        """As ``CliCache.get``; an entry whose ``Rolecall`` note does not hash to ``key`` is foreign (a miss)."""
        entry = super().get(key, now, min_remaining)
        if entry is None:
            return None
        note = entry.response.get(_SESSION_META)
        source = note.get("SourceAccessKeyId") if isinstance(note, dict) else None
        serial = note.get("SerialNumber") if isinstance(note, dict) else None
        if not isinstance(source, str) or not isinstance(serial, str) or self.key(source, serial) != key:
            self._ignoring(entry.path, "it does not belong to this identity")
            return None
        return entry

    def put(self, key: str, response: Mapping[str, Any], *, source_access_key_id: str, mfa_serial: str) -> bool:
        """Store a GetSessionToken response under ``key`` (0600 file; the folder is made or kept 0700).

        Raises ``InvalidInputError`` when ``key`` is not ``self.key(source_access_key_id, mfa_serial)`` or the
        response has no complete ``Credentials``. As ``CliCache.put``, a file that cannot be written is one line
        to the reporter and a False result.
        """
        if key != self.key(source_access_key_id, mfa_serial):
            raise InvalidInputError(
                "the MFA session cache key does not match its identity and device",
                hint="this is a bug in the caller: compute the key with SessionCache.key",
            )
        document = _checked_response(response)
        document[_SESSION_META] = {"SourceAccessKeyId": source_access_key_id, "SerialNumber": mfa_serial}
        return self._write(key, document)
