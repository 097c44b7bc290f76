"""Working credentials of an ``aws login`` session: the token file's access token while it has more than
5 minutes left (botocore's rule), else a refresh through CreateOAuth2Token with the refresh token and a DPoP proof.

Refreshes of one session are serialised across processes by a lock file in rolecall's folder
(``<ROLECALL_HOME>/login/<key>.lock``), and the token file is read again once the lock is held: eight shells
that find the same expired token make one refresh, and the other seven use its result. A refresh that fails for
a reason other than a refusal (network, throttling) while the access token still works is one warning, and the
access token is used, as botocore would. A refusal is a ``LoginError`` (exit 10) with a hint.
"""

from __future__ import annotations

import os

from rolecall.errors import LoginError, RolecallError
from rolecall.login.tokens import REFRESH_THRESHOLD, LoginToken, LoginTokenCache, refreshed_document, token_key
from rolecall.reporting import ignore
from rolecall.timefmt import format_local_hm, utc_now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.reporting import Reporter

#: How long a process waits for another one that is refreshing the same session.
REFRESH_LOCK_TIMEOUT = 60.0


class LoginSession:
    """One ``login_session``'s credentials. ``settings()`` says how to reach the sign-in service (worked out only
    when a refresh is needed); ``login_command`` is what the person runs to sign in again (for hints)."""

    def __init__(
        self,
        login_session: str,
        cache: LoginTokenCache,
        settings: Callable[[], StsSettings],
        lock_dir: str,
        *,
        login_command: str,
        clock: Callable[[], datetime] = utc_now,
        reporter: Reporter = ignore,
        transport: Transport | None = None,
    ) -> None:
        self.login_session = login_session
        self.cache = cache
        self.settings = settings
        self.lock_dir = lock_dir
        self.login_command = login_command
        self.clock = clock
        self.reporter = reporter
        self.transport = transport
        #: Set by ``token()`` when it refreshed (the summary line says so).
        self.refreshed = False

    def cached(self) -> LoginToken | None:
        """The token if it needs no refresh, else None (no network call)."""
        token = self.cache.token(self.login_session)
        return self._served(token) if token is not None and token.fresh(self.clock()) else None

    def _served(self, token: LoginToken) -> LoginToken:
        """``token``, as served from its file until it needs a refresh (what a replay must know: rolecall.replay)."""
        from rolecall.replayrecord import note_served

        keys = token.credentials
        note_served(self.cache.token_path(self.login_session),
                    (keys.access_key_id, keys.secret_access_key, keys.session_token),
                    token.expires_at - REFRESH_THRESHOLD)  # fmt: skip
        return token

    def state(self) -> str:
        """One sentence on the token, for ``--explain`` and ``list`` (no network call)."""
        token = self.cache.token(self.login_session)
        if token is None:
            return f"no token for the `aws login` session yet: sign in with {self.login_command}"
        if token.fresh(self.clock()):
            return f"`aws login` credentials valid until {format_local_hm(token.expires_at)}"
        return "the `aws login` credentials are renewed with the session's refresh token (CreateOAuth2Token)"

    def token(self) -> LoginToken:
        """A token whose credentials work: as cached, or refreshed under the session's lock."""
        self.refreshed = False
        token = self.cache.token(self.login_session)
        if token is not None and token.fresh(self.clock()):
            return self._served(token)
        from rolecall import fileio

        # exclusive_lock makes the lock folder (0700) itself, and words a failure as a FileError.
        with fileio.exclusive_lock(os.path.join(self.lock_dir, token_key(self.login_session)),
                                   timeout=REFRESH_LOCK_TIMEOUT, private=True):  # fmt: skip
            token = self.cache.token(self.login_session)  # another process may have refreshed meanwhile
            if token is None:
                raise LoginError(
                    f"there is no token for the `aws login` session {self.login_session} in {self.cache.directory}",
                    hint=f"sign in: {self.login_command}",
                )
            if token.fresh(self.clock()):
                return token
            return self._refresh(token)

    def _refresh(self, token: LoginToken) -> LoginToken:
        from rolecall.login import api
        from rolecall.login.dpop import DpopKey

        try:
            key = DpopKey.from_pem(str(token.document["dpopKey"]))
        except ValueError as why:
            raise LoginError(
                f"cannot renew the `aws login` session: the token file {self.cache.token_path(self.login_session)} "
                f"holds no usable key ({why})",
                hint=f"sign in again: {self.login_command}",
            ) from None
        settings = self.settings()
        if token.sign_in_region is not None:
            settings = settings.with_overrides(region=token.sign_in_region)
        body = {"clientId": token.client_id, "refreshToken": token.refresh_token, "grantType": "refresh_token"}
        try:
            output = api.create_token(settings, body, key, self.login_command, transport=self.transport)
            api.check_output(output, code_grant=False)
        except LoginError:
            raise
        except RolecallError as error:
            if token.credentials.is_expired(self.clock()):
                raise
            self.reporter(f"warning: could not renew the `aws login` credentials: {error.message}; "
                          f"using them until {format_local_hm(token.expires_at)}")  # fmt: skip
            return token
        document = refreshed_document(token, output, self.clock())
        self.cache.save(self.login_session, document)
        self.refreshed = True
        return LoginToken(document)
