"""AssumeRoleWithWebIdentity from a token file (``web_identity_token_file`` or AWS_WEB_IDENTITY_TOKEN_FILE).

The first source on the provider contract end to end (docs/architecture.md, "Adding a credential source"): a
``Fetcher`` (cache key, one call) behind ``CachedSource``, which loads, checks and saves; ``build`` makes it from a
profile for the chain builder, which registers it under the profile graph's ``web-identity`` kind.
"""

from __future__ import annotations

from rolecall.config.refusals import web_identity_role
from rolecall.errors import FileError
from rolecall.providers.caching import CachedSource, Fetched
from rolecall.providers.result import NO_CONSOLE_FACTS
from rolecall.timefmt import format_local_hm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rolecall.config.profiles import Profile
    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider, Runtime
    from rolecall.providers.contract import BuildContext
    from rolecall.providers.mfa_inputs import MfaInputs
    from rolecall.providers.result import ConsoleFacts, Retrieved


class WebIdentityProvider:
    """An unsigned AssumeRoleWithWebIdentity call; the token is re-read from its file on every call."""

    method = "assume-role-with-web-identity"
    #: The summary line has never named where web identity credentials came from; kept so.
    reports_origin = False

    def __init__(
        self,
        profile_name: str,
        role_arn: str | None,
        token_file: str,
        session_name: str | None,
        runtime: Runtime,
        inputs: MfaInputs,
    ) -> None:
        refusal = web_identity_role(profile_name, role_arn)
        if refusal is not None:
            raise refusal.error()
        self.profile_name = profile_name
        self.role_arn = role_arn
        self.token_file = token_file
        self.session_name = session_name
        self.runtime = runtime
        self.inputs = inputs
        # --force-refresh has never skipped a cached web identity role (botocore has no such option); kept so.
        self._source = CachedSource(self, runtime)

    def cache_key(self) -> str:
        """The AWS CLI's cache key for this web-identity role (the token is not part of it)."""
        from rolecall.cachekeys import assume_role_cache_key

        params: dict[str, Any] = {"RoleArn": self.role_arn}
        if self.session_name:
            params["RoleSessionName"] = self.session_name
        return assume_role_cache_key(params, session_name_generated=not self.session_name)

    def cached(self) -> Credentials | None:
        """The AWS CLI cache entry when it has at least 15 minutes left."""
        return self._source.cached()

    def retrieve(self) -> Retrieved:
        """Cached credentials, or a new AssumeRoleWithWebIdentity call."""
        return self._source.retrieve()

    def console_facts(self) -> ConsoleFacts:
        """Nothing the console command treats specially."""
        return NO_CONSOLE_FACTS

    # -- the Fetcher side (CachedSource calls these) ---------------------------------------------------------
    def answered_by(self) -> str:
        """Who answers the call, for the message about an already expired answer."""
        return f'STS (AssumeRoleWithWebIdentity for profile "{self.profile_name}")'

    def lock(self) -> None:
        """No lock: the call asks nobody anything, and the home folder may be read-only (EKS, CI)."""
        return None

    def fetch(self) -> Fetched:
        """The token, re-read from its file, then one unsigned AssumeRoleWithWebIdentity call."""
        from rolecall.aws import sts
        from rolecall.validation import default_session_name

        response = sts.assume_role_with_web_identity(
            self.inputs.settings(),
            RoleArn=self.role_arn,
            RoleSessionName=self.session_name or default_session_name(self.runtime.env, self.runtime.clock()),
            WebIdentityToken=self._token(),
        )
        return Fetched(sts.credentials_from_response(response), response)

    def _token(self) -> str:
        try:
            with open(self.token_file, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as error:
            raise FileError(
                f"cannot read the web identity token file {self.token_file}: {error.strerror}",
                hint="check web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE",
            ) from None
        except UnicodeDecodeError:
            raise FileError(
                f"the web identity token file {self.token_file} is not text (a JWT is ASCII)",
                hint="check web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE names the token, not another file",
            ) from None

    def explain(self) -> list[str]:
        """Cached, or the call that would be made."""
        hit = self.cached()
        if hit is not None and hit.expiration is not None:
            return [f"{self.profile_name}: web identity role {self.role_arn} cached until "
                    f"{format_local_hm(hit.expiration)}"]
        return [f"{self.profile_name}: AssumeRoleWithWebIdentity {self.role_arn} with the token in {self.token_file}"]


def build(context: BuildContext, profile: Profile) -> Provider:
    """The chain builder's factory for the ``web-identity`` kind: the profile's own token file and role."""
    token_file = profile.web_identity_token_file or ""
    return web_identity_provider(context, profile, token_file, profile.role_arn, profile.role_session_name)


def web_identity_provider(
    context: BuildContext, profile: Profile, token_file: str, role_arn: str | None, session: str | None
) -> Provider:
    """A web identity source with these settings (the top of a chain takes each from the environment first)."""
    context.decide(f"{profile.name}: AssumeRoleWithWebIdentity with the token file {token_file}")
    return WebIdentityProvider(profile.name, role_arn, token_file, session, context.runtime, context.inputs)
