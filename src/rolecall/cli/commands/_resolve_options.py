"""Options and helpers shared by every command that resolves a profile's credentials.

(assume, env, exec, credential-process, save, whoami, console, serve.) The chain and ``--verify`` come from the
command's session (``ctx.session``, ``rolecall.session``), so the AWS files are read once for both. On the fast
path (``env``): imports nothing at load time.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials
    from rolecall.providers.chain import Chain
    from rolecall.refresh import RefreshingCredentials


#: Help of the optional PROFILE argument: the AWS CLI's order for a profile that is not named.
PROFILE_HELP = "the profile (default: $AWS_PROFILE, $AWS_DEFAULT_PROFILE, then 'default')"


def add_resolve_options(parser: argparse.ArgumentParser, *, explain: bool = True) -> None:
    """--token-code, --mfa-strategy, --region, --endpoint-url, --force-refresh, --verify, --explain."""
    parser.add_argument("--token-code", metavar="CODE", help="the MFA code, instead of a prompt (6 digits)")
    parser.add_argument(
        "--mfa-strategy",
        choices=("reuse", "direct"),
        help="reuse: one code for all roles (1 h role sessions); direct: a code per role (longer sessions)",
    )
    parser.add_argument(
        "--region",
        help="region of the STS endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's), and the region "
        "exported to the consumer (default: the profile's)",
    )
    parser.add_argument("--endpoint-url", help="STS endpoint URL (e.g. the local sandbox)")
    parser.add_argument("--force-refresh", action="store_true", help="assume the role again even if cached")
    parser.add_argument("--verify", action="store_true", help="call GetCallerIdentity to check the credentials work")
    if explain:
        parser.add_argument("--explain", action="store_true", help="print the plan (cache entries, STS calls, why)")


def chain_for(args: argparse.Namespace, ctx: Context, *, allow_prompt: bool = True) -> Chain:
    """The chain of ``args.profile`` from the command's session (the files read once), with the resolve options.

    ``--token-code`` and ``--region`` are checked first (``Session.chain``): a cached role makes no STS call, yet
    --region is still exported (env, exec, assume), and a region no SDK accepts must not reach the shell.
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
    """GetCallerIdentity with ``credentials``, at the STS endpoint of the profile (``--verify`` and ``whoami``).

    The endpoint and region come from the command line, then the environment, then the profile, as for every
    STS call (``Session.caller_identity``, on the session's files). Raises ``AwsError`` (AWS's own message) when
    the credentials do not work.
    """
    return ctx.session.caller_identity(chain.profile, credentials, region=args.region, endpoint_url=args.endpoint_url)


def refreshing_source(chain: Chain, args: argparse.Namespace, ctx: Context) -> RefreshingCredentials:
    """The single-flight refreshing holder behind ``serve`` and ``exec --server``, resolved once now.

    The first resolve (and any MFA prompt) happens here, in the foreground, before anything is served;
    ``--verify`` checks the credentials. Refreshes ahead of expiry then run in the background, so no SDK
    request waits for one (SDKs give up on the endpoint after about 2 s); refusals and failed refreshes are
    warnings, each said once.
    """
    from rolecall.refresh import RefreshingCredentials

    source = RefreshingCredentials(chain.provider.retrieve, reporter=ctx.warn, background_advisory=True)
    credentials = source.get()
    if args.verify:
        verify(chain, credentials, args, ctx)
    return source


def summary_line(chain: Chain, credentials: Credentials, identity: dict[str, Any] | None = None) -> str:
    """``prod: arn:aws:sts::…:assumed-role/… until 14:32 (58 min left), from the AWS CLI cache``.

    Where they came from and the assumed-role ARN travel with the credentials (``providers.result.Retrieved``).
    """
    from rolecall.providers.result import origin_of
    from rolecall.timefmt import format_duration, format_local_hm

    origin, identity_arn = origin_of(credentials)
    who = (identity or {}).get("Arn") or identity_arn or credentials.access_key_id
    parts = [f"{chain.profile}: {who}"]
    if credentials.expiration is not None:
        left = credentials.remaining()
        minutes = format_duration(left.total_seconds()) if left is not None else "?"
        parts.append(f"until {format_local_hm(credentials.expiration)} ({minutes} left)")
    if origin:
        parts.append(f"from {origin}")
    if identity is not None:
        parts.append("verified with GetCallerIdentity")
    return " ".join(parts[:1]) + " " + ", ".join(parts[1:]) if len(parts) > 1 else parts[0]
