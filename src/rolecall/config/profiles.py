"""``Profile``: one profile's settings, typed, read from the merged config and credentials files.

The keys and their meaning are the AWS CLI's (aws-cli-compat.md 3.3), plus rolecall's own
``mfa_strategy``, ``mfa_process`` and ``mfa_session_duration``.
"""

from __future__ import annotations

from rolecall.config import graph, refusals
from rolecall.config.graph import STATIC_KEY_NAMES as STATIC_KEY_NAMES
from rolecall.config.refusals import CREDENTIAL_SOURCES as CREDENTIAL_SOURCES
from rolecall.config.refusals import MFA_STRATEGIES as MFA_STRATEGIES
from rolecall.config.refusals import REGION_HINT as REGION_HINT
from rolecall.config.refusals import REGION_MAX as REGION_MAX
from rolecall.config.refusals import is_valid_region as is_valid_region

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.parse import ConfigFiles, ConfigValue

class Profile:
    """The settings of one profile that matter for getting credentials. Immutable."""

    __slots__ = (
        "credential_process",
        "credential_source",
        "duration_seconds",
        "external_id",
        "mfa_process",
        "mfa_serial",
        "mfa_session_duration",
        "mfa_strategy",
        "name",
        "raw",
        "region",
        "role_arn",
        "role_session_name",
        "source_profile",
        "web_identity_token_file",
    )

    name: str
    raw: Mapping[str, ConfigValue]
    role_arn: str | None
    source_profile: str | None
    credential_source: str | None
    mfa_serial: str | None
    external_id: str | None
    role_session_name: str | None
    duration_seconds: int | None
    credential_process: str | None
    web_identity_token_file: str | None
    region: str | None
    mfa_strategy: str | None
    mfa_process: str | None
    mfa_session_duration: int | None

    def __init__(self, name: str, raw: Mapping[str, ConfigValue]) -> None:
        set_ = object.__setattr__
        set_(self, "name", name)
        set_(self, "raw", raw)
        for key in (
            "role_arn",
            "source_profile",
            "credential_source",
            "mfa_serial",
            "external_id",
            "role_session_name",
            "credential_process",
            "web_identity_token_file",
            "region",
            "mfa_process",
        ):
            set_(self, key, _text(raw, key))
        set_(self, "duration_seconds", _integer(raw, "duration_seconds", name))
        set_(self, "mfa_session_duration", _integer(raw, "mfa_session_duration", name))
        strategy = _text(raw, "mfa_strategy")
        refusal = refusals.mfa_strategy(name, strategy)
        if refusal is not None:
            raise refusal.error()
        set_(self, "mfa_strategy", strategy)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Profile is immutable")

    def __repr__(self) -> str:
        return f"Profile({self.name!r})"

    @property
    def has_static_keys(self) -> bool:
        """True when the profile names an access key or a secret key (``config.graph.has_static_keys``)."""
        return graph.has_static_keys(self.raw)

    @property
    def is_assume_role_hop(self) -> bool:
        """True when botocore resolves this profile with AssumeRole (``config.graph.is_assume_role_hop``)."""
        return graph.is_assume_role_hop(self.raw)

    def get(self, key: str) -> str | None:
        """A plain string setting of this profile, or None (nested blocks are not strings)."""
        return _text(self.raw, key)


def require_named_profile(
    files: ConfigFiles, name: str, env: Mapping[str, str], explicit: bool
) -> dict[str, ConfigValue]:
    """The settings of the named profile ``name``, or ``ProfileNotFoundError``.

    When the environment named it (``AWS_PROFILE`` / ``AWS_DEFAULT_PROFILE``, not a ``--profile`` argument), the
    message says which variable, and that keys in the environment are not used instead: botocore (every ``aws``
    command) raises ProfileNotFound for ``AWS_PROFILE=typo`` even with ``AWS_ACCESS_KEY_ID`` set.
    """
    from rolecall.errors import ProfileNotFoundError

    try:
        return files.require_profile(name)
    except ProfileNotFoundError as error:
        variable = "AWS_PROFILE" if env.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"
        if explicit or not env.get(variable):
            raise
        keys = (
            " (the keys in AWS_ACCESS_KEY_ID are not used instead, as in the AWS CLI)"
            if env.get("AWS_ACCESS_KEY_ID")
            else ""
        )
        raise ProfileNotFoundError(
            f"{error.message}; {variable} names it{keys}",
            hint=(f"{error.hint.rstrip('.')}; or" if error.hint else "Or") + f" unset {variable} (`unset {variable}`)",
        ) from None


_text = graph.text


def _integer(raw: Mapping[str, ConfigValue], key: str, profile: str) -> int | None:
    value = _text(raw, key)
    refusal = refusals.whole_seconds(profile, key, value)
    if refusal is not None:
        raise refusal.error()
    return None if value is None else int(value)
