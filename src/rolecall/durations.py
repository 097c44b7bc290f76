"""Durations in words for people (``1 h 30 min``), without ``datetime``: the replay of a status line needs it."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """``1 h``, ``45 min``, ``1 h 30 min``, ``40 s``: a duration for messages to people."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    hours, minutes = divmod(whole // 60, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"
