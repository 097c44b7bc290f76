"""The profile side of ``rolecall login``: which profile, whether it may take a ``login_session``, and the write.

As ``aws login``: a profile that already has another kind of credentials (web identity, IAM Identity Center,
access keys, a role, a ``credential_process``) is refused, since those would win over the session in every SDK;
``login_session`` is set in the config file's profile section (created if missing), and ``region`` too when one
was given and the profile has none. The write goes through ``rolecall.config.edit`` (format-preserving, locked,
atomic, verified).
"""

from __future__ import annotations

from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.parse import ConfigValue

#: Keys that make a profile another kind of source, and how the message names that kind (the CLI v2's order).
_OTHER_KINDS = (
    ("web_identity_token_file", "web identity"),
    ("sso_role_name", "IAM Identity Center (SSO)"),
    ("sso_account_id", "IAM Identity Center (SSO)"),
    ("aws_access_key_id", "access key"),
    ("role_arn", "assume-role"),
    ("credential_process", "credential_process"),
)


def login_command(profile: str) -> str:
    """The command that signs this profile in again (for hints)."""
    return "rolecall login" if profile == "default" else f"rolecall login --profile {profile}"


def refuse_other_credentials(profile: str, values: Mapping[str, ConfigValue]) -> None:
    """``ConfigError`` when the profile's own keys already give it other credentials."""
    for key, kind in _OTHER_KINDS:
        if key in values:
            raise ConfigError(
                f'profile "{profile}" already has {kind} credentials ({key}), which would be used instead of a '
                "console sign-in",
                hint=f"sign in to a new profile: rolecall login --profile {profile}-login (or remove {key} from "
                f'"{profile}" first)',
            )


def write_login_session(config_file: str, profile: str, login_session: str, region: str | None) -> bool:
    """Set ``login_session`` (and ``region``, when given) in the profile's section; True when the file changed."""
    from rolecall.config.edit import SectionRef, update_section

    changes: dict[str, str | None] = {"login_session": login_session}
    if region:
        changes["region"] = region
    return update_section(config_file, SectionRef.profile(profile), changes)
