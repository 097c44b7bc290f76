"""Who a set of credentials belongs to: GetCallerIdentity at the STS endpoint a profile's calls go to.

For library callers without a session: a one-call ``rolecall.session.Session`` does the work
(``Session.caller_identity``, which the commands' ``--verify`` and ``whoami`` call on their own session). The
endpoint and region come from the caller's ``region``/``endpoint_url`` (the command line), then the environment,
then the profile, as for every STS call (``rolecall.aws.settings.resolve_settings``). Nothing here prints or
exits. Off the fast path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.aws.transport import Transport
    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials

__all__ = ["caller_identity"]


def caller_identity(
    env: Mapping[str, str],
    paths: AwsPaths,
    profile: str,
    credentials: Credentials,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    transport: Transport | None = None,
) -> dict[str, Any]:
    """GetCallerIdentity's answer for ``credentials``, sent where profile ``profile``'s STS calls go.

    Raises ``AwsError`` (AWS's own message) when the credentials do not work. ``transport`` carries the call
    (default: the process-wide one; tests pass their own).
    """
    from rolecall.session import Session

    session = Session(env, paths=paths, transport=transport)
    return session.caller_identity(profile, credentials, region=region, endpoint_url=endpoint_url)
