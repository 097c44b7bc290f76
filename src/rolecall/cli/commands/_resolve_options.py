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


def add_resolve_options(parser: argparse.ArgumentParser, *, explain: bool = True, role_arn: bool = True) -> None:
    """--token-code, --mfa-strategy, --region, --endpoint-url, --force-refresh, --verify, --explain, and (with
    ``role_arn``) the ad-hoc role's --role-arn and its companions (``add_role_arn_options``)."""
    if role_arn:
        add_role_arn_options(parser)
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


def add_role_arn_options(parser: argparse.ArgumentParser) -> None:
    """--role-arn (an ARN, ACCOUNT:ROLE or PARTITION:ACCOUNT:ROLE) with --source-profile, --external-id,
    --role-session-name, --duration and --serial-number: a role assumed without a profile (docs/commands.md).

    Absent options leave no attribute (``argparse.SUPPRESS``), so the namespaces of the argparse-free fast path
    (``cli/fastargs.py``) stay equal to argparse's; ``chain_for`` reads them with ``getattr``.
    """
    import argparse

    group = parser.add_argument_group("a role without a profile")
    absent = argparse.SUPPRESS
    group.add_argument("--role-arn", metavar="ROLE", default=absent,
                       help="assume this role (ARN, ACCOUNT:ROLE or PARTITION:ACCOUNT:ROLE) without a profile")
    group.add_argument("--source-profile", metavar="PROFILE", default=absent,
                       help="with --role-arn: the profile whose credentials assume it (default: the default chain's)")
    group.add_argument("--external-id", metavar="ID", default=absent, help="with --role-arn: the ExternalId")
    group.add_argument("--role-session-name", metavar="NAME", default=absent, help="with --role-arn: the session name")
    if "--duration" not in parser._option_string_actions:  # console's --duration is its sign-in session's
        group.add_argument("--duration", metavar="SECONDS", type=int, default=absent, dest="role_duration",
                           help="with --role-arn: the role session's length in seconds (900-43200)")
    group.add_argument("--serial-number", metavar="MFA_ARN", default=absent,
                       help="with --role-arn: the MFA device (code: prompt or --token-code)")  # fmt: skip


def chain_for(args: argparse.Namespace, ctx: Context, *, allow_prompt: bool = True) -> Chain:
    """The chain of ``args.profile`` from the command's session (the files read once), with the resolve options.

    ``--token-code`` and ``--region`` are checked first (``Session.chain``): a cached role makes no STS call, yet
    --region is still exported (env, exec, assume), and a region no SDK accepts must not reach the shell.
    With ``--role-arn``, the chain of an in-memory profile for that role (``rolecall.adhoc``), and one stderr line
    saying that nothing was written and how to keep it.
    """
    if getattr(args, "role_arn", None) is not None or _companions(args):
        return _adhoc_chain_for(args, ctx, allow_prompt=allow_prompt)
    return ctx.session.chain(args.profile, **_chain_options(args, allow_prompt))


def _chain_options(args: argparse.Namespace, allow_prompt: bool) -> dict[str, Any]:
    """The resolve options every chain takes, a profile's or an ad-hoc role's."""
    return {
        "token_code": args.token_code,
        "mfa_strategy": args.mfa_strategy,
        "region": args.region,
        "endpoint_url": args.endpoint_url,
        "allow_prompt": allow_prompt,
        "force_refresh": args.force_refresh,
    }


#: The --role-arn companions: (namespace attribute, option).
_COMPANIONS = (
    ("source_profile", "--source-profile"), ("external_id", "--external-id"),
    ("role_session_name", "--role-session-name"), ("role_duration", "--duration"), ("serial_number", "--serial-number"),
)  # fmt: skip


def _companions(args: argparse.Namespace) -> list[str]:
    """The --role-arn companions given (their option names)."""
    return [option for dest, option in _COMPANIONS if getattr(args, dest, None) is not None]


def _adhoc_chain_for(args: argparse.Namespace, ctx: Context, *, allow_prompt: bool) -> Chain:
    """``chain_for`` with --role-arn: the ad-hoc role's chain on the command's session, said once on stderr."""
    from rolecall import adhoc
    from rolecall.errors import UsageError

    if getattr(args, "role_arn", None) is None:
        raise UsageError(f"{_companions(args)[0]} goes with --role-arn", hint="add --role-arn ROLE, or drop it")
    if getattr(args, "profile", None):
        raise UsageError(
            f"a profile ({args.profile}) and --role-arn: name one",
            hint="to assume the role with that profile's credentials, use --source-profile " + args.profile,
        )
    role = adhoc.AdHocRole(
        adhoc.parse_role(args.role_arn),
        source=adhoc.default_source(ctx.env, getattr(args, "source_profile", None)),
        role_session_name=getattr(args, "role_session_name", None),
        external_id=getattr(args, "external_id", None),
        duration_seconds=getattr(args, "role_duration", None),
        serial_number=getattr(args, "serial_number", None),
    )
    session = ctx.session
    chain = session.chain_with(
        lambda runtime: adhoc.adhoc_chain(session, role, runtime), **_chain_options(args, allow_prompt)
    )
    ctx.say(adhoc.keep_hint(role, session.files.profile_names()))
    return chain


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
