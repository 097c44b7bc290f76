"""AssumeRole for a profile with ``role_arn``: the AWS CLI's cache first, then MFA by the chosen strategy.

Strategies (docs/mfa.md):
- ``direct``: AssumeRole with SerialNumber and TokenCode; sessions up to the role's maximum; a code per role.
- ``reuse``: an MFA session (GetSessionToken, cached) from the long-term source keys, then AssumeRole
  without a code; one code for every role of the source, each role session at most 1 h (AWS's cap for
  roles assumed with temporary credentials).
Either way the role's credentials are written to ``~/.aws/cli/cache`` under the key the AWS CLI computes
for this profile, so ``aws --profile X`` and boto3 (through the CLI's cache) reuse them without a prompt.
"""

from __future__ import annotations

import os

from rolecall.limits import CHAINING_CAP_SECONDS, ROLE_DURATION_DEFAULT
from rolecall.providers.base import credential_kind
from rolecall.providers.caching import CLI_EXPIRY_WINDOW as CLI_EXPIRY_WINDOW
from rolecall.providers.caching import CachedSource, Fetched, assumed_arn
from rolecall.providers.result import ConsoleFacts
from rolecall.timefmt import format_duration, format_local_hm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any

    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.result import Retrieved


class AssumeRoleProvider:
    """One AssumeRole hop of a profile chain, cached in the AWS CLI's cache (through ``CachedSource``).

    It is its own ``Fetcher``: ``cache_key``, ``lock`` (the MFA device's, else one per cache entry) and ``fetch``
    (one AssumeRole call); ``CachedSource`` loads, locks, checks and saves.
    """

    method = "assume-role"
    #: The summary line says "from the AWS CLI cache (KEY.json)" or "from a new AssumeRole call".
    reports_origin = True

    def __init__(
        self,
        profile: Profile,
        source: Provider,
        runtime: Runtime,
        inputs: MfaInputs,
        *,
        strategy: str | None,
        strategy_reason: str,
        mfa_session: Provider | None,
        top_level: bool,
    ) -> None:
        self.profile = profile
        self.source = source
        self.runtime = runtime
        self.inputs = inputs
        #: "reuse", "direct", or None when the profile has no mfa_serial.
        self.strategy = strategy
        self.strategy_reason = strategy_reason
        self.mfa_session = mfa_session
        self.top_level = top_level
        #: --force-refresh applies to the role asked for, not to the hops it is reached through.
        self._source = CachedSource(self, runtime, force_refresh=top_level and runtime.force_refresh)

    # -- the parameters and the cache key, exactly as botocore builds them -------------------------------------
    def cache_params(self) -> dict[str, Any]:
        """The AssumeRole kwargs the AWS CLI would send for this profile, without TokenCode (its cache key input)."""
        params: dict[str, Any] = {"RoleArn": self.profile.role_arn}
        if self.profile.role_session_name:
            params["RoleSessionName"] = self.profile.role_session_name
        if self.profile.external_id:
            params["ExternalId"] = self.profile.external_id
        if self.profile.mfa_serial:
            params["SerialNumber"] = self.profile.mfa_serial
        if self.profile.duration_seconds is not None:
            params["DurationSeconds"] = self.profile.duration_seconds
        return params

    def cache_key(self) -> str:
        """The file name (without .json) the AWS CLI uses for this profile's role session."""
        from rolecall.cachekeys import assume_role_cache_key

        return assume_role_cache_key(self.cache_params(), session_name_generated=not self.profile.role_session_name)

    def _effective_duration(self) -> int | None:
        requested = self.profile.duration_seconds
        if self.strategy == "reuse" or self.source_is_temporary():
            return min(requested or CHAINING_CAP_SECONDS, CHAINING_CAP_SECONDS)
        return requested

    def source_is_temporary(self) -> bool:
        """True when this hop's source gives temporary credentials (role chaining): AWS then caps the session at 1 h.

        ``base.credential_kind`` is the one rule: role sessions of every kind (AssumeRole, web identity, SSO,
        container and instance roles), the MFA session, and keys written with a session token.
        """
        return credential_kind(self.source) == "temporary"

    # -- serving ----------------------------------------------------------------------------------------------
    def cached(self) -> Credentials | None:
        """The AWS CLI cache entry for this profile while it has 15 minutes left (None under --force-refresh)."""
        if self._source.force_refresh:
            return None
        return self._source.cached()

    def retrieve(self) -> Retrieved:
        """Cached role credentials, or a new AssumeRole (under a lock, so parallel runs make one call)."""
        return self._source.retrieve()

    def console_facts(self) -> ConsoleFacts:
        """The role, and whether it is reached by role chaining (its console session is then capped at 1 h)."""
        return ConsoleFacts(self.profile.role_arn, chained=self.source_is_temporary())

    # -- the Fetcher side (CachedSource calls these) ---------------------------------------------------------
    def answered_by(self) -> str:
        """Who answers the call, for the message about an already expired answer."""
        return f'STS (AssumeRole for profile "{self.profile.name}")'

    def lock(self) -> AbstractContextManager[object]:
        """The MFA device's lock (one prompt for parallel runs), else a lock of this cache entry."""
        if self.profile.mfa_serial:
            return self.inputs.device_lock(self.profile.mfa_serial)
        from rolecall.fileio import exclusive_lock

        return exclusive_lock(os.path.join(self.runtime.paths.rolecall_dir, "locks", self.cache_key()))

    def fetch(self) -> Fetched:
        """One AssumeRole call with the source's credentials (or the MFA session's), a code when direct."""
        from rolecall.aws import sts
        from rolecall.validation import default_session_name

        params: dict[str, Any] = {
            "RoleArn": self.profile.role_arn,
            "RoleSessionName": self.profile.role_session_name
            or default_session_name(self.runtime.env, self.runtime.clock()),
        }
        if self.profile.external_id:
            params["ExternalId"] = self.profile.external_id
        duration = self._effective_duration()
        if duration is not None:
            params["DurationSeconds"] = duration
        serial = self.profile.mfa_serial if self.strategy == "direct" else None
        if self.strategy == "reuse" and self.mfa_session is not None:
            self._announce()
            caller = self.mfa_session.retrieve()
        else:
            caller = self.source.retrieve()
            if serial:
                self._announce()
        settings = self.inputs.settings()
        if serial:
            # At a terminal, a code AWS refuses is asked again (up to 3); a wrong serial ends at once.
            response = self.inputs.send_with_code(
                serial,
                lambda code: sts.assume_role(settings, caller, **params, SerialNumber=serial, TokenCode=code),
            )
        else:
            response = sts.assume_role(settings, caller, **params)
        return Fetched(
            sts.credentials_from_response(response),
            response,
            origin="a new AssumeRole call" + (" with an MFA code" if serial else ""),
            identity_arn=assumed_arn(response),
        )

    def _announce(self) -> None:
        """One line on stderr saying which MFA strategy is used and why, before a code may be asked."""
        if self.strategy == "reuse":
            cached_session = self.mfa_session.cached() if self.mfa_session else None
            if cached_session is not None and cached_session.expiration is not None:
                return  # no code will be asked: nothing to explain
            self.runtime.reporter(
                f"{self.profile.name}: MFA strategy reuse ({self.strategy_reason}): one code for every role of "
                f'"{self.profile.source_profile or self.profile.name}", role sessions 1 h'
            )
        else:
            duration = self._effective_duration() or ROLE_DURATION_DEFAULT
            self.runtime.reporter(
                f"{self.profile.name}: MFA strategy direct ({self.strategy_reason}): a code for this role, "
                f"session {format_duration(duration)}"
            )

    def explain(self) -> list[str]:
        """The plan: the source's steps, then this hop (cached or which call, duration, cap, strategy and why)."""
        hit = self.cached()
        role = self.profile.role_arn
        if hit is not None and hit.expiration is not None:
            return [
                f'{self.profile.name}: role {role} served from the AWS CLI cache '
                f"({self.cache_key()}.json) until {format_local_hm(hit.expiration)}; no STS call"
            ]
        lines = (self.mfa_session or self.source).explain() if self.strategy == "reuse" else self.source.explain()
        duration = self._effective_duration()
        requested = self.profile.duration_seconds
        parts = [f"{self.profile.name}: AssumeRole {role}"]
        if self.strategy == "direct":
            parts.append(f"with an MFA code for {self.profile.mfa_serial} (strategy direct: {self.strategy_reason})")
        elif self.strategy == "reuse":
            parts.append(f"with the MFA session, no code (strategy reuse: {self.strategy_reason})")
        parts.append(f"session {format_duration(duration or ROLE_DURATION_DEFAULT)}")
        if requested and duration is not None and duration < requested:
            parts.append(f"capped from {format_duration(requested)}: AWS allows 1 h for roles assumed with "
                         "temporary credentials")
        if self.profile.external_id:
            parts.append("with ExternalId")
        parts.append(f"then cached for the AWS CLI as {self.cache_key()}.json")
        lines.append(", ".join(parts))
        return lines

