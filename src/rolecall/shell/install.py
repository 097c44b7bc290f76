"""The installed form of the shell integration: a pre-generated file, and a marked block in the start-up file.

``eval "$(rolecall shell-init bash)"`` starts Python in every new shell (+25..45 ms). Installed
(``rolecall shell-init --install``), a new shell only sources a file rolecall generated beforehand:

* the generated file (``<rolecall's folder>/shell/init.<shell>``, 0600 in a 0700 folder) is the snippet of
  ``rolecall shell-init`` behind a guard. The guard names every file the snippet is made from (the snippet files,
  ``shell/__init__.py``, ``export.py``) and tests them with the shell's ``test`` builtin (``-e``, ``-nt``, ``-ot``,
  no process): the generated file's mtime is set to the newest source's, so a source changed, removed, or
  replaced by an older one (a reinstall, an upgrade, a new version elsewhere) makes it stale. Only then it runs
  ``rolecall shell-init --regenerate FILE SHELL`` (the rolecall on PATH) and sources the new file.
* the block (between ``# >>> rolecall shell-init SHELL >>>`` and ``# <<< ... <<<``) sources the generated file, or
  regenerates it when it is missing. It names only that file: nothing in it goes stale, and ``--install`` is
  needed once. ``--uninstall`` removes the block (the file then is byte for byte what it was before).

The snippet reads nothing from the environment when it is generated (``rolecall.shell.snippet``): every setting
(ROLECALL_SHELL_RENEW, ROLECALL_NOTIFY, NO_COLOR...) is read by the shell code at run time.
"""

from __future__ import annotations

import os

from rolecall.errors import FileError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: Shells that have an installed form (PowerShell keeps the printed form).
INSTALLABLE = ("bash", "zsh", "fish")
#: What the block says after its begin marker when it had to end the file's last line (undone by --uninstall).
_ENDED = " (ended the line above)"
_QUOTE_HINT = "rolecall's folder (ROLECALL_HOME) and HOME must not contain a single quote"


def begin_marker(shell: str) -> str:
    """The first line of the block rolecall owns in ``shell``'s start-up file."""
    return f"# >>> rolecall shell-init {shell} >>>"


def end_marker(shell: str) -> str:
    """The last line of the block."""
    return f"# <<< rolecall shell-init {shell} <<<"


def generated_path(rolecall_dir: str, shell: str) -> str:
    """Where the generated integration code of ``shell`` lives, in rolecall's folder."""
    return os.path.join(rolecall_dir, "shell", f"init.{shell}")


def startup_file(shell: str, env: Mapping[str, str], home: str) -> str:
    """The start-up file the block goes in: ~/.bashrc, $ZDOTDIR/.zshrc, or fish's conf.d/rolecall.fish."""
    if shell == "bash":
        return os.path.join(home, ".bashrc")
    if shell == "zsh":
        return os.path.join(env.get("ZDOTDIR") or home, ".zshrc")
    config = env.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    return os.path.join(config, "fish", "conf.d", "rolecall.fish")


def sources(shell: str) -> list[str]:
    """The files the generated code of ``shell`` is made from (what its freshness is tested against)."""
    from rolecall import export
    from rolecall.shell import SHELLS

    here = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(here, name) for name in SHELLS[shell]]
    return [*files, os.path.join(here, "__init__.py"), os.path.abspath(export.__file__)]


def _quote(path: str) -> str:
    """``path`` in single quotes, which mean the same in bash, zsh and fish (refused when it has one)."""
    if "'" in path or "\\" in path or "\n" in path:
        raise UsageError(f"cannot name {path!r} in shell code", hint=_QUOTE_HINT)
    return f"'{path}'"


def _guard(shell: str, target: str, files: list[str], newest: str) -> str:
    """Shell code that regenerates ``target`` and sources the new one when a source changed (builtins only)."""
    me = _quote(target)
    tests = [f"test ! -e {_quote(f)}" for f in files]
    tests += [f"test {_quote(f)} -nt {me}" for f in files]
    tests.append(f"test {_quote(newest)} -ot {me}")
    regen = f"command rolecall shell-init --regenerate {me} {shell}"
    note = f"rolecall: could not regenerate {target} (is rolecall on PATH?); using it as it is"
    if shell == "fish":
        return (
            f"if not set -q _rolecall_regen; and begin; {'; or '.join(tests)}; end\n"
            f"    set -g _rolecall_regen 1\n"
            f"    if {regen}\n        source {me}\n        set -e _rolecall_regen\n        return 0\n    end\n"
            f"    set -e _rolecall_regen\n    echo {_quote(note)} >&2\nend\n"
        )
    return (
        f'if [ -z "${{_rolecall_regen-}}" ] && {{ {" || ".join(tests)}; }}; then\n'
        f"    _rolecall_regen=1\n"
        f"    if {regen}; then\n        . {me}\n        unset _rolecall_regen\n        return 0\n    fi\n"
        f"    unset _rolecall_regen\n    echo {_quote(note)} >&2\nfi\n"
    )


def generated_text(shell: str, target: str) -> tuple[str, str]:
    """The generated file for ``shell`` at ``target`` and the source whose mtime it must carry (the newest)."""
    from rolecall import __version__
    from rolecall.shell import snippet

    files = sources(shell)
    newest = max(files, key=lambda f: os.stat(f).st_mtime_ns)
    header = (
        f"# rolecall {__version__} shell integration ({shell}), generated by `rolecall shell-init --install`:\n"
        "# do not edit. The guard below regenerates it when a file it is made from changes (test builtins only).\n"
    )
    return header + _guard(shell, target, files, newest) + snippet(shell), newest


def _refuse_odd(path: str) -> None:
    """Refuse a symlink or anything but a regular file at ``path`` (planted there by someone else, perhaps)."""
    import stat

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise FileError(
            f"{path} is {kind}; rolecall writes its shell integration only as its own regular file",
            hint=f"remove {path} and run rolecall shell-init --install again",
        )
    if os.name == "posix" and info.st_uid != os.geteuid():
        raise FileError(f"{path} belongs to another user (uid {info.st_uid})", hint=f"remove {path}")


def write_generated(shell: str, target: str) -> None:
    """(Re)write the generated file of ``shell`` at ``target``: 0600, folder 0700, mtime that of its newest source."""
    from rolecall.fileio import atomic_write, private_folder

    private_folder(os.path.dirname(target))
    _refuse_odd(target)
    text, newest = generated_text(shell, target)
    atomic_write(target, text.encode(), mode=0o600, private=True)
    stamp = os.stat(newest).st_mtime_ns
    os.utime(target, ns=(stamp, stamp))


#: The installed bash block's first lines: a DEBUG trap set before it, for the hook to keep (bash.sh).
_BASH_TRAP = """\
_rolecall_user_trap=
if [[ $- == *i* ]] && { (( BASH_VERSINFO[0] < 5 )) || ! { trap -p DEBUG >/dev/full; } 2>/dev/null; }; then
    _rolecall_user_trap=$(trap -p DEBUG)
fi
"""


def block(shell: str, target: str) -> str:
    """The block for ``shell``'s start-up file: source the generated file, or regenerate it when missing."""
    me = _quote(target)
    regen = f"command rolecall shell-init --regenerate {me} {shell}"
    if shell == "fish":
        body = f"if test -r {me}\n    source {me}\nelse if {regen}\n    source {me}\nend\n"
    else:
        body = f"if [ -r {me} ]; then\n    . {me}\nelif {regen}; then\n    . {me}\nfi\n"
    if shell == "bash":  # a DEBUG trap of yours is read here: bash hides it from the sourced file (see bash.sh)
        body = _BASH_TRAP + body
    return (
        f"{begin_marker(shell)}\n"
        f"# Written by `rolecall shell-init --install {shell}`; `rolecall shell-init --uninstall {shell}` removes it.\n"
        f"{body}{end_marker(shell)}\n"
    )


def _find_block(text: str, shell: str, path: str) -> tuple[int, int] | None:
    """The span of the block in ``text`` (from its begin line to after its end line), or None."""
    begin = text.find(begin_marker(shell))
    while begin > 0 and text[begin - 1] != "\n":  # the marker must start a line
        begin = text.find(begin_marker(shell), begin + 1)
    if begin < 0:
        return None
    end = text.find(end_marker(shell), begin)
    if end < 0:
        raise FileError(
            f"{path} has rolecall's begin line ({begin_marker(shell)}) but not its end line",
            hint=f"fix the block by hand: it ends with the line {end_marker(shell)}",
        )
    stop = text.find("\n", end)
    return begin, len(text) if stop < 0 else stop + 1


def with_block(text: str, shell: str, target: str, path: str) -> str:
    """``text`` with the block put in: in place of an old one, else at the end (ending the last line if needed)."""
    new = block(shell, target)
    span = _find_block(text, shell, path)
    if span is not None:
        old_first = text[span[0] : text.find("\n", span[0])]
        if old_first.endswith(_ENDED):  # keep the record that the line above was ended by rolecall
            new = new.replace(begin_marker(shell), begin_marker(shell) + _ENDED, 1)
        return text[: span[0]] + new + text[span[1] :]
    if text and not text.endswith("\n"):
        return text + "\n" + new.replace(begin_marker(shell), begin_marker(shell) + _ENDED, 1)
    return text + new


def without_block(text: str, shell: str, path: str) -> str | None:
    """``text`` without the block (as it was before ``with_block``), or None when there is no block."""
    span = _find_block(text, shell, path)
    if span is None:
        return None
    start, stop = span
    first = text[start : text.find("\n", start)]
    if first.endswith(_ENDED) and start > 0 and text[start - 1] == "\n":
        start -= 1
    return text[:start] + text[stop:]


class Installed:
    """What ``install`` or ``uninstall`` did, for the command to tell: the start-up file, the generated file,
    whether the start-up file changed, and a warning (an old ``shell-init`` line left in the file) or None."""

    def __init__(self, startup: str, generated: str, changed: bool, warning: str | None = None) -> None:
        """Plain fields (see the class)."""
        self.startup = startup
        self.generated = generated
        self.changed = changed
        self.warning = warning


def _edit(path: str, change: Callable[[str], str | None]) -> tuple[bool, str]:
    """Apply ``change`` (text -> new text or None) to the start-up file ``path`` under its lock, atomically;
    returns (whether it changed, the text it had). Safe symlinks are followed (fileio), others refused."""
    from rolecall.fileio import atomic_write, exclusive_lock, read_bytes, writable_target

    with exclusive_lock(path):
        raw = read_bytes(writable_target(path))
        text = "" if raw is None else raw.decode("utf-8", errors="surrogateescape")
        new = change(text)
        if new is None or new == text:
            return False, text
        atomic_write(path, new.encode("utf-8", errors="surrogateescape"), mode=0o600, dir_mode=0o700)
    return True, text


def _old_line_warning(text: str, shell: str, path: str) -> str | None:
    """A warning when the start-up file still runs ``rolecall shell-init`` itself (outside the block)."""
    span = _find_block(text, shell, path)
    rest = text if span is None else text[: span[0]] + text[span[1] :]
    for line in rest.splitlines():
        if "rolecall shell-init" in line and not line.lstrip().startswith("#"):
            return (
                f"{path} still has the line `{line.strip()}`: remove it, or each new shell starts rolecall "
                "(and loads the integration twice)"
            )
    return None


def install(shell: str, env: Mapping[str, str], home: str, rolecall_dir: str) -> Installed:
    """Write the generated file of ``shell`` and put the block in its start-up file (in place of an old block)."""
    if shell not in INSTALLABLE:
        raise UsageError(
            f"shell-init --install does not know {shell}",
            hint="install for bash, zsh or fish; for PowerShell put the printed line in $PROFILE (help shells)",
        )
    target = generated_path(rolecall_dir, shell)
    path = startup_file(shell, env, home)
    write_generated(shell, target)
    changed, text = _edit(path, lambda old: with_block(old, shell, target, path))
    return Installed(path, target, changed, _old_line_warning(text, shell, path))


def uninstall(shell: str, env: Mapping[str, str], home: str, rolecall_dir: str) -> Installed:
    """Remove the block from ``shell``'s start-up file and the generated file (fish's conf.d file, when it then is
    empty, since rolecall created it)."""
    if shell not in INSTALLABLE:
        raise UsageError(f"shell-init --uninstall does not know {shell}", hint="name bash, zsh or fish")
    target = generated_path(rolecall_dir, shell)
    path = startup_file(shell, env, home)
    changed, _ = _edit(path, lambda old: without_block(old, shell, path))
    if shell == "fish" and changed and os.path.isfile(path) and os.path.getsize(path) == 0:
        os.unlink(path)
    import stat

    try:
        if stat.S_ISREG(os.lstat(target).st_mode):
            os.unlink(target)
    except FileNotFoundError:
        pass
    return Installed(path, target, changed)
