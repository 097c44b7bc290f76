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
from rolecall.providers.base import credential_kind, refuse_expired
from rolecall.timefmt import format_duration, format_local_hm, timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.mfa_inputs import MfaInputs

#: The AWS CLI reuses a cached role session while at least this much is left (botocore's 15 minutes).
CLI_EXPIRY_WINDOW = timedelta(minutes=15)


class AssumeRoleProvider:
    """One AssumeRole hop of a profile chain, cached in the AWS CLI's cache."""

    method = "assume-role"

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
        #: After retrieve(): where the credentials came from ("the AWS CLI cache" or "a new AssumeRole call").
        self.outcome: str | None = None
        #: After retrieve(): the assumed-role ARN, when the STS response or the cache entry says it.
        self.identity_arn: str | None = None
        #: One cache object for the provider's life: a run reads the entry twice (before and under the lock),
        #: and it reports a problem with the file once.

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
        from rolecall.cache import assume_role_cache_key

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
        """The AWS CLI cache entry for this profile when it has at least 15 minutes left."""
        if self.top_level and self.runtime.force_refresh:
            return None
        entry = self.runtime.cli_cache().get(self.cache_key(), self.runtime.clock(), CLI_EXPIRY_WINDOW)
        if entry is None:
            return None
        self.outcome = f"the AWS CLI cache ({self.cache_key()}.json)"
        self.identity_arn = _assumed_arn(entry.response)
        return entry.credentials

    def retrieve(self) -> Credentials:
        """Cached role credentials, or a new AssumeRole (under a lock, so parallel runs make one call)."""
        hit = self.cached()
        if hit is not None:
            return hit
        if self.profile.mfa_serial:
            lock = self.inputs.device_lock(self.profile.mfa_serial)
        else:
            from rolecall.fileio import exclusive_lock

            lock = exclusive_lock(os.path.join(self.runtime.paths.rolecall_dir, "locks", self.cache_key()))
        with lock:
            # Another process may have done the work while we waited for the lock.
            hit = self.cached()
            if hit is not None:
                return hit
            return self._assume()

    def _assume(self) -> Credentials:
        from rolecall import sts
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
        code: str | None = None
        if self.strategy == "reuse" and self.mfa_session is not None:
            self._announce()
            caller = self.mfa_session.retrieve()
        else:
            caller = self.source.retrieve()
            if self.strategy == "direct" and self.profile.mfa_serial:
                self._announce()
                code = self.inputs.code(self.profile.mfa_serial)
                params["SerialNumber"] = self.profile.mfa_serial
                params["TokenCode"] = code
        response = sts.assume_role(self.inputs.settings(), caller, **params)
        # Checked before caching: an entry that is already expired would only be a miss for every later reader.
        credentials = refuse_expired(
            sts.credentials_from_response(response),
            f'STS (AssumeRole for profile "{self.profile.name}")',
            self.runtime.clock(),
        )
        self.runtime.cli_cache().put(self.cache_key(), response)
        self.outcome = "a new AssumeRole call" + (" with an MFA code" if code else "")
        self.identity_arn = _assumed_arn(response)
        return credentials

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


def _assumed_arn(response: Any) -> str | None:
    user = response.get("AssumedRoleUser") if isinstance(response, dict) else None
    arn = user.get("Arn") if isinstance(user, dict) else None
    return arn if isinstance(arn, str) else None
