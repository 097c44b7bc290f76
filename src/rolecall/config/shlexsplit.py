"""``shlex.split`` (POSIX mode, no comments) for section names with quotes, escapes or tabs, without ``shlex``.

``rolecall.config.parse.split_section_name`` splits plain names itself and hands the others here; botocore splits
``[profile NAME]`` headers with ``shlex.split``, and importing ``shlex`` would cost start-up time on the fast path.
Differential tests hold it to ``shlex.split``.
"""

from __future__ import annotations

__all__ = ["split_quoted"]

_SHLEX_WHITESPACE = " \t\r\n"


def _double_quoted(name: str, i: int, buf: list[str]) -> int:
    """Append to ``buf`` the ``"..."`` part of ``name`` that starts at ``i`` (after the quote); the index after
    the closing quote. ``ValueError`` as ``shlex`` raises it."""
    n = len(name)
    while True:
        if i >= n:
            raise ValueError("No closing quotation")
        ch = name[i]
        if ch == '"':
            return i + 1
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


def split_quoted(name: str) -> list[str]:
    """``shlex.split(name)``: whitespace is ASCII space, tab, CR and LF only; ``'...'`` is literal; ``"..."``
    honours ``\\"`` and ``\\\\``; a backslash outside quotes escapes the next character; ``''`` is an empty word.
    Raises ``ValueError`` (as ``shlex`` does) for an unclosed quote or a trailing backslash.
    """
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
            i = _double_quoted(name, i + 1, buf)
        else:
            buf.append(ch)
            in_word = True
            i += 1
    if in_word:
        words.append("".join(buf))
    return words
