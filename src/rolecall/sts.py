"""Talking to AWS: the ONLY module of rolecall that imports botocore, and only inside functions.

Mostly STS; the IAM Identity Center services (``sso-oidc`` and the ``sso`` portal) go through the same
clients, settings and error translation by way of :func:`call_service` (``rolecall.sso.api`` gives them
their own names and hints).

Every call takes an explicit :class:`StsSettings` (how to reach STS) and explicit credentials, so
nothing here reads ``os.environ`` or the user's files behind the caller's back: the botocore session
is pinned to its defaults and every setting comes from ``StsSettings``. Botocore's own errors never
escape: they become ``rolecall.errors`` subclasses with one clear line and a hint, never a secret.

Creating a botocore session and loading the STS model costs tens of milliseconds; a long-running
process (the credentials server) calls STS many times, so the data loader is a per-process lazy
singleton shared by a few cached sessions, and clients are kept in a small cache.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from rolecall import validation
from rolecall.credentials import Credentials
from rolecall.errors import (
    AwsError,
    ConfigError,
    EndpointAnswerError,
    ExpiredCredentialsError,
    FileError,
    InvalidInputError,
    MfaError,
    NetworkError,
    RolecallError,
)
from rolecall.timefmt import parse_timestamp

# botocore ships no type information; its session and client objects are typed as Any here.
Session = Any
BaseClient = Any

__all__ = [
    "MfaRejectedError",
    "StsSettings",
    "assume_role",
    "assume_role_with_web_identity",
    "botocore_source_credentials",
    "credentials_from_response",
    "get_caller_identity",
    "get_federation_token",
    "get_session_token",
    "imds_region",
    "list_mfa_devices",
    "resolve_settings",
]

#: Regions botocore sends to the global endpoint when ``sts_regional_endpoints = legacy``.
LEGACY_GLOBAL_STS_REGIONS = frozenset(
    {
        "ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "aws-global", "ca-central-1",
        "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1",
        "us-east-2", "us-west-1", "us-west-2",
    }
)  # fmt: skip

#: botocore's service ids of the services rolecall talks to (they name the endpoint variables and blocks).
_SERVICE_IDS = {"sts": "STS", "sso-oidc": "SSO OIDC", "sso": "SSO", "iam": "IAM"}
#: How messages name each service.
SERVICE_NAMES = {
    "sts": "STS",
    "sso-oidc": "IAM Identity Center (OIDC)",
    "sso": "the IAM Identity Center portal",
    "iam": "IAM",
}

_TIMESTAMP_FORMATS = ("iso8601", "none", "wire")
_RETRY_MODES = ("legacy", "standard", "adaptive")
_STS_REGIONAL_VALUES = ("legacy", "regional")


class MfaRejectedError(MfaError):
    """STS refused the MFA code that was sent (exit code MFA); ``code`` is the AWS error code."""

    def __init__(self, message: str, hint: str | None = None, code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


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

    def _key(self) -> tuple[object, ...]:
        # ``proxies`` is a dict: hash its items, so settings can key a cache.
        return tuple(
            (name, tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
            for name, value in sorted(vars(self).items())
        )

    def __hash__(self) -> int:
        return hash(self._key())

    def with_overrides(self, **changes: Any) -> StsSettings:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    @property
    def raw_timestamps(self) -> bool:
        """True when timestamps are kept as the strings STS sent (``none``/``wire``)."""
        return self.timestamp_format in ("none", "wire")


# ----------------------------------------------------------------------------------------------------------------
# Settings


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


def _endpoint_is_valid(url: str) -> bool:
    """botocore's own test of an endpoint URL (a scheme and a host name or IP address), without raising."""
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]

    try:
        return bool(botocore.utils.is_valid_endpoint_url(url) or botocore.utils.is_valid_ipv6_endpoint_url(url))
    except (ValueError, TypeError):  # urlsplit: "Invalid IPv6 URL", a port that is not a number...
        return False


def _check_endpoint(url: str, source: str | None) -> None:
    """Refuse an endpoint URL botocore would refuse (``ValueError: Invalid endpoint``) before any client is made.

    From the caller (``--endpoint-url``): invalid input (exit 8); from the environment or the files: a
    configuration error (exit 3). Any ``user:password@`` in the URL is hidden.
    """
    if _endpoint_is_valid(url):
        return
    shown = _redact_url(url)
    hint = "an endpoint URL has a scheme and a host, e.g. https://sts.us-east-1.amazonaws.com or http://127.0.0.1:5000"
    if source is None:
        raise InvalidInputError(f"--endpoint-url {shown!r} is not a valid URL", hint=hint)
    fix = f"set {source} to a valid URL or unset it" if source.isupper() else "fix it in the config file"
    raise ConfigError(f"{source} {shown!r} is not a valid endpoint URL", hint=f"{fix}; {hint}")


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

    chosen_region, region_source = _first(
        (region, None),
        (env.get("AWS_REGION"), "AWS_REGION"),
        (env.get("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"),
        (_text(prof.get("region")), "the profile's region"),
    )
    if chosen_region is not None:
        _check_region(chosen_region, region_source)

    ignore_value = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    ignore_configured = _truthy(
        ignore_value if ignore_value is not None else prof.get("ignore_configured_endpoint_urls")
    )
    chosen_endpoint, endpoint_source = _first((endpoint_url, None))
    service_variable = "AWS_ENDPOINT_URL_" + _SERVICE_IDS.get(service, service).upper().replace(" ", "_")
    block_name = _SERVICE_IDS.get(service, service).lower().replace(" ", "_")
    if chosen_endpoint is None and not ignore_configured:
        chosen_endpoint, endpoint_source = _first(
            (env.get(service_variable), service_variable),
            (env.get("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL"),
            (_services_endpoint(prof, full_config, block_name), "the endpoint_url of the profile's [services] section"),
            (_text(prof.get("endpoint_url")), "the profile's endpoint_url"),
        )
    if chosen_endpoint is not None:
        _check_endpoint(chosen_endpoint, endpoint_source)

    regional = (
        env.get("AWS_STS_REGIONAL_ENDPOINTS") or _text(prof.get("sts_regional_endpoints")) or "regional"
    ).lower()
    if regional not in _STS_REGIONAL_VALUES:
        raise ConfigError(
            f'STS regional endpoints option {regional} is invalid. Valid options are: "legacy", "regional"',
            hint="set sts_regional_endpoints (or AWS_STS_REGIONAL_ENDPOINTS) to regional or legacy",
        )

    ca_bundle: str | bool | None = env.get("AWS_CA_BUNDLE") or _text(prof.get("ca_bundle")) or None

    max_attempts: int | None = None
    raw_attempts = env.get("AWS_MAX_ATTEMPTS") or _text(prof.get("max_attempts"))
    if raw_attempts is not None:
        try:
            max_attempts = int(raw_attempts)
        except ValueError:
            max_attempts = -1
        if max_attempts < 1:
            raise ConfigError(
                f"max_attempts must be a positive whole number, not {raw_attempts!r}",
                hint="set AWS_MAX_ATTEMPTS or max_attempts to e.g. 3",
            )

    retry_mode = env.get("AWS_RETRY_MODE") or _text(prof.get("retry_mode")) or None
    if retry_mode is not None and retry_mode not in _RETRY_MODES:
        raise ConfigError(
            f"retry_mode {retry_mode!r} is not valid",
            hint="use one of: " + ", ".join(_RETRY_MODES),
        )

    timestamp_format = (_text(prof.get("cli_timestamp_format")) or "iso8601").lower()
    if timestamp_format not in _TIMESTAMP_FORMATS:
        raise ConfigError(
            f'Unknown cli_timestamp_format value: {timestamp_format}, valid values are "none", "wire" or "iso8601"',
            hint="fix cli_timestamp_format in the profile",
        )

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


# ----------------------------------------------------------------------------------------------------------------
# botocore session and clients (lazy, cached per process)

_LOCK = threading.Lock()
_LOADER: Any = None
_SESSIONS: dict[tuple[bool, str], Session] = {}
_CLIENTS: OrderedDict[tuple[object, ...], BaseClient] = OrderedDict()
_CLIENT_CACHE_SIZE = 32


def _session(raw_timestamps: bool, sts_regional_endpoints: str) -> Session:
    """A botocore session pinned to botocore's defaults, so nothing comes from os.environ or ~/.aws.

    Sessions differ only in what must be set on the session itself (the timestamp parser and the STS
    endpoint style); they share one data loader, so the STS model is read from disk once per process.
    """
    key = (raw_timestamps, sts_regional_endpoints)
    found = _SESSIONS.get(key)
    if found is not None:
        return found
    import os

    import botocore.loaders  # type: ignore[import-untyped, unused-ignore]
    import botocore.session  # type: ignore[import-untyped, unused-ignore]
    from botocore.configprovider import (  # type: ignore[import-untyped, unused-ignore]
        BOTOCORE_DEFAUT_SESSION_VARIABLES,
        ConfigValueStore,
        ConstantProvider,
    )

    global _LOADER
    if _LOADER is None:
        _LOADER = botocore.loaders.create_loader()
    session = botocore.session.Session()
    session.register_component("data_loader", _LOADER)
    # Every setting is a constant (botocore's default), so nothing comes from os.environ or the user's files:
    # botocore's own store falls through to the environment for any value that is None (AWS_PROFILE,
    # AWS_DEFAULT_REGION, AWS_MAX_ATTEMPTS...), so it is replaced rather than overridden.
    pinned: dict[str, Any] = {name: spec[2] for name, spec in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()}
    pinned.update(
        profile=None,
        config_file=os.devnull,
        credentials_file=os.devnull,
        sts_regional_endpoints=sts_regional_endpoints,
    )
    store = ConfigValueStore(mapping={name: ConstantProvider(value) for name, value in pinned.items()})
    session.register_component("config_store", store)
    factory = session.get_component("response_parser_factory")
    if raw_timestamps:
        # As the AWS CLI does for cli_timestamp_format = none/wire: keep the string STS sent.
        factory.set_parser_defaults(timestamp_parser=_identity)
    # Every answer botocore cannot read becomes an _UnusableAnswer that carries no body (see _GuardedParser).
    session.register_component("response_parser_factory", _GuardedParserFactory(factory))
    _redact_botocore_logs()
    _SESSIONS[key] = session
    return session


def _identity(value: Any) -> Any:
    return value


class _UnusableAnswer(Exception):
    """botocore could not read an answer. Only what is safe to show travels with it: the HTTP status, the
    content type (cleaned) and a fixed description of the problem; never the body, which may hold credentials
    (a cut-short AssumeRole answer), nor botocore's own text, which quotes the body."""

    def __init__(self, status: int | None, content_type: str, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.content_type = content_type
        self.problem = problem
        #: The URL the request went to, filled in by _call (the parser does not know it).
        self.endpoint: str | None = None


def _clean_header(value: object, limit: int = 60) -> str:
    """A response header fit for a message: printable ASCII without quotes or controls, cut to ``limit``."""
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value or "")
    kept = "".join(char for char in text if char.isascii() and char.isprintable() and char not in "\"'`\\")
    return kept.strip()[:limit]


def _answer_problem(error: BaseException, status: int | None) -> str:
    """What was wrong with an answer, in fixed words: the exception's own text quotes the body."""
    from botocore.parsers import ResponseParserError  # type: ignore[import-untyped, unused-ignore]

    if isinstance(status, int) and 300 <= status < 400:
        return "a redirect"
    if isinstance(error, RecursionError):
        return "an answer nested too deeply"
    if isinstance(error, ValueError) and "timestamp" in str(error).lower():
        return "a timestamp that is not a date"
    if isinstance(error, KeyError):
        return "XML without the expected result element (an HTML page or another service's answer)"
    if isinstance(error, ResponseParserError):
        text = str(error)
        if "invalid XML" in text or "Unable to parse" in text:
            return "an answer that does not parse (cut short, or not XML)"
        return "an answer that is not in the service's format"
    return f"an answer botocore cannot read ({type(error).__name__})"


class _GuardedParser:
    """A botocore response parser whose failures carry no body and chain no exception.

    botocore's ``ResponseParserError`` quotes the whole body, a bad timestamp's ``ValueError`` quotes the value,
    and both would reach ``--debug`` tracebacks (or a library caller's logs) with the SecretAccessKey and
    SessionToken of a cut-short answer in them.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def parse(self, response: Mapping[str, Any], shape: Any) -> Any:
        """botocore's ``ResponseParser.parse``; any failure becomes an ``_UnusableAnswer``."""
        problem: str | None = None
        try:
            return self._inner.parse(response, shape)
        except Exception as error:  # RecursionError included: absurd nesting in the body
            problem = _answer_problem(error, response.get("status_code"))
        # Raised here, outside the except block, so that it has no __context__ (the failure and its body).
        headers = response.get("headers") or {}
        status = response.get("status_code")
        raise _UnusableAnswer(status if isinstance(status, int) else None, _clean_header(
            headers.get("content-type") if hasattr(headers, "get") else ""
        ), problem)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _GuardedParserFactory:
    """botocore's ``ResponseParserFactory`` handing out guarded parsers (a session component)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def create_parser(self, protocol_name: str) -> _GuardedParser:
        """A guarded parser for ``protocol_name`` (``query``, ``json``, ``rest-json``...)."""
        return _GuardedParser(self._inner.create_parser(protocol_name))

    def set_parser_defaults(self, **kwargs: Any) -> None:
        """As botocore's factory."""
        self._inner.set_parser_defaults(**kwargs)


#: botocore's loggers whose debug lines carry bodies, headers or canonical requests (a token, a secret).
_BOTOCORE_LOGGERS = (
    "botocore.parsers", "botocore.endpoint", "botocore.auth", "botocore.httpsession", "botocore.hooks",
    "botocore.client", "botocore.retryhandler", "botocore.credentials", "urllib3.connectionpool",
)  # fmt: skip


class _RedactingFilter:
    """A logging filter that masks secrets in botocore's debug lines (``Response body: b'...<SessionToken>...``),
    for library callers who turn botocore's logging on; it changes nothing when logging is off (filters run only
    for records that pass the level)."""

    def filter(self, record: Any) -> bool:
        """Mask the secrets of ``record``'s message; never drop the record."""
        from rolecall.errors import redact_secrets

        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it to logging
            return True
        masked = redact_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            # The formatter would format the traceback from the exception itself; give it the masked text.
            import traceback

            record.exc_text = redact_secrets("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        return True


def _redact_botocore_logs() -> None:
    """Put a _RedactingFilter on botocore's loggers once per process."""
    import logging

    for name in _BOTOCORE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _RedactingFilter) for existing in logger.filters):
            logger.addFilter(_RedactingFilter())


def _bypass_proxy(settings: StsSettings) -> bool:
    """True when NO_PROXY covers the STS host the request will go to."""
    if not settings.no_proxy:
        return False
    import urllib.request
    from urllib.parse import urlsplit

    # Not in typeshed, but public and pure: the NO_PROXY host matching urllib itself uses.
    proxy_bypass_environment = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if settings.endpoint_url:
        try:
            host = urlsplit(settings.endpoint_url).netloc
        except ValueError:  # not a URL: botocore refuses it when the client is made ("Invalid endpoint")
            return False
    elif settings.service != "sts":
        region = settings.region or "us-east-1"
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        hosts = {"sso-oidc": f"oidc.{region}.{suffix}", "sso": f"portal.sso.{region}.{suffix}", "iam": f"iam.{suffix}"}
        host = hosts.get(settings.service, f"{settings.service}.{region}.{suffix}")
    else:
        region = settings.region or "aws-global"
        legacy = settings.sts_regional_endpoints == "legacy" and region in LEGACY_GLOBAL_STS_REGIONS
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        host = f"sts.{suffix}" if legacy or region == "aws-global" else f"sts.{region}.{suffix}"
    return bool(proxy_bypass_environment(host, {"no": settings.no_proxy}))


def _client(settings: StsSettings, credentials: Credentials | None, signed: bool = True) -> BaseClient:
    """A client of ``settings.service`` for these settings and credentials (cached; botocore clients are
    thread-safe)."""
    key: tuple[object, ...] = (settings._key(), credentials, signed)
    with _LOCK:
        cached = _CLIENTS.get(key)
        if cached is not None:
            _CLIENTS.move_to_end(key)
            return cached
        from botocore import UNSIGNED
        from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]

        retries: dict[str, Any] = {}
        if settings.retry_mode:
            retries["mode"] = settings.retry_mode
        if settings.max_attempts is not None:
            retries["total_max_attempts"] = settings.max_attempts
        proxies = {} if _bypass_proxy(settings) else dict(settings.proxies or {})
        options: dict[str, Any] = {
            "region_name": settings.region,
            # An empty dict (not None) stops botocore from reading proxies from os.environ.
            "proxies": proxies,
            "ignore_configured_endpoint_urls": True,
            "user_agent_extra": settings.user_agent_extra,
        }
        if retries:
            options["retries"] = retries
        if settings.connect_timeout is not None:
            options["connect_timeout"] = settings.connect_timeout
        if settings.read_timeout is not None:
            options["read_timeout"] = settings.read_timeout
        if not signed:
            options["signature_version"] = UNSIGNED
        verify: str | bool = True if settings.ca_bundle is None else settings.ca_bundle
        session = _session(settings.raw_timestamps, settings.sts_regional_endpoints)
        creds: dict[str, Any] = {}
        if signed and credentials is not None:
            creds = {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key,
                "aws_session_token": credentials.session_token,
            }
        client = session.create_client(
            settings.service,
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            verify=verify,
            config=Config(**options),
            **creds,
        )
        _CLIENTS[key] = client
        while len(_CLIENTS) > _CLIENT_CACHE_SIZE:
            _CLIENTS.popitem(last=False)
        return client


def clear_caches() -> None:
    """Forget cached botocore sessions and clients (tests; after a CA bundle changes on disk)."""
    with _LOCK:
        _CLIENTS.clear()
        _SESSIONS.clear()


# ----------------------------------------------------------------------------------------------------------------
# Calls


def _no_credentials(operation: str) -> ConfigError:
    return ConfigError(
        f"no credentials to sign the {operation} request",
        hint="configure aws_access_key_id and aws_secret_access_key for the profile, or pass credentials",
    )


def _call(
    operation: str,
    settings: StsSettings,
    credentials: Credentials | None,
    params: Mapping[str, Any],
    signed: bool = True,
) -> dict[str, Any]:
    if signed and credentials is None:
        raise _no_credentials(operation)
    from botocore import xform_name  # botocore's own operation -> method names (ListMFADevices -> list_mfa_devices)

    method = xform_name(operation)
    # Keep only the parameters actually given: None means "not sent", as in the AWS CLI.
    sent = {k: v for k, v in params.items() if v is not None}
    client: BaseClient = None
    translated: RolecallError | None = None
    try:
        # Making the client is inside: botocore checks the region and the endpoint URL there
        # (InvalidRegionError, ValueError "Invalid endpoint" or urllib's "Invalid IPv6 URL"), not when sending.
        client = _client(settings, credentials, signed)
        response: dict[str, Any] = getattr(client, method)(**sent)
    except Exception as error:  # botocore's errors, translated below; anything else is re-raised as is
        if isinstance(error, _UnusableAnswer) and client is not None:
            error.endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
        translated = _translate(error, operation, settings, sent, credentials)
        if translated is None and client is None and isinstance(error, ValueError):
            text = str(error).splitlines()[0] if str(error) else type(error).__name__
            translated = ConfigError(
                f"Invalid endpoint: {_endpoint_text(settings, error)} ({_redact_url(text)})",
                hint="endpoint_url must look like https://sts.example.com",
            )
        if translated is None:
            raise
    if translated is not None:
        # Raised outside the except block: botocore's exception (its text may quote a body or echo a request
        # value) is not even kept as the hidden __context__ of the error everyone sees.
        raise translated
    response.pop("ResponseMetadata", None)
    return response


def call_service(settings: StsSettings, operation: str, **params: Any) -> dict[str, Any]:
    """Call ``operation`` of ``settings.service`` unsigned (``sso-oidc`` and the ``sso`` portal take no SigV4:
    their tokens are parameters). Errors become ``RolecallError``s as for STS; an AWS refusal is an ``AwsError``
    whose ``code`` the caller can tell apart. ``ResponseMetadata`` is removed."""
    return _call(operation, settings, None, params, signed=False)


def assume_role(settings: StsSettings, credentials: Credentials | None, **params: Any) -> dict[str, Any]:
    """Call AssumeRole with STS's own parameter names; return botocore's parsed response.

    ``params``: RoleArn, RoleSessionName, SerialNumber, TokenCode, DurationSeconds, ExternalId, Policy,
    PolicyArns, Tags, TransitiveTagKeys, SourceIdentity (``None`` values are left out). They are
    validated against AWS's limits first (``InvalidInputError``). ``ResponseMetadata`` is removed.
    """
    validation.validate_assume_role(params)
    return _call("AssumeRole", settings, credentials, params)


def get_session_token(settings: StsSettings, credentials: Credentials | None, **params: Any) -> dict[str, Any]:
    """Call GetSessionToken (DurationSeconds, SerialNumber, TokenCode) with long-term credentials."""
    validation.validate_get_session_token(params)
    return _call("GetSessionToken", settings, credentials, params)


def get_federation_token(settings: StsSettings, credentials: Credentials | None, **params: Any) -> dict[str, Any]:
    """Call GetFederationToken (Name, Policy, PolicyArns, DurationSeconds) with an IAM user's long-term keys."""
    validation.validate_get_federation_token(params)
    return _call("GetFederationToken", settings, credentials, params)


def list_mfa_devices(settings: StsSettings, credentials: Credentials | None, user_name: str | None = None) -> list[str]:
    """The serial numbers of an IAM user's MFA devices (IAM ListMFADevices; ``settings`` for the ``iam`` service;
    ``user_name`` None: the caller's own). Raises ``AwsError`` (AccessDenied...) when the caller may not list them."""
    response = _call("ListMFADevices", settings, credentials, {"UserName": user_name})
    return [str(device["SerialNumber"]) for device in response.get("MFADevices") or [] if "SerialNumber" in device]


def get_caller_identity(settings: StsSettings, credentials: Credentials | None) -> dict[str, Any]:
    """Call GetCallerIdentity: ``{"UserId", "Account", "Arn"}`` of whoever the credentials belong to."""
    return _call("GetCallerIdentity", settings, credentials, {})


def assume_role_with_web_identity(settings: StsSettings, **params: Any) -> dict[str, Any]:
    """Call AssumeRoleWithWebIdentity, unsigned (RoleArn, RoleSessionName, WebIdentityToken, ...)."""
    validation.validate_assume_role_with_web_identity(params)
    return _call("AssumeRoleWithWebIdentity", settings, None, params, signed=False)


def credentials_from_response(response: Mapping[str, Any]) -> Credentials:
    """The ``Credentials`` of an AssumeRole*/GetSessionToken response.

    The account id comes from ``AssumedRoleUser.Arn`` when there is one (as botocore's assume-role
    provider does); ``Expiration`` may be a ``datetime`` or the wire string.
    """
    try:
        block = response["Credentials"]
        expiration = block.get("Expiration")
        if isinstance(expiration, str):
            expiration = parse_timestamp(expiration)
        arn = (response.get("AssumedRoleUser") or {}).get("Arn")
        account_id: str | None = None
        if isinstance(arn, str):
            parts = arn.split(":")
            if len(parts) > 4 and parts[4]:
                account_id = parts[4]
        return Credentials(
            access_key_id=block["AccessKeyId"],
            secret_access_key=block["SecretAccessKey"],
            session_token=block.get("SessionToken"),
            expiration=expiration,
            account_id=account_id,
        )
    except (KeyError, TypeError, AttributeError, ValueError):
        pass  # raised below, outside the except block: the failure's text may quote a secret (a bad Expiration)
    raise AwsError(
        "STS answered without usable credentials",
        hint="check that the endpoint really is STS (endpoint_url / AWS_ENDPOINT_URL_STS)",
        code="",
    )


# ----------------------------------------------------------------------------------------------------------------
# Sources only botocore knows (aws login, container endpoint, instance metadata)

_SOURCE_NAMES = {
    "login": "`aws login`",
    "container-role": "container credentials endpoint",
    "iam-role": "EC2 instance metadata",
}


_CONTAINER_HINT = (
    "AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http(s) URL on a loopback address or 169.254.170.2/.23 "
    "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI a path such as /v2/credentials/ID); unset them outside a container"
)


def _container_problem(error: ValueError, environ: Mapping[str, str]) -> tuple[str, str]:
    """What botocore's container provider refused, and a hint; never the authorization token's value."""
    text = str(error)
    if "Auth token" in text or "header" in text:
        return (
            "the authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN or its file) is not a valid HTTP header value",
            "the token must be one line of printable characters: check the variable or the file",
        )
    first = text.split(".  ")[0].splitlines()[0] if text.strip() else type(error).__name__
    if "Unsupported host 'None'" in first:
        first = "it is not a URL with a host"
    # botocore reads the relative URI first, as here; its text names the host, never the token.
    for variable in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        if environ.get(variable):
            return f"{variable} is not usable: {_redact_url(first)}", _CONTAINER_HINT
    return _redact_url(first), _CONTAINER_HINT


#: Who answered, for messages about what a source gave.
_SOURCE_DESCRIPTIONS = {
    "login": "the `aws login` session",
    "container-role": "the container credentials endpoint",
    "iam-role": "the EC2 instance metadata service",
}


def _botocore_session_for(env: Mapping[str, str], profile: str | None) -> Session:
    """A botocore session that reads its settings from ``env`` and the files ``env`` points at, never os.environ.

    botocore's own sessions read every setting's variable from ``os.environ`` (a library caller's ``env`` would be
    ignored, and rolecall's own environment would leak in); here each of botocore's settings is the same chain
    (instance value, ``env``'s variable, the profile's key, the default) built on ``env``. ``profile`` is the
    profile whose keys count (IMDS timeouts, endpoint and mode may be set there); one that is in neither file
    just means the defaults, as for a profile-less resolution.
    """
    import botocore.session  # type: ignore[import-untyped, unused-ignore]
    from botocore.configprovider import (  # type: ignore[import-untyped, unused-ignore]
        BOTOCORE_DEFAUT_SESSION_VARIABLES,
        ConfigChainFactory,
        ConfigValueStore,
    )

    from rolecall.config.paths import AwsPaths

    session = botocore.session.Session()
    chains = ConfigChainFactory(session=session, environ=dict(env))
    session.register_component(
        "config_store",
        ConfigValueStore(
            mapping={
                name: chains.create_config_chain(
                    instance_name=name,
                    env_var_names=variable,
                    config_property_names=key,
                    default=default,
                    conversion_func=convert,
                )
                for name, (key, variable, default, convert) in BOTOCORE_DEFAUT_SESSION_VARIABLES.items()
            }
        ),
    )
    paths = AwsPaths.from_env(env)
    session.set_config_variable("config_file", paths.config_file)
    session.set_config_variable("credentials_file", paths.credentials_file)
    # Always set (None when the profile is in neither file): AWS_PROFILE in ``env`` must not pick another one.
    session.set_config_variable("profile", profile if profile is not None and profile in session.available_profiles
                                else None)  # fmt: skip
    return session


def _imds_config(session: Session) -> dict[str, Any]:
    """The metadata service settings botocore's own credential resolver gives its fetcher (endpoint from
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` or the profile, endpoint mode, IMDSv1 refusal, refresh window)."""
    from botocore.credentials import _DEFAULT_ADVISORY_REFRESH_TIMEOUT  # type: ignore[import-untyped, unused-ignore]
    from botocore.utils import resolve_imds_endpoint_mode  # type: ignore[import-untyped, unused-ignore]

    return {
        "ec2_metadata_service_endpoint": session.get_config_variable("ec2_metadata_service_endpoint"),
        "ec2_metadata_service_endpoint_mode": resolve_imds_endpoint_mode(session),
        "ec2_credential_refresh_window": _DEFAULT_ADVISORY_REFRESH_TIMEOUT,
        "ec2_metadata_v1_disabled": session.get_config_variable("ec2_metadata_v1_disabled"),
    }


def botocore_source_credentials(kind: str, profile: str, env: Mapping[str, str]) -> Credentials:
    """Credentials from one of botocore's own providers, for ``profile`` and the environment ``env``.

    ``kind`` is botocore's method name: ``login`` (read from the profile in the files ``env`` points
    at), ``container-role`` (``AWS_CONTAINER_CREDENTIALS_*`` in ``env``) or ``iam-role`` (instance metadata, set
    up as botocore's own resolver sets it up: ``AWS_EC2_METADATA_DISABLED``, ``AWS_EC2_METADATA_SERVICE_ENDPOINT``
    and its mode, ``AWS_METADATA_SERVICE_TIMEOUT`` / ``_NUM_ATTEMPTS``, IMDSv1 refusal, from ``env`` or the
    profile). These need botocore's machinery (token caches, IMDS), so delegating keeps them identical to the AWS
    CLI's. Raises ``ConfigError`` when the source has nothing, ``NetworkError`` when its endpoint cannot be
    reached, ``ExpiredCredentialsError`` when it answered with expired credentials twice (botocore fetches
    expired credentials once more, then gives up with "refreshed credentials are still expired").
    """
    if kind not in _SOURCE_NAMES:
        raise ConfigError(f"unknown botocore credential source {kind!r}", hint="use one of " + ", ".join(_SOURCE_NAMES))
    import botocore.credentials  # type: ignore[import-untyped, unused-ignore]
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]
    from botocore import exceptions as bce

    name = _SOURCE_NAMES[kind]
    environ = dict(env)
    try:
        session = _botocore_session_for(env, profile)
        if kind == "container-role":
            provider: Any = botocore.credentials.ContainerProvider(environ=environ)
        elif kind == "iam-role":
            fetcher = botocore.utils.InstanceMetadataFetcher(
                timeout=session.get_config_variable("metadata_service_timeout"),
                num_attempts=session.get_config_variable("metadata_service_num_attempts"),
                env=environ,
                user_agent=session.user_agent(),
                config=_imds_config(session),
            )
            provider = botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher)
        else:
            session.set_config_variable("profile", profile)
            resolver = botocore.credentials.create_credential_resolver(session)
            provider = resolver.get_provider(kind)
        found = provider.load()
        frozen = found.get_frozen_credentials() if found is not None else None
    except RuntimeError as error:
        # botocore fetches expired credentials once more and then raises a bare RuntimeError ("Credentials were
        # refreshed, but the refreshed credentials are still expired."); its text holds no secret, and nothing else
        # raises RuntimeError here.
        if "still expired" not in str(error):
            raise
        raise ExpiredCredentialsError(
            f"{_SOURCE_DESCRIPTIONS[kind]} returned credentials that had already expired, twice; they were not used",
            hint="check this machine's clock (`date -u`); if it is right, the endpoint is misbehaving",
        ) from None
    except (bce.ConnectionError, bce.CredentialRetrievalError, bce.MetadataRetrievalError) as error:
        raise NetworkError(
            f"could not get credentials from the {name}: {type(error).__name__}",
            hint="check that the endpoint is reachable from here (and AWS_CONTAINER_* / IMDS settings)",
        ) from None
    except bce.BotoCoreError as error:
        hint = f"run: aws login --profile {profile}" if kind == "login" else "check the profile's settings"
        # botocore's messages here describe configuration and token state, never secrets (URLs lose any user:password).
        raise ConfigError(f'profile "{profile}": {name} credentials: {_redact_url(str(error))}', hint=hint) from None
    except ValueError as error:
        # The container provider checks its settings only when asked: a URI that is not a URL, a host it will not
        # talk to, an authorization token that cannot be an HTTP header.
        if kind != "container-role":
            raise ConfigError(
                f'profile "{profile}": the {name} settings are invalid: {type(error).__name__}',
                hint="check the profile's settings",
            ) from None
        problem, hint = _container_problem(error, environ)
        raise ConfigError(f"the {name} settings are invalid: {problem}", hint=hint) from None
    except OSError as error:
        # AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE that cannot be read.
        what = f"{error.strerror or type(error).__name__}: {error.filename}" if error.filename else type(error).__name__
        raise FileError(
            f"could not read a file the {name} needs: {what}",
            hint="check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and the file's permissions"
            if kind == "container-role"
            else "check the file named above",
        ) from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(
            f'profile "{profile}": the {name} gave no credentials',
            hint="check the profile's settings and the environment variables of that source",
        )
    # botocore keeps the expiry of refreshable credentials only in a private attribute.
    expiry = getattr(found, "_expiry_time", None)
    return Credentials(
        access_key_id=frozen.access_key,
        secret_access_key=frozen.secret_key,
        session_token=frozen.token or None,
        expiration=expiry if isinstance(expiry, datetime) else None,
        account_id=getattr(frozen, "account_id", None) or None,
    )


def imds_region(env: Mapping[str, str], profile: str | None) -> str | None:
    """The instance's region from the metadata service (its availability zone less the letter), as the AWS
    CLI v2 finds it when neither the environment nor the config names one; None when it cannot be reached or
    gives nothing. Whether IMDS may be asked at all is the caller's decision
    (``rolecall.providers.botocore_source.imds_enabled``).

    botocore's own ``IMDSRegionProvider`` does the work (IMDSv2 token, v1 fallback, endpoint and mode from
    ``AWS_EC2_METADATA_SERVICE_ENDPOINT`` or the profile, timeouts), on a session that reads ``env``, so the
    answer is the AWS CLI's.
    """
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]
    from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped, unused-ignore]

    try:
        session = _botocore_session_for(env, profile)
        region = botocore.utils.IMDSRegionProvider(session, environ=dict(env)).provide()
    except (BotoCoreError, ValueError):  # a refused token request, a setting botocore cannot use: no region
        return None
    return region if isinstance(region, str) and region else None


# ----------------------------------------------------------------------------------------------------------------
# Errors

_THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestLimitExceeded",
     "TooManyRequestsException", "SlowDown", "PriorRequestNotComplete", "RequestThrottled"}
)  # fmt: skip


#: Parameters of the IAM Identity Center calls that are secrets.
_SSO_SECRET_PARAMS = ("accessToken", "refreshToken", "clientSecret", "deviceCode", "code", "codeVerifier")


def _redact(text: str, params: Mapping[str, Any], credentials: Credentials | None) -> str:
    """Remove anything secret from a text that came from AWS (some messages echo the request's values)."""
    code = params.get("TokenCode")
    if isinstance(code, str) and code:
        text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])", "******", text)
    for secret in (
        params.get("WebIdentityToken"),
        # IAM Identity Center: tokens, the client secret, codes of the login flows.
        *(params.get(name) for name in _SSO_SECRET_PARAMS),
        credentials.secret_access_key if credentials else None,
        credentials.session_token if credentials else None,
    ):
        if isinstance(secret, str) and len(secret) >= 4:
            text = text.replace(secret, "******")
    return text


def _redact_url(url: str) -> str:
    """A URL without any ``user:password@`` part (proxy URLs may carry them)."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def _endpoint_text(settings: StsSettings, error: Exception) -> str:
    url = getattr(error, "kwargs", {}).get("endpoint_url") or settings.endpoint_url or f"the {_name(settings)} endpoint"
    return _redact_url(str(url))


def _name(settings: StsSettings) -> str:
    """How messages name the service of ``settings``."""
    return SERVICE_NAMES.get(settings.service, settings.service)


def _endpoint_variable(settings: StsSettings) -> str:
    """The service's own endpoint variable, for hints."""
    return "AWS_ENDPOINT_URL_" + _SERVICE_IDS.get(settings.service, settings.service).upper().replace(" ", "_")


def _translate(
    error: Exception,
    operation: str,
    settings: StsSettings,
    params: Mapping[str, Any],
    credentials: Credentials | None,
) -> RolecallError | None:
    """botocore's exception -> one rolecall error with a hint; ``None`` for something that is not botocore's."""
    from botocore import exceptions as bce

    if isinstance(error, _UnusableAnswer):
        return _unusable_answer(error, operation, settings)
    if isinstance(error, bce.ClientError):
        return _client_error(error, operation, settings, params, credentials)
    if isinstance(error, bce.ProxyConnectionError):
        proxy = _redact_url(str(getattr(error, "kwargs", {}).get("proxy_url", "the proxy")))
        return NetworkError(
            f"could not connect to the proxy {proxy} for {operation}",
            hint=f"check HTTPS_PROXY / HTTP_PROXY, or list the {_name(settings)} host in NO_PROXY",
        )
    if isinstance(error, bce.SSLError):
        return NetworkError(
            f"TLS certificate verification failed for {_endpoint_text(settings, error)}",
            hint="if a corporate proxy or a private CA signs the traffic, point AWS_CA_BUNDLE (or ca_bundle) at "
            "its CA file",
        )
    if isinstance(error, bce.ConnectTimeoutError | bce.ReadTimeoutError):
        return NetworkError(
            f"timed out talking to {_endpoint_text(settings, error)} for {operation}",
            hint=f"check the network, the region and endpoint_url / {_endpoint_variable(settings)}",
        )
    if isinstance(error, bce.EndpointConnectionError | bce.ConnectionClosedError | bce.HTTPClientError):
        return NetworkError(
            f"could not reach the {_name(settings)} endpoint {_endpoint_text(settings, error)} for {operation}",
            hint=f"check the network, the region (--region) and endpoint_url / {_endpoint_variable(settings)}",
        )
    if isinstance(error, bce.NoCredentialsError | bce.PartialCredentialsError):
        return _no_credentials(operation)
    if isinstance(error, bce.ParamValidationError):
        return InvalidInputError(
            f"invalid {operation} request: {_redact(str(error), params, credentials)}",
            hint="fix the value named above",
        )
    if isinstance(error, bce.NoRegionError | bce.UnknownEndpointError | bce.InvalidRegionError):
        return ConfigError(
            f"cannot work out the {_name(settings)} endpoint: {error}",
            hint="set a valid region (--region, AWS_REGION or the profile's region)",
        )
    if isinstance(error, ValueError) and "Invalid endpoint" in str(error):
        return ConfigError(
            f"{_redact_url(str(error))}",
            hint="endpoint_url must look like https://sts.example.com",
        )
    if isinstance(error, bce.BotoCoreError):
        return AwsError(f"{operation} failed: {type(error).__name__}", hint="rerun with --debug for details")
    return None


def _unusable_answer(error: _UnusableAnswer, operation: str, settings: StsSettings) -> EndpointAnswerError:
    """An answer that is not the service's: one line naming the endpoint, with a hint about endpoint_url."""
    name = _name(settings)
    url = _redact_url(str(error.endpoint or settings.endpoint_url or f"the {name} endpoint"))
    details = ", ".join(
        part for part in (f"HTTP {error.status}" if error.status is not None else "", error.content_type) if part
    )
    where = "endpoint_url / " + (
        f"{_endpoint_variable(settings)} / AWS_ENDPOINT_URL" if settings.service in _SERVICE_IDS else "AWS_ENDPOINT_URL"
    )
    return EndpointAnswerError(
        f"the endpoint {url} did not answer {operation} as {name} does: {error.problem}"
        + (f" ({details})" if details else ""),
        hint=f"check that {where} names {name} itself (not a web page, a proxy or another service); an answer "
        "cut short may work on a retry",
    )


def _client_error(
    error: Any,
    operation: str,
    settings: StsSettings,
    params: Mapping[str, Any],
    credentials: Credentials | None,
) -> RolecallError:
    details = error.response.get("Error", {}) if isinstance(getattr(error, "response", None), dict) else {}
    metadata = error.response.get("ResponseMetadata", {}) if isinstance(getattr(error, "response", None), dict) else {}
    status = metadata.get("HTTPStatusCode")
    if not details.get("Code") and isinstance(status, int) and status >= 300:
        # A body botocore could parse (well-formed HTML: a redirect's page, a firewall's refusal) but with no AWS
        # error in it: not the service answering.
        headers = metadata.get("HTTPHeaders") or {}
        problem = "a redirect" if status < 400 else "an error page that is not the service's"
        return _unusable_answer(
            _UnusableAnswer(status, _clean_header(headers.get("content-type")), problem), operation, settings
        )
    code = str(details.get("Code") or "Unknown")
    aws_message = _redact(str(details.get("Message") or "").strip(), params, credentials)
    message = f"{operation} refused: {code}" + (f": {aws_message}" if aws_message else "")
    had_code = bool(params.get("TokenCode"))
    lowered = aws_message.lower()

    if code == "AccessDenied" or code == "AccessDeniedException":
        if had_code and ("multifactor" in lowered or "mfa" in lowered):
            return MfaRejectedError(
                message, hint="the MFA code was wrong or already used: wait for the next code and try again", code=code
            )
        hints: list[str] = []
        if operation == "AssumeRole":
            if had_code:
                hints.append("the MFA code may be wrong or already used (wait for the next one)")
            else:
                hints.append(
                    "if the role requires MFA, send a code (--serial-number and --token-code, or mfa_serial "
                    "in the profile)"
                )
            if params.get("ExternalId"):
                hints.append("check the external id is the one the role expects")
            else:
                hints.append("if the role expects an external id, pass it (--external-id / external_id)")
            hints.append("otherwise the role's trust policy does not allow this caller")
        elif operation == "GetSessionToken" and "session credentials" in lowered:
            hints.append("GetSessionToken needs an IAM user's long-term access keys, not session credentials")
        elif operation == "GetSessionToken" and had_code:
            hints.append("the MFA code or the device serial number is wrong, or the code was already used")
        else:
            hints.append("these credentials are not allowed to make this call")
        return AwsError(message, hint="; ".join(hints), code=code)
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        return AwsError(
            message,
            hint="the session credentials have expired: get fresh ones (assume the role again) and retry",
            code=code,
        )
    if code == "InvalidClientTokenId":
        return AwsError(
            message,
            hint="AWS does not know this access key id: check the profile's keys are current and active "
            "(and, for session credentials, that the session token belongs to them)",
            code=code,
        )
    if code == "SignatureDoesNotMatch":
        return AwsError(
            message,
            hint="check the secret access key belongs to the access key id, and that this computer's clock is "
            "right (signatures are only valid within minutes of the current time)",
            code=code,
        )
    if code == "ValidationError":
        if "role chaining" in lowered:
            return AwsError(
                message,
                hint="a role assumed with temporary credentials (another role's session, or an MFA session from "
                "GetSessionToken) is role chaining, which AWS caps at 1 hour: ask for --duration-seconds 3600 or "
                "less, or assume the role directly with long-term keys and MFA",
                code=code,
            )
        if "maxsessionduration" in lowered:
            return AwsError(
                message,
                hint="ask for a shorter session (--duration-seconds / duration_seconds) or raise the role's "
                "MaxSessionDuration in IAM (up to 12 hours)",
                code=code,
            )
        return AwsError(message, hint="STS rejected a value of the request: fix the one named above", code=code)
    if code == "RegionDisabledException":
        region = settings.region or "this region"
        return AwsError(
            message,
            hint=f"STS is not activated in {region} for this account: an administrator can activate it in the IAM "
            "console (Account settings, Security Token Service endpoints), or use another region (--region)",
            code=code,
        )
    if code in _THROTTLING_CODES:
        retries = error.response.get("ResponseMetadata", {}).get("RetryAttempts")
        tries = f"{retries + 1} attempts" if isinstance(retries, int) else "retries"
        return AwsError(
            f"{message} (still after {tries})",
            hint=f"{_name(settings)} is throttling requests: wait a little and retry; raise AWS_MAX_ATTEMPTS or set "
            "retry_mode = adaptive for busy jobs",
            code=code,
        )
    if code == "MalformedPolicyDocument":
        return AwsError(message, hint="the session policy (--policy) is not a valid IAM policy", code=code)
    if code == "PackedPolicyTooLarge":
        return AwsError(message, hint="shorten the session policy, the policy ARNs or the session tags", code=code)
    if code == "IDPRejectedClaim" or code == "InvalidIdentityToken":
        return AwsError(message, hint="the web identity token was refused: check it and the role's trust", code=code)
    if isinstance(status, int) and status >= 500:
        return AwsError(
            message, hint=f"{_name(settings)} failed on its side (after retries): try again in a moment", code=code
        )
    return AwsError(message, hint="see the AWS message above", code=code)


def server_time(settings: StsSettings) -> datetime:
    """STS's clock: the ``Date`` header of an unsigned GetCallerIdentity (refused, but dated) to ``settings``.

    Used by ``rolecall doctor --online`` to measure clock skew; needs no credentials. Network problems become
    ``NetworkError``; an answer without a usable ``Date`` header is an ``AwsError``.
    """
    from datetime import timezone
    from email.utils import parsedate_to_datetime

    from botocore import exceptions as bce

    translated: RolecallError | None = None
    metadata: Any = {}
    try:
        client = _client(settings, None, signed=False)
        metadata = client.get_caller_identity().get("ResponseMetadata", {})
    except bce.ClientError as error:  # the expected refusal (MissingAuthenticationToken): it is dated too
        metadata = error.response.get("ResponseMetadata", {})
    except Exception as error:
        translated = _translate(error, "GetCallerIdentity", settings, {}, None)
        if translated is None:
            raise
    if translated is not None:
        raise translated  # outside the except block: botocore's exception is not kept as its __context__
    date = (metadata.get("HTTPHeaders") or {}).get("date")
    try:
        return parsedate_to_datetime(str(date)).astimezone(timezone.utc)
    except (TypeError, ValueError):
        raise AwsError(
            f"{_name(settings)} answered without a usable Date header",
            hint="the clock check needs the real STS endpoint (or one that dates its answers)",
        ) from None


# ----------------------------------------------------------------------------------------------------------------
# IAM (rolecall keys rotate)


def iam_call(settings: StsSettings, credentials: Credentials | None, operation: str, **params: Any) -> dict[str, Any]:
    """Call the IAM ``operation`` (``CreateAccessKey``, ``DeleteAccessKey``, ``ListAccessKeys``...) signed with
    ``credentials``, through the same clients, settings and error translation as STS (``settings`` of any
    service: the copy used is for ``iam``). ``None`` parameters are left out; ``ResponseMetadata`` is removed.
    The response of CreateAccessKey holds a secret: callers keep it out of messages."""
    if settings.service != "iam":
        settings = settings.with_overrides(service="iam")
    return _call(operation, settings, credentials, params)
