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
    from collections.abc import Callable, Mapping

    from rolecall.aws.transport import Transport
    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials

__all__ = ["caller_identity", "exported_profile"]


def exported_profile(
    env: Mapping[str, str],
    arn: str | None = None,
    settings_of: Callable[[str], Mapping[str, Any] | None] | None = None,
) -> str | None:
    """The profile whose credentials rolecall exported into ``env`` (``ROLECALL_PROFILE``), or None.

    For naming keys found in the environment: ``whoami`` after ``assume ops`` says ``ops``, not only
    "environment variables". ``unassume`` removes the variable with the keys. With the identity's ``arn``
    (GetCallerIdentity's) and ``settings_of`` (a profile's settings by name, e.g. ``ConfigFiles.profile``), a name
    that cannot be right is not given: the profile's ``role_arn`` names another role than the one the keys are a
    session of (keys exported by hand since).
    """
    from rolecall.export import ROLECALL_PROFILE  # set by env (the assume function) and exec next to the keys
    from rolecall.statusline import role_name

    name = env.get(ROLECALL_PROFILE, "").strip()
    if not name:
        return None
    settings = settings_of(name) if settings_of is not None else None
    role_arn = (settings or {}).get("role_arn")
    if isinstance(role_arn, str) and arn is not None and role_name(role_arn) != role_name(arn):
        return None
    return name


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
