"""How library code tells a person something without printing: it calls a ``Reporter``.

The CLI passes a reporter that writes one line to stderr; library users may pass ``logging`` or
nothing at all (``ignore``).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeAlias

    #: Receives one human-readable line (a warning or a progress note). Never given a secret.
    Reporter: TypeAlias = Callable[[str], None]
else:
    # At run time the alias is only a name to import: importing ``collections.abc`` for it would cost the
    # cached fast path a noticeable part of its budget.
    Reporter = "Callable[[str], None]"


def ignore(_line: str) -> None:
    """A reporter that drops every line."""


def as_warnings(reporter: Reporter) -> Reporter:
    """A reporter that passes each line to ``reporter`` as ``rolecall: warning: <line>``.

    The runtime's reporter is a plain line sink that also gets progress notes (the CLI prints those as they
    are); code that only ever reports problems (the caches, the used-codes memory) wraps it with this, so
    those read like every other warning of rolecall.
    """

    def warn(line: str) -> None:
        reporter(f"rolecall: warning: {line}")

    return warn
