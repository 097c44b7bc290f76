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

``--output table`` is not implemented yet (it is refused with a hint).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from rolecall.errors import UsageError

__all__ = ["OUTPUT_FORMATS", "compile_query", "format_json", "format_text", "normalize", "render"]

OUTPUT_FORMATS = ("json", "text")


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


def compile_query(expression: str) -> Any:
    """Compile a ``--query`` JMESPath expression; a bad one is a usage error naming the problem."""
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"bad value for --query {expression}: {first}", hint="see https://jmespath.org") from None


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


def render(response: Any, output: str = "json", query: Any = None) -> str:
    """The text the AWS CLI would print for ``response`` with ``--output`` and a compiled ``--query``."""
    data = normalize(response)
    if query is not None:
        data = query.search(data)
    if output == "json":
        return format_json(data)
    if output == "text":
        return format_text(data)
    raise UsageError(f"output format {output!r} is not supported by rolecall", hint="use --output json or text")
