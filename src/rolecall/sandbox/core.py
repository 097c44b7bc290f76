"""``Sandbox``: moto's server behind the sandbox's own services, on 127.0.0.1, with a seeded account.

``Sandbox`` is the one object tests and commands hold; it is made of small parts, one per job, and
forwards its public API to them:

- serving (``server.SandboxServer``) the router (``router.Router``) over the services of ``services()``;
- seeding the IAM account in moto (``account.SeededAccount``) and writing the AWS files (``awsfiles``);
- fault control over the STS and IAM services (``faults.FaultControl``);
- IAM Identity Center control (``identitycenter.IdentityCenterControl``).

The IAM world lives in moto's in-process backends; the sandbox's own state (issued session credentials,
used MFA codes, counters, faults) in a ``SandboxState``, and IAM Identity Center's (directory, organization,
registrations, sign-in sessions) in an ``SsoState``. moto keeps its backends per process, so one process
runs one sandbox at a time: starting or resetting a sandbox resets moto's backends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from rolecall.sandbox import awsfiles
from rolecall.sandbox.account import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    PARTNER_EXTERNAL_ID,
    SandboxUser,
    SeededAccount,
    trust_policy,
)
from rolecall.sandbox.account import role_arn as _role_arn
from rolecall.sandbox.app import StrictSts
from rolecall.sandbox.awsfiles import write_private
from rolecall.sandbox.faults import FaultControl
from rolecall.sandbox.federation import ConsoleSession, FederationApp
from rolecall.sandbox.iamfaults import IamFaults
from rolecall.sandbox.identitycenter import (
    SSO_DEFAULT_ROLES,
    SSO_REGION,
    SSO_START_URL,
    SSO_USER,
    IdentityCenterControl,
)
from rolecall.sandbox.router import Router, Service
from rolecall.sandbox.samlidp import IdpState, SamlIdp
from rolecall.sandbox.samlsts import SamlSts
from rolecall.sandbox.samlsts import seed as seed_saml
from rolecall.sandbox.server import SandboxServer
from rolecall.sandbox.signin import SigninApp
from rolecall.sandbox.signinstate import SigninState
from rolecall.sandbox.sso import SsoApp
from rolecall.sandbox.ssomodel import SsoAccount
from rolecall.sandbox.ssostate import SsoState
from rolecall.sandbox.state import FaultKind, SandboxState

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_REGION",
    "PARTNER_EXTERNAL_ID",
    "Sandbox",
    "SandboxUser",
    "trust_policy",
    "write_private",
]


class Sandbox:
    """A running local STS/IAM that is strict like AWS. Use ``Sandbox.start()``; a context manager too.

    Attributes describe the seeded account: ``account_id``, ``user_name``/``user_arn`` (``alice``),
    her ``access_key_id``/``secret_access_key`` and ``mfa_serial``. The parts: ``server``, ``account``,
    ``faults``, ``identity_center`` (and the ``state``/``sso_state`` they share).
    """

    account_id: str = ACCOUNT_ID
    region: str = DEFAULT_REGION

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare (but do not start) a sandbox; prefer ``Sandbox.start``."""
        self.state = SandboxState()
        self.sso_state = SsoState()
        #: Unix time for every service and control, so that they agree on what has expired.
        self.clock: Callable[[], float] = time.time
        self.federation = FederationApp(self.state, self.clock)
        self.server = SandboxServer(host, port)
        self.account = SeededAccount(self.state)
        self.faults = FaultControl(self.state)
        self.identity_center = IdentityCenterControl(self.sso_state, self.clock)
        #: AWS Sign-In (`aws login`): its state and controls (auto_approve, insufficient_permissions, revoke_all...).
        self.signin = SigninState(self.state, self._signin_user)
        #: The SAML identity provider's state (users, sessions, key, time offset): docs/saml.md.
        self.saml = IdpState()

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(cls, port: int = 0, host: str = "127.0.0.1") -> Sandbox:
        """Seed the account and serve on ``host:port`` (0 = a free port) in a daemon thread."""
        sandbox = cls(host, port)
        sandbox.reset()
        sandbox.server.start(sandbox.app())
        return sandbox

    def services(self, moto: Any) -> list[Service]:
        """The services in front of moto's WSGI app ``moto``, in the order the router asks them."""
        return [
            SsoApp(self.state, self.sso_state, self.clock),
            SigninApp(self.signin, lambda: self.clock()),
            self.federation,
            SamlIdp(self.saml, self.clock),
            SamlSts(self.state, self.saml, self.clock),
            StrictSts(moto, self.state, self.clock),
            IamFaults(moto, self.state),
        ]

    def app(self) -> Router:
        """The sandbox's WSGI app: ``services()``, and moto's server for what none of them serves."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto = DomainDispatcherApplication(create_backend_app)
        return Router(self.services(moto), fallback=moto)

    def _signin_user(self) -> tuple[str, str, str, str]:
        """Who signs in to AWS Sign-In: the seeded user (account, ARN, user id, name)."""
        from moto.iam.models import iam_backends

        user = self.account.user
        return ACCOUNT_ID, user.arn, iam_backends[ACCOUNT_ID]["aws"].get_user(user.name).id, user.name

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        self.server.stop()

    def __enter__(self) -> Sandbox:
        """The running sandbox itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop it."""
        self.stop()

    def serve_until_interrupted(self) -> None:
        """Block the calling thread until KeyboardInterrupt (the server keeps running in its thread)."""
        self.server.serve_until_interrupted()

    @property
    def is_running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self.server.is_running

    @property
    def port(self) -> int:
        """The TCP port served on."""
        return self.server.port

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: the endpoint for STS (and IAM) clients."""
        return self.server.url

    @property
    def federation_endpoint(self) -> str:
        """``http://127.0.0.1:PORT/federation``: the sandbox's sign-in federation endpoint (docs/console.md)."""
        return f"{self.endpoint_url}/federation"

    @property
    def saml_url(self) -> str:
        """``http://127.0.0.1:PORT/saml-idp/aws``: the sandbox SAML provider's "AWS sign-in URL" (docs/saml.md)."""
        return f"{self.endpoint_url}/saml-idp/aws"

    def advance_saml_clock(self, seconds: float) -> None:
        """Move the SAML side's time on (provider sessions, assertions, AssumeRoleWithSAML and its credentials)."""
        from datetime import timedelta

        self.saml.offset += timedelta(seconds=seconds)

    def console_sessions(self) -> list[ConsoleSession]:
        """Who signed in to the sandbox console so far, through its federation endpoint."""
        return self.federation.sessions()

    def reset(self) -> None:
        """Fresh state: moto's backends, the seeded account and organization, issued credentials, used codes,
        counters, faults, SSO registrations, sessions and lifetimes."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.state.reset()
        self.federation.reset()
        self.signin.reset()
        self.account.seed()
        self.identity_center.seed()
        seed_saml(self.saml)

    # ------------------------------------------------------------------ seeding (account.SeededAccount)

    def create_user(self, name: str, with_mfa: bool = False) -> SandboxUser:
        """Create an IAM user with one long-term access key and, if asked, an enabled virtual MFA device."""
        return self.account.create_user(name, with_mfa)

    def create_role(
        self, name: str, trust: str | dict[str, Any] | None = None, max_session_duration: int = 3600, path: str = "/"
    ) -> str:
        """Create a role with the trust policy ``trust`` (default: the whole account); return its ARN."""
        return self.account.create_role(name, trust, max_session_duration, path)

    def role_arn(self, name: str) -> str:
        """The ARN of role ``name`` in the seeded account (path ``/``)."""
        return _role_arn(name)

    @property
    def user(self) -> SandboxUser:
        """The seeded user ``alice``."""
        return self.account.user

    @property
    def user_name(self) -> str:
        """``alice``."""
        return self.account.user.name

    @property
    def user_arn(self) -> str:
        """``arn:aws:iam::123456789012:user/alice``."""
        return self.account.user.arn

    @property
    def access_key_id(self) -> str:
        """alice's long-term access key id."""
        return self.account.user.access_key_id

    @property
    def secret_access_key(self) -> str:
        """alice's long-term secret access key."""
        return self.account.user.secret_access_key

    @property
    def mfa_serial(self) -> str:
        """``arn:aws:iam::123456789012:mfa/alice``."""
        serial = self.account.user.mfa_serial
        assert serial is not None
        return serial

    @property
    def mfa_seed(self) -> str:
        """The Base32 seed of alice's virtual MFA device (what an authenticator app would scan)."""
        seed = self.account.user.mfa_seed
        assert seed is not None
        return seed

    def totp(self, at: float | None = None, user: SandboxUser | None = None) -> str:
        """The code of the seeded device (or ``user``'s) at Unix time ``at`` (default: now)."""
        return self.account.totp(at, user)

    def fresh_code(self, user: SandboxUser | None = None) -> str:
        """A code the sandbox has not accepted yet for the device, valid now (see ``SeededAccount.fresh_code``)."""
        return self.account.fresh_code(user)

    def profiles_config(self) -> str:
        """The text of an AWS config file with the seeded profiles, pointing at this sandbox."""
        return awsfiles.profiles_config(self.endpoint_url, self.federation_endpoint, self.mfa_serial)

    def credentials_file(self) -> str:
        """The text of an AWS credentials file with alice's long-term keys as ``default``."""
        return awsfiles.credentials_file(self.account.user)

    def write_aws_files(self, home: str | os.PathLike[str]) -> dict[str, str]:
        """Write ``HOME/.aws/config`` and ``HOME/.aws/credentials`` (0600) for the seeded account.

        Returns the environment variables that point the AWS CLI, boto3 and rolecall at them and at
        this sandbox: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL,
        AWS_DEFAULT_REGION and AWS_REGION.
        """
        return self.write_aws_files_in(os.path.join(os.fspath(home), ".aws"))

    def write_aws_files_in(self, folder: str | os.PathLike[str]) -> dict[str, str]:
        """Like ``write_aws_files`` but the files are ``FOLDER/config`` and ``FOLDER/credentials``."""
        return awsfiles.write_aws_files_in(folder, self.profiles_config(), self.credentials_file(), self.endpoint_url)

    # ------------------------------------------------------------------ fault control (faults.FaultControl)

    def calls(self, action: str | None = None) -> int:
        """How many requests were seen for ``action`` (all when None); see ``FaultControl.calls``."""
        return self.faults.calls(action)

    def reset_calls(self) -> None:
        """Zero the call counters."""
        self.faults.reset_calls()

    def inject_fault(self, action: str, kind: FaultKind, times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` calls of ``action`` fail or be slow; see ``FaultControl.inject_fault``."""
        self.faults.inject_fault(action, kind, times, delay)

    def inject_iam_fault(self, action: str, kind: FaultKind = "error500", times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` IAM calls of ``action`` fail or be slow; see ``FaultControl.inject_iam_fault``."""
        self.faults.inject_iam_fault(action, kind, times, delay)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self.faults.clear_faults()

    def set_credential_lifetime(self, seconds: int | None) -> None:
        """Issued credentials expire after ``seconds`` (AWS's 900 s minimum does not apply); None: as requested."""
        self.faults.set_credential_lifetime(seconds)

    def disable_region(self, region: str) -> None:
        """STS requests signed for ``region`` get RegionDisabledException (403)."""
        self.faults.disable_region(region)

    def enable_region(self, region: str) -> None:
        """Undo ``disable_region``."""
        self.faults.enable_region(region)

    def revoke_credentials(self, access_key_id: str) -> bool:
        """Revoke issued temporary credentials (as revoking a role's sessions does); True when they existed."""
        return self.faults.revoke_credentials(access_key_id)

    # ------------------------------------------------------------------ IAM Identity Center (IdentityCenterControl)

    @property
    def sso_start_url(self) -> str:
        """``https://d-90sandbox01.awsapps.com/start``: the start URL the sandbox's Identity Center accepts."""
        return SSO_START_URL

    @property
    def sso_region(self) -> str:
        """``us-east-1``: the Identity Center instance's region."""
        return SSO_REGION

    @property
    def sso_user(self) -> str:
        """``alice@example.com``: the directory user who signs in (and names the role sessions)."""
        return SSO_USER

    @property
    def sso_accounts(self) -> tuple[SsoAccount, ...]:
        """The organization's accounts, with the permission sets the user holds in each."""
        return self.identity_center.accounts

    def seed_sso_organization(self, accounts: int, roles: Sequence[str] = SSO_DEFAULT_ROLES) -> list[SsoAccount]:
        """Replace the organization with ``accounts`` generated accounts; see ``seed_organization``."""
        return self.identity_center.seed_organization(accounts, roles)

    def sso_approve(self, user_code: str) -> None:
        """Allow the pending device request ``user_code`` (ValueError when none such is pending)."""
        self.identity_center.decide(user_code, True)

    def sso_deny(self, user_code: str) -> None:
        """Deny the pending device request ``user_code`` (its client then gets AccessDeniedException)."""
        self.identity_center.decide(user_code, False)

    def set_sso_lifetimes(
        self,
        access_token: int | None = None,
        refresh_token: int | None = None,
        role_credentials: int | None = None,
        device_code: int | None = None,
        registration: int | None = None,
        interval: int | None = None,
    ) -> None:
        """Change Identity Center lifetimes, in seconds (None: unchanged); see ``set_lifetimes``."""
        self.identity_center.set_lifetimes(
            access_token, refresh_token, role_credentials, device_code, registration, interval
        )

    def sso_revoke_all(self) -> None:
        """End every sign-in session (issued role credentials keep working until they expire, as on AWS)."""
        self.identity_center.revoke_all()

    def sso_assumed_role_arn(self, role_name: str, account_id: str = ACCOUNT_ID) -> str:
        """Who the portal's credentials for ``role_name`` in ``account_id`` are (an assumed-role ARN)."""
        return self.identity_center.assumed_role_arn(role_name, account_id)

    def sso_login(self) -> dict[str, str]:
        """Sign the user in as if a device flow had just been approved; botocore's token-cache entry."""
        return self.identity_center.login()

    def write_sso_token_cache(self, home: str | os.PathLike[str], legacy: bool = False) -> str:
        """``sso_login()`` written to ``HOME/.aws/sso/cache`` (0600) where botocore looks; returns the path.

        The file is named for the ``sandbox`` sso-session (profiles ``sso-admin``, ``sso-readonly``,
        ``sso-chained``), or with ``legacy`` for the start URL (profile ``sso-legacy``).
        """
        return awsfiles.write_sso_token_cache(home, self.sso_login(), legacy)
