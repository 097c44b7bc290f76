"""The AWS CLI v2's ``--sso-session NAME`` / ``--services NAME`` targets of ``configure get`` and ``configure set``.

``[sso-session NAME]`` and ``[services NAME]`` sections of the config file hold ``KEY`` or ``KEY.SUB`` values
(``sso_region``, ``s3.endpoint_url``). This module checks the section name and the key as the AWS CLI v2 does,
reads a value (``lookup_subsection``) and writes one (``set_in_subsection``, through the format-preserving
editor). Nothing here prints or exits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rolecall.errors import ConfigError, InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.parse import ConfigFiles, ConfigValue
    from rolecall.reporting import Reporter

__all__ = [
    "SUBSECTION_OPTIONS",
    "Subsection",
    "lookup_subsection",
    "set_in_subsection",
    "subsection_from_options",
    "subsection_key",
]

#: The AWS CLI v2's sub-section options: option -> (section kind in the config file, key of botocore's full config).
SUBSECTION_OPTIONS = {"sso_session": ("sso-session", "sso_sessions"), "services": ("services", "services")}


@dataclass(frozen=True)
class Subsection:
    """A ``--sso-session NAME`` or ``--services NAME`` target: the section kind, botocore's key, the name."""

    kind: str
    full_key: str
    name: str


def subsection_from_options(options: Mapping[str, str | None]) -> Subsection | None:
    r"""The sub-section named by ``options`` (``{"sso_session": NAME}`` or ``{"services": NAME}``), or None.

    The name is checked as the AWS CLI v2 checks it (``re.match(r"[\w\d_\-/.%@:\+]+", name)``: its first
    character must be a word character or one of ``-/.%@:+``); a name the files could not hold is refused later
    by the editor. Raises ``InvalidInputError`` naming the option.
    """
    for option, (kind, full_key) in SUBSECTION_OPTIONS.items():
        name = options.get(option)
        if name is None:
            continue
        flag = "--" + option.replace("_", "-")
        if not re.match(r"[\w\d_\-/.%@:\+]+", name):
            raise InvalidInputError(
                f"invalid value for {flag}: {name!r}",
                hint="a section name starts with a letter, a digit or one of _ - / . % @ : +",
            )
        return Subsection(kind, full_key, name)
    return None


def subsection_key(varname: str) -> tuple[str, str | None]:
    """``KEY`` or ``KEY.SUB`` of a sub-section (the AWS CLI v2 refuses deeper names)."""
    parts = varname.split(".")
    if len(parts) > 2:
        raise InvalidInputError(
            f"'{varname}' nests too deep", hint="a sub-section takes KEY or KEY.SUB, e.g. s3.endpoint_url"
        )
    return parts[0], parts[1] if len(parts) == 2 else None


def lookup_subsection(files: ConfigFiles, full_key: str, name: str, varname: str) -> ConfigValue | None:
    """What ``aws configure get VARNAME --sso-session NAME`` (or ``--services NAME``) finds: ``KEY`` or
    ``KEY.SUB`` of that section in botocore's full config (``full_key`` is ``sso_sessions`` or ``services``).

    A section that does not exist is a ``ConfigError`` (the AWS CLI v2: "The config sub-section (NAME) could not
    be found"); a name nested deeper than ``KEY.SUB`` finds nothing, as in the AWS CLI v2.
    """
    sections: dict[str, dict[str, ConfigValue]] = files.full_config.get(full_key) or {}
    section = sections.get(name)
    if section is None:
        kind = next(kind for kind, key in SUBSECTION_OPTIONS.values() if key == full_key)
        raise ConfigError(
            f"the config sub-section [{kind} {name}] could not be found",
            hint=f"check the name: only sections written [{kind} NAME] in the config file count",
        )
    parts = varname.split(".")
    if len(parts) == 1:
        return section.get(varname.lower())
    if len(parts) == 2:
        value = section.get(parts[0].lower())
        return value.get(parts[1]) if isinstance(value, dict) else None
    return None


def set_in_subsection(
    config_file: str, subsection: Subsection, varname: str, value: str, *, reporter: Reporter
) -> None:
    """``configure set KEY[.SUB] VALUE --sso-session NAME`` (or ``--services NAME``): always the config file, in
    ``[sso-session NAME]`` / ``[services NAME]`` (created at the end when missing), whatever ``--profile`` says.

    A credential key is refused (``InvalidInputError``): nothing reads credentials from these sections.
    """
    from rolecall.config.edit import CREDENTIAL_KEYS, Change, SectionRef, update_section

    kind, name = subsection.kind, subsection.name
    key, subkey = subsection_key(varname)
    if subkey is None and key.lower() in CREDENTIAL_KEYS:
        # The AWS CLI v2 would write the secret into the config file, where nothing reads it.
        raise InvalidInputError(
            f"{key} does not belong in [{kind} {name}]: no credentials are read from it",
            hint=f"keys go to a profile in the credentials file: rolecall configure set {key} ... --profile NAME",
        )
    change: dict[str, Change] = {key: value if subkey is None else {subkey: value}}
    update_section(config_file, SectionRef(kind, name), change, reporter=reporter)
