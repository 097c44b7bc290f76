"""AssumeRoleWithWebIdentity from a token file (``web_identity_token_file`` or AWS_WEB_IDENTITY_TOKEN_FILE)."""

from __future__ import annotations

from rolecall.errors import ConfigError, FileError
from rolecall.providers.assume_role import CLI_EXPIRY_WINDOW
from rolecall.providers.base import refuse_expired
from rolecall.timefmt import format_local_hm

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from rolecall.credentials import Credentials
    from rolecall.providers.base import Runtime
    from rolecall.providers.mfa_inputs import MfaInputs


class WebIdentityProvider:
    """An unsigned AssumeRoleWithWebIdentity call; the token is re-read from its file on every call."""

    method = "assume-role-with-web-identity"

    def __init__(
        self,
        profile_name: str,
        role_arn: str | None,
        token_file: str,
        session_name: str | None,
        runtime: Runtime,
        inputs: MfaInputs,
    ) -> None:
        if not role_arn:
            raise ConfigError(
                f'profile "{profile_name}" is configured to assume a role with web identity but has no role ARN',
                hint="set role_arn in the profile (or AWS_ROLE_ARN)",
            )
        self.profile_name = profile_name
        self.role_arn = role_arn
        self.token_file = token_file
        self.session_name = session_name
        self.runtime = runtime
        self.inputs = inputs

    def cache_key(self) -> str:
        """The AWS CLI's cache key for this web-identity role (the token is not part of it)."""
        from rolecall.cache import assume_role_cache_key

        params: dict[str, Any] = {"RoleArn": self.role_arn}
        if self.session_name:
            params["RoleSessionName"] = self.session_name
        return assume_role_cache_key(params, session_name_generated=not self.session_name)

    def cached(self) -> Credentials | None:
        """The AWS CLI cache entry when it has at least 15 minutes left."""
        entry = self.runtime.cli_cache().get(self.cache_key(), self.runtime.clock(), CLI_EXPIRY_WINDOW)
        return entry.credentials if entry else None

    def retrieve(self) -> Credentials:
        """Cached credentials, or a new AssumeRoleWithWebIdentity call."""
        from rolecall import sts
        from rolecall.validation import default_session_name

        hit = self.cached()
        if hit is not None:
            return hit
        try:
            with open(self.token_file, encoding="utf-8") as handle:
                token = handle.read().strip()
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
        response = sts.assume_role_with_web_identity(
            self.inputs.settings(),
            RoleArn=self.role_arn,
            RoleSessionName=self.session_name or default_session_name(self.runtime.env, self.runtime.clock()),
            WebIdentityToken=token,
        )
        credentials = refuse_expired(
            sts.credentials_from_response(response),
            f'STS (AssumeRoleWithWebIdentity for profile "{self.profile_name}")',
            self.runtime.clock(),
        )
        self.runtime.cli_cache().put(self.cache_key(), response)
        return credentials

    def explain(self) -> list[str]:
        """Cached, or the call that would be made."""
        hit = self.cached()
        if hit is not None and hit.expiration is not None:
            return [f"{self.profile_name}: web identity role {self.role_arn} cached until "
                    f"{format_local_hm(hit.expiration)}"]
        return [f"{self.profile_name}: AssumeRoleWithWebIdentity {self.role_arn} with the token in {self.token_file}"]
