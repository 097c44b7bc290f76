"""Long-term keys written in a profile (credentials file or config file)."""

from __future__ import annotations

from rolecall.credentials import Credentials
from rolecall.providers.result import ConsoleFacts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.parse import ConfigValue
    from rolecall.config.profiles import Profile
    from rolecall.providers.base import Provider
    from rolecall.providers.contract import BuildContext


def credentials_from_section(
    section: Mapping[str, ConfigValue], where: str, profile: str | None = None
) -> Credentials | None:
    """Keys from one file's section: None when it has no access key; an error when it is partial.

    ``where`` names the place for messages, e.g. ``the credentials file [dev] (~/.aws/credentials)``, and
    ``profile`` the profile for the hint. The legacy ``aws_security_token`` wins over ``aws_session_token``, as in
    botocore.

    ``aws_access_key_id =`` written but left empty is an error, not "no keys": botocore tests only that the key is
    there, so it (and every ``aws`` command) signs with the empty key, where skipping it would silently resolve
    to the next source's keys, another identity.
    """
    from rolecall.config.refusals import keys

    refusal = keys(section, where, profile)
    if refusal is not None:
        raise refusal.error()
    access_key = _text(section, "aws_access_key_id")
    secret = _text(section, "aws_secret_access_key")
    if access_key is None or secret is None:
        return None
    token = _text(section, "aws_security_token") or _text(section, "aws_session_token")
    return Credentials(access_key, secret, token, account_id=_text(section, "aws_account_id"))


def _text(section: Mapping[str, ConfigValue], key: str) -> str | None:
    value = section.get(key)
    return value if isinstance(value, str) and value else None


class StaticProvider:
    """Credentials already in hand (keys from a file): no call, never expire unless a token says otherwise."""

    method = "shared-credentials-file"

    def __init__(self, credentials: Credentials, description: str, method: str = "shared-credentials-file") -> None:
        self._credentials = credentials
        self.description = description
        self.method = method

    def cached_is_temporary(self) -> bool:
        """True when these keys carry a session token (temporary credentials written into a file)."""
        return self._credentials.is_temporary

    def retrieve(self) -> Credentials:
        """The keys themselves."""
        return self._credentials

    def cached(self) -> Credentials | None:
        """Static keys are always at hand."""
        return self._credentials

    def console_facts(self) -> ConsoleFacts:
        """Long-term keys (no session token) need a federation token before the console."""
        return ConsoleFacts(long_term=not self.cached_is_temporary())

    def explain(self) -> list[str]:
        """One sentence naming where the keys are."""
        kind = "temporary keys" if self._credentials.is_temporary else "long-term keys"
        return [f"{kind} {self._credentials.access_key_id} from {self.description}"]


def build(context: BuildContext, profile: Profile) -> Provider | None:
    """The chain builder's factory for the ``keys`` kind: the credentials file's keys, else the config file's."""
    section = context.files.credentials_section(profile.name)
    if section is not None:
        where = f"the credentials file [{profile.name}]{context.path('credentials_file')}"
        keys = credentials_from_section(section, where, profile.name)
        if keys is not None:
            context.decide(f"{profile.name}: keys in the credentials file")
            return StaticProvider(keys, f"the credentials file [{profile.name}]")
    config_profile = context.files.config_profile(profile.name)
    if config_profile is None:
        return None
    header = "default" if profile.name == "default" else f"profile {profile.name}"
    where = f"the config file [{header}]{context.path('config_file')}"
    keys = credentials_from_section(config_profile, where, profile.name)
    if keys is None:
        return None
    context.decide(f"{profile.name}: keys in the config file")
    return StaticProvider(keys, f"the config file, profile {profile.name}", method="config-file")
