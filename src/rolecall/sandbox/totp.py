"""TOTP (RFC 6238) for virtual MFA devices: 6 digits, 30-second steps, SHA-1, as AWS uses them."""

from __future__ import annotations

STEP_SECONDS = 30


def time_step(at: float) -> int:
    """The TOTP time step that contains the Unix time ``at``."""
    return int(at) // STEP_SECONDS


def code_for_step(seed: str, step: int) -> str:
    """The 6-digit code of ``step`` for the Base32 ``seed``."""
    import pyotp

    return str(pyotp.TOTP(seed).at(step * STEP_SECONDS))


def matching_step(seed: str, code: str, at: float, window: int = 1) -> int | None:
    """The time step within ``window`` steps of ``at`` whose code is ``code``, or None.

    AWS accepts the codes of the neighbouring steps too (clock drift); checked nearest first.
    """
    now = time_step(at)
    for offset in sorted(range(-window, window + 1), key=abs):
        if code_for_step(seed, now + offset) == code:
            return now + offset
    return None
