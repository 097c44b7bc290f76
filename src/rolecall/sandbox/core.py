"""``Sandbox``: moto's server behind the strictness layer, on 127.0.0.1, with a seeded account.

The IAM world (user ``alice`` with long-term keys and a virtual MFA device, and the roles below) lives
in moto's in-process backends; the sandbox's own state (issued session credentials, used MFA codes,
counters, faults) lives in a ``SandboxState``, and IAM Identity Center's (directory, organization,
registrations, sign-in sessions) in an ``SsoState``. moto keeps its backends per process, so one process
runs one sandbox at a time: starting or resetting a sandbox resets moto's backends.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rolecall.sandbox import totp
from rolecall.sandbox.app import StrictSts
from rolecall.sandbox.federation import ConsoleSession, FederationApp
from rolecall.sandbox.iamfaults import IamFaults
from rolecall.sandbox.router import Router, Service
from rolecall.sandbox.sso import BEARER_TOKEN_ENVIRON, BEARER_TOKEN_HEADER, SsoApp
from rolecall.sandbox.ssostate import (
    ACCOUNT_ACCESS_SCOPE,
    SsoAccount,
    SsoError,
    SsoState,
    assumed_role_arn,
    generated_accounts,
)
from rolecall.sandbox.state import FAULT_KINDS, FaultKind, SandboxState
from rolecall.timefmt import format_iso_z

ACCOUNT_ID = "123456789012"
#: An account the sandbox does not own: the "denied" role trusts only it.
OTHER_ACCOUNT_ID = "210987654321"
DEFAULT_REGION = "us-east-1"
PARTNER_EXTERNAL_ID = "partner-ext-42"

#: IAM Identity Center's start URL in the sandbox. Fixed, because token-cache keys are made from it.
SSO_START_URL = "https://d-90sandbox01.awsapps.com/start"
SSO_REGION = DEFAULT_REGION
#: The one user of the sandbox's Identity Center directory (the session name of its role credentials).
SSO_USER = "alice@example.com"
#: The ``[sso-session NAME]`` of the written config.
SSO_SESSION_NAME = "sandbox"
SSO_DEFAULT_ROLES = ("AdministratorAccess", "ReadOnlyAccess", "Billing")
#: The seeded organization: the IAM account with two permission sets, a partner account with one.
SSO_SEEDED_ACCOUNTS = (
    SsoAccount(ACCOUNT_ID, "sandbox-main", "sandbox-main@example.com", ("AdministratorAccess", "ReadOnlyAccess")),
    SsoAccount(OTHER_ACCOUNT_ID, "sandbox-partner", "sandbox-partner@example.com", ("ReadOnlyAccess",)),
)


def trust_policy(principal: str | list[str], condition: dict[str, Any] | None = None, effect: str = "Allow") -> str:
    """A one-statement trust policy letting ``principal`` (``AWS`` ARNs) call sts:AssumeRole."""
    statement: dict[str, Any] = {"Effect": effect, "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@dataclass(frozen=True)
class SandboxUser:
    """An IAM user the sandbox created: long-term keys and, if asked, a virtual MFA device."""

    name: str
    arn: str
    access_key_id: str
    secret_access_key: str
    mfa_serial: str | None
    mfa_seed: str | None


def _quiet_handler_class() -> type[Any]:
    from werkzeug.serving import WSGIRequestHandler

    class QuietRequestHandler(WSGIRequestHandler):
        """werkzeug's handler without the access log: the sandbox must not write to the test's stderr."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Do not log requests."""

        def make_environ(self) -> Any:
            """werkzeug's environ plus the SSO portal's bearer token, whose header werkzeug drops (underscore)."""
            environ = super().make_environ()
            token = self.headers.get(BEARER_TOKEN_HEADER)
            if token is not None:
                environ[BEARER_TOKEN_ENVIRON] = token
            return environ

    return QuietRequestHandler


def _iam() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT_ID]["aws"]


class Sandbox:
    """A running local STS/IAM that is strict like AWS. Use ``Sandbox.start()``; a context manager too.

    Attributes describe the seeded account: ``account_id``, ``user_name``/``user_arn`` (``alice``),
    her ``access_key_id``/``secret_access_key`` and ``mfa_serial``.
    """

    account_id: str = ACCOUNT_ID
    region: str = DEFAULT_REGION

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare (but do not start) a sandbox; prefer ``Sandbox.start``."""
        self._host = host
        self._requested_port = port
        self.state = SandboxState()
        self.sso_state = SsoState()
        #: Unix time for every service, so that control calls and requests agree on what has expired.
        self.clock: Callable[[], float] = time.time
        self.federation = FederationApp(self.state, self.clock)
        self._app: Router | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._user: SandboxUser | None = None

    # ------------------------------------------------------------------ life cycle

    @classmethod
    def start(cls, port: int = 0, host: str = "127.0.0.1") -> Sandbox:
        """Seed the account and serve on ``host:port`` (0 = a free port) in a daemon thread."""
        sandbox = cls(host, port)
        sandbox._start()
        return sandbox

    def _start(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        quiet_handler = _quiet_handler_class()

        self.reset()
        moto_app = DomainDispatcherApplication(create_backend_app)
        services: list[Service] = [
            SsoApp(self.state, self.sso_state, self.clock),
            self.federation,
            StrictSts(moto_app, self.state, self.clock),
            IamFaults(moto_app, self.state),
        ]
        app = self._app = Router(services, fallback=moto_app)
        # Bind here rather than in werkzeug, which prints and calls sys.exit() when the port is taken:
        # a library must raise (OSError) instead.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._requested_port))
            listener.listen(128)
            # Threaded: a request that waits (a "slow" fault) must not block the others.
            self._server = make_server(
                self._host,
                self._requested_port,
                app,
                threaded=True,
                request_handler=quiet_handler,
                fd=listener.fileno(),  # werkzeug duplicates the descriptor
            )
        finally:
            listener.close()
        self._thread = threading.Thread(target=self._server.serve_forever, name="rolecall-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> Sandbox:
        """The running sandbox itself."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop it."""
        self.stop()

    def serve_until_interrupted(self) -> None:
        """Block the calling thread until KeyboardInterrupt (the server keeps running in its thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)

    @property
    def is_running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The TCP port served on."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: the endpoint for STS (and IAM) clients."""
        return f"http://{self._host}:{self.port}"

    @property
    def federation_endpoint(self) -> str:
        """``http://127.0.0.1:PORT/federation``: the sandbox's sign-in federation endpoint (docs/console.md)."""
        return f"{self.endpoint_url}/federation"

    def console_sessions(self) -> list[ConsoleSession]:
        """Who signed in to the sandbox console so far, through its federation endpoint."""
        return self.federation.sessions()

    def revoke_credentials(self, access_key_id: str) -> bool:
        """Revoke issued temporary credentials (as revoking a role's sessions does); True when they existed."""
        return self.state.revoke(access_key_id)

    def reset(self) -> None:
        """Fresh state: moto's backends, the seeded account and organization, issued credentials, used codes,
        counters, faults, SSO registrations, sessions and lifetimes."""
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()
        self.state.reset()
        self.federation.reset()
        self._seed()

    # ------------------------------------------------------------------ the seeded account

    def _seed(self) -> None:
        root = f"arn:aws:iam::{ACCOUNT_ID}:root"
        self._user = self.create_user("alice", with_mfa=True)
        self.create_role("readonly", trust_policy(root), max_session_duration=3600)
        self.create_role(
            "admin",
            trust_policy(root, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            max_session_duration=43200,
        )
        self.create_role(
            "partner",
            trust_policy(root, {"StringEquals": {"sts:ExternalId": PARTNER_EXTERNAL_ID}}),
            max_session_duration=3600,
        )
        self.create_role("deploy", trust_policy(self.role_arn("readonly")), max_session_duration=43200)
        self.create_role("ops", trust_policy(self.role_arn("deploy")), max_session_duration=3600)
        self.create_role("denied", trust_policy(f"arn:aws:iam::{OTHER_ACCOUNT_ID}:root"), max_session_duration=3600)
        self.sso_state.reset(SSO_START_URL, SSO_REGION, SSO_USER, SSO_SEEDED_ACCOUNTS)

    def create_user(self, name: str, with_mfa: bool = False) -> SandboxUser:
        """Create an IAM user with one long-term access key and, if asked, an enabled virtual MFA device."""
        iam = _iam()
        user = iam.create_user(region_name=DEFAULT_REGION, user_name=name, path="/")
        # Real user ids look like AIDA + 17 characters (moto's do not); GetCallerIdentity shows them.
        user.id = "AIDA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(17))
        key = iam.create_access_key(user_name=name)
        serial = seed = None
        if with_mfa:
            device = iam.create_virtual_mfa_device(device_name=name, path="/")
            serial, seed = device.serial_number, device.base32_string_seed
            # Enabling takes two consecutive codes on AWS; moto records them without checking.
            iam.enable_mfa_device(name, serial, "000000", "000000")
        return SandboxUser(name, user.arn, key.access_key_id, key.secret_access_key, serial, seed)

    def create_role(
        self,
        name: str,
        trust: str | dict[str, Any] | None = None,
        max_session_duration: int = 3600,
        path: str = "/",
    ) -> str:
        """Create a role with the trust policy ``trust`` (default: the whole account); return its ARN."""
        if trust is None:
            trust = trust_policy(f"arn:aws:iam::{ACCOUNT_ID}:root")
        document = trust if isinstance(trust, str) else json.dumps(trust)
        role = _iam().create_role(
            role_name=name,
            assume_role_policy_document=document,
            path=path,
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=str(max_session_duration),
        )
        return str(role.arn)

    def role_arn(self, name: str) -> str:
        """The ARN of role ``name`` in the seeded account (path ``/``)."""
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"

    def _seeded(self) -> SandboxUser:
        if self._user is None:
            raise RuntimeError("the sandbox has not been seeded")
        return self._user

    @property
    def user(self) -> SandboxUser:
        """The seeded user ``alice``."""
        return self._seeded()

    @property
    def user_name(self) -> str:
        """``alice``."""
        return self._seeded().name

    @property
    def user_arn(self) -> str:
        """``arn:aws:iam::123456789012:user/alice``."""
        return self._seeded().arn

    @property
    def access_key_id(self) -> str:
        """alice's long-term access key id."""
        return self._seeded().access_key_id

    @property
    def secret_access_key(self) -> str:
        """alice's long-term secret access key."""
        return self._seeded().secret_access_key

    @property
    def mfa_serial(self) -> str:
        """``arn:aws:iam::123456789012:mfa/alice``."""
        serial = self._seeded().mfa_serial
        assert serial is not None
        return serial

    @property
    def mfa_seed(self) -> str:
        """The Base32 seed of alice's virtual MFA device (what an authenticator app would scan)."""
        seed = self._seeded().mfa_seed
        assert seed is not None
        return seed

    # ------------------------------------------------------------------ MFA codes

    def totp(self, at: float | None = None, user: SandboxUser | None = None) -> str:
        """The code of the seeded device (or ``user``'s) at Unix time ``at`` (default: now)."""
        seed = (user or self._seeded()).mfa_seed
        if seed is None:
            raise ValueError("that user has no MFA device")
        return totp.code_for_step(seed, totp.time_step(time.time() if at is None else at))

    def fresh_code(self, user: SandboxUser | None = None) -> str:
        """A code the sandbox has not accepted yet for the device, valid now.

        The current step's code if unused, else the next step's (AWS, and so the sandbox, accepts one
        step of drift either way); only when both were used does this sleep until the next 30 s step.
        """
        owner = user or self._seeded()
        if owner.mfa_serial is None or owner.mfa_seed is None:
            raise ValueError("that user has no MFA device")
        while True:
            now = time.time()
            step = totp.time_step(now)
            # The next step's code is accepted now too (one step of drift), and stays valid longer.
            candidates = [step, step + 1]
            for candidate in candidates:
                if not self.state.code_used(owner.mfa_serial, candidate):
                    return totp.code_for_step(owner.mfa_seed, candidate)
            time.sleep(totp.STEP_SECONDS - now % totp.STEP_SECONDS + 0.05)

    # ------------------------------------------------------------------ observation and faults

    def calls(self, action: str | None = None) -> int:
        """How many requests were seen for ``action`` (all when None), retries included.

        STS actions by name (``"AssumeRole"``); IAM Identity Center operations as ``"sso-oidc:CreateToken"``
        or ``"sso:GetRoleCredentials"``.
        """
        with self.state.lock:
            if action is None:
                return sum(self.state.counts.values())
            return self.state.counts.get(action, 0)

    def reset_calls(self) -> None:
        """Zero the call counters."""
        with self.state.lock:
            self.state.counts.clear()

    def inject_fault(self, action: str, kind: FaultKind, times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` calls of ``action`` (``"*"``: any STS action) fail or be slow.

        ``kind``: ``"throttle"`` (400 Throttling "Rate exceeded"), ``"error500"`` (500 InternalFailure),
        ``"slow"`` (answered normally after ``delay`` seconds). botocore retries the first two.
        IAM Identity Center operations are named like ``"CreateToken"`` or ``"sso:ListAccountRoles"`` (``"*"``
        does not reach them); for them a throttle is 429 TooManyRequestsException and error500 is 500
        InternalServerException.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.state.add_fault(action, kind, times, delay)

    def inject_iam_fault(self, action: str, kind: FaultKind = "error500", times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` IAM calls of ``action`` (``"CreateAccessKey"``, ``"DeleteAccessKey"``...) fail
        (``throttle``: 400 Throttling, ``error500``: 500 InternalFailure, both retried by botocore) or be slow.
        Requests signed for the ``iam`` service only; ``clear_faults`` drops these too."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.state.add_fault(f"iam:{action}", kind, times, delay)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        with self.state.lock:
            self.state.faults.clear()

    def set_credential_lifetime(self, seconds: int | None) -> None:
        """Issued credentials expire after ``seconds`` (any value, AWS's 900 s minimum does not apply);
        ``None``: as requested."""
        if seconds is not None and seconds < 1:
            raise ValueError("the lifetime must be at least 1 second")
        with self.state.lock:
            self.state.credential_lifetime = seconds

    def disable_region(self, region: str) -> None:
        """STS requests signed for ``region`` get RegionDisabledException (403)."""
        with self.state.lock:
            self.state.disabled_regions.add(region)

    def enable_region(self, region: str) -> None:
        """Undo ``disable_region``."""
        with self.state.lock:
            self.state.disabled_regions.discard(region)

    # ------------------------------------------------------------------ IAM Identity Center

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
        with self.sso_state.lock:
            return tuple(self.sso_state.accounts)

    def seed_sso_organization(self, accounts: int, roles: Sequence[str] = SSO_DEFAULT_ROLES) -> list[SsoAccount]:
        """Replace the organization with ``accounts`` generated accounts (``acct-0001``…, unique deterministic
        12-digit ids), each with every permission set of ``roles``; returns them. IAM's seeded account and
        its roles stay as they are."""
        if accounts < 0:
            raise ValueError("accounts must not be negative")
        generated = generated_accounts(accounts, roles)
        self.sso_state.set_accounts(generated)
        return generated

    def sso_approve(self, user_code: str) -> None:
        """Allow the pending device request ``user_code``, as the user does on the verification page.

        ValueError when no request with that code is pending (unknown, expired or decided already).
        """
        self._sso_decide(user_code, True)

    def sso_deny(self, user_code: str) -> None:
        """Deny the pending device request ``user_code`` (its client then gets AccessDeniedException)."""
        self._sso_decide(user_code, False)

    def _sso_decide(self, user_code: str, allow: bool) -> None:
        try:
            self.sso_state.decide_device(self._now(), user_code, allow)
        except SsoError as error:
            raise ValueError(error.description) from None

    def set_sso_lifetimes(
        self,
        access_token: int | None = None,
        refresh_token: int | None = None,
        role_credentials: int | None = None,
        device_code: int | None = None,
        registration: int | None = None,
        interval: int | None = None,
    ) -> None:
        """Change Identity Center lifetimes, in seconds, for what is issued from now on (None: unchanged).

        ``access_token`` (default 3600), ``refresh_token`` (the sign-in session, 8 h), ``role_credentials``
        (GetRoleCredentials; default: ``set_credential_lifetime``'s value if set, else 3600), ``device_code``
        (device and consent requests, 600), ``registration`` (client secrets, 90 days) and the device flow's
        polling ``interval`` (1; 0 turns SlowDownException off).
        """
        values = {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "role_credentials": role_credentials,
            "device_code": device_code,
            "registration": registration,
        }
        for name, value in values.items():
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1 second")
        if interval is not None and interval < 0:
            raise ValueError("interval must not be negative")
        with self.sso_state.lock:
            lifetimes = self.sso_state.lifetimes
            for name, value in (*values.items(), ("interval", interval)):
                if value is not None:
                    setattr(lifetimes, name, value)

    def sso_revoke_all(self) -> None:
        """End every sign-in session: all access and refresh tokens stop working (issued role credentials
        keep working until they expire, as on AWS)."""
        self.sso_state.revoke_all()

    def sso_assumed_role_arn(self, role_name: str, account_id: str = ACCOUNT_ID) -> str:
        """``arn:aws:sts::ACCOUNT:assumed-role/AWSReservedSSO_ROLE_HEX/alice@example.com``: who the portal's
        credentials for ``role_name`` in ``account_id`` are."""
        return assumed_role_arn(account_id, role_name, SSO_USER)

    def sso_login(self) -> dict[str, str]:
        """Sign the user in as if a device flow had just been approved; botocore's token-cache entry.

        The entry (``startUrl``, ``region``, ``accessToken``, ``expiresAt``, ``clientId``, ``clientSecret``,
        ``registrationExpiresAt``, ``refreshToken``) is what ``aws sso login`` writes to ~/.aws/sso/cache.
        """
        now = self._now()
        client, token = self.sso_state.issue_session(now, f"botocore-client-{SSO_SESSION_NAME}")
        return {
            "startUrl": SSO_START_URL,
            "region": SSO_REGION,
            "accessToken": token["accessToken"],
            "expiresAt": format_iso_z(datetime.fromtimestamp(int(now) + token["expiresIn"], timezone.utc)),
            "clientId": client.client_id,
            "clientSecret": client.client_secret,
            "registrationExpiresAt": format_iso_z(datetime.fromtimestamp(client.expires_at, timezone.utc)),
            "refreshToken": token["refreshToken"],
        }

    def write_sso_token_cache(self, home: str | os.PathLike[str], legacy: bool = False) -> str:
        """``sso_login()`` written to ``HOME/.aws/sso/cache`` (0600) where botocore looks; returns the path.

        The file is named for the ``sandbox`` sso-session (profiles ``sso-admin``, ``sso-readonly``,
        ``sso-chained``), or with ``legacy`` for the start URL (profile ``sso-legacy``).
        """
        folder = os.path.join(os.fspath(home), ".aws", "sso", "cache")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        key = SSO_START_URL if legacy else SSO_SESSION_NAME
        path = os.path.join(folder, hashlib.sha1(key.encode()).hexdigest() + ".json")
        write_private(path, json.dumps(self.sso_login()))
        return path

    def _now(self) -> float:
        # The strictness layer's clock, so that control calls and requests agree on what has expired.
        return self.clock()

    # ------------------------------------------------------------------ AWS files

    def profiles_config(self) -> str:
        """The text of an AWS config file with the seeded profiles, pointing at this sandbox."""
        endpoint = self.endpoint_url
        sections = [
            ("default", {}),
            ("profile readonly", {"role_arn": self.role_arn("readonly"), "source_profile": "default"}),
            (
                "profile admin",
                {"role_arn": self.role_arn("admin"), "source_profile": "default", "mfa_serial": self.mfa_serial},
            ),
            (
                "profile partner",
                {"role_arn": self.role_arn("partner"), "source_profile": "default", "external_id": PARTNER_EXTERNAL_ID},
            ),
            ("profile deploy", {"role_arn": self.role_arn("deploy"), "source_profile": "readonly"}),
            ("profile ops", {"role_arn": self.role_arn("ops"), "source_profile": "deploy"}),
            (
                "profile sso-admin",
                {"sso_session": SSO_SESSION_NAME, "sso_account_id": ACCOUNT_ID, "sso_role_name": "AdministratorAccess"},
            ),
            (
                "profile sso-readonly",
                {"sso_session": SSO_SESSION_NAME, "sso_account_id": ACCOUNT_ID, "sso_role_name": "ReadOnlyAccess"},
            ),
            (
                "profile sso-legacy",
                {
                    "sso_start_url": SSO_START_URL,
                    "sso_region": SSO_REGION,
                    "sso_account_id": ACCOUNT_ID,
                    "sso_role_name": "ReadOnlyAccess",
                },
            ),
            ("profile sso-chained", {"role_arn": self.role_arn("readonly"), "source_profile": "sso-admin"}),
        ]
        lines: list[str] = []
        for header, values in sections:
            lines.append(f"[{header}]")
            lines += [f"{key} = {value}" for key, value in values.items()]
            # rolecall's own key: `rolecall console` signs in through the sandbox's federation endpoint.
            lines += [f"region = {DEFAULT_REGION}", f"endpoint_url = {endpoint}",
                      f"console_federation_endpoint = {self.federation_endpoint}", ""]  # fmt: skip
        # An sso-session takes no region or endpoint: the profiles using it carry those.
        lines += [
            f"[sso-session {SSO_SESSION_NAME}]",
            f"sso_start_url = {SSO_START_URL}",
            f"sso_region = {SSO_REGION}",
            f"sso_registration_scopes = {ACCOUNT_ACCESS_SCOPE}",
            "",
        ]
        return "\n".join(lines)

    def credentials_file(self) -> str:
        """The text of an AWS credentials file with alice's long-term keys as ``default``."""
        return (
            f"[default]\naws_access_key_id = {self.access_key_id}\naws_secret_access_key = {self.secret_access_key}\n"
        )

    def write_aws_files(self, home: str | os.PathLike[str]) -> dict[str, str]:
        """Write ``HOME/.aws/config`` and ``HOME/.aws/credentials`` (0600) for the seeded account.

        Returns the environment variables that point the AWS CLI, boto3 and rolecall at them and at
        this sandbox: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL,
        AWS_DEFAULT_REGION and AWS_REGION.
        """
        return self.write_aws_files_in(os.path.join(os.fspath(home), ".aws"))

    def write_aws_files_in(self, folder: str | os.PathLike[str]) -> dict[str, str]:
        """Like ``write_aws_files`` but the files are ``FOLDER/config`` and ``FOLDER/credentials``."""
        folder = os.fspath(folder)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        config = os.path.join(folder, "config")
        credentials = os.path.join(folder, "credentials")
        for path, text in ((config, self.profiles_config()), (credentials, self.credentials_file())):
            write_private(path, text)
        return {
            "AWS_CONFIG_FILE": config,
            "AWS_SHARED_CREDENTIALS_FILE": credentials,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
        }


def write_private(path: str, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (it holds keys or an MFA seed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    # O_CREAT's mode does not apply to a file that already existed.
    os.chmod(path, 0o600)
