"""``rolecall sts assume-role | get-session-token | get-caller-identity``: the raw STS calls, as ``aws sts`` makes them.

Same options, same parameter syntax (shorthand ``Key=k,Value=v``, JSON, ``file://``), same output (``--output
json|text``, ``--query``), same MFA prompt. Differences from the AWS CLI, on purpose: every value is checked
against AWS's limits before anything is sent (exit code 8 with the limit named), ``--role-session-name`` is
optional (default ``<user>-<YYYYMMDD>``), and errors are one line with a hint (docs/sts.md).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from rolecall import awsoutput, validation
from rolecall.config.paths import expand_user, profile_from_env
from rolecall.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.cli.context import Context
    from rolecall.credentials import Credentials
    from rolecall.sts import StsSettings

OPERATIONS = ("assume-role", "get-session-token", "get-caller-identity")


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
    from rolecall import sts
    from rolecall.config.parse import ConfigFiles

    files = ConfigFiles.load(ctx.paths)
    explicit = args.profile is not None
    name = args.profile or profile_from_env(ctx.env) or "default"
    if name != "default" or explicit or profile_from_env(ctx.env) is not None:
        # As botocore's get_scoped_config: a profile that was named, even "default", must exist.
        from rolecall.config.profiles import require_named_profile

        profile = require_named_profile(files, name, ctx.env, explicit)
    else:
        profile = files.profile(name) or {}

    output = _output_format(args.output, ctx.env, profile)
    query = awsoutput.compile_query(args.query) if args.query else None
    settings = _settings(args, ctx, profile, files.full_config)

    operation: str = args.operation
    params = _params(args, ctx)
    # Check everything before asking for credentials or a code: no code is typed for a request that cannot go.
    if operation == "assume-role":
        validation.validate_assume_role({k: v for k, v in params.items() if k != "TokenCode"})
    elif operation == "get-session-token":
        validation.validate_get_session_token({k: v for k, v in params.items() if k != "TokenCode"})

    credentials = _source_credentials(ctx, name if explicit else None, settings)
    if params.get("SerialNumber"):
        params["TokenCode"] = _mfa_code(ctx, params["SerialNumber"], params.get("TokenCode"))

    if operation == "assume-role":
        response = sts.assume_role(settings, credentials, **params)
    elif operation == "get-session-token":
        response = sts.get_session_token(settings, credentials, **params)
    else:
        response = sts.get_caller_identity(settings, credentials)
    title = {"assume-role": "AssumeRole", "get-session-token": "GetSessionToken"}.get(operation, "GetCallerIdentity")
    ctx.out(awsoutput.render(response, output, query, title=title, width=_terminal_width(ctx)))
    return 0


def _terminal_width(ctx: Context) -> int:
    """Columns of the terminal stdout writes to; 80 when it is not one (as the AWS CLI)."""
    try:
        return os.get_terminal_size(ctx.stdout.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


# ---------------------------------------------------------------------------------------------------------------
# settings and credentials


def _settings(
    args: argparse.Namespace, ctx: Context, profile: Mapping[str, object], full_config: Mapping[str, Any]
) -> StsSettings:
    from rolecall import sts

    settings = sts.resolve_settings(ctx.env, profile, full_config, region=args.region, endpoint_url=args.endpoint_url)
    changes: dict[str, Any] = {}
    if args.no_verify_ssl:
        changes["ca_bundle"] = False
    elif args.ca_bundle:
        changes["ca_bundle"] = expand_user(args.ca_bundle, ctx.env)
    if args.cli_connect_timeout is not None:
        changes["connect_timeout"] = args.cli_connect_timeout
    if args.cli_read_timeout is not None:
        changes["read_timeout"] = args.cli_read_timeout
    return settings.with_overrides(**changes) if changes else settings


def _source_credentials(ctx: Context, profile: str | None, settings: StsSettings) -> Credentials:
    """The credentials that sign the request: the seam to the full resolver.

    ``profile`` is the name given with ``--profile`` (``None`` when none was named: then, as in the AWS CLI,
    keys in the environment win, then AWS_PROFILE, then ``default``). When ``rolecall.resolve`` is
    installed, it resolves the profile completely (roles, source profiles, credential_process, caches,
    MFA); otherwise only static keys are understood.
    """
    try:
        from rolecall.resolve import make_runtime, resolve_chain
    except ImportError:
        return _static_credentials(ctx, profile)
    # The source profile's own STS calls (role chains) go where this command's go, as in the AWS CLI.
    runtime = make_runtime(ctx.env, reporter=ctx.say, region=settings.region, endpoint_url=settings.endpoint_url)
    runtime.clock = ctx.clock
    return resolve_chain(profile, runtime).provider.retrieve()


def _static_credentials(ctx: Context, profile: str | None) -> Credentials:
    """Static keys only: the environment's (unless a profile was named), then the profile's."""
    from rolecall.config.parse import ConfigFiles
    from rolecall.credentials import Credentials

    env = ctx.env
    if profile is None and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env.get("AWS_SESSION_TOKEN") or None)
    name = profile or profile_from_env(env) or "default"
    section = ConfigFiles.load(ctx.paths).profile(name) or {}
    key, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    if isinstance(key, str) and isinstance(secret, str) and key and secret:
        token = section.get("aws_session_token") or section.get("aws_security_token")
        return Credentials(key, secret, token if isinstance(token, str) and token else None)
    raise ConfigError(
        f'profile "{name}" has no access keys',
        hint=f"add aws_access_key_id and aws_secret_access_key to [{name}] in the credentials file",
    )


def _output_format(flag: str | None, env: Mapping[str, str], profile: Mapping[str, object]) -> str:
    """``--output`` > AWS_DEFAULT_OUTPUT > the profile's ``output`` > json, as the AWS CLI."""
    configured = profile.get("output")
    value = flag or env.get("AWS_DEFAULT_OUTPUT") or (configured if isinstance(configured, str) else None) or "json"
    if value not in ("json", "text", "table", "yaml", "yaml-stream"):
        raise UsageError(f"unknown output format {value!r}", hint="use --output json, text or table")
    if value not in awsoutput.OUTPUT_FORMATS:
        raise UsageError(f"--output {value} is not supported by rolecall yet", hint="use --output json, text or table")
    return value


# ---------------------------------------------------------------------------------------------------------------
# parameters


def _params(args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    """The operation's STS parameters from the command line, in STS's names (absent ones left out).

    The AWS CLI's parameter syntax (shorthand, JSON, ``file://``) is read by ``rolecall.shorthand``.
    """
    from rolecall.shorthand import load_param_file, string_list, string_param, struct_list

    env = ctx.env
    operation = args.operation
    params: dict[str, Any] = {}
    if operation == "get-caller-identity":
        return params
    if operation == "assume-role":
        params["RoleArn"] = string_param(args.role_arn, "--role-arn", env)
        session_name = string_param(args.role_session_name, "--role-session-name", env)
        if session_name is None:
            session_name = validation.default_session_name(ctx.env, ctx.clock())
        params["RoleSessionName"] = session_name
        if args.policy_arns is not None:
            params["PolicyArns"] = struct_list(args.policy_arns, "--policy-arns", ("arn",), env)
        if args.policy is not None:
            params["Policy"] = string_param(args.policy, "--policy", env)
        if args.tags is not None:
            params["Tags"] = struct_list(args.tags, "--tags", ("Key", "Value"), env)
        if args.transitive_tag_keys is not None:
            params["TransitiveTagKeys"] = string_list(args.transitive_tag_keys, "--transitive-tag-keys", env)
        for option, key in (("external_id", "ExternalId"), ("source_identity", "SourceIdentity")):
            value = getattr(args, option)
            if value is not None:
                params[key] = string_param(value, "--" + option.replace("_", "-"), env)
    if args.duration_seconds is not None:
        params["DurationSeconds"] = args.duration_seconds
    if args.serial_number is not None:
        params["SerialNumber"] = string_param(args.serial_number, "--serial-number", env)
    if args.token_code is not None:
        params["TokenCode"] = load_param_file(args.token_code, "--token-code", env).strip()
    return params


# ---------------------------------------------------------------------------------------------------------------
# the MFA prompt


def _mfa_code(ctx: Context, serial: str, given: str | None) -> str:
    """The code to send: ``--token-code`` or a prompt on the terminal (the AWS CLI's words, no echo).

    Either way through rolecall's memory of used codes (rolecall.mfa): a code already sent for this device is
    never sent again, since STS would refuse it; a prompt asks for the next one instead.
    """
    from rolecall import mfa

    if given is not None:
        validation.check_token_code(given)  # the same words as every other limit
    source: mfa.MfaCodeSource = mfa.StaticCode(given) if given is not None else mfa.TerminalPrompt()
    return mfa.obtain_fresh_code(source, serial, mfa.UsedCodes(ctx.paths.mfa_state_dir), reporter=ctx.say)
