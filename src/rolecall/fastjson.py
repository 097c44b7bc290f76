"""JSON and SHA-1 for the caches without importing ``json`` or ``hashlib`` (the fast path).

On this class of machine ``json`` pulls in ``re`` and the two cost about as much as the whole interpreter
start-up. Reading uses the C scanner of ``_json`` and hashing the C ``_sha1`` module directly, falling back to
``json`` / ``hashlib`` where those are missing or for unusual values.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["canonical_json", "loads", "sha1_hex"]

_JSON_WHITESPACE = " \t\n\r"


# --------------------------------------------------------------------------------------------------------------
# JSON and SHA-1 without ``json``/``hashlib`` (see the module docstring for why)


def _make_loads() -> Callable[[str], Any]:
    """A ``json.loads`` for ``str`` built on the C scanner of ``_json``, or ``json.loads`` itself without it."""
    try:
        from _json import make_scanner
    except ImportError:  # pragma: no cover - CPython always has _json; other interpreters take the slow way
        return _slow_loads

    constants = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

    class _Context:
        # The attributes json.decoder.JSONDecoder gives the scanner, with json.loads' defaults.
        strict = True
        object_hook = None
        object_pairs_hook = None
        parse_float = float
        parse_int = int
        parse_constant = constants.__getitem__
        memo: dict[str, str] = {}  # noqa: RUF012 - required by the scanner's protocol, unused by the C scanner

    context: Any = _Context()  # duck-typed: the scanner reads these attributes only
    scan_once = make_scanner(context)

    def loads(text: str) -> Any:
        # Same acceptance as json.loads(str): optional JSON whitespace around exactly one value, no BOM.
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
        if text.startswith("\ufeff"):
            raise ValueError("JSON text starts with a byte-order mark")
        try:
            value, end = scan_once(text, start)
        except StopIteration as stop:
            raise ValueError(f"expecting a JSON value at offset {stop.value}") from None
        except RecursionError:
            raise ValueError("the JSON value is nested too deeply") from None
        except Exception:  # any other scanner failure: let json itself judge the text
            # The C scanner reports a syntax error by raising json.decoder.JSONDecodeError, which it looks up in
            # sys.modules; before 3.12, while json.decoder is not imported, it fails with "SystemError: ...
            # returned NULL without setting an exception" instead. Only this error path pays for json.
            return _slow_loads(text)
        if text[end:].strip(_JSON_WHITESPACE):
            raise ValueError(f"extra data after the JSON value at offset {end}")
        return value

    return loads


def _slow_loads(text: str) -> Any:
    """``json.loads``, with a document nested too deeply for it a ``ValueError`` like any other bad JSON."""
    import json

    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the JSON value is nested too deeply") from None


#: ``json.loads`` for ``str`` (``ValueError`` for anything that is not exactly one JSON value).
loads = _make_loads()


def canonical_json(value: Any) -> str:
    """``json.dumps(value, sort_keys=True)`` (default separators, ``ensure_ascii``): the text botocore hashes.

    Hand-written for the value shapes AssumeRole parameters have (str-keyed dicts, lists, str, int, bool,
    None), with the C string escaper of ``_json``; anything else goes to ``json.dumps`` so the result is
    always exactly what botocore computes.
    """
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # pragma: no cover - CPython always has _json
        import json

        return json.dumps(value, sort_keys=True)

    parts: list[str] = []

    def emit(item: Any) -> None:
        if isinstance(item, str):
            parts.append(quote(item))
        elif item is None:
            parts.append("null")
        elif item is True:
            parts.append("true")
        elif item is False:
            parts.append("false")
        elif isinstance(item, int):
            parts.append(int.__repr__(item))
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                raise _Unusual
            parts.append("{")
            for index, key in enumerate(sorted(item)):
                if index:
                    parts.append(", ")
                parts.append(quote(key))
                parts.append(": ")
                emit(item[key])
            parts.append("}")
        elif isinstance(item, (list, tuple)):
            parts.append("[")
            for index, element in enumerate(item):
                if index:
                    parts.append(", ")
                emit(element)
            parts.append("]")
        else:
            raise _Unusual

    try:
        emit(value)
    except (_Unusual, RecursionError):
        import json  # floats, non-str keys, custom types: json.dumps knows every rule (and every error)

        return json.dumps(value, sort_keys=True)
    return "".join(parts)


class _Unusual(Exception):
    """A value ``canonical_json`` leaves to ``json.dumps``."""


def sha1_hex(text: str) -> str:
    """SHA-1 of the UTF-8 bytes of ``text``, in hex (``_sha1`` costs a sixth of ``hashlib`` to import)."""
    data = text.encode("utf-8")
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # CPython's builtin; typeshed has no stub
    except ImportError:  # pragma: no cover - builds without the builtin module (FIPS) use OpenSSL's
        import hashlib

        return hashlib.sha1(data, usedforsecurity=False).hexdigest()
    digest: str = sha1(data).hexdigest()
    return digest

