"""A boto3 ``Session`` whose credentials come from a function and refresh through it (botocore's
``RefreshableCredentials``): the botocore side of ``rolecall.resolve.boto3_session``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolecall.credentials import Credentials


def _metadata(credentials: Credentials) -> dict[str, str]:
    """``credentials`` in the shape botocore's ``RefreshableCredentials`` reads."""
    from rolecall.timefmt import format_iso_z

    return {
        "access_key": credentials.access_key_id,
        "secret_key": credentials.secret_access_key,
        "token": credentials.session_token or "",
        "expiry_time": format_iso_z(credentials.expiration) if credentials.expiration else "2999-12-31T00:00:00Z",
    }


def require_boto3() -> None:
    """Import boto3 and botocore's credentials now: ``ImportError`` (boto3 not installed) before any work."""
    import boto3  # noqa: F401
    import botocore.credentials  # noqa: F401


def refreshing_boto3_session(fetch: Callable[[], Credentials], region: str | None) -> Any:
    """A ``boto3.Session`` in ``region`` whose credentials are ``fetch()`` and are fetched again before they expire.

    Requires boto3 (``pip install 'rolecall[boto3]'``).
    """
    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    def refresh() -> dict[str, str]:
        return _metadata(fetch())

    core = botocore.session.Session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # the documented way to plug a refresher
        metadata=refresh(), refresh_using=refresh, method="rolecall"
    )
    return boto3.Session(botocore_session=core, region_name=region)
