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

from rolecall.errors import AwsError, ConfigError, RolecallError
from rolecall.keys.store import KeyStoreError, StoredKey, short
from rolecall.reporting import Reporter, ignore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.credentials import Credentials
    from rolecall.keys.store import KeyStore
    from rolecall.sts import StsSettings

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


def rotate_key(
    profile: str,
    store: KeyStore,
    settings: StsSettings,
    *,
    iam_credentials: Callable[[Credentials], Credentials] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = VERIFY_ATTEMPTS,
    reporter: Reporter = ignore,
) -> RotateResult:
    """Rotate the stored key of ``profile`` (steps in the module's docstring).

    ``settings`` reach STS (their IAM copy reaches IAM); ``iam_credentials(old)`` gives what signs the IAM
    calls (default: the old key itself; the MFA session for profiles with ``mfa_serial``). ``sleep`` and
    ``attempts`` bound the wait for IAM's propagation.
    """
    from rolecall import sts

    old = store.get(profile)
    if old is None:
        raise ConfigError(f'no key is stored for "{profile}" in {store.description}',
                          hint=f"add it first: rolecall keys add {profile}")  # fmt: skip
    identity = sts.get_caller_identity(settings, old.credentials())
    user = _user_name(str(identity.get("Arn", "")))
    if user is None:
        raise ConfigError(
            f'the key of "{profile}" does not belong to an IAM user, so it cannot be rotated',
            hint="only IAM users have access keys to rotate",
        )
    signer = iam_credentials(old.credentials()) if iam_credentials else old.credentials()

    # 2. A new key. If this fails nothing has changed.
    try:
        created = sts.iam_call(settings, signer, "CreateAccessKey", UserName=user)["AccessKey"]
        new = StoredKey(str(created["AccessKeyId"]), str(created["SecretAccessKey"]))
    except AwsError as error:
        if error.code == "LimitExceeded":
            raise AwsError(error.message, code=error.code, hint=f"{user} has two access keys already (the most "
                           "IAM allows): delete the one not in use, then rotate") from None  # fmt: skip
        raise
    except (KeyError, TypeError):
        raise AwsError("IAM answered CreateAccessKey without a key", hint="check the IAM endpoint") from None
    reporter(f"{profile}: created the new access key {short(new.access_key_id)} for {user}")

    def undo(why: str, cause: RolecallError | None) -> RolecallError:
        """Delete the new key again; the error to raise says what happened to which key."""
        with_store = ""
        try:
            store.delete(profile, pending=True)
        except RolecallError:
            with_store = " (its pending copy in the store could not be removed)"
        try:
            sts.iam_call(settings, signer, "DeleteAccessKey", UserName=user, AccessKeyId=new.access_key_id)
            fate = f"the new key {short(new.access_key_id)} was deleted again{with_store}"
            hint = f"the old key {short(old.access_key_id)} is still stored and works; fix the cause and rotate again"
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

    # 3. The pending slot: the new key is never lost once IAM made it, and the old one is not touched yet.
    try:
        store.put(profile, new, pending=True)
    except RolecallError as error:
        raise undo("the new key could not be stored", error) from None

    # 4. The new key works (IAM takes a few seconds to propagate a new key to STS).
    tries = 0
    wait = FIRST_WAIT
    while True:
        tries += 1
        try:
            found = sts.get_caller_identity(settings, new.credentials())
        except AwsError as error:
            if error.code in _NOT_YET and tries < attempts:
                sleep(wait)
                wait = min(wait * 2, MAX_WAIT)
                continue
            raise undo(f"the new key did not work after {tries} tries", error) from None
        except RolecallError as error:
            raise undo("the new key could not be checked", error) from None
        if found.get("Arn") != identity.get("Arn"):
            raise undo("the new key belongs to someone else (GetCallerIdentity)", None) from None
        break

    # 5. Swap.
    try:
        store.put(profile, new)
    except RolecallError as error:
        raise undo("the new key could not replace the old one in the store", error) from None
    try:
        store.delete(profile, pending=True)
    except RolecallError:
        reporter(f"{profile}: the pending copy of the new key could not be removed from {store.description}")

    # 6. The old key goes. If this fails, the new key is stored and works: say what is left to do.
    try:
        sts.iam_call(settings, signer, "DeleteAccessKey", UserName=user, AccessKeyId=old.access_key_id)
    except RolecallError as error:
        raise AwsError(
            f"{profile}: the new key {short(new.access_key_id)} is stored and works, but deleting the old key "
            f"{short(old.access_key_id)} failed: {error.message}",
            hint=f"delete it by hand: aws iam delete-access-key --user-name {user} "
            f"--access-key-id {old.access_key_id}",
            code=getattr(error, "code", ""),
        ) from None
    return RotateResult(profile, user, old.access_key_id, new.access_key_id, tries)
