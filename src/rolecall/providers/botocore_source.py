"""Sources rolecall leaves to botocore itself: ``aws login``, container and instance metadata.

These need botocore's own machinery (token caches, IMDS); delegating keeps their behaviour identical to
the AWS CLI's. They are never on the cached fast path.
"""

from __future__ import annotations

from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime

#: credential_source value -> botocore provider method name
_CANONICAL = {"Environment": "env", "EcsContainer": "container-role", "Ec2InstanceMetadata": "iam-role"}


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
        """Ask botocore for this one source only."""
        from rolecall import sts

        return sts.botocore_source_credentials(self.kind, self.profile, self.runtime.env)

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
