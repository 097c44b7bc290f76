"""``rolecall sts assume-role | get-session-token | get-caller-identity``: the raw STS calls, as ``aws sts`` makes them.

Same options, same parameter syntax (shorthand ``Key=k,Value=v``, JSON, ``file://``), same output (``--output
json|text``, ``--query``), same MFA prompt. Differences from the AWS CLI, on purpose: every value is checked
against AWS's limits before anything is sent (exit code 8 with the limit named), ``--role-session-name`` is
optional (default ``<user>-<YYYYMMDD>``), and errors are one line with a hint (docs/sts.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from typing import TYPE_CHECKING, Any

from rolecall import awsoutput, validation
from rolecall.config.paths import expand_user, profile_from_env
from rolecall.errors import ConfigError, FileError, InvalidInputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

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
    """The operation's STS parameters from the command line, in STS's names (absent ones left out)."""
    operation = args.operation
    params: dict[str, Any] = {}
    if operation == "get-caller-identity":
        return params
    if operation == "assume-role":
        params["RoleArn"] = _string(args.role_arn, "--role-arn", ctx)
        session_name = _string(args.role_session_name, "--role-session-name", ctx)
        if session_name is None:
            session_name = validation.default_session_name(ctx.env, ctx.clock())
        params["RoleSessionName"] = session_name
        if args.policy_arns is not None:
            params["PolicyArns"] = _structs(args.policy_arns, "--policy-arns", ("arn",), ctx)
        if args.policy is not None:
            params["Policy"] = _string(args.policy, "--policy", ctx)
        if args.tags is not None:
            params["Tags"] = _structs(args.tags, "--tags", ("Key", "Value"), ctx)
        if args.transitive_tag_keys is not None:
            params["TransitiveTagKeys"] = _strings(args.transitive_tag_keys, "--transitive-tag-keys", ctx)
        for option, key in (("external_id", "ExternalId"), ("source_identity", "SourceIdentity")):
            value = getattr(args, option)
            if value is not None:
                params[key] = _string(value, "--" + option.replace("_", "-"), ctx)
    if args.duration_seconds is not None:
        params["DurationSeconds"] = args.duration_seconds
    if args.serial_number is not None:
        params["SerialNumber"] = _string(args.serial_number, "--serial-number", ctx)
    if args.token_code is not None:
        params["TokenCode"] = _string(args.token_code, "--token-code", ctx).strip()
    return params


def _load_param_file(value: str, option: str, ctx: Context) -> str:
    """``file://PATH`` is replaced by the file's text, as the AWS CLI does for every parameter."""
    if not value.startswith("file://"):
        return value
    path = expand_user(value[len("file://") :], ctx.env)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise FileError(
            f"cannot read {option} from {path}: {reason}", hint="check the path after file:// (relative to here)"
        ) from None


def _string(value: str | None, option: str, ctx: Context) -> Any:
    return None if value is None else _load_param_file(value, option, ctx)


def _strings(values: Sequence[str], option: str, ctx: Context) -> list[str]:
    """A list of strings: several words, or one JSON list (``["a", "b"]``)."""
    texts = [_load_param_file(v, option, ctx) for v in values]
    if len(texts) == 1 and texts[0].lstrip().startswith("["):
        loaded = _json(texts[0], option)
        if not isinstance(loaded, list) or not all(isinstance(item, str) for item in loaded):
            raise InvalidInputError(f"{option} must be a JSON list of strings", hint=f'e.g. {option} \'["a", "b"]\'')
        return loaded
    return texts


def _structs(values: Sequence[str], option: str, members: Sequence[str], ctx: Context) -> list[dict[str, Any]]:
    """A list of structures: shorthand words (``Key=k,Value=v``) or one JSON list of objects."""
    texts = [_load_param_file(v, option, ctx) for v in values]
    if len(texts) == 1 and texts[0].lstrip().startswith(("[", "{")):
        loaded = _json(texts[0], option)
        if isinstance(loaded, dict):
            loaded = [loaded]
        if not isinstance(loaded, list) or not all(isinstance(item, dict) for item in loaded):
            raise InvalidInputError(f"{option} must be a JSON list of objects", hint=_shorthand_hint(option, members))
        for item in loaded:
            _check_members(item, option, members)
        return loaded
    return [parse_shorthand(text, option, members, ctx) for text in texts]


def _json(text: str, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as error:
        raise InvalidInputError(f"{option} is not valid JSON: {error}", hint="check the quotes and brackets") from None


def _shorthand_hint(option: str, members: Sequence[str]) -> str:
    example = ",".join(f"{m}=..." for m in members)
    return f"write {option} {example} (one per value), or a JSON list"


def _check_members(item: Mapping[str, Any], option: str, members: Sequence[str]) -> None:
    for key in item:
        if key not in members:
            raise InvalidInputError(
                f"unknown key {key!r} in {option}; valid keys: {', '.join(members)}",
                hint=_shorthand_hint(option, members),
            )


def parse_shorthand(text: str, option: str, members: Sequence[str], ctx: Context | None = None) -> dict[str, str]:
    """Parse the AWS CLI's shorthand for one structure of string members: ``Key=a,Value=b``.

    The AWS CLI's grammar, for scalar values: keys of ``[A-Za-z0-9-_.#/:]``, whitespace around ``=`` and ``,``
    ignored, values quoted with ``'`` or ``"`` (``\\'``/``\\"`` and ``\\\\`` escaped inside) or bare (``\\,`` for a
    comma, trailing spaces dropped), ``key@=file://...`` to read a value from a file. A value that the AWS CLI
    would read as a list (``Key=a,b``) or an object is refused, as the members here are strings; so are
    duplicate and unknown keys. Raises ``InvalidInputError`` naming the option.
    """
    parser = _Shorthand(text, option, members, ctx)
    result = parser.parse()
    _check_members(result, option, members)
    return result


# The AWS CLI's character classes for bare values (by code point; characters beyond U+FFFF never match).
def _is_start_char(char: str) -> bool:
    # May start a bare value: printable ASCII except space " ' , = [ {, and anything from U+007C up.
    code = ord(char)
    return 0x21 <= code <= 0xFFFF and char not in "\"',=[{"


def _is_first_follow(char: str) -> bool:
    # May continue a bare value: whitespace, and printable characters except " ' , ] }.
    code = ord(char)
    return code <= 0xFFFF and (char.isspace() or (code >= 0x21 and char not in "\"',]}"))


def _is_second_follow(char: str) -> bool:
    # May continue a bare value after a comma (a would-be list element): as above but '=' ends it, ']' '}' do not.
    code = ord(char)
    return code <= 0xFFFF and (char.isspace() or (code >= 0x21 and char not in "\"',="))


_ASCII_SPACE = " \t\n\r\x0b\x0c"
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.#/:")


class _Syntax(Exception):
    """A shorthand syntax error at ``index`` (internal: becomes an InvalidInputError)."""

    def __init__(self, expected: str, index: int) -> None:
        super().__init__(expected)
        self.expected = expected
        self.index = index


class _Shorthand:
    """A recursive-descent reader for one ``key=value,...`` structure (see ``parse_shorthand``)."""

    def __init__(self, text: str, option: str, members: Sequence[str], ctx: Context | None) -> None:
        self.text = text
        self.option = option
        self.members = members
        self.ctx = ctx
        self.index = 0

    def fail(self, what: str) -> InvalidInputError:
        return InvalidInputError(
            f"{self.option}: {what} in {self.text!r}", hint=_shorthand_hint(self.option, self.members)
        )

    def parse(self) -> dict[str, str]:
        result: dict[str, str] = {}
        try:
            while True:
                key, value = self.keyval()
                if key in result:
                    raise self.fail(f"{key} given twice")
                result[key] = value
                if self.index >= len(self.text):
                    return result
                self.expect(",")
        except _Syntax as error:
            received = repr(self.text[error.index]) if error.index < len(self.text) else "the end"
            raise self.fail(f"expected {error.expected} at character {error.index + 1}, found {received}") from None

    def peek(self) -> str:
        return self.text[self.index] if self.index < len(self.text) else ""

    def skip_space(self) -> None:
        while self.index < len(self.text) and self.text[self.index] in _ASCII_SPACE:
            self.index += 1

    def expect(self, char: str) -> None:
        self.skip_space()
        if self.peek() != char:
            raise _Syntax(repr(char), self.index)
        self.index += 1
        self.skip_space()

    def keyval(self) -> tuple[str, str]:
        start = self.index
        while self.peek() and self.peek() in _KEY_CHARS:
            self.index += 1
        key = self.text[start : self.index]
        from_file = False
        self.skip_space()
        if self.peek() == "@":
            self.index += 1
            from_file = True
        self.expect("=")
        value = self.value()
        if from_file and self.ctx is not None:
            value = _load_param_file(value, self.option, self.ctx)
        return key, value

    def value(self) -> str:
        if self.index >= len(self.text):
            return ""
        if self.peek() and self.peek() in "[{":
            raise self.fail("a list or an object is not valid here (the value must be a string)")
        first = self.first_value()
        self.skip_space()
        if self.index >= len(self.text) or self.peek() != ",":
            return first
        # After a comma the AWS CLI tries to read more list elements (``Key=a,b``); when what follows is not one
        # (``Key=a,Value=b``: the '=' shows a new key) it backs off to the last comma before the point of failure.
        self.expect(",")
        try:
            self.second_value()
            self.skip_space()
            if self.index < len(self.text) and self.peek() != ",":
                raise _Syntax("','", self.index)
        except _Syntax:
            if self.index >= len(self.text):
                raise
            while self.index >= 0 and self.text[self.index] != ",":
                self.index -= 1
            return first
        raise self.fail("a list of values is not valid here (quote a value that holds a comma)")

    def first_value(self) -> str:
        if self.peek() and self.peek() in "'\"":
            return self.quoted()
        return self.bare(_is_first_follow, required=False)

    def second_value(self) -> str:
        if self.peek() and self.peek() in "'\"":
            return self.quoted()
        return self.bare(_is_second_follow, required=True)

    def bare(self, follows: Callable[[str], bool], required: bool) -> str:
        text, start, pos = self.text, self.index, self.index
        for accept in (_is_start_char, follows):
            while pos < len(text):
                if text.startswith("\\,", pos):
                    pos += 2
                elif accept(text[pos]):
                    pos += 1
                else:
                    break
                if accept is _is_start_char:
                    break
            if pos == start:
                if required:
                    raise _Syntax("a value", pos)
                return ""
        self.index = pos
        return text[start:pos].replace("\\,", ",").rstrip()

    def quoted(self) -> str:
        quote = self.peek()
        pattern = re.compile(rf"{quote}((?:\\{quote}|[^{quote}])*){quote}", re.DOTALL)
        found = pattern.match(self.text, self.index)
        if found is None:
            raise _Syntax(f"a closing {quote}", len(self.text))
        self.index = found.end()
        return found.group(1).replace("\\" + quote, quote).replace("\\\\", "\\")


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

