"""The one error hierarchy of rolecall, and the exit codes the CLI maps it to.

Library code raises these; ``rolecall.cli.main`` is the only place that turns them into one line on
stderr (``rolecall: <message>`` and, when there is one, ``hint: <hint>``) and an exit code.
Messages and hints must never contain a secret (secret keys, session tokens, MFA codes).
"""

from __future__ import annotations


class ExitCode:
    """Documented exit codes (see docs/exit-codes.md).

    Plain ``int`` constants rather than an ``enum``: importing ``enum`` costs start-up time on the
    cached fast path.
    """

    OK = 0
    #: The thing asked for does not exist (``configure get`` of a missing key, as the AWS CLI does).
    NOT_FOUND = 1
    #: Bad command-line usage (argparse's own code).
    USAGE = 2
    #: The configuration or credentials file is unreadable, malformed, or names something that is not there.
    CONFIG = 3
    #: AWS refused the request (access denied, expired token, validation error from STS...).
    AWS = 4
    #: An MFA code was needed and could not be had, or was refused.
    MFA = 5
    #: The STS endpoint could not be reached (network, TLS, proxy).
    NETWORK = 6
    #: A local file could not be read or written (permissions, disk full, lock timeout).
    FILE = 7
    #: Input that rolecall validated before sending anything and found wrong.
    INVALID_INPUT = 8
    #: The child process of ``rolecall exec`` could not be started.
    EXEC = 9
    #: An IAM Identity Center (SSO) login is needed and could not happen here, or it failed (denied, timed out).
    LOGIN = 10
    #: Interrupted with Ctrl-C.
    INTERRUPTED = 130


class RolecallError(Exception):
    """Base of every error rolecall reports to a person.

    ``message`` says what went wrong in one line; ``hint`` says what to do about it.
    """

    exit_code: int = ExitCode.CONFIG

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class NotFoundError(RolecallError):
    """A looked-up value does not exist; the CLI prints nothing more than the AWS CLI would."""

    exit_code = ExitCode.NOT_FOUND


class UsageError(RolecallError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE


class ConfigError(RolecallError):
    """A configuration problem: parse error, unknown profile, invalid setting, loop in a profile chain."""

    exit_code = ExitCode.CONFIG


class ConfigParseError(ConfigError):
    """A config or credentials file that cannot be parsed; the message names the file and line."""


class ProfileNotFoundError(ConfigError):
    """A named profile does not exist in either file."""


class InvalidInputError(RolecallError):
    """A value rejected by local validation before any request was sent (names the limit)."""

    exit_code = ExitCode.INVALID_INPUT


class FileError(RolecallError):
    """A file could not be read, written or locked."""

    exit_code = ExitCode.FILE


class AwsError(RolecallError):
    """AWS answered with an error. ``code`` is the AWS error code, e.g. ``AccessDenied``."""

    exit_code = ExitCode.AWS

    def __init__(self, message: str, hint: str | None = None, code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


class ExpiredCredentialsError(AwsError):
    """A source answered with credentials that had already expired (exit 4, as any unusable AWS answer): STS, the
    IAM Identity Center portal, the container endpoint or instance metadata (botocore's own sources: after its one
    mandatory refresh). Nothing is cached.

    botocore refuses these too ("refreshed credentials are still expired"); handing them on would only move the
    failure into every consumer, as an ExpiredToken on its first call.
    """


class NetworkError(RolecallError):
    """The endpoint could not be reached, or TLS / the proxy failed."""

    exit_code = ExitCode.NETWORK


class MfaError(RolecallError):
    """An MFA code was required but none could be obtained, or it was rejected."""

    exit_code = ExitCode.MFA


class ExecError(RolecallError):
    """A child process could not be started."""

    exit_code = ExitCode.EXEC


class LoginError(RolecallError):
    """An IAM Identity Center (SSO) login was needed and could not be done here, or it was denied or timed out."""

    exit_code = ExitCode.LOGIN


class EndpointAnswerError(NetworkError):
    """An endpoint answered, but not as the AWS service does: an HTML page, a redirect, XML or JSON that does not
    parse (cut short), absurd nesting, a timestamp that is not a date. Usually ``endpoint_url`` (or an
    ``AWS_ENDPOINT_URL*`` variable) names something else, or a proxy or captive portal answers instead of AWS.
    The message names the endpoint, the HTTP status and the content type; never the body (it may hold credentials).
    """


#: Names whose values are secrets wherever they appear in text from the wire (XML elements, JSON keys, form
#: fields, HTTP headers): STS and container credentials, IAM Identity Center tokens and codes, web identity.
_SECRET_NAMES = (
    "SecretAccessKey|SessionToken|SecurityToken|Token|WebIdentityToken|SAMLAssertion|TokenCode|secretAccessKey|"
    "sessionToken|accessToken|refreshToken|clientSecret|deviceCode|codeVerifier|code|aws_secret_access_key|"
    "aws_session_token|aws_security_token"
)


def redact_secrets(text: str) -> str:
    """``text`` with anything that looks like a secret replaced by ``******``.

    For text rolecall did not write and cannot vouch for (an exception's message in a ``--debug`` traceback,
    botocore's debug log lines): the values of secret XML elements, JSON keys, form fields and headers
    (``X-Amz-Security-Token``, ``Authorization``...), even when cut short, and any run of 32 or more characters of
    the base64 alphabet (a secret access key is 40, a session token hundreds). Messages of ``RolecallError``
    never hold a secret in the first place.
    """
    import re  # not at module level: errors is on the fast path, and this runs only when something went wrong

    names = _SECRET_NAMES
    # <SecretAccessKey>value</SecretAccessKey>, also cut short (no closing tag) or with a namespace prefix.
    text = re.sub(rf"(<(?:[\w.-]+:)?(?:{names})(?:\s[^>]*)?>)[^<]*", r"\1******", text)
    # "sessionToken": "value" (JSON, also with escaped quotes inside) and 'Token': 'value' (Python reprs).
    text = re.sub(rf"""(["'](?:{names})["']\s*:\s*b?["'])(?:\\.|[^"'\\])*""", r"\1******", text)
    # WebIdentityToken=value (form bodies, query strings) and name = value (INI lines).
    text = re.sub(rf"(\b(?:{names})\s?=\s?)[^&\s'\"]+", r"\1******", text)
    # Headers: x-amz-security-token:value (canonical requests), {'X-Amz-Security-Token': b'value'} (reprs).
    text = re.sub(
        r"""((?:x-amz-security-token|x-amz-sso_bearer_token|authorization)['"]?\s*[:=]\s*(?:b?['"])?)[^'"\r\n,}]+""",
        r"\1******",
        text,
        flags=re.IGNORECASE,
    )
    # Anything long and opaque that is left: a secret key or a token without a name in front of it.
    return re.sub(r"[A-Za-z0-9+/=]{32,}", "******", text)
