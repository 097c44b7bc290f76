"""Which shell runs rolecall: the parent process when it is a shell, else the one ``$SHELL`` names.

``$SHELL`` is the login shell, not the shell a person is typing in: fish started from a bash login keeps
``SHELL=/bin/bash``, and ``rolecall env prod | source`` there must print fish code. The shell that will read
rolecall's output is its parent (``eval "$(rolecall env prod)"``: the shell's ``$(...)`` runs rolecall;
``rolecall env prod | source`` in fish: fish starts it), so the parent's name is asked first:

* Linux: ``/proc/PPID/comm``, one small read, no process started (this is the cached ``rolecall env`` path);
* macOS and the BSDs (no ``/proc``): ``ps -o comm= -p PPID``, one short-lived process;
* elsewhere (Windows), or when the parent is not a shell rolecall knows (``python``, ``sudo``, ``make``...):
  ``$SHELL``.

Library code: it returns names, never prints. On the fast path: imports only ``os`` and ``sys`` at load time.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: Program names of shells, as the parent's name or ``$SHELL``'s last part gives them, and what they read.
#: ``sh`` family: POSIX ``export`` lines; fish: ``set -gx``; PowerShell: ``$Env:``.
SHELL_NAMES = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "sh": "sh",
    "dash": "sh",
    "ash": "sh",
    "ksh": "sh",
    "ksh93": "sh",
    "mksh": "sh",
    "oksh": "sh",
    "yash": "sh",
    "pwsh": "pwsh",
    "pwsh-preview": "pwsh",
    "powershell": "pwsh",
}


def shell_name(program: str) -> str | None:
    """The shell a program name or path stands for (``/usr/bin/fish`` -> ``fish``, ``-zsh`` -> ``zsh``,
    ``pwsh.exe`` -> ``pwsh``, ``dash`` -> ``sh``), or None when it is not a known shell."""
    name = program.strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lstrip("-").lower()
    if name.endswith(".exe"):
        name = name[:-4]
    return SHELL_NAMES.get(name)


def parent_program(ppid: int | None = None) -> str | None:
    """The program name of the parent process (or of process ``ppid``), or None when it cannot be told."""
    pid = os.getppid() if ppid is None else ppid
    if pid <= 1:
        return None  # no parent left (reparented to init): nothing to learn from it
    try:
        with open(f"/proc/{pid}/comm", "rb") as handle:
            return handle.read().decode("utf-8", "replace").strip() or None
    except OSError:
        pass
    if os.name != "posix" or sys.platform.startswith("linux"):
        return None  # Windows has no ps; a Linux without /proc mounted is not worth a process
    return _ps_comm(pid)


def _ps_comm(pid: int) -> str | None:
    # Only where there is no /proc (macOS, the BSDs): ps is in every base system there.
    import subprocess

    try:
        done = subprocess.run(
            ["ps", "-o", "comm=", "-p", str(pid)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", "replace").strip() or None


def running_shell(env: Mapping[str, str], *, ppid: int | None = None) -> str | None:
    """The shell rolecall's output goes to: the parent process when it is a shell, else ``$SHELL``'s, else None.

    One of the values of ``SHELL_NAMES`` (``bash``, ``zsh``, ``fish``, ``sh``, ``pwsh``).
    """
    name = _running_shell(env, ppid)
    recording = sys.modules.get("rolecall.replayrecord")  # loaded only while a hot command is being recorded
    if recording is not None and ppid is None:
        recording.note_shell(name)
    return name


def _running_shell(env: Mapping[str, str], ppid: int | None) -> str | None:
    parent = parent_program(ppid)
    if parent is not None:
        name = shell_name(parent)
        if name is not None:
            return name
    return shell_name(env.get("SHELL", "")) if env.get("SHELL") else None
