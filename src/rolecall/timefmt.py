"""The one place where timestamps are parsed and formatted.

AWS and the AWS CLI write several ISO-8601 shapes: ``2026-11-27T23:20:11Z`` (STS wire format and
credential_process), ``2026-11-27T23:20:11+00:00`` (AWS CLI v2 output), ``2026-11-27T23:20:11UTC``
(botocore's JSON cache) and fractional seconds. All of them parse here to tz-aware UTC datetimes.
"""

from __future__ import annotations

from rolecall.durations import format_duration  # for every caller here; defined apart for the replay

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime, timedelta, timezone
else:
    try:
        # On CPython 3.10 and 3.11, ``datetime.py`` first defines the whole pure-Python implementation and only
        # then replaces it with the C one: about 2-3 ms of a cached lookup that costs ~20 ms in all. The C module
        # holds the very same classes (``datetime.datetime is _datetime.datetime``), so take them from it
        # directly. Modules on the cached path import these names from here for that reason.
        from _datetime import datetime, timedelta, timezone
    except ImportError:  # pragma: no cover - interpreters without the C module (PyPy)
        from datetime import datetime, timedelta, timezone

__all__ = [
    "datetime",
    "format_botocore_cache",
    "format_duration",
    "format_iso_offset",
    "format_iso_z",
    "format_local_hm",
    "parse_timestamp",
    "timedelta",
    "timezone",
    "to_utc",
    "utc_now",
]

_UTC_SUFFIXES = ("Z", "z", "UTC", "GMT")


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp in any of the shapes AWS tools write; naive means UTC.

    Raises ``ValueError`` for anything else. Written without ``re`` to stay cheap on the fast path.
    """
    value = text.strip()
    for suffix in _UTC_SUFFIXES:
        if value.endswith(suffix):
            value = value[: -len(suffix)].rstrip() + "+00:00"
            break
    date_part, sep, rest = value.replace(" ", "T", 1).partition("T")
    if not sep or len(date_part) != 10:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    clock, zone = rest, ""
    for marker in ("+", "-"):
        if marker in rest:
            clock, _, zone = rest.partition(marker)
            zone = marker + zone
            break
    clock, dot, fraction = clock.partition(".")
    if len(clock) != 8 or (dot and not fraction.isdigit()):
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    micro = fraction[:6].ljust(6, "0") if dot else "000000"
    moment = datetime.fromisoformat(f"{date_part}T{clock}.{micro}")
    if zone:
        digits = zone[1:].replace(":", "")
        if len(digits) != 4 or not digits.isdigit():
            raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        tz = timezone(offset if zone[0] == "+" else -offset)
        return moment.replace(tzinfo=tz).astimezone(timezone.utc)
    return moment.replace(tzinfo=timezone.utc)


def format_iso_z(moment: datetime) -> str:
    """``2026-11-27T23:20:11Z``: the STS wire form, used for credential_process and env exports."""
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_iso_offset(moment: datetime) -> str:
    """``2026-11-27T23:20:11+00:00``: how the AWS CLI v2 prints timestamps."""
    return to_utc(moment).replace(microsecond=0).isoformat()


def format_botocore_cache(moment: datetime) -> str:
    """``2026-11-27T23:20:11UTC``: how botocore's JSONFileCache serialises datetimes."""
    return to_utc(moment).strftime("%Y-%m-%dT%H:%M:%SUTC")


def to_utc(moment: datetime) -> datetime:
    """Return ``moment`` as tz-aware UTC (naive datetimes are taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc_now() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(timezone.utc)


def format_local_hm(moment: datetime) -> str:
    """``21:14`` in the local time zone (or ``2026-11-28 09:14`` when not today): for messages to people."""
    local = to_utc(moment).astimezone()
    today = datetime.now().astimezone().date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%Y-%m-%d %H:%M")


