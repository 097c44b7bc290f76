"""The lossless line model of one AWS config or credentials file: what rolecall edits and lints.

``Lines.of(text)`` splits a file into lines, each line's content and terminator kept apart, so that
``lines.text()`` gives the very same text back. ``parse_document(text, path)`` adds the structure: sections,
their settings (``key = value``), the continuation lines of a setting (a multi-line value or a nested block such
as ``s3 =`` / ``    max_concurrency = 10``); comments and blank lines stay plain lines. The structure is found
with exactly the rules of Python's ``configparser.RawConfigParser`` that botocore reads with, so rolecall and
botocore always agree on what a line is.

Two modes:

* strict (for writing): the first line configparser rejects raises ``ConfigParseError`` naming file and line
  (content before the first header, a line that is neither header nor setting, a repeated section or key,
  a nested block line without ``=``): rolecall never edits what it cannot read;
* tolerant (for ``doctor``): the scan never fails; each such line becomes a ``Problem`` (line number and what
  is wrong) and the scan goes on as configparser would have, had it gone on.

``Edit`` changes a document line by line (replace, drop, insert after, append) and renders the new text,
everything else byte for byte (CRLF, a last line without terminator); ``splice`` replaces a span of lines
(rolecall's owned blocks, ``rolecall.config.owned``). ``write_checked`` is the one write path of the editors:
read, transform, verify and atomically replace under the file's exclusive lock (``rolecall.fileio``).

The fast reader is ``rolecall.config.parse`` (values, botocore's semantics, no line model); this module is off
the fast path and may import ``re``.
"""

from __future__ import annotations

import re

from rolecall.config.textdiff import split_lines
from rolecall.errors import ConfigParseError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "OPTION_RE",
    "Document",
    "Edit",
    "Lines",
    "Option",
    "Problem",
    "Section",
    "decode_config",
    "has_line_break",
    "indent_of",
    "is_comment",
    "parse_document",
    "sub_entry",
    "write_checked",
]

# configparser's own patterns (Python 3.11 RawConfigParser defaults), so that the model sees exactly the
# structure botocore sees.
_SECTION_RE = re.compile(r"\[(?P<header>.+)\]")
#: A setting line (matched from its indentation): name, delimiter ``=`` or ``:``, value.
OPTION_RE = re.compile(r"(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$")
_NONSPACE_RE = re.compile(r"\S")
# Everything str.splitlines() breaks on: botocore splits nested values with it, and a line break in a key or
# value would turn one line into several.
_LINE_BREAK_RE = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def has_line_break(text: str) -> bool:
    """True when ``text`` holds a character ``str.splitlines`` breaks at: it cannot be written as one line."""
    return _LINE_BREAK_RE.search(text) is not None


def is_comment(stripped: str) -> bool:
    """True for a full-line comment (``stripped`` is the line without surrounding whitespace)."""
    return stripped.startswith(("#", ";"))


def indent_of(content: str) -> int:
    """The width of a line's indentation (configparser's: up to the first non-whitespace character)."""
    first = _NONSPACE_RE.search(content)
    return first.start() if first else 0


class Lines:
    """A text as lines: ``contents[i]`` without its terminator, ``eols[i]`` the terminator (``''`` for a last
    line without one). Lossless: ``text()`` is the text it was made of."""

    __slots__ = ("contents", "eols")

    def __init__(self, contents: list[str], eols: list[str]) -> None:
        self.contents = contents
        self.eols = eols

    @classmethod
    def of(cls, text: str) -> Lines:
        """Split ``text`` at ``\\r\\n``, ``\\r`` and ``\\n`` (universal newlines), keeping each terminator."""
        contents: list[str] = []
        eols: list[str] = []
        for line in split_lines(text):
            body = line.rstrip("\r\n")
            contents.append(body)
            eols.append(line[len(body) :])
        return cls(contents, eols)

    @property
    def newline(self) -> str:
        """The terminator for new lines: the file's own (the first one found), else ``\\n``."""
        for eol in self.eols:
            if eol:
                return eol
        return "\n"

    def span(self, start: int, end: int) -> str:
        """The text of lines ``start`` to ``end - 1``, terminators included."""
        return "".join(c + e for c, e in zip(self.contents[start:end], self.eols[start:end], strict=True))

    def text(self) -> str:
        """The whole text again."""
        return self.span(0, len(self.contents))

    def splice(self, start: int, end: int, new: str) -> str:
        """The text with lines ``start`` to ``end - 1`` replaced by ``new`` (terminated text, or ``''``)."""
        return self.span(0, start) + new + self.span(end, len(self.contents))

    def append(self, new: str) -> str:
        """The text with ``new`` (terminated text) after one blank line at its end; a last line without
        terminator gets one first. An empty text becomes ``new`` alone."""
        head = self.text()
        if head and not self.eols[-1]:
            head += self.newline
        if head and self.contents[-1].strip():
            head += self.newline
        return head + new


class Option:
    """One setting: ``key`` as configparser names it (lower-cased), ``name`` as written, the index of its
    ``line``, the width of its ``indent``, whether the value on the key line is empty, and the indexes of its
    non-blank continuation lines."""

    __slots__ = ("empty_value", "indent", "key", "line", "name", "value_lines")

    def __init__(self, name: str, line: int, indent: int, empty_value: bool) -> None:
        self.name = name
        self.key = name.lower()
        self.line = line
        self.indent = indent
        self.empty_value = empty_value
        self.value_lines: list[int] = []

    @property
    def end(self) -> int:
        """Index of the last line of the value."""
        return self.value_lines[-1] if self.value_lines else self.line

    @property
    def is_block(self) -> bool:
        """True for a nested block: an empty value on the key line and continuation lines below."""
        return self.empty_value and bool(self.value_lines)


class Section:
    """One ``[header]`` (the text between the brackets), the index of its ``line``, its settings in file order
    and ``end``, the index of its last line (before the next header, or the file's last line)."""

    __slots__ = ("end", "header", "line", "options")

    def __init__(self, header: str, line: int) -> None:
        self.header = header
        self.line = line
        self.options: list[Option] = []
        self.end = line

    def option(self, key: str) -> Option | None:
        """The first setting named ``key`` (case-insensitive, as configparser compares)."""
        wanted = key.lower()
        for option in self.options:
            if option.key == wanted:
                return option
        return None


class Problem:
    """What the tolerant scan found wrong: the 1-based ``line`` and what configparser would say about it."""

    __slots__ = ("line", "message")

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message

    def __repr__(self) -> str:
        return f"Problem(line={self.line}, message={self.message!r})"


class Document(Lines):
    """A file's lines with its sections; ``problems`` holds what a tolerant scan found (empty when strict)."""

    __slots__ = ("problems", "sections")

    def __init__(self, lines: Lines, sections: list[Section], problems: list[Problem]) -> None:
        super().__init__(lines.contents, lines.eols)
        self.sections = sections
        self.problems = problems

    def follows_option(self, index: int) -> bool:
        """True when the last significant line before ``index`` belongs to a setting (not a header)."""
        for sect in self.sections:
            if sect.line < index and sect.end >= index - 1:
                return bool(sect.options) and sect.options[-1].end < index
        return False


def _parse_error(path: str, index: int, what: str) -> ConfigParseError:
    return ConfigParseError(
        f"cannot parse {path}, line {index + 1}: {what}",
        hint="fix the file by hand (the AWS CLI cannot read it either); rolecall does not edit a file it cannot parse",
    )


class _Scan:
    """The state of one scan; ``problem`` raises (strict) or records (tolerant)."""

    def __init__(self, path: str, strict: bool) -> None:
        self.path = path
        self.strict = strict
        self.sections: list[Section] = []
        self.problems: list[Problem] = []
        self.seen_sections: set[str] = set()
        self.seen_keys: set[str] = set()

    def problem(self, index: int, what: str) -> None:
        if self.strict:
            raise _parse_error(self.path, index, what)
        self.problems.append(Problem(index + 1, what))

    def header(self, name: str, index: int) -> Section:
        if name in self.seen_sections and name != "DEFAULT":
            self.problem(index, f"section [{name}] appears twice")
        self.seen_sections.add(name)
        if self.sections:
            self.sections[-1].end = index - 1
        section = Section(name, index)
        self.sections.append(section)
        self.seen_keys = set()
        return section

    def setting(self, current: Section | None, stripped: str, index: int, indent: int) -> Option | None:
        if current is None:
            self.problem(index, "a line before the first [section] header")
            return None
        parsed = OPTION_RE.match(stripped)
        if not parsed or not parsed.group("option"):
            self.problem(index, "a line that is neither [section] nor key = value")
            return None
        option = Option(parsed.group("option").rstrip(), index, indent, not parsed.group("value").strip())
        if option.key in self.seen_keys:
            self.problem(index, f"key '{option.key}' appears twice in [{current.header}]")
        self.seen_keys.add(option.key)
        current.options.append(option)
        return option


def parse_document(text: str, path: str = "<text>", *, strict: bool = True) -> Document:
    """The document of ``text``: lines, sections, settings and continuation lines, as configparser finds them.

    Strict (the default): ``ConfigParseError`` for what configparser (and so botocore) rejects. Tolerant
    (``strict=False``): never raises; the document's ``problems`` list those lines. ``path`` names the file in
    errors.
    """
    lines = Lines.of(text)
    scan = _Scan(path, strict)
    current: Section | None = None
    option: Option | None = None
    indent_level = 0
    for index, content in enumerate(lines.contents):
        stripped = content.strip()
        if not stripped or is_comment(stripped):
            continue
        indent = indent_of(content)
        if option is not None and indent > indent_level:
            option.value_lines.append(index)
            continue
        indent_level = indent
        header = _SECTION_RE.match(stripped)
        if header:
            current = scan.header(header.group("header"), index)
            option = None
            continue
        option = scan.setting(current, stripped, index, indent)
    if current is not None:
        current.end = len(lines.contents) - 1
    _check_nested(lines.contents, scan)
    return Document(lines, scan.sections, scan.problems)


def _check_nested(contents: list[str], scan: _Scan) -> None:
    """botocore parses a value whose first line is empty as a nested block; each of its lines needs an '='."""
    for sect in scan.sections:
        for option in sect.options:
            if not option.is_block:
                continue
            for index in option.value_lines:
                if "=" not in contents[index]:
                    scan.problem(index, f"a line of the nested block '{option.key}' without '='")
                    break


# --------------------------------------------------------------------------------------------------------------
# Edits


def _rewrite_value(content: str, indent: int, new_value: str) -> str:
    """``content`` (a key line) with its value replaced, keeping indentation, delimiter and spacing."""
    match = OPTION_RE.match(content, indent)
    assert match is not None  # the scanner accepted this line as an option
    start = match.start("value")
    prefix = content[:start]
    old_value = content[start:].strip()
    if not new_value:
        return prefix.rstrip(" \t")
    if not old_value and not prefix[-1:].isspace() and match.start("vi") > match.end("option"):
        prefix += " "  # `key =` had no room for a value; `key=` stays tight
    return prefix + new_value


def sub_entry(content: str) -> tuple[str, int] | None:
    """For a nested line ``  k = v``: (k, index where v starts); None when there is no ``=``."""
    equals = content.find("=")
    if equals < 0:
        return None
    key = content[:equals].strip()
    start = equals + 1
    while start < len(content) and content[start] in " \t":
        start += 1
    return key, start


def _rewrite_sub_value(content: str, new_value: str) -> str:
    entry = sub_entry(content)
    assert entry is not None
    _key, start = entry
    prefix = content[:start]
    if not new_value:
        return prefix.rstrip(" \t")
    if start == len(content.rstrip()) and not prefix[-1:].isspace():
        equals = content.find("=")
        if equals > 0 and content[equals - 1] in " \t":
            prefix += " "
    return prefix + new_value


class Edit:
    """Line edits on a document; indexes refer to the original lines until ``result``."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.replace: dict[int, str | None] = {}  # line index -> new content, or None to drop the line
        self.after: dict[int, list[str]] = {}  # line index -> new lines inserted after it (-1: at the top)
        self.append: list[str] = []  # new lines at the end of the file

    def insert_after(self, index: int, lines: list[str]) -> None:
        """Insert ``lines`` (contents, no terminators) after line ``index``."""
        self.after.setdefault(index, []).extend(lines)

    def set_value(self, option: Option, value: str) -> None:
        """Give ``option`` the one-line ``value``; its continuation lines (a multi-line value, a block) go."""
        self.replace[option.line] = _rewrite_value(self.doc.contents[option.line], option.indent, value)
        self.drop_value_lines(option)

    def set_sub_value(self, index: int, value: str) -> None:
        """Give the nested-block line ``index`` the value ``value``, keeping its layout."""
        self.replace[index] = _rewrite_sub_value(self.doc.contents[index], value)

    def drop_value_lines(self, option: Option) -> None:
        """Remove an option's continuation lines and the blank lines among them; comments stay."""
        for index in range(option.line + 1, option.end + 1):
            if not is_comment(self.doc.contents[index].strip()):
                self.replace[index] = None

    def drop_option(self, option: Option) -> None:
        """Remove ``option`` with its continuation lines."""
        self.replace[option.line] = None
        self.drop_value_lines(option)

    def indent(self, option: Option) -> str:
        """The indentation text of ``option``'s key line."""
        return self.doc.contents[option.line][: option.indent]

    def result(self) -> str:
        """The edited text: new lines take the file's own terminator; a last line without one gets it when
        something follows."""
        doc = self.doc
        newline = doc.newline
        out: list[str] = []
        pending_break = False  # the previous emitted line has no terminator (old last line)

        def emit(content: str, eol: str) -> None:
            nonlocal pending_break
            if pending_break:
                out.append(newline)
            out.append(content + eol)
            pending_break = not eol

        for new in self.after.get(-1, []):
            emit(new, newline)
        for index, (content, eol) in enumerate(zip(doc.contents, doc.eols, strict=True)):
            replacement = self.replace.get(index, content)
            if replacement is not None:
                emit(replacement, eol)
            for new in self.after.get(index, []):
                emit(new, newline)
        for new in self.append:
            emit(new, newline)
        return "".join(out)


# --------------------------------------------------------------------------------------------------------------
# The write path


def decode_config(data: bytes, path: str) -> str:
    """The text of a config or credentials file read as ``data``; ``ConfigParseError`` when it is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigParseError(
            f"cannot parse {path}: it is not UTF-8 text (byte {error.start})",
            hint="fix or remove the file; the AWS CLI cannot read it either",
        ) from error


def write_checked(
    path: str,
    transform: Callable[[str, bool], str | None],
    verify: Callable[[str], None],
    *,
    lock_timeout: float = 30.0,
    locked: bool = True,
) -> tuple[str, str | None]:
    """The one write path of the editors: read ``path``, ``transform`` its text, ``verify`` and write the result.

    ``transform(old_text, exists)`` returns the new text, or ``None`` to leave the file alone. A new text equal
    to the old one is not written (the file keeps its mtime; a missing file is not created empty). ``verify(new_text)``
    raises to refuse the write. The write is ``fileio.atomic_write`` (0600 for a new file, folders 0700); with
    ``locked`` (the default) all of it happens under the file's exclusive lock, so concurrent rolecall
    processes never lose an update. Returns (old text, new text written or ``None``).
    """
    from contextlib import nullcontext

    from rolecall import fileio

    with fileio.exclusive_lock(path, timeout=lock_timeout) if locked else nullcontext():
        data = fileio.read_bytes(path)
        old = "" if data is None else decode_config(data, path)
        new = transform(old, data is not None)
        if new is None or new == old:  # also a missing file (old "") that would stay empty: not created
            return old, None
        verify(new)
        fileio.atomic_write(path, new.encode("utf-8"))
    return old, new
