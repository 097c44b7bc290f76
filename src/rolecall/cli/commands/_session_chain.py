"""The provider chain of a command's profile, and ``--verify``, on the command's session (``ctx.session``).

What ``_resolve_options.chain_for`` and ``verify`` do, with the AWS files read once for both (``rolecall.session``):
``env --verify`` used to read them twice. Used by env, assume, exec and credential-process. On the fast path
(``env``): imports nothing at load time.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials
    from rolecall.providers.chain import Chain


def chain_of(args: argparse.Namespace, ctx: Context, *, allow_prompt: bool = True) -> Chain:
    """The chain of ``args.profile`` from the command's session (the files read once), with the resolve options.

    ``args`` carries the options of ``_resolve_options.add_resolve_options``.
    """
    return ctx.session.chain(
        args.profile,
        token_code=args.token_code,
        mfa_strategy=args.mfa_strategy,
        region=args.region,
        endpoint_url=args.endpoint_url,
        allow_prompt=allow_prompt,
        force_refresh=args.force_refresh,
    )


def verify(chain: Chain, credentials: Credentials, args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    """``--verify``: GetCallerIdentity's answer at the profile's STS endpoint, on the session's files (``AwsError``
    when the credentials do not work)."""
    return ctx.session.caller_identity(chain.profile, credentials, region=args.region, endpoint_url=args.endpoint_url)
