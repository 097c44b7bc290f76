"""Helpers for the sandbox's own tests: clients for the sandbox and for plain moto, and error checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from rolecall.sandbox import Sandbox

_plain: Any = None


def plain_moto_url() -> str:
    """A plain moto server (no strictness layer) in this process: it shares moto's backends, so it
    sees the sandbox's seeded account, and shows what moto alone would accept."""
    global _plain
    if _plain is None:
        from moto.server import ThreadedMotoServer

        _plain = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        _plain.start()
    host, port = _plain.get_host_and_port()
    return f"http://{host}:{port}"


def client(
    endpoint: str,
    key: str,
    secret: str,
    token: str | None = None,
    region: str = "us-east-1",
    retries: int | None = None,
    read_timeout: float | None = None,
) -> Any:
    """A real boto3 STS client; ``retries`` = total attempts (standard mode) when given."""
    options: dict[str, Any] = {}
    if retries is not None:
        options["retries"] = {"total_max_attempts": retries, "mode": "standard"}
    if read_timeout is not None:
        options["read_timeout"] = read_timeout
    return boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(**options),
    )


def alice(sb: Sandbox, endpoint: str | None = None, **kwargs: Any) -> Any:
    """An STS client with alice's long-term keys, for the sandbox (or ``endpoint``)."""
    return client(endpoint or sb.endpoint_url, sb.access_key_id, sb.secret_access_key, **kwargs)


def from_credentials(endpoint: str, credentials: dict[str, Any], **kwargs: Any) -> Any:
    """An STS client using temporary ``Credentials`` as STS returned them."""
    return client(
        endpoint, credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"], **kwargs
    )


def rejected(call: Callable[[], Any], code: str, message: str, status: int) -> None:
    """``call`` fails with exactly this AWS error code, message and HTTP status."""
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def not_authorized(caller: str, role_arn: str) -> str:
    """AWS's AccessDenied message for AssumeRole."""
    return f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
