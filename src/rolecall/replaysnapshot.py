"""Turning a ``replayrecord.Recorder`` into a snapshot for ``rolecall.replay``, and keeping it on disk.

Only after a hot command succeeded, off the replayed path: the snapshot's layout is documented in ``replay``.
A run that cannot be replayed exactly (a file changed while it ran, a secret printed in a form other than the one
in its file, a status line whose time left cannot be found again) gives no snapshot, never a wrong one.
"""

from __future__ import annotations

import os
import sys

from rolecall import replay
from rolecall.filesig import Identity, Signature, identity, signature
from rolecall.replayrecord import _RACY_NS, IDENTITY, WHOLE, Recorder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: A secret shorter than this could match unrelated text of the answer: such a run is not recorded.
MIN_SECRET_LENGTH = 16

#: (path, signature, folder identity or None when the path did not exist)
_File = tuple[str, "Signature | Identity | None"]


def build(recorder: Recorder) -> tuple[object, ...] | None:
    """The snapshot of ``recorder``'s run, or None when it must not be replayed."""
    if recorder.abandoned is not None or not recorder.served:
        return None
    files = _file_conditions({**dict.fromkeys(_code_files(), WHOLE), **recorder.paths}, recorder.started_ns)
    if files is None:
        return None
    signatures = dict(files)
    out, err = "".join(recorder.stdout), "".join(recorder.stderr)
    sources: list[tuple[str, Signature, tuple[tuple[int, int], ...]]] = []
    secrets: list[str] = []
    for path, kept, _until in recorder.served:
        printed = [secret in out for secret in kept]
        if not any(printed):
            continue  # consulted, not printed (its freshness still bounds the snapshot's: see below)
        expected = signatures.get(path)
        spans = _secret_spans(path, expected, kept) if expected is not None and len(expected) == 5 else None
        if not all(printed) or expected is None or spans is None:
            return None  # a secret printed in another form: the texts cannot be rebuilt from the file
        sources.append((path, expected, spans))  # type: ignore[arg-type]  # a whole signature (checked above)
        secrets.extend(kept)
    if not secrets:
        return None
    out_parts, err_parts = _template(out, secrets), _template(err, secrets)
    if recorder.time_left is not None:
        with_time = _with_time_left(err_parts, *recorder.time_left)
        if with_time is None:
            return None
        err_parts = with_time
    relative = any(not os.path.isabs(path) for path, _ in files)
    return (
        replay.FORMAT,
        sys.hexversion,
        recorder.argv,
        replay.euid(),
        (os.isatty(0), os.isatty(1), os.isatty(2)),
        os.getcwd() if relative else None,
        min(until for _, _, until in recorder.served),
        tuple(sorted(recorder.variables.items())),
        tuple(files),
        recorder.shell,
        tuple(sources),
        tuple(out_parts),
        tuple(err_parts),
    )


def save(snapshot: tuple[object, ...], argv: Sequence[str], env: Mapping[str, str]) -> bool:
    """Write ``snapshot`` for the command line ``argv`` (0600, atomically, in a private folder); True when written."""
    import marshal

    from rolecall import fileio
    from rolecall.errors import FileError

    name = replay.snapshot_name(argv)
    if name is None:
        return False
    folder = replay.snapshot_folder(env)
    try:
        fileio.private_folder(folder, loose=0o077)
        data = marshal.dumps(snapshot)  # type: ignore[arg-type]  # str, int, float, bool, None and tuples of them
        # Not durable: after a crash an empty or missing snapshot is only a miss.
        fileio.atomic_write(os.path.join(folder, name), data, mode=0o600, private=True, durable=False)
    except FileError:
        return False  # the answer was given; only the next run's shortcut is lost
    return True


def _code_files() -> set[str]:
    """rolecall's own modules that ran: a changed source file (an upgrade, a developer's edit) is a miss."""
    found = set()
    for name, module in list(sys.modules.items()):
        if name == "rolecall" or name.startswith("rolecall."):
            path = getattr(module, "__file__", None)
            if isinstance(path, str):
                found.add(path)
    return found


def _file_conditions(paths: Mapping[str, str], started_ns: int) -> list[_File] | None:
    """Each path with its signature now (a folder only looked at: its identity; None: absent); None when one is
    neither a regular file nor a folder, or changed too recently to be told apart by its timestamps."""
    files: list[_File] = []
    for path in sorted(paths):
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            if replay.lstat_works(path):
                return None  # a dangling link is not nothing: guarded reads name it, a replay could not
            files.append((path, None))
            continue
        except OSError:
            return None
        kind = info.st_mode & 0o170000
        if kind == 0o040000 and paths[path] == IDENTITY:
            files.append((path, identity(info)))
            continue
        if kind not in (0o100000, 0o040000):
            return None  # a device, a pipe, /proc: not something a signature describes
        if max(info.st_mtime_ns, info.st_ctime_ns) > started_ns - _RACY_NS:
            return None
        files.append((path, signature(info)))
    return files


def _secret_spans(
    path: str, expected: Signature | Identity, secrets: Sequence[str]
) -> tuple[tuple[int, int], ...] | None:
    """Where each secret stands in ``path`` (offset, length) as a plain JSON string; None when the file is not the
    one recorded or a secret is not there verbatim, is too short or has characters a replay would not accept."""
    data = replay.read_if(path, lambda info: signature(info) == expected)
    if data is None:
        return None
    spans = []
    for secret in secrets:
        if len(secret) < MIN_SECRET_LENGTH or not replay.SECRET_CHARACTERS.issuperset(secret):
            return None
        at = data.find(b'"' + secret.encode("ascii") + b'"')
        if at < 0:
            return None
        spans.append((at + 1, len(secret)))
    return tuple(spans)


def _template(text: str, secrets: Sequence[str]) -> list[object]:
    """``text`` as literal parts and secret indexes (each occurrence of a secret replaced by its index)."""
    parts: list[object] = []
    start = 0
    while True:
        best: tuple[int, int] | None = None
        for index, secret in enumerate(secrets):
            at = text.find(secret, start)
            if at >= 0 and (best is None or at < best[0] or (at == best[0] and len(secret) > len(secrets[best[1]]))):
                best = (at, index)
        if best is None:
            parts.append(text[start:])
            return [part for part in parts if part != ""]
        at, index = best
        parts.append(text[start:at])
        parts.append(index)
        start = at + len(secrets[index])


def _with_time_left(parts: list[object], text: str, expiry: float) -> list[object] | None:
    """``parts`` with the last literal occurrence of ``text`` (the status line's time left: the line comes after
    any warning, and a profile name could hold the same words) made the ``(expiry,)`` part that is worked out again
    at each replay; None when it is not there."""
    for position in range(len(parts) - 1, -1, -1):
        part = parts[position]
        if isinstance(part, str) and text in part:
            before, _, after = part.rpartition(text)
            replaced: list[object] = [piece for piece in (before, (expiry,), after) if piece != ""]
            return parts[:position] + replaced + parts[position + 1 :]
    return None
