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


def refreshing_boto3_session(
    fetch: Callable[[], Credentials],
    region: str | None,
    *,
    advisory: float | None = None,
    mandatory: float | None = None,
) -> Any:
    """A ``boto3.Session`` in ``region`` whose credentials are ``fetch()`` and are fetched again before they expire.

    ``advisory`` / ``mandatory``: botocore's refresh windows in seconds (None: its 15 and 10 minutes). botocore
    refreshes single-flight: in the advisory window one thread refreshes while the others keep the current
    credentials; in the mandatory window they wait for that one refresh. Requires boto3
    (``pip install 'rolecall[boto3]'``).
    """
    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    def refresh() -> dict[str, str]:
        return _metadata(fetch())

    core = botocore.session.Session()
    core._credentials = RefreshableCredentials.create_from_metadata(  # the documented way to plug a refresher
        metadata=refresh(),
        refresh_using=refresh,
        method="rolecall",
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
    )
    return boto3.Session(botocore_session=core, region_name=region)


def session_credentials(session: Any) -> Credentials:
    """The credentials a boto3 or botocore ``Session`` would sign with now (refreshed by it first when they are due),
    as rolecall ``Credentials`` (expiry included when botocore knows it). ``InvalidInputError`` when it has none."""
    import botocore.session

    from rolecall.errors import InvalidInputError

    core = session if isinstance(session, botocore.session.Session) else getattr(session, "_session", None)
    if not isinstance(core, botocore.session.Session):
        raise InvalidInputError(
            "source must be a profile name, a boto3/botocore Session or rolecall Credentials, "
            f"not {type(session).__name__}",
            hint="pass source='PROFILE', source=boto3.Session(...), or source=rolecall.Credentials(...)",
        )
    found = core.get_credentials()
    if found is None:
        raise InvalidInputError(
            "the source session has no credentials", hint="give the session a profile or keys, or pass another source"
        )
    frozen = found.get_frozen_credentials()
    expiry = getattr(found, "_expiry_time", None)  # RefreshableCredentials' own expiry, when it has one
    return Credentials(frozen.access_key, frozen.secret_key, frozen.token or None, expiration=expiry)


def session_region(session: Any) -> str | None:
    """The region a boto3 or botocore ``Session`` would use, or None."""
    import botocore.session

    core = session if isinstance(session, botocore.session.Session) else getattr(session, "_session", None)
    if not isinstance(core, botocore.session.Session):
        return None
    region = core.get_config_variable("region")
    return region if isinstance(region, str) and region else None
