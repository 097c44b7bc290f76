"""The token file of an ``aws login`` session, read and written as the AWS CLI v2 and botocore do.

``<cache>/<sha256 hex of the login_session>.json``, where ``<cache>`` is ``AWS_LOGIN_CACHE_DIRECTORY`` (``$VARS``
and ``~`` expanded) or ``~/.aws/login/cache``. One JSON object::

    {"accessToken": {"accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt"},
     "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device",
     "refreshToken": ..., "idToken": ..., "dpopKey": "-----BEGIN EC PRIVATE KEY-----..."}

``expiresAt`` is ``2026-12-05T10:15:00Z``; botocore also reads an optional ``signInRegion`` (the region the
refresh goes to). Files are 0600 in a 0700 folder, written atomically through ``rolecall.fileio``; a symlink, a
file of another user or one others may write is not read (one warning), as for the other caches.
"""

from __future__ import annotations

import os

from rolecall.cache import JsonFolderCache, has_control_characters
from rolecall.config.paths import expand_path, home_dir
from rolecall.credentials import Credentials
from rolecall.timefmt import parse_timestamp, timedelta, to_utc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any

#: botocore refreshes login credentials with less than this left (``LoginCredentialFetcher._REFRESH_THRESHOLD``).
REFRESH_THRESHOLD = timedelta(minutes=5)
#: The fields botocore requires in a token file.
REQUIRED_FIELDS = ("accessToken", "refreshToken", "dpopKey", "clientId")
_ACCESS_FIELDS = ("accessKeyId", "secretAccessKey", "sessionToken", "accountId", "expiresAt")


def cache_directory(env: Mapping[str, str]) -> str:
    """``AWS_LOGIN_CACHE_DIRECTORY`` (expanded as botocore expands it), else ``~/.aws/login/cache``."""
    configured = env.get("AWS_LOGIN_CACHE_DIRECTORY")
    if configured is not None:
        return expand_path(configured, env)
    return os.path.join(home_dir(env), ".aws", "login", "cache")


def sha256_hex(text: str) -> str:
    """SHA-256 of ``text`` (UTF-8) in hex, without importing hashlib where the builtin module is there."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found, unused-ignore]  # Python >= 3.12
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found, no-redef, unused-ignore]  # Python 3.11
        except ImportError:
            from hashlib import sha256  # type: ignore[assignment, unused-ignore]
    digest: str = sha256(text.encode("utf-8")).hexdigest()
    return digest


def token_key(login_session: str) -> str:
    """The file name stem of a session's token (botocore's ``generate_login_cache_key``)."""
    return sha256_hex(login_session)


class LoginToken:
    """One session's token file, checked. ``document`` is the whole JSON object (secrets: ``repr`` hides it)."""

    __slots__ = ("account_id", "client_id", "credentials", "document", "expires_at", "refresh_token")

    account_id: str
    client_id: str
    credentials: Credentials
    document: dict[str, Any]
    expires_at: datetime
    refresh_token: str

    def __init__(self, document: Mapping[str, Any]) -> None:
        """Check a token document; ``ValueError`` (naming a field, never a value) when it is not one."""
        missing = [name for name in REQUIRED_FIELDS if name not in document]
        if missing:
            raise ValueError(f"missing required fields: {', '.join(missing)}")
        access = document["accessToken"]
        if not isinstance(access, dict):
            raise ValueError("accessToken is not an object")
        for name in _ACCESS_FIELDS:
            if not isinstance(access.get(name), str) or not access[name]:
                raise ValueError(f"accessToken.{name} is missing or not a string")
        for name in ("refreshToken", "clientId", "dpopKey"):
            if not isinstance(document[name], str) or not document[name]:
                raise ValueError(f"{name} is not a string")
        for value in (*(access[name] for name in _ACCESS_FIELDS), document["refreshToken"], document["clientId"]):
            if has_control_characters(value):
                raise ValueError("a field holds a control character (such as NUL)")
        try:
            expires_at = parse_timestamp(access["expiresAt"])
        except ValueError:
            raise ValueError("accessToken.expiresAt is not a timestamp") from None
        set_ = object.__setattr__
        set_(self, "account_id", access["accountId"])
        set_(self, "client_id", document["clientId"])
        set_(self, "refresh_token", document["refreshToken"])
        set_(self, "expires_at", expires_at)
        set_(self, "document", dict(document))
        set_(self, "credentials", Credentials(
            access["accessKeyId"], access["secretAccessKey"], access["sessionToken"], expires_at, access["accountId"]
        ))  # fmt: skip

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("LoginToken is immutable")

    def __repr__(self) -> str:
        return f"LoginToken(account_id={self.account_id!r}, expires_at={self.expires_at!r})"

    def fresh(self, now: datetime, threshold: timedelta = REFRESH_THRESHOLD) -> bool:
        """True when more than ``threshold`` is left at ``now`` (botocore would not refresh)."""
        return self.expires_at - to_utc(now) > threshold

    @property
    def sign_in_region(self) -> str | None:
        """The token's ``signInRegion`` (newer tokens): the refresh goes there, whatever the profile says."""
        region = self.document.get("signInRegion")
        return region if isinstance(region, str) and region else None


def refreshed_document(token: LoginToken, output: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The token document after a refresh grant answered ``output`` (botocore's update: a new access token block
    keeping the account id, a new refresh token, everything else kept)."""
    from rolecall.timefmt import format_iso_z

    access = output["accessToken"]
    document = dict(token.document)
    document["accessToken"] = {
        "accessKeyId": access["accessKeyId"],
        "secretAccessKey": access["secretAccessKey"],
        "sessionToken": access["sessionToken"],
        "accountId": token.account_id,
        "expiresAt": format_iso_z(to_utc(now).replace(microsecond=0) + timedelta(seconds=int(output["expiresIn"]))),
    }
    document["refreshToken"] = output["refreshToken"]
    return document


class LoginTokenCache(JsonFolderCache):
    """``~/.aws/login/cache``: the token files of ``aws login`` sessions."""

    __slots__ = ()

    _what = "`aws login` token"
    #: The token opens the account: the folder is private even from the group, and tightened before a write.
    _folder_loose = 0o077
    _not_json_note = "sign in again: rolecall login"
    _stored = "the renewed `aws login` token"
    _unsaved_note = "the credentials are used now, but the old refresh token no longer works: sign in again later"

    def token(self, login_session: str) -> LoginToken | None:
        """The session's token whatever its age, or None (missing, unreadable, not a token: reported)."""
        found = self._read_document(token_key(login_session))
        if found is None:
            return None
        path, document = found
        if not isinstance(document, dict):
            self._ignoring(path, "not a JSON object")
            return None
        try:
            return LoginToken(document)
        except ValueError as why:
            self._ignoring(path, str(why))
            return None

    def token_path(self, login_session: str) -> str:
        """The file of the session's token."""
        return self.path(token_key(login_session))

    def save(self, login_session: str, document: Mapping[str, Any]) -> bool:
        """Write the session's token (atomic, 0600, folder 0700); False after one warning when it cannot."""
        LoginToken(document)  # never write what would read back as foreign
        return self._write(token_key(login_session), document)

    def remove(self, login_session: str) -> bool:
        """Delete the session's token file; False when there was none. ``FileError`` when it cannot be removed."""
        existed = os.path.lexists(self.token_path(login_session))
        self.delete(token_key(login_session))
        return existed
