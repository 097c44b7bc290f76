"""Identity Center control: the seeded organization, and what the user and the admin do outside the APIs.

Approving or denying a device sign-in (the browser's part), revoking sessions, changing lifetimes,
replacing the organization, signing in directly (a botocore token-cache entry, which ``awsfiles``
writes). The state itself is the ``SsoState`` that the SSO app (``rolecall.sandbox.sso``) serves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from rolecall.sandbox.account import ACCOUNT_ID, DEFAULT_REGION, OTHER_ACCOUNT_ID
from rolecall.sandbox.ssomodel import SsoAccount, SsoError, assumed_role_arn, generated_accounts
from rolecall.sandbox.ssostate import SsoState
from rolecall.timefmt import format_iso_z

#: IAM Identity Center's start URL in the sandbox. Fixed, because token-cache keys are made from it.
SSO_START_URL = "https://d-90sandbox01.awsapps.com/start"
SSO_REGION = DEFAULT_REGION
#: The one user of the sandbox's Identity Center directory (the session name of its role credentials).
SSO_USER = "alice@example.com"
#: The ``[sso-session NAME]`` of the written config.
SSO_SESSION_NAME = "sandbox"
SSO_DEFAULT_ROLES = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
#: The seeded organization: the IAM account with two permission sets, a partner account with one.
SSO_SEEDED_ACCOUNTS = (
    SsoAccount(ACCOUNT_ID, "sandbox-main", "sandbox-main@example.com", ("AdministratorAccess", "ReadOnlyAccess")),
    SsoAccount(OTHER_ACCOUNT_ID, "sandbox-partner", "sandbox-partner@example.com", ("ReadOnlyAccess",)),
)


class IdentityCenterControl:
    """Control of the sandbox's IAM Identity Center (``sso``), on the services' ``clock``."""

    def __init__(self, sso: SsoState, clock: Callable[[], float]) -> None:
        """Control ``sso``; ``clock`` (Unix time) must be the SSO app's, so that both agree on expiry."""
        self.sso = sso
        self.clock = clock

    def seed(self) -> None:
        """The seeded directory and organization, no registrations or sessions, default lifetimes."""
        self.sso.reset(SSO_START_URL, SSO_REGION, SSO_USER, SSO_SEEDED_ACCOUNTS)

    @property
    def accounts(self) -> tuple[SsoAccount, ...]:
        """The organization's accounts, with the permission sets the user holds in each."""
        with self.sso.lock:
            return tuple(self.sso.accounts)

    def seed_organization(self, accounts: int, roles: Sequence[str] = SSO_DEFAULT_ROLES) -> list[SsoAccount]:
        """Replace the organization with ``accounts`` generated accounts (``acct-0001``…, unique deterministic
        12-digit ids), each with every permission set of ``roles``; returns them. IAM's seeded account and
        its roles stay as they are."""
        if accounts < 0:
            raise ValueError("accounts must not be negative")
        generated = generated_accounts(accounts, roles)
        self.sso.set_accounts(generated)
        return generated

    def decide(self, user_code: str, allow: bool) -> None:
        """Allow or deny the pending device request ``user_code``, as the user does on the verification page.

        ValueError when no request with that code is pending (unknown, expired or decided already).
        """
        try:
            self.sso.decide_device(self.clock(), user_code, allow)
        except SsoError as error:
            raise ValueError(error.description) from None

    def set_lifetimes(
        self,
        access_token: int | None = None,
        refresh_token: int | None = None,
        role_credentials: int | None = None,
        device_code: int | None = None,
        registration: int | None = None,
        interval: int | None = None,
    ) -> None:
        """Change Identity Center lifetimes, in seconds, for what is issued from now on (None: unchanged).

        ``access_token`` (default 3600), ``refresh_token`` (the sign-in session, 8 h), ``role_credentials``
        (GetRoleCredentials; default: ``set_credential_lifetime``'s value if set, else 3600), ``device_code``
        (device and consent requests, 600), ``registration`` (client secrets, 90 days) and the device flow's
        polling ``interval`` (1; 0 turns SlowDownException off).
        """
        values = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "role_credentials": role_credentials,
            "device_code": device_code,
            "registration": registration,
        }
        for name, value in values.items():
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 second")
        if interval is not None and interval < 0:
            raise ValueError("interval must not be negative")
        with self.sso.lock:
            lifetimes = self.sso.lifetimes
            for name, value in (*values.items(), ("interval", interval)):
                if value is not None:
                    setattr(lifetimes, name, value)

    def revoke_all(self) -> None:
        """End every sign-in session: all access and refresh tokens stop working (issued role credentials
        keep working until they expire, as on AWS)."""
        self.sso.revoke_all()

    @staticmethod
    def assumed_role_arn(role_name: str, account_id: str = ACCOUNT_ID) -> str:
        """``arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_HEX/alice@example.com``: who the portal's
        credentials for ``role_name`` in ``account_id`` are."""
        return assumed_role_arn(account_id, role_name, SSO_USER)

    def login(self) -> dict[str, str]:
        """Sign the user in as if a device flow had just been approved; botocore's token-cache entry.

        The entry (``startUrl``, ``region``, ``accessToken``, ``expiresAt``, ``clientId``, ``clientSecret``,
        ``registrationExpiresAt``, ``refreshToken``) is what ``aws sso login`` writes to ~/.aws/sso/cache.
        """
        now = self.clock()
        client, token = self.sso.issue_session(now, f"botocore-client-{SSO_SESSION_NAME}")
        return {
            "startUrl": SSO_START_URL,
            "region": SSO_REGION,
            "accessToken": token["accessToken"],
            "expiresAt": format_iso_z(datetime.fromtimestamp(int(now) + token["expiresIn"], timezone.utc)),
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
            "registrationExpiresAt": format_iso_z(datetime.fromtimestamp(client.expires_at, timezone.utc)),
            "refreshToken": token["refreshToken"],
        }
