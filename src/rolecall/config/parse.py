"""Read the AWS CLI's config and credentials files with botocore's semantics, to the letter.

botocore reads both files with ``configparser.RawConfigParser()`` (default arguments) and then post-processes
them (``botocore/configloader.py``). This module reproduces the combined behaviour by hand, because
``configparser``, ``re`` and ``shlex`` cost start-up time on the cached fast path (docs/architecture.md):

* lines end at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (text-mode universal newlines); the file must be UTF-8;
* ``[name]`` headers (name verbatim, up to the last ``]`` of the line), ``[DEFAULT]`` whose keys every other
  section inherits, duplicate sections and duplicate keys are errors, content before the first header is an error;
* ``key = value`` or ``key: value``, split at the first ``=`` or ``:``; keys lower-cased, both sides stripped;
* full-line ``#``/``;`` comments only (a ``#`` after a value is part of the value);
* a line indented deeper than its key line continues the value (joined with ``\\n``, blank lines kept inside);
* a value that starts with a newline is a nested block: ``name = value`` lines split on the first ``=``,
  names not lower-cased, ``:`` not accepted;
* in the config file, ``[profile NAME]``/``[sso-session NAME]``/``[services NAME]`` headers are split like
  ``shlex.split`` and kept only when they give exactly two words; ``[default]`` is a profile; any other section
  stays a top-level key; a later section replaces an earlier one that maps to the same name.

Unlike botocore, an error names the file and the line, and an unreadable file is an error instead of being
silently treated as empty.

``ConfigFiles.load(paths)`` reads both files the way a botocore ``Session`` sees them. Files of 32 KiB or more
are served from a parse cache in rolecall's folder (``parse-cache``, 0600 in a 0700 folder) while their stat
signature (mtime and ctime in ns, size, inode, device) is unchanged; a file changed in the last two seconds is
never cached, so an edit within one timestamp tick cannot go unseen. A lookup then reads one profile's bytes
from the cache instead of parsing thousands of them. The cache holds copies of whatever the files hold, secrets
included, so an entry that no longer describes its file (edited, shrunk below 32 KiB, gone) is dropped by the
next lookup, and ``purge_parse_cache`` drops entries at once (``keys import`` and ``--confirm`` call it).
"""

from __future__ import annotations

import os

from rolecall.errors import ConfigParseError, FileError, ProfileNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from rolecall.config.paths import AwsPaths

#: A setting's value: a string, or a dict for a nested block (``s3 =`` followed by indented ``name = value`` lines).
ConfigValue = str | dict[str, str]

__all__ = [
    "ConfigFiles",
    "ConfigValue",
    "build_profile_map",
    "load_config_file",
    "parse_raw",
    "read_raw_file",
    "split_section_name",
]

# Characters ``shlex`` treats specially in POSIX mode; a header without any of them splits on spaces alone.
_SHLEX_WHITESPACE = " \t\r\n"
_SHLEX_SPECIAL = "'\"\\\t\r\n"


def split_section_name(name: str) -> list[str]:
    """Split a section name like ``shlex.split(name)`` (POSIX mode, no comments) — the subset botocore relies on.

    Whitespace is ASCII space, tab, CR and LF only; ``'...'`` is literal; ``"..."`` honours ``\\"`` and ``\\\\``;
    a backslash outside quotes escapes the next character; ``''`` is an empty word. Raises ``ValueError``
    (as ``shlex`` does) for an unclosed quote or a trailing backslash.
    """
    for ch in _SHLEX_SPECIAL:
        if ch in name:
            break
    else:
        # The common case: plain words separated by spaces.
        return [word for word in name.split(" ") if word]
    words: list[str] = []
    buf: list[str] = []
    in_word = False  # a word has started, even if it is empty so far (``''`` makes an empty word)
    i = 0
    n = len(name)
    while i < n:
        ch = name[i]
        if ch in _SHLEX_WHITESPACE:
            if in_word:
                words.append("".join(buf))
                buf = []
                in_word = False
            i += 1
        elif ch == "\\":
            if i + 1 >= n:
                raise ValueError("No escaped character")
            buf.append(name[i + 1])
            in_word = True
            i += 2
        elif ch == "'":
            end = name.find("'", i + 1)
            if end < 0:
                raise ValueError("No closing quotation")
            buf.append(name[i + 1 : end])
            in_word = True
            i = end + 1
        elif ch == '"':
            in_word = True
            i += 1
            while True:
                if i >= n:
                    raise ValueError("No closing quotation")
                ch = name[i]
                if ch == '"':
                    i += 1
                    break
                if ch == "\\":
                    if i + 1 >= n:
                        raise ValueError("No escaped character")
                    nxt = name[i + 1]
                    # Inside double quotes only a quote or a backslash can be escaped; otherwise both stay.
                    buf.append(nxt if nxt in '"\\' else ch + nxt)
                    i += 2
                else:
                    buf.append(ch)
                    i += 1
        else:
            buf.append(ch)
            in_word = True
            i += 1
    if in_word:
        words.append("".join(buf))
    return words


def _display_path(path: str) -> str:
    """The path as a person would write it: the home folder shortened to ``~``."""
    home = os.path.expanduser("~")
    if home and home != "/" and path.startswith(home + os.sep):
        return "~" + path[len(home) :]
    return path


class _Retry(Exception):
    """Raised by a fast scan that met an error whose message needs line numbers it did not record."""


class _Scan:
    """The result of scanning one file: sections in file order, the ``[DEFAULT]`` keys, and (when tracked) lines."""

    __slots__ = ("defaults", "lines", "nested", "option_lines", "sections")

    def __init__(
        self,
        sections: dict[str, dict[str, ConfigValue]],
        defaults: dict[str, str],
        nested: set[str],
        lines: list[str],
        option_lines: dict[tuple[str, str], list[int]] | None,
    ) -> None:
        self.sections = sections
        self.defaults = defaults
        self.nested = nested  # the sections with a value that starts with a newline (a nested block)
        self.lines = lines
        self.option_lines = option_lines


def _split_lines(text: str) -> list[str]:
    """Split like a text-mode file with universal newlines: at ``\\r\\n``, ``\\r`` and ``\\n`` only.

    (``str.splitlines`` would also split at form feeds and other Unicode separators, which configparser keeps.)
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the "line" after a final newline does not exist
    return lines


_HINT_SYNTAX = (
    "Each line must be a [section] header, a 'name = value' setting, an indented continuation of the setting above, "
    "a blank line, or a comment starting with # or ;"
)


def _scan(text: str, path: str, track: bool) -> _Scan:
    """Scan the text the way ``RawConfigParser.read`` does; raise ``ConfigParseError`` at the first error.

    With ``track`` false (the fast path) no line numbers are recorded, and an error that needs one
    ("first at line N") raises ``_Retry`` so the caller scans again with ``track`` true.
    """
    lines = _split_lines(text)
    where = _display_path(path)
    # Values are all strings here; the type says ConfigValue so that parse_raw can hand sections on uncopied.
    sections: dict[str, dict[str, ConfigValue]] = {}
    defaults: dict[str, str] = {}
    nested: set[str] = set()
    section_lines: dict[str, int] = {}
    option_lines: dict[tuple[str, str], list[int]] | None = {} if track else None
    cursect: dict[str, ConfigValue] | None = None
    sectname = ""
    optname: str | None = None  # the option that continuation lines extend, if any
    optval = ""
    pieces: list[str] | None = None  # the value's lines once it has more than one
    blanks = 0  # blank lines seen since the last piece; they count only if a continuation follows
    indent_level = 0
    lineno = 0
    for line in lines:
        lineno += 1
        value = line.strip()
        if not value:
            # A blank line belongs to the current value if more of it follows (configparser keeps them inside).
            if optname is not None:
                blanks += 1
            continue
        first = value[0]
        if first == "#" or first == ";":
            # Full-line comments vanish without ending the current value.
            continue
        indent = 0 if line[0] == first else len(line) - len(line.lstrip())
        if optname is not None and indent > indent_level:
            if pieces is None:
                pieces = [optval]
            if blanks:
                pieces.extend([""] * blanks)
                blanks = 0
            pieces.append(value)
            if option_lines is not None:
                option_lines[(sectname, optname)].append(lineno)
            continue
        if pieces is not None:
            assert cursect is not None and optname is not None
            cursect[optname] = "\n".join(pieces)
            if not pieces[0]:
                nested.add(sectname)
            pieces = None
        blanks = 0
        indent_level = indent
        if first == "[":
            close = value.rfind("]")
            if close >= 2:
                name = value[1:close]
                if name in sections:
                    if not track:
                        raise _Retry
                    raise ConfigParseError(
                        f"{where} line {lineno}: duplicate section [{name}] (first at line {section_lines[name]})",
                        hint="Merge the two sections into one, or delete one of them.",
                    )
                if name == "DEFAULT":
                    cursect = defaults  # type: ignore[assignment]  # only ever holds strings
                else:
                    cursect = {}
                    sections[name] = cursect
                    if track:
                        section_lines[name] = lineno
                sectname = name
                optname = None
                continue
            # Not a header after all ("[]", "[x" with no closing bracket): configparser reads it as a setting.
            if cursect is None or (value.find("=") < 0 and value.find(":") < 0):
                # The line is not echoed: whatever a person typed there could be a secret.
                raise ConfigParseError(
                    f"{where} line {lineno}: a line starting with '[' that is not a section header (a name is "
                    "needed between '[' and ']')",
                    hint="Write headers as [default], [profile NAME], [sso-session NAME] or [services NAME].",
                )
        if cursect is None:
            if lineno == 1 and first == "\ufeff":
                raise ConfigParseError(
                    f"{where} line 1: the file starts with a byte-order mark (BOM), which the AWS CLI cannot read",
                    hint="Save the file as UTF-8 without BOM (in Notepad: 'UTF-8', not 'UTF-8 with BOM').",
                )
            raise ConfigParseError(
                f"{where} line {lineno}: text before the first [section] header",
                hint="Every setting must come after a header such as [default] or [profile NAME]; "
                "move or delete this line.",
            )
        # The name ends at the first '=' or ':' (a ':' is only looked for before the '=').
        eq = value.find("=")
        colon = value.find(":", 0, eq) if eq >= 0 else value.find(":")
        if colon >= 0:
            eq = colon
        if eq < 0:
            raise ConfigParseError(
                f"{where} line {lineno}: in [{sectname}], a line that is not a 'name = value' setting",
                hint=_HINT_SYNTAX + ".",
            )
        if eq == 0:
            raise ConfigParseError(
                f"{where} line {lineno}: in [{sectname}], a setting with no name before '{value[0]}'",
                hint="Write the setting as 'name = value', or delete the line.",
            )
        optname = value[:eq].rstrip().lower()
        optval = value[eq + 1 :].lstrip()
        if optname in cursect:
            if not track:
                raise _Retry
            assert option_lines is not None
            first_line = option_lines[(sectname, optname)][0]
            raise ConfigParseError(
                f"{where} line {lineno}: duplicate key '{optname}' in [{sectname}] (first at line {first_line})",
                hint="Keep one of the two lines (names are case-insensitive: 'Region' and 'region' are the same key).",
            )
        cursect[optname] = optval
        if option_lines is not None:
            option_lines[(sectname, optname)] = [lineno]
    if pieces is not None:
        assert cursect is not None and optname is not None
        cursect[optname] = "\n".join(pieces)
        if not pieces[0]:
            nested.add(sectname)
    return _Scan(sections, defaults, nested, lines, option_lines)


def _parse_nested(value: str) -> dict[str, str] | None:
    """Parse a nested block (``botocore.configloader._parse_nested``); ``None`` when a line has no ``=``."""
    parsed: dict[str, str] = {}
    for line in value.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, val = line.partition("=")
        if not sep:
            return None
        parsed[key.strip()] = val.strip()
    return parsed


def _nested_error(scan: _Scan, section: str, option: str, path: str) -> ConfigParseError:
    """The error for a nested block with a line lacking ``=``, pointing at that line."""
    assert scan.option_lines is not None
    linenos = scan.option_lines[(section, option)]
    bad = linenos[0]
    # The scan kept one line number per piece of the value (the key line, then each continuation line);
    # the first piece is empty for a nested block. A piece may hold several lines for str.splitlines.
    for lineno in linenos[1:]:
        piece = scan.lines[lineno - 1].strip()
        if any(part.strip() and "=" not in part for part in piece.splitlines()):
            bad = lineno
            break
    return ConfigParseError(
        f"{_display_path(path)} line {bad}: in [{section}], the nested block '{option}' has a line that is not "
        "'name = value'",
        hint="Lines indented under a setting with an empty value form a nested block; each must be 'name = value' "
        "(':' is not accepted there). Indent it less if it is a setting of its own.",
    )


def parse_raw(text: str, path: str) -> dict[str, dict[str, ConfigValue]]:
    """Parse the text of a config or credentials file: ``botocore.configloader.raw_config_parse`` on that text.

    Every section becomes a top-level key, verbatim and in file order (``[DEFAULT]`` excepted: its keys are
    inherited into every section). ``path`` is only used in error messages.
    Raises ``ConfigParseError`` naming the file and the line.
    """
    try:
        scan = _scan(text, path, track=False)
    except _Retry:
        scan = _scan(text, path, track=True)
    defaults = scan.defaults
    if not defaults and not scan.nested:
        return scan.sections  # the common case: nothing to inherit, nothing nested, nothing to copy
    nested_defaults: dict[str, dict[str, str] | None] = {}
    for key, val in defaults.items():
        if val.startswith("\n"):
            nested_defaults[key] = _parse_nested(val)
    result: dict[str, dict[str, ConfigValue]] = {}
    for name, options in scan.sections.items():
        if not defaults and name not in scan.nested:
            result[name] = options
            continue
        section: dict[str, ConfigValue] = {}
        for key, value in options.items():
            if isinstance(value, str) and value.startswith("\n"):
                nested = _parse_nested(value)
                if nested is None:
                    raise _nested_error(_scan(text, path, track=True), name, key, path)
                section[key] = nested
            else:
                section[key] = value
        # [DEFAULT] keys come after the section's own, and only where the section does not set them.
        for key, val in defaults.items():
            if key in section:
                continue
            if key in nested_defaults:
                parsed = nested_defaults[key]
                if parsed is None:
                    raise _nested_error(_scan(text, path, track=True), "DEFAULT", key, path)
                section[key] = dict(parsed)
            else:
                section[key] = val
        result[name] = section
    return result


def _read_text(path: str) -> str | None:
    """The decoded text of a file, ``None`` if there is no such file (or it is not a regular file).

    As botocore (``os.path.isfile``), anything but a regular file counts as missing: ``/dev/null`` is an empty
    setup, and a named pipe is not waited on. Unlike botocore, a file that exists but cannot be read is an error.
    """
    try:
        if os.stat(path).st_mode & 0o170000 != 0o100000:
            return None
        with open(path, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except PermissionError as exc:
        raise FileError(
            f"cannot read {_display_path(path)}: permission denied",
            hint=f"Check the file's owner and mode (ls -l {_display_path(path)}); it should be readable by you.",
        ) from exc
    except OSError as exc:
        raise FileError(
            f"cannot read {_display_path(path)}: {exc.strerror or exc}",
            hint="Check that the file is a readable regular file.",
        ) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # botocore decodes with the locale's encoding: where that is not UTF-8 (Windows: cp1252), files the
        # AWS CLI wrote in it must still read. Where it is UTF-8, this is the error botocore reports too.
        encoding = _locale_encoding()
        if encoding.replace("-", "").replace("_", "").lower() != "utf8":
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                pass
        before = data[: exc.start].decode("utf-8", "replace")
        lineno = len(_split_lines(before + "x"))
        raise ConfigParseError(
            f"{_display_path(path)} line {lineno}: bytes that are not UTF-8 text (0x{data[exc.start]:02x})",
            hint="The AWS CLI reads these files as UTF-8; re-save the file as UTF-8 text.",
        ) from None


def _locale_encoding() -> str:
    """The encoding ``open()`` uses without ``encoding=`` (what botocore reads with), without importing ``locale``."""
    import io

    return io.TextIOWrapper(io.BytesIO()).encoding


def read_raw_file(path: str) -> dict[str, dict[str, ConfigValue]] | None:
    """``raw_config_parse`` of a file whose path is already expanded; ``None`` if the file does not exist.

    Used for the credentials file. Raises ``ConfigParseError`` or ``FileError`` (unreadable file).
    """
    text = _read_text(path)
    if text is None:
        return None
    return parse_raw(text, path)


def build_profile_map(raw: dict[str, dict[str, ConfigValue]]) -> dict[str, Any]:
    """``botocore.configloader.build_profile_map``: group raw sections into profiles, sso-sessions and services.

    Returns ``{'profiles': {...}, 'sso_sessions': {...}, 'services': {...}, <other sections>...}``; the section
    dicts are the ones in ``raw`` (not copied).
    """
    profiles: dict[str, dict[str, ConfigValue]] = {}
    sso_sessions: dict[str, dict[str, ConfigValue]] = {}
    services: dict[str, dict[str, ConfigValue]] = {}
    final: dict[str, Any] = {}
    for key, values in raw.items():
        if key.startswith("profile"):
            target = profiles
        elif key.startswith("sso-session"):
            target = sso_sessions
        elif key.startswith("services"):
            target = services
        elif key == "default":
            profiles[key] = values
            continue
        else:
            final[key] = values
            continue
        try:
            parts = split_section_name(key)
        except ValueError:
            continue  # botocore drops a header with an unbalanced quote silently
        if len(parts) == 2:
            target[parts[1]] = values
    final["profiles"] = profiles
    final["sso_sessions"] = sso_sessions
    final["services"] = services
    return final


def load_config_file(path: str) -> dict[str, Any]:
    """``botocore.configloader.load_config`` of a file whose path is already expanded (see ``AwsPaths.from_env``).

    A missing file gives the empty shape ``{'profiles': {}, 'sso_sessions': {}, 'services': {}}``.
    Raises ``ConfigParseError`` or ``FileError`` (unreadable file).
    """
    raw = read_raw_file(path)
    return build_profile_map(raw or {})


# --- the parse cache ------------------------------------------------------------------------------------------
# Parsing a 5,000-profile config costs tens of milliseconds, more than a whole cached lookup may take
# (docs/architecture.md). Big files are therefore kept parsed in one file of rolecall's own folder, keyed by
# path and by a stat signature that any change to the file alters. Even decoding all 5,000 profiles (or just
# reading a megabyte into fresh memory) costs milliseconds, so the cache file is laid out for lookups:
#
#   b"RCPC" | 4-byte length H | H bytes: marshal((python version, {"kind:path": entry})) | data region
#
# An entry is (signature, kind, count, "\nname1\nname2\n", offsets, base, size, whole_at): the marshalled value of
# each name lies at data[base + offsets[i] : base + offsets[i + 1]], and the whole parse result at
# data[base + whole_at : base + size]. A lookup reads the header, then only the bytes of the names it needs.

_KIND_CONFIG = "config"  # the entry holds load_config_file()'s result, indexed by profile
_KIND_RAW = "raw"  # the entry holds read_raw_file()'s result, indexed by section
_CACHE_FILE = "parse-cache"
_CACHE_MAGIC = b"RCPC"
#: Smaller files parse faster than the cache loads; they are never cached (nor their secrets copied).
_CACHE_MIN_BYTES = 32 * 1024
#: A file changed less than this long ago is not cached ("racy" timestamps, as git calls them): on file systems
#: with coarse timestamps, an edit in the same tick with the same size would keep the same signature.
_RACY_NS = 2_000_000_000
#: At most this many files are remembered (several AWS_CONFIG_FILE values may share one rolecall folder).
_CACHE_MAX_ENTRIES = 8

if TYPE_CHECKING:
    _Signature = tuple[int, int, int, int, int]
    _Entry = tuple[_Signature, str, int, str, bytes, int, int, int]


class _CacheBroken(Exception):
    """The cache file could not deliver an entry it announced (damaged, truncated): parse the source instead."""


def _signature(st: os.stat_result) -> _Signature:
    """What changes whenever the file does: mtime and ctime (ns), size, inode (atomic replace), device."""
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns, st.st_dev)


def _python_version() -> int:
    """marshal's format belongs to one Python version."""
    import sys

    return sys.hexversion >> 16


def _encode(result: dict[str, Any], kind: str) -> tuple[int, str, bytes, bytes, int]:
    """Lay out a parse result: (count, names, offsets, data, whole_at), one marshalled value per name."""
    import marshal

    mapping: dict[str, Any] = result["profiles"] if kind == _KIND_CONFIG else result
    names = "\n" + "".join(name + "\n" for name in mapping)
    parts = [marshal.dumps(value) for value in mapping.values()]
    offsets = [0]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    packed = b"".join(offset.to_bytes(4, "little") for offset in offsets)
    return (len(parts), names, packed, b"".join(parts) + marshal.dumps(result), offsets[-1])


def _valid_entry(entry: object) -> bool:
    """A shallow check of an entry read back from disk (a damaged file must not crash a lookup)."""
    return (
        type(entry) is tuple
        and len(entry) == 8
        and type(entry[0]) is tuple
        and type(entry[1]) is str
        and type(entry[2]) is int
        and type(entry[3]) is str
        and entry[3].count("\n") == entry[2] + 1
        and type(entry[4]) is bytes
        and len(entry[4]) == 4 * (entry[2] + 1)
        and type(entry[5]) is int
        and type(entry[6]) is int
        and type(entry[7]) is int
        and 0 <= entry[7] <= entry[6]
    )


class _CacheFile:
    """The open cache file that lookups read from (the descriptor keeps the version read even if it is replaced)."""

    __slots__ = ("data_start", "fd")

    def __init__(self, fd: int, data_start: int) -> None:
        self.fd = fd
        self.data_start = data_start

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` of the data region; ``_CacheBroken`` if the file is shorter."""
        try:
            if hasattr(os, "pread"):
                data = os.pread(self.fd, size, self.data_start + offset)
            else:  # Windows
                os.lseek(self.fd, self.data_start + offset, 0)
                data = os.read(self.fd, size)
        except OSError as exc:
            raise _CacheBroken from exc
        if len(data) != size:
            raise _CacheBroken
        return data

    def __del__(self) -> None:
        try:  # noqa: SIM105 (contextlib is not imported on the fast path)
            os.close(self.fd)
        except (OSError, TypeError, AttributeError):  # the latter two at interpreter shutdown
            pass


class _Indexed:
    """A cached parse result that decodes one profile (or section) at a time, and the whole only when asked."""

    __slots__ = ("_entry", "_file")

    def __init__(self, file: _CacheFile, entry: _Entry) -> None:
        self._file = file
        self._entry = entry

    def _load(self, start: int, end: int) -> Any:
        import marshal

        try:
            return marshal.loads(self._file.read(self._entry[5] + start, end - start))
        except (ValueError, EOFError, TypeError) as exc:
            raise _CacheBroken from exc

    def get(self, name: str) -> dict[str, ConfigValue] | None:
        """The value stored under ``name``, or ``None``; raises ``_CacheBroken``."""
        if "\n" in name:
            return None  # names never hold a newline; one here would match across two entries
        names, offsets = self._entry[3], self._entry[4]
        at = names.find("\n" + name + "\n")
        if at < 0:
            return None
        index = names.count("\n", 0, at)
        start = int.from_bytes(offsets[4 * index : 4 * index + 4], "little")
        end = int.from_bytes(offsets[4 * index + 4 : 4 * index + 8], "little")
        value = self._load(start, end)
        if type(value) is not dict:
            raise _CacheBroken
        return value

    def names(self) -> list[str]:
        """The names in file order."""
        return self._entry[3][1:-1].split("\n") if self._entry[2] else []

    def whole(self) -> dict[str, Any]:
        """The whole parse result; raises ``_CacheBroken``."""
        value = self._load(self._entry[7], self._entry[6])
        if type(value) is not dict:
            raise _CacheBroken
        return value

    def raw(self) -> bytes:
        """The entry's bytes in the data region, to carry it over into a rewritten cache file."""
        return self._file.read(self._entry[5], self._entry[6])


def _parse_file(path: str, kind: str) -> dict[str, Any] | None:
    """Parse one file as ``kind`` says; ``None`` if it does not exist."""
    raw = read_raw_file(path)
    if raw is None or kind == _KIND_RAW:
        return raw
    return build_profile_map(raw)


def _private_to_me(st: os.stat_result, writable_only: bool = False) -> bool:
    """Owned by this user and not open to others (always true where there are no POSIX owners)."""
    if not hasattr(os, "getuid"):
        return True
    mask = 0o022 if writable_only else 0o077
    return st.st_uid == os.getuid() and not st.st_mode & mask


class _ParseCache:
    """The parse cache of one rolecall folder, read at most once and written at most once per ``load``."""

    __slots__ = ("_dirty", "_drop", "_entries", "_file", "_fresh", "_path", "_replace")

    def __init__(self, folder: str) -> None:
        self._path = os.path.join(folder, _CACHE_FILE)
        self._entries: dict[str, _Entry] | None = None
        self._file: _CacheFile | None = None
        self._fresh: dict[str, tuple[_Signature, str, tuple[int, str, bytes, bytes, int]]] = {}
        self._dirty = False
        self._replace = False  # the file on disk is not ours to trust, or unreadable: remove it before writing
        self._drop: set[str] = set()  # entries to leave out of the rewritten file whatever their signature

    def _load(self) -> dict[str, _Entry]:
        if self._entries is None:
            self._entries = self._read()
        return self._entries

    def _read(self) -> dict[str, _Entry]:
        try:
            # O_NOFOLLOW: a symlink planted in place of the cache is not followed.
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        except OSError as exc:
            self._replace = not isinstance(exc, FileNotFoundError)
            return {}
        file = _CacheFile(fd, 0)  # closes fd when dropped
        try:
            if not _private_to_me(os.fstat(fd)):
                self._replace = True
                return {}
            head = file.read(0, 8)
            if head[:4] != _CACHE_MAGIC:
                raise _CacheBroken
            length = int.from_bytes(head[4:], "little")
            import marshal

            header = marshal.loads(file.read(8, length))
            if type(header) is tuple and len(header) == 2 and header[0] == _python_version():
                entries = header[1]
                if type(entries) is dict:
                    file.data_start = 8 + length
                    self._file = file
                    return entries
        except (_CacheBroken, OSError, ValueError, EOFError, TypeError):
            pass
        self._replace = True
        return {}

    def get(self, path: str, kind: str) -> dict[str, Any] | _Indexed | None:
        """The parsed file (``kind``: ``config`` or ``raw``), from the cache when the file has not changed.

        An entry for ``path`` that no longer matches the file is dropped when the cache is saved, even when the
        file is not cached any more (shrunk below the threshold, gone): it may hold secrets the file no longer has.
        """
        key = kind + ":" + path
        try:
            before = os.stat(path)
        except OSError:
            self._forget(key)
            return _parse_file(path, kind)  # missing (None), or the FileError that explains why it cannot be read
        if before.st_size < _CACHE_MIN_BYTES or before.st_mode & 0o170000 != 0o100000:
            self._forget(key)
            return _parse_file(path, kind)
        signature = _signature(before)
        hit = self._load().get(key)
        if self._file is not None and _valid_entry(hit) and hit[0] == signature and hit[1] == kind:  # type: ignore[index]
            return _Indexed(self._file, hit)  # type: ignore[arg-type]
        if hit is not None:
            self._forget(key)  # stale: gone at the next save even if the new content cannot be cached yet (racy)
        result = _parse_file(path, kind)
        if result is not None and _ns_now() - max(before.st_mtime_ns, before.st_ctime_ns) > _RACY_NS:
            try:
                unchanged = _signature(os.stat(path)) == signature  # not edited while it was read
            except OSError:
                unchanged = False
            if unchanged:
                self._fresh[kind + ":" + path] = (signature, kind, _encode(result, kind))
                self._dirty = True
        return result

    def _forget(self, key: str) -> None:
        """Leave the entry ``key`` out of the cache from the next ``save`` on (a no-op when there is none).

        Costs a failed ``open`` when there is no cache file, the header read otherwise (which a big file's
        lookup reads anyway).
        """
        if key in self._load():
            self._drop.add(key)
            self._dirty = True

    def save(self, *, purging: bool = False) -> None:
        """Write the cache if it changed: atomically, 0600 in a 0700 folder; any failure only costs speed.

        With ``purging``, a cache that cannot be rewritten (or would be empty) is removed instead, so that the
        entries left out are gone from the disk either way.
        """
        if not self._dirty:
            return
        import marshal

        from rolecall.fileio import atomic_write

        # Carry over the other entries that still describe their files (so that no stale copy of a secret
        # lingers), the most recently written last, then the new ones.
        header: dict[str, _Entry] = {}
        chunks: list[bytes] = []
        size = 0
        kept: list[tuple[str, _Signature, str, tuple[int, str, bytes, bytes, int]]] = []
        for key, entry in (self._entries or {}).items():
            if key in self._fresh or key in self._drop or self._file is None or not _valid_entry(entry):
                continue
            try:
                if _signature(os.stat(key.partition(":")[2])) != entry[0]:
                    continue
                data = _Indexed(self._file, entry).raw()
            except (OSError, _CacheBroken):
                continue
            kept.append((key, entry[0], entry[1], (entry[2], entry[3], entry[4], data, entry[7])))
        for key, (signature, kind, encoded) in self._fresh.items():
            kept.append((key, signature, kind, encoded))
        if not kept:
            # Nothing left to remember: no file at all (also the cheapest thing for the next lookup to find).
            self._remove()
            return
        for key, signature, kind, (count, names, offsets, data, whole_at) in kept[-_CACHE_MAX_ENTRIES:]:
            header[key] = (signature, kind, count, names, offsets, size, len(data), whole_at)
            chunks.append(data)
            size += len(data)
        head = marshal.dumps((_python_version(), header))
        blob = b"".join([_CACHE_MAGIC, len(head).to_bytes(4, "little"), head, *chunks])
        folder = os.path.dirname(self._path)
        try:
            if os.path.isdir(folder) and not _private_to_me(os.stat(folder), writable_only=True):
                # A folder others can write to is no place for copies of credentials.
                if purging:
                    self._remove()
                return
            if self._replace and os.path.lexists(self._path):
                os.unlink(self._path)
            atomic_write(self._path, blob, mode=0o600)
        except (OSError, FileError):
            if purging:
                self._remove()

    def _remove(self) -> None:
        """Delete the cache file (only the name: a symlink planted there is removed, not what it points to)."""
        try:  # noqa: SIM105 (contextlib is not imported on the fast path)
            os.unlink(self._path)
        except OSError:  # gone already, or a folder in its place (no copy of ours; writes fail on it, as they should)
            pass


def purge_parse_cache(folder: str, paths: Sequence[str] = ()) -> None:
    """Drop from the parse cache in ``folder`` the entries of ``paths`` and every entry that no longer describes
    its file, at once; remove the cache file when it cannot be rewritten or would be empty. Never raises.

    For commands that take secrets out of a file (``keys import``): the cache must not keep copies of them
    until the next lookup happens to rewrite it. Temporary files a killed writer left are not touched here
    (``parse_cache_path`` names the file whose leftovers to look for).
    """
    cache = _ParseCache(folder)
    entries = cache._load()
    if not entries and not cache._replace:
        return  # no cache file (or an empty one of ours): nothing to drop
    wanted = set(paths)
    cache._drop.update(key for key in entries if key.partition(":")[2] in wanted)
    cache._dirty = True
    cache.save(purging=True)


def parse_cache_path(folder: str) -> str:
    """The parse cache file of the rolecall folder ``folder``."""
    return os.path.join(folder, _CACHE_FILE)


def _ns_now() -> int:
    """The wall clock in nanoseconds (a function, so that tests can move time)."""
    import time

    return time.time_ns()


class ConfigFiles:
    """Both files as botocore sees them: ``full_config`` (merged), ``config`` and ``credentials`` (each alone).

    Build it with ``ConfigFiles.load(paths)``. Nothing returned may be mutated by callers. For single lookups
    prefer ``profile``, ``config_profile`` and ``credentials_section``: with a big config served from the parse
    cache they decode one profile, where ``config``, ``credentials`` and ``full_config`` decode every profile.
    """

    __slots__ = ("_config", "_config_exists", "_config_index", "_credentials", "_credentials_index", "_full", "paths")

    paths: AwsPaths | None

    def __init__(
        self,
        config: dict[str, Any] | None,
        credentials: dict[str, dict[str, ConfigValue]] | None,
        paths: AwsPaths | None = None,
    ) -> None:
        """Wrap parsed files: ``config`` as ``load_config_file`` gives it, ``credentials`` as ``parse_raw`` gives it;
        ``None`` for a missing file."""
        self._config_exists = config is not None
        self._config: dict[str, Any] | None = config if config is not None else build_profile_map({})
        self._credentials: dict[str, dict[str, ConfigValue]] | None = credentials if credentials is not None else {}
        self._config_index: _Indexed | None = None
        self._credentials_index: _Indexed | None = None
        self.paths = paths
        self._full: dict[str, Any] | None = None

    @classmethod
    def from_texts(cls, config: str | None, credentials: str | None) -> ConfigFiles:
        """Parse file contents given as text (``None`` for a missing file); for tests and tools."""
        return cls(
            None if config is None else build_profile_map(parse_raw(config, "config")),
            None if credentials is None else parse_raw(credentials, "credentials"),
        )

    @classmethod
    def load(cls, paths: AwsPaths, *, use_cache: bool = True) -> ConfigFiles:
        """Read and parse the config and credentials files named by ``paths`` (missing files are empty).

        Big files are served from the parse cache in ``paths.rolecall_dir`` while they do not change
        (see ``_ParseCache``); ``use_cache=False`` always parses.
        """
        if not use_cache:
            raw = read_raw_file(paths.config_file)
            return cls(None if raw is None else build_profile_map(raw), read_raw_file(paths.credentials_file), paths)
        cache = _ParseCache(paths.rolecall_dir)
        config = cache.get(paths.config_file, _KIND_CONFIG)
        credentials = cache.get(paths.credentials_file, _KIND_RAW)
        cache.save()
        files = cls(
            config if not isinstance(config, _Indexed) else {},
            credentials if not isinstance(credentials, _Indexed) else {},
            paths,
        )
        if isinstance(config, _Indexed):
            files._config = None
            files._config_index = config
        if isinstance(credentials, _Indexed):
            files._credentials = None
            files._credentials_index = credentials
        return files

    @property
    def config(self) -> dict[str, Any]:
        """``load_config`` of the config file alone, as botocore's ``ConfigProvider`` sees it."""
        if self._config is None:
            assert self._config_index is not None
            try:
                self._config = self._config_index.whole()
            except _CacheBroken:
                return self._reparse_config()
        return self._config

    @property
    def credentials(self) -> dict[str, dict[str, ConfigValue]]:
        """The sections of the credentials file (``raw_config_parse``), as ``SharedCredentialProvider`` sees them."""
        if self._credentials is None:
            assert self._credentials_index is not None
            try:
                self._credentials = self._credentials_index.whole()
            except _CacheBroken:
                return self._reparse_credentials()
        return self._credentials

    def config_profile(self, name: str) -> dict[str, ConfigValue] | None:
        """Profile ``name`` of the config file alone (``config['profiles'].get(name)``), or ``None``."""
        if self._config is None:
            assert self._config_index is not None
            try:
                return self._config_index.get(name)
            except _CacheBroken:
                self._reparse_config()
        found: dict[str, ConfigValue] | None = self.config["profiles"].get(name)
        return found

    def credentials_section(self, name: str) -> dict[str, ConfigValue] | None:
        """Section ``name`` of the credentials file alone (``credentials.get(name)``), or ``None``."""
        if self._credentials is None:
            assert self._credentials_index is not None
            try:
                return self._credentials_index.get(name)
            except _CacheBroken:
                self._reparse_credentials()
        return self.credentials.get(name)

    def _reparse_config(self) -> dict[str, Any]:
        """The cache failed us mid-way (damaged file): read the config file itself."""
        assert self.paths is not None
        self._config = _parse_file(self.paths.config_file, _KIND_CONFIG) or build_profile_map({})
        self._config_index = None
        return self._config

    def _reparse_credentials(self) -> dict[str, dict[str, ConfigValue]]:
        """The cache failed us mid-way (damaged file): read the credentials file itself."""
        assert self.paths is not None
        self._credentials = _parse_file(self.paths.credentials_file, _KIND_RAW) or {}
        self._credentials_index = None
        return self._credentials

    @property
    def full_config(self) -> dict[str, Any]:
        """botocore's ``Session.full_config``: credentials-file sections ``update()``-d over the config's profiles.

        A missing config file gives ``{'profiles': {...}}`` alone, exactly as botocore does.
        """
        if self._full is None:
            if self._config_exists:
                full = dict(self.config)
                profiles = {name: dict(values) for name, values in self.config["profiles"].items()}
            else:
                full = {}
                profiles = {}
            for name, values in self.credentials.items():
                merged = profiles.get(name)
                if merged is None:
                    profiles[name] = dict(values)
                else:
                    merged.update(values)
            full["profiles"] = profiles
            self._full = full
        return self._full

    def profile(self, name: str) -> dict[str, ConfigValue] | None:
        """The merged settings of profile ``name`` (credentials file over config file), or ``None``.

        Equal to ``full_config['profiles'].get(name)``, computed without building the whole merged map.
        """
        if self._full is not None:
            found: dict[str, ConfigValue] | None = self._full["profiles"].get(name)
            return found
        from_config = self.config_profile(name)
        from_credentials = self.credentials_section(name)
        if from_credentials is None:
            return from_config
        if from_config is None:
            return from_credentials
        merged = dict(from_config)
        merged.update(from_credentials)
        return merged

    def profile_names(self) -> list[str]:
        """Profile names in botocore's ``available_profiles`` order: config file order, then credentials-only ones."""
        in_config = list(self._config["profiles"]) if self._config is not None else self._index_names(True)
        in_credentials = list(self._credentials) if self._credentials is not None else self._index_names(False)
        known = set(in_config)
        return in_config + [name for name in in_credentials if name not in known]

    def _index_names(self, config: bool) -> list[str]:
        index = self._config_index if config else self._credentials_index
        assert index is not None
        return index.names()

    def require_profile(self, name: str) -> dict[str, ConfigValue]:
        """The merged settings of profile ``name``; ``ProfileNotFoundError`` (with close names) if there is none."""
        profile = self.profile(name)
        if profile is not None:
            return profile
        names = self.profile_names()
        import difflib  # only on this error path

        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        if close:
            hint = "Did you mean " + " or ".join(repr(c) for c in close) + "?"
        elif names:
            shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
            hint = f"Known profiles: {shown}."
        else:
            hint = (
                f"no profile is defined yet; create one, e.g. 'rolecall configure set role_arn ARN --profile {name}' "
                f"and 'rolecall configure set source_profile default --profile {name}'"
            )
        where = ""
        if self.paths is not None:
            where = f" in {_display_path(self.paths.config_file)} or {_display_path(self.paths.credentials_file)}"
        raise ProfileNotFoundError(f"the profile '{name}' could not be found{where}", hint=hint)
