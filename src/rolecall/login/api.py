"""CreateOAuth2Token for ``aws login`` sessions, and what its refusals mean for a person.

The call goes through ``rolecall.aws.transport.signin`` (botocore's ``signin`` model, with the DPoP proof added
to the request); here each OAuth error the AWS CLI v2 and botocore tell apart becomes one ``LoginError``
(exit 10) with a hint: ``TOKEN_EXPIRED`` and ``USER_CREDENTIALS_CHANGED`` (sign in again),
``INSUFFICIENT_PERMISSIONS`` (the identity may not call ``signin:CreateOAuth2Token``: the managed policy
``SignInLocalDevelopmentAccess`` grants it) and ``AUTHCODE_EXPIRED`` (the code exchange came too late).
No message holds a token, a code or a key.
"""

from __future__ import annotations

from rolecall.errors import LoginError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.login.dpop import DpopKey

#: The managed policy that allows ``signin:CreateOAuth2Token`` (and so ``aws login``).
MANAGED_POLICY = "SignInLocalDevelopmentAccess"
#: The OAuth errors after which only a new sign-in helps.
SIGN_IN_AGAIN = frozenset({"TOKEN_EXPIRED", "USER_CREDENTIALS_CHANGED"})


class LoginRefusedError(LoginError):
    """The sign-in service refused a code exchange or a refresh; ``reason`` is its OAuth ``error`` member."""

    def __init__(self, message: str, hint: str, reason: str) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


def refusal(reason: str, login_command: str, *, refresh: bool) -> LoginRefusedError:
    """The ``LoginError`` for the OAuth error ``reason`` of a refresh (``refresh``) or a code exchange."""
    if reason == "TOKEN_EXPIRED":
        what = "the `aws login` session has expired (its refresh token is no longer valid)"
        return LoginRefusedError(what, f"sign in again: {login_command}", reason)
    if reason == "USER_CREDENTIALS_CHANGED":
        what = "the `aws login` session ended: the password or the credentials of the signed-in identity changed"
        return LoginRefusedError(what, f"sign in again: {login_command}", reason)
    if reason == "INSUFFICIENT_PERMISSIONS":
        what = "the signed-in identity may not use console credentials on the command line (signin:CreateOAuth2Token)"
        hint = f"attach the AWS managed policy {MANAGED_POLICY} to it (or allow signin:CreateOAuth2Token), then " \
               f"{login_command}"  # fmt: skip
        return LoginRefusedError(what, hint, reason)
    if reason == "AUTHCODE_EXPIRED":
        what = "the sign-in's authorization code expired (or was already used) before rolecall could exchange it"
        return LoginRefusedError(what, f"sign in again, without waiting: {login_command}", reason)
    action = "renew" if refresh else "complete"
    return LoginRefusedError(
        f"AWS Sign-In refused to {action} the `aws login` session ({reason or 'no reason given'})",
        f"sign in again: {login_command}; rerun with --debug if it keeps failing",
        reason,
    )


def create_token(
    settings: StsSettings,
    token_input: Mapping[str, Any],
    key: DpopKey,
    login_command: str,
    *,
    transport: Transport | None = None,
) -> dict[str, Any]:
    """CreateOAuth2Token with a DPoP proof made with ``key``; its ``tokenOutput``. Refusals become
    ``LoginRefusedError`` (exit 10) naming ``login_command`` in the hint; network errors stay what they are."""
    from rolecall.aws.transport import DEFAULT
    from rolecall.aws.transport.signin import SigninRefusal, create_oauth2_token

    try:
        return create_oauth2_token(settings, token_input, key.proof, transport=transport or DEFAULT)
    except SigninRefusal as error:
        refresh = token_input.get("grantType") == "refresh_token"
        raise refusal(error.oauth_error or error.code, login_command, refresh=refresh) from None


def check_output(output: Mapping[str, Any], *, code_grant: bool) -> None:
    """``LoginError`` when a token answer lacks what a token file needs (a broken or foreign endpoint): the
    credentials and tokens as non-empty strings without control characters (a NUL cannot be exported, an escape
    sequence would rewrite the terminal, a line break adds lines to ``env``'s shell code), and an ``expiresIn``
    of 1 second to ``MAX_EXPIRES_IN`` (0 or less would hand out expired credentials, a huge one overflows)."""
    problem = _output_problem(output, code_grant=code_grant)
    if problem is not None:
        raise LoginError(
            f"AWS Sign-In answered without usable credentials ({problem})",
            hint="check that the endpoint really is the sign-in service (AWS_ENDPOINT_URL_SIGNIN / endpoint_url)",
        )


#: The longest ``expiresIn`` accepted (sign-in sessions last minutes; STS's longest session is 36 hours).
MAX_EXPIRES_IN = 36 * 3600


def _output_problem(output: Mapping[str, Any], *, code_grant: bool) -> str | None:
    """What is wrong with a token answer, naming a field and never a value; None when nothing is."""
    from rolecall.guardedread import has_control_characters

    access = output.get("accessToken")
    if not isinstance(access, dict):
        return "no accessToken"
    fields = [(f"accessToken.{name}", access.get(name)) for name in ("accessKeyId", "secretAccessKey", "sessionToken")]
    fields.append(("refreshToken", output.get("refreshToken")))
    if code_grant:
        fields.append(("idToken", output.get("idToken")))
    for name, value in fields:
        if not isinstance(value, str) or not value:
            return f"{name} is missing or not a string"
        if has_control_characters(value):
            return f"{name} holds a control character"
    expires_in = output.get("expiresIn")
    if not isinstance(expires_in, int) or isinstance(expires_in, bool):
        return "expiresIn is not a number"
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        return f"expiresIn is out of range (1 to {MAX_EXPIRES_IN} seconds)"
    return None
