"""Read-only views of moto's IAM backends (same process): keys, users, roles and MFA devices.

moto ships no type information, so its objects are handled as ``Any`` here and nowhere else; the rest
of the sandbox sees the small typed values below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PARTITION = "aws"

_ROLE_ARN_RE = re.compile(r"^arn:aws:iam::(?P<account>\d{12}):role/(?:.*/)?(?P<name>[^/]+)$")


def _iam_backends() -> Any:
    from moto.iam.models import iam_backends

    return iam_backends


def _known_accounts() -> list[str]:
    # Never index an unknown account: moto would create (and keep) a backend for it.
    return list(_iam_backends().keys())


def _backend(account_id: str) -> Any | None:
    if account_id not in _known_accounts():
        return None
    return _iam_backends()[account_id][PARTITION]


@dataclass(frozen=True)
class UserKey:
    """A long-term access key of an IAM user."""

    account_id: str
    user_name: str
    user_arn: str
    user_id: str
    access_key_id: str
    secret_access_key: str
    active: bool


@dataclass(frozen=True)
class RoleInfo:
    """What AssumeRole needs to know about a role."""

    account_id: str
    name: str
    arn: str
    role_id: str
    trust_policy: str
    max_session_duration: int


@dataclass(frozen=True)
class MfaDeviceInfo:
    """A virtual MFA device: its serial, Base32 seed and the user it is enabled for (if any)."""

    account_id: str
    serial: str
    seed: str
    user_name: str | None


@dataclass(frozen=True)
class UserInfo:
    """An IAM user."""

    account_id: str
    name: str
    arn: str
    user_id: str


def find_user_key(access_key_id: str) -> UserKey | None:
    """The IAM user key with this id in any account moto knows, or None."""
    for account_id in _known_accounts():
        backend = _backend(account_id)
        if backend is None:
            continue
        for user in list(backend.users.values()):
            for key in list(user.access_keys):
                if key.access_key_id == access_key_id:
                    return UserKey(
                        account_id=account_id,
                        user_name=user.name,
                        user_arn=user.arn,
                        user_id=user.id,
                        access_key_id=key.access_key_id,
                        secret_access_key=key.secret_access_key,
                        active=key.status == "Active",
                    )
    return None


def find_user(account_id: str, name: str) -> UserInfo | None:
    """The IAM user ``name`` of ``account_id``, or None."""
    backend = _backend(account_id)
    if backend is None:
        return None
    user = backend.users.get(name)
    if user is None:
        return None
    return UserInfo(account_id=account_id, name=user.name, arn=user.arn, user_id=user.id)


def find_role(role_arn: str) -> RoleInfo | None:
    """The role with exactly this ARN, or None (unknown account, unknown role, not a role ARN)."""
    match = _ROLE_ARN_RE.match(role_arn)
    if match is None:
        return None
    backend = _backend(match["account"])
    if backend is None:
        return None
    for role in list(backend.roles.values()):
        if role.arn == role_arn:
            return RoleInfo(
                account_id=match["account"],
                name=role.name,
                arn=role.arn,
                role_id=role.id,
                trust_policy=role.assume_role_policy_document,
                max_session_duration=int(role.max_session_duration or 3600),
            )
    return None


def find_mfa_device(serial: str) -> MfaDeviceInfo | None:
    """The virtual MFA device with this serial number in any account, or None."""
    for account_id in _known_accounts():
        backend = _backend(account_id)
        if backend is None:
            continue
        device = backend.virtual_mfa_devices.get(serial)
        if device is not None:
            user = device.user
            return MfaDeviceInfo(
                account_id=account_id,
                serial=device.serial_number,
                seed=device.base32_string_seed,
                user_name=user.name if user is not None else None,
            )
    return None
