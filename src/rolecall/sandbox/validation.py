"""STS input constraints from the service model, checked the way the service checks them.

botocore validates only minimum lengths and values before sending; maximums and patterns are the
service's job, and it reports every violation at once as
``N validation error(s) detected: Value 'x' at 'member' failed to satisfy constraint: ...; ...``.

The numbers here are written out again on purpose rather than imported from ``rolecall.limits``: the sandbox
stands in for the real service as an independent oracle, so a wrong limit in rolecall's own checks must be
caught by it, not copied into it (the same holds for the chaining caps in app.py and federation.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rolecall.sandbox.awsxml import StsError, validation_error


@dataclass(frozen=True)
class Constraint:
    """The model's constraints for one request member (``member`` is the camelCase name AWS reports)."""

    param: str
    member: str
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    min_value: int | None = None
    max_value: int | None = None
    required: bool = False


# Patterns are written as AWS prints them in messages; they are matched with re.ASCII because the
# service's `\w` is Java's ASCII class, not Python's Unicode one.
SESSION_NAME_PATTERN = r"[\w+=,.@-]*"
EXTERNAL_ID_PATTERN = r"[\w+=,.@:\/-]*"
SERIAL_NUMBER_PATTERN = r"[\w+=/:,.@-]*"
TOKEN_CODE_PATTERN = r"[\d]*"

#: Ordered as in the STS model, which is the order AWS lists violations in.
ASSUME_ROLE: tuple[Constraint, ...] = (
    Constraint("RoleArn", "roleArn", min_length=20, max_length=2048, required=True),
    Constraint("RoleSessionName", "roleSessionName", 2, 64, SESSION_NAME_PATTERN, required=True),
    Constraint("DurationSeconds", "durationSeconds", min_value=900, max_value=43200),
    Constraint("ExternalId", "externalId", 2, 1224, EXTERNAL_ID_PATTERN),
    Constraint("SerialNumber", "serialNumber", 9, 256, SERIAL_NUMBER_PATTERN),
    Constraint("TokenCode", "tokenCode", 6, 6, TOKEN_CODE_PATTERN),
)

GET_FEDERATION_TOKEN: tuple[Constraint, ...] = (
    Constraint("Name", "name", 2, 32, SESSION_NAME_PATTERN, required=True),
    Constraint("Policy", "policy", 1, 2048),
    Constraint("DurationSeconds", "durationSeconds", min_value=900, max_value=129600),
)

GET_SESSION_TOKEN: tuple[Constraint, ...] = (
    Constraint("DurationSeconds", "durationSeconds", min_value=900, max_value=129600),
    Constraint("SerialNumber", "serialNumber", 9, 256, SERIAL_NUMBER_PATTERN),
    Constraint("TokenCode", "tokenCode", 6, 6, TOKEN_CODE_PATTERN),
)


def _violations(constraint: Constraint, value: str | None) -> list[str]:
    if value is None:
        if constraint.required:
            return [f"Value null at '{constraint.member}' failed to satisfy constraint: Member must not be null"]
        return []
    prefix = f"Value '{value}' at '{constraint.member}' failed to satisfy constraint: "
    found: list[str] = []
    if constraint.min_value is not None or constraint.max_value is not None:
        try:
            number = int(value)
        except ValueError:
            # The Query protocol cannot carry a non-integer here; AWS answers with a generic message.
            return [f"Value '{value}' at '{constraint.member}' failed to satisfy constraint: Member must be a number"]
        if constraint.min_value is not None and number < constraint.min_value:
            found.append(prefix + f"Member must have value greater than or equal to {constraint.min_value}")
        if constraint.max_value is not None and number > constraint.max_value:
            found.append(prefix + f"Member must have value less than or equal to {constraint.max_value}")
        return found
    if constraint.min_length is not None and len(value) < constraint.min_length:
        found.append(prefix + f"Member must have length greater than or equal to {constraint.min_length}")
    if constraint.max_length is not None and len(value) > constraint.max_length:
        found.append(prefix + f"Member must have length less than or equal to {constraint.max_length}")
    if constraint.pattern is not None and re.fullmatch(constraint.pattern, value, re.ASCII) is None:
        found.append(prefix + f"Member must satisfy regular expression pattern: {constraint.pattern}")
    return found


def validation_message(problems: list[str]) -> str:
    """Join violations the way AWS does: a count, then each violation separated by ``; ``."""
    noun = "validation error" if len(problems) == 1 else "validation errors"
    return f"{len(problems)} {noun} detected: " + "; ".join(problems)


def check(params: Mapping[str, str], constraints: tuple[Constraint, ...]) -> StsError | None:
    """The ValidationError for ``params``, or ``None`` when every constraint holds."""
    problems: list[str] = []
    for constraint in constraints:
        problems.extend(_violations(constraint, params.get(constraint.param)))
    if not problems:
        return None
    return validation_error(validation_message(problems))
