"""The profile graph: what each profile is, where it takes its credentials from, whether they are temporary.

The one place these questions are answered from the files, by botocore's rules as ``providers.chain`` applies
them (aws-cli-compat.md 3.1-3.3):

- a profile's **kind**: how botocore resolves it, in its order. At the top of a chain (the profile asked for):
  ``role_arn`` without ``web_identity_token_file`` is an AssumeRole hop (``ASSUME_ROLE``); otherwise web identity,
  IAM Identity Center (``is_sso``), keys in the credentials file, ``login_session``, ``credential_process``, keys in
  the config file, in that order, or nothing (``EMPTY``). Reached as the ``source_profile`` of another profile, keys
  of its own (or naming itself) make a role profile give its keys rather than assume its role.
- its **source link**: ``source_profile`` (another profile) or ``credential_source`` (Environment, Ec2InstanceMetadata,
  EcsContainer), for an AssumeRole hop only (a web identity profile's ``source_profile`` is ignored).
- **temporary or not**, known before any call: ``TEMPORARY``, ``LONG_TERM`` or ``UNKNOWN``, the same answer
  ``providers.base.credential_kind`` gives for the provider the chain builds (tests/test_profile_graph.py checks
  that they agree).
- the **resolved chain** of a profile, with the loop it runs into (and the loop's members) or the missing profile.

Answers are computed per profile when asked and kept: building the graph reads nothing, so the cached fast path
(a few profiles out of thousands) pays for the profiles it looks at only. Constants and small classes, no imports.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rolecall.config.parse import ConfigFiles, ConfigValue

    Lookup = Callable[[str], "Mapping[str, ConfigValue] | None"]

#: The keys botocore treats as static credentials.
STATIC_KEY_NAMES = ("aws_access_key_id", "aws_secret_access_key")

# -- kinds ---------------------------------------------------------------------------------------------------------
ASSUME_ROLE = "assume-role"
WEB_IDENTITY = "web-identity"
SSO = "sso"
KEYS = "keys"
LOGIN_SESSION = "login_session"
PROCESS = "process"
#: rolecall's own: a browser sign-in at ``saml_url``, then AssumeRoleWithSAML (docs/saml.md).
SAML = "saml"
EMPTY = "empty"

# -- what a source gives (the strings of providers.base.credential_kind) --------------------------------------------
TEMPORARY = "temporary"
LONG_TERM = "long-term"
UNKNOWN = "unknown"

#: ``credential_source`` values whose credentials are role sessions (container and instance roles).
TEMPORARY_CREDENTIAL_SOURCES = ("Ec2InstanceMetadata", "EcsContainer")


# -- the rules, on one profile's settings -------------------------------------------------------------------------
def text(values: Mapping[str, ConfigValue], key: str) -> str | None:
    """A plain, non-empty string setting, or None (nested blocks are not strings)."""
    value = values.get(key)
    return value if isinstance(value, str) and value != "" else None


def has_static_keys(values: Mapping[str, ConfigValue]) -> bool:
    """True when the settings name an access key or a secret key (botocore's test for a static source)."""
    return any(key in values for key in STATIC_KEY_NAMES)


def is_assume_role_hop(values: Mapping[str, ConfigValue]) -> bool:
    """True when botocore resolves these settings with AssumeRole (``role_arn`` and no ``web_identity_token_file``).

    A profile with both is a web identity profile: AssumeRoleWithWebIdentity with its own token, its
    ``source_profile`` (if any) ignored. botocore's ``AssumeRoleProvider._has_assume_role_config_vars``.
    """
    return (
        text(values, "role_arn") is not None
        and text(values, "web_identity_token_file") is None
        and text(values, "saml_url") is None  # rolecall's SAML profiles name the role the assertion grants
    )


def is_web_identity_role(values: Mapping[str, ConfigValue]) -> bool:
    """True for ``role_arn`` with ``web_identity_token_file``: a role botocore assumes with the token, never through
    the ``source_profile`` the profile may also name."""
    return text(values, "role_arn") is not None and text(values, "web_identity_token_file") is not None


def is_sso(values: Mapping[str, ConfigValue]) -> bool:
    """True for a profile botocore resolves through IAM Identity Center: it names ``sso_role_name`` or
    ``sso_account_id`` (an ``sso_session`` or ``sso_start_url`` alone is a login, not a role)."""
    return bool(values.get("sso_role_name") or values.get("sso_account_id"))


def resolves_as_role(values: Mapping[str, ConfigValue], *, self_reference: bool = False) -> bool:
    """True when a profile reached as a ``source_profile`` assumes its own role: an AssumeRole hop without keys of
    its own. With keys (or naming itself), botocore uses its keys instead; without ``role_arn`` (or with a web
    identity token) its own sources count."""
    return not self_reference and not has_static_keys(values) and is_assume_role_hop(values)


def own_kind(
    values: Mapping[str, ConfigValue],
    credentials_section: Mapping[str, ConfigValue] | None = None,
    config_section: Mapping[str, ConfigValue] | None = None,
) -> str:
    """The kind of a profile's own credentials, in botocore's order after AssumeRole: web identity, IAM Identity
    Center, keys in the credentials file, ``login_session``, ``credential_process``, keys in the config file.

    ``credentials_section`` / ``config_section`` are the profile's sections of each file (for which file's keys
    count where); without them, keys anywhere in ``values`` count as the credentials file's.
    """
    if text(values, "saml_url"):
        return SAML
    if text(values, "web_identity_token_file"):
        return WEB_IDENTITY
    if is_sso(values):
        return SSO
    if credentials_section is None and config_section is None:
        credentials_section = values
    if credentials_section is not None and "aws_access_key_id" in credentials_section:
        return KEYS
    if values.get("login_session"):
        return LOGIN_SESSION
    if text(values, "credential_process"):
        return PROCESS
    if config_section is not None and "aws_access_key_id" in config_section:
        return KEYS
    return EMPTY


class Resolution:
    """The resolved source chain of one profile. Immutable.

    ``profiles``: the profile and those whose credentials its resolution uses, in order (no name twice).
    ``loop``: the loop the resolution runs into, as ``[b, c, b]`` (its members, the first repeated at the end), or
    None. ``missing``: a ``source_profile`` named along the way that is in neither file, or None.
    ``end_kind``: the kind the last profile is resolved as (``ASSUME_ROLE`` when it is a role whose source is a
    ``credential_source``, a loop, or missing), ``credential_source``: the source named there, if any.
    """

    __slots__ = ("credential_source", "end_kind", "loop", "missing", "profiles")

    profiles: list[str]
    loop: list[str] | None
    missing: str | None
    end_kind: str
    credential_source: str | None

    def __init__(
        self, profiles: list[str], loop: list[str] | None, missing: str | None, end_kind: str,
        credential_source: str | None,
    ) -> None:  # fmt: skip
        set_ = object.__setattr__
        set_(self, "profiles", profiles)
        set_(self, "loop", loop)
        set_(self, "missing", missing)
        set_(self, "end_kind", end_kind)
        set_(self, "credential_source", credential_source)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Resolution is immutable")

    def __repr__(self) -> str:
        return f"Resolution({self.profiles!r}, loop={self.loop!r}, missing={self.missing!r})"


class ProfileGraph:
    """The profiles of both files as a graph: kinds, source links, temporariness, resolved chains.

    ``profile`` gives a profile's merged settings by name (``ConfigFiles.profile``, or ``dict.get`` of a merged
    map); ``credentials_section`` and ``config_section`` give each file's own section, so that keys in the
    credentials file and in the config file take their places in botocore's order (without them, every key counts
    as the credentials file's). Nothing is read until asked; answers are kept.
    """

    def __init__(
        self,
        profile: Lookup,
        credentials_section: Lookup | None = None,
        config_section: Lookup | None = None,
    ) -> None:
        self._profile = profile
        self._credentials_section = credentials_section
        self._config_section = config_section
        self._chains: dict[str, Resolution] = {}

    @classmethod
    def of(cls, files: ConfigFiles) -> ProfileGraph:
        """The graph of the loaded files."""
        return cls(files.profile, files.credentials_section, files.config_profile)

    def values(self, name: str) -> Mapping[str, ConfigValue] | None:
        """The merged settings of profile ``name``, or None when it is in neither file."""
        return self._profile(name)

    def exists(self, name: str) -> bool:
        """True when ``name`` is a profile of either file."""
        return self._profile(name) is not None

    # -- kinds ----------------------------------------------------------------------------------------------------
    def kind(self, name: str) -> str:
        """How profile ``name`` gives credentials when it is the profile asked for (``EMPTY`` when missing)."""
        values = self._profile(name)
        if values is None:
            return EMPTY
        if is_assume_role_hop(values):
            return ASSUME_ROLE
        return self._own_kind(name, values)

    def source_kind(self, name: str, referrer: str | None = None) -> str:
        """How profile ``name`` gives credentials as the ``source_profile`` of ``referrer`` (``EMPTY`` if missing)."""
        values = self._profile(name)
        if values is None:
            return EMPTY
        if resolves_as_role(values, self_reference=name == referrer):
            return ASSUME_ROLE
        return self._own_kind(name, values)

    def _own_kind(self, name: str, values: Mapping[str, ConfigValue]) -> str:
        if self._credentials_section is None and self._config_section is None:
            return own_kind(values)
        credentials = self._credentials_section(name) if self._credentials_section else None
        config = self._config_section(name) if self._config_section else None
        return own_kind(values, credentials, config)

    def gives_credentials(self, name: str) -> bool:
        """True when profile ``name`` has a source of credentials of its own or a role to assume (not ``EMPTY``)."""
        return self.kind(name) != EMPTY

    # -- source links ---------------------------------------------------------------------------------------------
    def source_profile(self, name: str) -> str | None:
        """The ``source_profile`` botocore follows from ``name``: an AssumeRole hop's, else None."""
        values = self._profile(name)
        if values is None or not is_assume_role_hop(values):
            return None
        return text(values, "source_profile")

    def credential_source(self, name: str) -> str | None:
        """The ``credential_source`` of an AssumeRole hop, else None."""
        values = self._profile(name)
        if values is None or not is_assume_role_hop(values):
            return None
        return text(values, "credential_source")

    # -- temporary or not -----------------------------------------------------------------------------------------
    def temporary(self, name: str, referrer: str | None = None) -> str:
        """``TEMPORARY``, ``LONG_TERM`` or ``UNKNOWN``: what profile ``name`` gives, as the source of ``referrer``
        (or, without one, as the profile asked for). Role sessions of every kind are temporary; keys are temporary
        with a session token beside them; keys in rolecall's key store are long-term; a ``credential_process``, an
        ``aws login`` session or a missing profile are unknown until they run."""
        kind = self.kind(name) if referrer is None else self.source_kind(name, referrer)
        if kind in (ASSUME_ROLE, WEB_IDENTITY, SSO, SAML):
            return TEMPORARY
        values = self._profile(name) or {}
        if kind == KEYS:
            section = self._keys_section(name, values)
            token = text(section, "aws_security_token") or text(section, "aws_session_token")
            return TEMPORARY if token else LONG_TERM
        if kind == PROCESS:
            from rolecall.providers.keystore import stored_key_name

            return LONG_TERM if stored_key_name(text(values, "credential_process") or "") is not None else UNKNOWN
        return UNKNOWN

    def role_source_temporary(self, name: str) -> str:
        """What the source of role profile ``name`` gives (``UNKNOWN`` when ``name`` is no AssumeRole hop): its
        ``credential_source`` (instance and container roles are temporary, the environment unknown) or its
        ``source_profile`` as that profile resolves as a source (``temporary(source, name)``)."""
        values = self._profile(name)
        if values is None or not is_assume_role_hop(values):
            return UNKNOWN
        source = text(values, "source_profile")
        if source is None:
            return TEMPORARY if text(values, "credential_source") in TEMPORARY_CREDENTIAL_SOURCES else UNKNOWN
        return self.temporary(source, name)

    def _keys_section(self, name: str, values: Mapping[str, ConfigValue]) -> Mapping[str, ConfigValue]:
        """The section whose keys botocore uses: the credentials file's when it has an access key."""
        if self._credentials_section is None and self._config_section is None:
            return values
        credentials = self._credentials_section(name) if self._credentials_section else None
        if credentials is not None and "aws_access_key_id" in credentials:
            return credentials
        config = self._config_section(name) if self._config_section else None
        return config or {}

    # -- the resolved chain ---------------------------------------------------------------------------------------
    def chain(self, name: str) -> list[str]:
        """``name`` and the profiles whose credentials its resolution uses, in botocore's order of resolution."""
        return list(self.resolve(name).profiles)

    def resolve(self, name: str) -> Resolution:
        """The walk of ``name``'s ``source_profile`` chain by botocore's rules (``AssumeRoleProvider``).

        A profile is followed to its ``source_profile`` only when it is an AssumeRole hop; a source profile with
        keys of its own, or that is not itself an AssumeRole hop (web identity, SSO, a process...), ends the chain
        with its own credentials. The walk stops at a missing profile and at a loop: the last profile is then still
        a role whose ``source_profile`` is already in the chain (a profile naming itself with keys of its own is
        botocore's allowed self-reference, not a loop).
        """
        found = self._chains.get(name)
        if found is None:
            found = self._chains[name] = self._resolve(name)
        return found

    def _resolve(self, name: str) -> Resolution:
        chain = [name]
        current = self._profile(name)
        if current is None:
            return Resolution(chain, None, None, EMPTY, None)
        referrer: str | None = None
        while is_assume_role_hop(current) and (referrer is None or resolves_as_role(current)):
            source = text(current, "source_profile")
            if source is None:
                return Resolution(chain, None, None, ASSUME_ROLE, text(current, "credential_source"))
            if source in chain:
                if source == chain[-1] and has_static_keys(current):
                    break  # a profile naming itself, with keys: they assume its role
                return Resolution(chain, [*chain[chain.index(source) :], source], None, ASSUME_ROLE, None)
            chain.append(source)
            referrer, next_values = chain[-2], self._profile(source)
            if next_values is None:
                return Resolution(chain, None, source, EMPTY, None)
            current = next_values
        last = chain[-1]
        kind = self.kind(last) if referrer is None else self.source_kind(last, referrer)
        return Resolution(chain, None, None, kind, None)
