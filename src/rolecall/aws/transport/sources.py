"""Credential sources only botocore knows (``aws login``, the container endpoint, instance metadata) and the
instance's region, asked through botocore's own providers on a session that reads the given environment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rolecall.aws.redaction import redact_url
from rolecall.credentials import Credentials
from rolecall.errors import ConfigError, ExpiredCredentialsError, FileError, NetworkError

Session = Any

#: botocore's method names of the sources, and how messages name them.
SOURCE_NAMES = {
    "login": "`aws login`",
    "container-role": "container credentials endpoint",
    "iam-role": "EC2 instance metadata",
}

#: Who answered, for messages about what a source gave.
_SOURCE_DESCRIPTIONS = {
    "login": "the `aws login` session",
    "container-role": "the container credentials endpoint",
    "iam-role": "the EC2 instance metadata service",
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
            return f"{variable} is not usable: {redact_url(first)}", _CONTAINER_HINT
    return redact_url(first), _CONTAINER_HINT


def botocore_session_for(env: Mapping[str, str], profile: str | None) -> Session:
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


def _provider(kind: str, profile: str, env: Mapping[str, str]) -> Any:
    """botocore's provider of ``kind``, set up as botocore's own resolver sets it up, on ``env``."""
    import botocore.credentials  # type: ignore[import-untyped, unused-ignore]
    import botocore.utils  # type: ignore[import-untyped, unused-ignore]

    environ = dict(env)
    session = botocore_session_for(env, profile)
    if kind == "container-role":
        return botocore.credentials.ContainerProvider(environ=environ)
    if kind == "iam-role":
        fetcher = botocore.utils.InstanceMetadataFetcher(
            timeout=session.get_config_variable("metadata_service_timeout"),
            num_attempts=session.get_config_variable("metadata_service_num_attempts"),
            env=environ,
            user_agent=session.user_agent(),
            config=_imds_config(session),
        )
        return botocore.credentials.InstanceMetadataProvider(iam_role_fetcher=fetcher)
    session.set_config_variable("profile", profile)
    resolver = botocore.credentials.create_credential_resolver(session)
    return resolver.get_provider(kind)


def _source_error(error: Exception, kind: str, profile: str, env: Mapping[str, str]) -> Exception:
    """The rolecall error for what asking a source raised; ``error`` itself when it is not expected here."""
    from botocore import exceptions as bce

    name = SOURCE_NAMES[kind]
    if isinstance(error, RuntimeError):
        # botocore fetches expired credentials once more and then raises a bare RuntimeError ("Credentials were
        # refreshed, but the refreshed credentials are still expired."); its text holds no secret, and nothing else
        # raises RuntimeError here.
        if "still expired" not in str(error):
            return error
        return ExpiredCredentialsError(
            f"{_SOURCE_DESCRIPTIONS[kind]} returned credentials that had already expired, twice; they were not used",
            hint="check this machine's clock (`date -u`); if it is right, the endpoint is misbehaving",
        )
    if isinstance(error, bce.ConnectionError | bce.CredentialRetrievalError | bce.MetadataRetrievalError):
        return NetworkError(
            f"could not get credentials from the {name}: {type(error).__name__}",
            hint="check that the endpoint is reachable from here (and AWS_CONTAINER_* / IMDS settings)",
        )
    if isinstance(error, bce.BotoCoreError):
        hint = f"run: aws login --profile {profile}" if kind == "login" else "check the profile's settings"
        # botocore's messages here describe configuration and token state, never secrets (URLs lose any user:password).
        return ConfigError(f'profile "{profile}": {name} credentials: {redact_url(str(error))}', hint=hint)
    if isinstance(error, ValueError):
        # The container provider checks its settings only when asked: a URI that is not a URL, a host it will not
        # talk to, an authorization token that cannot be an HTTP header.
        if kind != "container-role":
            return ConfigError(
                f'profile "{profile}": the {name} settings are invalid: {type(error).__name__}',
                hint="check the profile's settings",
            )
        problem, hint = _container_problem(error, dict(env))
        return ConfigError(f"the {name} settings are invalid: {problem}", hint=hint)
    if isinstance(error, OSError):
        # AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE that cannot be read.
        what = f"{error.strerror or type(error).__name__}: {error.filename}" if error.filename else type(error).__name__
        return FileError(
            f"could not read a file the {name} needs: {what}",
            hint="check AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE and the file's permissions"
            if kind == "container-role"
            else "check the file named above",
        )
    return error


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
    if kind not in SOURCE_NAMES:
        raise ConfigError(f"unknown botocore credential source {kind!r}", hint="use one of " + ", ".join(SOURCE_NAMES))
    translated: Exception | None = None
    try:
        found = _provider(kind, profile, env).load()
        frozen = found.get_frozen_credentials() if found is not None else None
    except Exception as error:  # botocore's failures, translated; anything else is re-raised as is
        translated = _source_error(error, kind, profile, env)
        if translated is error:
            raise
    if translated is not None:
        raise translated from None  # outside the except block: not even a hidden __context__
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(
            f'profile "{profile}": the {SOURCE_NAMES[kind]} gave no credentials',
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
        session = botocore_session_for(env, profile)
        region = botocore.utils.IMDSRegionProvider(session, environ=dict(env)).provide()
    except (BotoCoreError, ValueError):  # a refused token request, a setting botocore cannot use: no region
        return None
    return region if isinstance(region, str) and region else None
