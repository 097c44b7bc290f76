"""``rolecall doctor``'s rules: a linter over the AWS config and credentials files, pure and typed.

``lint(config, credentials, now)`` takes both files as ``SourceFile`` values (path, text, mode), parses them
with ``rolecall.config.parse`` (botocore's semantics) and with the tolerant scan of the document model
(``rolecall.config.document``: for line numbers, for the original spelling of names, and to keep going where
botocore's parser gives up), and returns ``Finding`` values (``rolecall.config.findings``). It never prints,
reads a file or looks at the clock: ``read_source`` reads a file, and the caller passes ``now``. Each rule has a
stable id (``RULES``); docs/doctor.md describes them.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime

from rolecall.config import refusals
from rolecall.config.doctorcache import expired_findings
from rolecall.config.document import parse_document
from rolecall.config.findings import ERROR, INFO, RULES, WARNING, Finding, SourceFile, read_source
from rolecall.config.graph import (
    ASSUME_ROLE,
    KEYS,
    SSO,
    TEMPORARY,
    WEB_IDENTITY,
    ProfileGraph,
    is_assume_role_hop,
    is_web_identity_role,
    text,
)
from rolecall.config.knownkeys import (
    EXPIRY_KEYS,
    FOREIGN_KEY_PREFIXES,
    KNOWN_NESTED_KEYS,
    KNOWN_OTHER_SECTIONS,
    KNOWN_PROFILE_KEYS,
    KNOWN_SSO_SESSION_KEYS,
)
from rolecall.config.owned import OWNER_KEY
from rolecall.config.parse import ConfigValue, build_profile_map, parse_raw, split_section_name
from rolecall.config.profiles import is_valid_region
from rolecall.errors import ConfigParseError
from rolecall.limits import CHAINING_CAP_SECONDS, CLOCK_SKEW_LIMIT_SECONDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

    from rolecall.config.doctorcache import CommandItem, ExpiryItem

__all__ = [
    "ERROR",
    "INFO",
    "RULES",
    "WARNING",
    "Finding",
    "SourceFile",
    "clock_skew_finding",
    "filter_for_profile",
    "lint",
    "profile_chain",
    "profile_names",
    "read_source",
]

_SECRET_KEYS = ("aws_secret_access_key", "aws_session_token", "aws_security_token")
_MFA_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?:iam::\d{12}:(?:mfa|u2f)/[\w+=,.@/-]*[\w+=,.@-]"
)
# Hardware tokens (Gemalto, SurePassID...) are identified by their serial, e.g. GAHT12345678.
_HARDWARE_SERIAL = re.compile(r"[A-Z]{2,8}\d{6,12}")
#: doctor's default --skew-limit (``limits.CLOCK_SKEW_LIMIT_SECONDS``).
SKEW_LIMIT_SECONDS = CLOCK_SKEW_LIMIT_SECONDS


# --- the tolerant line scan ----------------------------------------------------------------------------------


class _Key:
    __slots__ = ("line", "name", "nested")

    def __init__(self, name: str, line: int) -> None:
        self.name = name  # as written (not lower-cased)
        self.line = line
        self.nested: list[tuple[str, int]] = []  # (name as written, line) of a nested block's lines


class _Section:
    __slots__ = ("keys", "line", "name")

    def __init__(self, name: str, line: int) -> None:
        self.name = name
        self.line = line
        self.keys: list[_Key] = []

    def key_line(self, key: str) -> int | None:
        for item in self.keys:
            if item.name.lower() == key:
                return item.line
        return None


def _scan(text: str) -> list[_Section]:
    """Headers and key lines with their line numbers: the document model's tolerant scan (configparser's rules,
    never failing), with 1-based lines and names as written."""
    doc = parse_document(text, strict=False)
    sections: list[_Section] = []
    for sect in doc.sections:
        section = _Section(sect.header, sect.line + 1)
        for option in sect.options:
            key = _Key(option.name, option.line + 1)
            if option.empty_value:  # a nested block: its `name = value` lines
                for index in option.value_lines:
                    name, sep, _ = doc.contents[index].strip().partition("=")
                    if sep:
                        key.nested.append((name.strip(), index + 1))
            section.keys.append(key)
        sections.append(section)
    return sections


def _config_target(raw_name: str) -> tuple[str, str] | None:
    """(kind, name) a config-file section maps to in botocore (``profile``/``sso-session``/``services``)."""
    if raw_name == "default":
        return ("profile", "default")
    for kind in ("profile", "sso-session", "services"):
        if raw_name.startswith(kind):
            try:
                parts = split_section_name(raw_name)
            except ValueError:
                return None
            return (kind, parts[1]) if len(parts) == 2 else None
    return None


# --- the linter ----------------------------------------------------------------------------------------------


class _Files:
    """Both files parsed (``None`` where a file is missing or does not parse) and scanned, with lookups."""

    def __init__(self, config: SourceFile, credentials: SourceFile, findings: list[Finding]) -> None:
        self.config_src = config
        self.credentials_src = credentials
        self.config_raw = self._parse(config, findings)
        self.credentials_raw = self._parse(credentials, findings)
        self.config_scan = _scan(config.text or "")
        self.credentials_scan = _scan(credentials.text or "")
        self.config_map: dict[str, Any] = build_profile_map(self.config_raw or {})
        # The section each config profile comes from: the last one that maps to the name wins, as in botocore.
        self.config_sections: dict[tuple[str, str], _Section] = {}
        for section in self.config_scan:
            target = _config_target(section.name)
            if target is not None:
                self.config_sections[target] = section
        self.credentials_sections = {section.name: section for section in self.credentials_scan}
        merged: dict[str, dict[str, ConfigValue]] = {
            name: dict(values) for name, values in self.config_map["profiles"].items()
        }
        for name, values in (self.credentials_raw or {}).items():
            merged.setdefault(name, {}).update(values)
        self.profiles = merged
        #: Kinds, source links and chains, by botocore's rules (the resolver's own).
        self.graph = ProfileGraph(merged.get, (self.credentials_raw or {}).get, self.config_map["profiles"].get)

    @staticmethod
    def _parse(source: SourceFile, findings: list[Finding]) -> dict[str, dict[str, ConfigValue]] | None:
        if source.text is None:
            return None
        try:
            return parse_raw(source.text, source.path)
        except ConfigParseError as error:
            line = _line_of(error.message)
            findings.append(Finding(
                "RC000", None, source.path, line,
                f"{error.message.split(': ', 1)[-1]}; the AWS CLI and every SDK refuse the whole file",
                error.hint or "fix the line named above",
            ))
            return None

    def where(self, profile: str, key: str | None = None) -> tuple[str | None, int | None]:
        """File and line of ``key`` in ``profile`` (the file botocore takes it from), or of its header."""
        cred = self.credentials_sections.get(profile)
        conf = self.config_sections.get(("profile", profile))
        if key is not None:
            if cred is not None and cred.key_line(key) is not None:
                return self.credentials_src.path, cred.key_line(key)
            if conf is not None and conf.key_line(key) is not None:
                return self.config_src.path, conf.key_line(key)
        if conf is not None:
            return self.config_src.path, conf.line
        if cred is not None:
            return self.credentials_src.path, cred.line
        return None, None


def _line_of(message: str) -> int | None:
    """The line number parse.py put in an error message (``PATH line N: ...``)."""
    match = re.search(r" line (\d+):", message)
    return int(match.group(1)) if match else None


_text = text


def _set_command(key: str, value: str, profile: str) -> str:
    return f"rolecall configure set {key} {value} --profile {profile}"


def lint(config: SourceFile, credentials: SourceFile, now: datetime,
         env: Mapping[str, str] | None = None) -> list[Finding]:
    """Every finding over both files, in rule order then file order. ``now`` (tz-aware UTC) dates expiries; ``env``
    is the environment whose ``PATH`` configured commands are looked up on (None: they are not looked up)."""
    return lint_with_inputs(config, credentials, now, env)[0]


def lint_with_inputs(config: SourceFile, credentials: SourceFile, now: datetime, env: Mapping[str, str] | None = None,
                     ) -> tuple[list[Finding], list[ExpiryItem], list[CommandItem]]:  # fmt: skip
    """``lint``, and what its rules RC012 and RC022 look at besides the files (``config.doctorcache`` keeps it)."""
    from rolecall.config import resolverrules

    findings: list[Finding] = []
    files = _Files(config, credentials, findings)
    for rule in (_rule_sources, _rule_mfa_serial, _rule_chained_duration, _rule_regions, _rule_keys_in_config,
                 _rule_readable_keys, _rule_duplicates, _rule_case, _rule_unknown_keys):
        findings.extend(rule(files, now))
    expiries = _expiry_items(files)
    findings.extend(expired_findings(expiries, credentials.path, now))  # RC012
    findings.extend(_rule_not_profiles(files, now))
    # What the resolver refuses, by the resolver's own checks (config.refusals).
    commands = resolverrules.command_items(files)
    findings.extend(resolverrules.findings(files, env, commands))
    order = list(RULES)
    findings.sort(key=lambda f: (order.index(f.id), f.file or "", f.line or 0))
    return findings, expiries, commands


def _rule_sources(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC001 loops, RC002 missing source profiles (RC004, source_profile with credential_source, is the resolver's
    own check: ``config.resolverrules``).

    The chain is walked as the resolver walks it (``config.graph.ProfileGraph``, botocore's rules): a profile
    with ``role_arn`` and ``web_identity_token_file`` is a web identity profile whose ``source_profile`` botocore
    ignores, so it neither needs that source nor closes a loop through it.
    """
    reported_loops: set[frozenset[str]] = set()
    for name, profile in files.profiles.items():
        source = _text(profile, "source_profile")
        if source is None or is_web_identity_role(profile):
            continue
        if source not in files.profiles:
            file, line = files.where(name, "source_profile")
            # the did-you-mean is the resolver's own (refusals.missing_source's hint at run time)
            fix = (refusals.source_typo_fix(name, source, files.profiles)
                   or f"create [profile {source}] (keys go in the credentials file), or point source_profile at "
                   "an existing profile")
            yield Finding("RC002", name, file, line,
                          f'profile "{name}": source_profile "{source}" does not exist in either file', fix)
            continue
        loop = files.graph.resolve(name).loop
        if loop is not None and name in loop and frozenset(loop) not in reported_loops:
            reported_loops.add(frozenset(loop))
            file, line = files.where(name, "source_profile")
            yield Finding("RC001", name, file, line,
                          f'profile "{name}": source_profile chain loops: {" -> ".join(loop)}',
                          f"end the chain in a profile with keys, an SSO login or a credential_source, e.g. "
                          f"{_set_command('source_profile', 'default', loop[-2])}")


def _rule_mfa_serial(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC003: mfa_serial must be an MFA device ARN or a hardware token serial."""
    for name, profile in files.profiles.items():
        serial = _text(profile, "mfa_serial")
        shaped = serial is not None and (_MFA_ARN.fullmatch(serial) or _HARDWARE_SERIAL.fullmatch(serial))
        if serial is None or (shaped and _sendable(serial)):
            continue
        file, line = files.where(name, "mfa_serial")
        account = re.search(r"::(\d{12}):", serial)
        user = serial.rsplit("/", 1)[-1] if ":user/" in serial else "NAME"
        arn = f"arn:aws:iam::{account.group(1) if account else 'ACCOUNT_ID'}:mfa/{user}"
        yield Finding("RC003", name, file, line,
                      f'profile "{name}": mfa_serial "{serial}" is not an MFA device ARN',
                      f"{_set_command('mfa_serial', arn, name)} (the device's ARN is in the IAM console under "
                      "Security credentials, or: aws iam list-mfa-devices)")


def _sendable(serial: str) -> bool:
    """True when ``validation.check_serial_number`` (what every call goes through) takes ``serial``."""
    from rolecall.errors import InvalidInputError
    from rolecall.validation import check_serial_number

    try:
        check_serial_number(serial)
    except InvalidInputError:
        return False
    return True


#: Why a source's credentials are temporary, by the kind the graph resolves it as (keys: with a session token).
_TEMPORARY_SOURCES = {
    ASSUME_ROLE: "a role",
    WEB_IDENTITY: "a web identity role",
    SSO: "an IAM Identity Center (SSO) role",
    KEYS: "temporary keys (a session token)",
}


def _is_temporary_source(files: _Files, source: str, referrer: str) -> str | None:
    """Why the credentials of profile ``source`` are temporary (so a role ``referrer`` assumes with them is
    chained), or None: the profile graph's answer (``ProfileGraph.temporary``), the resolver's order for a source
    profile."""
    if files.graph.temporary(source, referrer) != TEMPORARY:
        return None
    return _TEMPORARY_SOURCES.get(files.graph.source_kind(source, referrer))


def _rule_chained_duration(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC005: AWS refuses DurationSeconds above 3600 when the caller's credentials are themselves temporary."""
    for name, profile in files.profiles.items():
        duration = _text(profile, "duration_seconds")
        if not is_assume_role_hop(profile) or duration is None or not duration.strip().isdigit():
            continue
        if int(duration) <= CHAINING_CAP_SECONDS:
            continue
        source = _text(profile, "source_profile")
        why = None
        if source is not None and source != name:
            kind = _is_temporary_source(files, source, name)
            if kind is not None:
                why = f'its source "{source}" is {kind}'
        if why is None and _text(profile, "mfa_serial") and _text(profile, "mfa_strategy") == "reuse":
            why = "mfa_strategy = reuse assumes it with an MFA session (GetSessionToken)"
        if why is None:
            continue
        file, line = files.where(name, "duration_seconds")
        yield Finding("RC005", name, file, line,
                      f'profile "{name}": duration_seconds = {duration} but {why}, and AWS caps chained role '
                      f"sessions at {CHAINING_CAP_SECONDS}",
                      _set_command("duration_seconds", str(CHAINING_CAP_SECONDS), name))


def _rule_regions(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC006: region (and sso_region) must be a name botocore accepts."""
    items: list[tuple[str | None, str, Mapping[str, ConfigValue], str | None, int | None]] = []
    for name, profile in files.profiles.items():
        for key in ("region", "sso_region"):
            file, line = files.where(name, key)
            items.append((name, key, profile, file, line))
    for (kind, session), section in files.config_sections.items():
        if kind == "sso-session":
            values = files.config_map["sso_sessions"].get(session, {})
            items.append((None, "sso_region", values, files.config_src.path, section.key_line("sso_region")))
    for owner, key, values, file, line in items:
        region = _text(values, key)
        if region is None or is_valid_region(region):
            continue
        guess = region.strip().lower().replace("_", "-").replace(" ", "-")
        suggestion = guess if is_valid_region(guess) else "us-east-1"
        who = f'profile "{owner}"' if owner is not None else "an sso-session"
        fix = (_set_command(key, suggestion, owner) if owner is not None
               else f"edit line {line} of the config file: {key} = {suggestion}")
        yield Finding("RC006", owner, file, line, f'{who}: {key} "{region}" is not a valid region name', fix)


def _rule_keys_in_config(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC007: long-term keys belong in the credentials file (0600, what `aws configure` writes)."""
    for name, values in files.config_map["profiles"].items():
        keys = [k for k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token") if k in values]
        if not keys:
            continue
        section = files.config_sections.get(("profile", name))
        lines = [section.key_line(k) for k in keys] if section else []
        shown = ", ".join(str(n) for n in lines if n)
        yield Finding("RC007", name, files.config_src.path, lines[0] if lines else None,
                      f'profile "{name}": {", ".join(keys)} in the config file (line {shown})',
                      f"move them to the credentials file: rolecall configure set aws_access_key_id ... --profile "
                      f"{name} (and the secret), then delete those lines from {files.config_src.path}")


def _rule_readable_keys(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC008: a file holding secrets must be readable by its owner only."""
    for source, raw in ((files.credentials_src, files.credentials_raw), (files.config_src, files.config_raw)):
        if source.mode is None or not source.mode & 0o077:
            continue
        if raw is None:
            holds = any(k in (source.text or "") for k in _SECRET_KEYS)
        else:
            holds = any(key in section for section in raw.values() for key in _SECRET_KEYS)
        if holds:
            yield Finding("RC008", None, source.path, None,
                          f"{source.path} holds secret keys and its mode is {source.mode:04o}: other users can read "
                          "them",
                          f"chmod 600 {source.path}")


def _rule_duplicates(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC009: sections that map to one profile (``[profile a]`` and ``[profile  a ]``, ``[default]`` and
    ``[profile default]``): botocore keeps the later one whole and drops the earlier's keys without a word."""
    seen: dict[tuple[str, str], _Section] = {}
    for section in files.config_scan:
        target = _config_target(section.name)
        if target is None:
            continue
        first = seen.get(target)
        seen[target] = section
        if first is None or first.name == section.name:
            continue  # the very same header twice is a parse error (RC000)
        lost = sorted({k.name.lower() for k in first.keys} - {k.name.lower() for k in section.keys})
        kind, name = target
        dropped = f" ({', '.join(lost)} are lost)" if lost else ""
        yield Finding("RC009", name if kind == "profile" else None, files.config_src.path, first.line,
                      f"[{first.name}] (line {first.line}) and [{section.name}] (line {section.line}) are both "
                      f'{kind} "{name}": botocore uses only the later one{dropped}',
                      f"merge the two into one [{section.name}] section and delete the other")


def _rule_case(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC010: names botocore compares case-sensitively — section keywords and nested-block keys.

    (Plain keys are not among them: configparser lower-cases ``Region`` to ``region``, so botocore does see it.)
    """
    for section in files.config_scan:
        name = section.name
        lowered = name.lower()
        wanted = None
        if lowered == "default" and name != "default":
            wanted = "default"
        else:
            for kind in ("profile", "sso-session", "services"):
                if lowered.startswith(kind) and not name.startswith(kind):
                    wanted = kind + name[len(kind):]
        if wanted is not None and _config_target(wanted) is not None:
            target = _config_target(wanted)
            assert target is not None
            yield Finding("RC010", target[1] if target[0] == "profile" else None, files.config_src.path,
                          section.line,
                          f"[{name}] is not read by botocore (section keywords are case-sensitive)",
                          f"rename the header to [{wanted}]")
    for source, scan in ((files.config_src, files.config_scan), (files.credentials_src, files.credentials_scan)):
        for section in scan:
            profile = _profile_of(files, source, section)
            for key in section.keys:
                for nested, line in key.nested:
                    if nested != nested.lower() and nested.lower() in KNOWN_NESTED_KEYS:
                        where = f'profile "{profile}"' if profile else f"[{section.name}]"
                        yield Finding("RC010", profile, source.path, line,
                                      f"{where}: {key.name.lower()} block key {nested!r} is ignored (nested keys are "
                                      "case-sensitive)",
                                      f"write it as {nested.lower()} = ... on line {line}")


def _profile_of(files: _Files, source: SourceFile, section: _Section) -> str | None:
    if source is files.credentials_src:
        return section.name
    target = _config_target(section.name)
    return target[1] if target is not None and target[0] == "profile" else None


def _rule_unknown_keys(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC011: keys nobody reads, with the closest known key (a typo is silently ignored by botocore)."""
    known = sorted(KNOWN_PROFILE_KEYS)
    for source, scan in ((files.config_src, files.config_scan), (files.credentials_src, files.credentials_scan)):
        for section in scan:
            if source is files.config_src:
                target = _config_target(section.name)
                if target is None or target[0] == "services":
                    continue
                accepted = KNOWN_PROFILE_KEYS if target[0] == "profile" else KNOWN_SSO_SESSION_KEYS
                label = f'profile "{target[1]}"' if target[0] == "profile" else f'sso-session "{target[1]}"'
                profile = target[1] if target[0] == "profile" else None
            else:
                accepted, label, profile = KNOWN_PROFILE_KEYS, f'profile "{section.name}"', section.name
            for key in section.keys:
                name = key.name.lower()
                if name in accepted or name.startswith(FOREIGN_KEY_PREFIXES):
                    continue
                close = difflib.get_close_matches(name, known if accepted is KNOWN_PROFILE_KEYS else
                                                  sorted(accepted), n=1, cutoff=0.75)
                if close:
                    yield Finding("RC011", profile, source.path, key.line,
                                  f"{label}: unknown key {key.name!r}, ignored by the AWS CLI and SDKs",
                                  f"did you mean {close[0]!r}? rename it on line {key.line}")
                else:
                    yield Finding("RC011", profile, source.path, key.line,
                                  f"{label}: unknown key {key.name!r} (no AWS tool known to rolecall reads it)",
                                  f"delete line {key.line} unless another tool of yours uses it", severity=INFO)


def _expiry_items(files: _Files) -> list[ExpiryItem]:
    """RC012's input: each saved session (session token plus expiry keys) of the credentials file."""
    items: list[ExpiryItem] = []
    for name, values in (files.credentials_raw or {}).items():
        if _text(values, "aws_session_token") is None and _text(values, "aws_security_token") is None:
            continue
        section = files.credentials_sections.get(name)
        expiries = tuple((key, text, section.key_line(key) if section else None) for key in EXPIRY_KEYS
                         if (text := _text(values, key)) is not None)  # fmt: skip
        if expiries:
            items.append((name, _text(values, OWNER_KEY), expiries))
    return items


def _rule_not_profiles(files: _Files, now: datetime) -> Iterable[Finding]:
    """RC014: sections botocore reads as something else than the profile they look like."""
    profile_names = {name for (kind, name) in files.config_sections if kind == "profile"}
    for section in files.config_scan:
        name = section.name
        if _config_target(name) is not None or name in KNOWN_OTHER_SECTIONS or name == "DEFAULT":
            continue
        lowered = name.lower()
        keywords = ("profile", "sso-session", "services")
        if lowered == "default" or (lowered.startswith(keywords) and not name.startswith(keywords)):
            continue  # a case problem: RC010 says it
        if name.startswith(("profile", "sso-session", "services")):
            words = name.split()
            msg = f"[{name}] is dropped by botocore (a header must be [KIND NAME], one name; quote names with spaces)"
            fix = f'rename it to [{words[0]} "{" ".join(words[1:])}"]' if len(words) > 2 else "fix the header"
            if len(words) == 1:
                for kind in ("profile", "sso-session", "services"):
                    if name.startswith(kind) and len(name) > len(kind):
                        fix = f"rename it to [{kind} {name[len(kind):]}]"
        else:
            also = f" ([profile {name}] at line {files.config_sections[('profile', name)].line} is)" if (
                name in profile_names) else ""
            msg = f"[{name}] in the config file is not a profile{also}: botocore ignores its settings"
            fix = (f"merge it into [profile {name}] and delete it" if also else f"rename it to [profile {name}]")
        yield Finding("RC014", None, files.config_src.path, section.line, msg, fix)
    for section in files.credentials_scan:
        if section.name.startswith("profile "):
            real = section.name[len("profile "):].strip()
            yield Finding("RC014", section.name, files.credentials_src.path, section.line,
                          f'[{section.name}] in the credentials file is a profile literally named "{section.name}" '
                          "(the credentials file takes no 'profile ' prefix)",
                          f"rename it to [{real}]")


def clock_skew_finding(local_before: datetime, server: datetime, local_after: datetime,
                       limit_seconds: float = SKEW_LIMIT_SECONDS) -> Finding | None:
    """RC013 when the STS ``server`` time (from its Date header, 1 s resolution) is more than ``limit_seconds``
    from this computer's clock, taken as the middle of the request."""
    local = local_before + (local_after - local_before) / 2
    skew = (local - server).total_seconds()
    # The Date header is truncated to the second and the request took time: allow for both.
    slack = 1 + (local_after - local_before).total_seconds() / 2
    if abs(skew) <= limit_seconds + slack:
        return None
    direction = "ahead of" if skew > 0 else "behind"
    return Finding("RC013", None, None, None,
                   f"this computer's clock is {abs(skew):.0f} s {direction} STS's",
                   "turn on time synchronisation: timedatectl set-ntp true (Linux), sntp -sS time.apple.com (macOS), "
                   "w32tm /resync (Windows)")


def filter_for_profile(findings: Iterable[Finding], chain: Iterable[str]) -> list[Finding]:
    """The findings about a profile of ``chain`` and those about whole files."""
    names = set(chain)
    return [f for f in findings if f.profile is None or f.profile in names]


def profile_chain(config: SourceFile, credentials: SourceFile, profile: str) -> list[str] | None:
    """``profile`` and the profiles its resolution uses (``config.graph.ProfileGraph.chain``: stops at a loop, a missing
    profile, a source with keys or one that is not an AssumeRole hop); ``None`` if the profile is in neither file."""
    files = _Files(config, credentials, [])
    if profile not in files.profiles:
        return None
    # The resolver's walk: a web identity profile's source_profile, or a source with keys of its own, ends it.
    return files.graph.chain(profile)


def profile_names(config: SourceFile, credentials: SourceFile) -> list[str]:
    """Every profile name of both files (botocore's merged view of what parses)."""
    return list(_Files(config, credentials, []).profiles)

