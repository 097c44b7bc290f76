"""The :class:`Transport`: botocore sessions and clients (cached), and the one raw call every client of
``rolecall.aws`` goes through, with botocore's errors turned into rolecall's.

Creating a botocore session and loading a service model costs tens of milliseconds; a long-running process (the
credentials server) calls STS many times, so a transport keeps one data loader shared by a few sessions, and
its clients in a small cache. Every setting comes from ``StsSettings``: the sessions are pinned to botocore's
defaults, so nothing is read from ``os.environ`` or the user's files behind the caller's back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from rolecall.aws.hints import UnusableAnswer, no_credentials
from rolecall.aws.redaction import redact_url
from rolecall.aws.settings import LEGACY_GLOBAL_STS_REGIONS, StsSettings
from rolecall.aws.transport.guards import GuardedParserFactory, redact_botocore_logs
from rolecall.aws.transport.translate import endpoint_text, translate
from rolecall.credentials import Credentials
from rolecall.errors import ConfigError, RolecallError

# botocore ships no type information; its session and client objects are typed as Any here.
Session = Any
BaseClient = Any

#: How many clients a transport keeps.
CLIENT_CACHE_SIZE = 32


def _identity(value: Any) -> Any:
    return value


def _service_host(settings: StsSettings) -> str | None:
    """The host a request of ``settings`` goes to (None: an endpoint URL that is not a URL)."""
    from urllib.parse import urlsplit

    if settings.endpoint_url:
        try:
            return urlsplit(settings.endpoint_url).netloc
        except ValueError:  # not a URL: botocore refuses it when the client is made ("Invalid endpoint")
            return None
    if settings.service != "sts":
        region = settings.region or "us-east-1"
        suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        hosts = {"sso-oidc": f"oidc.{region}.{suffix}", "sso": f"portal.sso.{region}.{suffix}", "iam": f"iam.{suffix}",
                 "signin": f"{region}.signin.aws.amazon.com"}
        return hosts.get(settings.service, f"{settings.service}.{region}.{suffix}")
    region = settings.region or "aws-global"
    legacy = settings.sts_regional_endpoints == "legacy" and region in LEGACY_GLOBAL_STS_REGIONS
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"sts.{suffix}" if legacy or region == "aws-global" else f"sts.{region}.{suffix}"


def bypass_proxy(settings: StsSettings) -> bool:
    """True when NO_PROXY covers the host the request will go to."""
    if not settings.no_proxy:
        return False
    import urllib.request

    # Not in typeshed, but public and pure: the NO_PROXY host matching urllib itself uses.
    proxy_bypass_environment = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    host = _service_host(settings)
    if host is None:
        return False
    return bool(proxy_bypass_environment(host, {"no": settings.no_proxy}))


def endpoint_is_valid(url: str) -> bool:
    """botocore's own test of an endpoint URL (a scheme and a host name or IP address), without raising."""
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]

    try:
        return bool(botocore.utils.is_valid_endpoint_url(url) or botocore.utils.is_valid_ipv6_endpoint_url(url))
    except (ValueError, TypeError):  # urlsplit: "Invalid IPv6 URL", a port that is not a number...
        return False


def _client_config(settings: StsSettings, signed: bool) -> Any:
    """botocore's ``Config`` for ``settings``: retries, proxies (never from os.environ), timeouts, signing."""
    from botocore import UNSIGNED
    from botocore.config import Config  # type: ignore[import-untyped, unused-ignore]

    retries: dict[str, Any] = {}
    if settings.retry_mode:
        retries["mode"] = settings.retry_mode
    if settings.max_attempts is not None:
        retries["total_max_attempts"] = settings.max_attempts
    proxies = {} if bypass_proxy(settings) else dict(settings.proxies or {})
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
    return Config(**options)


class Transport:
    """How rolecall's AWS clients reach AWS: botocore sessions and clients, cached, and :meth:`call`.

    The thin clients of ``rolecall.aws.sts``, ``rolecall.aws.iam`` and ``rolecall.aws.sts.call_service`` take a
    ``transport`` argument (default :data:`DEFAULT`). A test passes a subclass instead, overriding :meth:`call`
    to record requests or to answer (or refuse) them, rather than patching module functions.
    """

    def __init__(self, client_cache_size: int = CLIENT_CACHE_SIZE) -> None:
        self.lock = threading.Lock()
        #: botocore's data loader, made once and shared by the sessions (the service models are read once).
        self.loader: Any = None
        #: Sessions by (raw timestamps, sts_regional_endpoints).
        self.sessions: dict[tuple[bool, str], Session] = {}
        #: Clients by (settings, credentials, signed), least recently used first.
        self.clients: OrderedDict[tuple[object, ...], BaseClient] = OrderedDict()
        self.client_cache_size = client_cache_size

    def clear_caches(self) -> None:
        """Forget cached botocore sessions and clients (tests; after a CA bundle changes on disk)."""
        with self.lock:
            self.clients.clear()
            self.sessions.clear()

    def session(self, raw_timestamps: bool, sts_regional_endpoints: str) -> Session:
        """A botocore session pinned to botocore's defaults, so nothing comes from os.environ or ~/.aws.

        Sessions differ only in what must be set on the session itself (the timestamp parser and the STS
        endpoint style); they share one data loader, so the service model is read from disk once.
        """
        key = (raw_timestamps, sts_regional_endpoints)
        found = self.sessions.get(key)
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

        if self.loader is None:
            self.loader = botocore.loaders.create_loader()
        session = botocore.session.Session()
        session.register_component("data_loader", self.loader)
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
        # Every answer botocore cannot read becomes an UnusableAnswer that carries no body (see GuardedParser).
        session.register_component("response_parser_factory", GuardedParserFactory(factory))
        redact_botocore_logs()
        self.sessions[key] = session
        return session

    def client(self, settings: StsSettings, credentials: Credentials | None, signed: bool = True) -> BaseClient:
        """A client of ``settings.service`` for these settings and credentials (cached; botocore clients are
        thread-safe)."""
        key: tuple[object, ...] = (settings.cache_key(), credentials, signed)
        with self.lock:
            cached = self.clients.get(key)
            if cached is not None:
                self.clients.move_to_end(key)
                return cached
            config = _client_config(settings, signed)
            verify: str | bool = True if settings.ca_bundle is None else settings.ca_bundle
            session = self.session(settings.raw_timestamps, settings.sts_regional_endpoints)
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
                config=config,
                **creds,
            )
            self.clients[key] = client
            while len(self.clients) > self.client_cache_size:
                self.clients.popitem(last=False)
            return client

    def call(
        self,
        operation: str,
        settings: StsSettings,
        credentials: Credentials | None,
        params: Mapping[str, Any],
        signed: bool = True,
    ) -> dict[str, Any]:
        """Call ``operation`` (``AssumeRole``...) of ``settings.service`` and return botocore's parsed response
        without ``ResponseMetadata``. ``None`` parameters are not sent. botocore's errors become rolecall errors,
        raised with no botocore exception as their context (its text may quote a body or a request value)."""
        if signed and credentials is None:
            raise no_credentials(operation)
        from botocore import xform_name  # botocore's own operation -> method names (ListMFADevices -> list_mfa_devices)

        method = xform_name(operation)
        # Keep only the parameters actually given: None means "not sent", as in the AWS CLI.
        sent = {k: v for k, v in params.items() if v is not None}
        client: BaseClient = None
        translated: RolecallError | None = None
        try:
            # Making the client is inside: botocore checks the region and the endpoint URL there
            # (InvalidRegionError, ValueError "Invalid endpoint" or urllib's "Invalid IPv6 URL"), not when sending.
            client = self.client(settings, credentials, signed)
            response: dict[str, Any] = getattr(client, method)(**sent)
        except Exception as error:  # botocore's errors, translated below; anything else is re-raised as is
            translated = _translated(error, client, operation, settings, sent, credentials)
            if translated is None:
                raise
        if translated is not None:
            # Raised outside the except block: botocore's exception is not even kept as the hidden __context__ of
            # the error everyone sees.
            raise translated
        response.pop("ResponseMetadata", None)
        return response

    def answer_metadata(self, settings: StsSettings, operation: str = "GetCallerIdentity") -> Mapping[str, Any]:
        """The ``ResponseMetadata`` (status, headers) of an unsigned ``operation``, accepted or refused (a
        refusal is dated too): what ``rolecall.aws.sts.server_time`` reads the service's clock from."""
        from botocore import exceptions as bce
        from botocore import xform_name

        translated: RolecallError | None = None
        metadata: Any = {}
        try:
            client = self.client(settings, None, signed=False)
            metadata = getattr(client, xform_name(operation))().get("ResponseMetadata", {})
        except bce.ClientError as error:  # the expected refusal (MissingAuthenticationToken)
            metadata = error.response.get("ResponseMetadata", {})
        except Exception as error:
            translated = translate(error, operation, settings, {}, None)
            if translated is None:
                raise
        if translated is not None:
            raise translated  # outside the except block: botocore's exception is not kept as its __context__
        return metadata if isinstance(metadata, Mapping) else {}


def _translated(
    error: Exception,
    client: BaseClient,
    operation: str,
    settings: StsSettings,
    sent: Mapping[str, Any],
    credentials: Credentials | None,
) -> RolecallError | None:
    """The rolecall error for what a call raised; None when it is not botocore's (re-raised as is)."""
    if isinstance(error, UnusableAnswer) and client is not None:
        error.endpoint = getattr(getattr(client, "meta", None), "endpoint_url", None)
    translated = translate(error, operation, settings, sent, credentials)
    if translated is None and client is None and isinstance(error, ValueError):
        text = str(error).splitlines()[0] if str(error) else type(error).__name__
        translated = ConfigError(
            f"Invalid endpoint: {endpoint_text(settings, error)} ({redact_url(text)})",
            hint="endpoint_url must look like https://sts.example.com",
        )
    return translated


#: The transport every client uses unless it is given another.
DEFAULT = Transport()


def clear_caches() -> None:
    """Forget the default transport's cached botocore sessions and clients."""
    DEFAULT.clear_caches()
