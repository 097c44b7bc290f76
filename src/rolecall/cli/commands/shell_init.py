"""``rolecall shell-init [SHELL]``: print the assume/unassume functions, completion and prompt segment for a shell.

Put in the shell's start-up file:

* bash (~/.bashrc), zsh (~/.zshrc, after ``compinit``): ``eval "$(rolecall shell-init bash)"`` (or ``zsh``)
* fish (~/.config/fish/config.fish): ``rolecall shell-init fish | source``
* PowerShell ($PROFILE): ``rolecall shell-init pwsh | Out-String | Invoke-Expression``

See docs/shells.md.
"""

from __future__ import annotations

from rolecall.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from rolecall.cli.context import Context

_SHELLS = ("bash", "zsh", "fish", "pwsh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the one argument: which shell (default: the one running rolecall, else the one $SHELL names)."""
    parser.add_argument(
        "shell",
        nargs="?",
        choices=_SHELLS,
        help="the shell to print the integration code for (default: the shell running rolecall, else $SHELL's)",
    )
    import argparse

    # The line to put in the start-up file is what a person looks for here: shown as written, not re-wrapped.
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = SETUP_LINES


#: The line for each shell's start-up file (also in docs/shells.md).
SETUP_LINES = """\
Put one line in your shell's start-up file, then open a new shell:
  bash  ~/.bashrc                       eval "$(rolecall shell-init bash)"
  zsh   ~/.zshrc (after compinit)       eval "$(rolecall shell-init zsh)"
  fish  ~/.config/fish/config.fish      rolecall shell-init fish | source
  pwsh  $PROFILE                        rolecall shell-init pwsh | Out-String | Invoke-Expression
It defines assume and unassume, Tab completion of rolecall and of assume, and the prompt segment
(rolecall help shells)."""


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the snippet for the shell on stdout."""
    from rolecall.shell import snippet

    shell = args.shell or _running_shell(ctx.env)
    ctx.out(snippet(shell))
    return 0


def _running_shell(env: Mapping[str, str]) -> str:
    """The shell that runs this command (its parent process: fish started from a bash login keeps SHELL=bash),
    else the one $SHELL names (``rolecall.parentshell``)."""
    from rolecall.parentshell import parent_program, shell_name

    parent = parent_program()
    name = shell_name(parent) if parent is not None else None
    if name is not None and name in _SHELLS:
        return name
    return _shell_from_env(env.get("SHELL", ""))


def _shell_from_env(path: str) -> str:
    from rolecall.parentshell import shell_name

    name = shell_name(path) if path else None
    if name is None or name not in _SHELLS:
        raise UsageError(
            f"cannot tell the shell from $SHELL ({path or 'not set'})",
            hint="name it: rolecall shell-init bash|zsh|fish|pwsh",
        )
    return name
