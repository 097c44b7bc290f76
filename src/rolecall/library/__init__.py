"""rolecall as a library for applications: ``assume_role`` (a role by its ARN, as a refreshing boto3 Session).

Imported lazily by ``rolecall.__getattr__``; see docs/library.md.
"""

from __future__ import annotations

from rolecall.library.assume import CallableCode, assume_role

__all__ = ["CallableCode", "assume_role"]
