"""Many accounts for fan-out demos and benchmarks: one role in each of N more sandbox accounts, trusting the
seeded account (``benchmarks/assume_role_fanout.py``, tests of ``rolecall.assume_role``).

moto keeps one IAM backend per account id; the sandbox's STS finds a role by its ARN's account
(``iamstate.find_role``), so a role created here is assumed cross-account like a real one.
"""

from __future__ import annotations

from typing import Any

from rolecall.sandbox.account import ACCOUNT_ID, trust_policy

#: The first account id handed out (then +1, +2...): far from the seeded and the "other" account.
FIRST_ACCOUNT = 300000000000


def _backend(account_id: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["aws"]


def account_ids(count: int) -> list[str]:
    """The ids of the ``count`` fan-out accounts, in order."""
    return [str(FIRST_ACCOUNT + index) for index in range(count)]


def create_fanout_roles(count: int, role_name: str = "fanout", max_session_duration: int = 3600) -> list[str]:
    """Create role ``role_name`` in each of ``count`` accounts, trusting the seeded account's root (so alice and
    the seeded roles may assume it); return the role ARNs. Call again after a sandbox reset."""
    arns = []
    for account_id in account_ids(count):
        role = _backend(account_id).create_role(
            role_name=role_name,
            assume_role_policy_document=trust_policy(f"arn:aws:iam::{ACCOUNT_ID}:root"),
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=str(max_session_duration),
        )
        arns.append(str(role.arn))
    return arns
