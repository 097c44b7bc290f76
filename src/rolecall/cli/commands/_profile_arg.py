"""The PROFILE argument, also spelled the AWS CLI's way: ``rolecall whoami admin`` or ``whoami --profile admin``.

Every command that takes a profile declares it through ``add_profile_arguments``: the positional ``profile`` and
the option ``--profile PROFILE`` both land in ``args.profile``, so a command (and the argparse-free fast path,
``cli/fastargs.py``) reads one attribute. The same profile in both spellings is accepted; two different ones are
one usage error that names both. For a command whose profile is optional the precedence is the AWS CLI's: the
profile named (either spelling), then ``AWS_PROFILE``, then ``AWS_DEFAULT_PROFILE``, then ``default``
(``Session.profile_name``). Off the fast path: imported only when a command's parser is built.
"""

from __future__ import annotations

import argparse

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

#: The help of ``--profile``.
OPTION_HELP = "the same as PROFILE, as the AWS CLI spells it"


class ProfileAction(argparse.Action):
    """Store a profile name in ``dest``; refuse a second, different one (positional and ``--profile``)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        """Called for ``--profile P`` and for the positional (with its default, None, when it was not given)."""
        if values is None:
            return  # the positional was not given: keep what --profile said, if anything
        name = str(values)
        current = getattr(namespace, self.dest, None)
        if current is not None and current != name:
            raise conflict(parser.prog, positional=current if option_string else name,
                           option=name if option_string else current)  # fmt: skip
        setattr(namespace, self.dest, name)


def conflict(prog: str, *, positional: str, option: str) -> UsageError:
    """The usage error for ``rolecall CMD A --profile B`` (the fast path leaves that command line to argparse)."""
    command = prog.removeprefix("rolecall").strip()
    return UsageError(
        f"{command}: two profiles named: {positional} and --profile {option}",
        hint=f"name one, as PROFILE or as --profile PROFILE: '{prog} {positional}' or '{prog} --profile {option}'",
    )


def add_profile_arguments(parser: argparse.ArgumentParser, help_text: str) -> None:
    """The optional positional ``profile`` and ``--profile PROFILE``, both stored in ``args.profile``."""
    parser.add_argument("profile", nargs="?", metavar="PROFILE", action=ProfileAction, help=help_text)
    parser.add_argument("--profile", dest="profile", metavar="PROFILE", action=ProfileAction, help=OPTION_HELP)
