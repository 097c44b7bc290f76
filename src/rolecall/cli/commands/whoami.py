"""``rolecall whoami [PROFILE]``: GetCallerIdentity with a profile's credentials (account, ARN, user id, expiry).

The call goes to the STS endpoint and region the profile itself names (or ``--endpoint-url``/``--region``,
or the environment's), like ``aws sts get-caller-identity --profile PROFILE``. Credentials that do not work
fail with AWS's own error line and exit code 4 (docs/exit-codes.md).
"""

from __future__ import annotations

from rolecall.cli.commands._profile_arg import add_profile_arguments
from rolecall.cli.commands._resolve_options import PROFILE_HELP, add_resolve_options, chain_for, verify
from rolecall.timefmt import format_duration, format_iso_offset

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from rolecall.cli.context import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE), --output and the shared resolve options."""
    add_profile_arguments(parser, PROFILE_HELP)
    parser.add_argument("--output", choices=("text", "json"), default="text", help="text (default) or json")
    add_resolve_options(parser, explain=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve the profile, call GetCallerIdentity, print who it is."""
    import json

    chain = chain_for(args, ctx)
    credentials = chain.provider.retrieve()
    identity = verify(chain, credentials, args, ctx)
    # Keys from the environment win over an unnamed profile (as in the AWS CLI): say so, and name the profile when
    # rolecall exported them (assume, env, exec set ROLECALL_PROFILE with the keys).
    from_environment = chain.provider.method == "env"
    source, exported = chain.profile, None
    if from_environment:
        from rolecall.identity import exported_profile

        exported = exported_profile(ctx.env, identity.get("Arn"), ctx.session.files.profile)
        source = f"{exported} (environment variables)" if exported else "(environment variables)"
    result: dict[str, Any] = {
        "Profile": exported or source,
        "Account": identity.get("Account"),
        "Arn": identity.get("Arn"),
        "UserId": identity.get("UserId"),
    }
    if from_environment:
        result["FromEnvironment"] = True
    if credentials.expiration is not None:
        result["Expiration"] = format_iso_offset(credentials.expiration)
    if args.output == "json":
        ctx.out(json.dumps(result, indent=4) + "\n")
        return 0
    ctx.out(f"profile   {source}\naccount   {result['Account']}\narn       {result['Arn']}\n")
    ctx.out(f"user id   {result['UserId']}\n")
    if credentials.expiration is not None:
        left = credentials.remaining(ctx.clock())
        remaining = format_duration(max(left.total_seconds(), 0)) if left is not None else "?"
        ctx.out(f"expires   {result['Expiration']} ({remaining} left)\n")
    else:
        ctx.out("expires   never (long-term keys)\n")
    return 0
