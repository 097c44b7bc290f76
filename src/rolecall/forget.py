"""Forgetting cached sessions: a profile's role session and the MFA session it uses (``rolecall forget``).

What a profile has cached, and where (docs/cache.md):

- its **role session**: the AWS CLI cache entry (``~/.aws/cli/cache/<key>.json``) of its own AssumeRole, web
  identity or IAM Identity Center role, under the key botocore computes for the profile (``rolecall.cachekeys``,
  through the provider's own ``cache_key``), so an entry written by ``aws --profile X`` or boto3 is found as well
  as one rolecall wrote;
- its **MFA session**: rolecall's GetSessionToken entries (``<rolecall home>/sessions``) for the profile's MFA
  device (``mfa_serial``), which every role of the same source uses with ``mfa_strategy = reuse``. By default they
  are forgotten only when the profile uses them (the reuse strategy); asked for explicitly, whatever the strategy.

Entries are removed under the lock their writer holds (the MFA device's lock, else the cache entry's own), so a
``rolecall`` getting a session at the same time either finishes writing first (and its entry is removed) or
starts after (and makes a fresh call); never half of each. Nothing here prints: the result says what was removed.
Cache entries no profile accounts for are left alone (``--all`` counts them); SSO login tokens are
``rolecall sso logout``'s.
"""

from __future__ import annotations

import contextlib
import os

from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime

    from rolecall.cache import CliCache
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime
    from rolecall.sessioncache import SessionCache

__all__ = ["MFA_SESSION", "ROLE_SESSION", "Entry", "Outcome", "forget"]

ROLE_SESSION = "role session"
MFA_SESSION = "MFA session"


class Entry:
    """One cache entry forgotten (or, in a dry run, that would be): ``kind`` (``ROLE_SESSION``/``MFA_SESSION``), the
    ``profile`` it was found for, its ``path``, what it is a session of (``subject``: a role ARN, an MFA device)
    and its ``expiration`` (None when unknown). Never a secret."""

    __slots__ = ("expiration", "kind", "path", "profile", "subject")

    def __init__(self, kind: str, profile: str, path: str, subject: str, expiration: datetime | None) -> None:
        self.kind = kind
        self.profile = profile
        self.path = path
        self.subject = subject
        self.expiration = expiration

    def __repr__(self) -> str:
        return f"Entry({self.kind!r}, {self.profile!r}, {os.path.basename(self.path)!r})"


class Outcome:
    """What ``forget`` did: ``removed`` entries; ``not_cached`` (profile, kind) pairs it looked for and found no
    entry of; ``skipped`` (profile, why) that could not be resolved (only with every profile); ``kept``: entries
    of the AWS CLI cache no profile accounts for, left alone (counted only with every profile)."""

    def __init__(self) -> None:
        self.removed: list[Entry] = []
        self.not_cached: list[tuple[str, str]] = []
        self.skipped: list[tuple[str, str]] = []
        self.kept = 0


class _Plan:
    """One profile's entries: the role entry's key and subject, the MFA device, and the lock their writer holds."""

    def __init__(self, profile: str, key: str | None, subject: str, serial: str | None,
                 lock: AbstractContextManager[object] | None) -> None:
        self.profile = profile
        self.key = key
        self.subject = subject
        self.serial = serial
        self.lock = lock


def forget(
    files: ConfigFiles,
    runtime: Runtime,
    profiles: Sequence[str] | None,
    *,
    role: bool = True,
    mfa: bool | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Remove the cached sessions of ``profiles`` (None: every profile of the files).

    ``role``: the profile's role session. ``mfa``: True, the MFA sessions of its device whatever its strategy;
    None, those only when the profile uses the reuse strategy; False, none. ``dry_run``: remove nothing, report
    what would go. A named profile that cannot be resolved raises its ``RolecallError`` (with every profile it is
    skipped and reported). ``FileError`` when an entry cannot be removed; ``MfaError``/``FileError`` when a lock
    cannot be had.
    """
    outcome = Outcome()
    names = list(profiles) if profiles is not None else files.profile_names()
    accounted: set[str] = set()
    seen: set[str] = set()
    for name in names:
        try:
            plan = _plan(files, runtime, name, mfa is True)
        except RolecallError as error:
            if profiles is not None:
                raise
            outcome.skipped.append((name, error.message))
            continue
        if plan.key is not None:
            accounted.add(plan.key)
        _forget_one(plan, runtime, outcome, seen, role=role, mfa=mfa is not False and plan.serial is not None,
                    dry_run=dry_run)
    if profiles is None:
        outcome.kept = sum(1 for stem in _stems(runtime.paths.cli_cache_dir) if stem not in accounted)
    return outcome


def _plan(files: ConfigFiles, runtime: Runtime, name: str, any_strategy: bool) -> _Plan:
    """What ``name``'s provider caches, as the resolver builds it (no call is made)."""
    from rolecall.providers.assume_role import AssumeRoleProvider
    from rolecall.providers.chain import build_chain

    files.require_profile(name)
    top = build_chain(files, name, runtime, explicit=True).provider
    cache_key = getattr(top, "cache_key", None)  # the sources behind the AWS CLI cache (providers.caching)
    key = cache_key() if callable(cache_key) else None
    values = files.profile(name) or {}
    role_arn, sso_role, sso_account = (values.get(k) for k in ("role_arn", "sso_role_name", "sso_account_id"))
    subject = str(role_arn) if role_arn else f"{sso_role} in account {sso_account}" if sso_role else name
    serial: str | None = None
    if isinstance(top, AssumeRoleProvider) and top.profile.mfa_serial and (
            any_strategy or top.mfa_session is not None):
        serial = top.profile.mfa_serial
    lock = top.lock() if isinstance(top, AssumeRoleProvider) else None  # the device's, else the entry's own
    return _Plan(name, key, subject, serial, lock)


def _forget_one(plan: _Plan, runtime: Runtime, outcome: Outcome, seen: set[str], *, role: bool, mfa: bool,
                dry_run: bool) -> None:
    """Remove ``plan``'s entries under its writer's lock (none taken in a dry run)."""
    lock = plan.lock if plan.lock is not None and not dry_run and (role or mfa) else contextlib.nullcontext()
    if mfa and not role and plan.serial is not None and not dry_run:
        from rolecall import mfa as mfa_module

        lock = mfa_module.device_lock(runtime.paths.mfa_state_dir, plan.serial, reporter=runtime.reporter)
    with lock:
        if role:
            found = _role_entry(plan, runtime) if plan.key is not None else None
            if found is None:
                outcome.not_cached.append((plan.profile, ROLE_SESSION))
            elif found.path not in seen:
                _remove(runtime.cli_cache(), plan.key or "", found, outcome, seen, dry_run)
        if mfa:
            entries = list(_mfa_entries(plan, runtime))
            if not entries:
                outcome.not_cached.append((plan.profile, MFA_SESSION))
            for stem, entry in entries:
                if entry.path not in seen:
                    _remove(runtime.session_cache(), stem, entry, outcome, seen, dry_run)


def _role_entry(plan: _Plan, runtime: Runtime) -> Entry | None:
    """The profile's AWS CLI cache entry, whatever its age, or None."""
    from rolecall.timefmt import timedelta

    assert plan.key is not None
    cache = runtime.cli_cache()
    path = cache.path(plan.key)
    if not os.path.lexists(path):
        return None
    found = cache.get(plan.key, runtime.clock(), timedelta.min)
    expiration = found.credentials.expiration if found is not None else None
    return Entry(ROLE_SESSION, plan.profile, path, plan.subject, expiration)


def _mfa_entries(plan: _Plan, runtime: Runtime) -> Iterable[tuple[str, Entry]]:
    """The MFA-session entries of ``plan``'s device (any source identity, any age), by the note each carries."""
    from rolecall.timefmt import timedelta

    cache = runtime.session_cache()
    for stem in _stems(runtime.paths.session_cache_dir):
        found = cache.get(stem, runtime.clock(), timedelta.min)
        note = found.response.get("Rolecall") if found is not None else None
        if found is not None and isinstance(note, dict) and note.get("SerialNumber") == plan.serial:
            yield stem, Entry(MFA_SESSION, plan.profile, found.path, str(plan.serial), found.credentials.expiration)


def _remove(cache: CliCache | SessionCache, key: str, entry: Entry, outcome: Outcome, seen: set[str],
            dry_run: bool) -> None:
    if not dry_run:
        cache.delete(key)
    seen.add(entry.path)
    outcome.removed.append(entry)


def _stems(folder: str) -> list[str]:
    """The ``<key>`` of each ``<key>.json`` in ``folder`` (none when it is missing); hidden files are not entries."""
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as error:
        from rolecall.errors import FileError

        raise FileError(f"cannot list {folder}: {error.strerror or error}",
                        hint="check the folder's owner and mode (ls -ld)") from None
    return sorted(name[:-5] for name in names if name.endswith(".json") and not name.startswith("."))
