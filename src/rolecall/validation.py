"""Check STS request parameters against AWS's real limits before anything is sent.

botocore checks only minimum lengths client-side; the service checks the rest and answers with a
generic ``ValidationError``. rolecall checks everything it can up front so that the person gets a
message naming the limit (and no request, no MFA code spent). Limits: the STS API reference and the
service model (``shared/reference/aws-cli-compat.md`` 6.1, 6.2). Every failure is an
``InvalidInputError``; messages never repeat an MFA code or a token.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rolecall.config.profiles import REGION_HINT, is_valid_region
from rolecall.errors import InvalidInputError
from rolecall.limits import (
    ARN_MAX,
    ARN_MIN,
    EXTERNAL_ID_MAX,
    EXTERNAL_ID_MIN,
    EXTERNAL_ID_PATTERN,
    FEDERATION_NAME_MAX,
    FEDERATION_NAME_MIN,
    MFA_CODE_LENGTH,
    POLICY_ARNS_MAX,
    POLICY_PLAINTEXT_MAX,
    ROLE_DURATION_MAX,
    ROLE_DURATION_MIN,
    SERIAL_MAX,
    SERIAL_MIN,
    SERIAL_PATTERN,
    SESSION_NAME_MAX,
    SESSION_NAME_MIN,
    SESSION_NAME_PATTERN,
    SESSION_TOKEN_DURATION_MAX,
    SOURCE_IDENTITY_MAX,
    SOURCE_IDENTITY_MIN,
    TAG_KEY_MAX,
    TAG_KEY_MIN,
    TAG_VALUE_MAX,
    TAGS_MAX,
    WEB_IDENTITY_TOKEN_MAX,
    WEB_IDENTITY_TOKEN_MIN,
)

__all__ = [
    "REGION_HINT",
    "ROLE_DURATION_MAX",
    "ROLE_DURATION_MIN",
    "SESSION_TOKEN_DURATION_MAX",
    "check_duration",
    "check_external_id",
    "check_policy",
    "check_policy_arns",
    "check_region",
    "check_role_arn",
    "check_role_session_name",
    "check_serial_number",
    "check_source_identity",
    "check_tags",
    "check_token_code",
    "check_transitive_tag_keys",
    "default_session_name",
    "is_valid_region",
    "sanitize_session_name",
    "validate_assume_role",
    "validate_assume_role_with_web_identity",
    "validate_get_federation_token",
    "validate_get_session_token",
]

# AWS's patterns use Java's ``\w``, which is ASCII-only: [A-Za-z0-9_].
_SESSION_NAME = re.compile(SESSION_NAME_PATTERN, re.ASCII)
_EXTERNAL_ID = re.compile(EXTERNAL_ID_PATTERN, re.ASCII)
_SERIAL = re.compile(SERIAL_PATTERN, re.ASCII)
_ARN = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[a-z0-9-]*:\S+")
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _fail(message: str, hint: str) -> InvalidInputError:
    return InvalidInputError(message, hint=hint)


def _check_length(name: str, value: object, low: int, high: int, hint: str) -> str:
    if not isinstance(value, str):
        raise _fail(f"{name} must be a string", hint)
    if not low <= len(value) <= high:
        raise _fail(f"{name} must be {low} to {high} characters long, not {len(value)}", hint)
    return value


def check_duration(value: object, maximum: int = ROLE_DURATION_MAX, name: str = "DurationSeconds") -> int:
    """DurationSeconds: a whole number of seconds from 900 (15 minutes) to ``maximum``."""
    hours = maximum / 3600
    hint = f"choose between {ROLE_DURATION_MIN} (15 minutes) and {maximum} ({hours:g} hours)"
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(f"{name} must be a whole number of seconds", hint)
    if not ROLE_DURATION_MIN <= value <= maximum:
        raise _fail(f"{name} must be between {ROLE_DURATION_MIN} and {maximum} seconds, not {value}", hint)
    return value


def check_role_session_name(value: object, name: str = "RoleSessionName") -> str:
    """RoleSessionName: 2-64 characters of letters, digits and ``_+=,.@-``."""
    hint = "use 2 to 64 letters, digits and the characters _+=,.@-"
    text = _check_length(name, value, SESSION_NAME_MIN, SESSION_NAME_MAX, hint)
    if not _SESSION_NAME.fullmatch(text):
        raise _fail(f"{name} {text!r} has characters outside [A-Za-z0-9_+=,.@-]", hint)
    return text


def check_external_id(value: object) -> str:
    """ExternalId: 2-1224 characters of letters, digits and ``_+=,.@:/-``."""
    hint = "an external id is 2 to 1224 letters, digits and the characters _+=,.@:/-"
    text = _check_length("ExternalId", value, EXTERNAL_ID_MIN, EXTERNAL_ID_MAX, hint)
    if not _EXTERNAL_ID.fullmatch(text):
        raise _fail("ExternalId has characters outside [A-Za-z0-9_+=,.@:/-]", hint)
    return text


def check_serial_number(value: object) -> str:
    """SerialNumber: the MFA device's ARN (or a hardware serial), 9-256 characters."""
    hint = "use the MFA device's ARN, e.g. arn:aws:iam::123456789012:mfa/alice"
    text = _check_length("SerialNumber", value, SERIAL_MIN, SERIAL_MAX, hint)
    if not _SERIAL.fullmatch(text):
        raise _fail(f"SerialNumber {text!r} has characters outside [A-Za-z0-9_+=/:,.@-]", hint)
    return text


def check_token_code(value: object) -> str:
    """TokenCode: exactly 6 digits. The message never repeats the code."""
    hint = "type the 6-digit code your MFA device shows now"
    if not isinstance(value, str) or len(value) != MFA_CODE_LENGTH or not value.isascii() or not value.isdigit():
        raise _fail("TokenCode must be exactly 6 digits", hint)
    return value




def check_region(value: object, name: str = "--region") -> str:
    """A region given on the command line (or by a caller): refused before any request, naming the value."""
    if not isinstance(value, str) or not is_valid_region(value):
        raise _fail(f"{name} {value!r} is not a valid region name", REGION_HINT)
    return value


def check_role_arn(value: object, name: str = "RoleArn") -> str:
    """An ARN of 20-2048 characters shaped ``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``."""
    hint = "a role ARN looks like arn:aws:iam::123456789012:role/NAME"
    text = _check_length(name, value, ARN_MIN, ARN_MAX, hint)
    if not _ARN.fullmatch(text):
        raise _fail(f"{name} {text!r} is not an ARN", hint)
    return text


def check_policy(value: object) -> str:
    """Policy: an inline session policy, valid JSON, at most 2048 characters of plain text."""
    hint = "pass a JSON IAM policy document (inline or file://policy.json) of at most 2048 characters"
    if not isinstance(value, str) or not value:
        raise _fail("Policy must be a non-empty JSON document", hint)
    if len(value) > POLICY_PLAINTEXT_MAX:
        raise _fail(f"Policy is {len(value)} characters; AWS allows at most {POLICY_PLAINTEXT_MAX}", hint)
    for char in value:
        if not (char in "\t\n\r" or " " <= char <= "\u00ff"):
            raise _fail(f"Policy contains the character U+{ord(char):04X}, outside what AWS accepts", hint)
    try:
        document = json.loads(value)
    except ValueError as error:
        raise _fail(f"Policy is not valid JSON: {error}", hint) from None
    if not isinstance(document, dict):
        raise _fail("Policy must be a JSON object", hint)
    return value


def check_policy_arns(value: object) -> list[dict[str, str]]:
    """PolicyArns: at most 10 ``{"arn": ...}`` entries naming managed policies."""
    hint = f"pass at most {POLICY_ARNS_MAX} managed policy ARNs, e.g. arn=arn:aws:iam::aws:policy/ReadOnlyAccess"
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail("PolicyArns must be a list of {arn: ...}", hint)
    if len(value) > POLICY_ARNS_MAX:
        raise _fail(f"PolicyArns has {len(value)} entries; AWS allows at most {POLICY_ARNS_MAX}", hint)
    result: list[dict[str, str]] = []
    for entry in value:
        if not isinstance(entry, Mapping) or set(entry) != {"arn"}:
            raise _fail("each PolicyArns entry must be {arn: ARN}", hint)
        result.append({"arn": check_role_arn(entry["arn"], name="PolicyArns arn")})
    return result


def _is_tag_char(char: str) -> bool:
    # AWS's pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]: letters, separators (spaces), numbers and a few marks.
    return char in _TAG_PUNCTUATION or unicodedata.category(char)[0] in ("L", "Z", "N")


def _check_tag_key(key: object, what: str) -> str:
    hint = "tag keys are 1 to 128 letters, digits, spaces and _.:/=+-@"
    text = _check_length(what, key, TAG_KEY_MIN, TAG_KEY_MAX, hint)
    if not all(_is_tag_char(c) for c in text):
        raise _fail(f"{what} {text!r} has characters outside letters, digits, spaces and _.:/=+-@", hint)
    return text


def check_tags(value: object) -> list[dict[str, str]]:
    """Tags: at most 50 ``{"Key", "Value"}``; key 1-128, value 0-256 characters; keys unique ignoring case."""
    hint = f"pass at most {TAGS_MAX} tags as Key=k,Value=v with distinct keys"
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail("Tags must be a list of {Key, Value}", hint)
    if len(value) > TAGS_MAX:
        raise _fail(f"Tags has {len(value)} entries; AWS allows at most {TAGS_MAX} session tags", hint)
    seen: set[str] = set()
    result: list[dict[str, str]] = []
    for entry in value:
        if not isinstance(entry, Mapping) or set(entry) != {"Key", "Value"}:
            raise _fail("each tag must have exactly a Key and a Value", hint)
        key = _check_tag_key(entry["Key"], "tag key")
        tag_value = entry["Value"]
        value_hint = "tag values are 0 to 256 letters, digits, spaces and _.:/=+-@"
        if not isinstance(tag_value, str) or len(tag_value) > TAG_VALUE_MAX:
            raise _fail(f"the value of tag {key!r} must be at most {TAG_VALUE_MAX} characters", value_hint)
        if not all(_is_tag_char(c) for c in tag_value):
            raise _fail(
                f"the value of tag {key!r} has characters outside letters, digits, spaces and _.:/=+-@", value_hint
            )
        if key.lower() in seen:
            raise _fail(f"tag key {key!r} appears twice (AWS compares tag keys ignoring case)", hint)
        seen.add(key.lower())
        result.append({"Key": key, "Value": tag_value})
    return result


def check_transitive_tag_keys(value: object, tags: object) -> list[str]:
    """TransitiveTagKeys: at most 50 keys, each one of the session tags' keys (ignoring case)."""
    hint = "transitive tag keys must be keys of the tags passed with --tags"
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _fail("TransitiveTagKeys must be a list of tag keys", hint)
    if len(value) > TAGS_MAX:
        raise _fail(f"TransitiveTagKeys has {len(value)} entries; AWS allows at most {TAGS_MAX}", hint)
    known = set()
    if isinstance(tags, Sequence) and not isinstance(tags, str):
        known = {str(t.get("Key", "")).lower() for t in tags if isinstance(t, Mapping)}
    result = []
    for key in value:
        text = _check_tag_key(key, "transitive tag key")
        if text.lower() not in known:
            raise _fail(f"transitive tag key {text!r} is not one of the session tags", hint)
        result.append(text)
    return result


def check_source_identity(value: object) -> str:
    """SourceIdentity: 2-64 characters of ``[\\w+=,.@-]``, not starting with ``aws:``."""
    hint = "use 2 to 64 letters, digits and _+=,.@- (not starting with aws:)"
    text = _check_length("SourceIdentity", value, SOURCE_IDENTITY_MIN, SOURCE_IDENTITY_MAX, hint)
    if text.lower().startswith("aws:"):
        raise _fail("SourceIdentity must not start with 'aws:' (reserved by AWS)", hint)
    if not _SESSION_NAME.fullmatch(text):
        raise _fail(f"SourceIdentity {text!r} has characters outside [A-Za-z0-9_+=,.@-]", hint)
    return text


def _require(params: Mapping[str, Any], name: str, operation: str) -> None:
    if params.get(name) is None:
        raise _fail(f"{operation} needs {name}", f"pass {name}")


def validate_assume_role(params: Mapping[str, Any]) -> None:
    """Check every AssumeRole parameter given (``None`` means not sent); unknown names are refused too."""
    known = {
        "RoleArn", "RoleSessionName", "SerialNumber", "TokenCode", "DurationSeconds", "ExternalId", "Policy",
        "PolicyArns", "Tags", "TransitiveTagKeys", "SourceIdentity", "ProvidedContexts",
    }  # fmt: skip
    _no_unknown(params, known, "AssumeRole")
    _require(params, "RoleArn", "AssumeRole")
    _require(params, "RoleSessionName", "AssumeRole")
    check_role_arn(params["RoleArn"])
    check_role_session_name(params["RoleSessionName"])
    _check_common(params, ROLE_DURATION_MAX)
    if params.get("ExternalId") is not None:
        check_external_id(params["ExternalId"])
    if params.get("Policy") is not None:
        check_policy(params["Policy"])
    if params.get("PolicyArns") is not None:
        check_policy_arns(params["PolicyArns"])
    if params.get("Tags") is not None:
        check_tags(params["Tags"])
    if params.get("TransitiveTagKeys") is not None:
        check_transitive_tag_keys(params["TransitiveTagKeys"], params.get("Tags"))
    if params.get("SourceIdentity") is not None:
        check_source_identity(params["SourceIdentity"])


def validate_get_session_token(params: Mapping[str, Any]) -> None:
    """Check GetSessionToken's parameters (DurationSeconds up to 129600 s = 36 h)."""
    _no_unknown(params, {"DurationSeconds", "SerialNumber", "TokenCode"}, "GetSessionToken")
    _check_common(params, SESSION_TOKEN_DURATION_MAX)


def validate_get_federation_token(params: Mapping[str, Any]) -> None:
    """Check GetFederationToken's parameters (Name 2-32 characters of ``[\\w+=,.@-]``, up to 36 h)."""
    _no_unknown(params, {"Name", "Policy", "PolicyArns", "DurationSeconds", "Tags"}, "GetFederationToken")
    _require(params, "Name", "GetFederationToken")
    name = params["Name"]
    if (
        not isinstance(name, str)
        or not FEDERATION_NAME_MIN <= len(name) <= FEDERATION_NAME_MAX
        or not _SESSION_NAME.fullmatch(name)
    ):
        raise _fail("GetFederationToken's Name must be 2 to 32 characters of letters, digits and +=,.@_-",
                    "this is a bug in the caller: derive the name with sanitize_session_name")  # fmt: skip
    _check_common(params, SESSION_TOKEN_DURATION_MAX)
    if params.get("Policy") is not None:
        check_policy(params["Policy"])


def validate_assume_role_with_web_identity(params: Mapping[str, Any]) -> None:
    """Check AssumeRoleWithWebIdentity's parameters (the token is never echoed)."""
    known = {"RoleArn", "RoleSessionName", "WebIdentityToken", "ProviderId", "PolicyArns", "Policy", "DurationSeconds"}
    _no_unknown(params, known, "AssumeRoleWithWebIdentity")
    for name in ("RoleArn", "RoleSessionName", "WebIdentityToken"):
        _require(params, name, "AssumeRoleWithWebIdentity")
    check_role_arn(params["RoleArn"])
    check_role_session_name(params["RoleSessionName"])
    token = params["WebIdentityToken"]
    if not isinstance(token, str) or not WEB_IDENTITY_TOKEN_MIN <= len(token) <= WEB_IDENTITY_TOKEN_MAX:
        raise _fail(
            f"WebIdentityToken must be {WEB_IDENTITY_TOKEN_MIN} to {WEB_IDENTITY_TOKEN_MAX} characters long",
            "check the web identity token file",
        )
    if params.get("DurationSeconds") is not None:
        check_duration(params["DurationSeconds"])
    if params.get("Policy") is not None:
        check_policy(params["Policy"])
    if params.get("PolicyArns") is not None:
        check_policy_arns(params["PolicyArns"])


def _check_common(params: Mapping[str, Any], max_duration: int) -> None:
    if params.get("DurationSeconds") is not None:
        check_duration(params["DurationSeconds"], max_duration)
    if params.get("SerialNumber") is not None:
        check_serial_number(params["SerialNumber"])
    if params.get("TokenCode") is not None:
        check_token_code(params["TokenCode"])


def _no_unknown(params: Mapping[str, Any], known: set[str], operation: str) -> None:
    unknown = sorted(set(params) - known)
    if unknown:
        raise _fail(f"{operation} has no parameter {unknown[0]}", "valid parameters: " + ", ".join(sorted(known)))


def sanitize_session_name(text: str) -> str:
    """Turn any text into a valid RoleSessionName: bad characters become ``-``, cut to 64, at least 2 chars."""
    # Every character outside SESSION_NAME_PATTERN becomes "-".
    cleaned = re.sub(r"[^\w+=,.@-]", "-", text, flags=re.ASCII)[:SESSION_NAME_MAX]
    if len(cleaned) < SESSION_NAME_MIN:
        cleaned = (cleaned + "-rolecall")[:SESSION_NAME_MAX]
    return cleaned


def default_session_name(env: Mapping[str, str], now: datetime) -> str:
    """``<local user>-<YYYYMMDD>``, valid for RoleSessionName (e.g. ``alice-20261127``): readable in CloudTrail.

    The user comes from LOGNAME, USER, LNAME or USERNAME in ``env``, else the password database.
    """
    user = next((env[k] for k in ("LOGNAME", "USER", "LNAME", "USERNAME") if env.get(k)), "")
    if not user:
        try:
            import pwd

            user = pwd.getpwuid(os.getuid()).pw_name
        except (ImportError, KeyError, OSError):
            user = "rolecall"
    day = now.strftime("%Y%m%d")
    # Keep the date whole: cut the user part so that the name fits in 64 characters.
    return sanitize_session_name(f"{sanitize_session_name(user)[:55]}-{day}")
