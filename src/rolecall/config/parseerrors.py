"""The errors of ``rolecall.config.parse`` (the reader), built here so that its hot loop stays small and this text
is imported only when something is wrong: a broken or unreadable file, an unknown profile. Each names the file (as
a person writes it) and, for a broken file, the line; none echoes the line itself, which could hold a secret.
"""

from __future__ import annotations

from rolecall.errors import ConfigParseError, FileError, ProfileNotFoundError

__all__ = [
    "before_first_header",
    "duplicate_key",
    "duplicate_section",
    "misplaced",
    "nested_block",
    "not_a_header",
    "not_a_setting",
    "not_utf8",
    "profile_not_found",
    "unreadable",
]

_HINT_SYNTAX = (
    "Each line must be a [section] header, a 'name = value' setting, an indented continuation of the setting above, "
    "a blank line, or a comment starting with # or ;"
)


def duplicate_section(where: str, lineno: int, name: str, first_line: int) -> ConfigParseError:
    return ConfigParseError(
        f"{where} line {lineno}: duplicate section [{name}] (first at line {first_line})",
        hint="Merge the two sections into one, or delete one of them.",
    )


def not_a_header(where: str, lineno: int) -> ConfigParseError:
    # The line is not echoed: whatever a person typed there could be a secret.
    return ConfigParseError(
        f"{where} line {lineno}: a line starting with '[' that is not a section header (a name is "
        "needed between '[' and ']')",
        hint="Write headers as [default], [profile NAME], [sso-session NAME] or [services NAME].",
    )


def before_first_header(where: str, lineno: int, first: str) -> ConfigParseError:
    if lineno == 1 and first == "\ufeff":
        return ConfigParseError(
            f"{where} line 1: the file starts with a byte-order mark (BOM), which the AWS CLI cannot read",
            hint="Save the file as UTF-8 without BOM (in Notepad: 'UTF-8', not 'UTF-8 with BOM').",
        )
    return ConfigParseError(
        f"{where} line {lineno}: text before the first [section] header",
        hint="Every setting must come after a header such as [default] or [profile NAME]; move or delete this line.",
    )


def not_a_setting(where: str, lineno: int, sectname: str, value: str, eq: int) -> ConfigParseError:
    if eq < 0:
        return ConfigParseError(
            f"{where} line {lineno}: in [{sectname}], a line that is not a 'name = value' setting",
            hint=_HINT_SYNTAX + ".",
        )
    return ConfigParseError(
        f"{where} line {lineno}: in [{sectname}], a setting with no name before '{value[0]}'",
        hint="Write the setting as 'name = value', or delete the line.",
    )


def duplicate_key(where: str, lineno: int, sectname: str, optname: str, first_line: int) -> ConfigParseError:
    return ConfigParseError(
        f"{where} line {lineno}: duplicate key '{optname}' in [{sectname}] (first at line {first_line})",
        hint="Keep one of the two lines (names are case-insensitive: 'Region' and 'region' are the same key).",
    )


def nested_block(where: str, lines: list[str], linenos: list[int], section: str, option: str) -> ConfigParseError:
    """A nested block with a line lacking ``=``; ``linenos`` are the lines of its value (the key line first),
    ``lines`` the file's lines."""
    bad = linenos[0]
    # One line number per piece of the value (the key line, then each continuation line); the first piece is
    # empty for a nested block. A piece may hold several lines for str.splitlines.
    for lineno in linenos[1:]:
        piece = lines[lineno - 1].strip()
        if any(part.strip() and "=" not in part for part in piece.splitlines()):
            bad = lineno
            break
    return ConfigParseError(
        f"{where} line {bad}: in [{section}], the nested block '{option}' has a line that is not 'name = value'",
        hint="Lines indented under a setting with an empty value form a nested block; each must be 'name = value' "
        "(':' is not accepted there). Indent it less if it is a setting of its own.",
    )


def unreadable(where: str, error: OSError) -> FileError:
    """A file that exists but cannot be read."""
    if isinstance(error, PermissionError):
        return FileError(
            f"cannot read {where}: permission denied",
            hint=f"Check the file's owner and mode (ls -l {where}); it should be readable by you.",
        )
    return FileError(
        f"cannot read {where}: {error.strerror or error}", hint="Check that the file is a readable regular file."
    )


def not_utf8(where: str, data: bytes, start: int) -> ConfigParseError:
    """A file whose bytes from ``start`` on are not UTF-8 (nor text in the locale's encoding)."""
    before = data[:start].decode("utf-8", "replace")
    lineno = before.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    return ConfigParseError(
        f"{where} line {lineno}: bytes that are not UTF-8 text (0x{data[start]:02x})",
        hint="The AWS CLI reads these files as UTF-8; re-save the file as UTF-8 text.",
    )


def profile_not_found(name: str, names: list[str], files: tuple[str, str] | None) -> ProfileNotFoundError:
    """No profile ``name`` among ``names`` in ``files`` (config, credentials; ``None``: not named); the hint offers
    close names, the known ones, or how to create one."""
    import difflib

    from rolecall.config.paths import display_path

    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if close:
        hint = "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    elif names:
        shown = ", ".join(names[:10]) + (", ..." if len(names) > 10 else "")
        hint = f"Known profiles: {shown}."
    else:
        hint = (
            f"no profile is defined yet; create one, e.g. 'rolecall configure set role_arn ARN --profile {name}' "
            f"and 'rolecall configure set source_profile default --profile {name}'"
        )
    where = "" if files is None else f" in {display_path(files[0])} or {display_path(files[1])}"
    return ProfileNotFoundError(f"the profile '{name}' could not be found{where}", hint=hint)


def misplaced(where: str, lineno: int, first: str) -> ConfigParseError:
    """A line outside any section, or one starting with ``[`` that is no header ("[]", "[x" without ``]``; inside
    a section configparser reads such a line as a setting when it has a ``=`` or ``:``)."""
    if first == "[":
        return not_a_header(where, lineno)
    return before_first_header(where, lineno, first)
