"""rolecall: assume AWS IAM roles through STS, fast, safe, and compatible with the AWS CLI.

This module is the public library API. It imports nothing heavy: botocore is loaded only when a
call really needs to talk to AWS.
"""

from __future__ import annotations

from rolecall.credentials import Credentials
from rolecall.errors import ExitCode, RolecallError

__version__ = "0.1.0"

__all__ = ["Credentials", "ExitCode", "RolecallError", "__version__"]
