"""Trust-policy evaluation for AssumeRole: principals, actions, conditions, explicit Deny.

A role can be assumed when at least one ``Allow`` statement matches the caller, the action and the
request context, and no ``Deny`` statement does. Only what real trust policies use is implemented;
an unknown condition operator fails closed (an Allow it guards does not apply, a Deny it guards does).
"""

from __future__ import annotations

import fnmatch
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    """Who is calling, as trust policies see it.

    ``arns`` are every ARN a policy may name to mean this caller: the user ARN, or for a role session
    both the session ARN (``arn:aws:sts::A:assumed-role/R/S``) and the role's own ARN.
    """

    account_id: str
    arns: tuple[str, ...]


@dataclass(frozen=True)
class RequestContext:
    """The request's condition keys (names lower-cased; values as strings, several per key allowed)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, key: str) -> tuple[str, ...] | None:
        """Values of ``key`` (case-insensitive), or ``None`` when the key is absent from the request."""
        return self.values.get(key.lower())


def parse_policy(document: str) -> dict[str, Any]:
    """Parse a policy document as IAM stores it (JSON, possibly URL-encoded)."""
    try:
        parsed = json.loads(document)
    except json.JSONDecodeError:
        parsed = json.loads(urllib.parse.unquote(document))
    if not isinstance(parsed, dict):
        raise ValueError("a policy document must be a JSON object")
    return parsed


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _principal_matches(spec: object, principal: Principal) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    for entry in _as_list(spec.get("AWS")):
        text = str(entry)
        if text == "*":
            return True
        # A bare account id and the account's root ARN both mean "any principal of that account"
        # (the account then delegates through identity policies, which the sandbox does not model).
        if text == principal.account_id or text == f"arn:aws:iam::{principal.account_id}:root":
            return True
        if text in principal.arns:
            return True
    return False


def _action_matches(patterns: object, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower()) for p in _as_list(patterns))


def _like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    # IAM wildcards: * and ? only (fnmatch would also treat [...] specially).
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _compare(base: str, wanted: str, actual: str) -> bool | None:
    """One operator applied to one (policy value, request value) pair; ``None`` for an unknown operator."""
    if base == "StringEquals":
        return actual == wanted
    if base == "StringEqualsIgnoreCase":
        return actual.lower() == wanted.lower()
    if base == "StringLike":
        return _like(wanted, actual)
    if base == "Bool":
        return actual.lower() == wanted.lower()
    if base == "ArnEquals" or base == "ArnLike":
        return _like(wanted, actual)
    if base.startswith("Numeric"):
        left, right = _number(actual), _number(wanted)
        if left is None or right is None:
            return False
        return {
            "NumericEquals": left == right,
            "NumericLessThan": left < right,
            "NumericLessThanEquals": left <= right,
            "NumericGreaterThan": left > right,
            "NumericGreaterThanEquals": left >= right,
        }.get(base)
    return None


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


_SUPPORTED = frozenset(
    {
        "StringEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "Bool",
        "ArnEquals",
        "ArnLike",
        "NumericEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "Null",
        *_NEGATED,
    }
)


def _operator_holds(operator: str, key: str, wanted: Sequence[str], context: RequestContext) -> bool | None:
    """Whether one ``operator: {key: values}`` entry holds; ``None`` when the operator is not supported."""
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base not in _SUPPORTED:
        return None
    actual = context.get(key)
    if base == "Null":
        # "Null": "true" means the key must be absent.
        absent = actual is None
        return any((w.lower() == "true") == absent for w in wanted)
    if actual is None:
        # A missing key: IfExists makes the test pass; a negated operator passes; others fail (IAM rules).
        return if_exists or base in _NEGATED
    negate = base in _NEGATED
    positive = _NEGATED.get(base, base)
    results = []
    for value in actual:
        for w in wanted:
            outcome = _compare(positive, w, value)
            if outcome is None:
                return None
            results.append(outcome)
    matched = any(results)
    return not matched if negate else matched


def _conditions_hold(conditions: object, context: RequestContext, fail_closed_as: bool) -> bool:
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return fail_closed_as
    for operator, entries in conditions.items():
        if not isinstance(entries, dict) or ":" in operator:  # ForAnyValue:/ForAllValues: are not modelled
            return fail_closed_as
        for key, values in entries.items():
            holds = _operator_holds(
                operator, key, [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(values)], context
            )
            if holds is None:
                return fail_closed_as
            if not holds:
                return False
    return True


def _statement_applies(
    statement: Mapping[str, Any], principal: Principal, action: str, context: RequestContext, fail_closed_as: bool
) -> bool:
    if "Principal" in statement:
        if not _principal_matches(statement["Principal"], principal):
            return False
    elif "NotPrincipal" in statement:
        if _principal_matches(statement["NotPrincipal"], principal):
            return False
    else:
        return False
    if "Action" in statement:
        if not _action_matches(statement["Action"], action):
            return False
    elif "NotAction" in statement:
        if _action_matches(statement["NotAction"], action):
            return False
    else:
        return False
    return _conditions_hold(statement.get("Condition"), context, fail_closed_as)


def is_allowed(document: str, principal: Principal, action: str, context: RequestContext) -> bool:
    """True when the trust policy ``document`` lets ``principal`` perform ``action`` in ``context``."""
    try:
        policy = parse_policy(document)
    except (ValueError, TypeError):
        return False
    statements = [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]
    for statement in statements:
        # An unsupported condition makes a Deny apply: failing closed.
        if statement.get("Effect") == "Deny" and _statement_applies(statement, principal, action, context, True):
            return False
    return any(
        statement.get("Effect") == "Allow" and _statement_applies(statement, principal, action, context, False)
        for statement in statements
    )
