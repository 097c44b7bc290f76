"""``rolecall.assume_role``: a role by its ARN, as a boto3 Session whose credentials refresh through rolecall.

Where the session is kept (docs/library.md, "Where sessions are cached"):

* from a **profile** (``source="prod"``, or ``source=None`` meaning the default chain's profile) with only the
  parameters a profile can carry (session name, external id, duration, MFA serial): the role becomes an
  in-memory profile (``rolecall.adhoc``) built by the chain builder, and its session is kept in the **AWS CLI's
  cache** under the key the AWS CLI computes for a profile with the same ``role_arn``, ``source_profile`` and
  parameters; such a profile written later reuses it, and so do later runs;
* otherwise (a boto3/botocore Session or ``Credentials`` as the source, or a session policy, policy ARNs, tags or
  a source identity): **in this process's memory** (``rolecall.library.memory``).

Every parameter is checked as STS checks it before anything is resolved or sent (``InvalidInputError``).
"""

from __future__ import annotations

from rolecall.reporting import ignore

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from rolecall.credentials import Credentials
    from rolecall.providers.base import Provider
    from rolecall.reporting import Reporter
    from rolecall.session import Session

__all__ = ["CallableCode", "assume_role"]

#: The parameters only the in-memory route can send (a profile has no key for them).
_NOT_IN_PROFILES = ("Policy", "PolicyArns", "Tags", "TransitiveTagKeys", "SourceIdentity")


class CallableCode:
    """An MFA code source calling ``function(serial)`` for each code (``rolecall.mfa.MfaCodeSource``).

    A code that is not 6 digits is an ``MfaError``; a code already sent is not sent again (rolecall waits for the
    next one and calls ``function`` again, as with ``mfa_process``). ``repr`` shows no code.
    """

    def __init__(self, function: Callable[[str], str]) -> None:
        """``function``: takes the device's serial (ARN), returns its current 6-digit code."""
        self._function = function

    def __repr__(self) -> str:
        return "CallableCode(...)"

    def code(self, serial: str) -> str:
        """``function(serial)``, stripped of spaces, if it is 6 digits."""
        from rolecall.errors import MfaError

        code = str(self._function(serial)).replace(" ", "").strip()
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            raise MfaError("the MFA code callable did not return 6 digits", hint="return the code as a string")
        return code


def _policy_arns(value: Sequence[str | Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    if value is None:
        return None
    return [{"arn": item} if isinstance(item, str) else dict(item) for item in value]


def _tags(value: Mapping[str, str] | Sequence[Mapping[str, str]] | None) -> list[dict[str, str]] | None:
    if value is None:
        return None
    from collections.abc import Mapping as MappingType

    if isinstance(value, MappingType):
        return [{"Key": key, "Value": text} for key, text in value.items()]
    return [dict(item) for item in value]


def _listed(value: Sequence[str] | None) -> list[str] | None:
    return None if value is None else list(value)


def sts_params(role_arn: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """AssumeRole's parameters (STS's names, ``None`` left out) from ``assume_role``'s keywords, checked as STS
    checks them (``InvalidInputError``), before any call. RoleSessionName is left out when not given."""
    from rolecall import validation

    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": options.get("role_session_name"),
        "ExternalId": options.get("external_id"),
        "DurationSeconds": options.get("duration_seconds"),
        "Policy": options.get("policy"),
        "PolicyArns": _policy_arns(options.get("policy_arns")),
        "Tags": _tags(options.get("tags")),
        "TransitiveTagKeys": _listed(options.get("transitive_tag_keys")),
        "SourceIdentity": options.get("source_identity"),
        "SerialNumber": options.get("serial_number"),
    }
    params = {key: value for key, value in params.items() if value is not None}
    # A made-up name stands in for a session name not given: rolecall chooses a valid one later.
    validation.validate_assume_role({"RoleSessionName": "rolecall-check", **params})
    token = options.get("token_code")
    if isinstance(token, str):
        validation.check_token_code(token)
    elif token is not None and not callable(token):
        from rolecall.errors import InvalidInputError

        raise InvalidInputError("token_code must be 6 digits or a callable", hint="pass token_code=lambda serial: ...")
    if options.get("region") is not None:
        validation.check_region(options["region"], name="region")
    return params


def assume_role(
    role_arn: str,
    *,
    source: str | Credentials | Any | None = None,
    role_session_name: str | None = None,
    external_id: str | None = None,
    duration_seconds: int | None = None,
    policy: str | None = None,
    policy_arns: Sequence[str | Mapping[str, str]] | None = None,
    tags: Mapping[str, str] | Sequence[Mapping[str, str]] | None = None,
    transitive_tag_keys: Sequence[str] | None = None,
    source_identity: str | None = None,
    serial_number: str | None = None,
    token_code: str | Callable[[str], str] | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
    mfa_strategy: str | None = None,
    reporter: Reporter = ignore,
    allow_prompt: bool = True,
) -> Any:
    """A ``boto3.Session`` acting as role ``role_arn``, whose credentials rolecall refreshes before they expire.

    ``source``: whose credentials assume the role: a profile name, a boto3 or botocore ``Session`` (another
    ``assume_role`` session included: chains refresh hop by hop), or ``rolecall.Credentials``; None: the default
    chain (AWS_PROFILE, the environment's keys, then profile ``default``). The other keywords are AssumeRole's
    parameters under snake_case names (``policy_arns``: ARNs or ``{"arn": ARN}``; ``tags``: a mapping or
    ``[{"Key", "Value"}]``); ``serial_number`` with ``token_code`` (6 digits, or a callable ``f(serial) -> code``
    asked for each code) for MFA, else the profile's ``mfa_process`` or a prompt on the terminal
    (``allow_prompt``). ``region`` / ``endpoint_url``: where STS calls go and the Session's region.

    STS refuses, and so does this function before any call (``InvalidInputError``): a RoleArn that is not an ARN of
    20-2048 characters; a RoleSessionName outside 2-64 characters of ``[A-Za-z0-9_+=,.@-]``; DurationSeconds
    outside 900-43200 (more than the role's maximum, or more than 3600 for a role assumed with temporary
    credentials, is refused by STS itself); an ExternalId outside 2-1224 characters of ``[A-Za-z0-9_+=,.@:/-]``; a
    Policy that is not a JSON object or is over 2048 characters; more than 10 PolicyArns; more than 50 Tags or
    duplicate keys; TransitiveTagKeys that are not tag keys; a SourceIdentity starting with ``aws:``; a
    SerialNumber outside 9-256 characters; a TokenCode that is not 6 digits. Other failures are ``RolecallError``
    subclasses: ``ProfileNotFoundError``, ``ConfigError``, ``MfaError``, ``AwsError`` (AWS's refusal: access
    denied, the packed policy too large...), ``NetworkError``. Requires boto3 (``pip install 'rolecall[boto3]'``).
    """
    options = dict(locals())
    params = sts_params(role_arn, options)
    from rolecall.aws.transport import require_boto3

    require_boto3()
    fetch, session_region = _route(role_arn, params, options)
    return _refreshing(fetch, region or session_region)


def _runtime_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Runtime`` keywords of ``assume_role``'s options (the code: a string once, or a callable each time)."""
    token = options.get("token_code")
    return {
        "token_code": token if isinstance(token, str) else None,
        "code_source": CallableCode(token) if callable(token) else None,
        "mfa_strategy": options.get("mfa_strategy"),
        "region": options.get("region"),
        "endpoint_url": options.get("endpoint_url"),
        "allow_prompt": options.get("allow_prompt", True),
        "reporter": options.get("reporter", ignore),
    }


def _route(role_arn: str, params: Mapping[str, Any], options: Mapping[str, Any]) -> tuple[Callable[[], Any], Any]:
    """``(fetch, region)``: the AWS CLI cache route for a profile source with profile-shaped parameters, else the
    in-memory route (``rolecall.library.memory``)."""
    import os

    from rolecall.credentials import Credentials
    from rolecall.session import Session

    env = dict(os.environ) if options.get("env") is None else dict(options["env"])
    session = Session(env, reporter=options.get("reporter", ignore))
    source = options.get("source")
    runtime_options = _runtime_options(options)
    if (source is None or isinstance(source, str)) and not any(key in params for key in _NOT_IN_PROFILES):
        return _profile_route(session, role_arn, options, runtime_options)
    if source is None or isinstance(source, str):
        chain = session.chain(source, **runtime_options)
        caller: Callable[[], Credentials] = chain.provider.retrieve
        described, region = f'profile "{chain.profile}"', chain.region
    elif isinstance(source, Credentials):
        caller, described, region = (lambda: source), "the credentials given", None
    else:
        from rolecall.aws.transport.refreshing import session_credentials, session_region

        session_credentials(source)  # refuses a source that is not a session, before anything else
        caller, described, region = (lambda: session_credentials(source)), "the source session's credentials", (
            session_region(source)
        )
    hop = _memory_hop(session, caller, params, options, runtime_options, described)
    return hop.retrieve, region


def _profile_route(
    session: Session, role_arn: str, options: Mapping[str, Any], runtime_options: dict[str, Any]
) -> tuple[Callable[[], Any], Any]:
    """The role as an in-memory profile on the files (``rolecall.adhoc``): cached where the AWS CLI caches it."""
    from rolecall import adhoc

    role = adhoc.AdHocRole(
        role_arn,
        source=adhoc.default_source(session.env, options.get("source")),
        role_session_name=options.get("role_session_name"),
        external_id=options.get("external_id"),
        duration_seconds=options.get("duration_seconds"),
        serial_number=options.get("serial_number"),
    )
    chain = session.chain_with(lambda runtime: adhoc.adhoc_chain(session, role, runtime), **runtime_options)
    provider: Provider = chain.provider
    return provider.retrieve, chain.region


def _memory_hop(
    session: Session,
    caller: Callable[[], Credentials],
    params: Mapping[str, Any],
    options: Mapping[str, Any],
    runtime_options: dict[str, Any],
    described: str,
) -> Any:
    """The in-memory AssumeRole hop, its calls sent where the source profile's (or the default) STS calls go."""
    from rolecall.library.memory import MemoryHop
    from rolecall.validation import default_session_name

    runtime = session.runtime(**runtime_options)
    full = dict(params)
    generated = "RoleSessionName" not in full
    if generated:
        full["RoleSessionName"] = default_session_name(session.env, runtime.clock())
    source = options.get("source")
    profile = source if isinstance(source, str) else None

    def settings() -> Any:
        return session.settings(profile, region=options.get("region"), endpoint_url=options.get("endpoint_url"))

    return MemoryHop(caller, full, settings, runtime, generated_name=generated, describe_source=described)


def _refreshing(fetch: Callable[[], Any], region: str | None) -> Any:
    """The boto3 Session on ``fetch``, its refresh windows fitted to the credentials' lifetime (botocore's 15 and
    10 minutes, or a half and a third of a shorter lifetime, so short sessions are not refreshed on every call)."""
    from rolecall.aws.transport import refreshing_boto3_session
    from rolecall.timefmt import utc_now

    first = fetch()
    advisory = mandatory = None
    if first.expiration is not None:
        lifetime = max((first.expiration - utc_now()).total_seconds(), 3.0)
        advisory, mandatory = min(900.0, lifetime / 2), min(600.0, lifetime / 3)
    served = [first]

    def refresh() -> Any:
        if served:
            return served.pop()  # the first answer, fetched above to size the windows
        return fetch()

    return refreshing_boto3_session(refresh, region, advisory=advisory, mandatory=mandatory)
