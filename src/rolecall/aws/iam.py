"""IAM as a thin typed client (``rolecall keys rotate``, ``add-role``'s MFA device lookup): the same transport,
settings and error translation as STS, with ``settings`` switched to the ``iam`` service."""

from __future__ import annotations

from typing import Any

from rolecall.aws.settings import StsSettings
from rolecall.aws.transport.client import DEFAULT, Transport
from rolecall.credentials import Credentials

__all__ = ["iam_call", "list_mfa_devices"]


def iam_call(
    settings: StsSettings,
    credentials: Credentials | None,
    operation: str,
    *,
    transport: Transport = DEFAULT,
    **params: Any,
) -> dict[str, Any]:
    """Call the IAM ``operation`` (``CreateAccessKey``, ``DeleteAccessKey``, ``ListAccessKeys``...) signed with
    ``credentials``, through the same clients, settings and error translation as STS (``settings`` of any
    service: the copy used is for ``iam``). ``None`` parameters are left out; ``ResponseMetadata`` is removed.
    The response of CreateAccessKey holds a secret: callers keep it out of messages."""
    if settings.service != "iam":
        settings = settings.with_overrides(service="iam")
    return transport.call(operation, settings, credentials, params)


def list_mfa_devices(
    settings: StsSettings,
    credentials: Credentials | None,
    user_name: str | None = None,
    *,
    transport: Transport = DEFAULT,
) -> list[str]:
    """The serial numbers of an IAM user's MFA devices (IAM ListMFADevices; ``settings`` for the ``iam`` service;
    ``user_name`` None: the caller's own). Raises ``AwsError`` (AccessDenied...) when the caller may not list them."""
    response = transport.call("ListMFADevices", settings, credentials, {"UserName": user_name})
    return [str(device["SerialNumber"]) for device in response.get("MFADevices") or [] if "SerialNumber" in device]
