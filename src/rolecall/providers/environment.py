"""Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (botocore's EnvProvider)."""

from __future__ import annotations

from rolecall.credentials import Credentials
from rolecall.errors import ConfigError
from rolecall.providers.result import ConsoleFacts
from rolecall.timefmt import parse_timestamp

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def credentials_from_env(env: Mapping[str, str]) -> Credentials | None:
    """The environment's credentials, None when AWS_ACCESS_KEY_ID is unset or empty; partial ones are an error."""
    access_key = env.get("AWS_ACCESS_KEY_ID")
    if not access_key:
        return None
    secret = env.get("AWS_SECRET_ACCESS_KEY")
    if not secret:
        raise ConfigError(
            "partial credentials in the environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not",
            hint="export AWS_SECRET_ACCESS_KEY too, or unset AWS_ACCESS_KEY_ID (rolecall's `unassume` does)",
        )
    # botocore reads the legacy AWS_SECURITY_TOKEN first; so do we, to agree on who we are.
    token = env.get("AWS_SECURITY_TOKEN") or env.get("AWS_SESSION_TOKEN") or None
    expiry_text = env.get("AWS_CREDENTIAL_EXPIRATION")
    expiration = None
    if expiry_text:
        try:
            expiration = parse_timestamp(expiry_text)
        except ValueError:
            raise ConfigError(
                f"AWS_CREDENTIAL_EXPIRATION is not an ISO-8601 time: {expiry_text!r}",
                hint="unset it, or set it as 2026-01-31T12:00:00Z",
            ) from None
    return Credentials(access_key, secret, token, expiration, env.get("AWS_ACCOUNT_ID") or None)


class EnvironmentProvider:
    """The environment variables, re-read on every retrieve (as botocore's refreshable env credentials)."""

    method = "env"

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def retrieve(self) -> Credentials:
        """The keys from the environment."""
        credentials = credentials_from_env(self._env)
        if credentials is None:
            raise ConfigError(
                "no credentials in the environment (AWS_ACCESS_KEY_ID is not set)",
                hint="export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use credential_source/source_profile",
            )
        if credentials.is_expired():
            # Handing them on would only move the failure into the consumer (botocore refuses them too).
            assert credentials.expiration is not None
            raise ConfigError(
                "the credentials in the environment expired at "
                f"{credentials.expiration.strftime('%Y-%m-%d %H:%M:%S')} UTC (AWS_CREDENTIAL_EXPIRATION)",
                hint="get new ones (`assume PROFILE`), or unset them (`unassume`, or `rolecall env --unset`)",
            )
        return credentials

    def cached(self) -> Credentials | None:
        """The environment's credentials while they have not expired."""
        credentials = credentials_from_env(self._env)
        return None if credentials is None or credentials.is_expired() else credentials

    def console_facts(self) -> ConsoleFacts:
        """Long-term keys (no session token) need a federation token before the console."""
        found = self.cached()
        return ConsoleFacts(long_term=found is not None and not found.session_token)

    def explain(self) -> list[str]:
        """One sentence."""
        credentials = credentials_from_env(self._env)
        if credentials is None:
            return ["credentials from the environment: none set (AWS_ACCESS_KEY_ID is empty)"]
        return [f"keys {credentials.access_key_id} from the environment (AWS_ACCESS_KEY_ID)"]
