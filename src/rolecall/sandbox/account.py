"""Seeding: the sandbox's IAM account (user ``alice`` with keys and an MFA device, the roles) in moto.

The IAM world lives in moto's in-process backends; ``SeededAccount`` creates users and roles there, seeds
the account the docs describe (docs/sandbox.md "The seeded account") and makes MFA codes for its devices.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from rolecall.sandbox import totp
from rolecall.sandbox.state import SandboxState

ACCOUNT_ID = "123456789012"
#: An account the sandbox does not own: the "denied" role trusts only it.
OTHER_ACCOUNT_ID = "210987654321"
DEFAULT_REGION = "us-east-1"
PARTNER_EXTERNAL_ID = "partner-ext-42"


def trust_policy(principal: str | list[str], condition: dict[str, Any] | None = None, effect: str = "Allow") -> str:
    """A one-statement trust policy letting ``principal`` (``AWS`` ARNs) call sts:AssumeRole."""
    statement: dict[str, Any] = {"Effect": effect, "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def role_arn(name: str) -> str:
    """The ARN of role ``name`` in the seeded account (path ``/``)."""
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"


@dataclass(frozen=True)
class SandboxUser:
    """An IAM user the sandbox created: long-term keys and, if asked, a virtual MFA device."""

    name: str
    arn: str
    access_key_id: str
    secret_access_key: str
    mfa_serial: str | None
    mfa_seed: str | None


def _iam() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[ACCOUNT_ID]["aws"]


class SeededAccount:
    """The sandbox's IAM account in moto: its users and roles, the seeded user, her MFA codes."""

    def __init__(self, state: SandboxState) -> None:
        """Codes the STS app accepted are read from ``state`` (``fresh_code`` avoids them)."""
        self.state = state
        self._user: SandboxUser | None = None

    def seed(self) -> None:
        """Create the seeded user and roles (in moto's backends, reset just before)."""
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
        self.create_role("deploy", trust_policy(role_arn("readonly")), max_session_duration=43200)
        self.create_role("ops", trust_policy(role_arn("deploy")), max_session_duration=3600)
        self.create_role("denied", trust_policy(f"arn:aws:iam::{OTHER_ACCOUNT_ID}:root"), max_session_duration=3600)

    @property
    def user(self) -> SandboxUser:
        """The seeded user ``alice`` (RuntimeError before ``seed``)."""
        if self._user is None:
            raise RuntimeError("the sandbox has not been seeded")
        return self._user

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

    def totp(self, at: float | None = None, user: SandboxUser | None = None) -> str:
        """The code of the seeded device (or ``user``'s) at Unix time ``at`` (default: now)."""
        seed = (user or self.user).mfa_seed
        if seed is None:
            raise ValueError("that user has no MFA device")
        return totp.code_for_step(seed, totp.time_step(time.time() if at is None else at))

    def fresh_code(self, user: SandboxUser | None = None) -> str:
        """A code the sandbox has not accepted yet for the device, valid now.

        The current step's code if unused, else the next step's (AWS, and so the sandbox, accepts one
        step of drift either way); only when both were used does this sleep until the next 30 s step.
        """
        owner = user or self.user
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
