"""The MFA session of the ``reuse`` strategy: GetSessionToken once per source identity and MFA device.

Its credentials carry the MFA context (aws:MultiFactorAuthPresent) into every AssumeRole made with them,
so one code serves all roles of a source. They live in rolecall's own cache (``SessionCache``), apart from
the AWS CLI's, keyed by the source's access key and the device.
"""

from __future__ import annotations

from rolecall.errors import ConfigError
from rolecall.limits import SESSION_TOKEN_DURATION_DEFAULT
from rolecall.providers.base import refuse_expired
from rolecall.providers.result import NO_CONSOLE_FACTS
from rolecall.timefmt import format_local_hm, timedelta

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.result import ConsoleFacts

#: GetSessionToken's default for IAM users (12 h); ``mfa_session_duration`` changes it (900..129600).
DEFAULT_MFA_SESSION_SECONDS = SESSION_TOKEN_DURATION_DEFAULT
#: A cached MFA session is used while at least this much of it is left (a role session of 1 h fits in it).
MIN_SESSION_LEFT = timedelta(minutes=15)


class MfaSessionProvider:
    """GetSessionToken with an MFA code, cached for its lifetime in rolecall's session cache."""

    method = "mfa-session"

    def __init__(
        self,
        source: Provider,
        mfa_serial: str,
        duration_seconds: int | None,
        runtime: Runtime,
        inputs: MfaInputs,
        profile: str,
    ) -> None:
        self.source = source
        self.mfa_serial = mfa_serial
        self.duration_seconds = duration_seconds or DEFAULT_MFA_SESSION_SECONDS
        self.runtime = runtime
        self.inputs = inputs
        self.profile = profile
        #: One cache object for the provider's life, so that a problem with the file is reported once a run.

    def _key(self, source: Credentials) -> str:
        return self.runtime.session_cache().key(source.access_key_id, self.mfa_serial)

    def _source_keys(self) -> Credentials:
        source = self.source.retrieve()
        if source.is_temporary:
            raise ConfigError(
                f'profile "{self.profile}": mfa_strategy reuse needs long-term keys for GetSessionToken, '
                f"but its source has temporary credentials",
                hint="use mfa_strategy = direct for this profile (one MFA code per role)",
            )
        return source

    def cached(self) -> Credentials | None:
        """The cached MFA session when it has at least 15 minutes left."""
        source = self.source.cached()
        if source is None:
            return None
        entry = self.runtime.session_cache().get(self._key(source), self.runtime.clock(), MIN_SESSION_LEFT)
        return entry.credentials if entry else None

    def retrieve(self) -> Credentials:
        """The cached MFA session, or a new one (asks for a code). The caller holds the device lock."""
        from rolecall.aws import sts

        source = self._source_keys()
        cache = self.runtime.session_cache()
        key = self._key(source)
        entry = cache.get(key, self.runtime.clock(), MIN_SESSION_LEFT)
        if entry is not None:
            return entry.credentials
        settings = self.inputs.settings()
        # At a terminal, a code AWS refuses is asked again (up to 3); a wrong serial ends at once.
        response = self.inputs.send_with_code(
            self.mfa_serial,
            lambda code: sts.get_session_token(
                settings, source, SerialNumber=self.mfa_serial, TokenCode=code, DurationSeconds=self.duration_seconds
            ),
        )
        credentials = refuse_expired(
            sts.credentials_from_response(response),
            f'STS (GetSessionToken for the MFA session of profile "{self.profile}")',
            self.runtime.clock(),
        )
        cache.put(key, response, source_access_key_id=source.access_key_id, mfa_serial=self.mfa_serial)
        if credentials.expiration is not None:
            self.runtime.reporter(
                f"{self.profile}: MFA session for {self.mfa_serial} valid until "
                f"{format_local_hm(credentials.expiration)}; roles of this source need no code until then"
            )
        return credentials

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially (federation, if needed, is decided by the keys in hand)."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """Whether the MFA session is cached, and until when."""
        lines = self.source.explain()
        cached = self.cached()
        if cached is not None and cached.expiration is not None:
            lines.append(
                f"MFA session for {self.mfa_serial}: cached until {format_local_hm(cached.expiration)} "
                "(no code needed)"
            )
        else:
            hours = self.duration_seconds / 3600
            lines.append(
                f"MFA session for {self.mfa_serial}: GetSessionToken with an MFA code ({hours:g} h), "
                "then cached and shared by every role of this source"
            )
        return lines
