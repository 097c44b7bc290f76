"""The AWS CLI's cache keys: the file name stems botocore computes for role and IAM Identity Center entries."""

from __future__ import annotations

from rolecall.errors import InvalidInputError
from rolecall.fastjson import canonical_json, loads, sha1_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

__all__ = ["assume_role_cache_key", "sso_role_cache_key"]


def assume_role_cache_key(params: Mapping[str, Any], *, session_name_generated: bool = False) -> str:
    """The file name stem under which the AWS CLI caches the result of an AssumeRole call with ``params``.

    ``params`` are the AssumeRole (or AssumeRoleWithWebIdentity) keyword arguments as botocore passes them:
    ``RoleArn``, ``RoleSessionName``, ``ExternalId``, ``SerialNumber``, ``DurationSeconds``, ``Policy``...
    botocore's rule (``BaseAssumeRoleCredentialFetcher._create_cache_key``): leave out ``TokenCode`` and
    ``WebIdentityToken`` (they change every call), leave out ``RoleSessionName`` when it was generated
    (``botocore-session-<epoch>`` is new every time), parse ``Policy`` so its keys are sorted too, then SHA-1
    of ``json.dumps(args, sort_keys=True)``. ``DurationSeconds`` is hashed as an int, as botocore has it
    after reading the config (``"3600"`` and ``3600`` would hash differently). ``None`` values are left out:
    botocore never has a key it does not send. Raises ``InvalidInputError`` when ``Policy`` is not JSON.
    """
    args: dict[str, Any] = {}
    for name, value in params.items():
        if name in ("TokenCode", "WebIdentityToken") or value is None:
            continue
        args[name] = value
    if session_name_generated:
        args.pop("RoleSessionName", None)
    if isinstance(args.get("Policy"), str):
        try:
            args["Policy"] = loads(args["Policy"])
        except ValueError as error:
            raise InvalidInputError(
                "the session policy is not valid JSON", hint="check the policy document with a JSON linter"
            ) from error
    if "DurationSeconds" in args:
        try:
            args["DurationSeconds"] = int(args["DurationSeconds"])
        except (TypeError, ValueError) as error:
            raise InvalidInputError(
                "DurationSeconds must be a whole number of seconds", hint="use e.g. duration_seconds = 3600"
            ) from error
    # botocore also replaces ':' and path separators in the key; a hex digest has none.
    return sha1_hex(canonical_json(args))


def sso_role_cache_key(account_id: str, role_name: str, *, session_name: str | None, start_url: str) -> str:
    """The file name stem under which the AWS CLI v2 caches IAM Identity Center role credentials.

    botocore's ``SSOCredentialFetcher._create_cache_key``: ``accountId``, ``roleName`` and either the
    ``sessionName`` of an ``sso_session`` profile or, for a legacy profile, the ``startUrl``; SHA-1 of the JSON
    with sorted keys and, unlike the assume-role key, the compact separators ``,`` and ``:``.
    """
    args = {"accountId": account_id, "roleName": role_name}
    if session_name:
        args["sessionName"] = session_name
    else:
        args["startUrl"] = start_url
    try:
        from _json import encode_basestring_ascii as quote  # json.dumps' own escaper (ensure_ascii)
    except ImportError:  # pragma: no cover - CPython always has _json
        import json

        return sha1_hex(json.dumps(args, sort_keys=True, separators=(",", ":")))
    return sha1_hex("{" + ",".join(quote(name) + ":" + quote(args[name]) for name in sorted(args)) + "}")

