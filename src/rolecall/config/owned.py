"""How rolecall marks what it owns in the AWS files, and how it finds it again: the one place for both schemes.

Two marks are in use, and both stay exactly as users' files carry them today:

* **Owned keys** (``rolecall save``, credentials file): a section rolecall wrote holds ``rolecall_source_profile``
  (the profile its credentials came from) and, for sessions that expire, ``rolecall_expiration`` (ISO 8601, UTC,
  ``Z``). botocore ignores both keys. A section without ``rolecall_source_profile`` is not rolecall's: it is never
  overwritten without ``--force`` and never refreshed.
* **Owned blocks** (``rolecall sso sync``, config file): the lines between two marker comments, one block per
  sso-session::

      # BEGIN rolecall sso sync (sso-session NAME): generated, edits inside are replaced
      ...
      # END rolecall sso sync (sso-session NAME)

  The block is rewritten whole; every BEGIN needs its END, blocks do not nest, one block per sso-session. The
  first setting line after a block must be a ``[section]`` header at the start of the line, else botocore reads
  it as part of the block's last profile.

Rules shared by both: rolecall replaces only what carries its mark, and refuses (``ConfigError``, naming the file
and line) to guess when a mark is broken. This module is pure (no file access) and off the fast path.
"""

from __future__ import annotations

from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rolecall.config.parse import ConfigValue

__all__ = [
    "EXPIRY_KEY",
    "OWNER_KEY",
    "begin_marker",
    "check_after_block",
    "end_marker",
    "find_blocks",
    "is_owned",
    "owned_keys",
    "owner_of",
]

#: The key that marks a credentials-file section as rolecall's; its value is the profile the keys came from.
OWNER_KEY = "rolecall_source_profile"
#: When the saved session of an owned section expires (ISO 8601, UTC).
EXPIRY_KEY = "rolecall_expiration"

_BEGIN = "# BEGIN rolecall sso sync"
_END = "# END rolecall sso sync"
_SESSION_OPEN = " (sso-session "
_BEGIN_TAIL = "): generated, edits inside are replaced"
_MARKER_HINT = (
    "fix the markers by hand: each '# BEGIN rolecall sso sync (sso-session NAME): ...' line needs one "
    "'# END rolecall sso sync (sso-session NAME)' line after it, one block per sso-session, none inside another "
    "(or delete both markers and the lines between them, and run again)"
)


# --- owned keys ------------------------------------------------------------------------------------------------


def is_owned(section: Mapping[str, ConfigValue]) -> bool:
    """True when rolecall wrote this credentials-file section (it holds ``rolecall_source_profile``)."""
    return OWNER_KEY in section


def owner_of(section: Mapping[str, ConfigValue] | None) -> str | None:
    """The profile an owned credentials-file section was saved from, or ``None`` when rolecall does not own it."""
    if section is None:
        return None
    source = section.get(OWNER_KEY)
    return source if isinstance(source, str) else None


def owned_keys(source: str, expiry: str | None) -> dict[str, str | None]:
    """The marker keys of a section saved from ``source`` (``None`` deletes an old expiry: the keys last)."""
    return {OWNER_KEY: source, EXPIRY_KEY: expiry}


# --- owned blocks ----------------------------------------------------------------------------------------------


def begin_marker(sso_session: str) -> str:
    """The line that opens the block of ``sso_session`` (without line terminator)."""
    return f"{_BEGIN}{_SESSION_OPEN}{sso_session}{_BEGIN_TAIL}"


def end_marker(sso_session: str) -> str:
    """The line that closes the block of ``sso_session`` (without line terminator)."""
    return f"{_END}{_SESSION_OPEN}{sso_session})"


def _marker_error(path: str, index: int, what: str) -> ConfigError:
    return ConfigError(f"{path} line {index + 1}: {what}; nothing was written", hint=_MARKER_HINT)


def _marker_session(stripped: str, prefix: str, path: str, index: int) -> str:
    """The sso-session name in a marker line (``stripped`` starts with ``prefix``)."""
    rest = stripped[len(prefix) :]
    close = rest.rfind(")")  # the fixed tail of a BEGIN line has no ')', so the last one closes the name
    if not rest.startswith(_SESSION_OPEN) or close <= len(_SESSION_OPEN):
        raise _marker_error(path, index, f"a malformed rolecall marker line ({prefix} ...)")
    return rest[len(_SESSION_OPEN) : close]


def find_blocks(lines: Sequence[str], path: str) -> dict[str, tuple[int, int]]:
    """Every well-formed block in ``lines`` (with or without terminators): sso-session -> (index of its BEGIN
    line, index of its END line).

    Markers of every session are checked, since a broken block of another session leaves it unclear which
    lines are whose. Raises ``ConfigError`` naming the file and the line.
    """
    blocks: dict[str, tuple[int, int]] = {}
    opened: tuple[str, int] | None = None
    for index, line in enumerate(lines):
        if "rolecall sso sync" not in line:  # cheap test first: almost every line fails it
            continue
        stripped = line.strip()
        if stripped.startswith(_BEGIN):
            session = _marker_session(stripped, _BEGIN, path, index)
            _check_begin(blocks, opened, session, path, index)
            opened = (session, index)
        elif stripped.startswith(_END):
            session = _marker_session(stripped, _END, path, index)
            if opened is None:
                raise _marker_error(path, index, f"an END marker for sso-session {session} without a BEGIN marker")
            if opened[0] != session:
                raise _marker_error(
                    path,
                    index,
                    f"an END marker for sso-session {session} closes the block of sso-session {opened[0]} "
                    f"opened at line {opened[1] + 1}",
                )
            blocks[session] = (opened[1], index)
            opened = None
    if opened is not None:
        raise _marker_error(path, opened[1], f"the BEGIN marker for sso-session {opened[0]} has no END marker")
    return blocks


def _check_begin(
    blocks: dict[str, tuple[int, int]], opened: tuple[str, int] | None, session: str, path: str, index: int
) -> None:
    """A BEGIN marker may open neither a block inside another nor a second block of one session."""
    if opened is not None:
        raise _marker_error(
            path,
            index,
            f"a BEGIN marker for sso-session {session} inside the block of sso-session {opened[0]} "
            f"opened at line {opened[1] + 1}",
        )
    if session in blocks:
        raise _marker_error(
            path,
            index,
            f"a second block for sso-session {session} (the first begins at line {blocks[session][0] + 1})",
        )


def check_after_block(lines: Sequence[str], end: int, path: str) -> None:
    """The first setting line after a block (whose END line is ``lines[end]``) must be a ``[section]`` header at
    the start of the line.

    Anything else (``key = value`` without a header, an indented line) is read by botocore as part of the block's
    last profile; rewriting the block would silently move it, so the person decides where it belongs.
    """
    for index in range(end + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if line[0] == "[" and stripped.rfind("]") >= 2:
            return
        raise ConfigError(
            f"{path} line {index + 1}: the first line after the rolecall block is not a [section] header at the "
            "start of the line, so botocore reads it as part of the block's last profile; nothing was written",
            hint="move that line into a section above the block, or put a [section] header before it",
        )
