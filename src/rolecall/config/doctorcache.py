"""``rolecall doctor``'s findings of unchanged files, kept in rolecall's folder (``derived-doctor``).

Linting costs time that grows with the files (parsing them twice, every rule over every profile) and, for a
profile with an ``endpoint_url``, botocore's import. Almost every finding depends only on the two files (their
text and mode), the home folder (paths are shown under ``~``), rolecall's code and the installed botocore's data
(region names, endpoint checks): those are kept in a ``config.derivedcache.DerivedCache`` keyed by all of them.
Two rules look at more and run at every ``doctor``, from the little they need (kept with the findings):

- RC012, an expired session saved in the credentials file: its expiry against the clock (``expired_findings``);
- RC022, a ``credential_process`` or ``mfa_process`` that cannot be run: its program on today's ``PATH``
  (``command_findings``).

``lint.lint`` computes both through the same two functions, so a cached answer is the uncached one.
"""

from __future__ import annotations

from rolecall.config.findings import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime, timedelta
    from typing import Any, TypeAlias

    from rolecall.config.parsecache import CacheSettings
    from rolecall.config.paths import AwsPaths

    #: A saved session: its profile, its ``rolecall_owner`` (or None), and each expiry key's (key, text, line).
    ExpiryItem: TypeAlias = tuple[str, "str | None", tuple[tuple[str, str, "int | None"], ...]]
    #: A configured command: profile, what it is called in messages, where its profile is (file, line), whether
    #: the message is prefixed with the profile, the refusal of its command line (rule, message, hint) or None,
    #: and its program.
    CommandItem: TypeAlias = tuple[
        str, str, "str | None", "int | None", bool, "tuple[str, str, str] | None", str
    ]  # fmt: skip

__all__ = ["DYNAMIC_RULES", "command_findings", "expired_findings", "lint_paths"]

#: The rules worked out at every run (the others are cached).
DYNAMIC_RULES = ("RC012", "RC022")
#: The code the cached findings are derived with (``derivedcache.code_signature``).
_CODE = (
    "config/doctorcache.py", "config/lint.py", "config/resolverrules.py", "config/refusals.py",
    "config/findings.py", "config/knownkeys.py", "config/graph.py", "config/parse.py", "config/document.py",
    "config/profiles.py", "config/paths.py", "regions.py", "validation.py", "limits.py", "aws/settings.py",
    "aws/transport/client.py",
)  # fmt: skip


def expired_findings(items: Iterable[ExpiryItem], credentials_path: str, now: datetime) -> list[Finding]:
    """RC012 for each saved session whose first readable expiry is not after ``now``."""
    from rolecall.timefmt import parse_timestamp

    found = []
    for name, owner, expiries in items:
        for key, text, line in expiries:
            try:
                expiry = parse_timestamp(text)
            except ValueError:
                continue
            if expiry > now:
                break
            fix = (
                f"rolecall save {owner} --as {name} (or rolecall save --refresh)"
                if owner
                else f"renew it with the tool that wrote it, or delete [{name}] from {credentials_path}"
            )
            message = f'profile "{name}": the saved session expired {_ago(now - expiry)} ago ({key} = {text})'
            found.append(Finding("RC012", name, credentials_path, line, message, fix))
            break
    return found


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def command_findings(items: Iterable[CommandItem], env: Mapping[str, str] | None) -> list[Finding]:
    """RC022 for each command whose line is refused, or (with ``env``) whose program is not on its ``PATH``."""
    from rolecall.config import refusals

    found = []
    for name, what, file, line, prefix, refused, program in items:
        if refused is not None:
            rule, message, hint = refused
        elif env is not None and not refusals.program_exists(program, env):
            missing = refusals.program_not_found(what, program)
            rule, message, hint = missing.rule, missing.message, missing.hint
        else:
            continue
        found.append(Finding(rule, name, file, line, f'profile "{name}": {message}' if prefix else message, hint))
    return found


def lint_paths(
    paths: AwsPaths, now: datetime, env: Mapping[str, str], settings: CacheSettings | None = None
) -> tuple[list[Finding], bool]:
    """``lint.lint`` of the files of ``paths`` (programs looked up on ``env``'s ``PATH``) and whether neither file
    exists; from the cache while both files, the home folder, rolecall's code and botocore's data are unchanged."""
    from rolecall.config.derivedcache import DerivedCache, code_signature

    cache = DerivedCache(paths.rolecall_dir, "doctor", settings)
    home = f"HOME={env.get('HOME', '')};USERPROFILE={env.get('USERPROFILE', '')}"
    key = cache.key((paths.config_file, paths.credentials_file), f"{home};{code_signature(*_CODE)};{_botocore()}")
    stored = cache.get(key) if key is not None else None
    if _well_formed(stored):
        hit: tuple[bool, list[tuple[Any, ...]], list[ExpiryItem], list[CommandItem]] = stored  # type: ignore[assignment]
        findings = [Finding(*fields) for fields in hit[1]]
        findings += expired_findings(hit[2], paths.credentials_file, now)
        findings += command_findings(hit[3], env)
        return _sorted(findings), hit[0]
    from rolecall.config import lint

    config = lint.read_source(paths.config_file)
    credentials = lint.read_source(paths.credentials_file)
    findings, expiries, commands = lint.lint_with_inputs(config, credentials, now, env)
    no_files = config.text is None and credentials.text is None
    if key is not None:
        static = [
            (f.id, f.profile, f.file, f.line, f.message, f.fix, f.severity) for f in findings
            if f.id not in DYNAMIC_RULES
        ]  # fmt: skip
        cache.put(key, (no_files, static, expiries, commands))
    return findings, no_files


def _sorted(findings: list[Finding]) -> list[Finding]:
    """In ``lint``'s order: rule order, then file and line (stable: each rule's own order among equals)."""
    from rolecall.config.findings import RULES

    order = {rule: index for index, rule in enumerate(RULES)}
    return sorted(findings, key=lambda f: (order[f.id], f.file or "", f.line or 0))


def _well_formed(stored: object) -> bool:
    """A shallow check of what the cache gave back (a damaged or foreign value is a miss, not a crash)."""
    from rolecall.config.findings import RULES

    if type(stored) is not tuple or len(stored) != 4 or type(stored[0]) is not bool:
        return False
    static, expiries, commands = stored[1:]
    return (
        type(static) is list
        and all(type(fields) is tuple and len(fields) == 7 and fields[0] in RULES for fields in static)
        and type(expiries) is list
        and all(type(item) is tuple and len(item) == 3 for item in expiries)
        and type(commands) is list
        and all(type(item) is tuple and len(item) == 7 for item in commands)
    )


def _botocore() -> str:
    """The installed botocore's data, as a signature (its region table and endpoint checks come from it)."""
    import os
    from importlib.util import find_spec

    try:
        spec = find_spec("botocore")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return "botocore:-"
    folder = os.path.dirname(spec.origin)
    parts = []
    for name in ("__init__.py", os.path.join("data", "partitions.json"), os.path.join("data", "endpoints.json")):
        try:
            st = os.stat(os.path.join(folder, name))
        except OSError:
            parts.append(f"{name}:-")
            continue
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ino}")
    return folder + ";" + ";".join(parts)
