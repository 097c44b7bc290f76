"""The errors of ``rolecall.config.parse``'s scan, built here so that the reader's hot loop stays small and this
text is imported only when a file is broken. Each names the file (as a person writes it) and the line; none
echoes the line itself, which could hold a secret.
"""

from __future__ import annotations

from rolecall.errors import ConfigParseError

__all__ = [
    "before_first_header",
    "duplicate_key",
    "duplicate_section",
    "nested_block",
    "not_a_header",
    "not_a_setting",
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
