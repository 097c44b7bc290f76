"""What the resolver refuses in the AWS files, as check functions the resolver and ``doctor`` share.

Each function looks at a profile's settings (or a section, a command line, a chain) and returns a ``Refusal``
(doctor's rule id, the resolver's message and hint, the key at fault) or None. The resolver raises
``refusal.error()``, a ``ConfigError`` whose message and hint are those it always had and which names the rule
(``ConfigRefusal.rule``); ``rolecall.config.resolverrules`` turns the same refusals into doctor findings. So a
configuration the resolver refuses is a doctor finding with the same id by construction, and
tests/config/test_doctor_resolver_rules.py runs every refusal through both.

On the cached path: imported by ``config.profiles`` and ``providers.chain``; it imports nothing at load time
(the rare paths import what they need when they run).
"""

from __future__ import annotations

from rolecall.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from rolecall.config.parse import ConfigValue

#: Values ``credential_source`` may take (botocore checks them case-sensitively, so do we).
CREDENTIAL_SOURCES = ("Environment", "Ec2InstanceMetadata", "EcsContainer")
#: rolecall's MFA strategies (docs/mfa.md).
MFA_STRATEGIES = ("reuse", "direct")
#: More hops than any real role chain has; beyond it (a generated config gone wrong) the chain is refused before
#: resolving it would exhaust Python's recursion limit.
MAX_CHAIN_LENGTH = 64


#: The hint of every bad-region message (the profile's, --region's, aws.settings.resolve_settings').
REGION_HINT = "a region name is letters, digits and hyphens, e.g. us-east-1"
#: The longest region name botocore accepts (a DNS label).
REGION_MAX = 63
_REGION_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def is_valid_region(value: str) -> bool:
    """True for a region name botocore accepts: a DNS label (letters, digits, ``-``; not all digits, no ``-`` at
    either end, at most 63 characters). botocore's own check (``validate_region_name``) also lets a trailing
    newline through, which could only fail later; it is refused here. Written without ``re``: the cached path
    checks the region it exports."""
    return (
        0 < len(value) <= REGION_MAX
        and all(char in _REGION_CHARS for char in value)
        and not value.isdigit()
        and value[0] != "-"
        and value[-1] != "-"
    )



class Refusal:
    """One configuration the resolver refuses: doctor's ``rule`` id, the resolver's ``message`` and ``hint``, and
    the ``profile`` and ``key`` it is about (for doctor's line numbers). Immutable."""

    __slots__ = ("hint", "key", "message", "profile", "rule")

    rule: str
    message: str
    hint: str
    profile: str | None
    key: str | None

    def __init__(self, rule: str, message: str, hint: str, *, profile: str | None = None,
                 key: str | None = None) -> None:
        set_ = object.__setattr__
        set_(self, "rule", rule)
        set_(self, "message", message)
        set_(self, "hint", hint)
        set_(self, "profile", profile)
        set_(self, "key", key)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Refusal is immutable")

    def __repr__(self) -> str:
        return f"Refusal({self.rule!r}, {self.message!r})"

    def error(self) -> ConfigRefusal:
        """The resolver's error for this refusal (a ``ConfigError``, exit 3)."""
        return ConfigRefusal(self.message, self.hint, rule=self.rule)


class ConfigRefusal(ConfigError):
    """A ``ConfigError`` raised for a ``Refusal``: ``rule`` is the doctor rule that reports the same configuration."""

    def __init__(self, message: str, hint: str | None = None, *, rule: str) -> None:
        super().__init__(message, hint)
        self.rule = rule


def _text(values: Mapping[str, ConfigValue], key: str) -> str | None:
    value = values.get(key)
    return value if isinstance(value, str) and value != "" else None


# -- one profile's own values (config.profiles.Profile, providers.chain.build_chain) ------------------------------
def region(profile: str, value: str | None) -> Refusal | None:
    """RC006: the profile's ``region`` is no name botocore accepts (it would be exported to every consumer)."""

    if value is None or is_valid_region(value):
        return None
    return Refusal("RC006", f"the region {value!r} of profile \"{profile}\" is not a valid region name",
                   f"fix region in the profile; {REGION_HINT}", profile=profile, key="region")


def mfa_strategy(profile: str, value: str | None) -> Refusal | None:
    """RC023: ``mfa_strategy`` is neither ``reuse`` nor ``direct``."""
    if value is None or value in MFA_STRATEGIES:
        return None
    return Refusal(
        "RC023", f'profile "{profile}": mfa_strategy = {value} is not one of {", ".join(MFA_STRATEGIES)}',
        "reuse: one MFA code for all roles (1 h role sessions); direct: a code per role, longer sessions",
        profile=profile, key="mfa_strategy",
    )


def whole_seconds(profile: str, key: str, value: str | None) -> Refusal | None:
    """RC023: ``duration_seconds`` / ``mfa_session_duration`` is not a whole number (botocore silently ignores a
    non-integer duration; rolecall says so instead of guessing)."""
    if value is None:
        return None
    try:
        int(value)
    except ValueError:
        return Refusal("RC023", f'profile "{profile}": {key} = {value} is not a whole number of seconds',
                       f"set it with: rolecall configure set {key} 3600 --profile {profile}", profile=profile, key=key)
    return None


# -- role hops (providers.chain) ----------------------------------------------------------------------------------
def role_source(profile: str, source_profile: str | None, credential_source: str | None) -> Refusal | None:
    """RC004: both ``source_profile`` and ``credential_source``; RC016: neither (whose credentials assume it?)."""
    if source_profile and credential_source:
        return Refusal("RC004", f'profile "{profile}" has both source_profile and credential_source',
                       "keep one: source_profile names another profile, credential_source names "
                       "Environment, Ec2InstanceMetadata or EcsContainer", profile=profile, key="credential_source")
    if not source_profile and not credential_source:
        return Refusal("RC016", f'profile "{profile}" has role_arn but no source_profile or credential_source',
                       f"say whose credentials assume the role: rolecall configure set source_profile default "
                       f"--profile {profile}", profile=profile, key="role_arn")
    return None


def credential_source(profile: str, value: str) -> Refusal | None:
    """RC017: ``credential_source`` is not one of botocore's three (compared case-sensitively, as botocore does)."""
    if value in CREDENTIAL_SOURCES:
        return None
    close = [source for source in CREDENTIAL_SOURCES if source.lower() == value.lower()]
    return Refusal(
        "RC017", f'credential_source "{value}" in profile "{profile}" is not valid',
        f'did you mean "{close[0]}"? (the value is case-sensitive)' if close
        else f"use one of {', '.join(CREDENTIAL_SOURCES)}",
        profile=profile, key="credential_source",
    )


def missing_source(profile: str, source: str, names: Iterable[str] = ()) -> Refusal:
    """RC002: ``source_profile`` names a profile in neither file (``names``: those there are, for a did-you-mean)."""
    return Refusal("RC002", f'the source_profile "{source}" named in profile "{profile}" does not exist',
                   source_typo_fix(profile, source, names)
                   or "run `rolecall configure list-profiles` to see the profiles there are",
                   profile=profile, key="source_profile")


def closest_profile(name: str, names: Iterable[str]) -> str | None:
    """The one profile of ``names`` whose name is close to ``name`` (a typo), or None."""
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return close[0] if close else None


def source_typo_fix(profile: str, source: str, names: Iterable[str]) -> str | None:
    """``did you mean 'prod'? rolecall configure set source_profile prod --profile PROFILE`` for a ``source_profile``
    that names no profile but is close to one of ``names``, else None: the same words at run time (RC002's hint)
    and in doctor (RC002's fix)."""
    close = closest_profile(source, names)
    if close is None:
        return None
    return f"did you mean {close!r}? rolecall configure set source_profile {close} --profile {profile}"


def loop(chain: Sequence[str]) -> Refusal:
    """RC001: the ``source_profile`` walk comes back to a profile already in ``chain`` (its last name)."""
    return Refusal("RC001", f"profile chain loops: {' -> '.join(chain)}",
                   "one profile in the loop must have keys (or credential_source) instead of source_profile",
                   profile=chain[-2] if len(chain) > 1 else chain[0], key="source_profile")


def chain_too_long(top: str, length: int) -> Refusal | None:
    """RC030: a ``source_profile`` chain of ``length`` profiles from ``top``, beyond ``MAX_CHAIN_LENGTH``."""
    if length <= MAX_CHAIN_LENGTH:
        return None
    return Refusal("RC030", f'the source_profile chain of "{top}" is longer than {MAX_CHAIN_LENGTH} profiles',
                   "shorten it: a profile can name the keys' profile as its source_profile directly", profile=top,
                   key="source_profile")


def source_without_credentials(source: str, referrer: str) -> Refusal:
    """RC025: the source profile ``source`` of ``referrer`` has no credentials of its own and no role."""
    return Refusal("RC025", f'the source profile "{source}" (of "{referrer}") has no credentials',
                   f"give it keys: rolecall configure set aws_access_key_id ... --profile {source}", profile=referrer,
                   key="source_profile")


def reuse_source(profile: str, long_term: bool) -> Refusal | None:
    """RC026: ``mfa_strategy = reuse`` where the source gives no long-term keys (GetSessionToken needs them)."""
    if long_term:
        return None
    return Refusal("RC026", f'profile "{profile}": mfa_strategy reuse needs long-term keys in its source '
                   "(GetSessionToken does not accept temporary credentials)",
                   "use mfa_strategy = direct for this profile", profile=profile, key="mfa_strategy")


def web_identity_role(profile: str, role_arn: str | None) -> Refusal | None:
    """RC028: a web identity token file and no role to assume with it."""
    if role_arn:
        return None
    return Refusal("RC028", f'profile "{profile}" is configured to assume a role with web identity but has no role ARN',
                   "set role_arn in the profile (or AWS_ROLE_ARN)", profile=profile, key="web_identity_token_file")


# -- keys in a section (providers.static) -------------------------------------------------------------------------
def keys(section: Mapping[str, ConfigValue], where: str, profile: str | None = None) -> Refusal | None:
    """RC027: ``aws_access_key_id`` written but empty, or an access key without its secret. ``where`` names the
    section in the message (``the credentials file [dev] (~/.aws/credentials)``)."""
    if "aws_access_key_id" not in section:
        return None
    if _text(section, "aws_access_key_id") is None:
        target = f" --profile {profile}" if profile else ""
        return Refusal("RC027", f"aws_access_key_id is empty in {where}",
                       f"set it (rolecall configure set aws_access_key_id AKIA...{target}) or delete the line; "
                       "rolecall does not fall back to other keys, and the AWS CLI would sign with an empty key",
                       profile=profile, key="aws_access_key_id")
    if _text(section, "aws_secret_access_key") is None:
        return Refusal("RC027", f"partial credentials in {where}: aws_access_key_id is set but aws_secret_access_key "
                       "is missing", "add aws_secret_access_key next to the access key, or remove both",
                       profile=profile, key="aws_access_key_id")
    return None


# -- IAM Identity Center (sso.settings) ---------------------------------------------------------------------------
def sso_session_missing(name: str, known: Sequence[str]) -> Refusal:
    """RC020: ``sso_session = NAME`` and no ``[sso-session NAME]`` section (the AWS CLI's wording)."""
    return Refusal("RC020", f'The specified sso-session does not exist: "{name}"',
                   f"sso-sessions in the config file: {', '.join(sorted(known)) or 'none'}; add one with "
                   f"[sso-session {name}], sso_start_url and sso_region", key="sso_session")


def sso_session_incomplete(name: str, missing: Sequence[str]) -> Refusal | None:
    """RC020: an ``[sso-session NAME]`` without ``sso_start_url`` or ``sso_region``."""
    if not missing:
        return None
    return Refusal("RC020", f"Missing the following required SSO configuration values: {', '.join(missing)} "
                   f"(in [sso-session {name}])",
                   f"add them: rolecall configure set sso_start_url https://.../start  (in the [sso-session {name}] "
                   "section of the config file)", key=missing[0])


def sso_region(value: str, where: str) -> Refusal | None:
    """RC006: an ``sso_region`` botocore would refuse."""

    if is_valid_region(value):
        return None
    return Refusal("RC006", f"sso_region {value!r} in {where} is not a valid region name", REGION_HINT,
                   key="sso_region")


def sso_inconsistent(profile: str, session: str, key: str, mine: str | None, theirs: str) -> Refusal | None:
    """RC021: the profile repeats its sso-session's ``sso_start_url``/``sso_region`` with another value."""
    if mine is None or mine == theirs:
        return None
    return Refusal("RC021", f"The value for {key} is inconsistent between profile ({mine}) and sso-session ({theirs}).",
                   f'remove {key} from profile "{profile}": the sso-session "{session}" already sets it',
                   profile=profile, key=key)


def sso_profile_incomplete(profile: str, missing: Sequence[str], *, role: bool) -> Refusal | None:
    """RC019: an SSO profile without ``sso_account_id``/``sso_role_name`` (``role``), or a legacy one without
    ``sso_start_url``/``sso_region``."""
    if not missing:
        return None
    hint = ("`rolecall sso sync --sso-session NAME` writes a profile for every account and role you can use" if role
            else f"add sso_session = NAME (an [sso-session NAME] section) to profile \"{profile}\", or set the keys "
            "named")
    return Refusal("RC019", f'The profile "{profile}" is configured to use SSO but is missing required configuration: '
                   f"{', '.join(missing)}", hint, profile=profile, key=missing[0])


# -- configured commands (command.run_configured: credential_process, mfa_process) -------------------------------
def command_line(command: str, what: str) -> tuple[list[str], Refusal | None]:
    """``command`` split as the AWS CLI splits it (``shlex.split``, no shell) and None, or ``[]`` and RC022 when it
    is not a command line or is empty. ``what`` names the setting (``profile "ci": credential_process``)."""
    import shlex

    try:
        argv = shlex.split(command)
    except ValueError as problem:
        return [], Refusal("RC022", f"{what} is not a valid command line ({problem})",
                           "quote arguments with spaces the way a POSIX shell would")
    if not argv or not argv[0]:
        return [], Refusal("RC022", f"{what} is empty", "set the command in the profile")
    return argv, None


def program_not_found(what: str, program: str) -> Refusal:
    """RC022: the program of a configured command is not there (no file at its path, or none on ``PATH``)."""
    return Refusal("RC022", f"{what}: the program {program} was not found",
                   "install it, or give its full path (no shell is used: no ~, $VAR or pipes)")


def program_exists(program: str, env: Mapping[str, str]) -> bool:
    """True when ``program`` would be found as ``subprocess`` finds it: a path (it has a ``/``) to an executable
    file, or a name on the ``PATH`` of ``env`` (``os.defpath`` without one)."""
    import os
    import shutil

    if os.sep in program or (os.altsep is not None and os.altsep in program):
        return os.path.isfile(program) and os.access(program, os.X_OK)
    return shutil.which(program, path=env.get("PATH", os.defpath)) is not None
