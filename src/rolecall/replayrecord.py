"""Recording a hot command's answer for ``rolecall.replay``: what it read, what it printed, the secrets left out.

While the console script runs a hot command (``cli.main`` starts a ``Recorder`` for the command lines
``replay.enabled`` accepts), the recorder watches, without changing anything the command does:

- the environment variables it reads (``Context.env`` becomes a ``RecordingEnv``; rolecall reads the environment
  only through it, never through ``os.environ``);
- every file it opens and folder it lists (a Python audit hook: ``open``, ``os.listdir``, ``os.scandir``); any
  other audited event (a process started, a socket, a file written, renamed, removed...) means the command did more
  than read, and nothing is recorded;
- every path it only looks at (``os.stat``, ``os.lstat``, ``os.access`` and so everything in ``os.path`` and
  ``shutil.which`` that uses them, which Python does not audit): the recorder stands in for those three functions
  of the ``os`` module while it records, and puts them back when it stops. A file looked at counts by its whole
  signature; a folder looked at (its owner checked) by what it is, whose it is and its mode, not by its timestamps,
  which move whenever an entry is added to it;
- what it writes on stdout and stderr;
- and what the sources tell it through the ``note_*`` functions of this module: which cache file served the
  credentials, which strings in it are secrets and until when the command would serve them (``note_served``); the
  shell its output is for (``note_shell``); the status line's time left (``note_time_left``).

When the command succeeded (exit 0) from a cache, and every secret it printed was found verbatim in the served file,
the snapshot is written (``replay`` documents its contents): the texts with each secret replaced by its place in the
file. Files changed within the last 2 seconds make no snapshot (their timestamps could still move within one clock
tick: the parse cache's "racy" rule). Outside a recording every ``note_*`` function returns at once.

Library code: it never prints; a snapshot that cannot be written is simply not written.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime
    from typing import TextIO

#: Audit events that neither read outside state nor change any: importing and running rolecall's own code.
_HARMLESS_EVENTS = frozenset({
    "import", "exec", "compile", "marshal.loads", "marshal.dumps", "sys._getframe", "object.__getattr__",
    "object.__setattr__", "object.__delattr__", "builtins.id", "code.__new__", "function.__new__",
})  # fmt: skip

#: ``open`` flags that mean writing.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

#: The "racy" window: a file changed less than this long before the command started is not trusted by signature.
_RACY_NS = 2_000_000_000

_active: Recorder | None = None
_hooked = False

#: The ``os`` functions the recorder stands in for while it records (see the module docstring), as they were.
_WATCHED = ("stat", "lstat", "access")
_original: dict[str, Callable[..., object]] = {name: getattr(os, name) for name in _WATCHED}

#: How a path counts: by its whole signature (opened, listed) or, for a folder only looked at, by what it is.
WHOLE, IDENTITY = "whole", "identity"


class RecordingEnv(dict[str, str]):
    """A copy of the environment that remembers each variable asked for (and its value or absence); asking for the
    whole of it (iterating, copying) makes the command's answer depend on everything, and nothing is recorded."""

    def __init__(self, values: Mapping[str, str], recorder: Recorder) -> None:
        super().__init__(values)
        self._recorder = recorder

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        """``dict.get``, remembered."""
        self._recorder.variables[key] = dict.get(self, key)
        return dict.get(self, key, default)

    def __getitem__(self, key: str) -> str:
        self._recorder.variables[key] = dict.get(self, key)
        return dict.__getitem__(self, key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self._recorder.variables[key] = dict.get(self, key)
        return dict.__contains__(self, key)

    def _everything(self) -> None:
        self._recorder.abandon("the whole environment was read")

    def __iter__(self):  # type: ignore[no-untyped-def]
        self._everything()
        return dict.__iter__(self)

    def keys(self):  # type: ignore[no-untyped-def]
        """``dict.keys``: the whole environment counts from now on."""
        self._everything()
        return dict.keys(self)

    def items(self):  # type: ignore[no-untyped-def]
        """``dict.items``: the whole environment counts from now on."""
        self._everything()
        return dict.items(self)

    def values(self):  # type: ignore[no-untyped-def]
        """``dict.values``: the whole environment counts from now on."""
        self._everything()
        return dict.values(self)

    def copy(self) -> dict[str, str]:
        """``dict.copy``: the whole environment counts from now on."""
        self._everything()
        return dict(dict.items(self))

    def __len__(self) -> int:
        self._everything()
        return dict.__len__(self)


class _Tee:
    """A text stream that keeps a copy of what is written through it."""

    def __init__(self, stream: TextIO, copy: list[str]) -> None:
        self._stream = stream
        self._copy = copy

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._copy.append(text)
        return written

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class Recorder:
    """What one run of a hot command read and printed (see the module docstring)."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = tuple(argv)
        self.started_ns = _now_ns()
        self.variables: dict[str, str | None] = {}
        #: Each path the command depended on, and how (``WHOLE`` or ``IDENTITY``).
        self.paths: dict[str, str] = {}
        self.served: list[tuple[str, tuple[str, ...], float]] = []
        self.shell: tuple[str | None] | None = None
        self.time_left: tuple[str, float] | None = None
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.abandoned: str | None = None
        self.clock_read = False

    def abandon(self, why: str) -> None:
        """Record nothing for this run (the first reason is kept, for tests and --debug readers of the code)."""
        if self.abandoned is None:
            self.abandoned = why

    def audit(self, event: str, args: tuple[object, ...]) -> None:
        """The audit hook's work while this recorder is active."""
        if event in _HARMLESS_EVENTS:
            return
        if event == "open":
            self._opened(args)
        elif event in ("os.listdir", "os.scandir"):
            path = _text_path(args[0] if args else ".")
            if path is None:
                self.abandon("a folder listed by descriptor")
            elif not (_code_file(path) or _import_folder(path)):
                self.paths[path] = WHOLE
        else:
            self.abandon(f"the audited event {event}")

    def looked_at(self, path: object, options: Mapping[str, object]) -> None:
        """``os.stat``/``lstat``/``access`` of ``path`` (a descriptor: a file already opened, so already counted)."""
        if isinstance(path, int) or self.abandoned is not None:
            return
        text = _text_path(path)
        if text is None or options.get("dir_fd") is not None:
            self.abandon("a path looked at relative to a folder descriptor")
        elif not _code_file(text):  # the import system never calls os.stat: a folder looked at is an input
            self.paths.setdefault(text, IDENTITY)

    def _opened(self, args: tuple[object, ...]) -> None:
        path = _text_path(args[0])
        mode, flags = args[1], args[2]
        if path is None:
            self.abandon("a file opened by descriptor")
            return
        writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(int(flags or 0) & _WRITE_FLAGS)  # type: ignore[call-overload]
        if writes:
            self.abandon(f"a file opened for writing ({path})")
        elif not (_code_file(path) or path == _parent_comm()):
            self.paths[path] = WHOLE


def _text_path(path: object) -> str | None:
    if isinstance(path, str):
        return path
    if isinstance(path, bytes):
        return os.fsdecode(path)
    if hasattr(path, "__fspath__"):
        return _text_path(os.fspath(path))
    return None


def _python_prefixes() -> tuple[str, ...]:
    """Where Python and its installed packages are (a virtual environment's site-packages are under them)."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    return tuple(place.rstrip(os.sep) + os.sep for place in places if place)


def _code_prefixes() -> tuple[str, ...]:
    """Where module files are: Python's prefixes and the ``sys.path`` entries."""
    entries = {os.path.abspath(entry).rstrip(os.sep) + os.sep for entry in sys.path if entry}
    return _python_prefixes() + tuple(entries)


def _import_folders() -> set[str]:
    """The folders the import system lists: the ``sys.path`` entries and the folders of the packages loaded.
    Not every folder under a ``sys.path`` entry: ``python -m`` puts the working folder there, which may be home."""
    folders = {os.path.abspath(entry) for entry in sys.path if entry}
    for module in list(sys.modules.values()):
        folders.update(getattr(module, "__path__", None) or ())
    return folders


_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pth", ".pyd")


def _code_file(path: str) -> bool:
    """A module file under an import location (Python's prefixes, a ``sys.path`` entry): code, not an input.

    Called for every module file a recorded command opens, so it is a suffix and a prefix test."""
    return os.path.isabs(path) and path.endswith(_CODE_SUFFIXES) and path.startswith(_code_prefixes())


def _import_folder(path: str) -> bool:
    """A folder the import system lists (a ``sys.path`` entry, a loaded package's folder, under Python's
    prefixes): code, not an input. Only for listings: a folder looked at with ``os.stat`` always counts."""
    if not os.path.isabs(path) or not _is_folder(path):
        return False
    return path.rstrip(os.sep) in _import_folders() or path.startswith(_python_prefixes())


def _is_folder(path: str) -> bool:
    try:
        info: os.stat_result = _original["stat"](path)  # type: ignore[assignment]
    except OSError:
        return False
    return info.st_mode & 0o170000 == 0o040000


def _parent_comm() -> str:
    return f"/proc/{os.getppid()}/comm"


def _audit(event: str, args: tuple[object, ...]) -> None:
    recorder = _active
    if recorder is not None and recorder.abandoned is None:
        recorder.audit(event, args)


def _now_ns() -> int:
    import time

    return time.time_ns()


def start(argv: Sequence[str]) -> Recorder:
    """Begin recording the command line ``argv`` (the process's audit hook is added on the first call)."""
    global _active, _hooked
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _active = Recorder(argv)
    _stand_in(True)
    return _active


#: The ``os.supports_*`` sets that name the functions taking ``dir_fd``, a descriptor, ``follow_symlinks`` or
#: ``effective_ids``. Code asks them (``os.access in os.supports_effective_ids``, shutil's choice of the rmtree
#: that resists symlink attacks, made when shutil is first imported): a stand-in is in the sets its original is in,
#: else a command recorded would take other branches than the same command not recorded.
_SUPPORTS = ("supports_dir_fd", "supports_fd", "supports_follow_symlinks", "supports_effective_ids")


def _stand_in(on: bool) -> None:
    """Put the stand-ins (``on``) or the originals back in the ``os`` module and in its ``supports_*`` sets."""
    for name in _WATCHED:
        original, stand_in = _original[name], _stand_ins[name]
        for which in _SUPPORTS:
            supported: set[Callable[..., object]] = getattr(os, which)
            if on and original in supported:
                supported.add(stand_in)
            elif not on:
                supported.discard(stand_in)
        setattr(os, name, stand_in if on else original)


def _watching(name: str) -> Callable[..., object]:
    original = _original[name]

    def watched(path: object, *args: object, **options: object) -> object:
        recorder = _active
        if recorder is not None:
            recorder.looked_at(path, options)
        return original(path, *args, **options)

    watched.__name__ = watched.__qualname__ = name
    watched.__doc__ = original.__doc__
    return watched


#: The stand-ins, made once: the same function object each time (the ``supports_*`` sets hold it).
_stand_ins = {name: _watching(name) for name in _WATCHED}


#: What a command reads and writes through while it is recorded: environment, stdout, stderr, clock.
Watched = tuple[RecordingEnv, "TextIO", "TextIO", "Callable[[], datetime]"]


def watch_context(
    recorder: Recorder, env: Mapping[str, str], stdout: TextIO, stderr: TextIO, clock: Callable[[], datetime]
) -> Watched:
    """The environment, streams and clock a command gets while ``recorder`` watches it."""

    def watched_clock() -> datetime:
        recorder.clock_read = True
        return clock()

    tee_out: TextIO = _Tee(stdout, recorder.stdout)  # type: ignore[assignment]
    tee_err: TextIO = _Tee(stderr, recorder.stderr)  # type: ignore[assignment]
    return RecordingEnv(env, recorder), tee_out, tee_err, watched_clock


def stop() -> Recorder | None:
    """End the recording (the command is done): the recorder, or None when there was none; ``os`` is as it was."""
    global _active
    recorder, _active = _active, None
    _stand_in(False)
    return recorder


def recording() -> bool:
    """True while a command is being recorded (a source may then work out what its ``note_served`` needs)."""
    return _active is not None


def note_served(path: str, secrets: Iterable[str | None], valid_until: datetime | float) -> None:
    """The credentials (or token) the command prints came from the file ``path``, where ``secrets`` stand as JSON
    strings; the command would serve them until ``valid_until`` (a datetime or Unix time)."""
    if _active is not None:
        kept = tuple(secret for secret in secrets if secret)
        until = valid_until if isinstance(valid_until, (int, float)) else valid_until.timestamp()
        _active.served.append((path, kept, float(until)))
        _active.paths[path] = WHOLE


def note_shell(shell: str | None) -> None:
    """The command's answer depends on the shell its output goes to (``parentshell.running_shell``)."""
    if _active is not None:
        _active.shell = (shell,)


def note_time_left(text: str, expiry: datetime) -> None:
    """The status line said ``text`` (``58 min left``) for credentials that expire at ``expiry``."""
    if _active is not None:
        _active.time_left = (text, expiry.timestamp())


def finish(recorder: Recorder, env: Mapping[str, str]) -> bool:
    """Write the snapshot of a run that succeeded; True when one was written."""
    from rolecall.replaysnapshot import build, save

    snapshot = build(recorder)
    if snapshot is None:
        return False
    return save(snapshot, recorder.argv, env)
