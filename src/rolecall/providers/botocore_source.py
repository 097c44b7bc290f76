"""Sources rolecall leaves to botocore itself: container and instance metadata (``aws login`` sessions are
rolecall's own since issue 18: ``providers/login_session.py``).

These need botocore's own machinery (token caches, IMDS); delegating keeps their behaviour identical to
the AWS CLI's. They are never on the cached fast path.
"""

from __future__ import annotations

from rolecall.errors import ConfigError
from rolecall.providers.base import refuse_expired
from rolecall.providers.result import NO_CONSOLE_FACTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime
    from rolecall.providers.result import ConsoleFacts

#: credential_source value -> botocore provider method name
_CANONICAL = {"Environment": "env", "EcsContainer": "container-role", "Ec2InstanceMetadata": "iam-role"}
#: Who answered, for messages.
_DESCRIPTIONS = {
    "login": "the `aws login` session",
    "container-role": "the container credentials endpoint",
    "iam-role": "the EC2 instance metadata service",
}


class BotocoreProvider:
    """Credentials resolved by botocore for a profile (``kind`` = login) or a canonical source."""

    def __init__(self, kind: str, profile: str, runtime: Runtime) -> None:
        self.kind = kind
        self.method = kind
        self.profile = profile
        self.runtime = runtime

    def cached(self) -> Credentials | None:
        """botocore's sources are not served without asking botocore."""
        return None

    def retrieve(self) -> Credentials:
        """Ask botocore for this one source only; expired credentials are refused, as botocore refuses them."""
        from rolecall.aws.transport.sources import botocore_source_credentials

        what = _DESCRIPTIONS.get(self.kind, self.kind)
        # botocore_source_credentials refuses what botocore refreshed and found still expired (exit 4); what is
        # checked here is an answer botocore handed on without refreshing it.
        credentials = botocore_source_credentials(self.kind, self.profile, self.runtime.env)
        return refuse_expired(credentials, what, self.runtime.clock())

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially (federation, if needed, is decided by the keys in hand)."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """One sentence."""
        names = {
            "login": f'`aws login` credentials of profile "{self.profile}", through botocore',
            "container-role": "the container credentials endpoint (EcsContainer), through botocore",
            "iam-role": "the EC2 instance metadata service (Ec2InstanceMetadata), through botocore",
        }
        return [names.get(self.kind, self.kind)]


def canonical_source(name: str, profile: str, runtime: Runtime) -> BotocoreProvider:
    """The provider for a ``credential_source`` value other than Environment (validated by the caller)."""
    if name not in _CANONICAL:
        raise ConfigError(f'unknown credential_source "{name}" in profile "{profile}"')
    return BotocoreProvider(_CANONICAL[name], profile, runtime)


def imds_enabled(env: Mapping[str, str]) -> bool:
    """True when rolecall may ask the EC2 instance metadata service on its own: ``ROLECALL_USE_IMDS=1`` and
    not ``AWS_EC2_METADATA_DISABLED=true`` (off EC2, botocore's attempts cost a second or two of timeouts)."""
    return str(env.get("AWS_EC2_METADATA_DISABLED", "")).lower() != "true" and env.get("ROLECALL_USE_IMDS") == "1"


def imds_region(env: Mapping[str, str], profile: str | None) -> str | None:
    """The instance's region from the metadata service, as the AWS CLI v2 finds it when neither the environment
    nor the config names one; None when IMDS is not enabled (``imds_enabled``), cannot be reached or gives nothing.
    The botocore work is ``rolecall.aws.transport.sources.imds_region`` (the transport is where botocore is
    imported)."""
    if not imds_enabled(env):
        return None
    from rolecall.aws.transport.sources import imds_region as botocore_imds_region

    return botocore_imds_region(env, profile)

