"""AssumeRoleWithSAML after a browser sign-in at the profile's identity provider (``saml_url``; kind ``saml``).

A ``Fetcher`` behind ``CachedSource`` (docs/architecture.md, "Adding a credential source"): the role
credentials live in the AWS CLI's cache under a key in the CLI's style (SHA-1 of the sorted JSON of the
parameters that identify the session: ``SamlUrl``, ``RoleArn``, ``PrincipalArn``, ``DurationSeconds``), and a fetch
runs the browser (``rolecall.saml.signin``: headless first while the provider's session lives), reads the
assertion's roles, picks one, and calls AssumeRoleWithSAML with the assertion's SessionDuration (capped by the
profile's ``duration_seconds``). Parallel runs share one sign-in (a lock per provider, then a second look).
docs/saml.md.
"""

from __future__ import annotations

import os

from rolecall.errors import ConfigError, UsageError
from rolecall.providers.caching import CachedSource, Fetched, assumed_arn
from rolecall.providers.result import NO_CONSOLE_FACTS
from rolecall.timefmt import format_local_hm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager
    from typing import Any

    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.result import ConsoleFacts, Retrieved
    from rolecall.saml.assertion import Assertion, SamlRole

    #: Chooses one of several roles (a picker at a terminal); returns its index.
    RoleChooser = Callable[[Sequence[SamlRole]], int]


class SamlProvider:
    """A browser sign-in at ``saml_url``, then AssumeRoleWithSAML for the profile's (or the chosen) role."""

    method = "assume-role-with-saml"
    reports_origin = True

    def __init__(
        self,
        profile: Profile,
        runtime: Runtime,
        inputs: MfaInputs,
        *,
        choose: RoleChooser | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.profile_name = profile.name
        self.saml_url = profile.get("saml_url") or ""
        self.role_arn = profile.role_arn
        self.principal_arn = profile.get("principal_arn")
        self.duration_seconds = profile.duration_seconds
        self.runtime = runtime
        self.inputs = inputs
        #: How to choose among several roles; None: refuse with the list (no terminal to ask at).
        self.choose = choose
        self._interactive = interactive
        self._source = CachedSource(self, runtime, force_refresh=runtime.force_refresh)

    # -- the Provider side ----------------------------------------------------------------------------------
    def cached(self) -> Credentials | None:
        """The cache entry while it has at least 15 minutes left."""
        return self._source.cached()

    def retrieve(self) -> Retrieved:
        """Cached role credentials, or a sign-in and AssumeRoleWithSAML."""
        return self._source.retrieve()

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially."""
        return NO_CONSOLE_FACTS

    def explain(self) -> list[str]:
        """Cached, or the sign-in that would happen."""
        hit = self.cached()
        if hit is not None and hit.expiration is not None:
            return [f"{self.profile_name}: SAML role {self.role_arn or '(chosen at sign-in)'} cached until "
                    f"{format_local_hm(hit.expiration)}"]  # fmt: skip
        return [f"{self.profile_name}: sign in at {self.saml_url} in the browser, then AssumeRoleWithSAML "
                f"{self.role_arn or '(the role the assertion grants)'}"]  # fmt: skip

    # -- the Fetcher side -----------------------------------------------------------------------------------
    def cache_key(self) -> str:
        """The AWS CLI-style key: SHA-1 of the sorted JSON of what identifies this session."""
        from rolecall.cachekeys import assume_role_cache_key

        params: dict[str, Any] = {
            "SamlUrl": self.saml_url,
            "RoleArn": self.role_arn,
            "PrincipalArn": self.principal_arn,
            "DurationSeconds": self.duration_seconds,
        }
        return assume_role_cache_key(params)

    def answered_by(self) -> str:
        """Who answers, for the message about an already expired answer."""
        return f'STS (AssumeRoleWithSAML for profile "{self.profile_name}")'

    def lock(self) -> AbstractContextManager[None]:
        """One sign-in at a time per provider: parallel shells wait, then find the fresh entry."""
        from rolecall.fileio import exclusive_lock
        from rolecall.saml.signin import browser_folder

        folder = browser_folder(self.runtime.paths.rolecall_dir, self.saml_url)
        return exclusive_lock(os.path.join(folder, "rolecall.lock"), timeout=600.0, private=True)

    def fetch(self) -> Fetched:
        """Sign in, read the assertion, choose the role, AssumeRoleWithSAML."""
        from rolecall.aws import sts
        from rolecall.saml.assertion import parse_response

        assertion = parse_response(self.sign_in())
        role = self.pick_role(assertion)
        params: dict[str, Any] = {
            "RoleArn": role.role_arn,
            "PrincipalArn": role.principal_arn,
            "SAMLAssertion": assertion.encoded,
            "DurationSeconds": self.duration(assertion),
        }
        response = sts.assume_role_with_saml(self.inputs.settings(), **params)
        remember_role(self.runtime.paths.rolecall_dir, self.profile_name, role)
        return Fetched(
            sts.credentials_from_response(response),
            response,
            origin=f"a new SAML sign-in ({role.role_arn})",
            identity_arn=assumed_arn(response),
        )

    # -- the steps ------------------------------------------------------------------------------------------
    def sign_in(self) -> str:
        """The base64 SAMLResponse of a browser sign-in (headless first when the provider's session may live)."""
        from rolecall.saml.signin import sign_in
        from rolecall.sso.auth import terminal_present

        interactive = self._interactive
        if interactive is None:
            interactive = self.runtime.allow_prompt and terminal_present()
        return sign_in(
            self.saml_url,
            self.runtime.env,
            self.runtime.paths.rolecall_dir,
            interactive=interactive,
            reporter=self.runtime.reporter,
            profile=self.profile_name,
        )

    def duration(self, assertion: Assertion) -> int | None:
        """The assertion's SessionDuration (STS does not apply it by itself), capped by ``duration_seconds``."""
        wanted = assertion.session_duration
        if self.duration_seconds is not None:
            wanted = self.duration_seconds if wanted is None else min(wanted, self.duration_seconds)
        return wanted

    def pick_role(self, assertion: Assertion) -> SamlRole:
        """The profile's ``role_arn`` (and ``principal_arn``), the only role, the one chosen last time, or a choice."""
        roles = assertion.roles
        if self.role_arn:
            matching = [r for r in roles if r.role_arn == self.role_arn
                        and (not self.principal_arn or r.principal_arn == self.principal_arn)]  # fmt: skip
            if not matching:
                raise ConfigError(
                    f'profile "{self.profile_name}": the identity provider does not grant {self.role_arn}',
                    hint="it grants: " + ", ".join(r.role_arn for r in roles),
                )
            return matching[0]
        if len(roles) == 1:
            return roles[0]
        if self.choose is not None:
            return roles[self.choose(roles)]
        last = remembered_role(self.runtime.paths.rolecall_dir, self.profile_name)
        if last is not None and last in roles:
            return last
        raise UsageError(
            f'profile "{self.profile_name}": the identity provider grants {len(roles)} roles and the profile '
            "names none: " + ", ".join(r.role_arn for r in roles),
            hint=f"set role_arn in the profile, or pick one with: rolecall saml login --profile {self.profile_name}",
        )


# -- the role chosen last, per profile (renewals of a profile without role_arn keep it) ---------------------------
def _choices_path(rolecall_dir: str) -> str:
    return os.path.join(rolecall_dir, "saml-roles.json")


def remembered_role(rolecall_dir: str, profile: str) -> SamlRole | None:
    """The role last chosen for ``profile``, or None."""
    from rolecall.fastjson import loads
    from rolecall.fileio import read_bytes
    from rolecall.saml.assertion import SamlRole

    data = read_bytes(_choices_path(rolecall_dir))
    try:
        found = loads(data.decode("utf-8")).get(profile) if data else None
    except (ValueError, AttributeError, UnicodeDecodeError):
        return None
    if isinstance(found, list) and len(found) == 2 and all(isinstance(part, str) for part in found):
        return SamlRole(found[0], found[1])
    return None


def remember_role(rolecall_dir: str, profile: str, role: SamlRole) -> None:
    """Remember ``role`` for ``profile`` (a file that cannot be written only costs a question next time)."""
    import json

    from rolecall.errors import RolecallError
    from rolecall.fileio import atomic_write, read_bytes

    path = _choices_path(rolecall_dir)
    try:
        data = read_bytes(path)
        choices = json.loads(data) if data else {}
        if not isinstance(choices, dict):
            choices = {}
        choices[profile] = [role.role_arn, role.principal_arn]
        atomic_write(path, json.dumps(choices, sort_keys=True).encode("utf-8"), private=True)
    except (OSError, ValueError, RolecallError):
        pass


def build(context: BuildContext, profile: Profile) -> Provider:
    """The chain builder's factory for the ``saml`` kind."""
    context.decide(f"{profile.name}: SAML sign-in at {profile.get('saml_url')}, then AssumeRoleWithSAML")
    return SamlProvider(profile, context.runtime, context.inputs)
