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
"""

from __future__ import annotations

import os

from rolecall.errors import ConfigParseError, FileError, ProfileNotFoundError

TYPE_CHECKING = False
if TYPE_CHECKING:
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

    __slots__ = ("defaults", "lines", "option_lines", "sections")

    def __init__(
        self,
        sections: dict[str, dict[str, str]],
        defaults: dict[str, str],
        lines: list[str],
        option_lines: dict[tuple[str, str], list[int]] | None,
    ) -> None:
        self.sections = sections
        self.defaults = defaults
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
    sections: dict[str, dict[str, str]] = {}
    defaults: dict[str, str] = {}
    section_lines: dict[str, int] = {}
    option_lines: dict[tuple[str, str], list[int]] | None = {} if track else None
    cursect: dict[str, str] | None = None
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
                    cursect = defaults
                else:
                    cursect = {}
                    sections[name] = cursect
                    if track:
                        section_lines[name] = lineno
                sectname = name
                optname = None
                continue
        # Not a header after all ("[]", "[x" with no closing bracket): configparser reads it as a setting.
        if first == "[" and (cursect is None or (value.find("=") < 0 and value.find(":") < 0)):
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
        eq = value.find("=")
        colon = value.find(":")
        if eq < 0 or (0 <= colon < eq):
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
    return _Scan(sections, defaults, lines, option_lines)


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
    nested_defaults: dict[str, dict[str, str] | None] = {}
    for key, val in defaults.items():
        if val.startswith("\n"):
            nested_defaults[key] = _parse_nested(val)
    result: dict[str, dict[str, ConfigValue]] = {}
    for name, options in scan.sections.items():
        section: dict[str, ConfigValue] = {}
        for key, val in options.items():
            if val.startswith("\n"):
                nested = _parse_nested(val)
                if nested is None:
                    raise _nested_error(_scan(text, path, track=True), name, key, path)
                section[key] = nested
            else:
                section[key] = val
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
    """The decoded text of a file, ``None`` if there is no such file (or it is not a regular file)."""
    try:
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
        before = data[: exc.start].decode("utf-8", "replace")
        lineno = len(_split_lines(before + "x"))
        raise ConfigParseError(
            f"{_display_path(path)} line {lineno}: bytes that are not UTF-8 text (0x{data[exc.start]:02x})",
            hint="The AWS CLI reads these files as UTF-8; re-save the file as UTF-8 text.",
        ) from None


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


class ConfigFiles:
    """Both files as botocore sees them: ``full_config`` (merged), ``config`` and ``credentials`` (each alone).

    Build it with ``ConfigFiles.load(paths)``. The three views are computed on first use and must not be
    mutated by callers.
    """

    __slots__ = ("_config", "_config_exists", "_full", "_raw_config", "credentials", "paths")

    paths: AwsPaths | None
    credentials: dict[str, dict[str, ConfigValue]]

    def __init__(
        self,
        raw_config: dict[str, dict[str, ConfigValue]] | None,
        credentials: dict[str, dict[str, ConfigValue]] | None,
        paths: AwsPaths | None = None,
    ) -> None:
        """Wrap parsed files: ``raw_config`` / ``credentials`` are ``parse_raw`` results, ``None`` if missing."""
        self._config_exists = raw_config is not None
        self._raw_config = raw_config or {}
        self.credentials = credentials or {}
        self.paths = paths
        self._config: dict[str, Any] | None = None
        self._full: dict[str, Any] | None = None

    @classmethod
    def load(cls, paths: AwsPaths) -> ConfigFiles:
        """Read and parse the config and credentials files named by ``paths`` (missing files are empty)."""
        return cls(read_raw_file(paths.config_file), read_raw_file(paths.credentials_file), paths)

    @property
    def config(self) -> dict[str, Any]:
        """``load_config`` of the config file alone, as botocore's ``ConfigProvider`` sees it."""
        if self._config is None:
            self._config = build_profile_map(self._raw_config)
        return self._config

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
        """The merged settings of profile ``name`` (credentials file over config file), or ``None``."""
        profile: dict[str, ConfigValue] | None = self.full_config["profiles"].get(name)
        return profile

    def profile_names(self) -> list[str]:
        """Profile names in botocore's ``available_profiles`` order: config file order, then credentials-only ones."""
        return list(self.full_config["profiles"])

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
            hint = "No profile is defined yet; create one with 'rolecall configure' or 'rolecall add-role'."
        where = ""
        if self.paths is not None:
            where = f" in {_display_path(self.paths.config_file)} or {_display_path(self.paths.credentials_file)}"
        raise ProfileNotFoundError(f"the profile '{name}' could not be found{where}", hint=hint)
