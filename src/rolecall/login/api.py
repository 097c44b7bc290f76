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
    """``LoginError`` when a token answer lacks what a token file needs (a broken or foreign endpoint)."""
    access = output.get("accessToken")
    names = ("accessKeyId", "secretAccessKey", "sessionToken")
    ok = isinstance(access, dict) and all(isinstance(access.get(name), str) and access[name] for name in names)
    ok = ok and isinstance(output.get("refreshToken"), str) and isinstance(output.get("expiresIn"), int)
    if code_grant:
        ok = ok and isinstance(output.get("idToken"), str)
    if not ok:
        raise LoginError(
            "AWS Sign-In answered without usable credentials",
            hint="check that the endpoint really is the sign-in service (AWS_ENDPOINT_URL_SIGNIN / endpoint_url)",
        )
