"""A unified diff of two texts, near-linear on config files of thousands of sections (``rolecall sso sync``).

Why not ``difflib.unified_diff``: its matcher is quadratic on long inputs with many small differences (a region
change in 6,000 profiles took it close to a minute), and it does not mark a last line without a newline. The diff
here works by levels instead, each near-linear: the texts are cut into sections (a header and the lines up to the
next one), sections are matched by content, the rest by header line, and only matched pairs of sections (a few
lines each) go through difflib's ``SequenceMatcher``. Matching at each level is patience-style: elements that
occur once on each side anchor a longest increasing run. The output is what ``difflib.unified_diff`` writes
(same hunk grouping and ranges) wherever both find the same edits.

Off the fast path: may import ``re``, ``bisect`` and ``difflib``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["split_lines", "unified_diff"]

#: One line with its own terminator (``\n``, ``\r\n`` or a lone ``\r``), or a last line without one.
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its own terminator (``\\n``, ``\\r\\n`` or a lone ``\\r``) kept."""
    return _LINE_RE.findall(text)


#: A line-level edit, as difflib's ``get_opcodes`` gives them: (tag, a_start, a_end, b_start, b_end).
_Opcode = tuple[str, int, int, int, int]
#: Where a span of lines that is not matched line by line still gets a line-level difflib diff.
_SMALL_SPAN = 200


def _anchors(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """Matched index pairs (increasing on both sides): unique-on-both elements in longest increasing order,
    then extended over equal neighbours."""
    import bisect

    count_old: dict[str, int] = {}
    for key in old:
        count_old[key] = count_old.get(key, 0) + 1
    where_new: dict[str, int] = {}
    count_new: dict[str, int] = {}
    for index, key in enumerate(new):
        count_new[key] = count_new.get(key, 0) + 1
        where_new[key] = index
    candidates = [(i, where_new[key]) for i, key in enumerate(old) if count_old[key] == 1 and count_new.get(key) == 1]
    # Longest increasing subsequence of the new-side positions (patience sorting, O(n log n)).
    tops: list[int] = []  # new-side position ending the best run of each length
    top_at: list[int] = []  # the candidate index of that end
    back: list[int] = []  # for each candidate, the candidate before it in its run
    for number, (_i, j) in enumerate(candidates):
        length = bisect.bisect_left(tops, j)
        back.append(top_at[length - 1] if length else -1)
        if length == len(tops):
            tops.append(j)
            top_at.append(number)
        else:
            tops[length] = j
            top_at[length] = number
    run: list[tuple[int, int]] = []
    number = top_at[-1] if top_at else -1
    while number >= 0:
        run.append(candidates[number])
        number = back[number]
    run.reverse()
    # Equal elements next to an anchor (repeated ones, which cannot anchor) match too.
    matched: list[tuple[int, int]] = []
    prev_i, prev_j = -1, -1
    for i, j in [*run, (len(old), len(new))]:
        lo_i, lo_j = prev_i + 1, prev_j + 1
        while lo_i < i and lo_j < j and old[lo_i] == new[lo_j]:
            matched.append((lo_i, lo_j))
            lo_i += 1
            lo_j += 1
        hi_i, hi_j = i, j
        tail: list[tuple[int, int]] = []
        while hi_i > lo_i and hi_j > lo_j and old[hi_i - 1] == new[hi_j - 1]:
            hi_i -= 1
            hi_j -= 1
            tail.append((hi_i, hi_j))
        matched.extend(reversed(tail))
        if i < len(old):
            matched.append((i, j))
        prev_i, prev_j = i, j
    return matched


def _spans(old: Sequence[str], new: Sequence[str]) -> list[tuple[bool, int, int, int, int]]:
    """``_anchors`` as runs: (equal, old_start, old_end, new_start, new_end), covering both sequences."""
    spans: list[tuple[bool, int, int, int, int]] = []
    i = j = 0
    for mi, mj in [*_anchors(old, new), (len(old), len(new))]:
        if mi > i or mj > j:
            spans.append((False, i, mi, j, mj))
        if mi < len(old):
            if spans and spans[-1][0] and spans[-1][2] == mi and spans[-1][4] == mj:
                spans[-1] = (True, spans[-1][1], mi + 1, spans[-1][3], mj + 1)
            else:
                spans.append((True, mi, mi + 1, mj, mj + 1))
        i, j = mi + 1, mj + 1
    return spans


def _sections(lines: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
    """Cut lines ``lo:hi`` before every line that looks like a ``[section]`` header."""
    cuts = [lo]
    for index in range(lo + 1, hi):
        if lines[index].lstrip()[:1] == "[":
            cuts.append(index)
    cuts.append(hi)
    return [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1) if cuts[k] < cuts[k + 1]]


def _line_opcodes(a: list[str], b: list[str], alo: int, ahi: int, blo: int, bhi: int, out: list[_Opcode]) -> None:
    """difflib on a small span of lines."""
    import difflib

    matcher = difflib.SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        out.append((tag, alo + i1, alo + i2, blo + j1, blo + j2))


def _plain(alo: int, ahi: int, blo: int, bhi: int, out: list[_Opcode]) -> None:
    """Lines replaced without looking inside."""
    if alo == ahi and blo == bhi:
        return
    tag = "replace" if alo < ahi and blo < bhi else ("delete" if alo < ahi else "insert")
    out.append((tag, alo, ahi, blo, bhi))


def _unmatched_sections(
    a: list[str], b: list[str], old: list[tuple[int, int]], new: list[tuple[int, int]], out: list[_Opcode]
) -> None:
    """Sections whose content differs: pair them by header line (or by position), then diff the pairs' lines."""
    alo = old[0][0] if old else -1
    blo = new[0][0] if new else -1
    if not old or not new:
        if old:
            out.append(("delete", alo, old[-1][1], _position(out, "b"), _position(out, "b")))
        if new:
            out.append(("insert", _position(out, "a"), _position(out, "a"), blo, new[-1][1]))
        return
    for equal, i1, i2, j1, j2 in _spans([a[s] for s, _e in old], [b[s] for s, _e in new]):
        if equal or i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                (s1, e1), (s2, e2) = old[i1 + k], new[j1 + k]
                _line_opcodes(a, b, s1, e1, s2, e2, out)
            continue
        start_a = old[i1][0] if i1 < i2 else _position(out, "a")
        end_a = old[i2 - 1][1] if i1 < i2 else start_a
        start_b = new[j1][0] if j1 < j2 else _position(out, "b")
        end_b = new[j2 - 1][1] if j1 < j2 else start_b
        if (end_a - start_a) + (end_b - start_b) <= _SMALL_SPAN:
            _line_opcodes(a, b, start_a, end_a, start_b, end_b, out)
        else:
            _plain(start_a, end_a, start_b, end_b, out)


def _position(out: list[_Opcode], side: str) -> int:
    """Where the opcodes so far end on one side."""
    if not out:
        return 0
    return out[-1][2] if side == "a" else out[-1][4]


def _opcodes(a: list[str], b: list[str]) -> list[_Opcode]:
    """Line-level opcodes turning ``a`` into ``b``, in order and covering both."""
    out: list[_Opcode] = []
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    if head:
        out.append(("equal", 0, head, 0, head))
    old = _sections(a, head, len(a) - tail)
    new = _sections(b, head, len(b) - tail)
    old_keys = ["".join(a[s:e]) for s, e in old]
    new_keys = ["".join(b[s:e]) for s, e in new]
    for equal, i1, i2, j1, j2 in _spans(old_keys, new_keys):
        if equal:
            out.append(("equal", old[i1][0], old[i2 - 1][1], new[j1][0], new[j2 - 1][1]))
        else:
            _unmatched_sections(a, b, old[i1:i2], new[j1:j2], out)
    if tail:
        out.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    merged: list[_Opcode] = []
    for code in out:
        if code[1] == code[2] and code[3] == code[4]:
            continue
        if merged and merged[-1][0] == code[0] == "equal":
            last = merged[-1]
            merged[-1] = ("equal", last[1], code[2], last[3], code[4])
        else:
            merged.append(code)
    return merged


def _groups(codes: list[_Opcode], context: int) -> list[list[_Opcode]]:
    """The hunks: ``difflib.SequenceMatcher.get_grouped_opcodes`` on these opcodes."""
    codes = list(codes)
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[_Opcode]] = []
    group: list[_Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def _range(start: int, stop: int) -> str:
    """A unified-diff range, as difflib writes it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def unified_diff(old: str, new: str, path: str, context: int = 3) -> str:
    """A unified diff of two texts, as ``diff -u`` shows files (lines keep their own terminators); ``""`` when
    they are equal. Both headers name ``path``; a last line without a terminator is marked as ``diff`` marks it."""
    if old == new:
        return ""
    a = split_lines(old)
    b = split_lines(new)
    out = [f"--- {path}\n", f"+++ {path}\n"]

    def emit(prefix: str, line: str) -> None:
        out.append(prefix + line)
        if not line.endswith(("\n", "\r")):
            out.append("\n\\ No newline at end of file\n")

    for group in _groups(_opcodes(a, b), context):
        out.append(f"@@ -{_range(group[0][1], group[-1][2])} +{_range(group[0][3], group[-1][4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for line in a[i1:i2]:
                    emit(" ", line)
                continue
            for line in a[i1:i2]:
                emit("-", line)
            for line in b[j1:j2]:
                emit("+", line)
    return "".join(out)
