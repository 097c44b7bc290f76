"""The argparse parser every command builds on: a usage mistake becomes a ``UsageError``.

Kept out of ``cli/main.py`` so that ``argparse`` (and ``re``, which it pulls in) is imported only
when a command really parses arguments.
"""

from __future__ import annotations

import argparse

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and a hint (a ``UsageError``), not a usage dump.

    Abbreviated options are not accepted (``save --to x`` must not silently mean ``--token-code x``), as the AWS
    CLI does not accept them either; sub-parsers inherit this through ``parser_class``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing usage and exiting."""
        # cli/main prefixes every error with "rolecall: "; name the command without repeating that.
        command = self.prog.removeprefix("rolecall").strip()
        raise UsageError(f"{command}: {message}" if command else message, hint=f"see '{self.prog} --help'")
