"""The library's front door: credentials for a profile, and a boto3 Session that refreshes through rolecall."""

from __future__ import annotations

import os

from rolecall.config.paths import AwsPaths
from rolecall.providers.base import Runtime
from rolecall.reporting import ignore
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    from rolecall.credentials import Credentials
    from rolecall.providers.chain import Chain
    from rolecall.reporting import Reporter


def make_runtime(
    env: Mapping[str, str] | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    reporter: Reporter = ignore,
    token_code: str | None = None,
    mfa_strategy: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    allow_prompt: bool = True,
    force_refresh: bool = False,
) -> Runtime:
    """A ``Runtime`` for ``env`` (default: this process's environment)."""
    environment = dict(os.environ) if env is None else env
    return Runtime(
        environment,
        AwsPaths.from_env(environment),
        clock=clock,
        reporter=reporter,
        token_code=token_code,
        mfa_strategy=mfa_strategy,
        region=region,
        endpoint_url=endpoint_url,
        allow_prompt=allow_prompt,
        force_refresh=force_refresh,
    )


def resolve_chain(profile: str | None, runtime: Runtime) -> Chain:
    """Read the files and build the provider chain for ``profile`` (None: AWS_PROFILE, then ``default``): a
    one-call ``rolecall.session.Session`` on ``runtime``'s environment and paths (``Session.chain``)."""
    from rolecall.session import Session

    session = Session(runtime.env, paths=runtime.paths, clock=runtime.clock, reporter=runtime.reporter)
    return session.chain(profile, runtime)


def get_credentials(profile: str | None = None, **options: Any) -> Credentials:
    """Working credentials for ``profile``, with rolecall's caches, MFA strategies and locks.

    ``options`` are those of ``make_runtime`` (``env``, ``clock``, ``reporter``, ``token_code``, ``mfa_strategy``,
    ``region``, ``endpoint_url``, ``allow_prompt``, ``force_refresh``). Raises ``RolecallError``.
    """
    runtime = make_runtime(**options)
    return resolve_chain(profile, runtime).provider.retrieve()


def boto3_session(profile: str | None = None, **options: Any) -> Any:
    """A ``boto3.Session`` whose credentials come from rolecall and refresh through it before they expire.

    The region is the profile's (or ``region=``). Requires boto3 (``pip install 'rolecall[boto3]'``).
    """
    from rolecall.aws.transport import refreshing_boto3_session, require_boto3

    require_boto3()  # first, as always: without boto3, nothing is resolved
    runtime = make_runtime(**options)
    chain = resolve_chain(profile, runtime)
    # A refresh must not reuse the cached entry that is about to expire: retrieve() applies the 15-minute window
    # of the AWS CLI cache, so an entry inside it is a miss and a new session is made.
    return refreshing_boto3_session(chain.provider.retrieve, options.get("region") or chain.region)
