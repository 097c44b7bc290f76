"""The AWS CLI v2's IAM Identity Center token cache (``~/.aws/sso/cache``), read and written as it does.

Two kinds of entry live there, each ``<sha1>.json``, 0600 (rolecall keeps the folder 0700):

* the token of a login, under SHA-1 of the ``sso-session`` name (or of the start URL for a legacy profile):
  ``startUrl``, ``region``, ``accessToken``, ``expiresAt`` and, for sessions, ``refreshToken``, ``clientId``,
  ``clientSecret``, ``registrationExpiresAt`` (botocore's ``SSOTokenFetcher``/``SSOTokenProvider`` format);
* the OIDC client registration, under SHA-1 of ``{"region", "scopes", "session_name", "startUrl",
  "tool": "botocore"}`` (``_registration_cache_key``): ``clientId``, ``clientSecret``, ``expiresAt`` and, for the
  authorization-code flow, ``scopes`` and ``grantTypes``.

Timestamps are ``2026-12-03T16:00:00Z``. So ``aws sso login`` and rolecall use what the other wrote, and
botocore's own ``SSOProvider`` reads rolecall's tokens. Unreadable or foreign files are a miss with one warning,
as in ``rolecall.cache``.
"""

from __future__ import annotations

import os

from rolecall.cache import JsonFolderCache, has_control_characters
from rolecall.fastjson import sha1_hex
from rolecall.timefmt import format_iso_z, parse_timestamp, timedelta, to_utc

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from typing import Any

    from rolecall.sso.settings import SsoLogin

#: botocore refreshes a token with less than 15 minutes left (``SSOTokenProvider._REFRESH_WINDOW``), and the
#: AWS CLI's login treats a cached token or registration with less than that as expired (``_EXPIRY_WINDOW``).
REFRESH_WINDOW = timedelta(minutes=15)


def token_key(login: SsoLogin) -> str:
    """The cache key of a login's token: SHA-1 of the session name, or of the start URL for a legacy profile."""
    return sha1_hex(login.session_name if login.session_name is not None else login.start_url)


def registration_key(login: SsoLogin) -> str:
    """The cache key of a login's OIDC client registration (the AWS CLI v2's ``_registration_cache_key``)."""
    import json

    args = {
        "tool": "botocore",
        "startUrl": login.start_url,
        "region": login.region,
        # The CLI passes the parsed sso_registration_scopes, or None when the session names none.
        "scopes": list(login.scopes) if login.scopes else None,
        "session_name": login.session_name,
    }
    return sha1_hex(json.dumps(args, sort_keys=True))


class SsoToken:
    """An IAM Identity Center access token as cached, with what it takes to refresh it. Immutable.

    ``document`` is the whole cached JSON object (a copy; it holds secrets, so ``repr`` shows only the expiry).
    """

    __slots__ = (
        "access_token",
        "client_id",
        "client_secret",
        "document",
        "expires_at",
        "refresh_token",
        "registration_expires_at",
    )

    access_token: str
    expires_at: datetime
    refresh_token: str | None
    client_id: str | None
    client_secret: str | None
    registration_expires_at: datetime | None
    document: dict[str, Any]

    def __init__(self, document: Mapping[str, Any]) -> None:
        """Validate a cached token document; ``ValueError`` (no secret in it) when it is not one."""
        access = document.get("accessToken")
        expires = document.get("expiresAt")
        if not isinstance(access, str) or not access:
            raise ValueError("accessToken is missing or not a string")
        for name in ("accessToken", "refreshToken", "clientId", "clientSecret", "expiresAt"):
            value = document.get(name)
            if isinstance(value, str) and has_control_characters(value):
                # Damage or a plant: no token the service issues holds one, and it would be sent in a header.
                raise ValueError(f"{name} holds a control character (such as NUL)")
        if not isinstance(expires, str):
            raise ValueError("expiresAt is missing or not a string")
        try:
            expires_at = parse_timestamp(expires)
        except ValueError:
            raise ValueError("expiresAt is not a timestamp") from None
        registration: datetime | None = None
        raw_registration = document.get("registrationExpiresAt")
        if isinstance(raw_registration, str):
            try:
                registration = parse_timestamp(raw_registration)
            except ValueError:
                registration = None  # botocore could not refresh with it either
        set_ = object.__setattr__
        set_(self, "access_token", access)
        set_(self, "expires_at", expires_at)
        set_(self, "refresh_token", _string(document, "refreshToken"))
        set_(self, "client_id", _string(document, "clientId"))
        set_(self, "client_secret", _string(document, "clientSecret"))
        set_(self, "registration_expires_at", registration)
        set_(self, "document", dict(document))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SsoToken is immutable")

    def __repr__(self) -> str:
        return f"SsoToken(expires_at={self.expires_at!r}, refreshable={self.refresh_token is not None})"

    def fresh(self, now: datetime, window: timedelta = REFRESH_WINDOW) -> bool:
        """True when the token has more than ``window`` left at ``now`` (botocore would not refresh it)."""
        return self.expires_at - to_utc(now) >= window

    def usable(self, now: datetime) -> bool:
        """True while the token has not expired (it still works, if only briefly)."""
        return self.expires_at > to_utc(now)

    def refreshable(self, now: datetime) -> bool:
        """True when botocore's refresh rules allow a refresh: a refresh token, the client, a live registration."""
        return (
            self.refresh_token is not None
            and self.client_id is not None
            and self.client_secret is not None
            and self.registration_expires_at is not None
            and self.registration_expires_at > to_utc(now)
        )


def _string(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) and value else None


def new_token_document(
    login: SsoLogin,
    response: Mapping[str, Any],
    now: datetime,
    *,
    client_id: str,
    client_secret: str,
    registration_expires_at: str,
    previous_refresh_token: str | None = None,
) -> dict[str, Any]:
    """The cache document of a CreateToken ``response`` (botocore's field order and formats).

    A refresh that returns no new refresh token keeps the old one, as botocore does.
    """
    document: dict[str, Any] = {
        "startUrl": login.start_url,
        "region": login.region,
        "accessToken": response["accessToken"],
        "expiresAt": format_iso_z(to_utc(now) + timedelta(seconds=int(response["expiresIn"]))),
        "clientId": client_id,
        "clientSecret": client_secret,
        "registrationExpiresAt": registration_expires_at,
    }
    refresh = response.get("refreshToken") or previous_refresh_token
    if refresh:
        document["refreshToken"] = refresh
    return document


class SsoTokenCache(JsonFolderCache):
    """``~/.aws/sso/cache``: tokens and client registrations of IAM Identity Center logins."""

    __slots__ = ()

    _what = "cached IAM Identity Center token"
    #: Tokens open every account of the organisation: the folder is kept private even from the group (the AWS CLI
    #: makes it 0755), and tightened before each write if it is not.
    _folder_loose = 0o077
    _not_json_note = "the next `rolecall sso login` replaces it"
    _stored = "the IAM Identity Center token"
    _unsaved_note = "it is used now, but the next run needs a new login"

    def _object(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """The JSON object cached under ``key`` and its file, or None (anything else is reported)."""
        found = self._read_document(key)
        if found is None:
            return None
        if not isinstance(found[1], dict):
            self._ignoring(found[0], "not a JSON object")
            return None
        return found

    def token(self, login: SsoLogin) -> SsoToken | None:
        """The cached token of ``login`` whatever its age, or None (missing, unreadable, not a token: reported)."""
        found = self._object(token_key(login))
        if found is None:
            return None
        path, document = found
        try:
            return SsoToken(document)
        except ValueError as why:
            self._ignoring(path, str(why))
            return None

    def save_token(self, login: SsoLogin, document: Mapping[str, Any]) -> bool:
        """Write the token of ``login`` (atomic, 0600, folder kept 0700); False after one warning when it cannot."""
        SsoToken(document)  # refuse to write what would read back as foreign
        return self._write(token_key(login), document)

    def delete_token(self, login: SsoLogin) -> None:
        """Forget the token of ``login`` (a missing one is fine)."""
        self.delete(token_key(login))

    def registration(self, login: SsoLogin, now: datetime, *, authorization_code: bool) -> dict[str, Any] | None:
        """The cached client registration of ``login`` for this flow if it lives 15 more minutes, else None.

        As the AWS CLI v2: a registration made for the authorization-code flow (its ``grantTypes`` name
        ``authorization_code``) is not reused for the device flow, and the other way round.
        """
        found = self._object(registration_key(login))
        if found is None:
            return None
        path, document = found
        client_id, secret, expires = document.get("clientId"), document.get("clientSecret"), document.get("expiresAt")
        if not isinstance(client_id, str) or not isinstance(secret, str) or not isinstance(expires, str):
            self._ignoring(path, "not a client registration (clientId, clientSecret, expiresAt)")
            return None
        try:
            expires_at = parse_timestamp(expires)
        except ValueError:
            self._ignoring(path, "expiresAt is not a timestamp")
            return None
        grants = document.get("grantTypes")
        for_code = isinstance(grants, list) and "authorization_code" in grants
        if for_code != authorization_code or expires_at - to_utc(now) < REFRESH_WINDOW:
            return None
        return document

    def save_registration(self, login: SsoLogin, document: Mapping[str, Any]) -> bool:
        """Write the client registration of ``login`` (atomic, 0600)."""
        return self._write(
            registration_key(login),
            document,
            stored="the IAM Identity Center client registration",
            unsaved_note="the next login registers the client again",
        )

    def delete_registration(self, login: SsoLogin) -> None:
        """Forget the client registration of ``login`` (the service refused it)."""
        self.delete(registration_key(login))

    def tokens(self) -> list[tuple[str, SsoToken]]:
        """Every token in the folder with its file (registrations and foreign files skipped): for logout."""
        found: list[tuple[str, SsoToken]] = []
        try:
            names = sorted(os.listdir(self.directory))
        except OSError:
            return found
        for name in names:
            if not name.endswith(".json"):
                continue
            entry = self._read_document(name[: -len(".json")])
            if entry is None or not isinstance(entry[1], dict) or "accessToken" not in entry[1]:
                continue
            try:
                found.append((entry[0], SsoToken(entry[1])))
            except ValueError:
                continue
        return found
