"""``rolecall sts assume-role | get-session-token | get-caller-identity``: the raw STS calls, as ``aws sts`` makes them.

Same options, same parameter syntax (shorthand ``Key=k,Value=v``, JSON, ``file://``), same output (``--output
json|text``, ``--query``), same MFA prompt. Differences from the AWS CLI, on purpose: every value is checked
against AWS's limits before anything is sent (exit code 8 with the limit named), ``--role-session-name`` is
optional (default ``<user>-<YYYYMMDD>``), and errors are one line with a hint (docs/sts.md).

This module parses the command line and renders the answer; the call itself, with every rule of the AWS
CLI's (profile, settings, parameter syntax, limits, MFA), is ``rolecall.sts_call.make_call``.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rolecall.cli.context import Context
    from rolecall.sts_call import StsCallInput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare ``sts OPERATION`` and each operation's options (the AWS CLI's names)."""
    sub = parser.add_subparsers(dest="operation", metavar="OPERATION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options (as the AWS CLI's)")
    group.add_argument("--profile", help="profile whose credentials sign the request (default: AWS_PROFILE, default)")
    group.add_argument("--region", help="region of the STS endpoint (default: AWS_REGION, AWS_DEFAULT_REGION, profile)")
    group.add_argument("--endpoint-url", help="send the request to this URL instead of the standard STS endpoint")
    group.add_argument("--output", help="json (default), text or table; default from AWS_DEFAULT_OUTPUT or the profile")
    group.add_argument("--query", help="JMESPath expression applied to the response before printing")
    group.add_argument("--no-verify-ssl", action="store_true", help="do not verify the endpoint's TLS certificate")
    group.add_argument("--ca-bundle", help="CA certificate bundle to verify TLS with (overrides AWS_CA_BUNDLE)")
    group.add_argument("--cli-connect-timeout", type=float, metavar="SECONDS", help="connection timeout")
    group.add_argument("--cli-read-timeout", type=float, metavar="SECONDS", help="read timeout")
    # Accepted so that AWS CLI command lines work as they are; rolecall never pages and never colours.
    group.add_argument("--no-cli-pager", "--no-paginate", action="store_true", help=argparse.SUPPRESS)
    group.add_argument("--color", choices=("on", "off", "auto"), help=argparse.SUPPRESS)

    assume = sub.add_parser("assume-role", parents=[common], help="assume a role (AssumeRole)")
    assume.add_argument("--role-arn", required=True, help="ARN of the role to assume")
    assume.add_argument(
        "--role-session-name", help="name of the role session (default: <user>-<YYYYMMDD>, e.g. alice-20261127)"
    )
    assume.add_argument("--policy-arns", nargs="+", metavar="ARN", help="arn=ARN ... or a JSON list of {arn}")
    assume.add_argument("--policy", help="inline session policy (JSON, or file://policy.json)")
    assume.add_argument("--duration-seconds", type=int, help="900-43200 (up to the role's MaxSessionDuration)")
    assume.add_argument("--tags", nargs="+", metavar="TAG", help="Key=k,Value=v ... or a JSON list of {Key, Value}")
    assume.add_argument("--transitive-tag-keys", nargs="+", metavar="KEY", help="tag keys that pass to chained roles")
    assume.add_argument("--external-id", help="external id the role's trust policy expects")
    _mfa_arguments(assume)
    assume.add_argument("--source-identity", help="source identity to set on the session")

    session = sub.add_parser("get-session-token", parents=[common], help="get an MFA session (GetSessionToken)")
    session.add_argument("--duration-seconds", type=int, help="900-129600 (default 43200)")
    _mfa_arguments(session)

    sub.add_parser("get-caller-identity", parents=[common], help="who am I (GetCallerIdentity)")


def _mfa_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serial-number", help="ARN of the MFA device (prompts for the code unless --token-code)")
    parser.add_argument("--token-code", help="the 6-digit MFA code")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Make the call and print the response as the AWS CLI would."""
    from rolecall import awsoutput
    from rolecall.sts_call import make_call

    call = make_call(_input(args), ctx.session)
    ctx.out(awsoutput.render(call.response, call.output, call.query, title=call.title, width=_terminal_width(ctx)))
    return 0


def _input(args: argparse.Namespace) -> StsCallInput:
    """The parsed command line as the library's typed input (options an operation lacks stay None)."""
    from rolecall.sts_call import StsCallInput

    def option(name: str) -> Any:
        return getattr(args, name, None)

    return StsCallInput(
        operation=args.operation,
        profile=args.profile,
        region=args.region,
        endpoint_url=args.endpoint_url,
        output=args.output,
        query=args.query,
        no_verify_ssl=bool(args.no_verify_ssl),
        ca_bundle=args.ca_bundle,
        connect_timeout=args.cli_connect_timeout,
        read_timeout=args.cli_read_timeout,
        role_arn=option("role_arn"),
        role_session_name=option("role_session_name"),
        policy_arns=option("policy_arns"),
        policy=option("policy"),
        duration_seconds=option("duration_seconds"),
        tags=option("tags"),
        transitive_tag_keys=option("transitive_tag_keys"),
        external_id=option("external_id"),
        source_identity=option("source_identity"),
        serial_number=option("serial_number"),
        token_code=option("token_code"),
    )


def _terminal_width(ctx: Context) -> int:
    """Columns of the terminal stdout writes to; 80 when it is not one (as the AWS CLI)."""
    try:
        return os.get_terminal_size(ctx.stdout.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80
