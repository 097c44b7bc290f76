"""A working IAM Identity Center access token for a login: cached, refreshed, or logged in anew.

The rules are botocore's ``SSOTokenProvider`` where it has them: a cached token with 15 minutes or more left
is used as it is; with less, an ``sso-session`` token is refreshed with its refresh token while the client
registration lives (a legacy token is not), and a token that could not be refreshed is still used until it
expires. Past that a new login is needed: with a person at a terminal it runs here (one line says so), else a
``LoginError`` names the command. Refreshes and logins of one login are serialised across processes by a
lock file, so parallel shells refresh once and open one browser.
"""

from __future__ import annotations

import os

from rolecall.errors import LoginError, RolecallError
from rolecall.reporting import ignore
from rolecall.sso.tokens import SsoToken, SsoTokenCache, new_token_document, token_key
from rolecall.timefmt import format_local_hm, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rolecall.aws.settings import StsSettings
    from rolecall.reporting import Reporter
    from rolecall.sso.login import LoginFlow
    from rolecall.sso.settings import SsoLogin

#: How long a process waits for another one that is logging in (a person approving in a browser).
LOGIN_LOCK_TIMEOUT = 660.0


def terminal_present(tty: str = "/dev/tty") -> bool:
    """True when this process has a controlling terminal, so a person can follow a login here."""
    try:
        fd = os.open(tty, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


class TokenSource:
    """Access tokens for one login. ``login_flow`` makes the flow used when a new login is needed and allowed
    (None: never log in here)."""

    def __init__(
        self,
        login: SsoLogin,
        oidc: StsSettings,
        cache: SsoTokenCache,
        lock_dir: str,
        *,
        login_flow: Callable[[], LoginFlow] | None = None,
        reporter: Reporter = ignore,
        clock: Callable[[], datetime] = utc_now,
        why: str = "",
    ) -> None:
        """``why`` names who needs the token in the line said before a login (``profile "prod": ``)."""
        self.login = login
        self.oidc = oidc
        self.cache = cache
        self.lock_dir = lock_dir
        self.login_flow = login_flow
        self.reporter = reporter
        self.clock = clock
        self.why = why

    def cached(self) -> SsoToken | None:
        """The cached token if it needs no refresh, else None (no network call)."""
        token = self.cache.token(self.login)
        return token if token is not None and token.fresh(self.clock()) else None

    def state(self) -> str:
        """One sentence on the cached token, for ``--explain`` and ``list`` (no network call)."""
        token = self.cache.token(self.login)
        now = self.clock()
        if token is None:
            return f"no IAM Identity Center token for {self.login.describe} yet: a login is needed"
        if token.fresh(now):
            return f"IAM Identity Center token of {self.login.describe} valid until {format_local_hm(token.expires_at)}"
        if self.login.session_name is not None and token.refreshable(now):
            return f"the IAM Identity Center token of {self.login.describe} is renewed with its refresh token"
        if token.usable(now):
            return (f"the IAM Identity Center token of {self.login.describe} expires at "
                    f"{format_local_hm(token.expires_at)} and cannot be renewed")  # fmt: skip
        return f"the IAM Identity Center token of {self.login.describe} has expired: a login is needed"

    def access_token(self, *, rejected: str | None = None) -> str:
        """A token the service should accept. ``rejected``: a token it just refused (revoked, signed out),
        which is then not used again even if it looks fresh."""
        token = self.cache.token(self.login)
        if token is not None and token.fresh(self.clock()) and token.access_token != rejected:
            return token.access_token
        from rolecall import fileio

        lock = os.path.join(self.lock_dir, token_key(self.login))
        with fileio.exclusive_lock(lock, timeout=LOGIN_LOCK_TIMEOUT):
            # Another process may have refreshed or logged in while this one waited.
            token = self.cache.token(self.login)
            now = self.clock()
            if token is not None and token.access_token != rejected:
                if token.fresh(now):
                    return token.access_token
                renewed = self._refresh(token) if self.login.session_name is not None else None
                if renewed is not None:
                    return renewed.access_token
                if token.usable(now) and rejected is None:
                    return token.access_token  # botocore too: still valid, if only briefly
            elif token is not None and self.login.session_name is not None:
                # The access token was refused; its refresh token may still be good (an admin revoked one token).
                renewed = self._refresh(token)
                if renewed is not None and renewed.access_token != rejected:
                    return renewed.access_token
            return self._new_login(token, rejected is not None).access_token

    def _refresh(self, token: SsoToken) -> SsoToken | None:
        """CreateToken with the refresh token, cached; None when it cannot be done or is refused."""
        now = self.clock()
        if not token.refreshable(now):
            return None
        from rolecall.sso import api

        assert token.client_id is not None and token.client_secret is not None
        try:
            response = api.create_token(
                self.oidc,
                self.login,
                grantType="refresh_token",
                clientId=token.client_id,
                clientSecret=token.client_secret,
                refreshToken=token.refresh_token,
            )
        except LoginError:
            return None  # the refresh token or the registration is no longer accepted: a login is needed
        except RolecallError as error:
            if token.usable(self.clock()):
                self.reporter(f"warning: could not renew the IAM Identity Center token of {self.login.describe}: "
                              f"{error.message}")  # fmt: skip
                return None
            raise
        document = new_token_document(
            self.login,
            response,
            now,
            client_id=token.client_id,
            client_secret=token.client_secret,
            registration_expires_at=str(token.document.get("registrationExpiresAt")),
            previous_refresh_token=token.refresh_token,
        )
        self.cache.save_token(self.login, document)
        return SsoToken(document)

    def _new_login(self, token: SsoToken | None, revoked: bool) -> SsoToken:
        if token is None:
            state = "there is no IAM Identity Center token"
        elif revoked:
            state = "the IAM Identity Center session was ended (signed out or revoked)"
        else:
            state = f"the IAM Identity Center token expired at {format_local_hm(token.expires_at)}"
        if self.login_flow is None:
            raise LoginError(
                f"{self.why}{state} for {self.login.describe}, and no login can run here (no terminal)",
                hint=f"log in first: {self.login.login_command}",
            )
        self.reporter(f"{self.why}{state} for {self.login.describe}: logging in")
        return self.login_flow().run()
