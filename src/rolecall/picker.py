"""The profile picker of ``rolecall assume`` without a profile, on a terminal: type to filter (fuzzy), arrows
to move, Enter to choose; most recently used first, each profile shown with its chain and the minutes left
in its cache.

Also opened by bare ``assume`` in a shell (``rolecall env --pick`` inside the shell function's ``$(...)``).
``rank`` is the pure part (tested directly); ``pick`` draws on the controlling terminal (``/dev/tty``) with
plain ANSI sequences in cbreak mode, so it works under captured stdout (``eval "$(rolecall ...)"``), needs no
curses, and erases itself when done. ``RecentProfiles`` remembers what was assumed
(``~/.aws/rolecall/recent-profiles.json``). Off the fast path.
"""

from __future__ import annotations

import os

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

#: How many profiles the picker shows at once.
VISIBLE = 10
#: How many recently used profiles are remembered.
RECENT_MAX = 50


def _score(name: str, query: str) -> int | None:
    """How well ``query`` matches ``name`` as a subsequence (case-insensitive), or None when it does not.

    Higher is better: a prefix or a contiguous match beats letters spread over the name; shorter names win ties.
    """
    if not query:
        return 0
    text, wanted = name.lower(), query.lower()
    if wanted in text:
        return 1000 - text.index(wanted) * 10 - len(text) + (500 if text.startswith(wanted) else 0)
    position, gaps, last = 0, 0, -1
    for char in wanted:
        found = text.find(char, position)
        if found < 0:
            return None
        if last >= 0:
            gaps += found - last - 1
        last, position = found, found + 1
    return 500 - gaps * 5 - len(text)


def rank(names: Sequence[str], query: str, recent: Sequence[str] = ()) -> list[str]:
    """The names matching ``query``, best first; among equals, most recently used first, then file order."""
    recency = {name: index for index, name in enumerate(recent)}
    if not query:  # every name, without scoring: the recent ones first (in recency order), then file order
        first = sorted((name for name in names if name in recency), key=recency.__getitem__)
        return first + [name for name in names if name not in recency]
    scored = []
    for order, name in enumerate(names):
        score = _score(name, query)
        if score is not None:
            scored.append((-score if query else 0, recency.get(name, len(recency)), order, name))
    return [name for *_, name in sorted(scored)]


class RecentProfiles:
    """The profiles assumed lately, most recent first, in a small 0600 JSON file."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, "recent-profiles.json")

    def load(self) -> list[str]:
        """The remembered names (an unreadable or foreign file, or another user's, is simply no memory)."""
        import json

        from rolecall.cache import read_regular_file

        try:
            raw = read_regular_file(self.path, private=True)
            data = json.loads(raw.decode("utf-8")) if raw is not None else []
        except (OSError, ValueError, RecursionError):
            return []
        return [name for name in data if isinstance(name, str)][:RECENT_MAX] if isinstance(data, list) else []

    def touch(self, name: str) -> None:
        """Put ``name`` first; failing to remember is not worth an error."""
        import contextlib
        import json

        from rolecall import fileio
        from rolecall.errors import RolecallError

        names = [name, *(other for other in self.load() if other != name)][:RECENT_MAX]
        with contextlib.suppress(RolecallError):
            # rolecall's own file: replaced (never written through a link), always ours and 0600.
            fileio.atomic_write(self.path, json.dumps(names).encode("utf-8"), private=True)


def _line(row: Mapping[str, Any], width: int) -> str:
    left = f"{row['minutes_left']} min left" if row.get("minutes_left") is not None else ""
    text = f"{row['profile']:<24} {row['kind']:<5} {row['chain']:<40} {left}".rstrip()
    return text[: max(width - 4, 20)]


class _PickerState:
    """What the picker shows: the typed filter, the highlighted row, and how many lines were drawn last."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], recent: Sequence[str], width: int) -> None:
        self.by_name = {str(row["profile"]): row for row in rows}
        self.names = list(self.by_name)
        self.recent = recent
        self.width = width
        self.query, self.selected, self.drawn = "", 0, 0
        self.matches: list[str] = []

    def frame(self) -> str:
        """The escape sequences redrawing the picker over its previous frame."""
        self.matches = rank(self.names, self.query, self.recent)
        self.selected = min(self.selected, max(len(self.matches) - 1, 0))
        start = max(0, self.selected - VISIBLE + 1)
        lines = ["Pick a profile: type to filter, Up/Down to move, Enter to assume, Esc to cancel",
                 f"profile> {self.query}"]  # fmt: skip
        for index, name in enumerate(self.matches[start : start + VISIBLE], start):
            chosen = index == self.selected
            lines.append(("\x1b[7m> " if chosen else "  ") + _line(self.by_name[name], self.width)
                         + ("\x1b[0m" if chosen else ""))  # fmt: skip
        if not self.matches:
            lines.append("  (no profile matches)")
        lines.append(f"{len(self.matches)} of {len(self.names)} profiles")
        text = (f"\x1b[{self.drawn}A" if self.drawn else "") + "\r\x1b[J" + "\r\n".join(lines) + "\r\n"
        self.drawn = len(lines)
        return text

    def press(self, key: str) -> str | None:
        """Apply one key; the chosen name on Enter, None to go on. Cancelling raises as ``pick`` says."""
        last = max(len(self.matches) - 1, 0)
        if key in ("\r", "\n"):
            return self.matches[self.selected] if self.matches else None
        if key == "\x03":
            raise KeyboardInterrupt
        if key in ("\x1b", "\x04"):
            raise UsageError("no profile was picked", hint="name it instead: assume PROFILE")
        if key in ("\x1b[A", "\x1bOA", "\x10"):
            self.selected = max(self.selected - 1, 0)
        elif key in ("\x1b[B", "\x1bOB", "\x0e", "\t"):
            self.selected = min(self.selected + 1, last)
        elif key in ("\x7f", "\x08"):
            self.query, self.selected = self.query[:-1], 0
        elif key == "\x15":
            self.query, self.selected = "", 0
        elif key.isprintable() and not key.startswith("\x1b"):
            self.query, self.selected = self.query + key, 0
        return None


def pick(rows: Sequence[Mapping[str, Any]], recent: Sequence[str] = (), tty: str = "/dev/tty") -> str:
    """Let a person choose one of ``rows`` (``overview.profile_row`` dicts) on the terminal; return its name.

    ``UsageError`` when there is no terminal, no profile, or the person cancels (Esc, Ctrl-D); Ctrl-C raises
    ``KeyboardInterrupt`` as everywhere.
    """
    import termios
    import tty as ttymode

    if not rows:
        raise UsageError(
            "there is no profile to pick", hint="create one: rolecall configure set region us-east-1 --profile P"
        )
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise UsageError(
            "no profile named and no terminal to pick one", hint="name it: rolecall assume PROFILE"
        ) from None
    saved = termios.tcgetattr(fd)
    try:
        # The width of the terminal drawn on: stdout is often a pipe here (the shell function's $(...)).
        width = os.get_terminal_size(fd).columns
    except OSError:
        width = 100
    state = _PickerState(rows, recent, width)

    def write(text: str) -> None:
        os.write(fd, text.encode("utf-8", "replace"))

    try:
        ttymode.setcbreak(fd)
        write("\x1b[?25l")  # hide the cursor while drawing
        while True:
            write(state.frame())
            chosen = state.press(os.read(fd, 64).decode("utf-8", "ignore"))
            if chosen is not None:
                return chosen
    finally:
        # The picker leaves no trace: its lines are erased and the cursor is back where it started, so the
        # terminal shows what comes next (the summary or status line, the prompt) where the picker was.
        write((f"\x1b[{state.drawn}A" if state.drawn else "") + "\r\x1b[J\x1b[?25h")
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        os.close(fd)
