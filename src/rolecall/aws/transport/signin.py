"""The AWS Sign-In (``signin``) service through botocore: CreateOAuth2Token with a DPoP proof, and the base URL
the browser is sent to for ``/v1/authorize``.

CreateOAuth2Token is in botocore's own ``signin`` model (unsigned, ``POST /v1/token``); the DPoP proof is a
header the model does not know, so it is added by a ``before-call`` handler on a client made for the call (the
proof signs the exact URL botocore resolved). A refusal that carries the OAuth ``error`` member
(``TOKEN_EXPIRED``, ``AUTHCODE_EXPIRED``...) is a :class:`SigninRefusal` with that code; everything else is
translated as for STS. The caller (``rolecall.login.api``) gives the codes their meaning for a person.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rolecall.aws.settings import StsSettings
from rolecall.aws.transport.client import DEFAULT, Transport, _client_config
from rolecall.aws.transport.translate import translate
from rolecall.errors import AwsError, RolecallError

#: The operation, as botocore's model names it.
OPERATION = "CreateOAuth2Token"


class SigninRefusal(AwsError):
    """The sign-in service refused the request; ``oauth_error`` is its ``error`` member (``TOKEN_EXPIRED``...),
    ``code`` the exception's name (``AccessDeniedException``, ``ValidationException``...)."""

    def __init__(self, code: str, oauth_error: str) -> None:
        super().__init__(f"AWS Sign-In refused {OPERATION}: {code} ({oauth_error or 'no reason given'})", code=code)
        self.oauth_error = oauth_error


def _client(settings: StsSettings, transport: Transport) -> Any:
    """A new unsigned ``signin`` client (not cached: each has its own DPoP handler)."""
    session = transport.session(False, settings.sts_regional_endpoints)
    verify: str | bool = True if settings.ca_bundle is None else settings.ca_bundle
    return session.create_client(
        "signin",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        verify=verify,
        config=_client_config(settings, signed=False),
    )


def create_oauth2_token(
    settings: StsSettings,
    token_input: Mapping[str, Any],
    proof: Callable[[str], str],
    *,
    transport: Transport = DEFAULT,
) -> dict[str, Any]:
    """CreateOAuth2Token with ``token_input`` (the ``tokenInput`` body); ``proof(url)`` makes the DPoP header for
    the URL the request goes to. Returns the ``tokenOutput``; raises ``SigninRefusal`` or a translated error."""
    from botocore import exceptions as bce  # type: ignore[import-untyped, unused-ignore]

    def add_proof(params: dict[str, Any], **_: Any) -> None:
        params["headers"]["DPoP"] = proof(params["url"])

    failure: RolecallError | None = None
    response: dict[str, Any] = {}
    try:
        client = _client(settings, transport)
        client.meta.events.register(f"before-call.signin.{OPERATION}", add_proof)
        response = client.create_o_auth2_token(tokenInput=dict(token_input))
    except bce.ClientError as error:
        answer = getattr(error, "response", None) or {}
        code = str((answer.get("Error") or {}).get("Code") or "")
        oauth = answer.get("error")
        failure = SigninRefusal(code, oauth if isinstance(oauth, str) else "")
    except Exception as error:
        failure = translate(error, OPERATION, settings, {}, None)
        if failure is None:
            raise
    if failure is not None:
        raise failure  # outside the except block: botocore's exception (it may quote the body) is not kept
    output = response.get("tokenOutput")
    if not isinstance(output, dict):
        raise AwsError(
            "AWS Sign-In answered CreateOAuth2Token without a token",
            hint="check that the endpoint really is the sign-in service (AWS_ENDPOINT_URL_SIGNIN / endpoint_url)",
        )
    return output


def signin_base_url(settings: StsSettings, *, transport: Transport = DEFAULT) -> str:
    """``https://us-east-1.signin.aws.amazon.com``: scheme and host botocore resolves CreateOAuth2Token to for
    ``settings``, found by letting botocore build the request and stopping it before it is sent (as the AWS CLI
    v2 does), so endpoint rules, ``AWS_ENDPOINT_URL_SIGNIN`` and partitions all count."""
    from urllib.parse import urlsplit

    import botocore.awsrequest  # type: ignore[import-untyped, unused-ignore]

    found: dict[str, str] = {}

    def capture(params: dict[str, Any], **_: Any) -> Any:
        parts = urlsplit(params["url"])
        found["url"] = f"{parts.scheme}://{parts.netloc}"
        return botocore.awsrequest.AWSResponse(None, 200, {}, None), {}

    failure: RolecallError | None = None
    try:
        client = _client(settings, transport)
        client.meta.events.register(f"before-call.signin.{OPERATION}", capture)
        client.create_o_auth2_token(tokenInput={"clientId": " ", "grantType": " "})
    except Exception as error:
        failure = translate(error, OPERATION, settings, {}, None)
        if failure is None:
            raise
    if failure is not None:
        raise failure
    return found["url"]
