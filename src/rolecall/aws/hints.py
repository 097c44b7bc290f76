"""What an AWS failure means for a person: one message and a hint per refusal, never a secret.

An AWS refusal (botocore's ``ClientError``, as its ``response`` dict) becomes a ``RolecallError`` through
:func:`client_error`: the error code picks a hint from :data:`HINTS` (a table of small functions); a few codes
look further at the message (``ValidationError``: role chaining, MaxSessionDuration) or at the request
(``AccessDenied``: was an MFA code or external id sent?). An answer that is not the service's at all
(:class:`UnusableAnswer`) becomes an ``EndpointAnswerError``. Pure: no botocore here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rolecall.aws.redaction import clean_header, redact, redact_url
from rolecall.aws.settings import SERVICE_IDS, StsSettings
from rolecall.credentials import Credentials
from rolecall.errors import AwsError, ConfigError, EndpointAnswerError, MfaError, RolecallError

__all__ = [
    "HINTS", "MFA_WRONG_CODE", "MFA_WRONG_DEVICE", "MfaRejectedError", "UnusableAnswer", "client_error",
    "locked_device_hint", "no_credentials", "unusable_answer",
]  # fmt: skip

THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestLimitExceeded",
     "TooManyRequestsException", "SlowDown", "PriorRequestNotComplete", "RequestThrottled"}
)  # fmt: skip


#: Why STS refused an MFA request (``MfaRejectedError.reason``): the code, the device, or something else.
MFA_WRONG_CODE = "code"
MFA_WRONG_DEVICE = "device"


class MfaRejectedError(MfaError):
    """STS refused the MFA code or device that was sent (exit code MFA); ``code`` is the AWS error code.

    ``reason`` tells the two refusals AWS words differently apart: ``MFA_WRONG_CODE`` ("invalid MFA one time pass
    code": the device did not make this code now; AWS says the same for a typo, another device's code, a code out
    of its time window and a code already used) and ``MFA_WRONG_DEVICE`` ("unable to validate MFA code. Please
    verify your MFA serial number": no such device for this caller, so the code was never checked); ``""`` for
    any other MFA refusal. ``serial`` is the device that was named (``SerialNumber``), when there was one.
    """

    def __init__(
        self, message: str, hint: str | None = None, code: str = "", *, reason: str = "", serial: str | None = None
    ) -> None:
        super().__init__(message, hint)
        self.code = code
        self.reason = reason
        self.serial = serial


class UnusableAnswer(Exception):
    """botocore could not read an answer. Only what is safe to show travels with it: the HTTP status, the
    content type (cleaned) and a fixed description of the problem; never the body, which may hold credentials
    (a cut-short AssumeRole answer), nor botocore's own text, which quotes the body."""

    def __init__(self, status: int | None, content_type: str, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.content_type = content_type
        self.problem = problem
        #: The URL the request went to, filled in by the transport (the parser does not know it).
        self.endpoint: str | None = None


def no_credentials(operation: str) -> ConfigError:
    """The error for a signed call without credentials to sign it."""
    return ConfigError(
        f"no credentials to sign the {operation} request",
        hint="configure aws_access_key_id and aws_secret_access_key for the profile, or pass credentials",
    )


def unusable_answer(error: UnusableAnswer, operation: str, settings: StsSettings) -> EndpointAnswerError:
    """An answer that is not the service's: one line naming the endpoint, with a hint about endpoint_url."""
    name = settings.service_name
    url = redact_url(str(error.endpoint or settings.endpoint_url or f"the {name} endpoint"))
    details = ", ".join(
        part for part in (f"HTTP {error.status}" if error.status is not None else "", error.content_type) if part
    )
    where = "endpoint_url / " + (
        f"{settings.endpoint_variable} / AWS_ENDPOINT_URL" if settings.service in SERVICE_IDS else "AWS_ENDPOINT_URL"
    )
    return EndpointAnswerError(
        f"the endpoint {url} did not answer {operation} as {name} does: {error.problem}"
        + (f" ({details})" if details else ""),
        hint=f"check that {where} names {name} itself (not a web page, a proxy or another service); an answer "
        "cut short may work on a retry",
    )


@dataclass(frozen=True)
class Refusal:
    """One AWS refusal, as the hint functions see it."""

    message: str  #: ``OPERATION refused: CODE: AWS's message`` (secrets removed)
    code: str
    operation: str
    settings: StsSettings
    params: Mapping[str, Any]
    #: AWS's message in lower case (secrets removed), for the hints that depend on it.
    lowered: str
    #: The HTTP status and botocore's retry count, from ``ResponseMetadata``.
    status: object
    retries: object

    @property
    def had_code(self) -> bool:
        """True when the request carried an MFA code."""
        return bool(self.params.get("TokenCode"))

    def error(self, hint: str) -> AwsError:
        """The ``AwsError`` of this refusal with ``hint``."""
        return AwsError(self.message, hint=hint, code=self.code)


def _assume_role_denied_hints(refusal: Refusal) -> list[str]:
    """Why AssumeRole may have been denied: MFA, the external id, or the trust policy."""
    hints: list[str] = []
    # With a code, AWS checked it before the trust policy (a refused code or device has its own words, see
    # _mfa_refused): it is not what was denied here.
    if not refusal.had_code:
        hints.append(
            "if the role requires MFA, send a code (--serial-number and --token-code, or mfa_serial in the profile)"
        )
    if refusal.params.get("ExternalId"):
        hints.append("check the external id is the one the role expects")
    else:
        hints.append("if the role expects an external id, pass it (--external-id / external_id)")
    hints.append("otherwise the role's trust policy does not allow this caller")
    return hints


#: AWS's words (lower case) when it matched no MFA device with the caller: the code was never checked.
_DEVICE_WORDS = ("verify your mfa serial number", "unable to validate mfa code")
#: AWS's words when the device did not make the code now (a typo, another device's code, another time window, or
#: a code already used: AWS gives the same answer for each, so rolecall cannot tell them apart either).
_CODE_WORDS = "invalid mfa one time pass code"


def _wrong_device_hint(serial: str) -> str:
    """What to do when AWS knows no MFA device ``serial`` for the caller."""
    what = (
        f"{serial} is a user's ARN, not an MFA device's (arn:aws:iam::ACCOUNT:mfa/NAME)"
        if ":user/" in serial
        else f"AWS knows no MFA device {serial} for the user making the call"
    )
    return (
        f"{what}, so it did not check the code (no need to wait for another one): use the ARN `aws iam "
        "list-mfa-devices` lists for that user (in the user's own account, not the role's), or let `rolecall "
        "add-role` find it; if this device worked before, AWS may have locked it for some minutes after several "
        "refused codes in a row (it then answers the same)"
    )


def locked_device_hint(serial: str, refusals: int) -> str:
    """The hint when AWS says it knows no device ``serial`` right after refusing ``refusals`` of its codes."""
    return (
        f"AWS refused {refusals} code(s) for {serial} in the last minutes: after several refused codes in a row it "
        "locks the device for some minutes, then answers as for a wrong serial; wait a few minutes and use the "
        f"current code (if {serial} never worked, fix mfa_serial: `aws iam list-mfa-devices` lists the devices)"
    )


def _mfa_refused(refusal: Refusal) -> MfaRejectedError:
    """An MFA refusal: a wrong device (the code is still good), a code the device did not make, or other."""
    serial = str(refusal.params.get("SerialNumber") or "") or None
    device = serial or "the MFA device"
    if any(words in refusal.lowered for words in _DEVICE_WORDS):
        reason, hint = MFA_WRONG_DEVICE, _wrong_device_hint(device)
    elif _CODE_WORDS in refusal.lowered:
        reason = MFA_WRONG_CODE
        hint = (
            f"AWS did not accept the code for {device}: type the code that device shows now (AWS gives this answer "
            "for a typo, a code of another device or from another time, and a code already sent); if every code "
            "is refused, check the device's clock"
        )
    else:
        reason, hint = "", f"check the MFA device ({device}) and the code"
    return MfaRejectedError(refusal.message, hint=hint, code=refusal.code, reason=reason, serial=serial)


def _access_denied(refusal: Refusal) -> RolecallError:
    """AccessDenied: a refused MFA code or device (exit MFA), or what the caller may be missing for this operation."""
    if refusal.had_code and ("multifactor" in refusal.lowered or "mfa" in refusal.lowered):
        return _mfa_refused(refusal)
    if refusal.operation == "AssumeRole":
        hints = _assume_role_denied_hints(refusal)
    elif refusal.operation == "GetSessionToken" and "session credentials" in refusal.lowered:
        hints = ["GetSessionToken needs an IAM user's long-term access keys, not session credentials"]
    else:
        hints = ["these credentials are not allowed to make this call"]
    return refusal.error("; ".join(hints))


#: ValidationError: a pattern of AWS's message (lower case) and its hint; the first that matches wins.
_VALIDATION_HINTS = (
    (
        "role chaining",
        "a role assumed with temporary credentials (another role's session, or an MFA session from "
        "GetSessionToken) is role chaining, which AWS caps at 1 hour: ask for --duration-seconds 3600 or "
        "less, or assume the role directly with long-term keys and MFA",
    ),
    (
        "maxsessionduration",
        "ask for a shorter session (--duration-seconds / duration_seconds) or raise the role's "
        "MaxSessionDuration in IAM (up to 12 hours)",
    ),
)


def _validation_error(refusal: Refusal) -> RolecallError:
    """ValidationError: role chaining and MaxSessionDuration have their own hints."""
    for pattern, hint in _VALIDATION_HINTS:
        if pattern in refusal.lowered:
            return refusal.error(hint)
    return refusal.error("STS rejected a value of the request: fix the one named above")


def _region_disabled(refusal: Refusal) -> RolecallError:
    """RegionDisabledException: STS is not activated in the region."""
    region = refusal.settings.region or "this region"
    return refusal.error(
        f"STS is not activated in {region} for this account: an administrator can activate it in the IAM "
        "console (Account settings, Security Token Service endpoints), or use another region (--region)"
    )


def _throttled(refusal: Refusal) -> RolecallError:
    """A throttling code: the message says how many attempts were made."""
    tries = f"{refusal.retries + 1} attempts" if isinstance(refusal.retries, int) else "retries"
    return AwsError(
        f"{refusal.message} (still after {tries})",
        hint=f"{refusal.settings.service_name} is throttling requests: wait a little and retry; raise "
        "AWS_MAX_ATTEMPTS or set retry_mode = adaptive for busy jobs",
        code=refusal.code,
    )


def _fixed(hint: str) -> Callable[[Refusal], RolecallError]:
    """A hint that depends on nothing but the code."""
    return lambda refusal: refusal.error(hint)


_EXPIRED = "the session credentials have expired: get fresh ones (assume the role again) and retry"
_WEB_IDENTITY = "the web identity token was refused: check it and the role's trust"

#: Error code -> the function that makes its error.
HINTS: dict[str, Callable[[Refusal], RolecallError]] = {
    "AccessDenied": _access_denied,
    "AccessDeniedException": _access_denied,
    "ExpiredToken": _fixed(_EXPIRED),
    "ExpiredTokenException": _fixed(_EXPIRED),
    "RequestExpired": _fixed(_EXPIRED),
    "InvalidClientTokenId": _fixed(
        "AWS does not know this access key id: check the profile's keys are current and active "
        "(and, for session credentials, that the session token belongs to them)"
    ),
    "SignatureDoesNotMatch": _fixed(
        "check the secret access key belongs to the access key id, and that this computer's clock is "
        "right (signatures are only valid within minutes of the current time)"
    ),
    "ValidationError": _validation_error,
    "RegionDisabledException": _region_disabled,
    **{code: _throttled for code in THROTTLING_CODES},
    "MalformedPolicyDocument": _fixed("the session policy (--policy) is not a valid IAM policy"),
    "PackedPolicyTooLarge": _fixed("shorten the session policy, the policy ARNs or the session tags"),
    "IDPRejectedClaim": _fixed(_WEB_IDENTITY),
    "InvalidIdentityToken": _fixed(_WEB_IDENTITY),
}


def _otherwise(refusal: Refusal) -> RolecallError:
    """A code without its own hint: a server-side failure (5xx), or AWS's message is all there is."""
    if isinstance(refusal.status, int) and refusal.status >= 500:
        name = refusal.settings.service_name
        return refusal.error(f"{name} failed on its side (after retries): try again in a moment")
    return refusal.error("see the AWS message above")


def client_error(
    response: object,
    operation: str,
    settings: StsSettings,
    params: Mapping[str, Any],
    credentials: Credentials | None,
) -> RolecallError:
    """The error for an AWS refusal; ``response`` is botocore's ``ClientError.response`` (a dict)."""
    answer: Mapping[str, Any] = response if isinstance(response, dict) else {}
    details = answer.get("Error", {})
    metadata = answer.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode")
    if not details.get("Code") and isinstance(status, int) and status >= 300:
        # A body botocore could parse (well-formed HTML: a redirect's page, a firewall's refusal) but with no AWS
        # error in it: not the service answering.
        headers = metadata.get("HTTPHeaders") or {}
        problem = "a redirect" if status < 400 else "an error page that is not the service's"
        return unusable_answer(
            UnusableAnswer(status, clean_header(headers.get("content-type")), problem), operation, settings
        )
    code = str(details.get("Code") or "Unknown")
    aws_message = redact(str(details.get("Message") or "").strip(), params, credentials)
    refusal = Refusal(
        message=f"{operation} refused: {code}" + (f": {aws_message}" if aws_message else ""),
        code=code,
        operation=operation,
        settings=settings,
        params=params,
        lowered=aws_message.lower(),
        status=status,
        retries=metadata.get("RetryAttempts"),
    )
    return HINTS.get(code, _otherwise)(refusal)
