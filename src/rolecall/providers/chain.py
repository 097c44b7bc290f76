"""Build the provider tree for a profile, in botocore's order, recording why each source was chosen.

The only place credential sources are combined (docs/architecture.md). The order and the rules are
botocore's (aws-cli-compat.md 3.1-3.3): environment keys (unless the profile was named explicitly), then
``role_arn`` (with ``source_profile`` or ``credential_source``), web identity, SSO, the credentials file,
``aws login``, ``credential_process``, the config file, and finally the container / instance metadata.
"""

from __future__ import annotations

from rolecall.config import refusals
from rolecall.config.graph import (
    EMPTY,
    KEYS,
    LOGIN_SESSION,
    PROCESS,
    SAML,
    SSO,
    WEB_IDENTITY,
    has_static_keys,
    own_kind,
    resolves_as_role,
)
from rolecall.config.paths import profile_from_env
from rolecall.config.profiles import Profile
from rolecall.config.refusals import MAX_CHAIN_LENGTH as MAX_CHAIN_LENGTH
from rolecall.errors import ConfigError
from rolecall.limits import CHAINING_CAP_SECONDS
from rolecall.providers.assume_role import AssumeRoleProvider
from rolecall.providers.base import credential_kind
from rolecall.providers.environment import EnvironmentProvider, credentials_from_env
from rolecall.providers.mfa_inputs import MfaInputs

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.aws.settings import StsSettings
    from rolecall.config.parse import ConfigFiles
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.contract import SourceFactory


#: The registry of credential sources: a profile's own kind (``config.graph.own_kind``, botocore's order) -> the
#: module whose ``build(context, profile)`` makes its provider. Imported when a profile of that kind is resolved
#: (the fast path imports only what it serves). A new source is one module and one line here.
SOURCES: dict[str, str] = {
    WEB_IDENTITY: "rolecall.providers.web_identity",
    SSO: "rolecall.providers.sso",
    KEYS: "rolecall.providers.static",
    LOGIN_SESSION: "rolecall.providers.login_session",
    PROCESS: "rolecall.providers.process",
    SAML: "rolecall.providers.saml",
}


def source_factory(kind: str) -> SourceFactory:
    """The registered ``build`` function of ``kind`` (``KeyError`` for a kind nobody registered)."""
    module = __import__(SOURCES[kind], fromlist=["build"])
    factory: SourceFactory = module.build
    return factory


class Chain:
    """The resolved provider tree of one profile, with the sentences that say why it looks like this."""

    def __init__(self, profile: str, provider: Provider, decisions: list[str], region: str | None) -> None:
        self.profile = profile
        self.provider = provider
        #: Why each source was chosen, in the order they were decided (for --explain).
        self.decisions = decisions
        #: The profile's region (for exports), or None.
        self.region = region

    def explain(self) -> list[str]:
        """The plan: every STS call that would be made or the cache entry that serves it. Makes no call."""
        return self.provider.explain()


def build_chain(files: ConfigFiles, profile_name: str, runtime: Runtime, *, explicit: bool = True) -> Chain:
    """Build the provider tree for ``profile_name``.

    ``explicit`` is True when the profile was named (``--profile`` or an argument); then, as in botocore,
    environment keys do not count. A profile that came from AWS_PROFILE is not explicit.
    """
    builder = _Builder(files, runtime, profile_name)
    provider = builder.top(profile_name, explicit)
    region = (files.profile(profile_name) or {}).get("region")
    # It would be exported to every consumer, which would then fail on it; say so here, once.
    refusal = refusals.region(profile_name, region) if isinstance(region, str) else None
    if refusal is not None:
        raise refusal.error()
    return Chain(profile_name, provider, builder.decisions, region if isinstance(region, str) else None)


class _Builder:
    def __init__(self, files: ConfigFiles, runtime: Runtime, top_name: str) -> None:
        self.files = files
        self.runtime = runtime
        self.decisions: list[str] = []
        self.inputs = MfaInputs(runtime, self._settings)
        self.top_name = top_name

    def _settings(self) -> StsSettings:
        from rolecall.aws.settings import resolve_settings

        return resolve_settings(
            self.runtime.env,
            self.files.profile(self.top_name),
            self.files.full_config,
            region=self.runtime.region,
            endpoint_url=self.runtime.endpoint_url,
        ).with_overrides(profile=self.top_name)  # an unreachable endpoint's message names the profile

    def _profile(self, name: str) -> Profile:
        return Profile(name, self.files.require_profile(name))

    def decide(self, sentence: str) -> None:
        """Record why a source was chosen."""
        self.decisions.append(sentence)

    def path(self, which: str) -> str:
        """`` (~/.aws/credentials)``: the file ``which`` (an ``AwsPaths`` attribute) for messages, or nothing."""
        import os

        paths = self.files.paths
        if paths is None:
            return ""
        path: str = getattr(paths, which)
        home = os.path.expanduser("~")
        if home and home != "/" and path.startswith(home + os.sep):
            path = "~" + path[len(home) :]  # as config.parse shows paths: the home folder as ~
        return f" ({path})"

    # -- the top-level chain (botocore's create_credential_resolver) -------------------------------------------
    def top(self, name: str, explicit: bool) -> Provider:
        env = self.runtime.env
        raw = self.files.profile(name)
        if raw is None and (name != "default" or explicit or profile_from_env(env) is not None):
            # A profile that was named (argument, AWS_PROFILE, even "default") must exist, as in botocore, and
            # before the environment's keys are looked at: botocore (every `aws` command) raises ProfileNotFound
            # for AWS_PROFILE=typo even with AWS_ACCESS_KEY_ID set, rather than act as someone else.
            self._require_named(name, explicit)
        if not explicit and credentials_from_env(env) is not None:
            self.decisions.append(
                "AWS_ACCESS_KEY_ID is set and no profile was named: the environment's keys win (as in the AWS CLI)"
            )
            return EnvironmentProvider(env)
        if raw is None:
            # Nothing named and no [default] (EKS, CI): botocore goes on through the chain with no profile
            # settings, so the environment's web identity and the container / instance fallbacks still count.
            raw = {}
        profile = Profile(name, raw)
        self.inputs.register_profile(profile)
        if profile.is_assume_role_hop:
            return self._assume_role(profile, visited=[name], top_level=True)
        web = self._top_web_identity(profile, use_env=not explicit)
        if web is not None:
            return web
        if self.files.profile(name) is not None:
            found = self._profile_sources(profile)
            if found is not None:
                return found
        return self._fallbacks(name)

    def _require_named(self, name: str, explicit: bool) -> None:
        """``ProfileNotFoundError`` for the missing profile ``name`` (the hint names the variable that named it)."""
        from rolecall.config.profiles import require_named_profile

        require_named_profile(self.files, name, self.runtime.env, explicit)

    def _top_web_identity(self, profile: Profile, use_env: bool) -> Provider | None:
        """botocore's AssumeRoleWithWebIdentityProvider at the top: each of the token file, the role ARN and the
        session name comes from its environment variable when that is set (even to an empty value, as botocore
        checks ``in os.environ``), else from the profile; the environment does not count for an explicit profile.
        """
        env = self.runtime.env

        def setting(key: str, variable: str) -> str | None:
            if use_env and variable in env:
                return env[variable] or None
            return profile.get(key)

        token_file = setting("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE")
        if not token_file:
            return None
        role_arn = setting("role_arn", "AWS_ROLE_ARN")
        session = setting("role_session_name", "AWS_ROLE_SESSION_NAME")
        return self._web_identity(profile, token_file, role_arn, session)

    def _fallbacks(self, name: str) -> Provider:
        """Container credentials, then instance metadata: left to botocore, as they need its machinery."""
        from rolecall.providers.botocore_source import BotocoreProvider, imds_enabled

        env = self.runtime.env
        if env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
            self.decisions.append(f'profile "{name}" has no credentials: using the container credentials endpoint')
            return BotocoreProvider("container-role", name, self.runtime)
        if imds_enabled(env):
            return BotocoreProvider("iam-role", name, self.runtime)
        raise ConfigError(
            f'profile "{name}" has no credentials: no keys, role_arn, credential_process, SSO or web identity',
            hint=f"add keys with: rolecall configure set aws_access_key_id ... --profile {name}, "
            "or a role with role_arn and source_profile",
        )

    def _web_identity(
        self, profile: Profile, token_file: str, role_arn: str | None, session: str | None
    ) -> Provider:
        from rolecall.providers.web_identity import web_identity_provider

        return web_identity_provider(self, profile, token_file, role_arn, session)

    def _profile_sources(self, profile: Profile, *, web_identity: bool = False) -> Provider | None:
        """botocore's per-profile providers after assume-role, in its order (the graph's ``own_kind``): web identity
        (when ``web_identity``: a source profile's own token), sso, credentials file, login, process, config file;
        each kind built by the module registered for it in ``SOURCES``."""
        raw = profile.raw
        if not web_identity and "web_identity_token_file" in raw:
            # At the top, web identity was decided from the environment first (and found none): not again here.
            raw = {key: value for key, value in raw.items() if key != "web_identity_token_file"}
        kind = own_kind(raw, self.files.credentials_section(profile.name), self.files.config_profile(profile.name))
        if kind == EMPTY:
            return None
        return source_factory(kind)(self, profile)

    # -- role assumption (botocore's AssumeRoleProvider) -------------------------------------------------------
    def _assume_role(self, profile: Profile, visited: list[str], top_level: bool) -> Provider:
        refusal = refusals.role_source(profile.name, profile.source_profile, profile.credential_source)
        if refusal is not None:
            raise refusal.error()
        source: Provider
        via = f"credential_source {profile.credential_source}" if profile.credential_source else (
            f"source_profile {profile.source_profile}"
        )
        self.decisions.append(f"{profile.name}: role_arn {profile.role_arn} assumed with the credentials of {via}")
        if profile.credential_source:
            source = self._credential_source(profile)
        else:
            assert profile.source_profile is not None
            source = self._source_profile(profile, profile.source_profile, visited)
        strategy, reason, mfa_session = self._mfa_strategy(profile, source)
        if strategy:
            self.decisions.append(f"{profile.name}: MFA strategy {strategy} ({reason})")
        return AssumeRoleProvider(
            profile,
            source,
            self.runtime,
            self.inputs,
            strategy=strategy,
            strategy_reason=reason,
            mfa_session=mfa_session,
            top_level=top_level,
        )

    def _credential_source(self, profile: Profile) -> Provider:
        from rolecall.providers.botocore_source import canonical_source

        name = profile.credential_source or ""
        refusal = refusals.credential_source(profile.name, name)
        if refusal is not None:
            raise refusal.error()
        self.decisions.append(f"{profile.name}: source credentials from credential_source {name}")
        if name == "Environment":
            # As in botocore: the environment counts here even when a profile was named explicitly.
            return EnvironmentProvider(self.runtime.env)
        return canonical_source(name, profile.name, self.runtime)

    def _source_profile(self, profile: Profile, source_name: str, visited: list[str]) -> Provider:
        if self.files.profile(source_name) is None:
            raise refusals.missing_source(profile.name, source_name, self.files.profile_names()).error()
        source = self._profile(source_name)
        self.inputs.register_profile(source)
        self_reference = source_name == profile.name
        if source_name in visited and not (self_reference and has_static_keys(source.raw) and len(visited) == 1):
            raise refusals.loop([*visited, source_name]).error()
        too_long = refusals.chain_too_long(visited[0], len(visited) + 1)
        if too_long is not None:
            raise too_long.error()
        if not resolves_as_role(source.raw, self_reference=self_reference):
            # botocore: static keys in a source profile win over its own role_arn, and a source profile with
            # web_identity_token_file is resolved by web identity (its role_arn is the web identity role).
            found = self._source_sources(source)
            if found is None:
                raise refusals.source_without_credentials(source_name, profile.name).error()
            return found
        return self._assume_role(source, [*visited, source_name], top_level=False)

    def _source_sources(self, source: Profile) -> Provider | None:
        """A source profile's own credentials: web identity (profile only), then the per-profile providers."""
        return self._profile_sources(source, web_identity=True)

    def _mfa_strategy(self, profile: Profile, source: Provider) -> tuple[str | None, str, Provider | None]:
        """Pick the MFA strategy for a role hop and say why (never silently)."""
        if not profile.mfa_serial:
            return None, "", None
        from rolecall.providers.session_token import MfaSessionProvider

        chosen = self.runtime.mfa_strategy or profile.mfa_strategy
        source_is_long_term = _holds_long_term_keys(source)
        if chosen == "direct":
            return "direct", "asked for by " + ("--mfa-strategy" if self.runtime.mfa_strategy else "the profile"), None
        if chosen == "reuse":
            refusal = refusals.reuse_source(profile.name, source_is_long_term)
            if refusal is not None:
                raise refusal.error()
            reason = "asked for by " + ("--mfa-strategy" if self.runtime.mfa_strategy else "the profile")
        else:
            if profile.duration_seconds is not None and profile.duration_seconds > CHAINING_CAP_SECONDS:
                return (
                    "direct",
                    f"duration_seconds {profile.duration_seconds} > {CHAINING_CAP_SECONDS} needs a direct MFA session",
                    None,
                )
            if not source_is_long_term:
                return "direct", "the source has temporary credentials, so GetSessionToken is not possible", None
            reason = "the default"
        session = MfaSessionProvider(
            source, profile.mfa_serial, profile.mfa_session_duration, self.runtime, self.inputs, profile.name
        )
        return "reuse", reason, session


def _holds_long_term_keys(source: Provider) -> bool:
    """True for sources of long-term keys (file keys, stored keys): what GetSessionToken with MFA needs."""
    return credential_kind(source) == "long-term"
