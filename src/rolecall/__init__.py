"""rolecall: assume AWS IAM roles through STS, fast, safe, and compatible with the AWS CLI.

This module is the public library API. It imports nothing heavy: botocore is loaded only when a
call really needs to talk to AWS.

    >>> import rolecall
    >>> creds = rolecall.get_credentials("prod")        # doctest: +SKIP
    >>> s3 = rolecall.boto3_session("prod").client("s3")  # doctest: +SKIP
    >>> ec2 = rolecall.assume_role("arn:aws:iam::123456789012:role/deploy").client("ec2")  # doctest: +SKIP
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = [
    "Credentials", "ExitCode", "RolecallError", "__version__", "assume_role", "boto3_session", "get_credentials",
]  # fmt: skip

TYPE_CHECKING = False
if TYPE_CHECKING:
    from rolecall.credentials import Credentials
    from rolecall.errors import ExitCode, RolecallError
    from rolecall.library.assume import assume_role
    from rolecall.resolve import boto3_session, get_credentials


def __getattr__(name: str) -> object:
    # Lazy: `import rolecall` stays cheap (every `rolecall` process imports this package before it knows whether it
    # can replay an answer: rolecall.replay); the classes and the resolver are loaded on first use.
    if name == "Credentials":
        from rolecall.credentials import Credentials

        return Credentials
    if name in ("ExitCode", "RolecallError"):
        from rolecall import errors

        return getattr(errors, name)
    if name in ("get_credentials", "boto3_session"):
        from rolecall import resolve

        return getattr(resolve, name)
    if name == "assume_role":
        from rolecall.library.assume import assume_role

        return assume_role
    raise AttributeError(f"module 'rolecall' has no attribute {name!r}")
