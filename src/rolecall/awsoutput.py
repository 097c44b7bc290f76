"""Print a response exactly as the AWS CLI prints it: ``--output json|text|table`` and ``--query``.

The AWS CLI's rules, re-implemented (the behaviour, not the code):

* ``ResponseMetadata`` is dropped; ``--query`` (JMESPath) is applied to what is left.
* Timestamps: with ``cli_timestamp_format = iso8601`` (the v2 default) a timestamp is printed as
  ``datetime.isoformat()`` of the parsed time, offset as sent (``2023-08-06T20:06:29+00:00``, microseconds
  kept when STS sent them); with ``none``/``wire`` it is the string STS sent. Timestamps are turned into strings
  *before* the query runs, as in the AWS CLI, so a query sees strings.
* json: ``json.dumps(indent=4, ensure_ascii=False)`` and a newline, keys in response order; an empty
  object prints nothing at all.
* text: scalars of a dict on one tab-separated line (keys sorted), nested values after it, each on
  lines that start with the upper-cased key; lists of scalars tab-joined.
* table: the AWS CLI's box table without colour (titled sections, one per nested object, columns scaled
  to the widest section; sections of one row turned vertical when the table is wider than the terminal).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from rolecall.errors import UsageError

__all__ = ["OUTPUT_FORMATS", "compile_query", "format_json", "format_table", "format_text", "normalize", "render"]

OUTPUT_FORMATS = ("json", "text", "table")


def normalize(data: Any) -> Any:
    """A copy of ``data`` as the AWS CLI holds it before printing: datetimes as ISO strings, bytes as base64."""
    if isinstance(data, dict):
        return {key: normalize(value) for key, value in data.items() if key != "ResponseMetadata"}
    if isinstance(data, list | tuple):
        return [normalize(value) for value in data]
    if isinstance(data, datetime):
        # botocore keeps the offset STS sent (always Z, i.e. +00:00); a naive time can only mean UTC.
        return (data if data.tzinfo is not None else data.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(data, bytes):
        return base64.b64encode(data).decode("ascii")
    return data


#: The longest part of a ``--query`` expression repeated in an error message.
_SHOWN_QUERY_MAX = 100
_QUERY_HINT = "see https://jmespath.org"


def _shown(expression: str) -> str:
    return expression if len(expression) <= _SHOWN_QUERY_MAX else expression[:_SHOWN_QUERY_MAX] + "..."


def _query_error(expression: str, problem: str, hint: str = _QUERY_HINT) -> UsageError:
    return UsageError(f"bad value for --query {_shown(expression)}: {problem}", hint=hint)


def _error_text(error: Exception) -> str:
    """One line about a JMESPath error, never a value of the response (a type error would show it: secrets)."""
    from jmespath.exceptions import JMESPathTypeError

    if isinstance(error, JMESPathTypeError):
        expected = ", ".join(str(kind) for kind in error.expected_types or ())
        return (
            f"In function {error.function_name}(), invalid type for value: expected one of: {expected}, "
            f'received: "{error.actual_type}"'
        )
    if isinstance(error, RecursionError):
        return "the expression is nested too deeply"
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _check_functions(parsed: Any) -> None:
    """Raise jmespath's own error for a function that does not exist or gets the wrong number of arguments.

    jmespath finds these only when the query runs, that is after the STS call (and the MFA code) is spent;
    they depend on the expression alone, so they are caught before anything is sent.
    """
    from jmespath import exceptions
    from jmespath.functions import Functions

    table: dict[str, Any] = Functions.FUNCTION_TABLE
    pending = [parsed]
    while pending:  # not recursive: a deeply nested expression must not exhaust the stack here
        node = pending.pop()
        if not isinstance(node, dict):
            continue
        pending.extend(node.get("children") or ())
        if node.get("type") != "function_expression":
            continue
        name = str(node.get("value"))
        if name not in table:
            raise exceptions.UnknownFunctionError(f"Unknown function: {name}()")
        signature = table[name]["signature"]
        given = len(node.get("children") or ())
        if signature and signature[-1].get("variadic"):
            if given < len(signature):
                raise exceptions.VariadictArityError(len(signature), given, name)
        elif given != len(signature):
            raise exceptions.ArityError(len(signature), given, name)


def compile_query(expression: str) -> Any:
    """Compile a ``--query`` JMESPath expression; a bad one is a usage error naming the problem.

    Besides syntax, an unknown function or a wrong number of arguments is refused here, before any request.
    """
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        compiled = jmespath.compile(expression)
        _check_functions(compiled.parsed)
    except (JMESPathError, RecursionError) as error:
        raise _query_error(expression, _error_text(error)) from None
    return compiled


def _search(query: Any, data: Any) -> Any:
    """Apply a compiled query; what only shows on this data (a type error) is a usage error, as a syntax error."""
    from jmespath.exceptions import JMESPathError

    try:
        return query.search(data)
    except (JMESPathError, RecursionError) as error:
        expression = str(getattr(query, "expression", "") or "")
        raise _query_error(
            expression,
            _error_text(error),
            hint="the request itself succeeded; fix the expression for this response, see https://jmespath.org",
        ) from None


def format_json(data: Any) -> str:
    """The AWS CLI's JSON output: 4-space indent, non-ASCII kept, a trailing newline; ``{}`` prints nothing."""
    if data == {}:
        return ""
    return json.dumps(data, indent=4, ensure_ascii=False) + "\n"


def format_text(data: Any) -> str:
    """The AWS CLI's text output (``--output text``)."""
    lines: list[str] = []
    _text_item(data, lines, None, None)
    return "".join(lines)


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list)


def _text_item(item: Any, lines: list[str], identifier: str | None, scalar_keys: list[str] | None) -> None:
    if isinstance(item, dict):
        _text_dict(item, lines, identifier, scalar_keys)
    elif isinstance(item, list):
        _text_list(item, lines, identifier)
    else:
        lines.append(f"{_str(item)}\n")


def _str(value: Any) -> str:
    # The AWS CLI prints Python's str() of a scalar: True, None, 3600.
    return str(value)


def _text_list(items: list[Any], lines: list[str], identifier: str | None) -> None:
    if not items:
        return
    if any(isinstance(element, dict) for element in items):
        # Rows of dicts share one set of scalar columns, so that columns line up across rows.
        keys = sorted({k for element in items if isinstance(element, dict) for k, v in element.items()
                       if not _is_container(v)})  # fmt: skip
        for element in items:
            _text_item(element, lines, identifier, keys)
    elif any(isinstance(element, list) for element in items):
        scalars = [element for element in items if not _is_container(element)]
        if scalars:
            _text_scalars(scalars, lines, identifier)
        for element in items:
            if _is_container(element):
                _text_item(element, lines, identifier, None)
    else:
        _text_scalars(items, lines, identifier)


def _text_scalars(items: list[Any], lines: list[str], identifier: str | None) -> None:
    if identifier is None:
        lines.append("\t".join(_str(element) for element in items) + "\n")
    else:
        lines.extend(f"{identifier.upper()}\t{_str(element)}\n" for element in items)


def _text_dict(item: dict[str, Any], lines: list[str], identifier: str | None, scalar_keys: list[str] | None) -> None:
    if scalar_keys is None:
        ordered = sorted(item.items())
        scalars = [_str(value) for _key, value in ordered if not _is_container(value)]
        nested = [(key, value) for key, value in ordered if _is_container(value)]
    else:
        scalars = [_str(item.get(key, "")) for key in scalar_keys]
        nested = [(key, item[key]) for key in sorted(set(item) - set(scalar_keys))]
    if scalars:
        if identifier is not None:
            scalars.insert(0, identifier.upper())
        lines.append("\t".join(scalars) + "\n")
    for key, value in nested:
        _text_item(value, lines, key, None)


def render(response: Any, output: str = "json", query: Any = None, title: str = "", width: int = 80) -> str:
    """The text the AWS CLI would print for ``response`` with ``--output`` and a compiled ``--query``.

    ``title`` (the operation's name, e.g. ``AssumeRole``) and ``width`` (the terminal's columns) are for tables.
    """
    data = normalize(response)
    if query is not None:
        data = _search(query, data)
    if output == "json":
        return format_json(data)
    if output == "text":
        return format_text(data)
    if output == "table":
        return format_table(data, title, width)
    raise UsageError(f"output format {output!r} is not supported by rolecall", hint="use --output json, text or table")


# ----------------------------------------------------------------------------------------------------------------
# --output table


def _cell_width(text: str) -> int:
    """Columns a text takes on a terminal: East Asian wide, full-width and ambiguous characters count twice."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


class _Section:
    """One box of the table: a title, optional column headers, rows of cells, an indent level."""

    def __init__(self, title: str = "", indent: int = 0) -> None:
        self.title = title
        self.indent = indent
        self.headers: list[str] = []
        self.rows: list[list[str]] = []
        self.widths: list[int] = []  # widest cell per column (headers included)

    def _measure(self, cells: list[str]) -> None:
        if not self.widths:
            self.widths = [_cell_width(cell) for cell in cells]
        else:
            for index, cell in enumerate(cells):
                self.widths[index] = max(self.widths[index], _cell_width(cell))

    def set_headers(self, headers: list[str]) -> None:
        self._measure(headers)
        self.headers = headers

    def add_row(self, cells: list[Any]) -> None:
        row = [str(cell) for cell in cells]
        self.rows.append(row)
        self._measure(row)

    def outer_width(self) -> int:
        """Width this section needs: each column plus 4 of padding, the borders, the indent bars."""
        columns = sum(width + 4 for width in self.widths) + 2 + 2 * self.indent
        return max(_cell_width(self.title) + 2 + 2 * self.indent, columns)

    def scaled_widths(self, total: int) -> list[int]:
        """Column widths (with padding) stretched or shrunk to add up to ``total`` exactly."""
        natural = [width + 4 for width in self.widths]
        if not natural:
            return []
        factor = total / float(sum(natural))
        scaled = [round(factor * width) for width in natural]
        excess = sum(scaled) - total
        while excess:
            # Take from the first columns, or give to the last ones, one column at a time.
            order = range(len(scaled)) if excess > 0 else reversed(range(len(scaled)))
            for index in order:
                step = 1 if excess > 0 else -1
                scaled[index] -= step
                excess -= step
                if not excess:
                    break
        return scaled


class _TableBuilder:
    """Turns a response into sections the way the AWS CLI's table formatter does."""

    def __init__(self) -> None:
        self.sections: list[_Section] = []

    @property
    def current(self) -> _Section:
        return self.sections[-1]

    def build(self, title: str | None, data: Any, indent: int = 0) -> bool:
        if not data:
            return False
        if title is not None:
            self.sections.append(_Section(title, indent))
        if isinstance(data, list):
            if isinstance(data[0], dict):
                self._from_list_of_dicts(data, indent, title)
            else:
                for item in data:
                    if not _is_container(item):
                        self.current.add_row([item])
                    elif all(not _is_container(element) for element in item):
                        self.current.add_row(list(item))
                    else:
                        self.build(None, item)
        if isinstance(data, dict):
            self._from_dict(data, indent)
        return True

    @staticmethod
    def _split_keys(item: dict[str, Any]) -> tuple[list[str], list[str]]:
        scalars = sorted(key for key, value in item.items() if not _is_container(value))
        nested = sorted(key for key, value in item.items() if _is_container(value))
        return scalars, nested

    def _from_dict(self, item: dict[str, Any], indent: int) -> None:
        scalars, nested = self._split_keys(item)
        if len(scalars) == 1:
            # A single scalar is shown as a key/value row rather than a one-column table.
            self.current.add_row([scalars[0], item[scalars[0]]])
        elif scalars:
            self.current.set_headers(scalars)
            self.current.add_row([item[key] for key in scalars])
        for key in nested:
            self.build(key, item[key], indent + 1)

    def _from_list_of_dicts(self, items: list[Any], indent: int, title: str | None) -> None:
        # A list that starts with an object is shown as rows of objects; anything else in it (only a --query can
        # produce such a list) is shown as an empty row rather than failing.
        items = [element if isinstance(element, dict) else {} for element in items]
        scalar_keys: set[str] = set()
        nested_keys: set[str] = set()
        for element in items:
            scalars, nested = self._split_keys(element)
            scalar_keys.update(scalars)
            nested_keys.update(nested)
        headers, nested_sorted = sorted(scalar_keys), sorted(nested_keys)
        self.current.set_headers(headers)
        for position, element in enumerate(items):
            if position and nested_sorted:
                # Each element with nested parts gets its own titled section again.
                self.sections.append(_Section(title or "", indent))
                self.current.set_headers(headers)
            self.current.add_row([element.get(key, "") for key in headers])
            for key in nested_sorted:
                if key in element:
                    self.build(key, element[key], indent + 1)


def _centered(text: str, length: int, left: str, right: str) -> str:
    start = length // 2 - _cell_width(text) // 2 - 1
    # (A negative start adds no spaces on the left but still counts, as in the AWS CLI.)
    used = len(left) + start + _cell_width(text)
    return left + " " * start + text + " " * (length - len(right) - used) + right


def _left_aligned(text: str, length: int, left: str, right: str) -> str:
    size = _cell_width(text)
    padding = 2 if length - (size + 2 + len(left) + len(right)) >= 0 else 0
    return left + " " * padding + text + " " * (length - (len(left) + padding + size) - len(right)) + right


def _rule(widths: list[int]) -> str:
    return "".join(
        ("+" + "-" * (width - 2) + "+") if index == 0 else ("-" * (width - 1) + "+")
        for index, width in enumerate(widths)
    )


def _verticalize(sections: list[_Section]) -> list[_Section]:
    """Sections of a single row with headers become two columns: header, value (for narrow terminals)."""
    result = []
    for section in sections:
        if len(section.rows) == 1 and section.headers:
            vertical = _Section(section.title, section.indent)
            for header, cell in zip(section.headers, section.rows[0], strict=False):
                vertical.add_row([header, cell])
            section = vertical
        result.append(section)
    return result


def format_table(data: Any, title: str, width: int = 80) -> str:
    """The AWS CLI's ``--output table`` without colour; ``width`` is the terminal's (80 when not a terminal)."""
    builder = _TableBuilder()
    if not builder.build(title, data):
        return ""
    sections = builder.sections
    total = max(section.outer_width() for section in sections)
    if total > width:
        sections = _verticalize(sections)
        total = max(section.outer_width() for section in sections)
    lines = ["-" * total]
    for section in sections:
        bars = "|" * section.indent
        inner = total - 2 * section.indent
        body: list[str] = []
        if section.title:
            body.append(_centered(section.title, inner, "|", "|"))
            if not section.headers and not section.rows:
                body.append("+" + "-" * (inner - 2) + "+")
        if section.headers:
            widths = section.scaled_widths(inner)
            cells = [
                _centered(h, w, "|" if i == 0 else "", "|")
                for i, (w, h) in enumerate(zip(widths, section.headers, strict=False))
            ]
            body += [_rule(widths), "".join(cells)]
        if section.rows:
            widths = section.scaled_widths(inner)
            if widths:
                body.append(_rule(widths))
                for row in section.rows:
                    body.append(
                        "".join(
                            _left_aligned(c, w, "|" if i == 0 else "", "|")
                            for i, (w, c) in enumerate(zip(widths, row, strict=False))
                        )
                    )
                body.append(_rule(widths))
        lines += [bars + line + bars for line in body]
    return "\n".join(lines) + "\n"
