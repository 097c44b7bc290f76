"""``rolecall credential-process PROFILE``: be the ``credential_process`` of another profile.

    [profile prod-sdk]
    credential_process = rolecall credential-process prod

gives the AWS CLI, boto3 and every SDK rolecall's MFA reuse and caches. It prints the Version 1 JSON on
stdout and never anything else there; MFA prompts go to the terminal (/dev/tty), messages to stderr.
"""

from __future__ import annotations

from rolecall.cli.commands._resolve_options import add_resolve_options, chain_for
from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

#: Profiles already being resolved by an outer ``rolecall credential-process``, comma-separated.
CHAIN_VARIABLE = "ROLECALL_CREDENTIAL_PROCESS_CHAIN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE and the shared resolve options."""
    parser.add_argument("profile", help="the profile whose credentials to print")
    add_resolve_options(parser, explain=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the credential_process JSON for the profile."""
    from rolecall import export

    seen = [name for name in ctx.env.get(CHAIN_VARIABLE, "").split(",") if name]
    if args.profile in seen:
        loop = " -> ".join([*seen, args.profile])
        raise ConfigError(
            f"credential_process loop: {loop}",
            hint=f'profile "{args.profile}" must not reach itself through credential_process; '
            "point it at a profile with keys or a role",
        )
    # Children (a source profile's own credential_process) see where we are.
    ctx.env[CHAIN_VARIABLE] = ",".join([*seen, args.profile])
    chain = chain_for(args, ctx)
    credentials = chain.provider.retrieve()
    if args.verify:
        from rolecall.cli.commands._resolve_options import verify

        verify(chain, credentials, args, ctx)
    ctx.out(export.render(credentials, "process"))
    return 0
