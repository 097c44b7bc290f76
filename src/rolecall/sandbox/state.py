"""What the sandbox remembers that moto does not: issued temporary credentials, used MFA codes,
call counters, queued faults, credential lifetime and disabled regions.

One ``SandboxState`` per sandbox; every method takes its lock because werkzeug serves each request
on its own thread.
"""

from __future__ import annotations

import secrets
import string
import threading
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FaultKind = Literal["throttle", "error500", "slow"]

#: AWS locks an MFA device after this many refused codes in a row: 7 then a good code work, 8 do not (captures of
#: real STS in radkawar/stackd testdata/aws/iam/mfa_rejection_threshold.json). A success resets the count.
MFA_LOCK_AFTER = 8
#: How long the lock lasts. AWS documents none; captures show it still on 2 minutes after the last refusal, so
#: the sandbox takes 5 minutes from the last refused code.
MFA_LOCK_SECONDS = 300.0
FAULT_KINDS: tuple[str, ...] = ("throttle", "error500", "slow")


@dataclass(frozen=True)
class IssuedCredential:
    """Temporary credentials the sandbox handed out (GetSessionToken) or saw moto hand out (AssumeRole).

    ``kind`` is ``"session"`` for GetSessionToken (the caller stays the IAM user), ``"assumed-role"`` or
    ``"federated-user"`` (GetFederationToken).
    ``mfa_authenticated_at`` is when MFA was proven for the chain these credentials descend from.
    """

    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: datetime
    kind: Literal["session", "assumed-role", "federated-user"]
    account_id: str
    arn: str
    user_id: str
    user_name: str | None = None
    role_arn: str | None = None
    role_name: str | None = None
    session_name: str | None = None
    mfa_authenticated_at: datetime | None = None
    #: An assumed role whose caller held temporary credentials (role chaining: console sessions up to 1 h).
    chained: bool = False

    @property
    def mfa_present(self) -> bool:
        """True when these credentials carry MFA context (``aws:MultiFactorAuthPresent``)."""
        return self.mfa_authenticated_at is not None


@dataclass
class _Fault:
    kind: FaultKind
    delay: float


def new_session_access_key_id() -> str:
    """An STS-shaped temporary access key id: ``ASIA`` and 16 upper-case letters and digits."""
    alphabet = string.ascii_uppercase + "234567"
    return "ASIA" + "".join(secrets.choice(alphabet) for _ in range(16))


def new_secret_access_key() -> str:
    """A 40-character secret in AWS's alphabet."""
    alphabet = string.ascii_letters + string.digits + "+/"
    return "".join(secrets.choice(alphabet) for _ in range(40))


def new_session_token() -> str:
    """An opaque session token, long like real ones (clients must not assume a length)."""
    return "FwoGZXIvYXdzE" + secrets.token_urlsafe(180).replace("-", "+").replace("_", "/")


@dataclass
class SandboxState:
    """Mutable sandbox state shared between the request threads and the controlling ``Sandbox``."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    issued: dict[str, IssuedCredential] = field(default_factory=dict)
    #: (device serial, TOTP time step) pairs already accepted: a code works once.
    used_codes: set[tuple[str, int]] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    faults: dict[str, deque[_Fault]] = field(default_factory=dict)
    credential_lifetime: int | None = None
    disabled_regions: set[str] = field(default_factory=set)
    #: Per device serial: codes refused in a row, and when the last one was (AWS's lock, ``mfa_locked``).
    mfa_refusals: dict[str, tuple[int, float]] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget everything (issued credentials, used codes, counters, faults, settings)."""
        with self.lock:
            self.issued.clear()
            self.used_codes.clear()
            self.counts.clear()
            self.faults.clear()
            self.credential_lifetime = None
            self.disabled_regions.clear()
            self.mfa_refusals.clear()

    def record(self, credential: IssuedCredential) -> None:
        """Remember issued temporary credentials."""
        with self.lock:
            self.issued[credential.access_key_id] = credential

    def revoke(self, access_key_id: str) -> bool:
        """Forget issued credentials, as if their session had been revoked; True when they existed."""
        with self.lock:
            return self.issued.pop(access_key_id, None) is not None

    def lookup(self, access_key_id: str) -> IssuedCredential | None:
        """The temporary credentials with this access key id, if the sandbox issued them."""
        with self.lock:
            return self.issued.get(access_key_id)

    def count(self, action: str) -> None:
        """Count one request for ``action``."""
        with self.lock:
            self.counts[action] += 1

    def add_fault(self, action: str, kind: FaultKind, times: int, delay: float) -> None:
        """Queue ``times`` faults of ``kind`` for ``action`` (``"*"`` = any STS action)."""
        with self.lock:
            queue = self.faults.setdefault(action, deque())
            queue.extend(_Fault(kind, delay) for _ in range(times))

    def take_fault(self, action: str) -> _Fault | None:
        """The next queued fault for ``action`` (its own queue first, then ``"*"``), consumed."""
        with self.lock:
            for key in (action, "*"):
                queue = self.faults.get(key)
                if queue:
                    return queue.popleft()
            return None

    def use_code(self, serial: str, step: int) -> bool:
        """Mark the code of ``step`` used for device ``serial``; False if it was used before."""
        with self.lock:
            if (serial, step) in self.used_codes:
                return False
            self.used_codes.add((serial, step))
            return True

    def mfa_refused(self, serial: str, now: float) -> None:
        """Count one refused code for device ``serial`` at Unix time ``now``."""
        with self.lock:
            count, _ = self.mfa_refusals.get(serial, (0, now))
            self.mfa_refusals[serial] = (count + 1, now)

    def mfa_accepted(self, serial: str) -> None:
        """A code of ``serial`` was accepted: the count of refusals in a row starts again."""
        with self.lock:
            self.mfa_refusals.pop(serial, None)

    def mfa_locked(self, serial: str, now: float) -> bool:
        """True while device ``serial`` is locked: ``MFA_LOCK_AFTER`` refused codes in a row, the last one less
        than ``MFA_LOCK_SECONDS`` ago (after that the count starts again)."""
        with self.lock:
            count, last = self.mfa_refusals.get(serial, (0, 0.0))
            if count < MFA_LOCK_AFTER:
                return False
            if now - last < MFA_LOCK_SECONDS:
                return True
            del self.mfa_refusals[serial]
            return False

    def code_used(self, serial: str, step: int) -> bool:
        """True when the code of ``step`` was already accepted for ``serial``."""
        with self.lock:
            return (serial, step) in self.used_codes
