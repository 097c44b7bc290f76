"""Format-preserving, atomic, locked edits of the AWS config and credentials files.

The editor changes only the lines it must: comments, blank lines, order, indentation, CRLF line endings
and a last line without a newline stay byte for byte. A rewritten line keeps its own layout (indentation,
``=`` or ``:``, spacing). New keys go after the last key of their section, new sections at the end of the
file in the AWS CLI's layout (``[header]`` then ``key = value`` lines, no blank line in between).

The structure of a file (which line is a header, an option, a continuation line) comes from the document model
(``rolecall.config.document``: configparser's rules, the ones botocore reads with), so the editor and botocore
always agree on what a line is; which section is a profile follows botocore's ``build_profile_map`` (``shlex`` on the
header, the last section wins). Where the AWS CLI's writer gets this wrong (docs/configure.md, "Deliberate
differences"), rolecall does what botocore will read back.

Every file-level operation reads, edits and writes through ``document.write_checked`` (under
``fileio.exclusive_lock``, replacing the file with ``fileio.atomic_write``); it refuses to touch a file it
cannot parse, and checks before writing that the new text parses and reads back as intended.

This module is off the fast path: it may import ``shlex`` and ``dataclasses``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from rolecall.config.document import (
    Document,
    Edit,
    Option,
    Section,
    decode_config,
    has_line_break,
    indent_of,
    parse_document,
    sub_entry,
    write_checked,
)
from rolecall.config.parse import split_section_name
from rolecall.errors import ConfigError, ConfigParseError, InvalidInputError
from rolecall.reporting import Reporter, ignore

__all__ = [
    "CREDENTIAL_KEYS",
    "PREDEFINED_SECTIONS",
    "Change",
    "SectionRef",
    "SetTarget",
    "apply_changes",
    "decode_config",
    "delete_key",
    "remove_section",
    "remove_section_text",
    "resolve_set",
    "set_value",
    "update_section",
]

#: The keys ``aws configure set`` writes to the credentials file (under the bare profile name).
CREDENTIAL_KEYS = frozenset({"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"})

#: Top-level sections that dotted names address directly (``plugins.x``), as in the AWS CLI v1.
PREDEFINED_SECTIONS = ("preview", "plugins")

#: What to do with one key: a string sets a scalar, ``None`` deletes the key, a mapping sets (or, for ``None``
#: values, deletes) sub-keys of a nested block such as ``s3 =`` / ``    max_concurrency = 10``.
Change = str | None | Mapping[str, str | None]


# --------------------------------------------------------------------------------------------------------------
# Which section is meant


@dataclass(frozen=True)
class SectionRef:
    """A section addressed by meaning, not by its exact header text.

    ``kind`` is ``"raw"`` (the header text verbatim: credentials-file profiles, ``[plugins]``),
    ``"profile"`` (a config-file profile: ``[default]``, ``[profile NAME]``, ``[profile "NAME"]`` ... as botocore
    maps them), ``"sso-session"`` or ``"services"``.
    """

    kind: str
    name: str

    @classmethod
    def profile(cls, name: str) -> SectionRef:
        """The config-file section of profile ``name``."""
        return cls("profile", name)

    @classmethod
    def raw(cls, name: str) -> SectionRef:
        """The section whose header is exactly ``[name]`` (credentials file, ``plugins``, ``preview``)."""
        return cls("raw", name)

    def matches(self, header: str) -> bool:
        """True when botocore would read the section ``[header]`` as this one."""
        if self.kind == "raw":
            return header == self.name
        if self.kind == "profile" and self.name == "default" and header == "default":
            return True
        if not header.startswith(self.kind):
            return False
        try:
            parts = split_section_name(header)  # shlex.split's rules, without shlex's cost on big files
        except ValueError:  # unbalanced quote: botocore drops the section
            return False
        return len(parts) == 2 and parts[0] == self.kind and parts[1] == self.name

    def header(self) -> str:
        """The header text (between the brackets) for a new section, in the AWS CLI's style.

        ``default`` stays ``[default]``; other names get ``profile NAME``, quoted with ``shlex.quote`` when
        the name would not read back verbatim (spaces, quotes, backslashes), as the AWS CLI v2 quotes.
        """
        if self.kind == "raw":
            return self.name
        if self.kind == "profile" and self.name == "default":
            return "default"
        plain = f"{self.kind} {self.name}"
        if _split_ok(plain, self.kind, self.name):
            return plain
        return f"{self.kind} {shlex.quote(self.name)}"

    def describe(self) -> str:
        """How a person would name it in a message."""
        return f"[{self.header()}]"


def _split_ok(header: str, kind: str, name: str) -> bool:
    try:
        return split_section_name(header) == [kind, name]
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------------------------
# Validation of what is written

def _check_no_break(text: str, what: str) -> None:
    if has_line_break(text):
        raise InvalidInputError(
            f"invalid {what}: newline characters and carriage returns are not allowed",
            hint="a value in these files is one line; pass it without line breaks",
        )


def _check_key(key: str, what: str = "key") -> None:
    _check_no_break(key, what)
    if not key or key != key.strip():
        raise InvalidInputError(
            f"invalid {what} {key!r}: it is empty or starts or ends with a space",
            hint="use a name such as region or s3.max_concurrency",
        )
    if "=" in key or ":" in key or key.startswith(("#", ";", "[")):
        raise InvalidInputError(
            f"invalid {what} {key!r}: it may not contain '=' or ':' nor start with '#', ';' or '['",
            hint="the AWS files could not read such a key back; use a name such as region",
        )


def _check_subkey(key: str) -> None:
    _check_no_break(key, "sub-key")
    if not key or key != key.strip() or "=" in key or key.startswith(("#", ";")):
        raise InvalidInputError(
            f"invalid sub-key {key!r}: it may not be empty, contain '=', start with '#' or ';', or a space",
            hint="use a name such as max_concurrency",
        )


def _check_section(section: SectionRef) -> None:
    _check_no_break(section.name, "section name")
    if not section.name:
        raise InvalidInputError("invalid profile name: it is empty", hint="pass a name such as dev")
    if section.kind == "raw" and section.name == "DEFAULT":
        raise InvalidInputError(
            "invalid profile name 'DEFAULT': in these files [DEFAULT] is not a profile, its keys go to every profile",
            hint="pick another profile name (names are case-sensitive: 'default' is the default profile)",
        )
    if section.kind != "raw" and section.name != section.name.strip():
        raise InvalidInputError(
            f"invalid profile name {section.name!r}: it starts or ends with a space",
            hint="botocore strips such names; remove the spaces",
        )


def _check_value(value: str) -> str:
    _check_no_break(value, "value")
    # botocore strips surrounding whitespace when it reads; writing it stripped keeps the line tidy.
    return value.strip()


# --------------------------------------------------------------------------------------------------------------
# Pure text edits


def _find_section(doc: Document, section: SectionRef) -> Section | None:
    """The section botocore reads for ``section``: the LAST matching one (botocore keeps the last)."""
    found = None
    for candidate in doc.sections:
        if section.matches(candidate.header):
            found = candidate
    return found


def _apply_one(edit: Edit, sect: Section, key: str, change: Change, new_lines: list[str]) -> None:
    """Apply one key's change inside an existing section; lines for new keys are collected in ``new_lines``."""
    option = sect.option(key)  # configparser lower-cases keys: Region and region are the same key
    if option is None:
        new_lines.extend(_render_new(key, change))
    elif change is None:
        edit.drop_option(option)
    elif isinstance(change, str):
        edit.set_value(option, change)  # a scalar over a multi-line value or nested block replaces it all
    elif option.is_block:
        _update_block(edit, option, change)
    else:
        # A scalar (or an empty `key =`) becomes a block: the old scalar goes, as the person asked for sub-keys.
        sets = {k: v for k, v in change.items() if v is not None}
        if sets:
            edit.set_value(option, "")
            indent = edit.indent(option) + "    "
            edit.insert_after(option.end, [f"{indent}{k} = {v}" if v else f"{indent}{k} =" for k, v in sets.items()])


def _update_block(edit: Edit, option: Option, change: Mapping[str, str | None]) -> None:
    """Update an existing nested block: sub-lines in place (the last one botocore keeps), new ones after its end."""
    contents = edit.doc.contents
    last_for: dict[str, int] = {}
    for index in option.value_lines:
        entry = sub_entry(contents[index])
        if entry is not None:
            last_for[entry[0]] = index
    for sub in [k for k, v in change.items() if v is None]:
        for index in option.value_lines:
            entry = sub_entry(contents[index])
            if entry is not None and entry[0] == sub:
                edit.replace[index] = None
    template = contents[option.value_lines[-1]]
    entry = sub_entry(template)
    indent_width = len(template) - len(template.lstrip())
    indent = template[:indent_width]
    separator = " = "
    if entry is not None:
        equals = template.find("=")
        before = template[indent_width:equals]
        separator = before[len(before.rstrip()) :] + "=" + template[equals + 1 : entry[1]]
    added: list[str] = []
    for sub, value in change.items():
        if value is None:
            continue
        if sub in last_for:
            edit.set_sub_value(last_for[sub], value)
        else:
            line = f"{indent}{sub}{separator}{value}"
            added.append(line if value else line.rstrip(" \t"))
    if added:
        edit.insert_after(option.end, added)


def _render_new(key: str, change: Change) -> list[str]:
    if change is None:
        return []
    if isinstance(change, str):
        return [f"{key} = {change}" if change else f"{key} ="]
    sets = {k: v for k, v in change.items() if v is not None}
    if not sets:
        return []
    return [f"{key} ="] + [f"    {k} = {v}" if v else f"    {k} =" for k, v in sets.items()]


def _normalise(changes: Mapping[str, Change]) -> dict[str, Change]:
    """Validate every key and value; values are stripped (botocore strips them when reading)."""
    clean: dict[str, Change] = {}
    lowered: set[str] = set()
    for key, change in changes.items():
        _check_key(key)
        if key.lower() in lowered:
            raise InvalidInputError(f"key {key!r} given twice", hint="keys are case-insensitive; give each once")
        lowered.add(key.lower())
        if change is None:
            clean[key] = None
        elif isinstance(change, str):
            clean[key] = _check_value(change)
        else:
            nested: dict[str, str | None] = {}
            for sub, value in change.items():
                _check_subkey(sub)
                nested[sub] = None if value is None else _check_value(value)
            clean[key] = nested
    return clean


def apply_changes(text: str, section: SectionRef, changes: Mapping[str, Change], path: str = "<text>") -> str:
    """Return ``text`` with ``changes`` applied to ``section`` (created at the end when missing).

    Pure: no file is touched. Raises ``ConfigParseError`` when ``text`` cannot be parsed and
    ``InvalidInputError`` for a key, value or section name that could not be read back (line breaks,
    ``=`` in a key...).
    """
    _check_section(section)
    clean = _normalise(changes)
    doc = parse_document(text, path)
    editor = Edit(doc)
    sect = _find_section(doc, section)
    if sect is None:
        body: list[str] = []
        for key, change in clean.items():
            body.extend(_render_new(key, change))
        if not body:
            return text  # only deletions in a section that does not exist: nothing to do
        editor.append = [f"[{section.header()}]", *body]
        return editor.result()
    new_lines: list[str] = []
    for key, change in clean.items():
        _apply_one(editor, sect, key, change, new_lines)
    if new_lines:
        if sect.options:
            last = sect.options[-1]
            indent = editor.indent(last)
            editor.insert_after(last.end, [indent + line for line in new_lines])
        else:
            # Right after the header. The next header may be indented (configparser allows it after a header);
            # a new key must not be shallower than it, or that header would become part of the key's value.
            indent = ""
            following = sect.end + 1
            if following < len(doc.contents):
                indent = doc.contents[following][: indent_of(doc.contents[following])]
            editor.insert_after(sect.line, [indent + line for line in new_lines])
    return editor.result()


def remove_section_text(text: str, section: SectionRef, path: str = "<text>") -> str:
    """Return ``text`` without every section that botocore would read as ``section``.

    The header and the section's lines go, and the blank lines right after them; comments between the
    last key and the next header stay (they usually describe the next section).
    """
    _check_section(section)
    doc = parse_document(text, path)
    editor = Edit(doc)
    for sect in doc.sections:
        if not section.matches(sect.header):
            continue
        last = sect.options[-1].end if sect.options else sect.line
        for index in range(sect.line, last + 1):
            editor.replace[index] = None
        index = last + 1
        while index <= sect.end and not doc.contents[index].strip():
            editor.replace[index] = None
            index += 1
        following = sect.end + 1
        if following < len(doc.contents) and doc.contents[following][:1].isspace() and doc.follows_option(sect.line):
            # An indented header was safe after this section's header; after a key it would continue its value.
            editor.replace[following] = doc.contents[following].lstrip()
    return editor.result()


# --------------------------------------------------------------------------------------------------------------
# File operations


def _verify(text: str, path: str, section: SectionRef, changes: Mapping[str, Change]) -> None:
    """Check with the reader (``rolecall.config.parse``, an implementation independent of this editor) that the
    edited text parses and reads back as intended, before anything is written."""
    from rolecall.config.parse import parse_raw

    def broken() -> ConfigError:
        return ConfigError(
            f"internal error: editing {path} would not give the expected result; the file was left unchanged",
            hint="please report this with a copy of the file (secrets removed)",
        )

    try:
        raw = parse_raw(text, path)
    except ConfigParseError as error:
        raise broken() from error
    sect = _find_section(parse_document(text, path), section)
    values = raw.get(sect.header, {}) if sect is not None else {}
    for key, change in changes.items():
        got = values.get(key.lower())
        if isinstance(change, str) or change is None:
            ok = got == change
        else:
            sets = {sub: value for sub, value in change.items() if value is not None}
            if isinstance(got, dict):
                ok = all(got.get(sub) == value for sub, value in sets.items()) and all(
                    sub not in got for sub, value in change.items() if value is None
                )
            else:
                ok = not sets  # deleting the last sub-key leaves an empty `key =`
        if not ok:
            raise broken()


def update_section(
    path: str,
    section: SectionRef,
    changes: Mapping[str, Change],
    *,
    reporter: Reporter = ignore,
    check_permissions: bool = False,
    lock_timeout: float = 30.0,
) -> bool:
    """Apply ``changes`` to ``section`` of the file at ``path``; create the file (0600, folders 0700) if missing.

    Read, edit and atomic replace happen under the file's exclusive lock, so concurrent writers (other
    rolecall processes) never lose an update. With ``check_permissions`` (use it for the credentials file)
    a file readable by others is reported through ``reporter`` after writing. Returns True when the file
    changed.
    """
    from rolecall import fileio
    from rolecall.config.parse import parse_raw

    def transform(old: str, exists: bool) -> str:
        parse_raw(old, path)  # refuse to edit what cannot be read: the reader's error names file and line
        return apply_changes(old, section, changes, path)

    # A missing file is created only when there is something to put in it (write_checked writes no empty text).
    _old, new = write_checked(
        path, transform, lambda new: _verify(new, path, section, _normalise(changes)), lock_timeout=lock_timeout
    )
    changed = new is not None
    if check_permissions:
        warning = fileio.permission_warning(path)
        if warning:
            reporter(warning)
    return changed


def set_value(
    path: str,
    section: SectionRef,
    key: str,
    value: str | Mapping[str, str],
    *,
    reporter: Reporter = ignore,
    check_permissions: bool = False,
) -> None:
    """Set one key (a scalar, or sub-keys of a nested block) in ``section`` of ``path``."""
    update_section(path, section, {key: value}, reporter=reporter, check_permissions=check_permissions)


def delete_key(path: str, section: SectionRef, key: str, *, reporter: Reporter = ignore) -> bool:
    """Remove ``key`` (and its continuation lines) from ``section``; True when something was removed."""
    from rolecall import fileio

    if fileio.read_bytes(path) is None:
        return False
    return update_section(path, section, {key: None}, reporter=reporter)


def remove_section(path: str, section: SectionRef, *, lock_timeout: float = 30.0) -> bool:
    """Remove ``section`` (every header botocore maps to it) from ``path``; True when the file changed."""
    from rolecall.config.parse import parse_raw

    def transform(old: str, exists: bool) -> str | None:
        if not exists:
            return None
        parse_raw(old, path)
        return remove_section_text(old, section, path)

    def verify(new: str) -> None:
        if _find_section(parse_document(new, path), section) is not None:
            raise ConfigError(
                f"internal error: removing {section.describe()} from {path} failed; the file was left unchanged",
                hint="please report this with a copy of the file (secrets removed)",
            )

    return write_checked(path, transform, verify, lock_timeout=lock_timeout)[1] is not None


# --------------------------------------------------------------------------------------------------------------
# `configure set` routing


@dataclass(frozen=True)
class SetTarget:
    """Where ``configure set NAME VALUE`` writes: which file, which section, which key, scalar or sub-key."""

    credentials_file: bool
    section: SectionRef
    key: str
    subkey: str | None

    def change(self, value: str) -> dict[str, Change]:
        """The ``changes`` mapping for ``update_section``."""
        if self.subkey is None:
            return {self.key: value}
        return {self.key: {self.subkey: value}}


def resolve_set(varname: str, profile: str | None) -> SetTarget:
    """Route ``configure set`` as the AWS CLI does.

    ``profile`` is the selected profile (``--profile``, then AWS_PROFILE / AWS_DEFAULT_PROFILE) or None.
    ``default.KEY[.SUB]`` and ``profile.NAME.KEY[.SUB]`` name the profile; ``plugins.X`` / ``preview.X``
    address those sections; any other ``A.B`` is sub-key B of key A in the selected profile. The four
    credential keys go to the credentials file under the bare profile name, everything else to the config
    file. Raises ``InvalidInputError`` for names it cannot route (the AWS CLI either crashes or silently
    drops the extra parts of those).
    """
    _check_no_break(varname, "key")
    name = profile or "default"
    parts = varname.split(".")
    subkey: str | None = None
    if len(parts) == 1:
        key = varname
    elif parts[0] in ("default", "profile"):
        if parts[0] == "default":
            name, remaining = "default", parts[1:]
        else:
            if len(parts) < 3:
                raise InvalidInputError(
                    f"'{varname}' names no key", hint="use profile.NAME.KEY, e.g. profile.dev.region"
                )
            name, remaining = parts[1], parts[2:]
        if len(remaining) > 2 or not remaining:
            raise InvalidInputError(
                f"'{varname}' nests too deep",
                hint="only one level of nesting is supported, e.g. default.s3.addressing_style",
            )
        key = remaining[0]
        subkey = remaining[1] if len(remaining) == 2 else None
    elif parts[0] in PREDEFINED_SECTIONS:
        if len(parts) != 2:
            raise InvalidInputError(f"'{varname}' nests too deep", hint=f"use {parts[0]}.NAME")
        _check_key(parts[1])
        return SetTarget(credentials_file=False, section=SectionRef.raw(parts[0]), key=parts[1], subkey=None)
    else:
        if len(parts) > 2:
            raise InvalidInputError(
                f"'{varname}' nests too deep", hint="only one level of nesting is supported, e.g. s3.max_concurrency"
            )
        key, subkey = parts
    _check_key(key)
    if subkey is not None:
        _check_subkey(subkey)
    if subkey is None and key.lower() in CREDENTIAL_KEYS:
        if not name:
            raise InvalidInputError("invalid profile name: it is empty", hint="pass a name such as dev")
        return SetTarget(credentials_file=True, section=SectionRef.raw(name), key=key, subkey=None)
    return SetTarget(credentials_file=False, section=SectionRef.profile(name), key=key, subkey=subkey)
