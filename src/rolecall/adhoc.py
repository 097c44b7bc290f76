"""Ad-hoc roles: a role named by its ARN (or awsume's short forms) and assumed without a profile in any file.

The role becomes a *synthetic profile* that exists only in memory, for one command or one library call: its
``role_arn`` and the AssumeRole parameters a profile can carry (``role_session_name``, ``external_id``,
``duration_seconds``, ``mfa_serial``), a ``source_profile`` (or ``credential_source = Environment`` when the
environment's keys are the default chain's answer), and the source profile's call settings (region, endpoint...).
``AdHocFiles`` shows it to the chain builder next to the real profiles, so the builder, ``--explain``, the AWS
CLI's cache (same key as a profile with the same parameters) and the MFA strategies work unchanged.

Nothing here writes a file; ``keep_hint`` is the ``rolecall add-role`` command line that would.
"""

from __future__ import annotations

from rolecall.config.parse import ConfigFiles
from rolecall.errors import InvalidInputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from typing import Any

    from rolecall.config.parse import ConfigValue
    from rolecall.providers.base import Runtime
    from rolecall.providers.chain import Chain
    from rolecall.session import Session

__all__ = ["AdHocFiles", "AdHocRole", "adhoc_chain", "default_source", "keep_hint", "parse_role", "synthetic_profile"]

#: Settings of the source profile that say where and how calls are made: the ad-hoc role's calls go there too.
CALL_SETTINGS = (
    "region", "endpoint_url", "sts_regional_endpoints", "use_fips_endpoint", "use_dualstack_endpoint", "ca_bundle",
    "retry_mode", "max_attempts", "console_federation_endpoint", "services", "output",
)  # fmt: skip

_PARTITIONS = ("aws", "aws-us-gov", "aws-cn", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_SHORT_HINT = (
    "give a role ARN (arn:aws:iam::123456789012:role/NAME) or ACCOUNT:ROLE-NAME (123456789012:deploy, "
    "aws-us-gov:123456789012:deploy)"
)


def parse_role(spec: str) -> str:
    """The role ARN of ``spec``: an ARN as given (checked as STS checks RoleArn), or awsume's short forms
    ``ACCOUNT:ROLE`` and ``PARTITION:ACCOUNT:ROLE`` (``ROLE`` may carry a path: ``team/deploy``).
    ``InvalidInputError`` for anything else."""
    from rolecall.validation import check_role_arn

    if spec.startswith("arn:"):
        return check_role_arn(spec, name="--role-arn")
    parts = spec.split(":")
    if len(parts) == 2:
        partition, account, name = "aws", parts[0], parts[1]
    elif len(parts) == 3:
        partition, account, name = parts
    else:
        raise InvalidInputError(f"--role-arn {spec!r} is neither an ARN nor ACCOUNT:ROLE-NAME", hint=_SHORT_HINT)
    if partition not in _PARTITIONS:
        raise InvalidInputError(f"--role-arn {spec!r}: {partition!r} is not an AWS partition", hint=_SHORT_HINT)
    if len(account) != 12 or not account.isascii() or not account.isdigit():
        raise InvalidInputError(f"--role-arn {spec!r}: the account id must be 12 digits", hint=_SHORT_HINT)
    name = name.removeprefix("role/").strip("/")
    if not name:
        raise InvalidInputError(f"--role-arn {spec!r} names no role", hint=_SHORT_HINT)
    return check_role_arn(f"arn:{partition}:iam::{account}:role/{name}", name="--role-arn")


class AdHocRole:
    """A role given on the command line or to ``rolecall.assume_role``: the ARN and what a profile could say."""

    __slots__ = ("duration_seconds", "external_id", "role_arn", "role_session_name", "serial_number", "source")

    def __init__(
        self,
        role_arn: str,
        *,
        source: str | None,
        role_session_name: str | None = None,
        external_id: str | None = None,
        duration_seconds: int | None = None,
        serial_number: str | None = None,
    ) -> None:
        """``source``: the source profile's name, or None for the environment's keys (``credential_source``)."""
        self.role_arn = role_arn
        self.source = source
        self.role_session_name = role_session_name
        self.external_id = external_id
        self.duration_seconds = duration_seconds
        self.serial_number = serial_number

    @property
    def name(self) -> str:
        """The synthetic profile's name: the role's ARN (no profile in a real file is likely to be called that)."""
        return self.role_arn

    def check(self) -> None:
        """Refuse, as STS would, a session name, external id, duration or serial it would refuse (before a call)."""
        from rolecall import validation

        if self.role_session_name is not None:
            validation.check_role_session_name(self.role_session_name, name="--role-session-name")
        if self.external_id is not None:
            validation.check_external_id(self.external_id)
        if self.duration_seconds is not None:
            validation.check_duration(self.duration_seconds, name="--duration")
        if self.serial_number is not None:
            validation.check_serial_number(self.serial_number)


def synthetic_profile(role: AdHocRole, source_values: Mapping[str, ConfigValue] | None) -> dict[str, ConfigValue]:
    """The in-memory profile of ``role``: its keys, the source link, and the source profile's call settings
    (and its ``mfa_process`` when the device is the one it names, so codes come from the same command)."""
    values: dict[str, ConfigValue] = {}
    for key in CALL_SETTINGS:
        if source_values is not None and key in source_values:
            values[key] = source_values[key]
    values["role_arn"] = role.role_arn
    if role.source is None:
        values["credential_source"] = "Environment"
    else:
        values["source_profile"] = role.source
    optional: dict[str, object] = {
        "role_session_name": role.role_session_name,
        "external_id": role.external_id,
        "duration_seconds": None if role.duration_seconds is None else str(role.duration_seconds),
        "mfa_serial": role.serial_number,
    }
    values.update({key: str(value) for key, value in optional.items() if value is not None})
    if source_values is not None and role.serial_number and source_values.get("mfa_serial") == role.serial_number:
        for key in ("mfa_process", "mfa_strategy"):
            if key in source_values:
                values[key] = source_values[key]
    return values


class AdHocFiles(ConfigFiles):
    """The AWS files as read, plus one synthetic profile that only this object shows (nothing is written).

    Every lookup is answered by the files read (``base``) except for the synthetic profile's name, which is
    answered as a profile of the config file.
    """

    __slots__ = ("_base", "_extra", "_extra_name")

    def __init__(self, base: ConfigFiles, name: str, values: dict[str, ConfigValue]) -> None:
        """``base``: the files read; ``name`` and ``values``: the synthetic profile."""
        super().__init__(None, None, base.paths)
        self._base = base
        self._extra_name = name
        self._extra = values

    @property
    def config(self) -> dict[str, Any]:
        """The config file with the synthetic profile among its profiles."""
        config = dict(self._base.config)
        config["profiles"] = {**config.get("profiles", {}), self._extra_name: self._extra}
        return config

    @property
    def credentials(self) -> dict[str, dict[str, ConfigValue]]:
        """The credentials file as read."""
        return self._base.credentials

    @property
    def full_config(self) -> dict[str, Any]:
        """The merged view with the synthetic profile."""
        full = dict(self._base.full_config)
        full["profiles"] = {**full.get("profiles", {}), self._extra_name: self._extra}
        return full

    def config_profile(self, name: str) -> dict[str, ConfigValue] | None:
        """The synthetic profile for its name, else the config file's profile."""
        return self._extra if name == self._extra_name else self._base.config_profile(name)

    def credentials_section(self, name: str) -> dict[str, ConfigValue] | None:
        """The credentials file's section (the synthetic profile has none)."""
        return None if name == self._extra_name else self._base.credentials_section(name)

    def profile(self, name: str) -> dict[str, ConfigValue] | None:
        """The synthetic profile for its name, else the merged profile."""
        return self._extra if name == self._extra_name else self._base.profile(name)

    def profile_names(self) -> list[str]:
        """The real profiles' names, then the synthetic one."""
        return [*self._base.profile_names(), self._extra_name]

    @property
    def base(self) -> ConfigFiles:
        """The files as read, without the synthetic profile."""
        return self._base

    def require_profile(self, name: str) -> dict[str, ConfigValue]:
        """The synthetic profile for its name, else ``base.require_profile``."""
        return self._extra if name == self._extra_name else self._base.require_profile(name)


def keep_hint(role: AdHocRole, taken: Collection[str] = ()) -> str:
    """The stderr line after an ad-hoc role: nothing was written, and the ``add-role`` line that would keep it
    (named after the role, or ROLE-ACCOUNT when a profile in ``taken`` has that name already)."""
    import shlex

    name = role.role_arn.rsplit("/", 1)[-1]
    if name in taken:
        name = f"{name}-{role.role_arn.split(':')[4]}"
    words = ["rolecall", "add-role", "--yes", "--name", name, "--role-arn", role.role_arn]
    if role.source is not None:
        words += ["--source-profile", role.source]
    pairs = (
        ("--session-name", role.role_session_name),
        ("--external-id", role.external_id),
        ("--duration-seconds", None if role.duration_seconds is None else str(role.duration_seconds)),
        ("--mfa-serial", role.serial_number or "none"),  # add-role would otherwise add the user's device
    )
    words += [item for flag, value in pairs if value is not None for item in (flag, value)]
    return "no profile was written for this role; to keep it as one: " + " ".join(shlex.quote(w) for w in words)


def default_source(env: Mapping[str, str], source_profile: str | None) -> str | None:
    """The source of an ad-hoc role: ``source_profile`` when given; else, as the default chain decides, the
    environment's keys (None) when they are set and no profile is named by AWS_PROFILE / AWS_DEFAULT_PROFILE;
    else that profile, or ``default``."""
    from rolecall.config.paths import profile_from_env
    from rolecall.providers.environment import credentials_from_env

    if source_profile:
        return source_profile
    named = profile_from_env(env)
    if named is None and credentials_from_env(env) is not None:
        return None
    return named or "default"


def adhoc_chain(session: Session, role: AdHocRole, runtime: Runtime) -> Chain:
    """The provider chain of ``role`` on ``session``'s files, built as a profile's (the builder, the AWS CLI's
    cache key, MFA strategies and ``--explain`` unchanged). Refuses bad parameters before anything is resolved.

    The session adopts the files with the synthetic profile, so whatever the command asks of it afterwards about
    ``chain.profile`` (where STS and GetCallerIdentity calls go, the console's federation endpoint, what a server's
    clients are told) is answered for the role as for a profile.
    """
    from rolecall.providers.chain import build_chain

    role.check()
    files = session.files
    if isinstance(files, AdHocFiles):
        files = files.base
    source_values = files.profile(role.source) if role.source is not None else None
    session.adopt_files(AdHocFiles(files, role.name, synthetic_profile(role, source_values)))
    return build_chain(session.files, role.name, runtime, explicit=True)
