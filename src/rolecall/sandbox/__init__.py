"""A local STS/IAM that is strict like the real one: moto's server behind a strictness layer.

Optional (``pip install 'rolecall[sandbox]'``): only this package and the ``sandbox``/``demo`` commands
import it, and it imports moto, pyotp and werkzeug. See docs/sandbox.md.
"""

from __future__ import annotations

from rolecall.sandbox.core import ACCOUNT_ID, PARTNER_EXTERNAL_ID, Sandbox, SandboxUser, trust_policy
from rolecall.sandbox.state import FaultKind

__all__ = ["ACCOUNT_ID", "PARTNER_EXTERNAL_ID", "FaultKind", "Sandbox", "SandboxUser", "trust_policy"]
