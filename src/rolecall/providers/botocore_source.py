"""Sources rolecall leaves to botocore itself: ``aws login``, container and instance metadata.

These need botocore's own machinery (token caches, IMDS); delegating keeps their behaviour identical to
the AWS CLI's. They are never on the cached fast path.
"""

from __future__ import annotations

from rolecall.errors import ConfigError
from rolecall.providers.base import ExpiredCredentialsError, refuse_expired

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime

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
        from rolecall import sts

        what = _DESCRIPTIONS.get(self.kind, self.kind)
        try:
            credentials = sts.botocore_source_credentials(self.kind, self.profile, self.runtime.env)
        except RuntimeError as error:
            # botocore fetches expired credentials once more and then raises a bare RuntimeError ("Credentials
            # were refreshed, but the refreshed credentials are still expired."); its text holds no secret.
            if "still expired" not in str(error):
                raise
            raise ExpiredCredentialsError(
                f"{what} returned credentials that had already expired, twice; they were not used",
                hint="check this machine's clock (`date -u`); if it is right, the endpoint is misbehaving",
            ) from None
        return refuse_expired(credentials, what, self.runtime.clock())

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


#: botocore's settings of the metadata service that its environment variables may set.
_IMDS_SETTINGS = (
    "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode",
    "metadata_service_timeout",
    "metadata_service_num_attempts",
    "ec2_metadata_v1_disabled",
)


def imds_enabled(env: Mapping[str, str]) -> bool:
    """True when rolecall may ask the EC2 instance metadata service on its own: ``ROLECALL_USE_IMDS=1`` and
    not ``AWS_EC2_METADATA_DISABLED=true`` (off EC2, botocore's attempts cost a second or two of timeouts)."""
    return str(env.get("AWS_EC2_METADATA_DISABLED", "")).lower() != "true" and env.get("ROLECALL_USE_IMDS") == "1"


def imds_region(env: Mapping[str, str], profile: str | None) -> str | None:
    """The instance's region from the metadata service (its availability zone less the letter), as the AWS
    CLI v2 finds it when neither the environment nor the config names one; None when IMDS is not enabled
    (``imds_enabled``), cannot be reached or gives nothing.

    botocore's own ``IMDSRegionProvider`` does the work (IMDSv2 token, v1 fallback, endpoint and mode from
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` or the profile, timeouts), so the answer is the AWS CLI's.
    """
    if not imds_enabled(env):
        return None
    import botocore.session  # type: ignore[import-untyped, unused-ignore]
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped, unused-ignore]

    from rolecall.config.paths import AwsPaths

    paths = AwsPaths.from_env(env)
    session = botocore.session.Session()
    session.set_config_variable("config_file", paths.config_file)
    session.set_config_variable("credentials_file", paths.credentials_file)
    if profile is not None and profile in session.available_profiles:
        session.set_config_variable("profile", profile)
    # botocore reads these from os.environ; the environment that counts here is ``env``.
    from botocore.configprovider import BOTOCORE_DEFAUT_SESSION_VARIABLES as variables

    for name in _IMDS_SETTINGS:
        _key, variable, _default, convert = variables[name]
        if isinstance(variable, str) and variable in env:
            session.set_config_variable(name, convert(env[variable]) if convert else env[variable])
    try:
        region = botocore.utils.IMDSRegionProvider(session, environ=dict(env)).provide()
    except (BotoCoreError, ValueError):  # a refused token request, a setting botocore cannot use: no region
        return None
    return region if isinstance(region, str) and region else None
