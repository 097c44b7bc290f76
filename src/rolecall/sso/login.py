"""Logging in to IAM Identity Center as the AWS CLI v2 does: the authorization-code flow with PKCE and a
loopback redirect (the default for ``sso-session`` logins), or the device-authorization flow
(``--use-device-code``, legacy profiles, and whenever no browser can be shown here).

The client registration is cached and reused until it expires, the token is written to the AWS CLI's cache
(``rolecall.sso.tokens``), the browser is opened with the stdlib ``webbrowser`` module (which honours
``BROWSER``) in the background, and the URL (and code) are always said too. Nothing here prints: lines go to
the reporter. Off the fast path.
"""

from __future__ import annotations

import sys
import threading
import time

from rolecall.errors import AwsError, FileError, LoginError
from rolecall.oauth import REDIRECT_PATH, RedirectReceiver, challenge, new_verifier
from rolecall.reporting import ignore
from rolecall.sso import api
from rolecall.sso.settings import DEFAULT_SCOPE
from rolecall.sso.tokens import SsoToken, SsoTokenCache, new_token_document
from rolecall.timefmt import format_iso_z, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.reporting import Reporter
    from rolecall.sso.settings import SsoLogin

#: Where the browser is sent back to (any port: the registration names it without one, as the AWS CLI does).
REDIRECT_URI = "http://127.0.0.1" + REDIRECT_PATH
#: How long a login waits for the person, at most (the AWS CLI waits 10 minutes for the redirect).
DEFAULT_TIMEOUT = 600.0
#: RFC 8628: the default poll interval, and what a SlowDownException adds to it.
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5
_AUTH_GRANT_TYPES = ["authorization_code", "refresh_token"]
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class TokenNotSavedError(FileError):
    """The login succeeded but its token could not be written to the token cache (full disk, read-only folder)."""


def display_available(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """True when a browser can be shown here: macOS and Windows always; elsewhere a display or ``BROWSER``.

    Without one, Python's ``webbrowser`` would start a text browser in the terminal (or nothing), and the
    loopback redirect of the authorization-code flow could not reach this machine from another device.
    """
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("BROWSER"))


def open_in_browser(url: str) -> None:
    """Open ``url`` with the stdlib ``webbrowser`` module, in the background: some launchers (``BROWSER``
    commands) wait until the browser exits, and the login must go on meanwhile. Failures are ignored: the URL
    has been said already."""

    def run() -> None:
        import webbrowser

        try:
            webbrowser.open_new_tab(url)
        except Exception:
            return

    threading.Thread(target=run, name="rolecall-browser", daemon=True).start()


class LoginFlow:
    """One login to IAM Identity Center; ``run()`` returns the new token, already written to the cache."""

    def __init__(
        self,
        login: SsoLogin,
        oidc: StsSettings,
        cache: SsoTokenCache,
        *,
        use_device_code: bool = False,
        open_browser: Callable[[str], None] | None = open_in_browser,
        reporter: Reporter = ignore,
        clock: Callable[[], datetime] = utc_now,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        require_saved: bool = False,
    ) -> None:
        """``oidc``: how to reach sso-oidc; ``open_browser`` None: only say the URL (``--no-browser``).

        ``require_saved``: a token that cannot be written to the cache is a ``TokenNotSavedError`` (``sso login``,
        whose whole point is the cached token); otherwise the cache's warning is said and the token is used.
        """
        self.login = login
        self.oidc = oidc
        self.cache = cache
        # Legacy profiles have no session to refresh, and the AWS CLI logs them in with the device flow only.
        self.use_device_code = use_device_code or login.session_name is None
        self.open_browser = open_browser
        self.reporter = reporter
        self.clock = clock
        self.timeout = timeout
        self.sleep = sleep
        self.require_saved = require_saved

    def run(self) -> SsoToken:
        """Register (or reuse the registration), let the person approve, exchange, cache. ``LoginError`` when it
        is denied, times out or the service refuses; ``NetworkError`` when sso-oidc cannot be reached;
        ``TokenNotSavedError`` (with ``require_saved``) when the token could not be cached."""
        for attempt in range(2):
            registration = self._registration(force=attempt > 0)
            try:
                document = self._device_flow(registration) if self.use_device_code else self._code_flow(registration)
            except api.RegistrationRefusedError:
                # A registration the service no longer accepts (expired early, revoked): register again, once.
                if attempt == 0:
                    self.cache.delete_registration(self.login)
                    continue
                raise
            if not self.cache.save_token(self.login, document) and self.require_saved:
                # The cache has said why (one warning line with the file and the error); this says what it means.
                raise TokenNotSavedError(
                    f"signed in to {self.login.describe}, but the token could not be saved in {self.cache.directory}, "
                    "so no later command can use it",
                    hint=self._unsaved_hint(),
                )
            return SsoToken(document)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the client registration ---------------------------------------------------------------------------
    def _registration(self, force: bool) -> dict[str, Any]:
        now = self.clock()
        code_flow = not self.use_device_code
        if not force:
            cached = self.cache.registration(self.login, now, authorization_code=code_flow)
            if cached is not None:
                return cached
        name = self.login.session_name if self.login.session_name is not None else str(int(now.timestamp()))
        params: dict[str, Any] = {"clientName": f"rolecall-{name}", "clientType": "public"}
        scopes = list(self.login.scopes)
        if code_flow:
            params.update(
                grantTypes=_AUTH_GRANT_TYPES,
                redirectUris=[REDIRECT_URI],
                issuerUrl=self.login.start_url,
                scopes=scopes or [DEFAULT_SCOPE],
            )
        elif scopes:
            params["scopes"] = scopes
        response = api.register_client(self.oidc, **params)
        from datetime import datetime, timezone

        expires = datetime.fromtimestamp(int(response["clientSecretExpiresAt"]), timezone.utc)
        registration: dict[str, Any] = {
            "clientId": response["clientId"],
            "clientSecret": response["clientSecret"],
            "expiresAt": format_iso_z(expires),
        }
        if code_flow:
            registration.update(scopes=params["scopes"], grantTypes=_AUTH_GRANT_TYPES)
        elif scopes:
            registration["scopes"] = scopes
        if not self.cache.save_registration(self.login, registration) and self.require_saved:
            # Same folder as the token: stop now rather than after the person has approved in vain.
            raise TokenNotSavedError(
                f"the token of a login to {self.login.describe} could not be saved: {self.cache.directory} cannot "
                "be written (stopped before the sign-in)",
                hint=self._unsaved_hint(),
            )
        return registration

    def _unsaved_hint(self) -> str:
        return f"free disk space or make {self.cache.directory} writable, then run `{self.login.login_command}` again"

    def _token_document(self, response: Mapping[str, Any], registration: Mapping[str, Any]) -> dict[str, Any]:
        return new_token_document(
            self.login,
            response,
            self.clock(),
            client_id=registration["clientId"],
            client_secret=registration["clientSecret"],
            registration_expires_at=registration["expiresAt"],
        )

    # -- authorization code with PKCE ----------------------------------------------------------------------
    def _code_flow(self, registration: Mapping[str, Any]) -> dict[str, Any]:
        import secrets
        from urllib.parse import urlencode

        verifier = new_verifier()
        state = secrets.token_urlsafe(24)
        hint = "use the device code flow instead: add --use-device-code"
        with RedirectReceiver(state, listen_hint=hint, thread_name="rolecall-sso-redirect") as callback:
            redirect = callback.redirect_uri
            query = urlencode(
                {
                    "response_type": "code",
                    "client_id": registration["clientId"],
                    "redirect_uri": redirect,
                    "state": state,
                    "code_challenge_method": "S256",
                    "scopes": " ".join(self.login.scopes or (DEFAULT_SCOPE,)),
                    "code_challenge": challenge(verifier),
                }
            )
            url = f"{authorization_base(self.oidc)}/authorize?{query}"
            self.reporter(
                f"{self.login.describe}: approve the sign-in in your browser; if it does not open, open this URL on "
                f"this computer (or rerun with --use-device-code to approve on another device):"
            )
            self.reporter(f"  {url}")
            if self.open_browser is not None:
                self.open_browser(url)
            code = wait_for_code(callback, time.monotonic() + self.timeout, self.login)
        response = api.create_token(
            self.oidc,
            self.login,
            grantType="authorization_code",
            clientId=registration["clientId"],
            clientSecret=registration["clientSecret"],
            redirectUri=redirect,
            codeVerifier=verifier,
            code=code,
        )
        return self._token_document(response, registration)

    # -- device authorization ------------------------------------------------------------------------------
    def _device_flow(self, registration: Mapping[str, Any]) -> dict[str, Any]:
        client_id, secret = registration["clientId"], registration["clientSecret"]
        authorization = api.start_device_authorization(self.oidc, self.login, client_id, secret)
        interval = int(authorization.get("interval") or DEFAULT_INTERVAL)
        expires_in = int(authorization.get("expiresIn") or self.timeout)
        deadline = time.monotonic() + min(float(expires_in), self.timeout)
        shown = False
        while True:
            try:
                response = api.create_token(
                    self.oidc,
                    self.login,
                    grantType=_DEVICE_GRANT,
                    clientId=client_id,
                    clientSecret=secret,
                    deviceCode=authorization["deviceCode"],
                )
                return self._token_document(response, registration)
            except AwsError as error:  # only the pending codes come back as AwsError
                if error.code == "SlowDownException":
                    interval += SLOW_DOWN_STEP
            if not shown:
                # As the AWS CLI: one attempt first, in case the client is already authorised.
                self._show_device_code(authorization)
                shown = True
            if time.monotonic() + interval > deadline:
                raise LoginError(
                    f"timed out waiting for the IAM Identity Center login of {self.login.describe} to be approved",
                    hint=f"run `{self.login.login_command}` again and approve the request within "
                    f"{int(min(expires_in, self.timeout))} s",
                )
            self.sleep(interval)

    def _show_device_code(self, authorization: Mapping[str, Any]) -> None:
        uri, complete = authorization.get("verificationUri"), authorization.get("verificationUriComplete")
        code = authorization.get("userCode")
        self.reporter(f"{self.login.describe}: to approve the sign-in, open this URL on any device:")
        self.reporter(f"  {uri}")
        self.reporter(f"and enter the code {code}  (or open {complete}, which fills it in)")
        if self.open_browser is not None and isinstance(complete, str):
            self.open_browser(complete)


def authorization_base(oidc: StsSettings) -> str:
    """The sso-oidc endpoint the browser is sent to for ``/authorize`` (the AWS CLI uses the client's own)."""
    if oidc.endpoint_url:
        return oidc.endpoint_url.rstrip("/")
    region = oidc.region or "us-east-1"
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://oidc.{region}.{suffix}"


def wait_for_code(receiver: RedirectReceiver, deadline: float, login: SsoLogin) -> str:
    """The authorization code ``receiver`` gets for ``login``; ``LoginError`` when denied or late (``deadline`` on
    ``time.monotonic()``'s clock)."""
    result = receiver.wait(deadline)
    if result is None:
        raise LoginError(
            f"timed out waiting for the IAM Identity Center sign-in of {login.describe} in the browser",
            hint=f"run `{login.login_command}` again (add --use-device-code to approve on another device)",
        )
    code, error = result
    if code is None:
        raise LoginError(
            f"the IAM Identity Center sign-in of {login.describe} was denied in the browser ({error})",
            hint=f"run `{login.login_command}` again and choose Allow",
        )
    return code
