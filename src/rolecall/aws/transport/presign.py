"""A presigned STS GetCallerIdentity URL with an extra signed header: the heart of an EKS token.

Kubernetes' AWS authenticator (and EKS) accept a bearer token that is a presigned GetCallerIdentity GET; it sends
the URL to STS with the ``x-k8s-aws-id: CLUSTER`` header, which must be among the signed headers so that a token
made for one cluster cannot be replayed against another. botocore signs it; this module only adds the header
before signing, on a client of its own (the transport's cached clients never get the handler).
"""

from __future__ import annotations

from typing import Any

from rolecall.aws.transport.client import Transport, _client_config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.aws.settings import StsSettings
    from rolecall.credentials import Credentials


def presigned_caller_identity(
    transport: Transport, settings: StsSettings, credentials: Credentials, header: tuple[str, str], expires: int
) -> str:
    """The URL of a GET GetCallerIdentity signed with ``credentials`` (query-string SigV4, ``X-Amz-Expires`` =
    ``expires``), with the header ``header`` signed in; sent where ``settings`` send STS calls."""
    session = transport.session(settings.raw_timestamps, settings.sts_regional_endpoints)
    client = session.create_client(
        "sts",
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        verify=True if settings.ca_bundle is None else settings.ca_bundle,
        config=_client_config(settings, True),
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )
    name, value = header

    def add_header(request: Any, **_kwargs: Any) -> None:
        request.headers[name] = value

    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    return str(client.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=expires, HttpMethod="GET"))
