"""``configure import --csv``: the IAM console's access-key CSV into credentials-file profiles.

The console gives a CSV such as::

    User Name,Access key ID,Secret access key          (older downloads; also Password, Console login link...)
    alice,AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

    Access key ID,Secret access key                    (the download of today: no user name)
    AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

As in the AWS CLI v2's ``aws configure import`` (``awscli/customizations/configure/importer.py``): headers
are matched case-insensitively with surrounding spaces and a leading byte-order mark ignored, values are
stripped, each row becomes the credentials-file profile ``PREFIX + User Name``, ``--skip-invalid`` skips rows
without both keys. Beyond it: quoted fields are real CSV (the AWS CLI splits on every comma), blank lines are
skipped, a CSV without ``User Name`` is accepted with an explicit profile name (the AWS CLI refuses it), an
existing profile is never overwritten silently, and the whole import is one atomic write.

Parsing and merging are pure (``parse_csv``, ``merge``); ``read_csv`` reads the CSV (stdin or a file, UTF-8);
``import_keys`` does the locked write.
"""

from __future__ import annotations

import csv
import io
import re

from rolecall.errors import FileError, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from rolecall.config.edit import Change

__all__ = [
    "CsvImportError",
    "ImportedKey",
    "MergeResult",
    "ProfileExistsError",
    "import_keys",
    "merge",
    "parse_csv",
    "read_csv",
]


def read_csv(spec: str, stdin: TextIO) -> str:
    """The CSV named by ``--csv``: ``-`` is ``stdin``, ``file://PATH`` or a plain path a file (UTF-8).

    Raises ``FileError`` when the file does not exist, ``InvalidInputError`` when it is not UTF-8.
    """
    from rolecall import fileio

    if spec == "-":
        return stdin.read()
    path = spec[len("file://") :] if spec.startswith("file://") else spec
    data = fileio.read_bytes(path)
    if data is None:
        raise FileError(f"{path} does not exist", hint="give the CSV the IAM console downloaded: --csv FILE")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not UTF-8 text", hint="save the CSV as UTF-8") from None


_USER = "user name"
_KEY_ID = "access key id"
_SECRET = "secret access key"
_HEADER_HINT = (
    "use the CSV the IAM console gives: a first line 'User Name,Access key ID,Secret access key' "
    "or 'Access key ID,Secret access key'"
)
# IAM access key IDs: upper-case letters and digits, 16 to 128 of them (AKIA... long-term, ASIA... temporary).
# Checking the shape catches swapped columns and a CSV re-saved with another separator.
_KEY_ID_RE = re.compile(r"[A-Z0-9]{16,128}\Z")
_TEMPORARY_KEYS = ("aws_session_token", "aws_security_token")


class CsvImportError(InvalidInputError):
    """The CSV cannot be imported: no such header, a row without keys, a profile named twice."""


class ProfileExistsError(InvalidInputError):
    """A profile to import already holds other keys in the credentials file, and replacing was not asked for."""


class ImportedKey:
    """One access key to import: the profile it goes to, the key ID, the secret, and its CSV line number.

    The secret never appears in ``repr``.
    """

    __slots__ = ("access_key_id", "line", "profile", "secret_access_key")

    def __init__(self, profile: str, access_key_id: str, secret_access_key: str, line: int) -> None:
        self.profile = profile
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.line = line

    def __repr__(self) -> str:
        return f"ImportedKey(profile={self.profile!r}, access_key_id={self.access_key_id!r}, line={self.line})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ImportedKey):
            return NotImplemented
        return (self.profile, self.access_key_id, self.secret_access_key, self.line) == (
            other.profile,
            other.access_key_id,
            other.secret_access_key,
            other.line,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable value object


def _header_name(cell: str) -> str:
    return cell.lstrip("\ufeff").strip().lower()


def _read_rows(text: str, profile: str | None) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The CSV's columns (name -> index: user, key ID, secret) and its rows with their line numbers;
    ``CsvImportError`` for an empty or unreadable CSV or a missing column."""
    text = text.lstrip("\ufeff")  # Excel and some consoles write a UTF-8 byte-order mark
    if not text.strip():
        raise CsvImportError("the CSV is empty", hint=_HEADER_HINT)
    rows = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [_header_name(cell) for cell in next(rows)]
        records = [(rows.line_num, row) for row in rows]
    except csv.Error as error:
        raise CsvImportError(f"the CSV cannot be read: {error}", hint="check the quotes in the file") from None
    for needed, label in ((_KEY_ID, "Access key ID"), (_SECRET, "Secret access key")):
        if needed not in header:
            raise CsvImportError(f'the CSV has no "{label}" column in its first line', hint=_HEADER_HINT)
    if _USER not in header and profile is None:
        raise CsvImportError(
            'the CSV has no "User Name" column to name the profile',
            hint="name it: rolecall configure import --csv FILE --profile NAME",
        )
    return {name: header.index(name) for name in (_USER, _KEY_ID, _SECRET) if name in header}, records


def _row_problem(values: dict[str, str], profile: str | None) -> str | None:
    """What makes a row invalid (a missing value, a key ID that is not one), or ``None``."""
    for name, label in ((_USER, "User Name"), (_KEY_ID, "Access key ID"), (_SECRET, "Secret access key")):
        if name in values and not values[name] and not (name == _USER and profile is not None):
            return f'no value in the "{label}" column'
    if not _KEY_ID_RE.match(values[_KEY_ID]):
        return 'the "Access key ID" is not an access key ID (upper-case letters and digits)'
    return None


def _check_profiles(keys: list[ImportedKey], profile: str | None) -> None:
    """One key with ``--profile``, and no profile named by two rows."""
    if profile is not None and len(keys) > 1:
        raise CsvImportError(
            f"the CSV holds {len(keys)} keys, and --profile names one profile",
            hint="keep one row, or use a CSV with a User Name column (each row then names its profile)",
        )
    seen: dict[str, int] = {}
    for key in keys:
        if key.profile in seen:
            raise CsvImportError(
                f"profile '{key.profile}' would get two keys (lines {seen[key.profile]} and {key.line} of the CSV)",
                hint="keep one row per user (the console's CSV holds one key per user)",
            )
        seen[key.profile] = key.line


def parse_csv(
    text: str,
    *,
    profile: str | None = None,
    prefix: str = "",
    skip_invalid: bool = False,
) -> tuple[list[ImportedKey], list[int]]:
    """The keys in the console's CSV ``text``, and the line numbers of the rows skipped as invalid.

    The profile of a row is ``prefix + profile`` when ``profile`` is given (then the CSV must hold exactly one
    key), else ``prefix + User Name``; a CSV without a ``User Name`` column needs ``profile``. A row without
    both keys, or with a key ID that is not one (upper-case letters and digits), is an error, or skipped with
    ``skip_invalid``. Errors (``CsvImportError``) name lines and columns, never values.
    """
    columns, records = _read_rows(text, profile)
    keys: list[ImportedKey] = []
    skipped: list[int] = []
    for line, row in records:
        if not any(cell.strip() for cell in row):
            continue  # a blank line (the console ends its file with a newline; editors add more)
        values = {name: (row[index].strip() if index < len(row) else "") for name, index in columns.items()}
        problem = _row_problem(values, profile)
        if problem is not None:
            if skip_invalid:
                skipped.append(line)
                continue
            raise CsvImportError(
                f"line {line} of the CSV: {problem}",
                hint="fix that line, or pass --skip-invalid to import the other rows",
            )
        name = prefix + (profile if profile is not None else values[_USER])
        keys.append(ImportedKey(name, values[_KEY_ID], values[_SECRET], line))
    _check_profiles(keys, profile)
    return keys, skipped


class MergeResult:
    """The new credentials-file text and what happened to each profile: ``added``, ``replaced`` or ``unchanged``."""

    __slots__ = ("outcomes", "text")

    def __init__(self, text: str, outcomes: list[tuple[str, str]]) -> None:
        self.text = text
        self.outcomes = outcomes


def merge(text: str, keys: Sequence[ImportedKey], *, overwrite: bool = False, path: str = "credentials") -> MergeResult:
    """``text`` (a credentials file) with ``keys`` written into it, format-preserving.

    A profile whose section already holds the same key pair is ``unchanged``. One that holds another key
    pair is refused (``ProfileExistsError``, naming every such profile, nothing changed) unless ``overwrite``:
    then its two keys are replaced and a session token beside them removed (it belonged to the old keys).
    Other keys of the section and every comment stay. Raises ``ConfigParseError`` for a file botocore cannot
    read, ``InvalidInputError`` for a profile name that cannot be a section (``DEFAULT``, line breaks).
    """
    from rolecall.config.edit import SectionRef, apply_changes
    from rolecall.config.parse import parse_raw

    existing = parse_raw(text, path)
    clashes: list[str] = []
    plans: list[tuple[ImportedKey, str]] = []
    for key in keys:
        section = existing.get(key.profile) or {}
        old = (section.get("aws_access_key_id"), section.get("aws_secret_access_key"))
        if old == (key.access_key_id, key.secret_access_key):
            plans.append((key, "unchanged"))
        elif any(old):
            plans.append((key, "replaced"))
            clashes.append(key.profile)
        else:
            plans.append((key, "added"))
    if clashes and not overwrite:
        names = ", ".join(clashes)
        raise ProfileExistsError(
            f"profile{'s' if len(clashes) > 1 else ''} {names} already hold{'' if len(clashes) > 1 else 's'} "
            "other keys in the credentials file",
            hint="pass --overwrite to replace them, or --profile-prefix to import under other names",
        )
    new = text
    for key, outcome in plans:
        if outcome == "unchanged":
            continue
        changes: dict[str, Change] = {
            "aws_access_key_id": key.access_key_id,
            "aws_secret_access_key": key.secret_access_key,
        }
        section_now = existing.get(key.profile) or {}
        for stale in _TEMPORARY_KEYS:
            if stale in section_now:
                changes[stale] = None
        new = apply_changes(new, SectionRef.raw(key.profile), changes, path)
    _verify(new, keys, path)
    return MergeResult(new, [(key.profile, outcome) for key, outcome in plans])


def _verify(text: str, keys: Sequence[ImportedKey], path: str) -> None:
    """The merged text must read back (as botocore reads it) with every imported key in place."""
    from rolecall.config.parse import parse_raw
    from rolecall.errors import ConfigError

    parsed = parse_raw(text, path)
    for key in keys:
        section = parsed.get(key.profile) or {}
        if (section.get("aws_access_key_id"), section.get("aws_secret_access_key")) != (
            key.access_key_id,
            key.secret_access_key,
        ):  # pragma: no cover - an editor bug; refuse rather than write a wrong file
            raise ConfigError(
                f"the import of profile '{key.profile}' would not read back as written; nothing was written",
                hint="this is a bug in rolecall: please report it",
            )


def import_keys(path: str, keys: Sequence[ImportedKey], *, overwrite: bool = False) -> MergeResult:
    """Merge ``keys`` into the credentials file at ``path`` in one locked, atomic write (a new file is 0600).

    Nothing is written when nothing changes or when ``merge`` refuses.
    """
    from rolecall.config.document import write_checked

    results: list[MergeResult] = []

    def transform(old: str, exists: bool) -> str:
        results.append(merge(old, keys, overwrite=overwrite, path=path))  # checks the new text reads back
        return results[-1].text

    write_checked(path, transform, lambda new: None)
    return results[-1]
