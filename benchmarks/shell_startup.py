"""What ``shell-init`` adds to the start-up of an interactive bash, zsh and fish, in one run.

    .venv/bin/python benchmarks/shell_startup.py [--rounds N] [--against REV] [--shells bash,zsh,fish]

For each shell it times, interleaved round by round (so machine noise hits every case alike), an interactive
shell that starts and exits at once:

- without shell-init: its start-up file does what a user's does anyway (zsh: ``compinit``), nothing of rolecall's
- with shell-init: the same file plus the old line (``eval "$(rolecall shell-init bash)"``,
  ``rolecall shell-init fish | source``), which starts Python in every shell
- installed: the same file after ``rolecall shell-init --install`` (a block that sources a pre-generated file; no
  process is started), the recommended form (issue 20's budget: at most 3 ms over the shell without rolecall)

and prints the medians and the difference, which is what ``shell-init`` costs each new shell. With
``--against REV`` it also times the shell-init line with the code of git revision REV (a temporary worktree put
first on PYTHONPATH), so a change to the snippets or to ``shell-init`` is measured side by side.
Bytecode is compiled first, as an installed package has it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from revisions import worktree_of
from timing import time_process

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = "installed (--install)"
_NO_TTY_NOISE = re.compile(r"job control|terminal process group|^exit$|^$")

#: shell -> (the line of its start-up file, the argv of an interactive shell that exits at once given the folder).
INIT_LINE = {
    "bash": 'eval "$(rolecall shell-init bash)"',
    "zsh": 'eval "$(rolecall shell-init zsh)"',
    "fish": "rolecall shell-init fish | source",
}


def _files(shell: str, folder: Path, with_init: bool) -> tuple[list[str], dict[str, str]]:
    """Write the start-up file of ``shell`` in ``folder``; return the argv and the extra environment."""
    folder.mkdir(parents=True)
    line = INIT_LINE[shell] + "\n" if with_init else ""
    if shell == "bash":
        (folder / ".bashrc").write_text(line)
        return ["bash", "--noprofile", "--rcfile", str(folder / ".bashrc"), "-i", "-c", "exit"], {"HOME": str(folder)}
    if shell == "zsh":
        # compinit is in every zsh set-up that has completion; its dump file is made once, before the timing.
        (folder / ".zshrc").write_text(f"autoload -Uz compinit; compinit -d {folder}/zcompdump\n{line}")
        return ["zsh", "-i", "-c", "exit"], {"ZDOTDIR": str(folder)}
    (folder / "fish").mkdir()
    (folder / "fish" / "config.fish").write_text(line)
    return ["fish", "-i", "-c", "exit"], {"XDG_CONFIG_HOME": str(folder), "XDG_DATA_HOME": str(folder / "data")}


def _install(shell: str, env: dict[str, str]) -> None:
    """``rolecall shell-init --install`` into the case's start-up file (its HOME, ZDOTDIR or XDG_CONFIG_HOME)."""
    rolecall = str(Path(sys.executable).parent / "rolecall")
    subprocess.run([rolecall, "shell-init", "--install", shell], env=env, check=True, capture_output=True)


def _time(argv: list[str], env: dict[str, str]) -> float:
    elapsed, stderr = time_process(argv, env)
    # Without a terminal an interactive bash says it has no job control (and echoes `exit`): only other lines count.
    complaints = [line for line in stderr.splitlines() if not _NO_TTY_NOISE.search(line)]
    if complaints:
        raise SystemExit(f"{argv} complained: {complaints[-5:]}")
    return elapsed



def _cases(shells: list[str], work: Path, tree: str | None, label: str) -> dict[str, tuple[list[str], dict[str, str]]]:
    bindir = str(Path(sys.executable).parent)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ROLECALL_", "BASH_ENV", "ENV"))}
    base |= {"HOME": str(work / "home"), "PATH": bindir + os.pathsep + base.get("PATH", ""), "TERM": "dumb"}
    (work / "home").mkdir(exist_ok=True)
    cases: dict[str, tuple[list[str], dict[str, str]]] = {}
    for shell in shells:
        src = str(ROOT / "src")
        variants = [
            ("without shell-init", False, None),
            ("eval line (old form)", True, src),
            (INSTALLED, False, src),
        ]
        if tree:
            variants.append((f"eval line, {label}", True, os.path.join(tree, "src")))
        for name, with_init, source in variants:
            folder = work / f"{shell}-{len(cases)}"
            argv, extra = _files(shell, folder, with_init)
            env = dict(base, **extra)
            if source:
                env["PYTHONPATH"] = source
            if name == INSTALLED:
                env["ROLECALL_HOME"] = str(folder / "rolecall")
                _install(shell, env)
            cases[f"{shell} {name}"] = (argv, env)
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--against", metavar="REV", help="also time the shell-init of this git revision")
    parser.add_argument("--shells", default="bash,zsh,fish", help="comma-separated (default: bash,zsh,fish)")
    options = parser.parse_args()
    shells = [s for s in options.shells.split(",") if shutil.which(s)]
    compileall.compile_dir(str(ROOT / "src" / "rolecall"), quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tree = worktree_of(options.against, scratch) if options.against else None
        try:
            cases = _cases(shells, work, tree, (options.against or "")[:12])
            times: dict[str, list[float]] = {name: [] for name in cases}
            for argv, env in cases.values():  # warm the page cache, make zsh's dump file
                _time(argv, env)
            for _ in range(options.rounds):
                for name, (argv, env) in cases.items():
                    times[name].append(_time(argv, env))
        finally:
            if tree:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tree], capture_output=True)
    print(f"{'shell start-up (interactive, exits at once)':<50}{'median':>10}{'added by shell-init':>22}")
    for shell in shells:
        floor = statistics.median(times[f"{shell} without shell-init"])
        for name in times:
            if name.startswith(shell + " "):
                median = statistics.median(times[name])
                added = "" if name.endswith("without shell-init") else f"{(median - floor) * 1000:+.1f} ms"
                print(f"{name:<50}{median * 1000:>8.1f}ms{added:>22}")


if __name__ == "__main__":
    main()
