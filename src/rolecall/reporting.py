"""How library code tells a person something without printing: it calls a ``Reporter``.

The CLI passes a reporter that writes one line to stderr; library users may pass ``logging`` or
nothing at all (``ignore``).
"""

from __future__ import annotations

from collections.abc import Callable

#: Receives one human-readable line (a warning or a progress note). Never given a secret.
Reporter = Callable[[str], None]


def ignore(_line: str) -> None:
    """A reporter that drops every line."""
