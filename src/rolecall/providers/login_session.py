"""``aws login`` sessions (profiles with ``login_session``), resolved by rolecall itself.

The credentials are the token file's access token (``rolecall.login.tokens``, the AWS CLI v2's file), used while
more than 5 minutes are left and otherwise refreshed with the session's refresh token and DPoP key, under a
cross-process lock (``rolecall.login.session``). No ``awscrt`` is needed (``cryptography`` signs the proofs) and
parallel shells refresh once. The profile can be the ``source_profile`` of role profiles like any other source,
and the credentials server renews through it.

On the cached path, ``cached()`` reads the token file only.
"""

from __future__ import annotations

from rolecall.providers.result import NO_CONSOLE_FACTS, Retrieved

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.aws.settings import StsSettings
    from rolecall.config.parse import ConfigFiles, ConfigValue
    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.login.session import LoginSession
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.result import ConsoleFacts

#: The region the sign-in service is asked in when neither the token nor the profile names one.
FALLBACK_REGION = "us-east-1"


def signin_settings(
    env: Mapping[str, str], values: Mapping[str, ConfigValue] | None, files: ConfigFiles
) -> StsSettings:
    """How to reach the sign-in service for a profile: its region (else us-east-1) and its endpoint settings
    (``AWS_ENDPOINT_URL_SIGNIN``, ``AWS_ENDPOINT_URL``, the ``signin`` block of ``[services]``, ``endpoint_url``)."""
    from rolecall.aws.settings import resolve_settings

    settings = resolve_settings(env, values, files.full_config, service="signin")
    return settings if settings.region else settings.with_overrides(region=FALLBACK_REGION)


class LoginSessionProvider:
    """The credentials of one profile's ``aws login`` session."""

    method = "login"

    def __init__(self, profile: str, login_session: str, files: ConfigFiles, runtime: Runtime) -> None:
        self.profile = profile
        self.login_session = login_session
        self.files = files
        self.runtime = runtime
        self._session: LoginSession | None = None

    def session(self) -> LoginSession:
        """The session object (made once): token cache, lock folder, sign-in settings, hints."""
        if self._session is None:
            import os

            from rolecall.login.profile import login_command
            from rolecall.login.session import LoginSession
            from rolecall.login.tokens import LoginTokenCache, cache_directory
            from rolecall.reporting import as_warnings

            env = self.runtime.env
            self._session = LoginSession(
                self.login_session,
                LoginTokenCache(cache_directory(env), as_warnings(self.runtime.reporter)),
                lambda: signin_settings(env, self.files.profile(self.profile), self.files),
                os.path.join(self.runtime.paths.rolecall_dir, "login"),
                login_command=login_command(self.profile),
                clock=self.runtime.clock,
                reporter=self.runtime.reporter,
            )
        return self._session

    def cached(self) -> Credentials | None:
        """The token file's credentials while more than 5 minutes are left (no call), else None."""
        token = self.session().cached()
        return token.credentials if token is not None else None

    def retrieve(self) -> Retrieved:
        """The token file's credentials, refreshed first when 5 minutes or less are left."""
        session = self.session()
        token = session.token()
        if session.refreshed:
            origin = "a refresh of the `aws login` session (CreateOAuth2Token)"
        else:
            origin = "the `aws login` token file"
        fresh = session.refreshed
        return Retrieved.of(token.credentials, origin=origin, source_method=self.method, from_cache=not fresh)

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially (the credentials are temporary keys)."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """Where the credentials come from now. Makes no call."""
        return [f"{self.profile}: {self.session().state()}"]


def build(context: BuildContext, profile: Profile) -> Provider:
    """The chain builder's factory for the ``login_session`` kind."""
    session = str(profile.get("login_session") or "")
    context.decide(f"{profile.name}: `aws login` session {session}, resolved by rolecall (token file, refresh token)")
    return LoginSessionProvider(profile.name, session, context.files, context.runtime)
