"""One raw STS call as ``aws sts`` makes it: the library behind ``rolecall sts OPERATION``.

``StsCallInput`` is the command line, typed (the AWS CLI's option names, values as typed); ``make_call`` does
the rest in the AWS CLI's order, on the command's ``rolecall.session.Session`` (the AWS files read once): the
profile (a named one must exist), the output format, the query, where STS is
(``rolecall.aws.settings.resolve_settings`` plus the TLS and timeout options), the parameters
(``rolecall.shorthand``: shorthand, JSON, ``file://``), AWS's limits (``rolecall.validation``) before anything
is asked or sent, the signing credentials (the session's provider chain, so a role profile signs as its role),
the MFA code, and the call. It returns the response and how to show it; ``rolecall.cli.commands.sts`` renders
it. Nothing here prints or exits.

Off the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rolecall import awsoutput, validation
from rolecall.config.paths import expand_user, profile_from_env
from rolecall.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.config.paths import AwsPaths
    from rolecall.credentials import Credentials
    from rolecall.mfa import MfaCodeSource
    from rolecall.reporting import Reporter
    from rolecall.session import Session

__all__ = ["OPERATIONS", "StsCall", "StsCallInput", "make_call", "output_format", "sts_parameters"]

#: The operations, as the AWS CLI names them, and the titles of their ``--output table``.
OPERATIONS = {
    "assume-role": "AssumeRole",
    "get-session-token": "GetSessionToken",
    "get-caller-identity": "GetCallerIdentity",
}


@dataclass(frozen=True)
class StsCallInput:
    """``rolecall sts OPERATION [options]``, parsed: every value as typed (``file://`` not yet read)."""

    operation: str
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    output: str | None = None
    query: str | None = None
    no_verify_ssl: bool = False
    ca_bundle: str | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    role_arn: str | None = None
    role_session_name: str | None = None
    policy_arns: Sequence[str] | None = None
    policy: str | None = None
    duration_seconds: int | None = None
    tags: Sequence[str] | None = None
    transitive_tag_keys: Sequence[str] | None = None
    external_id: str | None = None
    source_identity: str | None = None
    serial_number: str | None = None
    token_code: str | None = None


@dataclass(frozen=True)
class StsCall:
    """What the call answered, and how the AWS CLI would show it (format, compiled query, table title)."""

    response: dict[str, Any]
    output: str
    query: Any
    title: str


def make_call(
    request: StsCallInput,
    session: Session,
    *,
    prompt: MfaCodeSource | None = None,
    transport: Transport | None = None,
) -> StsCall:
    """Check and make the call ``request`` describes; raise a ``RolecallError`` at the first problem.

    ``session`` gives the environment, the files (read once, for the profile and the signing credentials), the
    clock and the reporter. ``prompt`` asks for an MFA code when ``--serial-number`` is given without
    ``--token-code`` (default: the terminal, as the AWS CLI). No code is asked for, and nothing is sent, for a
    request that breaks a limit. ``transport`` carries the call (default: the session's).
    """
    from rolecall.aws import sts

    env, files, clock = session.env, session.files, session.clock
    explicit = request.profile is not None
    name = request.profile or profile_from_env(env) or "default"
    if name != "default" or explicit or profile_from_env(env) is not None:
        # As botocore's get_scoped_config: a profile that was named, even "default", must exist.
        from rolecall.config.profiles import require_named_profile

        profile = require_named_profile(files, name, env, explicit)
    else:
        profile = files.profile(name) or {}

    output = output_format(request.output, env, profile)
    query = awsoutput.compile_query(request.query) if request.query else None
    settings = _settings(request, env, profile, files.full_config)

    params = sts_parameters(request, env, clock)
    # Check everything before asking for credentials or a code: no code is typed for a request that cannot go.
    unsent = {k: v for k, v in params.items() if k != "TokenCode"}
    if request.operation == "assume-role":
        validation.validate_assume_role(unsent)
    elif request.operation == "get-session-token":
        validation.validate_get_session_token(unsent)

    credentials = _source_credentials(session, name if explicit else None, settings)
    if params.get("SerialNumber"):
        serial, given = params["SerialNumber"], params.get("TokenCode")
        params["TokenCode"] = _mfa_code(session.paths, session.reporter, serial, given, prompt)

    via = transport or session.transport
    if request.operation == "assume-role":
        response = sts.assume_role(settings, credentials, transport=via, **params)
    elif request.operation == "get-session-token":
        response = sts.get_session_token(settings, credentials, transport=via, **params)
    else:
        response = sts.get_caller_identity(settings, credentials, transport=via)
    return StsCall(response, output, query, OPERATIONS.get(request.operation, "GetCallerIdentity"))


def output_format(flag: str | None, env: Mapping[str, str], profile: Mapping[str, object]) -> str:
    """``--output`` > AWS_DEFAULT_OUTPUT > the profile's ``output`` > json, as the AWS CLI."""
    configured = profile.get("output")
    value = flag or env.get("AWS_DEFAULT_OUTPUT") or (configured if isinstance(configured, str) else None) or "json"
    if value not in ("json", "text", "table", "yaml", "yaml-stream"):
        raise UsageError(f"unknown output format {value!r}", hint="use --output json, text or table")
    if value not in awsoutput.OUTPUT_FORMATS:
        raise UsageError(f"--output {value} is not supported by rolecall yet", hint="use --output json, text or table")
    return value


def _settings(
    request: StsCallInput, env: Mapping[str, str], profile: Mapping[str, object], full_config: Mapping[str, Any]
) -> StsSettings:
    """``resolve_settings`` with the command line's TLS and timeout options over it."""
    from rolecall.aws.settings import resolve_settings

    settings = resolve_settings(env, profile, full_config, region=request.region, endpoint_url=request.endpoint_url)
    changes: dict[str, Any] = {}
    if request.no_verify_ssl:
        changes["ca_bundle"] = False
    elif request.ca_bundle:
        changes["ca_bundle"] = expand_user(request.ca_bundle, env)
    if request.connect_timeout is not None:
        changes["connect_timeout"] = request.connect_timeout
    if request.read_timeout is not None:
        changes["read_timeout"] = request.read_timeout
    return settings.with_overrides(**changes) if changes else settings


def _source_credentials(session: Session, profile: str | None, settings: StsSettings) -> Credentials:
    """The credentials that sign the request: the session's provider chain for ``profile``, on the files already
    read (roles, source profiles, credential_process, caches, MFA).

    ``profile`` is the name given with ``--profile`` (``None`` when none was named: then, as in the AWS CLI,
    keys in the environment win, then AWS_PROFILE, then ``default``).
    """
    # The source profile's own STS calls (role chains) go where this command's go, as in the AWS CLI.
    runtime = session.runtime(region=settings.region, endpoint_url=settings.endpoint_url)
    return session.chain(profile, runtime).provider.retrieve()


def sts_parameters(request: StsCallInput, env: Mapping[str, str], clock: Callable[[], datetime]) -> dict[str, Any]:
    """The operation's STS parameters, in STS's names (absent ones left out); ``file://`` values read.

    The AWS CLI's parameter syntax (shorthand, JSON, ``file://``) is read by ``rolecall.shorthand``; a missing
    ``--role-session-name`` becomes ``<user>-<YYYYMMDD>`` (``validation.default_session_name``).
    """
    from rolecall.shorthand import load_param_file, string_list, string_param, struct_list

    params: dict[str, Any] = {}
    if request.operation == "get-caller-identity":
        return params
    if request.operation == "assume-role":
        params["RoleArn"] = string_param(request.role_arn, "--role-arn", env)
        session_name = string_param(request.role_session_name, "--role-session-name", env)
        if session_name is None:
            session_name = validation.default_session_name(env, clock())
        params["RoleSessionName"] = session_name
        if request.policy_arns is not None:
            params["PolicyArns"] = struct_list(request.policy_arns, "--policy-arns", ("arn",), env)
        if request.policy is not None:
            params["Policy"] = string_param(request.policy, "--policy", env)
        if request.tags is not None:
            params["Tags"] = struct_list(request.tags, "--tags", ("Key", "Value"), env)
        if request.transitive_tag_keys is not None:
            params["TransitiveTagKeys"] = string_list(request.transitive_tag_keys, "--transitive-tag-keys", env)
        if request.external_id is not None:
            params["ExternalId"] = string_param(request.external_id, "--external-id", env)
        if request.source_identity is not None:
            params["SourceIdentity"] = string_param(request.source_identity, "--source-identity", env)
    if request.duration_seconds is not None:
        params["DurationSeconds"] = request.duration_seconds
    if request.serial_number is not None:
        params["SerialNumber"] = string_param(request.serial_number, "--serial-number", env)
    if request.token_code is not None:
        params["TokenCode"] = load_param_file(request.token_code, "--token-code", env).strip()
    return params


def _mfa_code(paths: AwsPaths, reporter: Reporter, serial: str, given: str | None, prompt: MfaCodeSource | None) -> str:
    """The code to send: ``--token-code`` or ``prompt`` (default: the terminal, the AWS CLI's words, no echo).

    Either way through rolecall's memory of used codes (rolecall.mfa): a code already sent for this device is
    never sent again, since STS would refuse it; a prompt asks for the next one instead.
    """
    from rolecall import mfa

    if given is not None:
        validation.check_token_code(given)  # the same words as every other limit
        source: MfaCodeSource = mfa.StaticCode(given)
    else:
        source = prompt if prompt is not None else mfa.TerminalPrompt()
    return mfa.obtain_fresh_code(source, serial, mfa.UsedCodes(paths.mfa_state_dir), reporter=reporter)
