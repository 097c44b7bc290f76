"""The shell integration snippets printed by ``rolecall shell-init``: assume, unassume, completion, prompt segment.

The snippets are plain files beside this module (package data). The lists of variables they save, restore and
unset are filled in from ``rolecall.export`` here, so the renderers and the shell functions cannot drift apart.
"""

from __future__ import annotations

import os

from rolecall.errors import InvalidInputError
from rolecall.export import MANAGED_VARS, UNSET_VARS

#: Shells ``snippet`` knows, and the files that make up each snippet.
#: completion.* complete rolecall itself through `rolecall __complete` (cli/commands/complete.py), on Tab only.
#: renew.* renew the exported credentials before a command when they are due, and notify (docs/shells.md).
SHELLS: dict[str, tuple[str, ...]] = {
    "bash": ("common.sh", "renew.sh", "bash.sh", "completion.bash"),
    "zsh": ("common.sh", "renew.sh", "zsh.zsh", "completion.zsh"),
    "fish": ("rolecall.fish", "renew.fish", "completion.fish"),
    "pwsh": ("rolecall.ps1",),
}

#: The export format the snippet of each shell asks ``rolecall env`` for.
ENV_FORMAT = {"bash": "sh", "zsh": "sh", "fish": "fish", "pwsh": "powershell"}


def snippet(shell: str) -> str:
    """The integration code for ``shell`` (one of ``SHELLS``), ready to be evaluated by that shell."""
    files = SHELLS.get(shell)
    if files is None:
        raise InvalidInputError(f"unknown shell '{shell}'", hint="choose one of: " + ", ".join(SHELLS))
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for name in files:
        with open(os.path.join(here, name), encoding="utf-8") as handle:
            parts.append(handle.read())
    text = "".join(parts)
    replacements = {
        # zsh: run each function with zsh's default options, whatever the user set (see common.sh).
        "@ZSH_LOCAL@": "emulate -L zsh" if shell == "zsh" else ":",
        "@MANAGED_VARS_PS@": ", ".join(f"'{name}'" for name in MANAGED_VARS),
        "@UNSET_VARS_PS@": ", ".join(f"'{name}'" for name in UNSET_VARS),
        "@FISH_BASELINE@": "\n".join(
            f"    set -q _rolecall_old_{name}; and set -lx {name} $_rolecall_old_{name}; or set -lu {name} ''"
            for name in MANAGED_VARS
        ),
        "@MANAGED_VARS@": " ".join(MANAGED_VARS),
        "@UNSET_VARS@": " ".join(UNSET_VARS),
    }
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text
