"""The IAM Identity Center calls: ``sso-oidc`` (client registration, device and authorization-code logins,
refresh) and the ``sso`` portal (role credentials, accounts, roles, logout).

The requests go through ``rolecall.aws.sts.call_service`` (botocore lives in ``rolecall.aws.transport``),
unsigned as botocore sends them; this module gives AWS's refusals their meaning for a person. Errors whose code
the login flow acts on (``AuthorizationPendingException``, ``SlowDownException``) stay ``AwsError``s with that
``code``.
"""

from __future__ import annotations

from rolecall.errors import AwsError, LoginError, NetworkError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.config.parse import ConfigFiles
    from rolecall.sso.settings import SsoLogin

class RegistrationRefusedError(LoginError):
    """The service no longer accepts rolecall's OIDC client registration (expired early or revoked)."""


class PortalPagingError(NetworkError):
    """The portal's listing does not end: it gave a ``nextToken`` it had given before (it would send the same
    pages forever), or more pages than any real listing has (``MAX_PAGES``)."""


#: The codes a device-flow poll answers with while the person has not decided yet.
PENDING_CODES = frozenset({"AuthorizationPendingException", "SlowDownException"})
#: The codes that mean the token (or refresh token) is no longer accepted: a new login is needed.
UNAUTHORIZED_CODES = frozenset({"UnauthorizedException", "InvalidGrantException", "ExpiredTokenException"})
#: Retries for the listing calls of ``sso sync`` (thousands of calls; the portal throttles bursts).
LISTING_ATTEMPTS = 10
#: The most pages a listing may take (100 items a page): a million accounts, or 100,000 roles in one account, far
#: beyond what Identity Center gives anyone. A portal that keeps inventing new tokens is stopped here.
MAX_PAGES = {"ListAccounts": 10_000, "ListAccountRoles": 1_000}


def settings_for(
    files: ConfigFiles, env: Mapping[str, str], login: SsoLogin, service: str, profile: str | None = None
) -> StsSettings:
    """How to reach ``service`` (``sso-oidc`` or ``sso``) for ``login``: its ``sso_region``, and the endpoint and
    network settings of ``profile`` (or of none) and the environment, with botocore's precedence."""
    from rolecall.aws.settings import resolve_settings

    values = files.profile(profile) if profile is not None else None
    settings = resolve_settings(env, values, files.full_config, service=service)
    # The SSO services live in the login's own region, whatever region the profile uses for the rest.
    return settings.with_overrides(region=login.region)


def _call(settings: StsSettings, operation: str, **params: Any) -> dict[str, Any]:
    from rolecall.aws.sts import call_service

    return call_service(settings, operation, **params)


# ----------------------------------------------------------------------------------------------------------------
# sso-oidc


def register_client(settings: StsSettings, **params: Any) -> dict[str, Any]:
    """RegisterClient (clientName, clientType, scopes, grantTypes, redirectUris, issuerUrl)."""
    try:
        return _call(settings, "RegisterClient", **params)
    except AwsError as error:
        raise LoginError(
            f"IAM Identity Center refused to register rolecall as a client: {error.code}",
            hint="check sso_region and sso_start_url; the registration scopes (sso_registration_scopes) must be ones "
            "the instance allows",
        ) from None


def start_device_authorization(settings: StsSettings, login: SsoLogin, client_id: str, secret: str) -> dict[str, Any]:
    """StartDeviceAuthorization for ``login``'s start URL."""
    try:
        return _call(settings, "StartDeviceAuthorization", clientId=client_id, clientSecret=secret,
                     startUrl=login.start_url)  # fmt: skip
    except AwsError as error:
        raise _login_refused(error, login) from None


def create_token(settings: StsSettings, login: SsoLogin, **params: Any) -> dict[str, Any]:
    """CreateToken; a pending device authorization stays an ``AwsError`` with its code, the rest is translated."""
    try:
        return _call(settings, "CreateToken", **params)
    except AwsError as error:
        if error.code in PENDING_CODES:
            raise
        raise _login_refused(error, login) from None


def _login_refused(error: AwsError, login: SsoLogin) -> LoginError | AwsError:
    """What an sso-oidc refusal during a login means for a person."""
    code = error.code
    if code == "AccessDeniedException":
        return LoginError(
            f"the IAM Identity Center login for {login.describe} was denied in the browser",
            hint=f"run `{login.login_command}` again and choose Allow",
        )
    if code == "ExpiredTokenException":
        return LoginError(
            f"timed out waiting for the IAM Identity Center login of {login.describe} to be approved",
            hint=f"run `{login.login_command}` again and approve the request within its time",
        )
    if code in ("InvalidClientException", "UnauthorizedClientException"):
        return RegistrationRefusedError(
            f"IAM Identity Center no longer accepts rolecall's client registration for {login.describe} "
            f"({code}: it expired or was revoked)",
            hint=f"run `{login.login_command}`: it registers again",
        )
    if code == "InvalidGrantException":
        return LoginError(
            f"IAM Identity Center did not accept the login grant for {login.describe} (already used or expired)",
            hint=f"run `{login.login_command}` again",
        )
    if code == "InvalidRequestException":
        return LoginError(
            f"IAM Identity Center refused the login request for {login.describe}: {error.message}",
            hint="check sso_start_url (the AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start) and "
            "sso_region (the region of the Identity Center instance)",
        )
    return error


# ----------------------------------------------------------------------------------------------------------------
# sso portal


def get_role_credentials(settings: StsSettings, login: SsoLogin, token: str, account_id: str, role: str
                         ) -> dict[str, Any]:  # fmt: skip
    """GetRoleCredentials; an access token the portal does not accept is a ``LoginError`` (a new login helps)."""
    try:
        return _call(settings, "GetRoleCredentials", accessToken=token, accountId=account_id, roleName=role)
    except AwsError as error:
        if error.code in UNAUTHORIZED_CODES:
            raise LoginError(
                f"the IAM Identity Center session of {login.describe} is no longer valid (signed out or revoked)",
                hint=f"log in again: {login.login_command}",
            ) from None
        if error.code == "ForbiddenException":
            raise AwsError(
                f"IAM Identity Center gives this user no role {role} in account {account_id} (ForbiddenException)",
                hint="check sso_account_id and sso_role_name; `rolecall sso sync --sso-session NAME --diff` shows the "
                "accounts and roles you can use",
                code=error.code,
            ) from None
        if error.code == "ResourceNotFoundException":
            raise AwsError(
                f"IAM Identity Center knows no role {role} in account {account_id}",
                hint="check sso_account_id and sso_role_name (the permission set's name)",
                code=error.code,
            ) from None
        raise


def _listing_settings(settings: StsSettings) -> StsSettings:
    # Thousands of calls in a burst: botocore's standard retries with more attempts, unless the user chose.
    if settings.retry_mode is not None or settings.max_attempts is not None:
        return settings
    return settings.with_overrides(retry_mode="standard", max_attempts=LISTING_ATTEMPTS)


def _pages(settings: StsSettings, login: SsoLogin, operation: str, item_key: str, **params: Any
           ) -> Iterator[dict[str, Any]]:  # fmt: skip
    settings = _listing_settings(settings)
    limit = MAX_PAGES.get(operation, 1_000)
    next_token: str | None = None
    seen: set[str] = set()
    pages = 0
    while True:
        if pages >= limit:
            raise PortalPagingError(
                f"the SSO portal's {operation} listing goes on for more than {limit} pages; stopped",
                hint=_paging_hint(operation),
            )
        pages += 1
        try:
            page = _call(settings, operation, nextToken=next_token, maxResults=100, **params)
        except AwsError as error:
            if error.code in UNAUTHORIZED_CODES:
                raise LoginError(
                    f"the IAM Identity Center session of {login.describe} is no longer valid",
                    hint=f"log in again: {login.login_command}",
                ) from None
            raise
        items = page.get(item_key) or []
        yield from (item for item in items if isinstance(item, dict))
        next_token = page.get("nextToken") or None
        if next_token is None:
            return
        if next_token in seen:
            # The same token again means the same page again, and the one after it: the listing would never end.
            raise PortalPagingError(
                f"the SSO portal repeated a page token in its {operation} answers (page {pages + 1} would be a page "
                "it already sent); stopped",
                hint=_paging_hint(operation),
            )
        seen.add(next_token)


def _paging_hint(operation: str) -> str:
    command = "list-accounts" if operation == "ListAccounts" else "list-account-roles"
    return (f"retry later; if it persists, check that AWS_ENDPOINT_URL_SSO (or the sso endpoint_url) names the IAM "
            f"Identity Center portal, and compare with 'aws sso {command}'")  # fmt: skip


def list_accounts(settings: StsSettings, login: SsoLogin, token: str) -> Iterator[dict[str, Any]]:
    """Every account the user can reach (ListAccounts, all pages): ``accountId``, ``accountName``, ``emailAddress``."""
    return _pages(settings, login, "ListAccounts", "accountList", accessToken=token)


def list_account_roles(settings: StsSettings, login: SsoLogin, token: str, account_id: str
                       ) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Every role the user has in ``account_id`` (ListAccountRoles, all pages): ``roleName``, ``accountId``."""
    return _pages(settings, login, "ListAccountRoles", "roleList", accessToken=token, accountId=account_id)


def logout(settings: StsSettings, token: str) -> None:
    """Logout: end the session on the service side (a token it no longer knows is fine)."""
    try:
        _call(settings, "Logout", accessToken=token)
    except AwsError as error:
        if error.code not in UNAUTHORIZED_CODES:
            raise
