"""botocore's exceptions -> rolecall errors: one line and a hint each, never a secret (AWS refusals go on to
``rolecall.aws.hints``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolecall.aws.hints import UnusableAnswer, client_error, no_credentials, unusable_answer
from rolecall.aws.redaction import redact, redact_url
from rolecall.aws.settings import StsSettings
from rolecall.credentials import Credentials
from rolecall.errors import AwsError, ConfigError, InvalidInputError, NetworkError, RolecallError


def endpoint_text(settings: StsSettings, error: Exception) -> str:
    """The endpoint a failed request went to, for a message (without ``user:password@``)."""
    url = getattr(error, "kwargs", {}).get("endpoint_url") or settings.endpoint_url
    return redact_url(str(url or f"the {settings.service_name} endpoint"))


def _network_error(error: Exception, operation: str, settings: StsSettings) -> RolecallError | None:
    """The proxy, TLS, timeout and connection failures; None for anything else."""
    from botocore import exceptions as bce

    name = settings.service_name
    if isinstance(error, bce.ProxyConnectionError):
        proxy = redact_url(str(getattr(error, "kwargs", {}).get("proxy_url", "the proxy")))
        return NetworkError(
            f"could not connect to the proxy {proxy} for {operation}",
            hint=f"check HTTPS_PROXY / HTTP_PROXY, or list the {name} host in NO_PROXY",
        )
    if isinstance(error, bce.SSLError):
        return NetworkError(
            f"TLS certificate verification failed for {endpoint_text(settings, error)}",
            hint="if a corporate proxy or a private CA signs the traffic, point AWS_CA_BUNDLE (or ca_bundle) at "
            "its CA file",
        )
    if isinstance(error, bce.ConnectTimeoutError | bce.ReadTimeoutError):
        return NetworkError(
            f"timed out talking to {endpoint_text(settings, error)} for {operation}",
            hint=f"check the network, the region and endpoint_url / {settings.endpoint_variable}",
        )
    if isinstance(error, bce.EndpointConnectionError | bce.ConnectionClosedError | bce.HTTPClientError):
        where, region_hint = _region_advice(settings)
        return NetworkError(
            f"could not reach the {name} endpoint {endpoint_text(settings, error)} for {operation}{where}",
            hint=region_hint or f"check the network, the region (--region) and endpoint_url / "
            f"{settings.endpoint_variable}",
        )
    return None


def _region_advice(settings: StsSettings) -> tuple[str, str | None]:
    """For an AWS endpoint that cannot be reached: `` (profile "prod", region eu-wset-1)`` and, when the region is no
    region AWS has (a typo, an availability zone: ``rolecall.regions``), a hint with the did-you-mean. Worked out on
    this error path only (the partition table is read here, never on a cached lookup)."""
    region = settings.region
    if region is None or settings.endpoint_url is not None:
        return "", None  # an endpoint of the user's own: the region is not what picks the host
    who = f'profile "{settings.profile}", ' if settings.profile else ""
    where = f" ({who}region {region})"
    from rolecall import regions

    advice = regions.advise(region)
    if advice is None or not advice.is_problem:
        return where, None
    fix = f"rolecall configure set region {advice.suggestion} --profile {settings.profile}" if (
        advice.suggestion and settings.profile) else "set the region meant"
    return where, f"{advice.message}; fix it: {fix}, or --region / AWS_REGION if it came from there"


def translate(
    error: Exception,
    operation: str,
    settings: StsSettings,
    params: Mapping[str, Any],
    credentials: Credentials | None,
) -> RolecallError | None:
    """botocore's exception -> one rolecall error with a hint; ``None`` for something that is not botocore's."""
    from botocore import exceptions as bce

    if isinstance(error, UnusableAnswer):
        return unusable_answer(error, operation, settings)
    if isinstance(error, bce.ClientError):
        return client_error(getattr(error, "response", None), operation, settings, params, credentials)
    network = _network_error(error, operation, settings)
    if network is not None:
        return network
    if isinstance(error, bce.NoCredentialsError | bce.PartialCredentialsError):
        return no_credentials(operation)
    if isinstance(error, bce.ParamValidationError):
        return InvalidInputError(
            f"invalid {operation} request: {redact(str(error), params, credentials)}",
            hint="fix the value named above",
        )
    if isinstance(error, bce.NoRegionError | bce.UnknownEndpointError | bce.InvalidRegionError):
        return ConfigError(
            f"cannot work out the {settings.service_name} endpoint: {error}",
            hint="set a valid region (--region, AWS_REGION or the profile's region)",
        )
    if isinstance(error, ValueError) and "Invalid endpoint" in str(error):
        return ConfigError(
            f"{redact_url(str(error))}",
            hint="endpoint_url must look like https://sts.example.com",
        )
    if isinstance(error, bce.BotoCoreError):
        return AwsError(f"{operation} failed: {type(error).__name__}", hint="rerun with --debug for details")
    return None
