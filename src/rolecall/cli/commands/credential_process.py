"""``rolecall credential-process PROFILE``: be the ``credential_process`` of another profile.

    [profile prod-sdk]
    credential_process = rolecall credential-process prod

gives the AWS CLI, boto3 and every SDK rolecall's MFA reuse and caches. It prints the Version 1 JSON on
stdout and never anything else there; MFA prompts go to the terminal (/dev/tty), messages to stderr.

``rolecall credential-process --keys NAME`` prints the long-term keys stored under NAME in rolecall's key store
(``rolecall keys``, docs/keys.md) instead, without an Expiration: what ``keys import`` writes into the
credentials file in place of the plaintext keys.
"""

from __future__ import annotations

from rolecall.cli.commands._resolve_options import add_resolve_options
from rolecall.errors import ConfigError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

    from rolecall.cli.context import Context

#: Profiles already being resolved by an outer ``rolecall credential-process``, comma-separated.
CHAIN_VARIABLE = "ROLECALL_CREDENTIAL_PROCESS_CHAIN"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """PROFILE (or --profile PROFILE, or --keys NAME) and the shared resolve options."""
    from rolecall.cli.commands._profile_arg import add_profile_arguments  # imports argparse: not on the fast path

    add_profile_arguments(parser, "the profile whose credentials to print")
    parser.add_argument(
        "--keys", metavar="NAME", help="print the long-term keys stored under NAME by `rolecall keys` instead"
    )
    add_resolve_options(parser, explain=False)


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Print the credential_process JSON for the profile."""
    from rolecall import export

    role_arn = getattr(args, "role_arn", None)  # an ad-hoc role (--role-arn) stands where a profile would
    if getattr(args, "keys", None) is not None or (args.profile is None and role_arn is None):
        return _stored_keys(args, ctx)
    seen = [name for name in ctx.env.get(CHAIN_VARIABLE, "").split(",") if name]
    if args.profile is not None and args.profile in seen:
        loop = " -> ".join([*seen, args.profile])
        raise ConfigError(
            f"credential_process loop: {loop}",
            hint=f'profile "{args.profile}" must not reach itself through credential_process; '
            "point it at a profile with keys or a role",
        )
    # Children (a source profile's own credential_process) see where we are.
    ctx.env[CHAIN_VARIABLE] = ",".join([*seen, str(args.profile or role_arn)])
    from rolecall.cli.commands._resolve_options import chain_for, verify

    chain = chain_for(args, ctx)
    credentials = chain.provider.retrieve()
    if args.verify:
        verify(chain, credentials, args, ctx)
    ctx.out(export.render(credentials, "process"))
    return 0


def _stored_keys(args: argparse.Namespace, ctx: Context) -> int:
    """Print the stored key pair NAME as credential_process JSON (Version 1, no Expiration)."""
    from rolecall import export
    from rolecall.providers.keystore import KeystoreProvider

    if args.keys is None or args.profile is not None:
        raise UsageError(
            "give either a PROFILE or --keys NAME" if args.keys is not None else "a PROFILE (or --keys NAME) is needed",
            hint="rolecall credential-process PROFILE, or rolecall credential-process --keys NAME",
        )
    if not args.keys or args.keys.startswith("-"):
        raise UsageError(f"--keys needs a name, not {args.keys!r}", hint="rolecall credential-process --keys NAME")
    credentials = KeystoreProvider(args.keys, ctx.env, ctx.paths).retrieve()
    ctx.out(export.render(credentials, "process"))
    return 0
