"""Fault control: what tests (and ``rolecall demo``) do to the running sandbox's STS and IAM.

Counting calls, queueing failures and slow answers, shortening credential lifetimes, disabling regions
and revoking issued credentials: all of it is data in the ``SandboxState`` the services read per request.
"""

from __future__ import annotations

from rolecall.sandbox.state import FAULT_KINDS, FaultKind, SandboxState


def _check_fault(kind: FaultKind, times: int) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
    if times < 1:
        raise ValueError("times must be at least 1")


class FaultControl:
    """Observe and disturb the sandbox through ``state``."""

    def __init__(self, state: SandboxState) -> None:
        """Control the services that read ``state``."""
        self.state = state

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
        _check_fault(kind, times)
        self.state.add_fault(action, kind, times, delay)

    def inject_iam_fault(self, action: str, kind: FaultKind = "error500", times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` IAM calls of ``action`` (``"CreateAccessKey"``, ``"DeleteAccessKey"``...) fail
        (``throttle``: 400 Throttling, ``error500``: 500 InternalFailure, both retried by botocore) or be slow.
        Requests signed for the ``iam`` service only; ``clear_faults`` drops these too."""
        _check_fault(kind, times)
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

    def revoke_credentials(self, access_key_id: str) -> bool:
        """Revoke issued temporary credentials (as revoking a role's sessions does); True when they existed."""
        return self.state.revoke(access_key_id)
