"""How to reach an AWS service: :class:`StsSettings`, an immutable value, and :func:`resolve_settings`, which
works it out from the environment, the profile's keys and the command line with botocore's precedence.

Pure: nothing here imports botocore or reads ``os.environ`` or the user's files. The one question only botocore
can answer, whether it accepts an endpoint URL, is asked through ``rolecall.aws.transport`` (lazily, and only
when an endpoint URL is set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rolecall import validation
from rolecall.aws.redaction import redact_url
from rolecall.errors import ConfigError, InvalidInputError

__all__ = ["LEGACY_GLOBAL_STS_REGIONS", "SERVICE_IDS", "SERVICE_NAMES", "StsSettings", "resolve_settings"]

#: Regions botocore sends to the global endpoint when ``sts_regional_endpoints = legacy``.
LEGACY_GLOBAL_STS_REGIONS = frozenset(
    {
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1",
        "us-east-2", "us-west-1", "us-west-2",
    }
)  # fmt: skip

#: botocore's service ids of the services rolecall talks to (they name the endpoint variables and blocks).
SERVICE_IDS = {"sts": "STS", "sso-oidc": "SSO OIDC", "sso": "SSO", "iam": "IAM", "signin": "Signin"}
#: How messages name each service.
SERVICE_NAMES = {
    "sts": "STS",
    "sso-oidc": "IAM Identity Center (OIDC)",
    "sso": "the IAM Identity Center portal",
    "iam": "IAM",
    "signin": "AWS Sign-In",
}

_TIMESTAMP_FORMATS = ("iso8601", "none", "wire")
_RETRY_MODES = ("legacy", "standard", "adaptive")
_STS_REGIONAL_VALUES = ("legacy", "regional")


@dataclass(frozen=True)
class StsSettings:
    """How to reach STS: an immutable value built by :func:`resolve_settings` (or by hand in tests).

    ``ca_bundle`` is what botocore calls ``verify``: a CA file path, ``False`` to skip verification, or
    ``None``/``True`` for the system default. ``max_attempts`` counts the first attempt too (as
    ``AWS_MAX_ATTEMPTS`` does). ``timestamp_format`` is ``iso8601`` (responses carry ``datetime``) or
    ``none``/``wire`` (responses carry the timestamp strings exactly as STS sent them, as the AWS CLI
    does with ``cli_timestamp_format = none``). ``proxies`` maps a URL scheme to a proxy URL;
    ``no_proxy`` is the ``NO_PROXY`` list of hosts that bypass it.
    """

    region: str | None = None
    endpoint_url: str | None = None
    ca_bundle: str | bool | None = None
    max_attempts: int | None = None
    retry_mode: str | None = None
    proxies: Mapping[str, str] | None = None
    timestamp_format: str = "iso8601"
    sts_regional_endpoints: str = "regional"
    no_proxy: str | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    #: Extra text for the User-Agent header (botocore's ``user_agent_extra``).
    user_agent_extra: str = field(default="rolecall")
    #: The botocore service name the settings are for: ``sts`` (default), ``sso-oidc`` or ``sso``.
    service: str = "sts"
    #: The profile these settings were worked out for, when known: for messages only (an unreachable endpoint names
    #: it), so it takes no part in equality, hashing or ``cache_key`` (one client serves every profile alike).
    profile: str | None = field(default=None, compare=False)

    def cache_key(self) -> tuple[object, ...]:
        """The settings as a hashable tuple (``proxies`` is a dict: its items are hashed), to key a cache."""
        return tuple(
            (name, tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
            for name, value in sorted(vars(self).items())
            if name != "profile"
        )

    def __hash__(self) -> int:
        return hash(self.cache_key())

    def with_overrides(self, **changes: Any) -> StsSettings:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    @property
    def raw_timestamps(self) -> bool:
        """True when timestamps are kept as the strings STS sent (``none``/``wire``)."""
        return self.timestamp_format in ("none", "wire")

    @property
    def service_name(self) -> str:
        """How messages name the service of these settings."""
        return SERVICE_NAMES.get(self.service, self.service)

    @property
    def endpoint_variable(self) -> str:
        """The service's own endpoint variable (``AWS_ENDPOINT_URL_STS``), for hints."""
        return endpoint_variable(self.service)


def endpoint_variable(service: str) -> str:
    """``AWS_ENDPOINT_URL_<SERVICE ID>`` of a botocore service name (``AWS_ENDPOINT_URL_SSO_OIDC``)."""
    return "AWS_ENDPOINT_URL_" + SERVICE_IDS.get(service, service).upper().replace(" ", "_")


# ----------------------------------------------------------------------------------------------------------------
# Reading the values


def _truthy(value: object) -> bool:
    """botocore's ``ensure_boolean``: only the string ``true`` (any case) or ``True`` counts as true."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() == "true"


def _text(value: object) -> str | None:
    """A config value as a non-empty string, or ``None`` (nested sections are not scalar values)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _nested(value: object) -> dict[str, str]:
    """A nested config block (``sts =\\n  endpoint_url = ...``) as a dict, parsed or still raw text."""
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    result: dict[str, str] = {}
    if isinstance(value, str):
        for line in value.splitlines():
            key, sep, val = line.partition("=")
            if sep and key.strip():
                result[key.strip().lower()] = val.strip()
    return result


def _services_endpoint(
    profile: Mapping[str, object], full_config: Mapping[str, Any] | None, block_name: str = "sts"
) -> str | None:
    """The ``endpoint_url`` of the ``block_name`` block of the profile's ``[services NAME]`` section, if any."""
    name = _text(profile.get("services"))
    if name is None:
        return None
    sections = (full_config or {}).get("services") or {}
    if name not in sections:
        raise ConfigError(
            f'the profile uses the services section "{name}", but there is no [services {name}] section',
            hint=f"add a [services {name}] section to the config file, or remove 'services = {name}'",
        )
    section = sections[name]
    block = section.get(block_name) if isinstance(section, Mapping) else None
    return _text(_nested(block).get("endpoint_url")) if block is not None else None


def _proxies_from_env(env: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The proxies the environment asks for, as urllib reads them (lower-case names win, as in urllib)."""
    proxies: dict[str, str] = {}
    for scheme in ("http", "https"):
        value = env.get(f"{scheme}_proxy") or env.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies[scheme] = value
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or None
    return proxies, no_proxy


def _first(*candidates: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """The first non-empty value and where it came from (``None``: the caller's own argument)."""
    for value, source in candidates:
        if value:
            return value, source
    return None, None


# ----------------------------------------------------------------------------------------------------------------
# Checking the values (in this order: the first bad one is the one reported)


def _check_region(value: str, source: str | None) -> None:
    """Refuse a region botocore would refuse (``InvalidRegionError``) before any client is made.

    A region passed by the caller (``--region``) is invalid input (exit 8); one from the environment or the
    profile is a configuration error (exit 3). The message names the value and where it came from.
    """
    if validation.is_valid_region(value):
        return
    if source is None:
        raise InvalidInputError(f"--region {value!r} is not a valid region name", hint=validation.REGION_HINT)
    fix = f"set {source} to a valid region or unset it" if source.isupper() else "fix region in the profile"
    raise ConfigError(f"{source} {value!r} is not a valid region name", hint=f"{fix}; {validation.REGION_HINT}")


def _check_endpoint(url: str, source: str | None) -> None:
    """Refuse an endpoint URL botocore would refuse (``ValueError: Invalid endpoint``) before any client is made.

    From the caller (``--endpoint-url``): invalid input (exit 8); from the environment or the files: a
    configuration error (exit 3). Any ``user:password@`` in the URL is hidden.
    """
    from rolecall.aws.transport import endpoint_is_valid  # botocore's own test, asked where botocore lives

    if endpoint_is_valid(url):
        return
    shown = redact_url(url)
    hint = "an endpoint URL has a scheme and a host, e.g. https://sts.us-east-1.amazonaws.com or http://127.0.0.1:5000"
    if source is None:
        raise InvalidInputError(f"--endpoint-url {shown!r} is not a valid URL", hint=hint)
    fix = f"set {source} to a valid URL or unset it" if source.isupper() else "fix it in the config file"
    raise ConfigError(f"{source} {shown!r} is not a valid endpoint URL", hint=f"{fix}; {hint}")


def _region(env: Mapping[str, str], prof: Mapping[str, object], region: str | None) -> str | None:
    """``--region`` > ``AWS_REGION`` > ``AWS_DEFAULT_REGION`` > the profile's ``region``, checked."""
    chosen, source = _first(
        (region, None),
        (env.get("AWS_REGION"), "AWS_REGION"),
        (env.get("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"),
        (_text(prof.get("region")), "the profile's region"),
    )
    if chosen is not None:
        _check_region(chosen, source)
    return chosen


def _endpoint(
    env: Mapping[str, str],
    prof: Mapping[str, object],
    full_config: Mapping[str, Any] | None,
    endpoint_url: str | None,
    service: str,
) -> str | None:
    """The endpoint URL with botocore's precedence (see :func:`resolve_settings`), checked."""
    ignore_value = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    ignore_configured = _truthy(
        ignore_value if ignore_value is not None else prof.get("ignore_configured_endpoint_urls")
    )
    chosen, source = _first((endpoint_url, None))
    service_variable = endpoint_variable(service)
    block_name = SERVICE_IDS.get(service, service).lower().replace(" ", "_")
    if chosen is None and not ignore_configured:
        chosen, source = _first(
            (env.get(service_variable), service_variable),
            (env.get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"),
            (_services_endpoint(prof, full_config, block_name), "the endpoint_url of the profile's [services] section"),
            (_text(prof.get("endpoint_url")), "the profile's endpoint_url"),
        )
    if chosen is not None:
        _check_endpoint(chosen, source)
    return chosen


def _regional_endpoints(env: Mapping[str, str], prof: Mapping[str, object]) -> str:
    """``AWS_STS_REGIONAL_ENDPOINTS`` / ``sts_regional_endpoints``: ``regional`` (default) or ``legacy``."""
    regional = (
        env.get("AWS_STS_REGIONAL_ENDPOINTS") or _text(prof.get("sts_regional_endpoints")) or "regional"
    ).lower()
    if regional not in _STS_REGIONAL_VALUES:
        raise ConfigError(
            f'STS regional endpoints option {regional} is invalid. Valid options are: "legacy", "regional"',
            hint="set sts_regional_endpoints (or AWS_STS_REGIONAL_ENDPOINTS) to regional or legacy",
        )
    return regional


def _max_attempts(env: Mapping[str, str], prof: Mapping[str, object]) -> int | None:
    """``AWS_MAX_ATTEMPTS`` / ``max_attempts``: a positive whole number, or None when not set."""
    raw_attempts = env.get("AWS_MAX_ATTEMPTS") or _text(prof.get("max_attempts"))
    if raw_attempts is None:
        return None
    try:
        max_attempts = int(raw_attempts)
    except ValueError:
        max_attempts = -1
    if max_attempts < 1:
        raise ConfigError(
            f"max_attempts must be a positive whole number, not {raw_attempts!r}",
            hint="set AWS_MAX_ATTEMPTS or max_attempts to e.g. 3",
        )
    return max_attempts


def _retry_mode(env: Mapping[str, str], prof: Mapping[str, object]) -> str | None:
    """``AWS_RETRY_MODE`` / ``retry_mode``: legacy, standard or adaptive, or None when not set."""
    retry_mode = env.get("AWS_RETRY_MODE") or _text(prof.get("retry_mode")) or None
    if retry_mode is not None and retry_mode not in _RETRY_MODES:
        raise ConfigError(
            f"retry_mode {retry_mode!r} is not valid",
            hint="use one of: " + ", ".join(_RETRY_MODES),
        )
    return retry_mode


def _timestamp_format(prof: Mapping[str, object]) -> str:
    """The profile's ``cli_timestamp_format`` (default ``iso8601``, as the AWS CLI v2)."""
    timestamp_format = (_text(prof.get("cli_timestamp_format")) or "iso8601").lower()
    if timestamp_format not in _TIMESTAMP_FORMATS:
        raise ConfigError(
            f'Unknown cli_timestamp_format value: {timestamp_format}, valid values are "none", "wire" or "iso8601"',
            hint="fix cli_timestamp_format in the profile",
        )
    return timestamp_format


def resolve_settings(
    env: Mapping[str, str],
    profile: Mapping[str, object] | None,
    full_config: Mapping[str, Any] | None,
    region: str | None = None,
    endpoint_url: str | None = None,
    *,
    service: str = "sts",
) -> StsSettings:
    """Work out how to reach STS from the environment, the profile's keys and the command line.

    ``service`` names another botocore service the same rules apply to (``sso-oidc``, ``sso``): its
    ``AWS_ENDPOINT_URL_<SERVICE ID>`` variable (``AWS_ENDPOINT_URL_SSO_OIDC``) and its block in the
    ``[services]`` section (``sso_oidc``) take the place of STS's, as botocore names them.

    Region: ``region`` (``--region``) > ``AWS_REGION`` > ``AWS_DEFAULT_REGION`` > the profile's
    ``region``. This is the AWS CLI v2 / current SDK order (botocore and the CLI v1 read only
    ``AWS_DEFAULT_REGION``); rolecall follows v2 as it does for ``AWS_PROFILE``.

    Endpoint: ``endpoint_url`` (``--endpoint-url``) > ``AWS_ENDPOINT_URL_STS`` > ``AWS_ENDPOINT_URL`` >
    the ``sts`` block of the profile's ``[services NAME]`` section > the profile's ``endpoint_url``;
    all but the first are ignored when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` (or the profile's
    ``ignore_configured_endpoint_urls``) is true, as botocore does.

    Also: ``AWS_STS_REGIONAL_ENDPOINTS``/``sts_regional_endpoints`` (default ``regional``, as
    botocore >= 1.40), ``AWS_CA_BUNDLE``/``ca_bundle``, ``AWS_MAX_ATTEMPTS``/``max_attempts``,
    ``AWS_RETRY_MODE``/``retry_mode``, the profile's ``cli_timestamp_format`` (default ``iso8601``,
    as the AWS CLI v2) and ``HTTP(S)_PROXY``/``NO_PROXY`` from ``env`` (never from ``os.environ``).
    Raises ``ConfigError`` for a value botocore would reject (a malformed region or endpoint URL included), or
    ``InvalidInputError`` when that value is ``region``/``endpoint_url`` itself (``--region``/``--endpoint-url``).
    """
    prof: Mapping[str, object] = profile or {}
    chosen_region = _region(env, prof, region)
    chosen_endpoint = _endpoint(env, prof, full_config, endpoint_url, service)
    regional = _regional_endpoints(env, prof)
    ca_bundle: str | bool | None = env.get("AWS_CA_BUNDLE") or _text(prof.get("ca_bundle")) or None
    max_attempts = _max_attempts(env, prof)
    retry_mode = _retry_mode(env, prof)
    timestamp_format = _timestamp_format(prof)
    proxies, no_proxy = _proxies_from_env(env)
    return StsSettings(
        region=chosen_region,
        endpoint_url=chosen_endpoint,
        ca_bundle=ca_bundle,
        max_attempts=max_attempts,
        retry_mode=retry_mode,
        proxies=proxies,
        timestamp_format=timestamp_format,
        sts_regional_endpoints=regional,
        no_proxy=no_proxy,
        service=service,
    )
