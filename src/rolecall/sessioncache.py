"""rolecall's MFA-session cache: GetSessionToken credentials, apart from the AWS CLI's cache."""

from __future__ import annotations

from rolecall.cache import DEFAULT_MIN_REMAINING, JsonFolderCache, checked_response
from rolecall.errors import InvalidInputError
from rolecall.fastjson import canonical_json, sha1_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime, timedelta
    from typing import Any

    from rolecall.cache import CacheEntry

__all__ = ["SessionCache"]

#: Where rolecall notes whose MFA session an entry of ``SessionCache`` is.
_SESSION_META = "Rolecall"


class SessionCache(JsonFolderCache):
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
        return sha1_hex(canonical_json({"AccessKeyId": source_access_key_id, "SerialNumber": mfa_serial}))

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
        document = checked_response(response)
        document[_SESSION_META] = {"SourceAccessKeyId": source_access_key_id, "SerialNumber": mfa_serial}
        return self._write(key, document)

