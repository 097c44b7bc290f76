"""Ending IAM Identity Center sessions: the service's Logout, then the cached tokens and SSO role credentials.

``logout_all`` is ``aws sso logout``: every token in ``~/.aws/sso/cache`` is ended and removed, and so is every
entry of ``~/.aws/cli/cache`` with ``"ProviderType": "sso"`` (the AWS CLI v2's ``SSOCredentialSweeper``).
``logout_login`` does the same for one login and the role credentials of the profiles that use it.
"""

from __future__ import annotations

import os

from rolecall.errors import RolecallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Runtime
    from rolecall.sso.settings import SsoLogin
    from rolecall.sso.tokens import SsoToken, SsoTokenCache


def _end_session(login: SsoLogin, token: SsoToken, files: ConfigFiles, runtime: Runtime, profile: str | None,
                 ca_bundle: str | bool | None) -> None:  # fmt: skip
    """The service-side Logout; when it cannot be reached, say so and still forget the token here."""
    from rolecall.sso import api

    settings = api.settings_for(files, runtime.env, login, "sso", profile)
    if ca_bundle is not None:
        settings = settings.with_overrides(ca_bundle=ca_bundle)
    try:
        api.logout(settings, token.access_token)
    except RolecallError as error:
        runtime.reporter(f"warning: could not end the session of {login.describe} on the service side: "
                         f"{error.message} (the cached token is removed all the same)")  # fmt: skip


def _token_cache(runtime: Runtime) -> SsoTokenCache:
    from rolecall.reporting import as_warnings
    from rolecall.sso.tokens import SsoTokenCache

    return SsoTokenCache(runtime.paths.sso_cache_dir, as_warnings(runtime.reporter))


def logout_login(login: SsoLogin, files: ConfigFiles, runtime: Runtime, *, profile: str | None = None,
                 ca_bundle: str | bool | None = None) -> bool:  # fmt: skip
    """End ``login`` and remove its token and the cached role credentials of the profiles that use it.

    ``ca_bundle`` (a CA file, or False: no verification) overrides ``AWS_CA_BUNDLE``/``ca_bundle`` for the
    portal's Logout, as ``--ca-bundle``/``--no-verify-ssl`` do. True when there was a token to end.
    """
    from rolecall.cache import sso_role_cache_key
    from rolecall.config.graph import is_sso

    cache = _token_cache(runtime)
    token = cache.token(login)
    if token is not None:
        _end_session(login, token, files, runtime, profile, ca_bundle)
        cache.delete_token(login)
    for name in files.profile_names():
        values = files.profile(name) or {}
        if not is_sso(values):
            continue
        session, start_url = values.get("sso_session"), values.get("sso_start_url")
        account, role = values.get("sso_account_id"), values.get("sso_role_name")
        if not isinstance(account, str) or not isinstance(role, str):
            continue
        if login.session_name is not None and session == login.session_name:
            key = sso_role_cache_key(account, role, session_name=login.session_name, start_url=login.start_url)
        elif login.session_name is None and not session and start_url == login.start_url:
            key = sso_role_cache_key(account, role, session_name=None, start_url=login.start_url)
        else:
            continue
        runtime.cli_cache().delete(key)
    return token is not None


def logout_all(files: ConfigFiles, runtime: Runtime, *, ca_bundle: str | bool | None = None) -> int:
    """``aws sso logout``: end and remove every cached token, remove every cached SSO role credential.

    ``ca_bundle`` as for ``logout_login``. Returns how many tokens were ended.
    """
    from rolecall.sso.settings import SsoLogin

    cache = _token_cache(runtime)
    ended = 0
    for path, token in cache.tokens():
        start_url, region = token.document.get("startUrl"), token.document.get("region")
        if isinstance(start_url, str) and isinstance(region, str):
            _end_session(SsoLogin(None, start_url, region), token, files, runtime, None, ca_bundle)
        try:
            os.unlink(path)
        except OSError as error:
            runtime.reporter(f"warning: could not remove {path}: {error.strerror}")
            continue
        ended += 1
    _sweep_role_credentials(runtime)
    return ended


def _sweep_role_credentials(runtime: Runtime) -> None:
    """Remove the entries of the AWS CLI cache that hold SSO role credentials (``"ProviderType": "sso"``)."""
    from datetime import timedelta

    folder = runtime.paths.cli_cache_dir
    try:
        names = os.listdir(folder)
    except OSError:
        return
    cli_cache = runtime.cli_cache()
    for name in names:
        if not name.endswith(".json"):
            continue
        key = name[: -len(".json")]
        entry = cli_cache.get(key, runtime.clock(), timedelta.min)  # expired entries are swept too
        if entry is not None and entry.response.get("ProviderType") == "sso":
            cli_cache.delete(key)

