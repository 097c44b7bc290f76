"""``rolecall shell-init [SHELL]``: print the assume/unassume functions, completion and prompt segment for a shell.

Put in the shell's start-up file:

* bash (~/.bashrc), zsh (~/.zshrc, after ``compinit``): ``eval "$(rolecall shell-init bash)"`` (or ``zsh``)
* fish (~/.config/fish/config.fish): ``rolecall shell-init fish | source``
* PowerShell ($PROFILE): ``rolecall shell-init pwsh | Out-String | Invoke-Expression``

See docs/shells.md.
"""

from __future__ import annotations

import os.path

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

_SHELLS = ("bash", "zsh", "fish", "pwsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the one argument: which shell (default: the one $SHELL names)."""
    parser.add_argument(
        "shell", nargs="?", choices=_SHELLS, help="the shell to print the integration code for (default: from $SHELL)"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the snippet for the shell on stdout."""
    from rolecall.shell import snippet

    shell = args.shell or _shell_from_env(ctx.env.get("SHELL", ""))
    ctx.out(snippet(shell))
    return 0


def _shell_from_env(path: str) -> str:
    name = os.path.basename(path)
    if name.endswith(".exe"):  # pwsh.exe on Windows
        name = name[:-4]
    if name in ("powershell", "pwsh-preview"):
        name = "pwsh"
    if name not in _SHELLS:
        raise UsageError(
            f"cannot tell the shell from $SHELL ({path or 'not set'})",
            hint="name it: rolecall shell-init bash|zsh|fish|pwsh",
        )
    return name
