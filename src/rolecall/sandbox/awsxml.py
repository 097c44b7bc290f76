"""AWS Query-protocol XML for STS: the error envelope and the few success bodies the sandbox writes itself.

Real STS answers every error with the same ``ErrorResponse`` envelope; clients (botocore, the AWS CLI)
read ``Code`` and ``Message`` from it and decide on retries by code and HTTP status, so both must be exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"


def new_request_id() -> str:
    """A request id in AWS's UUID shape."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class StsError(Exception):
    """An STS error answer: AWS error ``code``, ``message``, HTTP ``status`` and fault ``type``.

    Raised inside the strictness layer and rendered once, by ``to_response``.
    """

    code: str
    message: str
    status: int = 400
    type: str = "Sender"

    def __str__(self) -> str:
        """``Code: message``."""
        return f"{self.code}: {self.message}"

    def to_xml(self, request_id: str) -> bytes:
        """The ``ErrorResponse`` document exactly as STS writes it."""
        return (
            f'<ErrorResponse xmlns="{STS_NAMESPACE}">\n'
            "  <Error>\n"
            f"    <Type>{self.type}</Type>\n"
            f"    <Code>{escape(self.code)}</Code>\n"
            f"    <Message>{escape(self.message)}</Message>\n"
            "  </Error>\n"
            f"  <RequestId>{request_id}</RequestId>\n"
            "</ErrorResponse>\n"
        ).encode()


# The errors the sandbox produces, with AWS's codes, messages and statuses (shared/reference, section 6).


def access_denied(message: str) -> StsError:
    """403 AccessDenied with ``message``."""
    return StsError("AccessDenied", message, 403)


def not_authorized(caller_arn: str, action: str, resource: str) -> StsError:
    """AWS's authorization failure: ``User: ARN is not authorized to perform: ACTION on resource: RES``."""
    return access_denied(f"User: {caller_arn} is not authorized to perform: {action} on resource: {resource}")


def validation_error(message: str) -> StsError:
    """400 ValidationError."""
    return StsError("ValidationError", message, 400)


def invalid_client_token_id() -> StsError:
    """An access key or session token STS does not know."""
    return StsError("InvalidClientTokenId", "The security token included in the request is invalid.", 403)


def signature_does_not_match(message: str | None = None) -> StsError:
    """The request was signed with the wrong secret, altered after signing, or signed too long ago."""
    return StsError(
        "SignatureDoesNotMatch",
        message
        or "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        403,
    )


def expired_token() -> StsError:
    """Temporary credentials past their expiration."""
    return StsError("ExpiredToken", "The security token included in the request is expired", 403)


def missing_authentication_token() -> StsError:
    """An unsigned request to an action that needs a signature."""
    return StsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403)


def incomplete_signature(message: str) -> StsError:
    """A malformed Authorization header."""
    return StsError("IncompleteSignature", message, 400)


def throttling() -> StsError:
    """What STS answers when a caller exceeds its request rate; botocore retries it."""
    return StsError("Throttling", "Rate exceeded", 400)


def internal_failure() -> StsError:
    """A 500 from the service side; botocore retries it."""
    return StsError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        500,
        "Receiver",
    )


def region_disabled(account_id: str) -> StsError:
    """STS is not activated in the request's region for the account."""
    return StsError(
        "RegionDisabledException",
        f"STS is not activated in this region for account:{account_id}. Your account administrator can "
        "activate STS in this region using the IAM Console.",
        403,
    )


def _element(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"


def caller_identity_xml(arn: str, user_id: str, account: str, request_id: str) -> bytes:
    """The GetCallerIdentity success body."""
    return (
        f'<GetCallerIdentityResponse xmlns="{STS_NAMESPACE}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    {_element('Arn', arn)}\n"
        f"    {_element('UserId', user_id)}\n"
        f"    {_element('Account', account)}\n"
        "  </GetCallerIdentityResult>\n"
        f"  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    ).encode()


def _credentials_xml(access_key_id: str, secret_access_key: str, session_token: str, expiration: str) -> str:
    """The ``<Credentials>`` element of a GetSessionToken / GetFederationToken result."""
    return (
        "    <Credentials>\n"
        f"      {_element('SessionToken', session_token)}\n"
        f"      {_element('SecretAccessKey', secret_access_key)}\n"
        f"      {_element('Expiration', expiration)}\n"
        f"      {_element('AccessKeyId', access_key_id)}\n"
        "    </Credentials>\n"
    )


def session_token_xml(
    access_key_id: str, secret_access_key: str, session_token: str, expiration: str, request_id: str
) -> bytes:
    """The GetSessionToken success body (``expiration`` already in ``YYYY-MM-DDTHH:MM:SSZ`` form)."""
    return (
        f'<GetSessionTokenResponse xmlns="{STS_NAMESPACE}">\n'
        "  <GetSessionTokenResult>\n"
        + _credentials_xml(access_key_id, secret_access_key, session_token, expiration)
        + "  </GetSessionTokenResult>\n"
        f"  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\n"
        "</GetSessionTokenResponse>\n"
    ).encode()


def federation_token_xml(
    access_key_id: str,
    secret_access_key: str,
    session_token: str,
    expiration: str,
    federated_user_id: str,
    arn: str,
    request_id: str,
) -> bytes:
    """The GetFederationToken success body."""
    return (
        f'<GetFederationTokenResponse xmlns="{STS_NAMESPACE}">\n'
        "  <GetFederationTokenResult>\n"
        + _credentials_xml(access_key_id, secret_access_key, session_token, expiration)
        + "    <FederatedUser>\n"
        f"      {_element('FederatedUserId', federated_user_id)}\n"
        f"      {_element('Arn', arn)}\n"
        "    </FederatedUser>\n"
        "    <PackedPolicySize>6</PackedPolicySize>\n"
        "  </GetFederationTokenResult>\n"
        f"  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>\n"
        "</GetFederationTokenResponse>\n"
    ).encode()
