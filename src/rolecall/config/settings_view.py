"""What ``rolecall configure list`` and ``configure get`` show, and where each value comes from.

The AWS CLI's rules for reading settings back, as values (no printing): which profile is selected and by what
(``--profile``, ``AWS_PROFILE``, ``AWS_DEFAULT_PROFILE``), the precedence of environment variables over the
files for credentials and region (and the instance's region from IMDS last), which file holds each value, the
masking of secrets, and the dotted names ``configure get`` understands (``profile.NAME.KEY``, ``plugins.X``;
the ``--sso-session``/``--services`` sub-sections are ``rolecall.config.subsections``).
``rolecall.cli.commands.configure`` renders them.

Off the fast path. ``sts.resolve_settings`` decides where an STS call goes (and refuses a malformed region);
this module only reports, and never refuses what it finds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rolecall.config.edit import PREDEFINED_SECTIONS
from rolecall.config.paths import profile_from_env
from rolecall.errors import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rolecall.config.parse import ConfigFiles, ConfigValue
    from rolecall.config.paths import AwsPaths

__all__ = [
    "NOT_SET",
    "SettingRow",
    "list_rows",
    "lookup",
    "mask",
    "profile_and_source",
]

#: How ``configure list`` shows a value that nothing sets (the AWS CLI's words).
NOT_SET = "<not set>"

#: ``configure list``'s credential rows: (row name, key in the files, environment variable).
_CREDENTIAL_ROWS = (
    ("access_key", "aws_access_key_id", "AWS_ACCESS_KEY_ID"),
    ("secret_key", "aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
    ("token", "aws_session_token", "AWS_SESSION_TOKEN"),
)

#: Profile settings ``configure list`` shows when they are set (rolecall's additions to the AWS CLI's rows).
_ROLE_KEYS = ("role_arn", "source_profile", "credential_source", "mfa_serial", "credential_process")

#: The environment variables naming a region, in the AWS CLI v2's order (as ``sts.resolve_settings``).
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


@dataclass(frozen=True)
class SettingRow:
    """One row of ``configure list``: the setting, its (masked) value, the kind of source and where exactly.

    ``kind`` is the AWS CLI's TYPE column: ``manual`` (``--profile``), ``env``, ``shared-credentials-file``,
    ``config-file``, ``imds`` or ``None``; ``location`` names the variable or the file (``None`` when unset).
    """

    name: str
    value: str
    kind: str
    location: str


def mask(value: str) -> str:
    """A secret shown safely: the AWS CLI's 16 stars and last four characters, all stars when it is short."""
    if len(value) < 12:
        return "*" * 16  # the last four of a short value would give too much of it away
    return "*" * 16 + value[-4:]


def profile_and_source(flag: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(profile, where it came from): ``--profile`` beats AWS_PROFILE, then AWS_DEFAULT_PROFILE; None if unset."""
    if flag:
        return flag, "--profile"
    from_env = profile_from_env(env)
    if from_env is not None:
        return from_env, "AWS_PROFILE" if env.get("AWS_PROFILE") else "AWS_DEFAULT_PROFILE"
    return None, None


# ---------------------------------------------------------------------------------------------------- list


def list_rows(
    files: ConfigFiles,
    paths: AwsPaths,
    env: Mapping[str, str],
    profile: str | None,
    source: str | None,
    *,
    imds_region: Callable[[Mapping[str, str], str | None], str | None] | None = None,
) -> list[SettingRow]:
    """The rows of ``configure list`` for ``profile`` (None: ``default``, not named), selected by ``source``.

    A named profile must exist (``ProfileNotFoundError``). Secrets are masked; a ``credential_process`` shows as
    ``(a command)``. ``imds_region(env, profile)`` is asked for the region only when nothing else sets one
    (default: ``rolecall.providers.botocore_source.imds_region``, which asks only when IMDS use is enabled).
    """
    name = profile or "default"
    settings: Mapping[str, ConfigValue] = files.require_profile(name) if profile else (files.profile(name) or {})
    in_credentials = files.credentials.get(name, {})

    def file_of(key: str) -> tuple[str, str]:
        if key in in_credentials:
            return "shared-credentials-file", paths.credentials_file
        return "config-file", paths.config_file

    kind = "manual" if source == "--profile" else ("env" if source else "None")
    rows = [SettingRow("profile", name if profile else NOT_SET, kind, source or "None")]
    # Environment credentials win unless a profile was named on the command line (botocore's rule).
    env_keys = source != "--profile" and bool(env.get("AWS_ACCESS_KEY_ID"))
    for row, key, variable in _CREDENTIAL_ROWS:
        env_value = env.get(variable) if env_keys else None
        file_value = settings.get(key)
        if env_value:
            rows.append(SettingRow(row, mask(env_value), "env", variable))
        elif isinstance(file_value, str) and file_value:
            rows.append(SettingRow(row, mask(file_value), *file_of(key)))
        elif row != "token":
            rows.append(SettingRow(row, NOT_SET, "None", "None"))
    for key in _ROLE_KEYS:
        value = settings.get(key)
        if isinstance(value, str) and value:
            rows.append(SettingRow(key, value if key != "credential_process" else "(a command)", *file_of(key)))
    rows.append(_region_row(files, env, name, settings, file_of, imds_region))
    return rows


def _region_row(
    files: ConfigFiles,
    env: Mapping[str, str],
    name: str,
    settings: Mapping[str, ConfigValue],
    file_of: Callable[[str], tuple[str, str]],
    imds_region: Callable[[Mapping[str, str], str | None], str | None] | None,
) -> SettingRow:
    """AWS_REGION > AWS_DEFAULT_REGION > the profile's region > the instance's region (IMDS) > not set."""
    variable = next((v for v in _REGION_VARIABLES if env.get(v)), None)
    if variable:
        return SettingRow("region", env[variable], "env", variable)
    region = settings.get("region")
    if isinstance(region, str) and region:
        return SettingRow("region", region, *file_of("region"))
    if imds_region is None:
        # The AWS CLI v2's last region source: the instance's own region, asked only when IMDS use is enabled.
        from rolecall.providers import botocore_source

        imds_region = botocore_source.imds_region
    found = imds_region(env, name if name in files.profile_names() else None)
    return SettingRow("region", found, "imds", "") if found else SettingRow("region", NOT_SET, "None", "None")


# ---------------------------------------------------------------------------------------------------- get


def lookup(files: ConfigFiles, varname: str, profile: str | None) -> ConfigValue | None:
    """What ``aws configure get VARNAME`` finds, from the merged files (environment variables do not count).

    ``profile`` is the selected profile or None (then ``default``). A plain name is looked up in that
    profile, which must exist when it was named explicitly (``ProfileNotFoundError``). Dotted names:
    ``plugins.X``/``preview.X``; ``profile.NAME.KEY[.SUB]``; ``default.KEY[.SUB]`` or ``NAME.KEY[.SUB]`` for
    any existing profile NAME; otherwise ``KEY.SUB`` in the selected profile. Keys are matched
    case-insensitively, as the files define them; sub-keys exactly. Returns None when there is no such value.
    """
    full: dict[str, Any] = files.full_config
    profiles: dict[str, dict[str, ConfigValue]] = full["profiles"]
    if "." not in varname:
        # A named profile must exist (as botocore's get_scoped_config insists); an unnamed default may be absent.
        scoped = profiles.get("default", {}) if profile is None else files.require_profile(profile)
        return scoped.get(varname.lower())
    parts = varname.split(".")
    if len(parts) == 2 and parts[0] in PREDEFINED_SECTIONS:
        section = full.get(parts[0]) or {}
        value: ConfigValue | None = section.get(parts[1].lower())
        if value is None:
            value = profiles.get(parts[0], {}).get(parts[1].lower())
        return value
    if parts[0] == "profile":
        if len(parts) < 3:
            raise InvalidInputError(f"'{varname}' names no key", hint="use profile.NAME.KEY, e.g. profile.dev.region")
        name, key, remaining = parts[1], parts[2], parts[3:]
    elif parts[0] == "default" or parts[0] in profiles:
        name, key, remaining = parts[0], parts[1], parts[2:]
    else:
        name, key, remaining = profile or "default", parts[0], parts[1:]
    value = profiles.get(name, {}).get(key.lower())
    if len(remaining) == 1:
        value = value.get(remaining[0]) if isinstance(value, dict) else None
    return value
