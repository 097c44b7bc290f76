"""What every credential source provides, and the side effects they all receive from outside.

A provider's ``retrieve()`` returns ``Credentials`` (a ``result.Retrieved`` when it knows where they came from:
a cache entry or which call) or raises a ``RolecallError``, and keeps no state that callers read; ``explain()`` says
in sentences what ``retrieve()`` would do right now (which cache entry serves it, which STS call would
be made and why) without making any call. Providers hold their sources, so a profile's chain is a small
tree of providers built by ``chain.py``.
"""

from __future__ import annotations

# ExpiredCredentialsError lives in rolecall.errors with the rest of the hierarchy; imported here for
# refuse_expired, and so that ``from rolecall.providers.base import ExpiredCredentialsError`` keeps working.
from rolecall.errors import ExpiredCredentialsError as ExpiredCredentialsError
from rolecall.reporting import ignore
from rolecall.timefmt import timezone, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Protocol

    from rolecall.cache import CliCache
    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials
    from rolecall.mfa import MfaCodeSource
    from rolecall.providers.result import ConsoleFacts
    from rolecall.reporting import Reporter
    from rolecall.sessioncache import SessionCache

    class Provider(Protocol):
        """A credential source."""

        #: Short name of the source, as botocore's ``Credentials.method`` (``assume-role``, ``env``...).
        method: str

        def retrieve(self) -> Credentials:
            """Return working credentials (from a cache when one is fresh), or raise a RolecallError.

            Sources that know where the credentials came from return a ``Retrieved`` (origin, assumed-role ARN);
            nothing about the call is left on the provider for callers to read.
            """

        def explain(self) -> list[str]:
            """Sentences saying what ``retrieve()`` would do now, innermost source first. Makes no call."""

        def cached(self) -> Credentials | None:
            """Credentials served without any network call or prompt, or None."""

        def console_facts(self) -> ConsoleFacts:
            """What ``rolecall console`` must know before any call: the role, role chaining, long-term keys."""


#: Methods (``Provider.method``) whose credentials are always temporary: role sessions of every kind and the
#: MFA session. A role assumed with them is role chaining, which AWS caps at 1 h.
TEMPORARY_METHODS = frozenset(
    {"assume-role", "assume-role-with-web-identity", "mfa-session", "sso", "container-role", "iam-role",
     "assume-role-with-saml"}
)


def credential_kind(source: object) -> str:
    """``"temporary"``, ``"long-term"`` or ``"unknown"``: what a provider's credentials are, known before any call.

    The one answer to "does this source give temporary credentials?" (role chaining caps, the MFA strategy):
    role sessions by their method (``TEMPORARY_METHODS``); keys written in a file or key store by
    ``cached_is_temporary()`` (a session token written beside them); the environment and ``credential_process``
    only know when asked, so they are ``"unknown"``.
    """
    if getattr(source, "method", None) in TEMPORARY_METHODS:
        return "temporary"
    temporary = getattr(source, "cached_is_temporary", None)
    if callable(temporary):
        return "temporary" if temporary() else "long-term"
    return "unknown"


def refuse_expired(credentials: Credentials, what: str, now: datetime, hint: str | None = None) -> Credentials:
    """``credentials``, unless they expired before ``now``: then ``ExpiredCredentialsError`` naming ``what``.

    ``what`` says who answered (``STS (AssumeRole for profile "prod")``); the message names the expiry time and
    the local time, since the usual cause is this machine's clock, never a secret.
    """
    if credentials.expiration is None or not credentials.is_expired(now):
        return credentials
    local = now.astimezone(timezone.utc)
    raise ExpiredCredentialsError(
        f"{what} returned credentials that had already expired "
        f"(at {credentials.expiration:%Y-%m-%d %H:%M:%S} UTC; it is {local:%Y-%m-%d %H:%M:%S} UTC here); "
        "they were not used",
        hint=hint or "check this machine's clock (`date -u`); if it is right, the endpoint is misbehaving",
    )


class Runtime:
    """The outside world as the providers see it: environment, files, clock, reporter, MFA inputs, STS settings.

    Passed in, never reached for, so tests use real files and the real local STS while choosing all of it.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        paths: AwsPaths,
        *,
        clock: Callable[[], datetime] = utc_now,
        reporter: Reporter = ignore,
        token_code: str | None = None,
        mfa_strategy: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        allow_prompt: bool = True,
        force_refresh: bool = False,
        code_source: MfaCodeSource | None = None,
    ) -> None:
        self.env = env
        self.paths = paths
        self.clock = clock
        self.reporter = reporter
        #: An MFA code given on the command line (``--token-code``); used once.
        self.token_code = token_code
        #: ``--mfa-strategy``: overrides the profile's ``mfa_strategy``.
        self.mfa_strategy = mfa_strategy
        #: ``--region`` / ``--endpoint-url`` for the STS client.
        self.region = region
        self.endpoint_url = endpoint_url
        #: False when rolecall must never prompt (e.g. inside the credentials server without a terminal).
        self.allow_prompt = allow_prompt
        #: Ignore fresh cache entries of the top-level role and assume it again.
        self.force_refresh = force_refresh
        #: Where MFA codes come from when no --token-code is left (the library's code callable), before the
        #: profile's mfa_process and the terminal.
        self.code_source = code_source
        self._cli_cache: CliCache | None = None
        self._session_cache: SessionCache | None = None

    def cli_cache(self) -> CliCache:
        """The AWS CLI's credential cache, one instance per runtime, so a bad file is reported once."""
        if self._cli_cache is None:
            from rolecall.cache import CliCache
            from rolecall.reporting import as_warnings

            self._cli_cache = CliCache(self.paths.cli_cache_dir, as_warnings(self.reporter))
        return self._cli_cache

    def session_cache(self) -> SessionCache:
        """rolecall's MFA session cache, one instance per runtime, so a bad file is reported once."""
        if self._session_cache is None:
            from rolecall.reporting import as_warnings
            from rolecall.sessioncache import SessionCache

            self._session_cache = SessionCache(self.paths.session_cache_dir, as_warnings(self.reporter))
        return self._session_cache
