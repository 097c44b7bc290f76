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

``ConfigFiles.load(paths)`` reads both files the way a botocore ``Session`` sees them; files of 32 KiB or more
are served from the parse cache (``rolecall.config.parsecache``) while they do not change.
"""

from __future__ import annotations

import os

from rolecall.config.parsecache import (
    KIND_CONFIG,
    KIND_RAW,
    CacheBroken,
    CacheSettings,
    Indexed,
    ParseCache,
    parse_cache_path,
    purge_parse_cache,
)
from rolecall.config.paths import display_path
from rolecall.errors import ConfigParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

    from rolecall.config.paths import AwsPaths

#: A setting's value: a string, or a dict for a nested block (``s3 =`` followed by indented ``name = value`` lines).
ConfigValue = str | dict[str, str]

__all__ = [
    "CacheSettings",
    "ConfigFiles",
    "ConfigValue",
    "build_profile_map",
    "load_config_file",
    "parse_cache_path",
    "parse_raw",
    "purge_parse_cache",
    "read_raw_file",
    "split_section_name",
]

# Characters ``shlex`` treats specially in POSIX mode; a header without any of them splits on spaces alone.
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
    from rolecall.config.shlexsplit import split_quoted  # quotes, escapes, tabs: rare, so off the load path

    return split_quoted(name)


class _Retry(Exception):
    """Raised by a fast scan that met an error whose message needs line numbers it did not record."""


class _Scan:
    """The result of scanning one file: sections in file order, the ``[DEFAULT]`` keys, and (when tracked) lines."""

    __slots__ = ("defaults", "lines", "nested", "option_lines", "sections")

    def __init__(self, lines: list[str], track: bool) -> None:
        self.sections: dict[str, dict[str, ConfigValue]] = {}
        self.defaults: dict[str, str] = {}
        self.nested: set[str] = set()  # the sections with a value that starts with a newline (a nested block)
        self.lines = lines
        self.option_lines: dict[tuple[str, str], list[int]] | None = {} if track else None


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


# Without ``track`` (the fast path) _scan keeps no line numbers, and an error that needs one ("first at line N")
# raises _Retry: the caller scans again with ``track``. Values are all strings; the type says ConfigValue so that
# parse_raw can hand sections on uncopied.
def _scan(text: str, path: str, track: bool) -> _Scan:
    """Scan as ``RawConfigParser.read`` does: ``ConfigParseError`` at the first error (``_Retry``: see above)."""
    scan = _Scan(_split_lines(text), track)
    sections, defaults, nested, option_lines = scan.sections, scan.defaults, scan.nested, scan.option_lines
    section_lines: dict[str, int] | None = {} if track else None
    cursect: dict[str, ConfigValue] | None = None
    sectname = optval = ""
    optname: str | None = None  # the option that continuation lines extend, if any
    pieces: list[str] | None = None  # the value's lines once it has more than one
    blanks = indent_level = 0  # blanks: blank lines since the last piece (kept if a continuation follows)
    for lineno, line in enumerate(scan.lines, 1):
        value = line.strip()
        if not value:
            blanks += optname is not None  # configparser keeps blank lines inside a value that goes on after them
            continue
        first = value[0]
        if first == "#" or first == ";":
            continue  # full-line comments vanish without ending the current value
        indent = 0 if line[0] == first else len(line) - len(line.lstrip())
        if optname is not None and indent > indent_level:
            if blanks or option_lines is not None:  # the common cases stay inline
                pieces = _continued(pieces, optval, blanks, value, option_lines, (sectname, optname), lineno)
                blanks = 0
            elif pieces is None:
                pieces = [optval, value]
            else:
                pieces.append(value)
            continue
        if pieces is not None:  # the end of a multi-line value; an empty first line makes it a nested block
            assert cursect is not None and optname is not None
            cursect[optname] = "\n".join(pieces)
            if not pieces[0]:
                nested.add(sectname)
            pieces = None
        blanks, indent_level = 0, indent
        if first == "[" and value.rfind("]") >= 2:
            sectname = value[1 : value.rfind("]")]
            if section_lines is None and sectname not in sections and sectname != "DEFAULT":
                cursect = sections[sectname] = {}  # the common case, inline: the uncached parse's hot loop
            else:
                cursect = _open_section(sections, defaults, sectname, section_lines, path, lineno)
            optname = None
            continue
        if cursect is None or (first == "[" and value.find("=") < 0 and value.find(":") < 0):
            raise _error().misplaced(display_path(path), lineno, first)
        eq = value.find("=")
        colon = value.find(":", 0, eq) if eq >= 0 else value.find(":")  # a name ends at the first '=' or ':'
        eq = colon if colon >= 0 else eq
        if eq <= 0:
            raise _error().not_a_setting(display_path(path), lineno, sectname, value, eq)
        optname = value[:eq].rstrip().lower()
        if optname in cursect:
            raise _duplicate_key(path, lineno, sectname, optname, option_lines)
        optval = cursect[optname] = value[eq + 1 :].lstrip()
        if option_lines is not None:
            option_lines[(sectname, optname)] = [lineno]
    if pieces is not None:
        _store(cursect, optname, pieces, nested, sectname)
    return scan


def _error() -> ModuleType:
    """``rolecall.config.parseerrors``, imported when a file turns out broken (never on a good file's parse)."""
    from rolecall.config import parseerrors

    return parseerrors


def _continued(pieces: list[str] | None, optval: str, blanks: int, value: str,
               option_lines: dict[tuple[str, str], list[int]] | None, option: tuple[str, str],
               lineno: int) -> list[str]:
    """The pieces of a multi-line value with one more line (after the ``blanks`` blank lines before it)."""
    if pieces is None:
        pieces = [optval]
    if blanks:
        pieces.extend([""] * blanks)
    pieces.append(value)
    if option_lines is not None:
        option_lines[option].append(lineno)
    return pieces


def _store(
    cursect: dict[str, ConfigValue] | None, optname: str | None, pieces: list[str], nested: set[str], sectname: str
) -> None:
    """Store a finished multi-line value; one whose first line is empty makes its section hold a nested block."""
    assert cursect is not None and optname is not None
    cursect[optname] = "\n".join(pieces)
    if not pieces[0]:
        nested.add(sectname)


def _open_section(sections: dict[str, dict[str, ConfigValue]], defaults: dict[str, str], name: str,
                  section_lines: dict[str, int] | None, path: str, lineno: int) -> dict[str, ConfigValue]:
    """The dict the settings under ``[name]`` go to (``defaults`` for ``[DEFAULT]``); a repeated section is an
    error (``_Retry`` when lines are not tracked: the message names the first one's line)."""
    if name in sections:
        if section_lines is None:
            raise _Retry
        raise _error().duplicate_section(display_path(path), lineno, name, section_lines[name])
    if name == "DEFAULT":
        return defaults  # type: ignore[return-value]  # only ever holds strings
    sections[name] = {}
    if section_lines is not None:
        section_lines[name] = lineno
    return sections[name]


def _duplicate_key(path: str, lineno: int, sectname: str, optname: str,
                   option_lines: dict[tuple[str, str], list[int]] | None) -> Exception:
    """The error for a repeated key (``_Retry`` when lines are not tracked: the message names the first one's line)."""
    if option_lines is None:
        return _Retry()
    first_line = option_lines[(sectname, optname)][0]
    error: ConfigParseError = _error().duplicate_key(display_path(path), lineno, sectname, optname, first_line)
    return error


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
    error: ConfigParseError = _error().nested_block(
        display_path(path), scan.lines, scan.option_lines[(section, option)], section, option
    )
    return error


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


def _read_text(path: str, locale_encoding: str | None = None) -> str | None:
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
    except OSError as exc:
        raise _error().unreadable(display_path(path), exc) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # botocore decodes with the locale's encoding: where that is not UTF-8 (Windows: cp1252), files the
        # AWS CLI wrote in it must still read. Where it is UTF-8, this is the error botocore reports too.
        encoding = locale_encoding if locale_encoding is not None else _locale_encoding()
        if encoding.replace("-", "").replace("_", "").lower() != "utf8":
            try:
                return data.decode(encoding)
            except (UnicodeDecodeError, LookupError):
                pass
        raise _error().not_utf8(display_path(path), data, exc.start) from None


def _locale_encoding() -> str:
    """The encoding ``open()`` uses without ``encoding=`` (what botocore reads with), without importing ``locale``."""
    import io

    return io.TextIOWrapper(io.BytesIO()).encoding


def read_raw_file(path: str, *, locale_encoding: str | None = None) -> dict[str, dict[str, ConfigValue]] | None:
    """``raw_config_parse`` of a file whose path is already expanded; ``None`` if the file does not exist.

    Used for the credentials file. Raises ``ConfigParseError`` or ``FileError`` (unreadable file). A file that is
    not UTF-8 is decoded as the locale's encoding (``locale_encoding``, default: what ``open()`` uses), as botocore
    does.
    """
    text = _read_text(path, locale_encoding)
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


def _parse_file(path: str, kind: str) -> dict[str, Any] | None:
    """Parse one file as ``kind`` (``parsecache.KIND_CONFIG`` or ``KIND_RAW``) says; ``None`` if it does not exist."""
    raw = read_raw_file(path)
    if raw is None or kind == KIND_RAW:
        return raw
    return build_profile_map(raw)


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
        self._config_index: Indexed | None = None
        self._credentials_index: Indexed | None = None
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
    def load(
        cls, paths: AwsPaths, *, use_cache: bool = True, cache_settings: CacheSettings | None = None
    ) -> ConfigFiles:
        """Read and parse the config and credentials files named by ``paths`` (missing files are empty).

        Big files are served from the parse cache in ``paths.rolecall_dir`` while they do not change
        (see ``rolecall.config.parsecache``; ``cache_settings`` its thresholds); ``use_cache=False`` always parses.
        """
        if not use_cache:
            raw = read_raw_file(paths.config_file)
            return cls(None if raw is None else build_profile_map(raw), read_raw_file(paths.credentials_file), paths)
        if cache_settings is None:
            cache_settings = CacheSettings()
        cache = ParseCache(paths.rolecall_dir, _parse_file, cache_settings)
        config = cache.get(paths.config_file, KIND_CONFIG)
        credentials = cache.get(paths.credentials_file, KIND_RAW)
        cache.save()
        files = cls(
            config if not isinstance(config, Indexed) else {},
            credentials if not isinstance(credentials, Indexed) else {},
            paths,
        )
        if isinstance(config, Indexed):
            files._config = None
            files._config_index = config
        if isinstance(credentials, Indexed):
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
            except CacheBroken:
                return self._reparse_config()
        return self._config

    @property
    def credentials(self) -> dict[str, dict[str, ConfigValue]]:
        """The sections of the credentials file (``raw_config_parse``), as ``SharedCredentialProvider`` sees them."""
        if self._credentials is None:
            assert self._credentials_index is not None
            try:
                self._credentials = self._credentials_index.whole()
            except CacheBroken:
                return self._reparse_credentials()
        return self._credentials

    def config_profile(self, name: str) -> dict[str, ConfigValue] | None:
        """Profile ``name`` of the config file alone (``config['profiles'].get(name)``), or ``None``."""
        if self._config is None:
            assert self._config_index is not None
            try:
                return self._config_index.get(name)
            except CacheBroken:
                self._reparse_config()
        found: dict[str, ConfigValue] | None = self.config["profiles"].get(name)
        return found

    def credentials_section(self, name: str) -> dict[str, ConfigValue] | None:
        """Section ``name`` of the credentials file alone (``credentials.get(name)``), or ``None``."""
        if self._credentials is None:
            assert self._credentials_index is not None
            try:
                return self._credentials_index.get(name)
            except CacheBroken:
                self._reparse_credentials()
        return self.credentials.get(name)

    def _reparse_config(self) -> dict[str, Any]:
        """The cache failed us mid-way (damaged file): read the config file itself."""
        assert self.paths is not None
        self._config = _parse_file(self.paths.config_file, KIND_CONFIG) or build_profile_map({})
        self._config_index = None
        return self._config

    def _reparse_credentials(self) -> dict[str, dict[str, ConfigValue]]:
        """The cache failed us mid-way (damaged file): read the credentials file itself."""
        assert self.paths is not None
        self._credentials, self._credentials_index = _parse_file(self.paths.credentials_file, KIND_RAW) or {}, None
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
        files = None if self.paths is None else (self.paths.config_file, self.paths.credentials_file)
        raise _error().profile_not_found(name, self.profile_names(), files)
