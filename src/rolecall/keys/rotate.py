"""``keys rotate``: replace a stored key with a new one through IAM, never leaving the profile without a
working key.

1. GetCallerIdentity with the stored key: whose key it is (the IAM user).
2. IAM CreateAccessKey for that user (through the profile's MFA session when it has ``mfa_serial``).
3. The new key goes to the profile's *pending* slot of the store.
4. GetCallerIdentity with the new key, retried with backoff while IAM propagates it (seconds on AWS).
5. Swap: the new key becomes the profile's key; the pending slot is emptied.
6. IAM DeleteAccessKey of the old key.

A failure in 2 changes nothing. A failure in 3, 4 or 5 deletes the new key again (and says so), so the
old key is still stored and still works. A failure in 6 leaves the new key stored and working and the old
one still active in IAM: the error says how to delete it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rolecall.errors import AwsError, ConfigError, RolecallError
from rolecall.keys.store import KeyStoreError, StoredKey, short
from rolecall.reporting import Reporter, ignore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.aws.settings import StsSettings
    from rolecall.aws.transport import Transport
    from rolecall.credentials import Credentials
    from rolecall.keys.store import KeyStore

#: How many times the new key is tried, and the first wait between tries (doubled each time, capped).
VERIFY_ATTEMPTS = 10
FIRST_WAIT = 0.5
MAX_WAIT = 8.0
#: What STS answers while IAM has not propagated a new key yet.
_NOT_YET = frozenset({"InvalidClientTokenId", "SignatureDoesNotMatch", "AuthFailure"})


@dataclass(frozen=True)
class RotateResult:
    """The rotation done: whose key, the old and new key ids, how many tries the new key took."""

    profile: str
    user_name: str
    old_access_key_id: str
    new_access_key_id: str
    verify_attempts: int


def _user_name(arn: str) -> str | None:
    """``alice`` for ``arn:aws:iam::123456789012:user/path/alice``; None for anything that is not a user."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("user/"):
        return parts[5].rsplit("/", 1)[-1]
    return None


class _Rotation:
    """One rotation under way: the profile, the store, where the calls go and who signs them, the old key and
    its IAM user. Each step of the module's docstring is a method."""

    def __init__(
        self,
        profile: str,
        store: KeyStore,
        settings: StsSettings,
        transport: Transport,
        iam_credentials: Callable[[Credentials], Credentials] | None,
    ) -> None:
        from rolecall.aws.sts import get_caller_identity

        self.profile, self.store, self.settings, self.transport = profile, store, settings, transport
        old = store.get(profile)
        if old is None:
            raise ConfigError(f'no key is stored for "{profile}" in {store.description}',
                              hint=f"add it first: rolecall keys add {profile}")  # fmt: skip
        self.old = old
        # 1. Whose key it is.
        self.identity = get_caller_identity(settings, old.credentials(), transport=transport)
        user = _user_name(str(self.identity.get("Arn", "")))
        if user is None:
            raise ConfigError(
                f'the key of "{profile}" does not belong to an IAM user, so it cannot be rotated',
                hint="only IAM users have access keys to rotate",
            )
        self.user = user
        self.signer = iam_credentials(old.credentials()) if iam_credentials else old.credentials()

    def iam(self, operation: str, **params: Any) -> dict[str, Any]:
        """An IAM call signed by the signer."""
        from rolecall.aws.iam import iam_call

        return iam_call(self.settings, self.signer, operation, transport=self.transport, **params)

    def create(self) -> StoredKey:
        """2. A new key. If this fails nothing has changed."""
        try:
            created = self.iam("CreateAccessKey", UserName=self.user)["AccessKey"]
            return StoredKey(str(created["AccessKeyId"]), str(created["SecretAccessKey"]))
        except AwsError as error:
            if error.code == "LimitExceeded":
                raise AwsError(error.message, code=error.code, hint=f"{self.user} has two access keys already (the "
                               "most IAM allows): delete the one not in use, then rotate") from None  # fmt: skip
            raise
        except (KeyError, TypeError):
            raise AwsError("IAM answered CreateAccessKey without a key", hint="check the IAM endpoint") from None

    def undo(self, new: StoredKey, why: str, cause: RolecallError | None) -> RolecallError:
        """Delete the new key again; the error to raise says what happened to which key."""
        profile, user = self.profile, self.user
        with_store = ""
        try:
            self.store.delete(profile, pending=True)
        except RolecallError:
            with_store = " (its pending copy in the store could not be removed)"
        try:
            self.iam("DeleteAccessKey", UserName=user, AccessKeyId=new.access_key_id)
            fate = f"the new key {short(new.access_key_id)} was deleted again{with_store}"
            hint = (f"the old key {short(self.old.access_key_id)} is still stored and works; fix the cause and rotate "
                    "again")  # fmt: skip
        except RolecallError:
            fate = f"deleting the new key {short(new.access_key_id)} failed too{with_store}"
            hint = (f"the old key is still stored and works; delete the new one by hand: aws iam delete-access-key "
                    f"--user-name {user} --access-key-id {new.access_key_id}")  # fmt: skip
        message = f"{profile}: {why}" + (f": {cause.message}" if cause is not None else "") + f"; {fate}"
        if cause is None or isinstance(cause, AwsError):
            return AwsError(message, hint, code=cause.code if cause is not None else "")
        try:
            return type(cause)(message, hint)  # keep the cause's exit code (FILE, NETWORK...)
        except TypeError:
            return KeyStoreError(message, hint)

    def verify(self, new: StoredKey, sleep: Callable[[float], None], attempts: int) -> int:
        """4. The new key works (IAM takes a few seconds to propagate a new key to STS); returns the tries."""
        from rolecall.aws.sts import get_caller_identity

        tries = 0
        wait = FIRST_WAIT
        while True:
            tries += 1
            try:
                found = get_caller_identity(self.settings, new.credentials(), transport=self.transport)
            except AwsError as error:
                if error.code in _NOT_YET and tries < attempts:
                    sleep(wait)
                    wait = min(wait * 2, MAX_WAIT)
                    continue
                raise self.undo(new, f"the new key did not work after {tries} tries", error) from None
            except RolecallError as error:
                raise self.undo(new, "the new key could not be checked", error) from None
            if found.get("Arn") != self.identity.get("Arn"):
                raise self.undo(new, "the new key belongs to someone else (GetCallerIdentity)", None) from None
            return tries

    def swap(self, new: StoredKey, reporter: Reporter) -> None:
        """5. The new key becomes the profile's key; the pending slot is emptied."""
        try:
            self.store.put(self.profile, new)
        except RolecallError as error:
            raise self.undo(new, "the new key could not replace the old one in the store", error) from None
        try:
            self.store.delete(self.profile, pending=True)
        except RolecallError:
            where = self.store.description
            reporter(f"{self.profile}: the pending copy of the new key could not be removed from {where}")

    def delete_old(self, new: StoredKey) -> None:
        """6. The old key goes. If this fails, the new key is stored and works: say what is left to do."""
        old = self.old
        try:
            self.iam("DeleteAccessKey", UserName=self.user, AccessKeyId=old.access_key_id)
        except RolecallError as error:
            raise AwsError(
                f"{self.profile}: the new key {short(new.access_key_id)} is stored and works, but deleting the old "
                f"key {short(old.access_key_id)} failed: {error.message}",
                hint=f"delete it by hand: aws iam delete-access-key --user-name {self.user} "
                f"--access-key-id {old.access_key_id}",
                code=getattr(error, "code", ""),
            ) from None


def rotate_key(
    profile: str,
    store: KeyStore,
    settings: StsSettings,
    *,
    iam_credentials: Callable[[Credentials], Credentials] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = VERIFY_ATTEMPTS,
    reporter: Reporter = ignore,
    transport: Transport | None = None,
) -> RotateResult:
    """Rotate the stored key of ``profile`` (steps in the module's docstring).

    ``settings`` reach STS (their IAM copy reaches IAM); ``iam_credentials(old)`` gives what signs the IAM
    calls (default: the old key itself; the MFA session for profiles with ``mfa_serial``). ``sleep`` and
    ``attempts`` bound the wait for IAM's propagation. ``transport`` carries the STS and IAM calls (default: the
    process-wide one; tests pass their own).
    """
    from rolecall.aws.transport import DEFAULT

    rotation = _Rotation(profile, store, settings, transport or DEFAULT, iam_credentials)
    new = rotation.create()
    reporter(f"{profile}: created the new access key {short(new.access_key_id)} for {rotation.user}")
    # 3. The pending slot: the new key is never lost once IAM made it, and the old one is not touched yet.
    try:
        store.put(profile, new, pending=True)
    except RolecallError as error:
        raise rotation.undo(new, "the new key could not be stored", error) from None
    tries = rotation.verify(new, sleep, attempts)
    rotation.swap(new, reporter)
    rotation.delete_old(new)
    return RotateResult(profile, rotation.user, rotation.old.access_key_id, new.access_key_id, tries)
