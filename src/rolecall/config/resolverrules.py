"""``doctor``'s rules for what the resolver refuses, derived from the resolver's own checks.

Every rule here asks the function the resolver asks (``rolecall.config.refusals``, ``rolecall.validation``,
``rolecall.aws.settings.resolve_settings``) and turns its refusal into a ``Finding`` with the same rule id, the
resolver's message (prefixed with the profile where the message does not name it) and its hint as the fix. The
walk follows the resolver's order (``config.graph.ProfileGraph``), so a profile the resolver refuses for one
reason is not reported for a later one it never reaches. Region names are also checked against botocore's
partitions (``rolecall.regions``: RC015).

Pure but for two things, both only when asked: ``resolve_settings`` asks botocore whether an ``endpoint_url``
is valid, and RC022 looks programs up on the ``PATH`` of the ``env`` it is given (no ``env``: not looked up).
"""

from __future__ import annotations

from rolecall.config import refusals
from rolecall.config.doctorcache import command_findings
from rolecall.config.findings import INFO, Finding
from rolecall.config.graph import EMPTY, LONG_TERM, is_assume_role_hop, is_sso, text
from rolecall.config.paths import display_path
from rolecall.config.profiles import is_valid_region
from rolecall.errors import ConfigError, InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from rolecall.config.doctorcache import CommandItem
    from rolecall.config.lint import _Files
    from rolecall.config.parse import ConfigValue
    from rolecall.config.refusals import Refusal

    Rule = Callable[[_Files, "Mapping[str, str] | None"], Iterable[Finding]]

__all__ = ["command_items", "findings"]

#: A role ARN as STS takes it: partition, IAM, a 12-digit account, ``role/`` with an optional path and the name.
_ROLE_ARN = r"arn:aws(?:-[a-z]+)*:iam::\d{12}:role/(?:[!-~]*/)?[A-Za-z0-9+=,.@_-]{1,64}"


def findings(files: _Files, env: Mapping[str, str] | None, commands: list[CommandItem] | None = None) -> list[Finding]:
    """The findings of every rule below over ``files`` (``lint``'s parsed files); ``env`` gives ``PATH``;
    ``commands``: ``command_items(files)`` when the caller has it already."""

    def rc022(files: _Files, env: Mapping[str, str] | None) -> list[Finding]:
        """RC022: a ``credential_process`` or ``mfa_process`` that cannot be run (``doctorcache.command_findings``)."""
        return command_findings(command_items(files) if commands is None else commands, env)

    rules: tuple[Rule, ...] = (_profile_values, _role_hops, _sources, _sso, rc022, _keys, _call_parameters,
                               _settings, _region_names)
    return [finding for rule in rules for finding in rule(files, env)]


def _finding(files: _Files, refusal: Refusal, profile: str | None = None, *, prefix: bool = False) -> Finding:
    """``refusal`` as a finding about ``profile`` (default: the refusal's), on the line of its key."""
    owner = profile if profile is not None else refusal.profile
    file, line = files.where(owner, refusal.key) if owner is not None else (None, None)
    message = f'profile "{owner}": {refusal.message}' if prefix and owner is not None else refusal.message
    return Finding(refusal.rule, owner, file, line, message, refusal.hint)


def _profile_values(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC023: what ``Profile`` refuses to read (an unknown ``mfa_strategy``, a duration that is no number)."""
    for name, values in files.profiles.items():
        checks = (refusals.mfa_strategy(name, text(values, "mfa_strategy")),
                  refusals.whole_seconds(name, "duration_seconds", text(values, "duration_seconds")),
                  refusals.whole_seconds(name, "mfa_session_duration", text(values, "mfa_session_duration")))
        yield from (_finding(files, refusal) for refusal in checks if refusal is not None)


def _role_hops(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC004, RC016, RC017: an AssumeRole hop's source (both, neither, a ``credential_source`` botocore lacks);
    RC028: a web identity token without a role."""
    for name, values in files.profiles.items():
        if text(values, "web_identity_token_file") and not is_assume_role_hop(values):
            refusal = refusals.web_identity_role(name, text(values, "role_arn"))
            if refusal is not None:
                yield _finding(files, refusal)
        if not is_assume_role_hop(values):
            continue
        source, named = text(values, "source_profile"), text(values, "credential_source")
        refusal = refusals.role_source(name, source, named)
        if refusal is None and named is not None:
            refusal = refusals.credential_source(name, named)
        if refusal is not None:
            yield _finding(files, refusal)


def _sources(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC025: a source profile without credentials; RC026: ``mfa_strategy = reuse`` without long-term keys in the
    source; RC030: a chain too long to resolve. (RC001 and RC002, loops and missing sources, are lint's.)"""
    graph = files.graph
    for name, values in files.profiles.items():
        source = text(values, "source_profile")
        if not is_assume_role_hop(values) or refusals.role_source(name, source, text(values, "credential_source")):
            continue  # no hop, or one _role_hops reports
        resolution = graph.resolve(name)
        too_long = refusals.chain_too_long(name, len(resolution.profiles))
        if too_long is not None:
            yield _finding(files, too_long)
            continue
        if resolution.missing is not None or resolution.loop is not None:
            continue  # lint's RC002 and RC001
        if source is not None and graph.source_kind(source, name) == EMPTY:
            yield _finding(files, refusals.source_without_credentials(source, name))
            continue
        if text(values, "mfa_serial") and text(values, "mfa_strategy") == "reuse":
            refusal = refusals.reuse_source(name, graph.role_source_temporary(name) == LONG_TERM)
            if refusal is not None:
                yield _finding(files, refusal)


def _sso(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC019-RC021: what ``sso.settings`` refuses: an incomplete SSO profile, a missing or incomplete
    ``[sso-session]``, a profile that disagrees with its session."""
    sessions: dict[str, Any] = files.config_map.get("sso_sessions") or {}
    for session, values in sessions.items():
        missing = [key for key in ("sso_start_url", "sso_region") if _stripped(values, key) is None]
        refusal = refusals.sso_session_incomplete(session, missing)
        if refusal is not None:
            section = files.config_sections.get(("sso-session", session))
            yield Finding(refusal.rule, None, files.config_src.path, section.line if section else None,
                          refusal.message, refusal.hint)
    for name, values in files.profiles.items():
        if is_sso(values):
            missing = [key for key in ("sso_account_id", "sso_role_name") if _stripped(values, key) is None]
            refusal = refusals.sso_profile_incomplete(name, missing, role=True)
            if refusal is not None:
                yield _finding(files, refusal)
        yield from _sso_login(files, name, values, sessions)


def _sso_login(files: _Files, name: str, values: Mapping[str, ConfigValue],
               sessions: Mapping[str, Any]) -> Iterable[Finding]:
    """The login of one profile: its ``sso_session``'s (there, and agreeing), or its own legacy keys."""
    session = _stripped(values, "sso_session")
    if session is not None:
        section = sessions.get(session)
        if not isinstance(section, dict):
            yield _finding(files, refusals.sso_session_missing(session, list(sessions)), name, prefix=True)
            return
        for key in ("sso_start_url", "sso_region"):
            theirs = _stripped(section, key)
            refusal = refusals.sso_inconsistent(name, session, key, _stripped(values, key), theirs) if theirs else None
            if refusal is not None:
                yield _finding(files, refusal, prefix=True)
        return
    if not is_sso(values) and _stripped(values, "sso_start_url") is None:
        return  # no SSO login here at all
    missing = [key for key in ("sso_start_url", "sso_region") if _stripped(values, key) is None]
    refusal = refusals.sso_profile_incomplete(name, missing, role=False)
    if refusal is not None:
        yield _finding(files, refusal)


def _stripped(values: Mapping[str, ConfigValue], key: str) -> str | None:
    value = values.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def command_items(files: _Files) -> list[CommandItem]:
    """RC022's input: each ``credential_process`` or ``mfa_process`` (with an ``mfa_serial``), split and looked up as
    ``command.run_configured`` runs it: where its profile is, the refusal of its command line, its program."""
    items: list[CommandItem] = []
    for name, values in files.profiles.items():
        serial = text(values, "mfa_serial")
        for key, what in (("credential_process", f'profile "{name}": credential_process'),
                          ("mfa_process", f"the mfa_process command for {serial}")):
            command = values.get(key)
            if not isinstance(command, str) or (key == "mfa_process" and serial is None):
                continue
            argv, refusal = refusals.command_line(command, what)
            file, line = files.where(name, refusal.key if refusal is not None else None)
            refused = (refusal.rule, refusal.message, refusal.hint) if refusal is not None else None
            items.append((name, what, file, line, key == "mfa_process", refused, argv[0] if argv else ""))
    return items


def _keys(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC027: an empty access key, or one without its secret, in either file (``providers.static``)."""
    credentials = display_path(files.credentials_src.path)
    for name, section in (files.credentials_raw or {}).items():
        refusal = refusals.keys(section, f"the credentials file [{name}] ({credentials})", name)
        if refusal is not None:
            found_section = files.credentials_sections.get(name)
            file = files.credentials_src.path
            line = found_section.key_line("aws_access_key_id") if found_section else None
            yield Finding(refusal.rule, name, file, line, refusal.message, refusal.hint)
    config = display_path(files.config_src.path)
    for name, section in (files.config_map.get("profiles") or {}).items():
        header = "default" if name == "default" else f"profile {name}"
        refusal = refusals.keys(section, f"the config file [{header}] ({config})", name)
        if refusal is not None:
            found = files.config_sections.get(("profile", name))
            line = found.key_line("aws_access_key_id") if found else None
            yield Finding(refusal.rule, name, files.config_src.path, line, refusal.message, refusal.hint)


def _call_parameters(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC018: a ``role_arn`` that is not a role ARN; RC024: a session name, external id or duration STS refuses.
    Checked by ``rolecall.validation``, the checks every call is made through; a ``role_arn`` those let through is
    also held to the shape of a role ARN (12-digit account, ``role/``), which STS enforces."""
    import re

    from rolecall import validation
    from rolecall.limits import ROLE_DURATION_MAX, SESSION_TOKEN_DURATION_MAX

    role_arn = re.compile(_ROLE_ARN, re.ASCII)
    checks: tuple[tuple[str, str, Callable[[str], object]], ...] = (
        ("RC018", "role_arn", validation.check_role_arn),
        ("RC024", "role_session_name", validation.check_role_session_name),
        ("RC024", "external_id", validation.check_external_id),
        ("RC024", "duration_seconds", lambda value: validation.check_duration(int(value), ROLE_DURATION_MAX)),
        ("RC024", "mfa_session_duration",
         lambda value: validation.check_duration(int(value), SESSION_TOKEN_DURATION_MAX)),
    )
    for name, values in files.profiles.items():
        for rule, key, check in checks:
            value = text(values, key)
            if value is None:
                continue
            try:
                check(value)
            except InvalidInputError as error:
                file, line = files.where(name, key)
                yield Finding(rule, name, file, line, f'profile "{name}": {key}: {error.message}', error.hint or "")
            except ValueError:
                continue  # not a whole number: RC023 says so
            else:
                if key == "role_arn" and not role_arn.fullmatch(value):
                    file, line = files.where(name, key)
                    yield Finding("RC018", name, file, line,
                                  f'profile "{name}": role_arn "{value}" is not a role ARN (STS refuses it)',
                                  "a role ARN is arn:aws:iam::ACCOUNT:role/NAME with a 12-digit ACCOUNT; the IAM "
                                  "console shows it on the role's page")


def _settings(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC029: a setting ``aws.settings.resolve_settings`` refuses for calls made as the profile (its services
    section, ``sts_regional_endpoints``, retries, ``cli_timestamp_format``, ``endpoint_url``), worked out with
    no environment. The region is RC006's."""
    from rolecall.aws.settings import resolve_settings

    for name, values in files.profiles.items():
        try:
            resolve_settings({}, {k: v for k, v in values.items() if k != "region"}, files.config_map)
        except ConfigError as error:
            file, line = files.where(name)
            yield Finding("RC029", name, file, line, f'profile "{name}": {error.message}', error.hint or "")


def _region_names(files: _Files, env: Mapping[str, str] | None) -> Iterable[Finding]:
    """RC015: a valid region name no partition of the installed botocore has: an availability zone, a typo (with
    the did-you-mean), or a name that is no AWS region (a note only for one that looks like a region opened since
    botocore was released). Profiles with their own endpoint (``endpoint_url``, ``services``) may use any name."""
    from rolecall import regions

    items: list[tuple[str | None, str, str, str, str | None, int | None]] = []
    for name, values in files.profiles.items():
        custom = text(values, "endpoint_url") is not None or text(values, "services") is not None
        for key in ("region", "sso_region"):
            value = text(values, key)
            if value is not None and not (custom and key == "region"):
                items.append((name, f'profile "{name}"', key, value, *files.where(name, key)))
    for (kind, session), section in files.config_sections.items():
        value = _stripped(files.config_map["sso_sessions"].get(session, {}), "sso_region") if kind == "sso-session" \
            else None
        if value is not None:
            items.append((None, f'sso-session "{session}"', "sso_region", value, files.config_src.path,
                          section.key_line("sso_region")))
    for owner, who, key, value, file, line in items:
        advice = regions.advise(value) if is_valid_region(value) else None
        if advice is None:
            continue
        if advice.suggestion is None:
            fix = ("set it to the region meant (aws ec2 describe-regions lists them)" if advice.is_problem
                   else "nothing, if AWS opened this region after your botocore was released (pip install -U botocore)")
        elif owner is not None:
            fix = f"rolecall configure set {key} {advice.suggestion} --profile {owner}"
        else:
            fix = f"edit line {line} of the config file: {key} = {advice.suggestion}"
        yield Finding("RC015", owner, file, line, f"{who}: {key}: {advice.message}", fix,
                      severity=None if advice.is_problem else INFO)
