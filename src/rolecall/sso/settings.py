"""Where an IAM Identity Center (SSO) login lives: the ``[sso-session NAME]`` section or a legacy profile.

The rules and messages are botocore's and the AWS CLI v2's (``SSOProvider._load_sso_config``,
``BaseSSOCommand._get_sso_config``): a profile with ``sso_session = NAME`` takes ``sso_start_url`` and
``sso_region`` from ``[sso-session NAME]`` (and may repeat them only with the same values); a legacy profile
carries ``sso_start_url`` and ``sso_region`` itself. A profile that gets role credentials also needs
``sso_account_id`` and ``sso_role_name``.

On the cached path (``rolecall env`` of an SSO profile whose role credentials are cached): no heavy imports.
"""

from __future__ import annotations

from rolecall.config import refusals

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from rolecall.config.parse import ConfigFiles, ConfigValue

#: The scope the AWS CLI v2 asks for when a session names none (``sso_registration_scopes``).
DEFAULT_SCOPE = "sso:account:access"


class SsoLogin:
    """One IAM Identity Center login: which start URL in which region, under which ``sso-session`` name.

    ``session_name`` is None for a legacy profile (its token is cached under the start URL and cannot be
    refreshed). ``scopes`` are the ``sso_registration_scopes`` of the session (empty: none configured).
    Immutable; equal when they name the same login.
    """

    __slots__ = ("region", "scopes", "session_name", "start_url")

    session_name: str | None
    start_url: str
    region: str
    scopes: tuple[str, ...]

    def __init__(self, session_name: str | None, start_url: str, region: str, scopes: tuple[str, ...] = ()) -> None:
        set_ = object.__setattr__
        set_(self, "session_name", session_name)
        set_(self, "start_url", start_url)
        set_(self, "region", region)
        set_(self, "scopes", scopes)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SsoLogin is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SsoLogin) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in self.__slots__))

    def __repr__(self) -> str:
        return f"SsoLogin(session_name={self.session_name!r}, start_url={self.start_url!r}, region={self.region!r})"

    @property
    def describe(self) -> str:
        """How messages name this login: ``sso-session "corp"`` or ``the start URL https://...``."""
        if self.session_name is not None:
            return f'sso-session "{self.session_name}"'
        return f"the start URL {self.start_url}"

    @property
    def login_command(self) -> str:
        """The ``rolecall sso login`` arguments that renew this login (for hints)."""
        if self.session_name is not None:
            return f"rolecall sso login --sso-session {self.session_name}"
        return "rolecall sso login --profile PROFILE"


class SsoRole:
    """The role an SSO profile gets: ``role_name`` in ``account_id``, through ``login``. Immutable."""

    __slots__ = ("account_id", "login", "profile", "role_name")

    profile: str
    login: SsoLogin
    account_id: str
    role_name: str

    def __init__(self, profile: str, login: SsoLogin, account_id: str, role_name: str) -> None:
        set_ = object.__setattr__
        set_(self, "profile", profile)
        set_(self, "login", login)
        set_(self, "account_id", account_id)
        set_(self, "role_name", role_name)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("SsoRole is immutable")

    def __repr__(self) -> str:
        return f"SsoRole(profile={self.profile!r}, account_id={self.account_id!r}, role_name={self.role_name!r})"


def _text(values: Mapping[str, ConfigValue], key: str) -> str | None:
    value = values.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _scopes(raw: str | None) -> tuple[str, ...]:
    """``sso_registration_scopes``: a comma-separated list (the AWS CLI's ``parse_sso_registration_scopes``)."""
    if raw is None:
        return ()
    return tuple(scope.strip() for scope in raw.split(",") if scope.strip())


def _check_region(region: str, where: str) -> None:
    refusal = refusals.sso_region(region, where)
    if refusal is not None:
        raise refusal.error()


def login_for_session(files: ConfigFiles, name: str) -> SsoLogin:
    """The login of ``[sso-session NAME]``; ``ConfigError`` (the AWS CLI's wording) when it is missing or incomplete."""
    sessions = files.config.get("sso_sessions") or {}
    section = sessions.get(name)
    if not isinstance(section, dict):
        raise refusals.sso_session_missing(name, list(sessions)).error()
    start_url, region = _text(section, "sso_start_url"), _text(section, "sso_region")
    missing = [key for key, value in (("sso_start_url", start_url), ("sso_region", region)) if value is None]
    incomplete = refusals.sso_session_incomplete(name, missing)
    if incomplete is not None:
        raise incomplete.error()
    assert start_url is not None and region is not None
    _check_region(region, f"[sso-session {name}]")
    return SsoLogin(name, start_url, region, _scopes(_text(section, "sso_registration_scopes")))


def login_for_profile(files: ConfigFiles, name: str) -> SsoLogin:
    """The login a profile uses: its ``sso_session``'s, or the legacy ``sso_start_url``/``sso_region`` in it."""
    values = files.require_profile(name)
    session = _text(values, "sso_session")
    if session is not None:
        login = login_for_session(files, session)
        for key, theirs in (("sso_start_url", login.start_url), ("sso_region", login.region)):
            refusal = refusals.sso_inconsistent(name, session, key, _text(values, key), theirs)
            if refusal is not None:
                raise refusal.error()
        return login
    start_url, region = _text(values, "sso_start_url"), _text(values, "sso_region")
    missing = [key for key, value in (("sso_start_url", start_url), ("sso_region", region)) if value is None]
    incomplete = refusals.sso_profile_incomplete(name, missing, role=False)
    if incomplete is not None:
        raise incomplete.error()
    assert start_url is not None and region is not None
    _check_region(region, f'profile "{name}"')
    return SsoLogin(None, start_url, region)


def role_for_profile(files: ConfigFiles, name: str) -> SsoRole:
    """The SSO role of profile ``name`` (``sso_account_id``, ``sso_role_name`` and its login)."""
    values = files.require_profile(name)
    account, role = _text(values, "sso_account_id"), _text(values, "sso_role_name")
    missing = [key for key, value in (("sso_account_id", account), ("sso_role_name", role)) if value is None]
    incomplete = refusals.sso_profile_incomplete(name, missing, role=True)
    if incomplete is not None:
        raise incomplete.error()
    assert account is not None and role is not None
    return SsoRole(name, login_for_profile(files, name), account, role)
