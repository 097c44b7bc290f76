"""STS, and the unsigned IAM Identity Center services, as thin typed clients: each call checks its parameters
against AWS's limits, goes through a :class:`~rolecall.aws.transport.Transport` (``transport=``, default the
process-wide one; tests pass their own) and returns the parsed response without ``ResponseMetadata``.

Every call takes explicit :class:`~rolecall.aws.settings.StsSettings` and explicit credentials: nothing here
reads ``os.environ`` or the user's files.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rolecall import validation
from rolecall.aws.settings import StsSettings
from rolecall.aws.transport.client import DEFAULT, Transport
from rolecall.credentials import Credentials
from rolecall.errors import AwsError
from rolecall.timefmt import parse_timestamp

__all__ = [
    "assume_role",
    "assume_role_with_saml",
    "assume_role_with_web_identity",
    "call_service",
    "credentials_from_response",
    "get_caller_identity",
    "get_federation_token",
    "get_session_token",
    "server_time",
]


def assume_role(
    settings: StsSettings, credentials: Credentials | None, *, transport: Transport = DEFAULT, **params: Any
) -> dict[str, Any]:
    """Call AssumeRole with STS's own parameter names; return botocore's parsed response.

    ``params``: RoleArn, RoleSessionName, SerialNumber, TokenCode, DurationSeconds, ExternalId, Policy,
    PolicyArns, Tags, TransitiveTagKeys, SourceIdentity (``None`` values are left out). They are
    validated against AWS's limits first (``InvalidInputError``). ``ResponseMetadata`` is removed.
    """
    validation.validate_assume_role(params)
    return transport.call("AssumeRole", settings, credentials, params)


def get_session_token(
    settings: StsSettings, credentials: Credentials | None, *, transport: Transport = DEFAULT, **params: Any
) -> dict[str, Any]:
    """Call GetSessionToken (DurationSeconds, SerialNumber, TokenCode) with long-term credentials."""
    validation.validate_get_session_token(params)
    return transport.call("GetSessionToken", settings, credentials, params)


def get_federation_token(
    settings: StsSettings, credentials: Credentials | None, *, transport: Transport = DEFAULT, **params: Any
) -> dict[str, Any]:
    """Call GetFederationToken (Name, Policy, PolicyArns, DurationSeconds) with an IAM user's long-term keys."""
    validation.validate_get_federation_token(params)
    return transport.call("GetFederationToken", settings, credentials, params)


def get_caller_identity(
    settings: StsSettings, credentials: Credentials | None, *, transport: Transport = DEFAULT
) -> dict[str, Any]:
    """Call GetCallerIdentity: ``{"UserId", "Account", "Arn"}`` of whoever the credentials belong to."""
    return transport.call("GetCallerIdentity", settings, credentials, {})


def assume_role_with_web_identity(
    settings: StsSettings, *, transport: Transport = DEFAULT, **params: Any
) -> dict[str, Any]:
    """Call AssumeRoleWithWebIdentity, unsigned (RoleArn, RoleSessionName, WebIdentityToken, ...)."""
    validation.validate_assume_role_with_web_identity(params)
    return transport.call("AssumeRoleWithWebIdentity", settings, None, params, signed=False)


def assume_role_with_saml(settings: StsSettings, *, transport: Transport = DEFAULT, **params: Any) -> dict[str, Any]:
    """Call AssumeRoleWithSAML, unsigned (RoleArn, PrincipalArn, SAMLAssertion, DurationSeconds): the signed
    assertion is the credential. The assertion is never echoed in an error."""
    for name in ("RoleArn", "PrincipalArn"):
        validation.check_role_arn(params.get(name), name)
    if not isinstance(params.get("SAMLAssertion"), str) or not 4 <= len(params["SAMLAssertion"]) <= 100_000:
        from rolecall.errors import InvalidInputError

        raise InvalidInputError(
            "SAMLAssertion must be 4 to 100,000 characters", hint="check saml_url is your provider's AWS app"
        )
    if params.get("DurationSeconds") is not None:
        validation.check_duration(params["DurationSeconds"])
    return transport.call("AssumeRoleWithSAML", settings, None, params, signed=False)


def call_service(
    settings: StsSettings, operation: str, *, transport: Transport = DEFAULT, **params: Any
) -> dict[str, Any]:
    """Call ``operation`` of ``settings.service`` unsigned (``sso-oidc`` and the ``sso`` portal take no SigV4:
    their tokens are parameters). Errors become ``RolecallError``s as for STS; an AWS refusal is an ``AwsError``
    whose ``code`` the caller can tell apart. ``ResponseMetadata`` is removed."""
    return transport.call(operation, settings, None, params, signed=False)


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


def server_time(settings: StsSettings, *, transport: Transport = DEFAULT) -> datetime:
    """STS's clock: the ``Date`` header of an unsigned GetCallerIdentity (refused, but dated) to ``settings``.

    Used by ``rolecall doctor --online`` to measure clock skew; needs no credentials. Network problems become
    ``NetworkError``; an answer without a usable ``Date`` header is an ``AwsError``.
    """
    from datetime import timezone
    from email.utils import parsedate_to_datetime

    metadata = transport.answer_metadata(settings, "GetCallerIdentity")
    date = (metadata.get("HTTPHeaders") or {}).get("date")
    try:
        return parsedate_to_datetime(str(date)).astimezone(timezone.utc)
    except (TypeError, ValueError):
        raise AwsError(
            f"{settings.service_name} answered without a usable Date header",
            hint="the clock check needs the real STS endpoint (or one that dates its answers)",
        ) from None
