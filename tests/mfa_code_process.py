"""A real ``mfa_process`` for tests: prints the TOTP code of the sandbox's virtual MFA device.

Usage (as the profile's ``mfa_process``): ``python mfa_code_process.py SEED_FILE COUNTER_FILE [spread]``.
Every run appends a line to COUNTER_FILE (so tests count how often a code was asked for). With ``spread``,
successive runs print the codes of the current, next and previous 30 s steps in turn: three different
codes that AWS (and the sandbox) accept at the same moment, so tests need not wait for new windows.
"""

from __future__ import annotations

import fcntl
import sys
import time

import pyotp


def main() -> int:
    seed_file, counter_file = sys.argv[1], sys.argv[2]
    spread = len(sys.argv) > 3 and sys.argv[3] == "spread"
    with open(counter_file, "a+") as counter:
        fcntl.flock(counter, fcntl.LOCK_EX)
        counter.seek(0)
        runs = len(counter.read().splitlines())
        counter.write(f"{time.time()}\n")
    with open(seed_file) as handle:
        seed = handle.read().strip()
    offset = (0, 1, -1)[runs % 3] if spread else 0
    print(pyotp.TOTP(seed).at(time.time() + 30 * offset))
    return 0


if __name__ == "__main__":
    sys.exit(main())
