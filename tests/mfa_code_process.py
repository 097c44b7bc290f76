"""A real ``mfa_process`` for tests: prints a TOTP code of the sandbox's virtual MFA device, like a YubiKey would.

Usage (as the profile's ``mfa_process``): ``python mfa_code_process.py SEED_FILE COUNTER_FILE [MODE]``.
Every run appends the time step it printed to COUNTER_FILE, so tests count how often a code was asked for.

Modes:
- ``current`` (default): the code of the current 30 s step.
- ``spread``: a code not printed before among the current, next and previous steps (all three are accepted at
  once by AWS and the sandbox), so tests can use up to three codes without waiting for new windows.
- ``repeat``: the second run prints the first run's code again (a person typing a code already used); every
  other run prints the current code.

Whatever the mode, a run within 3 s of the end of a step first waits for the next step, so that a code printed
is still accepted a moment later when the request reaches STS.
"""

from __future__ import annotations

import fcntl
import sys
import time

import pyotp

STEP = 30


def main() -> int:
    seed_file, counter_file = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "current"
    with open(seed_file) as handle:
        totp = pyotp.TOTP(handle.read().strip())
    with open(counter_file, "a+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        if STEP - time.time() % STEP < 3:
            time.sleep(STEP - time.time() % STEP + 0.2)
        counter.seek(0)
        printed = [int(line.split()[0]) for line in counter.read().splitlines() if line.strip()]
        now = int(time.time() // STEP)
        step = now
        if mode == "spread":
            step = next(s for s in (now, now + 1, now - 1) if s not in printed)
        elif mode == "repeat" and len(printed) == 1:
            step = printed[0]
        counter.write(f"{step}\n")
    print(totp.at(step * STEP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
