"""What a ``credential_process`` prints, read as botocore reads it: UTF-8 JSON, ``"Version": 1``, the keys, an
optional ISO-8601 ``Expiration``; and the refusals rolecall words for it (exit 3).

Shared by the ``process`` source (``providers/process.py``) and ``rolecall process-cache`` (``processcache.py``),
which both read the same output and must refuse the same things with the same words.
"""

from __future__ import annotations

from rolecall.credentials import Credentials
from rolecall.errors import RolecallError
from rolecall.timefmt import parse_timestamp, timezone

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "MAX_OUTPUT", "CredentialProcessError", "credentials_from_output", "expired_twice", "parse_process_output",
    "refuse_expired", "validate_output",
]  # fmt: skip

#: More output than this is not credentials (a session token is about 1 KiB): refused unparsed.
MAX_OUTPUT = 1024 * 1024
_SHAPE_HINT = 'it must print {"Version": 1, "AccessKeyId": ..., "SecretAccessKey": ...} and nothing else'


class CredentialProcessError(RolecallError):
    """The credential_process failed, printed something that is not Version 1 credential JSON, or gave expired
    credentials (exit 3)."""

    exit_code = 3


def refuse_expired(what: str, credentials: Credentials, now: datetime, hint: str) -> CredentialProcessError:
    """The refusal of credentials that had already expired when they were printed: ``what`` happened, when they
    expired, and the time here (a wrong clock is the other usual cause)."""
    assert credentials.expiration is not None
    return CredentialProcessError(
        f"{what} (at {credentials.expiration:%Y-%m-%d %H:%M:%S} UTC; it is "
        f"{now.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC here); they were not used",
        hint=hint,
    )


def expired_twice(profile: str, credentials: Credentials, now: datetime) -> CredentialProcessError:
    """botocore's rule, worded: a credential_process whose answer had expired twice in a row."""
    return refuse_expired(
        f'profile "{profile}": credential_process returned credentials that had already expired, twice',
        credentials,
        now,
        "the helper hands out a stale session: renew its login or cache, and check this machine's clock",
    )


def credentials_from_output(stdout: bytes, what: str, program: str, account_id: str | None = None) -> Credentials:
    """Decode and validate what a credential process printed, as botocore reads it: UTF-8 JSON, Version 1.

    ``what`` begins every message (``profile "prod": credential_process``); ``program`` is named in hints, never
    its arguments (they may carry a secret). Shared by the ``process`` source and ``rolecall process-cache``.
    Raises ``CredentialProcessError`` (exit 3).
    """
    import json

    if len(stdout) > MAX_OUTPUT:
        raise CredentialProcessError(
            f"{what} printed more than {MAX_OUTPUT // 1024} KiB; credentials are a few KiB",
            hint=f"make {program} print only its Version 1 JSON on stdout (messages go to stderr)",
        )
    if stdout.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        # json.loads of bytes skips a byte-order mark (and reads UTF-16); botocore decodes the output as UTF-8
        # and refuses it (JSONDecodeError), so a helper accepted here would fail with the AWS CLI and every SDK.
        raise CredentialProcessError(
            f"{what} output starts with a byte-order mark (BOM)",
            hint=f"the process printed a byte-order mark before its JSON, which the AWS CLI refuses too: make "
            f"{program} print plain UTF-8 without a BOM",
        )
    try:
        data = json.loads(stdout.decode("utf-8"))  # as botocore reads it: UTF-8, nothing else
    except UnicodeDecodeError:
        raise CredentialProcessError(
            f"{what} output is not UTF-8",
            hint=f"make {program} print its JSON in UTF-8 (the AWS CLI reads nothing else)",
        ) from None
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise CredentialProcessError(f"{what} did not print JSON", hint=_SHAPE_HINT) from None
    return validate_output(data, what, account_id)


def parse_process_output(data: object, profile: str, account_id: str | None = None) -> Credentials:
    """Validate credential_process JSON with botocore's rules (Version must be the integer 1)."""
    return validate_output(data, f'profile "{profile}": credential_process', account_id)


def validate_output(data: object, what: str, account_id: str | None = None) -> Credentials:
    """Validate parsed credential_process JSON with botocore's rules; ``what`` begins every message."""
    if not isinstance(data, dict):
        raise CredentialProcessError(f"{what} output is not a JSON object", hint=_SHAPE_HINT)
    version = data.get("Version")
    if version != 1 or isinstance(version, bool):
        # Only numbers are shown: a misbehaving helper could put anything, a secret included, in a string.
        shown = "missing" if version is None else repr(version) if isinstance(version, int | float) else "not a number"
        raise CredentialProcessError(
            f"{what}: unsupported Version ({shown}); supported: 1",
            hint='print "Version": 1 (a number, not a string)',
        )
    for key in ("AccessKeyId", "SecretAccessKey"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CredentialProcessError(f"{what} output is missing {key}", hint=_SHAPE_HINT)
    _check_strings(data, what)
    expiration = None
    if data.get("Expiration"):
        try:
            expiration = parse_timestamp(str(data["Expiration"]))
        except ValueError:
            raise CredentialProcessError(
                f"{what} Expiration is not an ISO-8601 time", hint="print it as 2026-01-31T12:00:00Z"
            ) from None
    return Credentials(
        data["AccessKeyId"],
        data["SecretAccessKey"],
        data.get("SessionToken") or None,
        expiration,
        data.get("AccountId") or account_id,
    )


def _check_strings(data: dict[str, object], what: str) -> None:
    """Optional fields are strings when present, and no field holds a control character: a NUL cannot be
    exported, an escape sequence would rewrite the terminal, a line break adds lines to ``env``'s shell code.
    The message names the field, never its value (a secret)."""
    from rolecall.guardedread import has_control_characters

    for key in ("AccessKeyId", "SecretAccessKey", "SessionToken", "AccountId", "Expiration"):
        value = data.get(key)
        if value is None or (key != "AccessKeyId" and key != "SecretAccessKey" and value == ""):
            continue
        if not isinstance(value, str):
            raise CredentialProcessError(f"{what} {key} is not a string", hint=_SHAPE_HINT)
        if has_control_characters(value):
            raise CredentialProcessError(
                f"{what} {key} holds a control character (a NUL, an escape sequence or a line break)",
                hint="no AWS credential holds one: check what the process prints on stdout",
            )
