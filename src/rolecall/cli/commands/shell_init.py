"""``rolecall shell-init SHELL``: print the assume/unassume functions, completion and prompt segment for a shell.

Put in the shell's start-up file:

* bash (~/.bashrc), zsh (~/.zshrc, after ``compinit``): ``eval "$(rolecall shell-init bash)"`` (or ``zsh``)
* fish (~/.config/fish/config.fish): ``rolecall shell-init fish | source``
* PowerShell ($PROFILE): ``rolecall shell-init pwsh | Out-String | Invoke-Expression``
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

_SHELLS = ("bash", "zsh", "fish", "pwsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the one argument: which shell."""
    parser.add_argument("shell", choices=_SHELLS, help="the shell to print the integration code for")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the snippet for ``args.shell`` on stdout."""
    from rolecall.shell import snippet

    ctx.out(snippet(args.shell))
    return 0
