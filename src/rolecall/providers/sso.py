"""IAM Identity Center (SSO) role credentials for a profile with ``sso_account_id`` and ``sso_role_name``.

rolecall resolves these itself, as the AWS CLI v2 does: the access token of the profile's login
(``rolecall.sso.auth``: cached, refreshed, or a new login when a person is at the terminal), then the portal's
GetRoleCredentials, cached in ``~/.aws/cli/cache`` under the AWS CLI v2's key and in its format
(``"ProviderType": "sso"``), so ``aws --profile X`` (v2) and rolecall reuse each other's role credentials.
The profile can be the ``source_profile`` of role profiles like any other source.

On the cached path, ``cached()`` needs only the profile's own keys (the cache key holds the sso-session's
name, not its settings), so it reads no other section and imports nothing heavy.
"""

from __future__ import annotations

from rolecall.errors import LoginError
from rolecall.providers.caching import CachedSource, Fetched
from rolecall.providers.result import NO_CONSOLE_FACTS
from rolecall.timefmt import format_local_hm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.config.parse import ConfigFiles, ConfigValue
    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.result import ConsoleFacts, Retrieved
    from rolecall.sso.auth import TokenSource
    from rolecall.sso.settings import SsoLogin, SsoRole


def _text(values: Mapping[str, ConfigValue], key: str) -> str | None:
    value = values.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


class SsoProvider:
    """GetRoleCredentials for one SSO profile, through the AWS CLI v2's caches."""

    method = "sso"
    #: The summary line says "from the AWS CLI cache (KEY.json)" or "from IAM Identity Center (GetRoleCredentials)".
    reports_origin = True

    def __init__(self, profile: str, values: Mapping[str, ConfigValue], files: ConfigFiles, runtime: Runtime) -> None:
        self.profile = profile
        self.files = files
        self.runtime = runtime
        self.account_id = _text(values, "sso_account_id")
        self.role_name = _text(values, "sso_role_name")
        self.session_name = _text(values, "sso_session")
        self.start_url = _text(values, "sso_start_url")
        self._source = CachedSource(self, runtime, force_refresh=runtime.force_refresh)

    def cache_key(self) -> str | None:
        """The AWS CLI v2's cache key of this role, or None when the profile is incomplete."""
        from rolecall.cachekeys import sso_role_cache_key

        if self.account_id is None or self.role_name is None or (self.session_name is None and not self.start_url):
            return None
        return sso_role_cache_key(
            self.account_id, self.role_name, session_name=self.session_name, start_url=self.start_url or ""
        )

    def cached(self) -> Credentials | None:
        """The cached role credentials while they have 15 minutes left (botocore's window), else None."""
        return self._source.cached()

    def role(self) -> SsoRole:
        """The profile's role and login, checked as botocore checks them (``ConfigError``)."""
        from rolecall.sso.settings import role_for_profile

        return role_for_profile(self.files, self.profile)

    def token_source(self, role: SsoRole) -> TokenSource:
        """Where this profile's access tokens come from; a login may run only with a person at a terminal."""
        from rolecall.sso.auth import terminal_present

        return sso_token_source(
            role.login,
            self.files,
            self.runtime,
            profile=self.profile,
            allow_login=self.runtime.allow_prompt and terminal_present(),
            why=f'profile "{self.profile}": ',
        )

    def retrieve(self) -> Retrieved:
        """Cached credentials, or GetRoleCredentials with a working access token (one retry after a refusal)."""
        return self._source.retrieve()

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially."""
        return NO_CONSOLE_FACTS

    # -- the Fetcher side (CachedSource calls these) ---------------------------------------------------------
    def answered_by(self) -> str:
        """Who answers the call, for the message about an already expired answer."""
        return f'IAM Identity Center (GetRoleCredentials for profile "{self.profile}")'

    def lock(self) -> None:
        """No lock of its own: the token source locks the login and the token refresh."""
        return None

    def fetch(self) -> Fetched:
        """GetRoleCredentials with a working access token; stored as the AWS CLI v2's own entry."""
        from rolecall.sso import api
        from rolecall.timefmt import format_iso_z

        role = self.role()
        tokens = self.token_source(role)
        portal = api.settings_for(self.files, self.runtime.env, role.login, "sso", self.profile)
        token = tokens.access_token()
        try:
            response = api.get_role_credentials(portal, role.login, token, role.account_id, role.role_name)
        except LoginError:
            # Revoked or signed out although it looked valid: refresh or log in again, then try once more.
            response = api.get_role_credentials(
                portal, role.login, tokens.access_token(rejected=token), role.account_id, role.role_name
            )
        credentials = _role_credentials(response, role.account_id)
        assert credentials.expiration is not None
        # The AWS CLI v2's own entry: its SSO fetcher's fields, an explicit Z expiry.
        document = {
            "ProviderType": "sso",
            "Credentials": {
                "AccessKeyId": credentials.access_key_id,
                "SecretAccessKey": credentials.secret_access_key,
                "SessionToken": credentials.session_token,
                "Expiration": format_iso_z(credentials.expiration),
                "AccountId": role.account_id,
            },
        }
        return Fetched(credentials, document, origin="IAM Identity Center (GetRoleCredentials)")

    def explain(self) -> list[str]:
        """The cache entry that serves it, or the token and call it would take. Makes no call."""
        hit = self.cached()
        what = f"role {self.role_name} in account {self.account_id}"
        if hit is not None and hit.expiration is not None:
            return [f"{self.profile}: IAM Identity Center {what} cached until {format_local_hm(hit.expiration)}"]
        role = self.role()
        state = self.token_source(role).state()
        return [f"{self.profile}: {state}", f"{self.profile}: GetRoleCredentials for {what}"]


def _role_credentials(response: Mapping[str, Any], account_id: str) -> Credentials:
    """The ``roleCredentials`` of a GetRoleCredentials answer (expiry in epoch milliseconds), or ``AwsError``."""
    from datetime import datetime, timezone

    from rolecall.credentials import Credentials

    block = response.get("roleCredentials") or {}
    try:
        expiration = datetime.fromtimestamp(int(block["expiration"]) / 1000.0, timezone.utc)
        return Credentials(
            block["accessKeyId"], block["secretAccessKey"], block["sessionToken"], expiration, account_id
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        from rolecall.errors import AwsError

        raise AwsError(
            "the IAM Identity Center portal answered without usable role credentials",
            hint="check that the endpoint really is the SSO portal (AWS_ENDPOINT_URL_SSO / endpoint_url)",
        ) from None


def build(context: BuildContext, profile: Profile) -> Provider:
    """The chain builder's factory for the ``sso`` kind: the profile's role, through its sso-session or start URL."""
    session = profile.get("sso_session")
    via = f'sso-session "{session}"' if session else f"the start URL {profile.get('sso_start_url')}"
    context.decide(
        f"{profile.name}: IAM Identity Center (SSO) role {profile.get('sso_role_name')} in account "
        f"{profile.get('sso_account_id')}, through {via}"
    )
    return SsoProvider(profile.name, profile.raw, context.files, context.runtime)


def sso_token_source(
    login: SsoLogin,
    files: ConfigFiles,
    runtime: Runtime,
    *,
    profile: str | None,
    allow_login: bool,
    why: str = "",
) -> TokenSource:
    """The token source of ``login`` with the runtime's side effects; when ``allow_login``, a login flow (the
    device code flow when no browser can be shown here)."""
    import os

    from rolecall.reporting import as_warnings
    from rolecall.sso import api
    from rolecall.sso.auth import TokenSource
    from rolecall.sso.login import LoginFlow, display_available, open_in_browser
    from rolecall.sso.tokens import SsoTokenCache

    oidc = api.settings_for(files, runtime.env, login, "sso-oidc", profile)
    cache = SsoTokenCache(runtime.paths.sso_cache_dir, as_warnings(runtime.reporter))
    flow = None
    if allow_login:
        shown = display_available(runtime.env)

        def flow_factory() -> LoginFlow:
            return LoginFlow(
                login,
                oidc,
                cache,
                use_device_code=not shown,
                open_browser=open_in_browser if shown else None,
                reporter=runtime.reporter,
                clock=runtime.clock,
            )

        flow = flow_factory
    return TokenSource(
        login,
        oidc,
        cache,
        os.path.join(runtime.paths.rolecall_dir, "sso"),
        login_flow=flow,
        reporter=runtime.reporter,
        clock=runtime.clock,
        why=why,
    )
