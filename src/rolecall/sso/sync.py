"""The library behind ``rolecall sso sync``: one config-file profile per account and role an SSO user can reach.

Three steps, each usable alone:

* ``collect_assignments`` asks the SSO portal (through callables the caller makes: ListAccounts and
  ListAccountRoles) for every account and role, the per-account calls in a thread pool: against AWS each takes
  50-100 ms, so an organisation of 2,000 accounts would take minutes one call after the other.
* ``plan_profiles`` turns them into profiles named by a template, with names that botocore reads back verbatim.
* ``sync_config_file`` (``apply_block`` for the pure text transform) writes them into a block of the config file
  that rolecall owns, between two marker comments (``rolecall.config.owned``), one block per sso-session::

      # BEGIN rolecall sso sync (sso-session NAME): generated, edits inside are replaced
      [profile NAME]
      sso_session = ...
      ...
      # END rolecall sso sync (sso-session NAME)

Everything outside the block stays byte for byte (comments, blank lines, order, CRLF line endings, a last line
without newline), the block is rewritten whole, and the same input gives the same bytes, so a second run changes
nothing. What the file means is decided with ``rolecall.config.parse`` (botocore's rules): which profiles exist
outside the block, and whether the new text reads back as exactly the intended profiles before it is written.

This module is off the fast path: it may import ``re``, ``dataclasses`` and ``concurrent.futures``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rolecall.config.document import Lines, has_line_break, write_checked
from rolecall.config.owned import begin_marker, check_after_block, end_marker, find_blocks
from rolecall.config.parse import ConfigValue, build_profile_map, parse_raw
from rolecall.config.textdiff import unified_diff
from rolecall.errors import AwsError, ConfigError, ConfigParseError, InvalidInputError

__all__ = [
    "DEFAULT_TEMPLATE",
    "TEMPLATE_FIELDS",
    "Assignment",
    "GeneratedProfile",
    "SyncResult",
    "apply_block",
    "begin_marker",
    "collect_assignments",
    "end_marker",
    "plan_profiles",
    "safe_profile_name",
    "sync_config_file",
]

#: The profile-name template used when none is given.
DEFAULT_TEMPLATE = "{account_name}-{role_name}"

#: The fields a template may use.
TEMPLATE_FIELDS = ("account_name", "account_id", "role_name", "sso_session", "email")


# --------------------------------------------------------------------------------------------------------------
# Collecting what the user can reach


@dataclass(frozen=True, slots=True)
class Assignment:
    """One role the SSO user can take in one account."""

    account_id: str
    account_name: str
    role_name: str
    email: str | None = None


def _portal_text(item: Mapping[str, Any], key: str, call: str) -> str:
    """A field of a portal answer that must be a non-empty string; anything else is a malformed answer."""
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise AwsError(
            f"the SSO portal's {call} answer has an item without a valid '{key}'",
            hint="retry; if it persists, report it with the output of "
            f"'aws sso {'list-accounts' if call == 'ListAccounts' else 'list-account-roles'}' (tokens removed)",
        )
    return value


def _roles_of(list_account_roles: Callable[[str], Iterable[Mapping[str, Any]]], account_id: str) -> list[str]:
    """The role names of one account; runs in a worker thread, so pagination of the iterable happens there too."""
    names: list[str] = []
    seen: set[str] = set()
    for item in list_account_roles(account_id):
        name = _portal_text(item, "roleName", "ListAccountRoles")
        if name not in seen:  # a repeated item (pagination glitch) must not become a duplicate profile
            seen.add(name)
            names.append(name)
    return names


def _accounts_of(list_accounts: Callable[[], Iterable[Mapping[str, Any]]]) -> dict[str, tuple[str, str | None]]:
    """Each account id once, in the portal's order: (name, or the id when unnamed; email, or ``None``)."""
    accounts: dict[str, tuple[str, str | None]] = {}
    for item in list_accounts():
        account_id = _portal_text(item, "accountId", "ListAccounts")
        name = item.get("accountName")
        email = item.get("emailAddress")
        accounts.setdefault(
            account_id,
            (
                name if isinstance(name, str) and name else account_id,
                email if isinstance(email, str) and email else None,
            ),
        )
    return accounts


def collect_assignments(
    list_accounts: Callable[[], Iterable[Mapping[str, Any]]],
    list_account_roles: Callable[[str], Iterable[Mapping[str, Any]]],
    *,
    workers: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> list[Assignment]:
    """Every (account, role) the user can reach, sorted by (account_name, account_id, role_name).

    ``list_accounts()`` yields ListAccounts ``accountList`` items (``accountId``, ``accountName``,
    ``emailAddress``); it is called once, in the calling thread. ``list_account_roles(account_id)`` yields
    ListAccountRoles ``roleList`` items (``roleName``, ``accountId``); it is called once per account, from
    ``workers`` threads at a time, so it must be safe to call concurrently. An account listed twice is asked
    about once; an account without a name is named by its id.

    ``progress(done, total)`` is called in the calling thread: once with ``done == 0`` before the first call,
    then each time an account's roles are in.

    The first exception raised by a call (in the order the calls fail) propagates unchanged, after the calls
    not yet started are cancelled and those running have returned. ``InvalidInputError`` for ``workers < 1``;
    ``AwsError`` for a portal answer without an ``accountId`` or ``roleName``.
    """
    if workers < 1:
        raise InvalidInputError(f"invalid number of workers {workers}: it must be at least 1", hint="pass e.g. 8")
    accounts = _accounts_of(list_accounts)
    total = len(accounts)
    if progress is not None:
        progress(0, total)
    if not accounts:
        return []

    from concurrent.futures import Future, ThreadPoolExecutor, as_completed

    result: list[Assignment] = []
    executor = ThreadPoolExecutor(max_workers=min(workers, total), thread_name_prefix="rolecall-sso-sync")
    try:
        futures: dict[Future[list[str]], str] = {
            executor.submit(_roles_of, list_account_roles, account_id): account_id for account_id in accounts
        }
        for done, future in enumerate(as_completed(futures), start=1):
            roles = future.result()  # the first failure propagates; `finally` cancels what has not started
            account_id = futures[future]
            name, email = accounts[account_id]
            result.extend(Assignment(account_id, name, role, email) for role in roles)
            if progress is not None:
                progress(done, total)
    finally:
        # Waiting for the running calls (at most `workers` of them) means none is still talking to AWS when
        # this returns or raises.
        executor.shutdown(wait=True, cancel_futures=True)
    result.sort(key=lambda a: (a.account_name, a.account_id, a.role_name))
    return result


# --------------------------------------------------------------------------------------------------------------
# Naming profiles


@dataclass(frozen=True, slots=True)
class GeneratedProfile:
    """One profile to write: its name and its settings in file order (sso_session, sso_account_id,
    sso_role_name, then region when given)."""

    name: str
    values: tuple[tuple[str, str], ...]


# What a profile name keeps: letters and digits of any script, and the punctuation IAM allows in role names
# (`+=,.@-_`), so a role name is never altered. None of these is special to configparser (brackets, `#`, `;`
# at a line start, line breaks) or to shlex, which botocore splits `[profile NAME]` headers with (whitespace,
# quotes, backslashes), so the header reads back as exactly NAME.
_UNSAFE_RUN = re.compile(r"[^\w+=,.@-]+")

_FIELDS_HINT = "the template fields are " + ", ".join("{" + name + "}" for name in TEMPLATE_FIELDS)


def safe_profile_name(text: str) -> str:
    """``text`` made safe for a ``[profile NAME]`` header that botocore reads back as exactly NAME.

    The text is NFC-normalised (so an accented letter is one character, not a letter and a combining mark),
    each run of other characters than letters, digits and ``+=,.@-_`` becomes ``-``, and ``-`` is stripped
    from both ends. Case is kept. The result may be empty.
    """
    import unicodedata

    return _UNSAFE_RUN.sub("-", unicodedata.normalize("NFC", text)).strip("-")


def _check_template(template: str) -> None:
    """Refuse a template that is not a format string over ``TEMPLATE_FIELDS`` alone."""
    import string

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise InvalidInputError(
            f"invalid profile-name template {template!r}: {error}",
            hint=_FIELDS_HINT + "; write a literal brace as {{ or }}",
        ) from None
    for _literal, field, spec, _conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            shown = "{" + field + "}" if field else "{} (a positional field)"
            raise InvalidInputError(
                f"unknown field {shown} in the profile-name template {template!r}", hint=_FIELDS_HINT
            )
        if spec and ("{" in spec or "}" in spec):
            # A nested field in a format spec would let one field's value shape another's format.
            raise InvalidInputError(
                f"invalid profile-name template {template!r}: a field inside the format of {{{field}}}",
                hint=_FIELDS_HINT,
            )
    # A bad conversion or format spec (`{account_id!x}`, `{account_id:d}`) shows only when formatting.
    sample = {name: "x" for name in TEMPLATE_FIELDS}
    try:
        template.format_map(sample)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise InvalidInputError(f"invalid profile-name template {template!r}: {error}", hint=_FIELDS_HINT) from None


def _check_one_line(value: str, what: str) -> None:
    """A value written to the file must be one non-empty line without surrounding spaces (botocore strips them)."""
    if not value or value != value.strip() or has_line_break(value):
        raise InvalidInputError(
            f"invalid {what} {value!r}: it is empty, has line breaks, or starts or ends with a space",
            hint="a value in the AWS config file is one line",
        )


def _describe(assignment: Assignment) -> str:
    return f"account {assignment.account_name} ({assignment.account_id}) role {assignment.role_name}"


def _check_plan_inputs(sso_session: str, template: str, region: str | None) -> None:
    """``InvalidInputError`` for an invalid sso-session name, region or template."""
    _check_session(sso_session)
    if region is not None:
        from rolecall.config.profiles import REGION_HINT, is_valid_region

        if not is_valid_region(region):
            raise InvalidInputError(f"invalid region {region!r}", hint=REGION_HINT)
    _check_template(template)


def _profile_name(assignment: Assignment, template: str, safe: Callable[[str], str], safe_session: str) -> str:
    """The profile name ``template`` gives ``assignment``; ``InvalidInputError`` when it comes out empty."""
    _check_one_line(assignment.account_id, "account id")
    _check_one_line(assignment.role_name, "role name")
    # Each field is made safe on its own first, so that "Acme (Prod)" in "{account_name}-{role_name}" gives
    # "Acme-Prod-Admin" rather than "Acme-Prod--Admin"; the whole name again for the template's own text.
    fields = {
        "account_name": safe(assignment.account_name),
        "account_id": safe(assignment.account_id),
        "role_name": safe(assignment.role_name),
        "sso_session": safe_session,
        "email": safe(assignment.email or ""),
    }
    name = safe_profile_name(template.format_map(fields))
    if not name:
        raise InvalidInputError(
            f"the profile-name template {template!r} gives an empty name for {_describe(assignment)}",
            hint="use a template with a field that has letters or digits, e.g. " + DEFAULT_TEMPLATE,
        )
    return name


def plan_profiles(
    assignments: Sequence[Assignment],
    *,
    sso_session: str,
    template: str = DEFAULT_TEMPLATE,
    region: str | None = None,
) -> list[GeneratedProfile]:
    """One profile per assignment, in the order given, named by ``template``.

    Names are made safe with ``safe_profile_name``: each field's value first (so the ``-`` that a value's
    trailing ``)`` becomes is dropped rather than doubled next to the template's own ``-``), then the whole name.

    Template fields: ``{account_name}``, ``{account_id}``, ``{role_name}``, ``{sso_session}``, ``{email}``
    (empty when unknown); format specs such as ``{account_id:.4}`` work. Each profile sets ``sso_session``,
    ``sso_account_id``, ``sso_role_name`` and, when given, ``region``.

    Raises ``InvalidInputError`` for an unknown field or a bad format string, an invalid region or sso-session
    name, a name that comes out empty, and two assignments giving the same name (the hint says to add
    ``{account_id}`` to the template).
    """
    _check_plan_inputs(sso_session, template, region)
    safe_session = safe_profile_name(sso_session)
    made_safe: dict[str, str] = {}  # account and role names recur (3 roles x 2,000 accounts): each once

    def safe(value: str) -> str:
        found = made_safe.get(value)
        if found is None:
            found = made_safe[value] = safe_profile_name(value)
        return found

    sources: dict[str, Assignment] = {}
    profiles: list[GeneratedProfile] = []
    for assignment in assignments:
        name = _profile_name(assignment, template, safe, safe_session)
        first = sources.get(name)
        if first is not None:
            raise InvalidInputError(
                f"two roles get the profile name '{name}': {_describe(first)}, and {_describe(assignment)}",
                hint="add {account_id} to --template, e.g. --template '{account_name}-{account_id}-{role_name}'",
            )
        sources[name] = assignment
        values = [
            ("sso_session", sso_session),
            ("sso_account_id", assignment.account_id),
            ("sso_role_name", assignment.role_name),
        ]
        if region is not None:
            values.append(("region", region))
        profiles.append(GeneratedProfile(name, tuple(values)))
    return profiles


# --------------------------------------------------------------------------------------------------------------
# The block in the config file

_KEY_RE = re.compile(r"[a-z0-9_]+\Z")
# A header for the parse of the old block alone, so that lines the user put above the block's first header
# (which botocore reads as part of the section before the block) do not make that parse fail.
_PREAMBLE = "[rolecall sso sync: lines above the first header of the block]\n"


def _check_session(sso_session: str) -> None:
    if not sso_session or sso_session != sso_session.strip() or has_line_break(sso_session):
        raise InvalidInputError(
            f"invalid sso-session name {sso_session!r}: it is empty, has line breaks, or starts or ends with a space",
            hint="pass the NAME of an [sso-session NAME] section of the config file",
        )


def _check_profiles(profiles: Sequence[GeneratedProfile]) -> None:
    """Refuse profiles that the block could not hold as given (``plan_profiles`` never makes such)."""
    names: set[str] = set()
    good_values: set[str] = set()  # the same session and role names recur thousands of times: check each once
    for profile in profiles:
        if not profile.name or safe_profile_name(profile.name) != profile.name:
            raise InvalidInputError(
                f"invalid generated profile name {profile.name!r}: botocore would not read it back verbatim",
                hint="make names with plan_profiles or safe_profile_name",
            )
        if profile.name in names:
            raise InvalidInputError(
                f"the profile '{profile.name}' is given twice", hint="give each generated profile once"
            )
        names.add(profile.name)
        keys: set[str] = set()
        for key, value in profile.values:
            if not _KEY_RE.match(key) or key in keys:
                raise InvalidInputError(
                    f"invalid or repeated key {key!r} in the generated profile '{profile.name}'",
                    hint="keys are lower-case names such as sso_role_name, each once",
                )
            keys.add(key)
            if value not in good_values:
                _check_one_line(value, f"value of {key} in the generated profile '{profile.name}'")
                good_values.add(value)


def _render(sso_session: str, profiles: Sequence[GeneratedProfile], eol: str) -> str:
    """The whole block, in the AWS CLI's layout, every line ended by ``eol``."""
    lines = [begin_marker(sso_session)]
    for number, profile in enumerate(profiles):
        if number:
            lines.append("")
        lines.append(f"[profile {profile.name}]")
        lines.extend(f"{key} = {value}" for key, value in profile.values)
    lines.append(end_marker(sso_session))
    return eol.join(lines) + eol


def _profiles(text: str, path: str) -> dict[str, dict[str, ConfigValue]]:
    profiles: dict[str, dict[str, ConfigValue]] = build_profile_map(parse_raw(text, path))["profiles"]
    return profiles


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass(frozen=True)
class _Plan:
    """What ``apply_block`` works out; ``sync_config_file`` reports from it."""

    text: str
    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int


def _plan(text: str, sso_session: str, profiles: Sequence[GeneratedProfile], path: str) -> _Plan:
    _check_session(sso_session)
    _check_profiles(profiles)
    old_raw = parse_raw(text, path)  # refuse to edit what botocore cannot read: the error names file and line
    lines = Lines.of(text)
    span = find_blocks(lines.contents, path).get(sso_session)
    if span is not None:
        check_after_block(lines.contents, span[1], path)
    block = _render(sso_session, profiles, lines.newline)

    if span is None:
        outside = text
        old_block = ""
        # Nothing to write and no block to empty: leave the file alone; else the block goes at the end.
        new_text = lines.append(block) if profiles else text
    else:
        begin, end = span
        outside = lines.splice(begin, end + 1, "")
        old_block = lines.span(begin, end + 1)
        new_text = lines.splice(begin, end + 1, block)

    # Profiles outside the block (other sessions' blocks included), by botocore's rules: `[profile  x ]`,
    # `[profile "x"]` and `[default]` are the names x and default, whatever their spelling.
    outside_profiles = _profiles(outside, path) if outside != text else build_profile_map(old_raw)["profiles"]
    new_names = [profile.name for profile in profiles]
    clashes = [name for name in new_names if name in outside_profiles]
    if clashes:
        raise ConfigError(
            f"{path} already defines {len(clashes)} of the generated profiles outside the rolecall block of "
            f"sso-session {sso_session}: {_names(clashes)}; nothing was written",
            hint="rename the generated profiles with --template (e.g. --template '{sso_session}-{account_name}-"
            "{role_name}'), or rename or remove the existing ones",
        )

    old_profiles: dict[str, dict[str, ConfigValue]]
    if old_block == block:
        old_profiles = {profile.name: dict(profile.values) for profile in profiles}  # the no-op run: skip a parse
    elif span is None:
        old_profiles = {}
    else:
        body = lines.span(span[0] + 1, span[1])
        try:
            old_profiles = _profiles(_PREAMBLE + body, path)
        except ConfigParseError:
            old_profiles = {}  # hand edits that do not read alone; the block is replaced all the same
    _verify(new_text, text, old_raw, path, profiles, outside_profiles, "[DEFAULT]" in outside)
    return _compare(new_text, old_profiles, profiles)


def _compare(
    new_text: str, old_profiles: dict[str, dict[str, ConfigValue]], profiles: Sequence[GeneratedProfile]
) -> _Plan:
    """The plan's report: which generated profiles are new, changed or the same, and which old ones go."""
    added: list[str] = []
    changed: list[str] = []
    unchanged = 0
    for profile in profiles:
        old = old_profiles.get(profile.name)
        if old is None:
            added.append(profile.name)
        elif old == dict(profile.values):
            unchanged += 1
        else:
            changed.append(profile.name)
    wanted = {profile.name for profile in profiles}
    removed = [name for name in old_profiles if name not in wanted]
    return _Plan(new_text, added, removed, changed, unchanged)


def _verify(
    new_text: str,
    old_text: str,
    old_raw: dict[str, dict[str, ConfigValue]],
    path: str,
    profiles: Sequence[GeneratedProfile],
    outside_profiles: dict[str, dict[str, ConfigValue]],
    has_defaults: bool,
) -> None:
    """Check with the reader that the new text parses and holds exactly the intended profiles, before writing.

    The profiles outside the block must read as they did without it, the generated ones exactly as generated
    (plus the keys of a ``[DEFAULT]`` section, which botocore gives every section).
    """

    def broken(detail: str) -> ConfigError:
        return ConfigError(
            f"internal error: the new {path} would not read back as intended ({detail}); nothing was written",
            hint="please report this with a copy of the file (secrets removed)",
        )

    try:
        raw = old_raw if new_text == old_text else parse_raw(new_text, path)
    except ConfigParseError as error:
        raise broken(error.message) from error
    got = build_profile_map(raw)["profiles"]
    if len(got) != len(outside_profiles) + len(profiles):
        raise broken(f"{len(got)} profiles instead of {len(outside_profiles) + len(profiles)}")
    for name, values in outside_profiles.items():
        if got.get(name) != values:
            raise broken(f"the profile '{name}' outside the block changed")
    for profile in profiles:
        found = got.get(profile.name)
        expected = dict(profile.values)
        if found is None or (
            found != expected and not (has_defaults and all(found.get(key) == value for key, value in expected.items()))
        ):
            raise broken(f"the generated profile '{profile.name}' reads differently")


def apply_block(text: str, sso_session: str, profiles: Sequence[GeneratedProfile], path: str = "<text>") -> str:
    """Return ``text`` with the block of ``sso_session`` holding exactly ``profiles``, in that order.

    Pure: no file is touched. The block replaces the old one in place, or is appended at the end of the text
    (after one blank line) when there is none; with no profiles and no block the text is returned as it is, with
    no profiles and a block the block is left empty. Outside the block every byte stays; the block uses the text's
    own line terminator. ``path`` only names the file in errors.

    Raises ``ConfigParseError`` when ``text`` does not parse; ``ConfigError`` for broken or nested markers,
    a line after a block that botocore would read as part of it, or a generated name that a profile outside the
    block already has (``[default]`` and every spelling botocore maps to the same name included);
    ``InvalidInputError`` for profiles the block could not hold.
    """
    return _plan(text, sso_session, profiles, path).text


# --------------------------------------------------------------------------------------------------------------
# The file


@dataclass(frozen=True)
class SyncResult:
    """What ``sync_config_file`` did (or, in a dry run, would do).

    ``added``, ``removed`` and ``changed`` compare the old block's profiles with the new ones by name (changed:
    same name, other settings); ``unchanged`` counts the others. ``diff`` is a unified diff of the file (old
    against new), ``''`` when nothing changes. ``written`` is True when the file was replaced.
    """

    added: list[str]
    removed: list[str]
    changed: list[str]
    unchanged: int
    diff: str
    written: bool


def sync_config_file(
    path: str,
    sso_session: str,
    profiles: Sequence[GeneratedProfile],
    *,
    dry_run: bool = False,
    lock_timeout: float = 30.0,
) -> SyncResult:
    """Make the block of ``sso_session`` in the config file at ``path`` hold exactly ``profiles``.

    Read, edit and atomic replace happen under the file's exclusive lock (``fileio.exclusive_lock``), so a
    concurrent ``rolecall configure set`` is never lost. A missing file is created 0600 (folders 0700). A file
    whose bytes would not change is not rewritten (its mtime stays). With ``dry_run`` everything is worked out
    and checked, and nothing is written (no lock file either). Raises what ``apply_block`` raises, and
    ``FileError`` when the file cannot be read, locked or written.
    """
    plans: list[_Plan] = []

    def transform(old: str, exists: bool) -> str | None:
        plans.append(_plan(old, sso_session, profiles, path))  # checks and verifies: raises before any write
        return None if dry_run else plans[-1].text

    old, written = write_checked(path, transform, lambda new: None, lock_timeout=lock_timeout, locked=not dry_run)
    plan = plans[-1]
    return SyncResult(
        added=plan.added,
        removed=plan.removed,
        changed=plan.changed,
        unchanged=plan.unchanged,
        diff=unified_diff(old, plan.text, path),
        written=written is not None,
    )
