"""A sign-in with console credentials, as ``aws login`` does it: the authorization code with PKCE, exchanged
with a DPoP proof for an access token (temporary credentials), a refresh token and an id token whose ``sub`` is
the session's ARN (the ``login_session``).

* same device (default): the browser is sent to ``/v1/authorize`` with the client
  ``arn:aws:signin:::devtools/same-device`` and comes back to ``http://127.0.0.1:PORT/oauth/callback``;
* cross device (``--remote``): the client ``arn:aws:signin:::devtools/cross-device`` and the sign-in service's own
  ``/v1/sessions/confirmation`` page, which shows a code to paste here: base64 of ``code=...&state=...``.

Nothing is written here: ``run`` returns the token document and the session; the command saves them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from urllib.parse import parse_qsl

from rolecall.errors import LoginError
from rolecall.login import pkce
from rolecall.reporting import ignore
from rolecall.timefmt import utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime
    from typing import Any

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.login.dpop import DpopKey
    from rolecall.oauth import RedirectReceiver
    from rolecall.reporting import Reporter

#: How long the same-device flow waits for the browser (the AWS CLI waits 10 minutes too).
DEFAULT_TIMEOUT = 600.0
_SAME_DEVICE_TEXT = (
    "Sign in with your console credentials in the browser; if it does not open, open this URL on this computer "
    "(or rerun with --remote to sign in on another device):"
)
PASTE_PROMPT = "Enter the authorization code displayed in your browser: "


class SignedIn:
    """What a sign-in produced: the ``login_session`` (session ARN), its account, the token file's document."""

    __slots__ = ("account_id", "document", "login_session")

    def __init__(self, login_session: str, account_id: str, document: dict[str, Any]) -> None:
        self.login_session = login_session
        self.account_id = account_id
        self.document = document

    def __repr__(self) -> str:
        return f"SignedIn({self.login_session!r})"


def session_of_id_token(id_token: str) -> tuple[str, str]:
    """The ``sub`` of the id token (the session ARN) and the account in it; ``LoginError`` when it has none."""
    parts = id_token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not a JWT")
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        subject = claims["sub"]
        fields = subject.split(":") if isinstance(subject, str) else []
        if len(fields) < 6 or fields[0] != "arn" or not fields[4].isdigit():
            raise ValueError("sub is not an ARN with an account")
    except (ValueError, KeyError, TypeError, binascii.Error) as why:
        raise LoginError(
            f"AWS Sign-In answered with an id token rolecall cannot read ({why})",
            hint="check that the endpoint really is the sign-in service (AWS_ENDPOINT_URL_SIGNIN / endpoint_url)",
        ) from None
    return subject, fields[4]


def parse_pasted_code(text: str) -> tuple[str, str]:
    """``(code, state)`` from what the confirmation page shows: base64 of ``code=...&state=...``."""
    try:
        decoded = base64.b64decode(text.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise LoginError(
            "that is not the code the sign-in page shows (it is not base64)",
            hint="copy the whole code from the browser and paste it again: rolecall login --remote",
        ) from None
    fields = dict(parse_qsl(decoded))
    if "code" not in fields or "state" not in fields:
        raise LoginError(
            "that is not the code the sign-in page shows (no code and state in it)",
            hint="copy the whole code from the browser and paste it again: rolecall login --remote",
        )
    return fields["code"], fields["state"]


class SignInFlow:
    """One sign-in. ``open_browser`` None: only say the URL; ``read_code`` reads the pasted code (``--remote``)."""

    def __init__(
        self,
        settings: StsSettings,
        *,
        login_command: str,
        remote: bool = False,
        open_browser: Callable[[str], None] | None = None,
        read_code: Callable[[str], str] | None = None,
        reporter: Reporter = ignore,
        clock: Callable[[], datetime] = utc_now,
        timeout: float = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.login_command = login_command
        self.remote = remote
        self.open_browser = open_browser
        self.read_code = read_code
        self.reporter = reporter
        self.clock = clock
        self.timeout = timeout
        self.transport = transport

    def run(self) -> SignedIn:
        """Let the person sign in, exchange the code; ``LoginError`` when denied, late, refused or mistyped."""
        from rolecall.aws.transport import DEFAULT
        from rolecall.aws.transport.signin import signin_base_url
        from rolecall.login.dpop import DpopKey

        key = DpopKey.generate()
        verifier, state = pkce.new_verifier(), pkce.new_state()
        base = signin_base_url(self.settings, transport=self.transport or DEFAULT)
        if self.remote:
            client, redirect = pkce.CROSS_DEVICE_CLIENT, base + pkce.CONFIRMATION_PATH
            url = pkce.authorize_url(base, client, redirect, state, pkce.challenge(verifier))
            code = self._pasted(url, state)
        else:
            from rolecall.oauth import RedirectReceiver

            client = pkce.SAME_DEVICE_CLIENT
            hint = "sign in from another device instead: add --remote"
            with RedirectReceiver(state, listen_hint=hint, thread_name="rolecall-login-redirect") as receiver:
                redirect = receiver.redirect_uri
                url = pkce.authorize_url(base, client, redirect, state, pkce.challenge(verifier))
                self.reporter(_SAME_DEVICE_TEXT)
                self.reporter(f"  {url}")
                if self.open_browser is not None:
                    self.open_browser(url)
                code = self._redirected(receiver)
        body = {"clientId": client, "grantType": "authorization_code", "code": code, "codeVerifier": verifier,
                "redirectUri": redirect}  # fmt: skip
        return self._exchange(body, key)

    def _redirected(self, receiver: RedirectReceiver) -> str:
        """The code the browser brings back; ``LoginError`` when the sign-in is denied or takes too long."""
        result = receiver.wait(time.monotonic() + self.timeout)
        if result is None:
            raise LoginError(
                f"timed out after {self.timeout:g} s waiting for the sign-in in the browser",
                hint=f"run `{self.login_command}` again (add --remote to sign in on another device)",
            )
        code, error = result
        if code is None:
            raise LoginError(
                f"the sign-in was denied in the browser ({error})", hint=f"run `{self.login_command}` again"
            )
        return code

    def _pasted(self, url: str, state: str) -> str:
        self.reporter("Open this URL on any device, sign in with your console credentials, and paste the code the "
                      "page shows:")  # fmt: skip
        self.reporter(f"  {url}")
        if self.read_code is None:
            raise LoginError("--remote needs a terminal to paste the code into", hint="run it in a terminal")
        code, returned = parse_pasted_code(self.read_code(PASTE_PROMPT))
        if returned != state:
            raise LoginError(
                "the pasted code belongs to another sign-in (its state does not match)",
                hint=f"use the URL printed by this run: {self.login_command} --remote",
            )
        return code

    def _exchange(self, body: Mapping[str, str], key: DpopKey) -> SignedIn:
        from rolecall.login import api
        from rolecall.timefmt import format_iso_z, timedelta

        output = api.create_token(self.settings, body, key, self.login_command, transport=self.transport)
        api.check_output(output, code_grant=True)
        session, account = session_of_id_token(output["idToken"])
        now = self.clock().replace(microsecond=0)
        access = output["accessToken"]
        document = {
            "accessToken": {
                "accessKeyId": access["accessKeyId"],
                "secretAccessKey": access["secretAccessKey"],
                "sessionToken": access["sessionToken"],
                "accountId": account,
                "expiresAt": format_iso_z(now + timedelta(seconds=int(output["expiresIn"]))),
            },
            "tokenType": output.get("tokenType", "aws_sigv4"),
            "clientId": body["clientId"],
            "refreshToken": output["refreshToken"],
            "idToken": output["idToken"],
            "dpopKey": key.to_pem(),
        }
        return SignedIn(session, account, document)
