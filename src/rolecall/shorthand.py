"""The AWS CLI's parameter syntax: shorthand structures, JSON lists, and ``file://`` values.

``rolecall sts`` takes its parameters as ``aws sts`` does: list-of-structure parameters as shorthand words
(``--tags Key=team,Value=blue Key=env,Value=dev``) or one JSON list, list-of-string parameters as words or one
JSON list, and any value as ``file://PATH`` (the file's text). This module turns those texts into values; it
neither prints nor exits, and reports a bad value as ``InvalidInputError`` (an unreadable file as ``FileError``)
naming the option.

``env`` is the environment that ``~`` in a ``file://`` path expands against (a mapping, not ``os.environ``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from rolecall.config.paths import expand_user
from rolecall.errors import FileError, InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

__all__ = ["load_param_file", "parse_shorthand", "string_list", "string_param", "struct_list"]


def load_param_file(value: str, option: str, env: Mapping[str, str]) -> str:
    """``file://PATH`` is replaced by the file's text, as the AWS CLI does for every parameter; else ``value``."""
    if not value.startswith("file://"):
        return value
    path = expand_user(value[len("file://") :], env)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise FileError(
            f"cannot read {option} from {path}: {reason}", hint="check the path after file:// (relative to here)"
        ) from None


def string_param(value: str | None, option: str, env: Mapping[str, str]) -> str | None:
    """One string parameter (``file://`` read), or None when it was not given."""
    return None if value is None else load_param_file(value, option, env)


def string_list(values: Sequence[str], option: str, env: Mapping[str, str]) -> list[str]:
    """A list of strings: several words, or one JSON list (``["a", "b"]``)."""
    texts = [load_param_file(v, option, env) for v in values]
    if len(texts) == 1 and texts[0].lstrip().startswith("["):
        loaded = _json(texts[0], option)
        if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
            raise InvalidInputError(f"{option} must be a JSON list of strings", hint=f'e.g. {option} \'["a", "b"]\'')
        return loaded
    return texts


def struct_list(
    values: Sequence[str], option: str, members: Sequence[str], env: Mapping[str, str]
) -> list[dict[str, Any]]:
    """A list of structures: shorthand words (``Key=k,Value=v``) or one JSON list of objects (or one object)."""
    texts = [load_param_file(v, option, env) for v in values]
    if len(texts) == 1 and texts[0].lstrip().startswith(("[", "{")):
        loaded = _json(texts[0], option)
        if isinstance(loaded, dict):
            loaded = [loaded]
        if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
            raise InvalidInputError(f"{option} must be a JSON list of objects", hint=_shorthand_hint(option, members))
        for item in loaded:
            _check_members(item, option, members)
        return loaded
    return [parse_shorthand(text, option, members, env) for text in texts]


def _json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise InvalidInputError(f"{option} is not valid JSON: {error}", hint="check the quotes and brackets") from None


def _shorthand_hint(option: str, members: Sequence[str]) -> str:
    example = ",".join(f"{m}=..." for m in members)
    return f"write {option} {example} (one per value), or a JSON list"


def _check_members(item: Mapping[str, Any], option: str, members: Sequence[str]) -> None:
    for key in item:
        if key not in members:
            raise InvalidInputError(
                f"unknown key {key!r} in {option}; valid keys: {', '.join(members)}",
                hint=_shorthand_hint(option, members),
            )


def parse_shorthand(
    text: str, option: str, members: Sequence[str], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Parse the AWS CLI's shorthand for one structure of string members: ``Key=a,Value=b``.

    The AWS CLI's grammar, for scalar values: keys of ``[A-Za-z0-9-_.#/:]``, whitespace around ``=`` and ``,``
    ignored, values quoted with ``'`` or ``"`` (``\\'``/``\\"`` and ``\\\\`` escaped inside) or bare (``\\,`` for a
    comma, trailing spaces dropped), ``key@=file://...`` to read a value from a file (only when ``env`` is given;
    without it the value is kept as written). A value that the AWS CLI would read as a list (``Key=a,b``) or an
    object is refused, as the members here are strings; so are duplicate and unknown keys. Raises
    ``InvalidInputError`` naming the option.
    """
    parser = _Shorthand(text, option, members, env)
    result = parser.parse()
    _check_members(result, option, members)
    return result


# The AWS CLI's character classes for bare values (by code point; characters beyond U+FFFF never match).
def _is_start_char(char: str) -> bool:
    # May start a bare value: printable ASCII except space " ' , = [ {, and anything from U+007C up.
    code = ord(char)
    return 0x21 <= code <= 0xFFFF and char not in "\"',=[{"


def _is_first_follow(char: str) -> bool:
    # May continue a bare value: whitespace, and printable characters except " ' , ] }.
    code = ord(char)
    return code <= 0xFFFF and (char.isspace() or (code >= 0x21 and char not in "\"',]}"))


def _is_second_follow(char: str) -> bool:
    # May continue a bare value after a comma (a would-be list element): as above but '=' ends it, ']' '}' do not.
    code = ord(char)
    return code <= 0xFFFF and (char.isspace() or (code >= 0x21 and char not in "\"',="))


_ASCII_SPACE = " \t\n\r\x0b\x0c"
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")


class _Syntax(Exception):
    """A shorthand syntax error at ``index`` (internal: becomes an InvalidInputError)."""

    def __init__(self, expected: str, index: int) -> None:
        super().__init__(expected)
        self.expected = expected
        self.index = index


class _Shorthand:
    """A recursive-descent reader for one ``key=value,...`` structure (see ``parse_shorthand``)."""

    def __init__(self, text: str, option: str, members: Sequence[str], env: Mapping[str, str] | None) -> None:
        self.text = text
        self.option = option
        self.members = members
        self.env = env
        self.index = 0

    def fail(self, what: str) -> InvalidInputError:
        return InvalidInputError(
            f"{self.option}: {what} in {self.text!r}", hint=_shorthand_hint(self.option, self.members)
        )

    def parse(self) -> dict[str, str]:
        result: dict[str, str] = {}
        try:
            while True:
                key, value = self.keyval()
                if key in result:
                    raise self.fail(f"{key} given twice")
                result[key] = value
                if self.index >= len(self.text):
                    return result
                self.expect(",")
        except _Syntax as error:
            received = repr(self.text[error.index]) if error.index < len(self.text) else "the end"
            raise self.fail(f"expected {error.expected} at character {error.index + 1}, found {received}") from None

    def peek(self) -> str:
        return self.text[self.index] if self.index < len(self.text) else ""

    def skip_space(self) -> None:
        while self.index < len(self.text) and self.text[self.index] in _ASCII_SPACE:
            self.index += 1

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.peek() != char:
            raise _Syntax(repr(char), self.index)
        self.index += 1
        self.skip_space()

    def keyval(self) -> tuple[str, str]:
        start = self.index
        while self.peek() and self.peek() in _KEY_CHARS:
            self.index += 1
        key = self.text[start : self.index]
        from_file = False
        self.skip_space()
        if self.peek() == "@":
            self.index += 1
            from_file = True
        self.expect("=")
        value = self.value()
        if from_file and self.env is not None:
            value = load_param_file(value, self.option, self.env)
        return key, value

    def value(self) -> str:
        if self.index >= len(self.text):
            return ""
        if self.peek() and self.peek() in "[{":
            raise self.fail("a list or an object is not valid here (the value must be a string)")
        first = self.first_value()
        self.skip_space()
        if self.index >= len(self.text) or self.peek() != ",":
            return first
        # After a comma the AWS CLI tries to read more list elements (``Key=a,b``); when what follows is not one
        # (``Key=a,Value=b``: the '=' shows a new key) it backs off to the last comma before the point of failure.
        self.expect(",")
        try:
            self.second_value()
            self.skip_space()
            if self.index < len(self.text) and self.peek() != ",":
                raise _Syntax("','", self.index)
        except _Syntax:
            if self.index >= len(self.text):
                raise
            while self.index >= 0 and self.text[self.index] != ",":
                self.index -= 1
            return first
        raise self.fail("a list of values is not valid here (quote a value that holds a comma)")

    def first_value(self) -> str:
        if self.peek() and self.peek() in "'\"":
            return self.quoted()
        return self.bare(_is_first_follow, required=False)

    def second_value(self) -> str:
        if self.peek() and self.peek() in "'\"":
            return self.quoted()
        return self.bare(_is_second_follow, required=True)

    def bare(self, follows: Callable[[str], bool], required: bool) -> str:
        text, start, pos = self.text, self.index, self.index
        for accept in (_is_start_char, follows):
            while pos < len(text):
                if text.startswith("\\,", pos):
                    pos += 2
                elif accept(text[pos]):
                    pos += 1
                else:
                    break
                if accept is _is_start_char:
                    break
            if pos == start:
                if required:
                    raise _Syntax("a value", pos)
                return ""
        self.index = pos
        return text[start:pos].replace("\\,", ",").rstrip()

    def quoted(self) -> str:
        quote = self.peek()
        pattern = re.compile(rf"{quote}((?:\\{quote}|[^{quote}])*){quote}", re.DOTALL)
        found = pattern.match(self.text, self.index)
        if found is None:
            raise _Syntax(f"a closing {quote}", len(self.text))
        self.index = found.end()
        return found.group(1).replace("\\" + quote, quote).replace("\\\\", "\\")
